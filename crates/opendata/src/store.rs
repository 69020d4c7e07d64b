//! The SQL of the open-data module: organizations, datasets, resources, their files, and the
//! datastore — one table per published tabular resource (`ods_<resource id>`), with a column
//! per field (`c0`, `c1` …, typed), the row number `_id` and the row's text folded to lower
//! case for `q` (`_full`). The datastore's tables are made at run time, so its reads are the
//! one place in this crate that reads columns by position.

use std::collections::HashMap;

use sqlx::Row as _;

use crate::db::Exec;
use crate::error::{AppError, AppResult};
use crate::gate::{Finding, Treatment};
use crate::model::{Dataset, Organization, Resource, ResourceState};
use crate::table::{ColumnType, Field};

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> AppResult<T> {
    serde_json::from_str(text).map_err(|e| AppError::Internal(e.into()))
}

// ---- organizations

pub async fn insert_organization<'e>(
    db: impl Exec<'e>,
    org: &Organization,
    by: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO open_organizations (department_id, name, title, title_en, description, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.department_id.clone())
    .bind(org.name.clone())
    .bind(org.title.clone())
    .bind(org.title_en.clone())
    .bind(org.description.clone())
    .bind(by.to_owned())
    .bind(org.created_at)
    .execute(db)
    .await?;
    Ok(())
}

const ORG_COLUMNS: &str = "department_id, name, title, title_en, description, created_at";

pub async fn organizations<'e>(db: impl Exec<'e>) -> AppResult<Vec<Organization>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORG_COLUMNS} FROM open_organizations ORDER BY name"
    )))
    .fetch_all(db)
    .await?)
}

// ---- datasets

#[derive(sqlx::FromRow)]
struct DatasetRow {
    id: String,
    name: String,
    department_id: String,
    title: String,
    title_en: String,
    notes: String,
    notes_en: String,
    themes: String,
    tags: String,
    license_id: String,
    frequency: String,
    temporal_start: Option<String>,
    temporal_end: Option<String>,
    spatial: String,
    contact_name: String,
    contact_email: String,
    source: Option<String>,
    private: i64,
    state: String,
    created_by: String,
    created_at: i64,
    modified_at: i64,
}

impl TryFrom<DatasetRow> for Dataset {
    type Error = AppError;

    fn try_from(row: DatasetRow) -> AppResult<Dataset> {
        Ok(Dataset {
            themes: parse_json(&row.themes)?,
            tags: parse_json(&row.tags)?,
            id: row.id,
            name: row.name,
            department_id: row.department_id,
            title: row.title,
            title_en: row.title_en,
            notes: row.notes,
            notes_en: row.notes_en,
            license_id: row.license_id,
            frequency: row.frequency,
            temporal_start: row.temporal_start,
            temporal_end: row.temporal_end,
            spatial: row.spatial,
            contact_name: row.contact_name,
            contact_email: row.contact_email,
            source: row.source,
            private: row.private != 0,
            state: row.state,
            created_by: row.created_by,
            created_at: row.created_at,
            modified_at: row.modified_at,
        })
    }
}

const DATASET_COLUMNS: &str = "id, name, department_id, title, title_en, notes, notes_en, themes, \
     tags, license_id, frequency, temporal_start, temporal_end, spatial, contact_name, \
     contact_email, source, private, state, created_by, created_at, modified_at";

