//! SQL of certificate types, their issuers and issued certificates.

use sqlx::Row;

use crate::error::AppResult;
use crate::state::AppState;

/// A certificate type of the catalogue.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CertType {
    pub code: String,
    pub name: String,
    pub name_en: String,
    /// `person` or `enterprise`.
    pub holder_kind: String,
    pub items: Vec<ItemSpec>,
    /// Years a certificate is valid; `None`: without end (长期).
    pub validity_years: Option<i64>,
}

/// One data item of a type.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ItemSpec {
    pub code: String,
    pub name: String,
    /// `text`, `date` (YYYY-MM-DD) or `list` (of texts).
    pub kind: String,
    pub required: bool,
    /// Whether the item is personal data of the holder.
    pub personal: bool,
}

fn cert_type(row: &sqlx::any::AnyRow) -> AppResult<CertType> {
    let items: String = row.try_get("items")?;
    Ok(CertType {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        name_en: row.try_get("name_en")?,
        holder_kind: row.try_get("holder_kind")?,
        items: serde_json::from_str(&items)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?,
        validity_years: row.try_get("validity_years")?,
    })
}

pub async fn types(state: &AppState) -> AppResult<Vec<CertType>> {
    let rows = sqlx::query("SELECT code, name, name_en, holder_kind, items, validity_years FROM cert_types ORDER BY code")
        .fetch_all(state.pool())
        .await?;
    rows.iter().map(cert_type).collect()
}

pub async fn cert_type_by_code(state: &AppState, code: &str) -> AppResult<Option<CertType>> {
    let row = sqlx::query("SELECT code, name, name_en, holder_kind, items, validity_years FROM cert_types WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(state.pool())
        .await?;
    row.as_ref().map(cert_type).transpose()
}

/// Adds a type (unless its code exists).
pub async fn ensure_type(state: &AppState, t: &CertType) -> AppResult<()> {
    sqlx::query("INSERT INTO cert_types (code, name, name_en, holder_kind, items, validity_years, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING")
        .bind(t.code.clone())
        .bind(t.name.clone())
        .bind(t.name_en.clone())
        .bind(t.holder_kind.clone())
        .bind(serde_json::to_string(&t.items).unwrap_or_default())
        .bind(t.validity_years)
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn allow_issuer(state: &AppState, type_code: &str, department_id: &str) -> AppResult<()> {
    sqlx::query("INSERT INTO cert_type_issuers (type_code, department_id) VALUES ($1, $2) ON CONFLICT (type_code, department_id) DO NOTHING")
        .bind(type_code.to_owned())
        .bind(department_id.to_owned())
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn may_issue(state: &AppState, type_code: &str, department_id: &str) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM cert_type_issuers WHERE type_code = $1 AND department_id = $2",
    )
    .bind(type_code.to_owned())
    .bind(department_id.to_owned())
    .fetch_optional(state.pool())
    .await?;
    Ok(found.is_some())
}

/// An issued certificate as stored: the signed document sealed, the status beside it.
pub struct CertRow {
    pub id: String,
    pub type_code: String,
    pub holder_kind: String,
    pub holder_id: String,
    pub issuer_department: String,
    pub document_sealed: Vec<u8>,
    pub status: String,
    pub status_reason: Option<String>,
    pub issued_at: i64,
    pub valid_until: Option<String>,
}

const CERT_COLUMNS: &str = "id, type_code, holder_kind, holder_id, issuer_department, document_sealed, status, status_reason, issued_at, valid_until";

fn cert_row(row: &sqlx::any::AnyRow) -> AppResult<CertRow> {
    Ok(CertRow {
        id: row.try_get("id")?,
        type_code: row.try_get("type_code")?,
        holder_kind: row.try_get("holder_kind")?,
        holder_id: row.try_get("holder_id")?,
        issuer_department: row.try_get("issuer_department")?,
        document_sealed: row.try_get("document_sealed")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        issued_at: row.try_get("issued_at")?,
        valid_until: row.try_get("valid_until")?,
    })
}

pub async fn insert(state: &AppState, row: &CertRow) -> AppResult<()> {
    insert_many(state, std::slice::from_ref(row)).await
}

pub async fn of_holder(state: &AppState, kind: &str, holder_id: &str) -> AppResult<Vec<CertRow>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM certificates WHERE holder_kind = $1 AND holder_id = $2 ORDER BY issued_at DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .fetch_all(state.pool())
        .await?;
    rows.iter().map(cert_row).collect()
}

pub async fn by_id(state: &AppState, id: &str) -> AppResult<Option<CertRow>> {
    let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(state.pool())
        .await?;
    row.as_ref().map(cert_row).transpose()
}

/// Whether the holder already has a certificate of the type from this issuer.
pub async fn count_of(state: &AppState, type_code: &str, holder_id: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM certificates WHERE type_code = $1 AND holder_id = $2",
    )
    .bind(type_code.to_owned())
    .bind(holder_id.to_owned())
    .fetch_one(state.pool())
    .await?)
}

/// Moves a certificate from one of `from` to `to`; false when it was in none of them.
pub async fn set_status(
    state: &AppState,
    id: &str,
    from: &[&str],
    to: &str,
    reason: &str,
) -> AppResult<bool> {
    let mut changed = false;
    for status in from {
        let result = sqlx::query("UPDATE certificates SET status = $3, status_reason = $4, status_changed_at = $5 WHERE id = $1 AND status = $2")
            .bind(id.to_owned())
            .bind((*status).to_owned())
            .bind(to.to_owned())
            .bind(reason.to_owned())
            .bind(state.now())
            .execute(state.pool())
            .await?;
        changed |= result.rows_affected() == 1;
    }
    Ok(changed)
}

/// Inserts many certificates in one transaction (50 rows to a statement).
pub async fn insert_many(state: &AppState, rows: &[CertRow]) -> AppResult<()> {
    let mut tx = state.pool().begin().await?;
    for chunk in rows.chunks(50) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> = (1..=9).map(|c| format!("${}", r * 9 + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO certificates (id, type_code, holder_kind, holder_id, issuer_department, document_sealed, status, issued_at, valid_until) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.id.clone())
                .bind(row.type_code.clone())
                .bind(row.holder_kind.clone())
                .bind(row.holder_id.clone())
                .bind(row.issuer_department.clone())
                .bind(row.document_sealed.clone())
                .bind(row.status.clone())
                .bind(row.issued_at)
                .bind(row.valid_until.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes certificates by identifier (a bulk batch whose log entry failed).
pub async fn delete_many(state: &AppState, ids: &[String]) -> AppResult<()> {
    for id in ids {
        sqlx::query("DELETE FROM certificates WHERE id = $1")
            .bind(id.clone())
            .execute(state.pool())
            .await?;
    }
    Ok(())
}
