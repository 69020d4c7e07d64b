//! Bulk issuance from a CSV file (`tongban certs import`): one row per certificate, the holder
//! by ID number or USCC and name, then one column per data item of the type. Every row is
//! checked and either issued or reported with its line and reason; nothing is half-done.
//!
//! ```text
//! holder_code,holder_name,name,legal_representative,registered_capital,established_on,business_scope
//! 91339901MA2AAAAA1X,临江清源食品有限公司,临江清源食品有限公司,张伟,500万元人民币,2020-06-01,食品销售|餐饮服务
//! ```
//!
//! A `list` item holds its entries separated by `|`. An empty cell leaves the item out.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tongban_core::{ResidentId, Uscc};

use super::store::{self, CertType};
use super::{BulkRow, HolderInfo};
use crate::error::{AppError, AppResult};
use crate::identity::personal;
use crate::state::AppState;

/// What an import did: how many certificates were issued, and each refused row with its
/// line in the file.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub issued: usize,
    pub failed: Vec<(u64, String)>,
}

/// The column naming the holder's ID number or USCC, and the holder's name.
const HOLDER_CODE: &str = "holder_code";
const HOLDER_NAME: &str = "holder_name";
/// Separates the entries of a `list` item in a cell.
const LIST_SEPARATOR: char = '|';

/// Issues the certificates of a CSV file from the department with USCC `issuer`, which must be
/// authorised for the type. `progress(done, total)` is called as batches are stored.
pub async fn import_csv(
    state: &AppState,
    issuer: &str,
    type_code: &str,
    input: impl std::io::Read,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> AppResult<ImportReport> {
    let department = crate::admin::directory::department_by_uscc(state, issuer.trim())
        .await?
        .ok_or_else(|| AppError::invalid("issuer", "no department has this USCC"))?;
    let t = store::cert_type_by_code(state.pool(), type_code.trim())
        .await?
        .ok_or_else(|| AppError::invalid("type", "no such certificate type"))?;
    if !store::may_issue(state.pool(), &t.code, &department.id).await? {
        return Err(AppError::invalid(
            "issuer",
            format!("{} does not issue {}", department.name, t.name),
        ));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| AppError::invalid("file", format!("the header row: {e}")))?
        .clone();
    check_headers(&t, &headers)?;
    let mut report = ImportReport::default();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for record in reader.records() {
        let (line, parsed) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                (line, parse_row(state, &t, &headers, &record).await)
            }
            Err(error) => (
                error.position().map_or(0, |p| p.line()),
                Err(format!("not a CSV row of the header's width: {error}")),
            ),
        };
        match parsed {
            Ok(row) => {
                rows.push(row);
                lines.push(line);
            }
            Err(reason) => report.failed.push((line, reason)),
        }
    }
    let total = rows.len() + report.failed.len();
    let refused_before = report.failed.len();
    let outcome = super::issue_many(state, &department, &t, rows, "operator", &|done| {
        progress(refused_before + done, total)
    })
    .await?;
    report.issued = outcome.issued.len();
    report.failed.extend(
        outcome
            .failed
            .into_iter()
            .map(|(index, reason)| (lines.get(index).copied().unwrap_or(0), reason)),
    );
    report.failed.sort();
    Ok(report)
}

/// The header names the holder columns and only items of the type, each once.
fn check_headers(t: &CertType, headers: &csv::StringRecord) -> AppResult<()> {
    let mut seen = std::collections::HashSet::new();
    for name in headers.iter() {
        if !seen.insert(name) {
            return Err(AppError::invalid(
                "file",
                format!("the column {name} appears twice"),
            ));
        }
        if name != HOLDER_CODE && name != HOLDER_NAME && !t.items.iter().any(|i| i.code == name) {
            return Err(AppError::invalid(
                "file",
                format!("{name} is not an item of {}", t.name),
            ));
        }
    }
    for required in [HOLDER_CODE, HOLDER_NAME] {
        if !seen.contains(required) {
            return Err(AppError::invalid(
                "file",
                format!("the header has no {required} column"),
            ));
        }
    }
    Ok(())
}

/// One row: the registered holder, and the items by the type's kinds. The items are checked
/// against the type by the issuance itself.
async fn parse_row(
    state: &AppState,
    t: &CertType,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<BulkRow, String> {
    let mut code = "";
    let mut name = "";
    let mut items = BTreeMap::new();
    for (header, cell) in headers.iter().zip(record.iter()) {
        let cell = cell.trim();
        match header {
            HOLDER_CODE => code = cell,
            HOLDER_NAME => name = cell,
            _ if cell.is_empty() => {}
            item => {
                let is_list = t.items.iter().any(|i| i.code == item && i.kind == "list");
                let value = if is_list {
                    Value::Array(
                        cell.split(LIST_SEPARATOR)
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| Value::String(s.to_owned()))
                            .collect(),
                    )
                } else {
                    Value::String(cell.to_owned())
                };
                items.insert(item.to_owned(), value);
            }
        }
    }
    if name.is_empty() || name.chars().count() > 100 {
        return Err("holder_name: give the holder's name (1–100 characters)".into());
    }
    let holder = match t.holder_kind.as_str() {
        "person" => {
            let resident_id: ResidentId = code.parse().map_err(|e| format!("holder_code: {e}"))?;
            let id = personal::person_id_by_resident_id(state, &resident_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("holder_code: no registered person has this ID number")?;
            HolderInfo {
                kind: "person",
                id,
                name: name.to_owned(),
                code: resident_id.expose().to_owned(),
            }
        }
        _ => {
            let uscc: Uscc = code.parse().map_err(|e| format!("holder_code: {e}"))?;
            let id = personal::enterprise_id_by_uscc(state, &uscc)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("holder_code: no registered enterprise has this USCC")?;
            HolderInfo {
                kind: "enterprise",
                id,
                name: name.to_owned(),
                code: uscc.as_str().to_owned(),
            }
        }
    };
    Ok(BulkRow { holder, items })
}