pub async fn insert_dataset<'e>(db: impl Exec<'e>, d: &Dataset) -> AppResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO open_datasets ({DATASET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    )))
    .bind(d.id.clone())
    .bind(d.name.clone())
    .bind(d.department_id.clone())
    .bind(d.title.clone())
    .bind(d.title_en.clone())
    .bind(d.notes.clone())
    .bind(d.notes_en.clone())
    .bind(json(&d.themes))
    .bind(json(&d.tags))
    .bind(d.license_id.clone())
    .bind(d.frequency.clone())
    .bind(d.temporal_start.clone())
    .bind(d.temporal_end.clone())
    .bind(d.spatial.clone())
    .bind(d.contact_name.clone())
    .bind(d.contact_email.clone())
    .bind(d.source.clone())
    .bind(i64::from(d.private))
    .bind(d.state.clone())
    .bind(d.created_by.clone())
    .bind(d.created_at)
    .bind(d.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Writes every field a dataset's owner may change (not its id, department or creation).
pub async fn update_dataset<'e>(db: impl Exec<'e>, d: &Dataset) -> AppResult<()> {
    sqlx::query(
        "UPDATE open_datasets SET name = $2, title = $3, title_en = $4, notes = $5, \
         notes_en = $6, themes = $7, tags = $8, license_id = $9, frequency = $10, \
         temporal_start = $11, temporal_end = $12, spatial = $13, contact_name = $14, \
         contact_email = $15, source = $16, private = $17, state = $18, modified_at = $19 \
         WHERE id = $1",
    )
    .bind(d.id.clone())
    .bind(d.name.clone())
    .bind(d.title.clone())
    .bind(d.title_en.clone())
    .bind(d.notes.clone())
    .bind(d.notes_en.clone())
    .bind(json(&d.themes))
    .bind(json(&d.tags))
    .bind(d.license_id.clone())
    .bind(d.frequency.clone())
    .bind(d.temporal_start.clone())
    .bind(d.temporal_end.clone())
    .bind(d.spatial.clone())
    .bind(d.contact_name.clone())
    .bind(d.contact_email.clone())
    .bind(d.source.clone())
    .bind(i64::from(d.private))
    .bind(d.state.clone())
    .bind(d.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A dataset by its id or its name.
pub async fn dataset<'e>(db: impl Exec<'e>, id_or_name: &str) -> AppResult<Option<Dataset>> {
    let row: Option<DatasetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DATASET_COLUMNS} FROM open_datasets WHERE id = $1 OR name = $1"
    )))
    .bind(id_or_name.to_owned())
    .fetch_optional(db)
    .await?;
    row.map(Dataset::try_from).transpose()
}

/// Every dataset not deleted, by name.
pub async fn active_datasets<'e>(db: impl Exec<'e>) -> AppResult<Vec<Dataset>> {
    let rows: Vec<DatasetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DATASET_COLUMNS} FROM open_datasets WHERE state = 'active' ORDER BY name"
    )))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Dataset::try_from).collect()
}

// ---- resources

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: String,
    dataset_id: String,
    position: i64,
    name: String,
    description: String,
    format: String,
    url: String,
    file_name: String,
    media_type: String,
    size: i64,
    sha256: String,
    fields: String,
    row_count: i64,
    state: String,
    findings: String,
    treatments: String,
    quasi: String,
    k: i64,
    column_types: String,
    changed_by: String,
    published_by: Option<String>,
    downloads: i64,
    created_at: i64,
    modified_at: i64,
}

impl TryFrom<ResourceRow> for Resource {
    type Error = AppError;

    fn try_from(row: ResourceRow) -> AppResult<Resource> {
        let findings: Vec<Finding> = parse_json(&row.findings)?;
        let treatments: Vec<(String, Treatment)> = parse_json(&row.treatments)?;
        let fields: Vec<Field> = parse_json(&row.fields)?;
        Ok(Resource {
            state: ResourceState::parse(&row.state)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state {}", row.state)))?,
            quasi: parse_json(&row.quasi)?,
            column_types: parse_json(&row.column_types)?,
            findings,
            treatments,
            fields,
            id: row.id,
            dataset_id: row.dataset_id,
            position: row.position,
            name: row.name,
            description: row.description,
            format: row.format,
            url: row.url,
            file_name: row.file_name,
            media_type: row.media_type,
            size: row.size,
            sha256: row.sha256,
            row_count: row.row_count,
            k: row.k,
            changed_by: row.changed_by,
            published_by: row.published_by,
            downloads: row.downloads,
            created_at: row.created_at,
            modified_at: row.modified_at,
        })
    }
}

const RESOURCE_COLUMNS: &str = "id, dataset_id, position, name, description, format, url, \
     file_name, media_type, size, sha256, fields, row_count, state, findings, treatments, quasi, \
     k, column_types, changed_by, published_by, downloads, created_at, modified_at";

