//! Tabular files as publishers upload them — CSV (UTF-8 or GBK, as real files come), JSON
//! (an array of records) and XLSX (the first sheet, [`crate::xlsx`]) — read into columns and
//! rows of text, with each column's type inferred. Pure: no IO. Every way a file can be wrong
//! is a [`TableError`] naming the line.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::rows::Rows;
use crate::shape::unique_names;
pub use crate::shape::{MAX_CELL, MAX_COLUMNS, Table, TableError};

/// How a file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

impl Format {
    /// From a format name (CKAN's `format`) or a file name's extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let ext = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "text/csv" => Some(Format::Csv),
            "json" | "application/json" => Some(Format::Json),
            "xlsx" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Some(Format::Xlsx)
            }
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Xlsx => "XLSX",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The type of a column, with the datastore's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ColumnType {
    #[serde(rename = "int")]
    Integer,
    #[serde(rename = "numeric")]
    Number,
    #[serde(rename = "date")]
    Date,
    #[serde(rename = "text")]
    Text,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "int",
            ColumnType::Number => "numeric",
            ColumnType::Date => "date",
            ColumnType::Text => "text",
        }
    }

    pub fn parse(text: &str) -> Option<ColumnType> {
        match text {
            "int" | "integer" | "int4" | "int8" | "bigint" => Some(ColumnType::Integer),
            "numeric" | "number" | "float" | "float8" | "double" => Some(ColumnType::Number),
            "date" | "timestamp" => Some(ColumnType::Date),
            "text" | "string" => Some(ColumnType::Text),
            _ => None,
        }
    }

    /// Whether a cell's text is a value of this type (an empty cell is of every type).
    pub fn admits(self, cell: &str) -> bool {
        cell.is_empty()
            || match self {
                ColumnType::Integer => is_integer(cell),
                ColumnType::Number => is_number(cell),
                ColumnType::Date => is_date(cell),
                ColumnType::Text => true,
            }
    }
}

/// A column: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

/// The file's text: UTF-8 (a byte-order mark dropped), else GBK (GB 18030) where every byte
/// decodes.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if malformed {
        Err(TableError::Encoding)
    } else {
        Ok(text)
    }
}

/// Reads a file into a table (a CSV file through [`crate::rows`], as a stream).
pub fn parse(bytes: &[u8], format: Format) -> Result<Table, TableError> {
    let table = match format {
        Format::Csv => return crate::rows::csv(Box::new(bytes))?.into_table(),
        Format::Json => parse_json(&decode(bytes)?)?,
        Format::Xlsx => crate::xlsx::parse(bytes)?,
    };
    Ok(Table {
        columns: unique_names(table.columns),
        rows: table.rows,
    })
}

fn parse_json(text: &str) -> Result<Table, TableError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TableError::Json(e.to_string()))?;
    let records = match value {
        serde_json::Value::Array(records) => records,
        serde_json::Value::Object(mut map) => match map.remove("records").or(map.remove("data")) {
            Some(serde_json::Value::Array(records)) => records,
            _ => return Err(TableError::Json("no array of records".into())),
        },
        _ => return Err(TableError::Json("no array of records".into())),
    };
    let mut columns: Vec<String> = Vec::new();
    for record in &records {
        let serde_json::Value::Object(map) = record else {
            return Err(TableError::Json("a record is not an object".into()));
        };
        for key in map.keys() {
            if !columns.contains(key) {
                if columns.len() == MAX_COLUMNS {
                    return Err(TableError::TooManyColumns(MAX_COLUMNS + 1));
                }
                columns.push(key.clone());
            }
        }
    }
    if columns.is_empty() {
        return Err(TableError::Empty);
    }
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match record.get(c) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        if row.iter().any(|cell| cell.len() > MAX_CELL) {
            return Err(TableError::CellTooLarge {
                line: index as u64 + 1,
            });
        }
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

