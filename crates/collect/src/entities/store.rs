//! The SQL of entity lists.

use sqlx::AnyPool;

use crate::error::AppResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Dataset {
    pub project_id: i64,
    pub name: String,
    pub approval_required: i64,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntityRow {
    pub project_id: i64,
    pub dataset: String,
    pub uuid: String,
    pub body_sealed: Vec<u8>,
    pub version: i64,
    pub creator_id: i64,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// The unit whose device made it, for entities made by submissions.
    pub region_code: Option<String>,
    /// The submission (instanceID) that made it.
    pub source_instance: Option<String>,
}

const ENTITY_COLUMNS: &str = "project_id, dataset, uuid, body_sealed, version, creator_id, \
     created_at, updated_at, deleted_at, region_code, source_instance";

fn is_duplicate(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

pub async fn datasets(db: &AnyPool, project_id: i64) -> AppResult<Vec<Dataset>> {
    Ok(sqlx::query_as(
        "SELECT project_id, name, approval_required, created_by, created_at FROM collect_datasets \
         WHERE project_id = $1 ORDER BY name",
    )
    .bind(project_id)
    .fetch_all(db)
    .await?)
}

pub async fn dataset(db: &AnyPool, project_id: i64, name: &str) -> AppResult<Option<Dataset>> {
    Ok(sqlx::query_as(
        "SELECT project_id, name, approval_required, created_by, created_at FROM collect_datasets \
         WHERE project_id = $1 AND name = $2",
    )
    .bind(project_id)
    .bind(name.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Adds a dataset; false when the project has one of that name (in any capitalisation).
pub async fn add_dataset(db: &AnyPool, dataset: &Dataset) -> AppResult<bool> {
    crate::error::retrying(|| add_dataset_once(db, dataset)).await
}

async fn add_dataset_once(db: &AnyPool, dataset: &Dataset) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM collect_datasets WHERE project_id = $1 AND LOWER(name) = LOWER($2)",
    )
    .bind(dataset.project_id)
    .bind(dataset.name.clone())
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Ok(false);
    }
    let inserted = sqlx::query(
        "INSERT INTO collect_datasets (project_id, name, approval_required, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(dataset.project_id)
    .bind(dataset.name.clone())
    .bind(dataset.approval_required)
    .bind(dataset.created_by.clone())
    .bind(dataset.created_at)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {
            tx.commit().await?;
            Ok(true)
        }
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A dataset's properties, in the order they were added: (name, published at).
pub async fn properties(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT name, published_at FROM collect_dataset_properties \
         WHERE project_id = $1 AND dataset = $2 ORDER BY published_at, name",
    )
    .bind(project_id)
    .bind(dataset.to_owned())
    .fetch_all(db)
    .await?)
}

/// Adds a property; false when the dataset has it already.
pub async fn add_property(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
    name: &str,
    at: i64,
) -> AppResult<bool> {
    let inserted = sqlx::query(
        "INSERT INTO collect_dataset_properties (project_id, dataset, name, published_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(project_id)
    .bind(dataset.to_owned())
    .bind(name.to_owned())
    .bind(at)
    .execute(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Adds entities in one transaction; false (and nothing added) when one's uuid is taken.
pub async fn add_entities(db: &AnyPool, rows: &[EntityRow]) -> AppResult<bool> {
    crate::error::retrying(|| add_entities_once(db, rows)).await
}

fn insert(
    row: &EntityRow,
    conflict: &'static str,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO collect_entities ({ENTITY_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11){conflict}"
    )))
    .bind(row.project_id)
    .bind(row.dataset.clone())
    .bind(row.uuid.clone())
    .bind(row.body_sealed.clone())
    .bind(row.version)
    .bind(row.creator_id)
    .bind(row.created_at)
    .bind(row.updated_at)
    .bind(row.deleted_at)
    .bind(row.region_code.clone())
    .bind(row.source_instance.clone())
}

/// Adds the entity a submission makes, in the submission's transaction; an entity whose uuid
/// the list already has is left as it is (ODK Central, too, keeps the submission then).
pub async fn add_entity_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    row: &EntityRow,
) -> AppResult<bool> {
    let done = insert(row, " ON CONFLICT (project_id, dataset, uuid) DO NOTHING")
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

async fn add_entities_once(db: &AnyPool, rows: &[EntityRow]) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    for row in rows {
        let inserted = insert(row, "").execute(&mut *tx).await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_duplicate(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn entity(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
    uuid: &str,
) -> AppResult<Option<EntityRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTITY_COLUMNS} FROM collect_entities \
         WHERE project_id = $1 AND dataset = $2 AND uuid = $3"
    )))
    .bind(project_id)
    .bind(dataset.to_owned())
    .bind(uuid.to_owned())
    .fetch_optional(db)
    .await?)
}