pub async fn insert_resource<'e>(db: impl Exec<'e>, r: &Resource) -> AppResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO open_resources ({RESOURCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
    )))
    .bind(r.id.clone())
    .bind(r.dataset_id.clone())
    .bind(r.position)
    .bind(r.name.clone())
    .bind(r.description.clone())
    .bind(r.format.clone())
    .bind(r.url.clone())
    .bind(r.file_name.clone())
    .bind(r.media_type.clone())
    .bind(r.size)
    .bind(r.sha256.clone())
    .bind(json(&r.fields))
    .bind(r.row_count)
    .bind(r.state.as_str())
    .bind(json(&r.findings))
    .bind(json(&r.treatments))
    .bind(json(&r.quasi))
    .bind(r.k)
    .bind(json(&r.column_types))
    .bind(r.changed_by.clone())
    .bind(r.published_by.clone())
    .bind(r.downloads)
    .bind(r.created_at)
    .bind(r.modified_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Writes every changing field of a resource.
pub async fn update_resource<'e>(db: impl Exec<'e>, r: &Resource) -> AppResult<()> {
    sqlx::query(
        "UPDATE open_resources SET position = $2, name = $3, description = $4, format = $5, \
         url = $6, file_name = $7, media_type = $8, size = $9, sha256 = $10, fields = $11, \
         row_count = $12, state = $13, findings = $14, treatments = $15, quasi = $16, k = $17, \
         changed_by = $18, published_by = $19, modified_at = $20, column_types = $21 WHERE id = $1",
    )
    .bind(r.id.clone())
    .bind(r.position)
    .bind(r.name.clone())
    .bind(r.description.clone())
    .bind(r.format.clone())
    .bind(r.url.clone())
    .bind(r.file_name.clone())
    .bind(r.media_type.clone())
    .bind(r.size)
    .bind(r.sha256.clone())
    .bind(json(&r.fields))
    .bind(r.row_count)
    .bind(r.state.as_str())
    .bind(json(&r.findings))
    .bind(json(&r.treatments))
    .bind(json(&r.quasi))
    .bind(r.k)
    .bind(r.changed_by.clone())
    .bind(r.published_by.clone())
    .bind(r.modified_at)
    .bind(json(&r.column_types))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn resource<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<Resource>> {
    let row: Option<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM open_resources WHERE id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?;
    row.map(Resource::try_from).transpose()
}

pub async fn resources_of<'e>(db: impl Exec<'e>, dataset_id: &str) -> AppResult<Vec<Resource>> {
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM open_resources WHERE dataset_id = $1 \
         ORDER BY position, id"
    )))
    .bind(dataset_id.to_owned())
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Resource::try_from).collect()
}

/// The resources of every active dataset, by dataset and position.
pub async fn active_resources<'e>(db: impl Exec<'e>) -> AppResult<Vec<Resource>> {
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM open_resources WHERE dataset_id IN \
         (SELECT id FROM open_datasets WHERE state = 'active') ORDER BY dataset_id, position, id"
    )))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Resource::try_from).collect()
}

pub async fn delete_resource<'e>(db: impl Exec<'e>, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM open_resources WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_download<'e>(db: impl Exec<'e>, id: &str) -> AppResult<()> {
    sqlx::query("UPDATE open_resources SET downloads = downloads + 1 WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

// ---- files

/// The raw upload (sealed) or the served file of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Raw,
    Served,
}

impl FileKind {
    fn as_str(self) -> &'static str {
        match self {
            FileKind::Raw => "raw",
            FileKind::Served => "served",
        }
    }
}

impl FileKind {
    /// What a file of this kind is sealed under, part by part: a raw upload may hold personal
    /// data until it is treated; a served file is what the public downloads.
    pub fn sealed(self) -> bool {
        self == FileKind::Raw
    }
}

/// Stores one part of a file (a part is written once).
pub async fn put_part<'e>(
    db: impl Exec<'e>,
    file_id: &str,
    seq: i64,
    content: Vec<u8>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO open_file_parts (file_id, seq, content, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(file_id.to_owned())
    .bind(seq)
    .bind(content)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// One part of a file, `None` past its last.
pub async fn part<'e>(db: impl Exec<'e>, file_id: &str, seq: i64) -> AppResult<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT content FROM open_file_parts WHERE file_id = $1 AND seq = $2")
            .bind(file_id.to_owned())
            .bind(seq)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(content,)| content))
}

