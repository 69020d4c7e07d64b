//! What an entity holds and how it is kept: its label and data sealed at rest under the
//! entity's own context, the limits on them, and the checks of an entity's id. A leaf of the
//! module: the handlers, the lists sent to devices and the entities made by submissions use it,
//! and it uses none of them.

use serde_json::{Map, Value};

use super::store::EntityRow;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The most entities made in one request, properties a list has, and characters of a label or
/// a value.
pub const MAX_BULK: usize = 10_000;
pub const MAX_PROPERTIES: usize = 200;
pub const MAX_TEXT: usize = 10_000;

pub fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
    AppError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// An entity's uuid as ODK writes it (`uuid:` optional), lower-cased.
pub fn check_uuid(text: &str) -> AppResult<String> {
    let bare = text
        .strip_prefix("uuid:")
        .unwrap_or(text)
        .to_ascii_lowercase();
    let ok = bare.len() == 36
        && bare.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(bare)
    } else {
        Err(invalid("uuid", format!("{text:?} is not a UUID")))
    }
}

/// What an entity holds, sealed at rest.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Content {
    pub label: String,
    pub data: Map<String, Value>,
}

fn context(row: &EntityRow) -> String {
    format!(
        "collect_entities/{}/{}/{}",
        row.project_id, row.dataset, row.uuid
    )
}

pub fn open(state: &AppState, row: &EntityRow) -> AppResult<Content> {
    let plain = state.vault.open_field(&context(row), &row.body_sealed)?;
    serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))
}

pub fn seal(state: &AppState, row: &mut EntityRow, content: &Content) -> AppResult<()> {
    let plain = serde_json::to_vec(content).map_err(|e| AppError::Internal(e.into()))?;
    row.body_sealed = state.vault.seal_field(&context(row), &plain);
    Ok(())
}
