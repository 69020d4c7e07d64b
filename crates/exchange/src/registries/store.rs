//! The registries' tables.

use sqlx::AnyPool;

use crate::error::AppResult;

pub struct RegistryRow {
    pub name: String,
    pub version: String,
    pub resource_code: String,
    pub id_item: String,
}

pub async fn insert_registry(
    db: &AnyPool,
    row: &RegistryRow,
    by: &str,
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO data_registries (name, version, resource_code, id_item, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(row.name.clone())
    .bind(row.version.clone())
    .bind(row.resource_code.clone())
    .bind(row.id_item.clone())
    .bind(by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn registry(db: &AnyPool, name: &str, version: &str) -> AppResult<Option<RegistryRow>> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT name, version, resource_code, id_item FROM data_registries WHERE name = $1 AND version = $2",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(name, version, resource_code, id_item)| RegistryRow {
            name,
            version,
            resource_code,
            id_item,
        }),
    )
}

pub async fn registries(db: &AnyPool) -> AppResult<Vec<RegistryRow>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT name, version, resource_code, id_item FROM data_registries ORDER BY name, version",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, version, resource_code, id_item)| RegistryRow {
            name,
            version,
            resource_code,
            id_item,
        })
        .collect())
}

/// Every record of a registry, sealed, by key (at most `limit`).
pub async fn records(
    db: &AnyPool,
    name: &str,
    version: &str,
    limit: i64,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT record_key, content_sealed FROM registry_records
         WHERE registry = $1 AND version = $2 ORDER BY record_key LIMIT $3",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn record(
    db: &AnyPool,
    name: &str,
    version: &str,
    key: &str,
) -> AppResult<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar(
        "SELECT content_sealed FROM registry_records WHERE registry = $1 AND version = $2 AND record_key = $3",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .bind(key.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Inserts a record; false when its key is taken.
pub async fn insert(
    db: &AnyPool,
    name: &str,
    version: &str,
    key: &str,
    sealed: &[u8],
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO registry_records (registry, version, record_key, content_sealed, updated_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .bind(key.to_owned())
    .bind(sealed.to_vec())
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn replace(
    db: &AnyPool,
    name: &str,
    version: &str,
    key: &str,
    sealed: &[u8],
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE registry_records SET content_sealed = $4, updated_at = $5
         WHERE registry = $1 AND version = $2 AND record_key = $3",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .bind(key.to_owned())
    .bind(sealed.to_vec())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &AnyPool, name: &str, version: &str, key: &str) -> AppResult<bool> {
    let done = sqlx::query(
        "DELETE FROM registry_records WHERE registry = $1 AND version = $2 AND record_key = $3",
    )
    .bind(name.to_owned())
    .bind(version.to_owned())
    .bind(key.to_owned())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