/// Removes a file's parts (an upload that failed, or one replaced).
pub async fn drop_parts<'e>(db: impl Exec<'e>, file_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM open_file_parts WHERE file_id = $1")
        .bind(file_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Makes a stored file the resource's file of a kind (the one before must be deleted first).
pub async fn attach_file<'e>(
    db: impl Exec<'e>,
    resource_id: &str,
    kind: FileKind,
    file_id: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO open_file_refs (resource_id, kind, file_id) VALUES ($1, $2, $3)")
        .bind(resource_id.to_owned())
        .bind(kind.as_str())
        .bind(file_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// The file of a kind a resource has.
pub async fn file_id<'e>(
    db: impl Exec<'e>,
    resource_id: &str,
    kind: FileKind,
) -> AppResult<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT file_id FROM open_file_refs WHERE resource_id = $1 AND kind = $2")
            .bind(resource_id.to_owned())
            .bind(kind.as_str())
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// Whether a resource names the file.
pub async fn is_attached<'e>(db: impl Exec<'e>, file_id: &str) -> AppResult<bool> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT resource_id FROM open_file_refs WHERE file_id = $1")
            .bind(file_id.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(row.is_some())
}

/// Deletes one file of a resource, or all of them (`None`), with their parts.
pub async fn delete_files(
    tx: &mut crate::db::Tx<'_>,
    resource_id: &str,
    kind: Option<FileKind>,
) -> AppResult<()> {
    let kind = kind.map_or("", FileKind::as_str);
    sqlx::query(
        "DELETE FROM open_file_parts WHERE file_id IN \
         (SELECT file_id FROM open_file_refs WHERE resource_id = $1 AND ($2 = '' OR kind = $2))",
    )
    .bind(resource_id.to_owned())
    .bind(kind)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM open_file_refs WHERE resource_id = $1 AND ($2 = '' OR kind = $2)")
        .bind(resource_id.to_owned())
        .bind(kind)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes the parts no resource names that were written before `before`: uploads a crash or
/// a lost connection left behind.
pub async fn sweep_parts<'e>(db: impl Exec<'e>, before: i64) -> AppResult<u64> {
    let done = sqlx::query(
        "DELETE FROM open_file_parts WHERE created_at < $1 \
         AND file_id NOT IN (SELECT file_id FROM open_file_refs)",
    )
    .bind(before)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

// ---- the datastore

/// The datastore table of a resource: its id without hyphens, so the name is always safe.
fn table_name(resource_id: &str) -> AppResult<String> {
    let hex: String = resource_id.chars().filter(|c| *c != '-').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a resource id that cannot name a table"
        )));
    }
    Ok(format!("ods_{}", hex.to_ascii_lowercase()))
}

/// A comment naming the column types, written into every statement on a datastore table: a
/// table made again with other types (a publisher's retyping) gets new statement texts, so
/// no connection reuses a statement prepared for the old types.
fn shape(fields: &[Field]) -> String {
    let letters: String = fields
        .iter()
        .map(|f| match f.kind {
            ColumnType::Integer => 'i',
            ColumnType::Number => 'n',
            ColumnType::Date => 'd',
            ColumnType::Text => 't',
        })
        .collect();
    format!("/* {letters} */")
}

fn sql_type(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::Integer => "BIGINT",
        ColumnType::Number => "DOUBLE PRECISION",
        ColumnType::Date | ColumnType::Text => "TEXT",
    }
}

/// Makes a resource's datastore table afresh (an older one is dropped).
pub async fn create_datastore(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    resource_id: &str,
    fields: &[Field],
) -> AppResult<()> {
    create_table(tx, engine, &table_name(resource_id)?, fields).await
}

/// The table a resource's datastore is loaded into before it replaces the one queries read.
fn loading_name(resource_id: &str) -> AppResult<String> {
    Ok(table_name(resource_id)?.replacen("ods_", "odl_", 1))
}

/// Makes a resource's loading table afresh.
pub async fn create_loading(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    resource_id: &str,
    fields: &[Field],
) -> AppResult<()> {
    create_table(tx, engine, &loading_name(resource_id)?, fields).await
}

