//! The catalogue's tables: resources and their items, requests and grants.

use sqlx::AnyPool;
use tongban_platform::db::Exec;

use super::model::{DataItem, OpenType, Resource, ShareType};
use crate::error::{AppError, AppResult};

#[derive(sqlx::FromRow)]
struct ResourceRow {
    code: String,
    name: String,
    department_id: String,
    department_name: String,
    description: String,
    share_type: String,
    share_conditions: Option<String>,
    legal_basis: Option<String>,
    open_type: String,
    update_cycle: String,
    format: String,
    service: Option<String>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    resource_code: String,
    code: String,
    name: String,
    kind: String,
    length: Option<i64>,
    personal: Option<String>,
}

const RESOURCE_SELECT: &str = "SELECT r.code, r.name, r.department_id, d.name AS department_name, r.description, r.share_type, r.share_conditions, r.legal_basis, r.open_type, r.update_cycle, r.format, r.service, r.version FROM data_resources r JOIN departments d ON d.id = r.department_id";

fn broken(what: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("a stored resource has an unknown {what}"))
}

async fn with_items(db: &AnyPool, rows: Vec<ResourceRow>) -> AppResult<Vec<Resource>> {
    let items: Vec<ItemRow> = sqlx::query_as(
        "SELECT resource_code, code, name, kind, length, personal FROM data_items ORDER BY resource_code, position",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Resource {
                items: items
                    .iter()
                    .filter(|i| i.resource_code == row.code)
                    .map(|i| DataItem {
                        code: i.code.clone(),
                        name: i.name.clone(),
                        kind: i.kind.clone(),
                        length: i.length,
                        personal: i.personal.clone(),
                    })
                    .collect(),
                share_type: ShareType::parse(&row.share_type)
                    .ok_or_else(|| broken("share type"))?,
                open_type: OpenType::parse(&row.open_type).ok_or_else(|| broken("open type"))?,
                code: row.code,
                name: row.name,
                department_id: row.department_id,
                department_name: row.department_name,
                description: row.description,
                share_conditions: row.share_conditions,
                legal_basis: row.legal_basis,
                update_cycle: row.update_cycle,
                format: row.format,
                service: row.service,
                version: row.version,
            })
        })
        .collect()
}

/// Every resource, by code.
pub async fn resources(db: &AnyPool) -> AppResult<Vec<Resource>> {
    let sql = format!("{RESOURCE_SELECT} ORDER BY r.code");
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await?;
    with_items(db, rows).await
}

pub async fn resource(db: &AnyPool, code: &str) -> AppResult<Option<Resource>> {
    let sql = format!("{RESOURCE_SELECT} WHERE r.code = $1");
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code.to_owned())
        .fetch_all(db)
        .await?;
    Ok(with_items(db, rows).await?.into_iter().next())
}

