//! SQL for regions, departments and administrative events.

use serde::Serialize;
use sqlx::FromRow;
use sqlx::any::AnyRow;
use tongban_core::RegionCode;

use crate::db::Exec;
use crate::error::AppResult;

/// A node of the region tree (national → province → prefecture → county → township → village).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct Region {
    #[schema(value_type = String)]
    #[sqlx(try_from = "String")]
    pub code: RegionCode,
    pub parent_code: Option<String>,
    pub level: String,
    pub name: String,
    pub name_en: String,
}

fn region_from_row(row: &AnyRow) -> AppResult<Region> {
    Ok(Region::from_row(row)?)
}

pub async fn insert_region<'e>(db: impl Exec<'e>, region: &Region, now: i64) -> AppResult<()> {
    sqlx::query("INSERT INTO regions (code, parent_code, level, name, name_en, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(region.code.as_str().to_owned())
        .bind(region.parent_code.clone())
        .bind(region.level.clone())
        .bind(region.name.clone())
        .bind(region.name_en.clone())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn region(db: impl Exec<'_>, code: &str) -> AppResult<Option<Region>> {
    let row =
        sqlx::query("SELECT code, parent_code, level, name, name_en FROM regions WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(db)
            .await?;
    row.as_ref().map(region_from_row).transpose()
}

pub async fn regions(db: impl Exec<'_>) -> AppResult<Vec<Region>> {
    let rows =
        sqlx::query("SELECT code, parent_code, level, name, name_en FROM regions ORDER BY code")
            .fetch_all(db)
            .await?;
    rows.iter().map(region_from_row).collect()
}

/// A government department (政府部门) of one region.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct Department {
    pub id: String,
    #[schema(value_type = String)]
    #[sqlx(try_from = "String")]
    pub region_code: RegionCode,
    pub name: String,
    pub name_en: String,
    /// What the department does: `government_services`, `health`, `public_security`,
    /// `market_regulation`, `human_resources`, or another short code.
    pub kind: String,
    pub uscc: Option<String>,
}

fn department_from_row(row: &AnyRow) -> AppResult<Department> {
    Ok(Department::from_row(row)?)
}

pub async fn insert_department<'e>(
    db: impl Exec<'e>,
    department: &Department,
    now: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO departments (id, region_code, name, name_en, kind, uscc, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(department.id.clone())
        .bind(department.region_code.as_str().to_owned())
        .bind(department.name.clone())
        .bind(department.name_en.clone())
        .bind(department.kind.clone())
        .bind(department.uscc.clone())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn department(db: impl Exec<'_>, id: &str) -> AppResult<Option<Department>> {
    let row = sqlx::query(
        "SELECT id, region_code, name, name_en, kind, uscc FROM departments WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?;
    row.as_ref().map(department_from_row).transpose()
}

pub async fn department_by_uscc(db: impl Exec<'_>, uscc: &str) -> AppResult<Option<Department>> {
    let row = sqlx::query(
        "SELECT id, region_code, name, name_en, kind, uscc FROM departments WHERE uscc = $1",
    )
    .bind(uscc.to_owned())
    .fetch_optional(db)
    .await?;
    row.as_ref().map(department_from_row).transpose()
}

pub async fn departments(db: impl Exec<'_>) -> AppResult<Vec<Department>> {
    let rows = sqlx::query("SELECT id, region_code, name, name_en, kind, uscc FROM departments ORDER BY region_code, name")
        .fetch_all(db)
        .await?;
    rows.iter().map(department_from_row).collect()
}

/// One administrative action, for the audit administrator.
#[derive(sqlx::FromRow, Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AdminEvent {
    pub id: String,
    pub at: i64,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

pub async fn insert_event<'e>(db: impl Exec<'e>, event: &AdminEvent) -> AppResult<()> {
    sqlx::query("INSERT INTO admin_events (id, at, actor_id, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(event.id.clone())
        .bind(event.at)
        .bind(event.actor_id.clone())
        .bind(event.action.clone())
        .bind(event.target.clone())
        .bind(event.detail.clone())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn events(db: impl Exec<'_>, limit: i64) -> AppResult<Vec<AdminEvent>> {
    let rows = sqlx::query("SELECT id, at, actor_id, action, target, detail FROM admin_events ORDER BY at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| Ok(AdminEvent::from_row(row)?))
        .collect()
}