/// Loads rows into a resource's loading table.
pub async fn load_loading(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    resource_id: &str,
    fields: &[Field],
    rows: &[Vec<String>],
    first_id: i64,
) -> AppResult<()> {
    insert_rows(
        tx,
        engine,
        &loading_name(resource_id)?,
        fields,
        rows,
        first_id,
    )
    .await
}

/// Makes the loading table the resource's datastore table (the one before is dropped).
pub async fn swap_loading(tx: &mut crate::db::Tx<'_>, resource_id: &str) -> AppResult<()> {
    let (live, loading) = (table_name(resource_id)?, loading_name(resource_id)?);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {live}")))
        .execute(&mut **tx)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {loading} RENAME TO {live}"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn drop_loading<'e>(db: impl Exec<'e>, resource_id: &str) -> AppResult<()> {
    let table = loading_name(resource_id)?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(db)
        .await?;
    Ok(())
}

async fn create_table(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    table: &str,
    fields: &[Field],
) -> AppResult<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
        .execute(&mut **tx)
        .await?;
    let columns: String = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!(", c{i} {}", sql_type(f.kind)))
        .collect();
    // On SQLite `_id` is the row id itself (INTEGER PRIMARY KEY), so an index on a column
    // holds rows in `_id` order within each value: a filter pages without sorting.
    let id_type = match engine {
        crate::db::Engine::Sqlite => "INTEGER",
        crate::db::Engine::Postgres => "BIGINT",
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {table} (_id {id_type} PRIMARY KEY, _full TEXT NOT NULL{columns})"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Drops a resource's datastore table, and a loading table a failure may have left.
pub async fn drop_datastore(tx: &mut crate::db::Tx<'_>, resource_id: &str) -> AppResult<()> {
    for table in [table_name(resource_id)?, loading_name(resource_id)?] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {table}")))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Loads rows (cells as text, already checked against the fields' types) into a resource's
/// datastore table, numbered from `first_id`, in multi-row statements.
pub async fn load_datastore(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    resource_id: &str,
    fields: &[Field],
    rows: &[Vec<String>],
    first_id: i64,
) -> AppResult<()> {
    insert_rows(
        tx,
        engine,
        &table_name(resource_id)?,
        fields,
        rows,
        first_id,
    )
    .await
}

async fn insert_rows(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    table: &str,
    fields: &[Field],
    rows: &[Vec<String>],
    first_id: i64,
) -> AppResult<()> {
    let width = fields.len() + 2;
    // About a thousand parameters a statement, so that a million rows are a few thousand
    // statements. On SQLite they are written `?` (in order): SQLite finds a numbered
    // parameter (`$n`) by reading the list of names, which makes binding cost the square of
    // the parameters.
    let per_statement = (1024 / width).clamp(1, 256);
    let positional = engine == crate::db::Engine::Sqlite;
    let column_list: String = (0..fields.len()).map(|i| format!(", c{i}")).collect();
    let statement = |rows: usize| {
        let mut sql = format!(
            "INSERT INTO {table} {} (_id, _full{column_list}) VALUES ",
            shape(fields)
        );
        let mut n = 0;
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                n += 1;
                if positional {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${n}"));
                }
            }
            sql.push(')');
        }
        sql
    };
    // The same text for every full chunk, so the connection prepares it once.
    let full = statement(per_statement);
    for (chunk_index, chunk) in rows.chunks(per_statement).enumerate() {
        let sql = if chunk.len() == per_statement {
            full.clone()
        } else {
            statement(chunk.len())
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (r, row) in chunk.iter().enumerate() {
            let id = first_id + (chunk_index * per_statement + r) as i64;
            query = query.bind(id).bind(full_text(row));
            for (field, cell) in fields.iter().zip(row) {
                query = match (field.kind, cell.is_empty()) {
                    (ColumnType::Integer, false) => query.bind(cell.parse::<i64>().ok()),
                    (ColumnType::Number, false) => query.bind(cell.parse::<f64>().ok()),
                    (ColumnType::Integer, true) => query.bind(None::<i64>),
                    (ColumnType::Number, true) => query.bind(None::<f64>),
                    (_, true) => query.bind(None::<String>),
                    (_, false) => query.bind(cell.clone()),
                };
            }
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Indexes a loaded datastore table on the columns filters ask for: text, dates and
/// integers (at most 16), once its rows are in (faster than keeping indexes while rows
/// arrive), each index in a transaction of its own; an index already there is kept.
pub async fn index_datastore(
    db: &sqlx::AnyPool,
    resource_id: &str,
    fields: &[Field],
) -> AppResult<()> {
    let table = table_name(resource_id)?;
    for (i, _) in fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind != ColumnType::Number)
        .take(16)
    {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE INDEX IF NOT EXISTS {table}_c{i} ON {table} (c{i})"
        )))
        .execute(db)
        .await?;
    }
    Ok(())
}