/// A page of a dataset's entities that are not deleted, oldest first.
pub async fn entities(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
    skip: i64,
    top: i64,
) -> AppResult<Vec<EntityRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENTITY_COLUMNS} FROM collect_entities \
         WHERE project_id = $1 AND dataset = $2 AND deleted_at IS NULL \
         ORDER BY created_at, uuid LIMIT $3 OFFSET $4"
    )))
    .bind(project_id)
    .bind(dataset.to_owned())
    .bind(top)
    .bind(skip)
    .fetch_all(db)
    .await?)
}

/// The entities of a list a unit's device sees, oldest first, at most `limit`: those made
/// in the unit or below it, and those the project's staff made for everyone. With no unit
/// (the project's staff, a device for the whole project), all of them.
pub async fn entities_for_unit(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
    unit: Option<&str>,
    limit: i64,
) -> AppResult<Vec<EntityRow>> {
    let query = match unit {
        None => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM collect_entities \
             WHERE project_id = $1 AND dataset = $2 AND deleted_at IS NULL \
             ORDER BY created_at, uuid LIMIT $3"
        )))
        .bind(project_id)
        .bind(dataset.to_owned())
        .bind(limit),
        Some(unit) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ENTITY_COLUMNS} FROM collect_entities \
             WHERE project_id = $1 AND dataset = $2 AND deleted_at IS NULL \
             AND (region_code IS NULL OR region_code = $3 OR region_code LIKE $4) \
             ORDER BY created_at, uuid LIMIT $5"
        )))
        .bind(project_id)
        .bind(dataset.to_owned())
        .bind(unit.to_owned())
        .bind(format!("{unit}%"))
        .bind(limit),
    };
    Ok(query.fetch_all(db).await?)
}

pub async fn entity_count(db: &AnyPool, project_id: i64, dataset: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM collect_entities \
         WHERE project_id = $1 AND dataset = $2 AND deleted_at IS NULL",
    )
    .bind(project_id)
    .bind(dataset.to_owned())
    .fetch_one(db)
    .await?)
}

/// Writes an entity's next version, if its current one is still `base` (another writer may
/// have moved it on); false when it was not.
pub async fn update_entity(db: &AnyPool, row: &EntityRow, base: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE collect_entities SET body_sealed = $1, version = $2, updated_at = $3 \
         WHERE project_id = $4 AND dataset = $5 AND uuid = $6 AND version = $7 AND deleted_at IS NULL",
    )
    .bind(row.body_sealed.clone())
    .bind(row.version)
    .bind(row.updated_at)
    .bind(row.project_id)
    .bind(row.dataset.clone())
    .bind(row.uuid.clone())
    .bind(base)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_entity(
    db: &AnyPool,
    project_id: i64,
    dataset: &str,
    uuid: &str,
    at: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE collect_entities SET deleted_at = $1 \
         WHERE project_id = $2 AND dataset = $3 AND uuid = $4 AND deleted_at IS NULL",
    )
    .bind(at)
    .bind(project_id)
    .bind(dataset.to_owned())
    .bind(uuid.to_owned())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
