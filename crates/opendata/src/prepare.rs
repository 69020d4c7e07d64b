//! Preparing an upload, row by row: each row read from the stored file is treated (dropped
//! columns go, masked ones are starred), checked against the column types the publisher chose,
//! scanned by the personal-data gate and typed — and, at publication, loaded into the
//! datastore and written to the served file in the same pass. Nothing holds the whole table,
//! so a ten-million-row file takes the memory of a few thousand rows.
//!
//! The reading and treating run on a blocking thread ([`tokio::task::spawn_blocking`]); rows
//! come to the runtime in batches through a bounded channel, so loading the database and
//! reading the file overlap and neither runs ahead of the other by more than a few batches.

use std::ops::ControlFlow;

use crate::error::{AppError, AppResult, retrying};
use crate::files::{self, Spool, Spooled};
use crate::gate::{self, Finding, Scanner, Treatment};
use crate::state::AppState;
use crate::store;
use crate::table::{self, ColumnType, Field, Format, Table, TableError};
use tongban_tables::rows::Rows;
use tongban_tables::table::Inference;

/// Rows sent to the database at a time, each batch in a transaction of its own.
const BATCH: usize = 16_384;

/// What is done to a file's rows.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub treatments: Vec<(String, Treatment)>,
    pub quasi: Vec<String>,
    pub k: u64,
    /// Types chosen over the inferred ones: every cell must fit.
    pub chosen: Vec<(String, ColumnType)>,
}

/// What a pass over a file found.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The columns after treatment.
    pub columns: Vec<String>,
    /// Their types: inferred, then the chosen ones.
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
    pub rows: u64,
}

/// Why a pass stopped.
#[derive(Debug)]
pub enum Stop {
    /// The file cannot be read as a table.
    Table(TableError),
    /// What the publisher asked does not fit the file (the field, and why).
    Invalid(&'static str, String),
}

impl From<TableError> for Stop {
    fn from(error: TableError) -> Self {
        Stop::Table(error)
    }
}

impl From<Stop> for AppError {
    fn from(stop: Stop) -> Self {
        match stop {
            // The store failed under the reader, not the file.
            Stop::Table(TableError::Read(why)) => {
                AppError::Internal(anyhow::anyhow!("reading a stored file: {why}"))
            }
            Stop::Table(error) => AppError::invalid("upload", error),
            Stop::Invalid(field, why) => AppError::invalid(field, why),
        }
    }
}

/// Treats rows one at a time, gathering what the gate and the types need.
pub struct Treater {
    keep: Vec<usize>,
    masked: Vec<(usize, Option<gate::Kind>)>,
    chosen: Vec<(usize, ColumnType)>,
    columns: Vec<String>,
    scanner: Scanner,
    inference: Inference,
    rows: u64,
}

impl Treater {
    /// Sets up the treatment of a file with these columns.
    pub fn new(original: &[String], plan: &Plan) -> Result<Treater, Stop> {
        let treated = |i: &usize, wanted: fn(&Treatment) -> bool| {
            plan.treatments
                .iter()
                .any(|(c, t)| *c == original[*i] && wanted(t))
        };
        let keep: Vec<usize> = (0..original.len())
            .filter(|i| !treated(i, |t| matches!(t, Treatment::Drop)))
            .collect();
        let masked = keep
            .iter()
            .enumerate()
            .filter(|(_, i)| treated(i, |t| matches!(t, Treatment::Mask)))
            .map(|(new, i)| (new, gate::column_kind(&original[*i])))
            .collect();
        let columns: Vec<String> = keep.iter().map(|&i| original[i].clone()).collect();
        let mut chosen = Vec::with_capacity(plan.chosen.len());
        for (column, kind) in &plan.chosen {
            let at = columns.iter().position(|c| c == column).ok_or_else(|| {
                Stop::Invalid("fields", format!("the table has no column {column}"))
            })?;
            chosen.push((at, *kind));
        }
        Ok(Treater {
            scanner: Scanner::new(&columns, &plan.quasi, plan.k),
            inference: Inference::new(columns.len()),
            keep,
            masked,
            chosen,
            columns,
            rows: 0,
        })
    }

    /// The columns after treatment.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Treats, checks, scans and types the next row.
    pub fn treat(&mut self, mut row: Vec<String>) -> Result<Vec<String>, Stop> {
        self.rows += 1;
        if self.keep.len() != row.len() {
            row = self
                .keep
                .iter()
                .map(|&i| std::mem::take(&mut row[i]))
                .collect();
        }
        for (column, by_name) in &self.masked {
            row[*column] = gate::mask_cell(&row[*column], *by_name);
        }
        for (at, kind) in &self.chosen {
            if !row.get(*at).is_none_or(|cell| kind.admits(cell)) {
                return Err(Stop::Invalid(
                    "fields",
                    format!(
                        "row {} of column {} is not of type {}",
                        self.rows,
                        self.columns[*at],
                        kind.as_str()
                    ),
                ));
            }
        }
        self.scanner.add(&row);
        self.inference.add(&row);
        Ok(row)
    }

