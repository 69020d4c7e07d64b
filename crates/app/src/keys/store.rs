//! SQL for data keys and signing keys.

use sqlx::{AnyPool, Row};

use crate::error::AppResult;

pub struct DataKeyRow {
    pub id: String,
    pub algorithm: String,
    pub wrapped: Vec<u8>,
}

/// Inserts a data key unless one with the same id exists (nodes starting together agree).
pub async fn insert_data_key(
    pool: &AnyPool,
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
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn data_keys(pool: &AnyPool, purpose: &str) -> AppResult<Vec<DataKeyRow>> {
    let rows = sqlx::query(
        "SELECT id, algorithm, wrapped FROM data_keys WHERE purpose = $1 ORDER BY created_at, id",
    )
    .bind(purpose.to_owned())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DataKeyRow {
                id: row.try_get("id")?,
                algorithm: row.try_get("algorithm")?,
                wrapped: row.try_get("wrapped")?,
            })
        })
        .collect()
}

/// A signing key as stored (the secret sealed under the key-encryption key).
#[derive(Clone)]
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

pub async fn insert_signing_key(pool: &AnyPool, key: &SigningKeyRow, now: i64) -> AppResult<()> {
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
    .execute(pool)
    .await?;
    Ok(())
}

const KEY_COLUMNS: &str =
    "kid, owner, purpose, algorithm, public_key, sealed_secret, not_before, not_after";

fn key_from_row(row: &sqlx::any::AnyRow) -> AppResult<SigningKeyRow> {
    Ok(SigningKeyRow {
        kid: row.try_get("kid")?,
        owner: row.try_get("owner")?,
        purpose: row.try_get("purpose")?,
        algorithm: row.try_get("algorithm")?,
        public_key: row.try_get("public_key")?,
        sealed_secret: row.try_get("sealed_secret")?,
        not_before: row.try_get("not_before")?,
        not_after: row.try_get("not_after")?,
    })
}

pub async fn signing_keys(pool: &AnyPool) -> AppResult<Vec<SigningKeyRow>> {
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY owner, purpose, not_before, kid");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.iter().map(key_from_row).collect()
}

pub async fn signing_keys_of(
    pool: &AnyPool,
    owner: &str,
    purpose: &str,
) -> AppResult<Vec<SigningKeyRow>> {
    let sql = format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys WHERE owner = $1 AND purpose = $2 ORDER BY not_before DESC, kid DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(owner.to_owned())
        .bind(purpose.to_owned())
        .fetch_all(pool)
        .await?;
    rows.iter().map(key_from_row).collect()
}

/// Ends a key's validity at `not_after` (it keeps verifying until then).
pub async fn retire_signing_key(pool: &AnyPool, kid: &str, not_after: i64) -> AppResult<()> {
    sqlx::query("UPDATE signing_keys SET not_after = $2 WHERE kid = $1 AND (not_after IS NULL OR not_after > $2)")
        .bind(kid.to_owned())
        .bind(not_after)
        .execute(pool)
        .await?;
    Ok(())
}

/// A region this one recognises: its pinned root key and the signed trust list kept whole.
pub struct TrustedRegionRow {
    pub region_code: String,
    pub root_alg: String,
    pub root_key: String,
    pub list_text: String,
    pub issued_at: String,
    pub imported_at: i64,
}

const TRUSTED_COLUMNS: &str = "region_code, root_alg, root_key, list_text, issued_at, imported_at";

fn trusted_region_row(r: &sqlx::any::AnyRow) -> AppResult<TrustedRegionRow> {
    Ok(TrustedRegionRow {
        region_code: r.try_get("region_code")?,
        root_alg: r.try_get("root_alg")?,
        root_key: r.try_get("root_key")?,
        list_text: r.try_get("list_text")?,
        issued_at: r.try_get("issued_at")?,
        imported_at: r.try_get("imported_at")?,
    })
}

/// Adds a recognised region, or replaces its list (the pinned root stays as first stored).
pub async fn upsert_trusted_region(
    pool: &AnyPool,
    row: &TrustedRegionRow,
    imported_by: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO trusted_regions (region_code, root_alg, root_key, list_text, issued_at, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region_code) DO UPDATE SET list_text = excluded.list_text, issued_at = excluded.issued_at, imported_at = excluded.imported_at, imported_by = excluded.imported_by")
        .bind(row.region_code.clone())
        .bind(row.root_alg.clone())
        .bind(row.root_key.clone())
        .bind(row.list_text.clone())
        .bind(row.issued_at.clone())
        .bind(row.imported_at)
        .bind(imported_by.to_owned())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn trusted_region(pool: &AnyPool, region: &str) -> AppResult<Option<TrustedRegionRow>> {
    let sql = format!("SELECT {TRUSTED_COLUMNS} FROM trusted_regions WHERE region_code = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(region.to_owned())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(trusted_region_row).transpose()
}

pub async fn trusted_regions(pool: &AnyPool) -> AppResult<Vec<TrustedRegionRow>> {
    let sql = format!("SELECT {TRUSTED_COLUMNS} FROM trusted_regions ORDER BY region_code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    rows.iter().map(trusted_region_row).collect()
}

/// False when the region was not recognised.
pub async fn delete_trusted_region(pool: &AnyPool, region: &str) -> AppResult<bool> {
    Ok(
        sqlx::query("DELETE FROM trusted_regions WHERE region_code = $1")
            .bind(region.to_owned())
            .execute(pool)
            .await?
            .rows_affected()
            == 1,
    )
}
