//! SQL for regions, departments and administrative events.

use serde::Serialize;
use sqlx::FromRow;
use sqlx::any::AnyRow;
use tongban_core::RegionCode;

use crate::db::Exec;
use crate::error::AppResult;
use crate::identity::model::{Role, Scope};

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
    /// The region the event concerns (none for events recorded before regions were kept).
    pub region_code: Option<String>,
}

pub async fn insert_event<'e>(db: impl Exec<'e>, event: &AdminEvent) -> AppResult<()> {
    sqlx::query("INSERT INTO admin_events (id, at, actor_id, action, target, detail, region_code) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(event.id.clone())
        .bind(event.at)
        .bind(event.actor_id.clone())
        .bind(event.action.clone())
        .bind(event.target.clone())
        .bind(event.detail.clone())
        .bind(event.region_code.clone())
        .execute(db)
        .await?;
    Ok(())
}

/// Which administrative events to read: of one action, by one actor, within `[from, to)`
/// (Unix milliseconds); each condition applies when given.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The latest events that pass the filter, newest first.
pub async fn events(
    db: impl Exec<'_>,
    filter: &EventFilter,
    limit: i64,
) -> AppResult<Vec<AdminEvent>> {
    let rows = sqlx::query(
        "SELECT id, at, actor_id, action, target, detail, region_code FROM admin_events
         WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR actor_id = $2)
           AND ($3 IS NULL OR at >= $3) AND ($4 IS NULL OR at < $4)
         ORDER BY at DESC, id DESC LIMIT $5",
    )
    .bind(filter.action.clone())
    .bind(filter.actor_id.clone())
    .bind(filter.from)
    .bind(filter.to)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok(AdminEvent::from_row(row)?))
        .collect()
}

/// A request for a grant that needs a second administrator.
#[derive(sqlx::FromRow)]
pub struct GrantRequestRow {
    pub id: String,
    pub account_id: String,
    pub role: String,
    pub scope_kind: String,
    pub scope_id: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
}

impl GrantRequestRow {
    pub fn role(&self) -> AppResult<Role> {
        self.role.parse().map_err(|_| {
            crate::error::AppError::Internal(anyhow::anyhow!("a stored role does not parse"))
        })
    }

    /// The scope asked for, as a grant would hold it.
    pub async fn scope(&self, state: &crate::state::AppState) -> AppResult<Scope> {
        Ok(match self.scope_kind.as_str() {
            "region" => Scope::Region {
                code: crate::identity::store::parse_stored_region(&self.scope_id)?,
            },
            "department" => {
                let department = department(state.pool(), &self.scope_id)
                    .await?
                    .ok_or(crate::error::AppError::NotFound)?;
                Scope::Department {
                    id: department.id,
                    region: department.region_code,
                }
            }
            _ => Scope::Own,
        })
    }
}

const GRANT_REQUEST_COLUMNS: &str =
    "id, account_id, role, scope_kind, scope_id, requested_by, requested_at, decided_at";

pub async fn insert_grant_request<'e>(
    db: impl Exec<'e>,
    id: &str,
    account_id: &str,
    role: Role,
    scope: &Scope,
    requested_by: &str,
    now: i64,
) -> AppResult<()> {
    let (scope_id, region) = match scope {
        Scope::Region { code } => (code.as_str().to_owned(), code.as_str().to_owned()),
        Scope::Department { id, region } => (id.clone(), region.as_str().to_owned()),
        Scope::Own => (account_id.to_owned(), String::new()),
    };
    sqlx::query(
        "INSERT INTO grant_requests (id, account_id, role, scope_kind, scope_id, region_code, requested_by, requested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.to_owned())
    .bind(account_id.to_owned())
    .bind(role.as_str())
    .bind(scope.kind())
    .bind(scope_id)
    .bind(region)
    .bind(requested_by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn grant_request(db: impl Exec<'_>, id: &str) -> AppResult<Option<GrantRequestRow>> {
    let sql = format!("SELECT {GRANT_REQUEST_COLUMNS} FROM grant_requests WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?)
}

/// Undecided requests, oldest first (at most 500).
pub async fn open_grant_requests(db: impl Exec<'_>) -> AppResult<Vec<GrantRequestRow>> {
    let sql = format!(
        "SELECT {GRANT_REQUEST_COLUMNS} FROM grant_requests WHERE decided_at IS NULL ORDER BY requested_at LIMIT 500"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await?)
}

/// Decides an open request by someone other than its requester; false when that does not hold.
pub async fn decide_grant_request<'e>(
    db: impl Exec<'e>,
    id: &str,
    by: &str,
    approve: bool,
    now: i64,
) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE grant_requests SET decided_by = $2, decided_at = $3, outcome = $4
         WHERE id = $1 AND decided_at IS NULL AND requested_by <> $2",
    )
    .bind(id.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .bind(if approve { "approved" } else { "refused" })
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