    /// What the pass found.
    pub fn finish(self) -> Summary {
        let mut fields = self.inference.fields(&self.columns);
        for (at, kind) in &self.chosen {
            fields[*at].kind = *kind;
        }
        Summary {
            findings: self.scanner.finish(),
            columns: self.columns,
            fields,
            rows: self.rows,
        }
    }
}

/// Reads every row of a file through a treatment, handing each treated row to `each` (which
/// may stop the pass; the summary then covers the rows read).
pub fn pass(
    mut rows: Rows<'_>,
    plan: &Plan,
    mut each: impl FnMut(&[String], Vec<String>) -> ControlFlow<()>,
) -> Result<Summary, Stop> {
    let mut treater = Treater::new(&rows.columns, plan)?;
    while let Some(row) = rows.next_row() {
        let row = treater.treat(row?)?;
        if each(treater.columns(), row).is_break() {
            break;
        }
    }
    Ok(treater.finish())
}

/// A table prepared whole, for small files: parsed, treated, typed and scanned.
pub struct Prepared {
    pub table: Table,
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
}

/// Prepares a small file held in memory (the demo's).
pub fn prepare(bytes: &[u8], format: Format, plan: &Plan) -> Result<Prepared, Stop> {
    let mut kept = Vec::new();
    let summary = pass(table::rows(bytes, format)?, plan, |_, row| {
        kept.push(row);
        ControlFlow::Continue(())
    })?;
    Ok(Prepared {
        table: Table {
            columns: summary.columns,
            rows: kept,
        },
        fields: summary.fields,
        findings: summary.findings,
    })
}

/// A stored file to read.
#[derive(Debug, Clone)]
pub struct Stored {
    pub file_id: String,
    pub sealed: bool,
    pub sha256: String,
    pub format: Format,
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Stop> + Send + 'static,
) -> AppResult<T> {
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))??)
}

/// One pass over a stored file: what it holds after the treatment.
pub async fn summarize(state: &AppState, file: &Stored, plan: Plan) -> AppResult<Summary> {
    let reader = files::open(state, &file.file_id, file.sealed, &file.sha256);
    let format = file.format;
    blocking(move || {
        pass(table::rows(reader, format)?, &plan, |_, _| {
            ControlFlow::Continue(())
        })
    })
    .await
}

/// The columns of a stored file, as uploaded.
pub async fn columns(state: &AppState, file: &Stored) -> AppResult<Vec<String>> {
    let reader = files::open(state, &file.file_id, file.sealed, &file.sha256);
    let format = file.format;
    blocking(move || Ok(table::rows(reader, format)?.columns)).await
}

/// The first rows of a stored file after the treatment, and its columns.
pub async fn first_rows(
    state: &AppState,
    file: &Stored,
    plan: Plan,
    limit: usize,
) -> AppResult<(Vec<String>, Vec<Vec<String>>)> {
    let reader = files::open(state, &file.file_id, file.sealed, &file.sha256);
    let format = file.format;
    blocking(move || {
        let mut rows = Vec::new();
        let mut columns = Vec::new();
        pass(table::rows(reader, format)?, &plan, |treated, row| {
            if columns.is_empty() {
                columns = treated.to_vec();
            }
            if rows.len() == limit {
                return ControlFlow::Break(());
            }
            rows.push(row);
            ControlFlow::Continue(())
        })?;
        Ok((columns, rows))
    })
    .await
}

/// What travels from the reading thread to the runtime.
enum Piece {
    Rows(Vec<Vec<String>>),
    Served(Vec<u8>),
}

/// A file loaded into a resource's datastore table being loaded (not yet the one queries
/// read; [`store::swap_loading`] makes it so), and, if asked, written as the served file.
pub struct Loaded {
    pub summary: Summary,
    pub served: Option<Spooled>,
}