/// A row's text as `q` searches it: every cell, lower-cased.
pub fn full_text(row: &[String]) -> String {
    row.join("\u{1f}").to_lowercase()
}

/// A value a datastore filter compares with, typed as its column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Number(f64),
    Text(String),
}

/// A query of one resource's datastore, checked against its fields (indexes into them).
#[derive(Debug, Clone, Default)]
pub struct DatastoreQuery {
    /// (field index, values: any of them matches).
    pub filters: Vec<(usize, Vec<Value>)>,
    /// Lower-cased text every row returned contains.
    pub q: Option<String>,
    /// (field index, descending).
    pub sort: Vec<(usize, bool)>,
    /// The fields returned (indexes), in order.
    pub fields: Vec<usize>,
    pub limit: i64,
    pub offset: i64,
    /// Only rows after this `_id` (keyset paging of an export in `_id` order).
    pub after: Option<i64>,
    /// Whether to count every matching row (CKAN's `include_total`).
    pub include_total: bool,
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn bind_value<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    value: &Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    match value {
        Value::Int(v) => query.bind(*v),
        Value::Number(v) => query.bind(*v),
        Value::Text(v) => query.bind(v.clone()),
    }
}

/// The rows a query finds (each as `_id` and the asked fields' values, JSON-typed) and, when
/// asked, how many match in all.
pub async fn search_datastore<'e, E: Exec<'e> + Copy>(
    db: E,
    resource_id: &str,
    all: &[Field],
    query: &DatastoreQuery,
) -> AppResult<(Option<i64>, Vec<serde_json::Map<String, serde_json::Value>>)> {
    let table = table_name(resource_id)?;
    let mut conditions: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    for (field, wanted) in &query.filters {
        let mut any = Vec::new();
        for value in wanted {
            values.push(value.clone());
            any.push(format!("c{field} = ${}", values.len()));
        }
        conditions.push(format!("({})", any.join(" OR ")));
    }
    if let Some(q) = &query.q {
        values.push(Value::Text(escape_like(q)));
        conditions.push(format!("_full LIKE ${} ESCAPE '\\'", values.len()));
    }
    if let Some(after) = query.after {
        values.push(Value::Int(after));
        conditions.push(format!("_id > ${}", values.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let total = if query.include_total {
        let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) {} FROM {table}{filter}",
            shape(all)
        )));
        for value in &values {
            count = match value {
                Value::Int(v) => count.bind(*v),
                Value::Number(v) => count.bind(*v),
                Value::Text(v) => count.bind(v.clone()),
            };
        }
        Some(count.fetch_one(db).await?.0)
    } else {
        None
    };
    let order: Vec<String> = query
        .sort
        .iter()
        .map(|(field, desc)| format!("c{field} {}", if *desc { "DESC" } else { "ASC" }))
        .chain(std::iter::once("_id ASC".to_owned()))
        .collect();
    let selected: String = query.fields.iter().map(|i| format!(", c{i}")).collect();
    let sql = format!(
        "SELECT _id{selected} {} FROM {table}{filter} ORDER BY {} LIMIT {} OFFSET {}",
        shape(all),
        order.join(", "),
        query.limit.max(0),
        query.offset.max(0)
    );
    let mut select = sqlx::query(sqlx::AssertSqlSafe(sql));
    for value in &values {
        select = bind_value(select, value);
    }
    let rows = select.fetch_all(db).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let mut record = serde_json::Map::new();
        record.insert("_id".into(), row.try_get::<i64, _>(0)?.into());
        for (position, &field) in query.fields.iter().enumerate() {
            let Some(meta) = all.get(field) else { continue };
            let at = position + 1;
            let value = match meta.kind {
                ColumnType::Integer => row
                    .try_get::<Option<i64>, _>(at)?
                    .map_or(serde_json::Value::Null, Into::into),
                ColumnType::Number => row
                    .try_get::<Option<f64>, _>(at)?
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                ColumnType::Date | ColumnType::Text => row
                    .try_get::<Option<String>, _>(at)?
                    .map_or(serde_json::Value::Null, Into::into),
            };
            record.insert(meta.id.clone(), value);
        }
        records.push(record);
    }
    Ok((total, records))
}

