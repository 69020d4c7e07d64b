//! SQL for data keys and signing keys.

use sqlx::FromRow;

use crate::db::Exec;
use crate::error::AppResult;

#[derive(sqlx::FromRow)]
pub struct DataKeyRow {
    pub id: String,
    pub algorithm: String,
    pub wrapped: Vec<u8>,
    /// When the key starts sealing (a rotated key is loaded by every node before then).
    pub created_at: i64,
}

/// Inserts a data key unless one with the same id exists (nodes starting together agree).
pub async fn insert_data_key(
    db: impl Exec<'_>,
    id: &str,
    purpose: &str,
    algorithm: &str,
    wrapped: &[u8],
    now: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO data_keys (id, purpose, algorithm, wrapped, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING")
        .bind(id.to_owned())
        .bind(purpose.to_owned())
        .bind(algorithm.to_owned())
        .bind(wrapped.to_vec())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn data_keys(db: impl Exec<'_>, purpose: &str) -> AppResult<Vec<DataKeyRow>> {
    let rows = sqlx::query(
        "SELECT id, algorithm, wrapped, created_at FROM data_keys WHERE purpose = $1 ORDER BY created_at, id",
    )
    .bind(purpose.to_owned())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok(DataKeyRow::from_row(row)?))
        .collect()
}

/// A signing key as stored (the secret sealed under the key-encryption key).
#[derive(sqlx::FromRow, Clone)]
pub struct SigningKeyRow {
    pub kid: String,
    pub owner: String,
    pub purpose: String,
    pub algorithm: String,
    pub public_key: Vec<u8>,
    pub sealed_secret: Vec<u8>,
    pub not_before: i64,
    pub not_after: Option<i64>,
}

pub async fn insert_signing_key(db: impl Exec<'_>, key: &SigningKeyRow, now: i64) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, owner, purpose, algorithm, public_key, sealed_secret, not_before, not_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.kid.clone())
    .bind(key.owner.clone())
    .bind(key.purpose.clone())
    .bind(key.algorithm.clone())
    .bind(key.public_key.clone())
    .bind(key.sealed_secret.clone())
    .bind(key.not_before)
    .bind(key.not_after)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

const KEY_COLUMNS: &str =
    "kid, owner, purpose, algorithm, public_key, sealed_secret, not_before, not_after";

fn key_from_row(row: &sqlx::any::AnyRow) -> AppResult<SigningKeyRow> {
    Ok(SigningKeyRow::from_row(row)?)
}

pub async fn signing_keys(db: impl Exec<'_>) -> AppResult<Vec<SigningKeyRow>> {
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY owner, purpose, not_before, kid");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.iter().map(key_from_row).collect()
}

pub async fn signing_keys_of(
    db: impl Exec<'_>,
    owner: &str,
    purpose: &str,
) -> AppResult<Vec<SigningKeyRow>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE owner = $1 AND purpose = $2 ORDER BY not_before DESC, kid DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner.to_owned())
        .bind(purpose.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(key_from_row).collect()
}

/// Ends a key's validity at `not_after` (it keeps verifying until then).
pub async fn retire_signing_key(db: impl Exec<'_>, kid: &str, not_after: i64) -> AppResult<()> {
    sqlx::query("UPDATE signing_keys SET not_after = $2 WHERE kid = $1 AND (not_after IS NULL OR not_after > $2)")
        .bind(kid.to_owned())
        .bind(not_after)
        .execute(db)
        .await?;
    Ok(())
}