/// Writes a resource and its items whole (a new version when it exists).
pub async fn save_resource(
    pool: &AnyPool,
    resource: &Resource,
    by: &str,
    now: i64,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM data_items WHERE resource_code = $1")
        .bind(resource.code.clone())
        .execute(&mut *tx)
        .await?;
    let updated = sqlx::query("UPDATE data_resources SET name = $2, description = $3, share_type = $4, share_conditions = $5, legal_basis = $6, open_type = $7, update_cycle = $8, format = $9, service = $10, version = version + 1, updated_at = $11, updated_by = $12 WHERE code = $1")
        .bind(resource.code.clone())
        .bind(resource.name.clone())
        .bind(resource.description.clone())
        .bind(resource.share_type.as_str())
        .bind(resource.share_conditions.clone())
        .bind(resource.legal_basis.clone())
        .bind(resource.open_type.as_str())
        .bind(resource.update_cycle.clone())
        .bind(resource.format.clone())
        .bind(resource.service.clone())
        .bind(now)
        .bind(by.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        sqlx::query("INSERT INTO data_resources (code, name, department_id, description, share_type, share_conditions, legal_basis, open_type, update_cycle, format, service, version, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13)")
            .bind(resource.code.clone())
            .bind(resource.name.clone())
            .bind(resource.department_id.clone())
            .bind(resource.description.clone())
            .bind(resource.share_type.as_str())
            .bind(resource.share_conditions.clone())
            .bind(resource.legal_basis.clone())
            .bind(resource.open_type.as_str())
            .bind(resource.update_cycle.clone())
            .bind(resource.format.clone())
            .bind(resource.service.clone())
            .bind(now)
            .bind(by.to_owned())
            .execute(&mut *tx)
            .await?;
    }
    for (position, item) in resource.items.iter().enumerate() {
        sqlx::query("INSERT INTO data_items (resource_code, position, code, name, kind, length, personal) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(resource.code.clone())
            .bind(position as i64)
            .bind(item.code.clone())
            .bind(item.name.clone())
            .bind(item.kind.clone())
            .bind(item.length)
            .bind(item.personal.clone())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A request as stored (items as JSON arrays).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub resource_code: String,
    pub resource_name: String,
    pub owner_department_id: String,
    pub consumer_department_id: String,
    pub consumer_department_name: String,
    pub items: String,
    pub purpose: String,
    pub legal_basis: String,
    pub service_item: Option<String>,
    pub until_day: String,
    pub state: String,
    pub requested_at: i64,
    pub decision_note: Option<String>,
    pub granted_items: Option<String>,
}

const REQUEST_SELECT: &str = "SELECT q.id, q.resource_code, r.name AS resource_name, r.department_id AS owner_department_id, q.consumer_department_id, d.name AS consumer_department_name, q.items, q.purpose, q.legal_basis, q.service_item, q.until_day, q.state, q.requested_at, q.decision_note, q.granted_items FROM data_requests q JOIN data_resources r ON r.code = q.resource_code JOIN departments d ON d.id = q.consumer_department_id";

pub struct NewRequest<'a> {
    pub id: &'a str,
    pub resource: &'a str,
    pub consumer: &'a str,
    pub items: &'a str,
    pub purpose: &'a str,
    pub legal_basis: &'a str,
    pub service_item: Option<&'a str>,
    pub until: &'a str,
    pub by: &'a str,
    pub now: i64,
}

pub async fn insert_request(db: impl Exec<'_>, request: &NewRequest<'_>) -> AppResult<()> {
    sqlx::query("INSERT INTO data_requests (id, resource_code, consumer_department_id, items, purpose, legal_basis, service_item, until_day, state, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)")
        .bind(request.id.to_owned())
        .bind(request.resource.to_owned())
        .bind(request.consumer.to_owned())
        .bind(request.items.to_owned())
        .bind(request.purpose.to_owned())
        .bind(request.legal_basis.to_owned())
        .bind(request.service_item.map(str::to_owned))
        .bind(request.until.to_owned())
        .bind(request.by.to_owned())
        .bind(request.now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn request(db: &AnyPool, id: &str) -> AppResult<Option<RequestRow>> {
    let sql = format!("{REQUEST_SELECT} WHERE q.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?)
}

/// The requests a department made or must decide, newest first (at most 500).
pub async fn requests_of(db: &AnyPool, department: &str) -> AppResult<Vec<RequestRow>> {
    let sql = format!(
        "{REQUEST_SELECT} WHERE q.consumer_department_id = $1 OR r.department_id = $1 ORDER BY q.requested_at DESC LIMIT 500"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(department.to_owned())
        .fetch_all(db)
        .await?)
}

/// Pending requests for a department's resources.
pub async fn pending_for(db: &AnyPool, owner: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM data_requests q JOIN data_resources r ON r.code = q.resource_code WHERE r.department_id = $1 AND q.state = 'pending'",
    )
    .bind(owner.to_owned())
    .fetch_one(db)
    .await?)
}

/// Pending requests by the region of the department that holds the resource.
pub async fn pending_by_region(db: &AnyPool) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT d.region_code, COUNT(*) FROM data_requests q JOIN data_resources r ON r.code = q.resource_code JOIN departments d ON d.id = r.department_id WHERE q.state = 'pending' GROUP BY d.region_code",
    )
    .fetch_all(db)
    .await?)
}

/// A move of a request from one state to another, by whom, when, with what.
pub struct Decision<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub by: &'a str,
    pub now: i64,
    pub note: Option<&'a str>,
    /// The items granted, as a JSON array.
    pub granted: Option<&'a str>,
}

