//! SQL of the service catalogue.

use super::item::ServiceDefinition;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_platform::db::Exec;

/// An item as stored: its definition, the department that implements it, and its version.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub definition: ServiceDefinition,
    pub department_id: String,
    pub version: i64,
}

/// An item's row: its definition as JSON text (none for items only certificates name).
#[derive(sqlx::FromRow)]
struct ItemRow {
    definition: Option<String>,
    department_id: String,
    version: i64,
}

fn stored(row: &sqlx::any::AnyRow) -> AppResult<Option<StoredItem>> {
    let item = <ItemRow as sqlx::FromRow<_>>::from_row(row)?;
    let Some(text) = item.definition else {
        return Ok(None);
    };
    Ok(Some(StoredItem {
        definition: serde_json::from_str(&text).map_err(|e| AppError::Internal(e.into()))?,
        department_id: item.department_id,
        version: item.version,
    }))
}

/// Every item with a definition, by code.
pub async fn all(db: impl Exec<'_>) -> AppResult<Vec<StoredItem>> {
    let rows = sqlx::query(
        "SELECT definition, department_id, version FROM service_items WHERE definition IS NOT NULL ORDER BY code",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(stored)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

pub async fn by_code(db: impl Exec<'_>, code: &str) -> AppResult<Option<StoredItem>> {
    let row =
        sqlx::query("SELECT definition, department_id, version FROM service_items WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(row.as_ref().map(stored).transpose()?.flatten())
}

/// Adds a new item at version 1; a conflict when the code is taken.
pub async fn insert(
    state: &AppState,
    definition: &ServiceDefinition,
    department_id: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO service_items (code, name, department_id, legal_basis, consent_free_types, definition, item_type, theme, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)")
        .bind(definition.code.clone())
        .bind(definition.name.clone())
        .bind(department_id.to_owned())
        .bind(definition.legal_basis.clone())
        .bind(serde_json::to_string(&definition.consent_free_types).unwrap_or_default())
        .bind(serde_json::to_string(definition).map_err(|e| AppError::Internal(e.into()))?)
        .bind(item_type(definition))
        .bind(definition.theme.clone())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    crate::cache::changed(state, super::ITEMS, &definition.code).await;
    Ok(())
}

fn item_type(definition: &ServiceDefinition) -> String {
    serde_json::to_value(definition.item_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Replaces an item if it is still at `version`; returns the new version, or `None` when
/// someone saved it in between (or it does not exist).
pub async fn update(
    state: &AppState,
    definition: &ServiceDefinition,
    department_id: &str,
    version: i64,
) -> AppResult<Option<i64>> {
    let result = sqlx::query("UPDATE service_items SET name = $2, department_id = $3, legal_basis = $4, consent_free_types = $5, definition = $6, item_type = $7, theme = $8, version = version + 1, updated_at = $9 WHERE code = $1 AND version = $10")
        .bind(definition.code.clone())
        .bind(definition.name.clone())
        .bind(department_id.to_owned())
        .bind(definition.legal_basis.clone())
        .bind(serde_json::to_string(&definition.consent_free_types).unwrap_or_default())
        .bind(serde_json::to_string(definition).map_err(|e| AppError::Internal(e.into()))?)
        .bind(item_type(definition))
        .bind(definition.theme.clone())
        .bind(state.now())
        .bind(version)
        .execute(state.pool())
        .await?;
    crate::cache::changed(state, super::ITEMS, &definition.code).await;
    Ok((result.rows_affected() == 1).then_some(version + 1))
}
