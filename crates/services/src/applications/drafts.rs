//! Saved drafts of applications (草稿): what an applicant typed for an item and the files
//! they attached, sealed (a form holds personal data), one per item and applicant, restored
//! when they open the form again, gone when they apply, discard it, or thirty days pass.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// How long a draft is kept after it was last saved.
pub const KEEP_MS: i64 = 30 * 86_400_000;

/// A draft as the applicant left it.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Typed values by field code.
    pub form: BTreeMap<String, String>,
    /// Files attached, by material name: upload ids.
    pub uploads: BTreeMap<String, String>,
    pub saved_at: i64,
}

fn context(account_id: &str, item_code: &str) -> String {
    format!("application_drafts.form/{account_id}/{item_code}")
}

/// Saves (or replaces) the actor's draft for an item. Only the actor's own uploads are kept
/// with it; each is then spared the daily deletion of uploads no application took.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    item_code: &str,
    form: &BTreeMap<String, String>,
    uploads: &BTreeMap<String, String>,
) -> AppResult<()> {
    if crate::services::item_by_code(state, item_code)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    let account = actor.id();
    let mut own = Vec::new();
    for (material, id) in uploads {
        if super::store::upload(state.pool(), id, account)
            .await?
            .is_some()
        {
            own.push((material.clone(), id.clone()));
        }
    }
    let plain = serde_json::to_vec(form).map_err(|e| AppError::Internal(e.into()))?;
    let sealed = state.vault.seal_field(&context(account, item_code), &plain);
    let now = state.now();
    let mut tx = state.pool().begin().await?;
    forget(&mut tx, account, item_code).await?;
    sqlx::query(
        "INSERT INTO application_drafts (account_id, item_code, form_sealed, saved_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(account.to_owned())
    .bind(item_code.to_owned())
    .bind(sealed)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (material, id) in own {
        sqlx::query(
            "INSERT INTO application_draft_uploads (account_id, item_code, material, upload_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(account.to_owned())
        .bind(item_code.to_owned())
        .bind(material)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn forget(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    item_code: &str,
) -> AppResult<()> {
    for table in ["application_draft_uploads", "application_drafts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE account_id = $1 AND item_code = $2"
        )))
        .bind(account_id.to_owned())
        .bind(item_code.to_owned())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The actor's draft for an item, if they saved one (files no longer held are left out).
pub async fn load(state: &AppState, actor: &Actor, item_code: &str) -> AppResult<Option<Draft>> {
    let account = actor.id();
    let row = sqlx::query(
        "SELECT form_sealed, saved_at FROM application_drafts WHERE account_id = $1 AND item_code = $2",
    )
    .bind(account.to_owned())
    .bind(item_code.to_owned())
    .fetch_optional(state.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let sealed: Vec<u8> = row.try_get("form_sealed")?;
    let plain = state
        .vault
        .open_field(&context(account, item_code), &sealed)?;
    let form = serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
    let rows = sqlx::query(
        "SELECT d.material, d.upload_id FROM application_draft_uploads d
         JOIN uploads u ON u.id = d.upload_id AND u.account_id = d.account_id
         WHERE d.account_id = $1 AND d.item_code = $2",
    )
    .bind(account.to_owned())
    .bind(item_code.to_owned())
    .fetch_all(state.pool())
    .await?;
    let mut uploads = BTreeMap::new();
    for row in rows {
        uploads.insert(row.try_get("material")?, row.try_get("upload_id")?);
    }
    Ok(Some(Draft {
        form,
        uploads,
        saved_at: row.try_get("saved_at")?,
    }))
}

/// The actor's drafts: (item code, saved at), the latest first.
pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT item_code, saved_at FROM application_drafts WHERE account_id = $1 ORDER BY saved_at DESC LIMIT 100",
    )
    .bind(actor.id().to_owned())
    .fetch_all(state.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("item_code")?, row.try_get("saved_at")?)))
        .collect()
}

/// Discards the account's draft for an item (after applying, or when asked).
pub async fn discard(state: &AppState, account_id: &str, item_code: &str) -> AppResult<()> {
    let mut conn = state.pool().acquire().await?;
    forget(&mut conn, account_id, item_code).await
}

/// Deletes drafts not saved for [`KEEP_MS`]; returns how many.
pub async fn purge(state: &AppState) -> AppResult<u64> {
    let before = state.now() - KEEP_MS;
    let mut tx = state.pool().begin().await?;
    sqlx::query(
        "DELETE FROM application_draft_uploads WHERE EXISTS (SELECT 1 FROM application_drafts d
         WHERE d.account_id = application_draft_uploads.account_id
           AND d.item_code = application_draft_uploads.item_code AND d.saved_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    let gone = sqlx::query("DELETE FROM application_drafts WHERE saved_at < $1")
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(gone)
}