fn is_integer(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

fn is_number(cell: &str) -> bool {
    // A code written with leading zeros (007) is text: as a number it would lose them.
    let unsigned = cell.trim_start_matches(['-', '+']);
    if unsigned.len() > 1 && unsigned.starts_with('0') && unsigned.as_bytes()[1].is_ascii_digit() {
        return false;
    }
    let plain = cell
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E' | b'+'));
    plain
        && cell.bytes().any(|b| b.is_ascii_digit())
        && cell.parse::<f64>().is_ok_and(f64::is_finite)
}

fn is_date(cell: &str) -> bool {
    let b = cell.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && time::Date::parse(
            cell,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .is_ok()
}

/// Each column's type: the narrowest that admits every cell (int, then numeric, then date,
/// else text); a column with no values is text.
pub fn infer(table: &Table) -> Vec<Field> {
    let mut inference = Inference::new(table.columns.len());
    for row in &table.rows {
        inference.add(row);
    }
    inference.fields(&table.columns)
}

/// Each column's type gathered as rows pass: the narrowest that admits every cell (int, then
/// numeric, then date, else text); a column with no values is text.
pub struct Inference {
    columns: Vec<Possible>,
}

#[derive(Clone, Copy)]
struct Possible {
    any: bool,
    integer: bool,
    number: bool,
    date: bool,
}

impl Inference {
    pub fn new(width: usize) -> Self {
        Inference {
            columns: vec![
                Possible {
                    any: false,
                    integer: true,
                    number: true,
                    date: true,
                };
                width
            ],
        }
    }

    pub fn add(&mut self, row: &[String]) {
        for (possible, cell) in self.columns.iter_mut().zip(row) {
            if cell.is_empty() {
                continue;
            }
            possible.any = true;
            possible.integer = possible.integer && is_integer(cell);
            possible.number = possible.number && is_number(cell);
            possible.date = possible.date && is_date(cell);
        }
    }

    /// The fields of the columns seen.
    pub fn fields(&self, columns: &[String]) -> Vec<Field> {
        columns
            .iter()
            .zip(&self.columns)
            .map(|(name, p)| Field {
                id: name.clone(),
                kind: if !p.any {
                    ColumnType::Text
                } else if p.integer {
                    ColumnType::Integer
                } else if p.number {
                    ColumnType::Number
                } else if p.date {
                    ColumnType::Date
                } else {
                    ColumnType::Text
                },
            })
            .collect()
    }
}

/// Opens a file for reading its rows: a CSV file as a stream ([`crate::rows`]), JSON and
/// workbooks read whole; the header is read (and checked) at once.
pub fn rows<'r>(input: impl std::io::Read + 'r, format: Format) -> Result<Rows<'r>, TableError> {
    match format {
        Format::Csv => crate::rows::csv(Box::new(input)),
        Format::Json | Format::Xlsx => {
            let mut bytes = Vec::new();
            let mut input = input;
            input
                .read_to_end(&mut bytes)
                .map_err(crate::rows::io_error)?;
            Ok(Rows::whole(parse(&bytes, format)?))
        }
    }
}

/// A table written as CSV (UTF-8, a header row).
pub fn to_csv<'a>(columns: &'a [String], rows: impl IntoIterator<Item = &'a [String]>) -> Vec<u8> {
    csv_rows(std::iter::once(columns).chain(rows))
}

/// Rows written as CSV (UTF-8), with no header: a part of a longer file.
pub fn csv_rows<'a>(rows: impl IntoIterator<Item = &'a [String]>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    for row in rows {
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// Files packed in a ZIP archive (deflated), in the order given: an export of several tables.
pub fn archive(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in files {
        // Writing to memory cannot fail.
        let _ = out.start_file(name.as_str(), options);
        let _ = out.write_all(body);
    }
    out.finish().map(|c| c.into_inner()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_and_utf8_files_read_the_same() {
        let utf8 = "名称,数量\n江北站,12\n".as_bytes();
        let (gbk, _, _) = encoding_rs::GBK.encode("名称,数量\n江北站,12\n");
        let a = parse(utf8, Format::Csv).expect("utf-8");
        let b = parse(&gbk, Format::Csv).expect("gbk");
        assert_eq!(a, b);
        assert_eq!(a.columns, vec!["名称", "数量"]);
        assert_eq!(
            parse(b"\xEF\xBB\xBFa\n1\n", Format::Csv)
                .expect("bom")
                .columns,
            vec!["a"]
        );
        assert_eq!(
            parse(b"a\n\xFF\xFF\n", Format::Csv),
            Err(TableError::Encoding)
        );
    }

    #[test]
    fn ragged_rows_and_huge_cells_name_their_line() {
        assert_eq!(
            parse(b"a,b\n1,2\n3\n", Format::Csv),
            Err(TableError::Ragged {
                line: 3,
                expected: 2,
                found: 1
            })
        );
        let huge = format!("a\n{}\n", "x".repeat(MAX_CELL + 1));
        assert_eq!(
            parse(huge.as_bytes(), Format::Csv),
            Err(TableError::CellTooLarge { line: 2 })
        );
        assert_eq!(parse(b"", Format::Csv), Err(TableError::Empty));
    }

    #[test]
    fn types_are_the_narrowest_that_fit() {
        let table = parse(
            "id,amount,day,code,note,empty\n1,2.5,2026-01-31,007,x,\n-3,4,2026-02-01,12,,\n"
                .as_bytes(),
            Format::Csv,
        )
        .expect("csv");
        let kinds: Vec<ColumnType> = infer(&table).into_iter().map(|f| f.kind).collect();
        use ColumnType::*;
        assert_eq!(kinds, vec![Integer, Number, Date, Text, Text, Text]);
    }

    #[test]
    fn json_records_become_rows_and_names_stay_unique() {
        let table = parse(
            br#"[{"a":1,"b":"x"},{"b":null,"c":[1,2],"_id":5}]"#,
            Format::Json,
        )
        .expect("json");
        // Keys come in the order JSON objects are read: by name.
        assert_eq!(table.columns, vec!["a", "b", "_id_2", "c"]);
        assert_eq!(table.rows[1], vec!["", "", "5", "[1,2]"]);
        assert!(matches!(
            parse(b"{\"x\":1}", Format::Json),
            Err(TableError::Json(_))
        ));
        assert!(matches!(
            parse(b"[1]", Format::Json),
            Err(TableError::Json(_))
        ));
    }

    #[test]
    fn a_table_written_reads_back() {
        let table = Table {
            columns: vec!["名称".into(), "说明".into()],
            rows: vec![vec!["a,b".into(), "引号\"和\n换行".into()]],
        };
        let bytes = to_csv(&table.columns, table.rows.iter().map(Vec::as_slice));
        assert_eq!(parse(&bytes, Format::Csv).expect("reads"), table);
    }
}