/// Reads a stored file through a treatment into the resource's loading table, with `fields`
/// (which must be what the pass finds: a file that changed since it was scanned is refused),
/// writing the served file as `serve` if given. On any failure nothing is left behind.
pub async fn load(
    state: &AppState,
    resource_id: &str,
    file: &Stored,
    plan: Plan,
    fields: &[Field],
    serve: Option<Format>,
) -> AppResult<Loaded> {
    let engine = state.db.engine();
    retrying(|| async {
        let mut tx = state.pool().begin().await?;
        store::create_loading(&mut tx, engine, resource_id, fields).await?;
        tx.commit().await?;
        Ok(())
    })
    .await?;
    let reader = files::open(state, &file.file_id, file.sealed, &file.sha256);
    let format = file.format;
    let (sender, mut pieces) = tokio::sync::mpsc::channel::<Piece>(4);
    let worker = tokio::task::spawn_blocking(move || {
        let rows = table::rows(reader, format)?;
        let mut writer = serve.map(ServedWriter::new);
        let mut batch = Vec::with_capacity(BATCH);
        let summary = pass(rows, &plan, |columns, row| {
            if let Some(writer) = &mut writer
                && let Some(bytes) = writer.row(columns, &row)
                && sender.blocking_send(Piece::Served(bytes)).is_err()
            {
                return ControlFlow::Break(());
            }
            batch.push(row);
            if batch.len() == BATCH
                && sender
                    .blocking_send(Piece::Rows(std::mem::take(&mut batch)))
                    .is_err()
            {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })?;
        let mut tail = vec![Piece::Rows(batch)];
        if let Some(writer) = writer {
            tail.push(Piece::Served(writer.finish(&summary.columns)));
        }
        for piece in tail {
            if sender.blocking_send(piece).is_err() {
                break;
            }
        }
        Ok::<Summary, Stop>(summary)
    });
    let mut spool = serve.map(|_| Spool::new(state, false, u64::MAX));
    let mut next_id = 1i64;
    let mut failure: Option<AppError> = None;
    while let Some(piece) = pieces.recv().await {
        let done = match piece {
            Piece::Rows(rows) if rows.is_empty() => Ok(()),
            Piece::Rows(rows) => {
                // Each batch commits on its own, so other writers wait for one batch at most;
                // a batch that lost a race for the database is sent again.
                let loaded = retrying(|| async {
                    let mut tx = state.pool().begin().await?;
                    store::load_loading(&mut tx, engine, resource_id, fields, &rows, next_id)
                        .await?;
                    tx.commit().await?;
                    Ok(())
                })
                .await;
                next_id += rows.len() as i64;
                loaded
            }
            Piece::Served(bytes) => match &mut spool {
                Some(spool) => spool.write(&bytes).await,
                None => Ok(()),
            },
        };
        if let Err(error) = done {
            failure = Some(error);
            break;
        }
    }
    drop(pieces);
    let summary = worker
        .await
        .map_err(|e| AppError::Internal(e.into()))
        .and_then(|read| read.map_err(AppError::from));
    let outcome = match (failure, summary) {
        (Some(error), _) | (None, Err(error)) => Err(error),
        (None, Ok(summary)) if summary.fields != fields => Err(AppError::Conflict(
            "the file's columns or types changed since it was scanned: scan it again".into(),
        )),
        (None, Ok(summary)) => Ok(summary),
    };
    match outcome {
        Ok(summary) => {
            let served = match spool {
                Some(spool) => match spool.finish().await {
                    Ok(served) => Some(served),
                    Err(error) => {
                        drop_loading(state, resource_id).await;
                        return Err(error);
                    }
                },
                None => None,
            };
            Ok(Loaded { summary, served })
        }
        Err(error) => {
            if let Some(spool) = spool {
                spool.abandon().await;
            }
            drop_loading(state, resource_id).await;
            Err(error)
        }
    }
}

/// Removes a loading table that will not be used (best effort: the next load drops it too).
pub async fn drop_loading(state: &AppState, resource_id: &str) {
    if let Err(error) = store::drop_loading(state.pool(), resource_id).await {
        tracing::warn!(%error, resource = %resource_id, "dropping a loading table");
    }
}

/// The served file written as rows pass: CSV (UTF-8, a header row), or JSON records for a
/// JSON upload; handed out in parts.
struct ServedWriter {
    format: Format,
    csv: Option<csv::Writer<Vec<u8>>>,
    json: Vec<u8>,
    rows: u64,
}

impl ServedWriter {
    fn new(format: Format) -> ServedWriter {
        ServedWriter {
            format,
            csv: None,
            json: b"[".to_vec(),
            rows: 0,
        }
    }

    /// Adds a row; returns a part once one is full.
    fn row(&mut self, columns: &[String], row: &[String]) -> Option<Vec<u8>> {
        self.rows += 1;
        match self.format {
            Format::Json => {
                if self.rows > 1 {
                    self.json.push(b',');
                }
                let record: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned().map(serde_json::Value::String))
                    .collect();
                // A map of strings always serializes.
                let _ = serde_json::to_writer(&mut self.json, &record);
                (self.json.len() >= files::PART).then(|| std::mem::take(&mut self.json))
            }
            Format::Csv | Format::Xlsx => {
                let writer = self.csv.get_or_insert_with(|| {
                    let mut writer = csv::Writer::from_writer(Vec::new());
                    let _ = writer.write_record(columns);
                    writer
                });
                // Writing to memory cannot fail.
                let _ = writer.write_record(row);
                (writer.get_ref().len() >= files::PART)
                    .then(|| self.csv.replace(csv_writer()).map(into_bytes))
                    .flatten()
            }
        }
    }

    /// The rest of the file.
    fn finish(mut self, columns: &[String]) -> Vec<u8> {
        match self.format {
            Format::Json => {
                self.json.push(b']');
                self.json
            }
            Format::Csv | Format::Xlsx => match self.csv.take() {
                Some(writer) => into_bytes(writer),
                // No rows: the header alone.
                None => table::to_csv(columns, std::iter::empty()),
            },
        }
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}

fn into_bytes(writer: csv::Writer<Vec<u8>>) -> Vec<u8> {
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(treatments: Vec<(String, Treatment)>, chosen: Vec<(String, ColumnType)>) -> Plan {
        Plan {
            treatments,
            quasi: Vec::new(),
            k: 5,
            chosen,
        }
    }

    #[test]
    fn treatments_drop_and_mask_before_the_scan() {
        let csv = "姓名,手机,区县\n王小明,13800138000,江北区\n李小红,13900139000,江北区\n";
        let raw = prepare(csv.as_bytes(), Format::Csv, &Plan::default()).expect("csv");
        let kinds: Vec<gate::Kind> = raw.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![gate::Kind::NameColumn, gate::Kind::Mobile]);
        let treated = prepare(
            csv.as_bytes(),
            Format::Csv,
            &plan(
                vec![
                    ("姓名".into(), Treatment::Mask),
                    ("手机".into(), Treatment::Drop),
                ],
                Vec::new(),
            ),
        )
        .expect("csv");
        assert_eq!(treated.table.columns, vec!["姓名", "区县"]);
        assert_eq!(treated.table.rows[0], vec!["王**", "江北区"]);
        let left = gate::blocking(&treated.findings, &[("姓名".into(), Treatment::Mask)]);
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_chosen_type_names_the_first_row_that_does_not_fit_and_an_unknown_column() {
        let csv = "编号,数量\n001,3\n002,x\n";
        let kept = prepare(
            csv.as_bytes(),
            Format::Csv,
            &plan(Vec::new(), vec![("编号".into(), ColumnType::Text)]),
        )
        .expect("fits");
        assert_eq!(kept.fields[0].kind, ColumnType::Text);
        match prepare(
            csv.as_bytes(),
            Format::Csv,
            &plan(Vec::new(), vec![("数量".into(), ColumnType::Integer)]),
        ) {
            Err(Stop::Invalid("fields", why)) => {
                assert_eq!(why, "row 2 of column 数量 is not of type int");
            }
            other => panic!("{:?}", other.map(|p| p.fields)),
        }
        assert!(matches!(
            prepare(
                csv.as_bytes(),
                Format::Csv,
                &plan(Vec::new(), vec![("人数".into(), ColumnType::Integer)]),
            ),
            Err(Stop::Invalid("fields", _))
        ));
    }

    #[test]
    fn the_served_file_written_in_parts_is_the_table_written_whole() {
        let columns: Vec<String> = vec!["区县".into(), "说明".into()];
        let rows: Vec<Vec<String>> = (0..120_000)
            .map(|n| vec![format!("临江区{n}"), format!("第{n}条，含\"引号\"和,逗号")])
            .collect();
        for format in [Format::Csv, Format::Json] {
            let mut writer = ServedWriter::new(format);
            let mut parts = Vec::new();
            for row in &rows {
                if let Some(part) = writer.row(&columns, row) {
                    assert!(part.len() >= files::PART);
                    parts.push(part);
                }
            }
            parts.push(writer.finish(&columns));
            assert!(parts.len() >= 2, "{format:?}: {} parts", parts.len());
            let whole = parts.concat();
            let read = table::parse(&whole, format).expect("reads back");
            assert_eq!(read.columns, columns);
            assert_eq!(read.rows, rows, "{format:?}");
        }
        // No rows: the header alone (CSV), an empty array (JSON).
        assert_eq!(
            ServedWriter::new(Format::Csv).finish(&columns),
            "区县,说明\n".as_bytes()
        );
        assert_eq!(ServedWriter::new(Format::Json).finish(&columns), b"[]");
    }
}
