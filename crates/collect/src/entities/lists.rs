//! Entity lists sent to the collectors: a form that chooses from `households.csv` gets the
//! project's list `households` as that file — in its manifest for ODK Collect, and as the
//! options of the phone page — holding only the entities of the device's unit (and below),
//! and those the project's staff made for everyone. Each sending is recorded in the
//! transparency log with the device and the count, for a list may name persons.

use tongban_xform::Form;

use super::content::{Content, open};
use super::store::{self, EntityRow};
use crate::error::AppResult;
use crate::state::AppState;

/// The most entities one device receives of one list.
pub const MAX_SENT: i64 = 20_000;

/// An entity as a device receives it.
pub struct Item {
    pub uuid: String,
    pub version: i64,
    pub content: Content,
}

/// The entities of `list` a device of `unit` sees (the staff, with `None`, see all).
pub async fn visible(
    state: &AppState,
    project_id: i64,
    list: &str,
    unit: Option<&str>,
) -> AppResult<Vec<Item>> {
    let rows: Vec<EntityRow> =
        store::entities_for_unit(state.pool(), project_id, list, unit, MAX_SENT).await?;
    rows.into_iter()
        .map(|row| {
            Ok(Item {
                content: open(state, &row)?,
                uuid: row.uuid,
                version: row.version,
            })
        })
        .collect()
}

/// The lists a form chooses from that the project has, as (file name, list name).
pub async fn files_of(
    state: &AppState,
    project_id: i64,
    form: &Form,
) -> AppResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for file in form.files() {
        let Some(list) = tongban_xform::file_list(file) else {
            continue;
        };
        if store::dataset(state.pool(), project_id, list)
            .await?
            .is_some()
        {
            out.push((file.to_owned(), list.to_owned()));
        }
    }
    Ok(out)
}

/// A list as the CSV file ODK Collect reads: `name` (the entity's id), `label`, `__version`
/// and the list's properties, in the order they were added.
pub async fn csv(
    state: &AppState,
    project_id: i64,
    list: &str,
    unit: Option<&str>,
) -> AppResult<(Vec<u8>, usize)> {
    let properties = store::properties(state.pool(), project_id, list).await?;
    let items = visible(state, project_id, list, unit).await?;
    let mut header = vec![
        "name".to_owned(),
        "label".to_owned(),
        "__version".to_owned(),
    ];
    header.extend(properties.iter().map(|(name, _)| name.clone()));
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            let mut row = vec![
                item.uuid.clone(),
                item.content.label.clone(),
                item.version.to_string(),
            ];
            row.extend(properties.iter().map(|(name, _)| {
                item.content
                    .data
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            }));
            row
        })
        .collect();
    let body = tongban_tables::table::to_csv(&header, rows.iter().map(Vec::as_slice));
    Ok((body, items.len()))
}