/// How many rows hold each value of a column (its text; empty cells are not counted), when
/// it has at most `limit` distinct values; `None` when it has more.
pub async fn value_counts<'e>(
    db: impl Exec<'e>,
    resource_id: &str,
    fields: &[Field],
    column: usize,
    limit: usize,
) -> AppResult<Option<HashMap<String, i64>>> {
    let table = table_name(resource_id)?;
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(c{column} AS TEXT), COUNT(*) {} FROM {table} WHERE c{column} IS NOT NULL \
         GROUP BY c{column} LIMIT {}",
        shape(fields),
        limit + 1
    )))
    .fetch_all(db)
    .await?;
    if rows.len() > limit {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .filter_map(|(value, n)| Some((value?, n)))
            .collect(),
    ))
}

/// A filter value as [`value_counts`] names it.
pub fn value_key(value: &Value) -> Option<String> {
    match value {
        Value::Int(v) => Some(v.to_string()),
        Value::Text(v) => Some(v.clone()),
        Value::Number(_) => None,
    }
}

/// A datastore value as the text of a cell (null is empty).
pub fn cell_text(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

// ---- harvest sources

pub async fn insert_harvest_source<'e>(
    db: impl Exec<'e>,
    source: &crate::model::HarvestSource,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO open_harvest_sources (id, department_id, url, created_by, created_at, \
         last_run_at, last_status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(source.id.clone())
    .bind(source.department_id.clone())
    .bind(source.url.clone())
    .bind(source.created_by.clone())
    .bind(source.created_at)
    .bind(source.last_run_at)
    .bind(source.last_status.clone())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn harvest_sources<'e>(db: impl Exec<'e>) -> AppResult<Vec<crate::model::HarvestSource>> {
    Ok(sqlx::query_as(
        "SELECT id, department_id, url, created_by, created_at, last_run_at, last_status \
         FROM open_harvest_sources ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?)
}

pub async fn record_harvest<'e>(
    db: impl Exec<'e>,
    id: &str,
    at: i64,
    status: &str,
) -> AppResult<()> {
    sqlx::query("UPDATE open_harvest_sources SET last_run_at = $2, last_status = $3 WHERE id = $1")
        .bind(id.to_owned())
        .bind(at)
        .bind(status.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// (remote IRI, local dataset id) of what a source brought.
pub async fn harvested<'e>(db: impl Exec<'e>, source_id: &str) -> AppResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT remote_iri, dataset_id FROM open_harvested WHERE source_id = $1")
            .bind(source_id.to_owned())
            .fetch_all(db)
            .await?,
    )
}

pub async fn insert_harvested<'e>(
    db: impl Exec<'e>,
    source_id: &str,
    iri: &str,
    dataset_id: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO open_harvested (source_id, remote_iri, dataset_id) VALUES ($1, $2, $3)",
    )
    .bind(source_id.to_owned())
    .bind(iri.to_owned())
    .bind(dataset_id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_harvested<'e>(db: impl Exec<'e>, source_id: &str, iri: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM open_harvested WHERE source_id = $1 AND remote_iri = $2")
        .bind(source_id.to_owned())
        .bind(iri.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// An upload waiting for a second person to publish it: resource, its name, the dataset's URL
/// name and title, who last changed it, when.
pub type WaitingUpload = (String, String, String, String, String, i64);

/// The uploads of `department`'s datasets waiting in review, oldest first.
pub async fn uploads_in_review<'e>(
    db: impl Exec<'e>,
    department: &str,
) -> AppResult<Vec<WaitingUpload>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.name, d.name, d.title, r.changed_by, r.modified_at FROM open_resources r \
         JOIN open_datasets d ON d.id = r.dataset_id \
         WHERE d.department_id = $1 AND r.state = 'review' ORDER BY r.modified_at, r.id",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}