/// Moves a request as decided; false when it was not in `decision.from`.
pub async fn decide(db: impl Exec<'_>, id: &str, decision: &Decision<'_>) -> AppResult<bool> {
    Ok(sqlx::query("UPDATE data_requests SET state = $3, decided_by = $4, decided_at = $5, decision_note = COALESCE($6, decision_note), granted_items = COALESCE($7, granted_items) WHERE id = $1 AND state = $2")
        .bind(id.to_owned())
        .bind(decision.from.to_owned())
        .bind(decision.to.to_owned())
        .bind(decision.by.to_owned())
        .bind(decision.now)
        .bind(decision.note.map(str::to_owned))
        .bind(decision.granted.map(str::to_owned))
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// A grant to a department of another region, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ForeignGrantRow {
    pub id: String,
    pub resource_code: String,
    pub owner_department_id: String,
    pub region_code: String,
    pub consumer_uscc: String,
    pub consumer_name: String,
    pub items: String,
    pub purpose: String,
    pub legal_basis: String,
    pub until_day: String,
    pub granted_by: String,
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
    pub revoke_note: Option<String>,
}

const FOREIGN_SELECT: &str = "SELECT g.id, g.resource_code, r.department_id AS owner_department_id, g.region_code, g.consumer_uscc, g.consumer_name, g.items, g.purpose, g.legal_basis, g.until_day, g.granted_by, g.granted_at, g.revoked_at, g.revoke_note FROM data_foreign_grants g JOIN data_resources r ON r.code = g.resource_code";

pub async fn insert_foreign_grant(db: impl Exec<'_>, row: &ForeignGrantRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO data_foreign_grants (id, resource_code, region_code, consumer_uscc, consumer_name, items, purpose, legal_basis, until_day, granted_by, granted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(row.id.clone())
    .bind(row.resource_code.clone())
    .bind(row.region_code.clone())
    .bind(row.consumer_uscc.clone())
    .bind(row.consumer_name.clone())
    .bind(row.items.clone())
    .bind(row.purpose.clone())
    .bind(row.legal_basis.clone())
    .bind(row.until_day.clone())
    .bind(row.granted_by.clone())
    .bind(row.granted_at)
    .execute(db)
    .await?;
    Ok(())
}

/// One grant to another region, by id.
pub async fn foreign_grant(db: &AnyPool, id: &str) -> AppResult<Option<ForeignGrantRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FOREIGN_SELECT} WHERE g.id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The grants to other regions of a department's resources, newest first.
pub async fn foreign_grants_of(db: &AnyPool, owner: &str) -> AppResult<Vec<ForeignGrantRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FOREIGN_SELECT} WHERE r.department_id = $1 ORDER BY g.granted_at DESC LIMIT 500"
    )))
    .bind(owner.to_owned())
    .fetch_all(db)
    .await?)
}

/// The unrevoked grants of a resource to one member of another region.
pub async fn foreign_grants_for(
    db: &AnyPool,
    region: &str,
    uscc: &str,
    resource: &str,
) -> AppResult<Vec<ForeignGrantRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FOREIGN_SELECT} WHERE g.consumer_uscc = $1 AND g.resource_code = $2 AND g.region_code = $3 AND g.revoked_at IS NULL"
    )))
    .bind(uscc.to_owned())
    .bind(resource.to_owned())
    .bind(region.to_owned())
    .fetch_all(db)
    .await?)
}

/// Revokes a grant to another region; false when it was revoked already.
pub async fn revoke_foreign_grant(
    db: impl Exec<'_>,
    id: &str,
    by: &str,
    at: i64,
    note: &str,
) -> AppResult<bool> {
    Ok(sqlx::query(
        "UPDATE data_foreign_grants SET revoked_by = $2, revoked_at = $3, revoke_note = $4 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id.to_owned())
    .bind(by.to_owned())
    .bind(at)
    .bind(note.to_owned())
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// A registered OpenAPI description of a resource's external system.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DescriptionRow {
    pub resource_code: String,
    pub document: String,
    pub endpoints: String,
    pub digest: String,
    pub updated_at: i64,
    pub updated_by: String,
}

pub async fn description(db: &AnyPool, resource: &str) -> AppResult<Option<DescriptionRow>> {
    Ok(sqlx::query_as(
        "SELECT resource_code, document, endpoints, digest, updated_at, updated_by FROM data_service_descriptions WHERE resource_code = $1",
    )
    .bind(resource.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The endpoints of every registered description, by resource.
pub async fn described_endpoints(db: &AnyPool) -> AppResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT resource_code, endpoints FROM data_service_descriptions")
            .fetch_all(db)
            .await?,
    )
}

pub async fn save_description(db: impl Exec<'_>, row: &DescriptionRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO data_service_descriptions (resource_code, document, endpoints, digest, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (resource_code) DO UPDATE SET document = excluded.document, endpoints = excluded.endpoints,
           digest = excluded.digest, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(row.resource_code.clone())
    .bind(row.document.clone())
    .bind(row.endpoints.clone())
    .bind(row.digest.clone())
    .bind(row.updated_at)
    .bind(row.updated_by.clone())
    .execute(db)
    .await?;
    Ok(())
}
