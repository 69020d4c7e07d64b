//! SQL of certificate types, their issuers and issued certificates.

use sqlx::FromRow;

use crate::error::AppResult;
use crate::ledger::appender::{IndexRow, IndexValue};
use crate::state::AppState;
use tongban_platform::db::Exec;

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

/// A type's row: its items as JSON text.
#[derive(FromRow)]
struct CertTypeRow {
    code: String,
    name: String,
    name_en: String,
    holder_kind: String,
    items: String,
    validity_years: Option<i64>,
}

fn cert_type(row: &sqlx::any::AnyRow) -> AppResult<CertType> {
    let t = CertTypeRow::from_row(row)?;
    Ok(CertType {
        items: serde_json::from_str(&t.items)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?,
        code: t.code,
        name: t.name,
        name_en: t.name_en,
        holder_kind: t.holder_kind,
        validity_years: t.validity_years,
    })
}

pub async fn types(db: impl Exec<'_>) -> AppResult<Vec<CertType>> {
    let rows = sqlx::query("SELECT code, name, name_en, holder_kind, items, validity_years FROM cert_types ORDER BY code")
        .fetch_all(db)
        .await?;
    rows.iter().map(cert_type).collect()
}

pub async fn cert_type_by_code(db: impl Exec<'_>, code: &str) -> AppResult<Option<CertType>> {
    let row = sqlx::query("SELECT code, name, name_en, holder_kind, items, validity_years FROM cert_types WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(db)
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

pub async fn allow_issuer(
    db: impl Exec<'_>,
    type_code: &str,
    department_id: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO cert_type_issuers (type_code, department_id) VALUES ($1, $2) ON CONFLICT (type_code, department_id) DO NOTHING")
        .bind(type_code.to_owned())
        .bind(department_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Every department that issues certificates, with its code and the types it issues.
pub async fn issuers(db: impl Exec<'_>) -> AppResult<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.uscc, i.type_code FROM cert_type_issuers i JOIN departments d ON d.id = i.department_id
         WHERE d.uscc IS NOT NULL ORDER BY d.id, i.type_code",
    )
    .fetch_all(db)
    .await?)
}

pub async fn may_issue(db: impl Exec<'_>, type_code: &str, department_id: &str) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM cert_type_issuers WHERE type_code = $1 AND department_id = $2",
    )
    .bind(type_code.to_owned())
    .bind(department_id.to_owned())
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// An issued certificate as stored: the signed document sealed, the status beside it.
#[derive(sqlx::FromRow)]
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
    /// The certificate's bit in its issuer's status list for the type.
    pub status_index: Option<i64>,
}

const CERT_COLUMNS: &str = "id, type_code, holder_kind, holder_id, issuer_department, document_sealed, status, status_reason, issued_at, valid_until, status_index";

fn cert_row(row: &sqlx::any::AnyRow) -> AppResult<CertRow> {
    Ok(CertRow::from_row(row)?)
}

/// The row of a certificate as the index of its `certificate_issued` entry
/// ([`crate::ledger::service::append_indexed`]): the certificate is stored in the log's
/// transaction, so neither is ever durable without the other.
pub fn index_row(row: CertRow, source_application: Option<String>) -> IndexRow {
    IndexRow {
        table: "certificates",
        columns: &[
            "id",
            "type_code",
            "holder_kind",
            "holder_id",
            "issuer_department",
            "document_sealed",
            "status",
            "issued_at",
            "valid_until",
            "status_index",
            "source_application",
        ],
        values: vec![
            IndexValue::Text(row.id),
            IndexValue::Text(row.type_code),
            IndexValue::Text(row.holder_kind),
            IndexValue::Text(row.holder_id),
            IndexValue::Text(row.issuer_department),
            IndexValue::Bytes(row.document_sealed),
            IndexValue::Text(row.status),
            IndexValue::Int(row.issued_at),
            IndexValue::OptionalText(row.valid_until),
            IndexValue::OptionalInt(row.status_index),
            IndexValue::OptionalText(source_application),
        ],
    }
}

pub async fn of_holder(db: impl Exec<'_>, kind: &str, holder_id: &str) -> AppResult<Vec<CertRow>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM certificates WHERE holder_kind = $1 AND holder_id = $2 ORDER BY issued_at DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(cert_row).collect()
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> AppResult<Option<CertRow>> {
    let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(cert_row).transpose()
}

/// The certificate issued as the result of an application, if one was.
pub async fn issued_for_application(
    db: impl Exec<'_>,
    application_id: &str,
) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM certificates WHERE source_application = $1")
            .bind(application_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Every certificate issued for a source (an application, a case), oldest first.
pub async fn issued_for_source(db: impl Exec<'_>, source: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM certificates WHERE source_application = $1 ORDER BY issued_at, id",
    )
    .bind(source.to_owned())
    .fetch_all(db)
    .await?)
}

/// Whether the holder already has a certificate of the type from this issuer.
pub async fn count_of(db: impl Exec<'_>, type_code: &str, holder_id: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM certificates WHERE type_code = $1 AND holder_id = $2",
    )
    .bind(type_code.to_owned())
    .bind(holder_id.to_owned())
    .fetch_one(db)
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

/// Rows to one INSERT statement: SQLite looks up parameter names once per bound parameter, so
/// a statement of hundreds of parameters costs more per row than a few short ones.
const ROWS_PER_INSERT: usize = 32;

/// Inserts many certificates in one transaction.
pub async fn insert_many(state: &AppState, rows: Vec<CertRow>) -> AppResult<()> {
    let mut tx = state.pool().begin().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<CertRow> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> = (1..=10).map(|c| format!("${}", r * 10 + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO certificates (id, type_code, holder_kind, holder_id, issuer_department, document_sealed, status, issued_at, valid_until, status_index) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            query = query
                .bind(row.id)
                .bind(row.type_code)
                .bind(row.holder_kind)
                .bind(row.holder_id)
                .bind(row.issuer_department)
                .bind(row.document_sealed)
                .bind(row.status)
                .bind(row.issued_at)
                .bind(row.valid_until)
                .bind(row.status_index);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes certificates by identifier (a bulk batch whose log entry failed).
pub async fn delete_many(pool: &sqlx::AnyPool, ids: &[String]) -> AppResult<()> {
    for id in ids {
        sqlx::query("DELETE FROM certificates WHERE id = $1")
            .bind(id.clone())
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Reserves `count` bits of the department's status list for the type; returns the first.
pub async fn reserve_status_bits(
    db: impl Exec<'_>,
    department_id: &str,
    type_code: &str,
    count: i64,
) -> AppResult<i64> {
    let next: i64 = sqlx::query_scalar("INSERT INTO cert_status_lists (department_id, type_code, next_index) VALUES ($1, $2, $3) ON CONFLICT (department_id, type_code) DO UPDATE SET next_index = cert_status_lists.next_index + $3 RETURNING next_index")
        .bind(department_id.to_owned())
        .bind(type_code.to_owned())
        .bind(count)
        .fetch_one(db)
        .await?;
    Ok(next - count)
}

/// The bits a status list needs: how many are reserved, and each suspended or revoked
/// certificate's bit with its status.
pub async fn status_bits(
    state: &AppState,
    department_id: &str,
    type_code: &str,
) -> AppResult<(i64, Vec<(i64, String)>)> {
    let reserved: Option<i64> = sqlx::query_scalar(
        "SELECT next_index FROM cert_status_lists WHERE department_id = $1 AND type_code = $2",
    )
    .bind(department_id.to_owned())
    .bind(type_code.to_owned())
    .fetch_optional(state.pool())
    .await?;
    let bits: Vec<(i64, String)> = sqlx::query_as("SELECT status_index, status FROM certificates WHERE issuer_department = $1 AND type_code = $2 AND status <> 'valid' AND status_index IS NOT NULL")
        .bind(department_id.to_owned())
        .bind(type_code.to_owned())
        .fetch_all(state.pool())
        .await?;
    Ok((reserved.unwrap_or(0), bits))
}

/// The holder's newest certificate of a type that is valid now (not suspended, revoked or
/// past its validity).
pub async fn current_of_holder(
    db: impl Exec<'_>,
    kind: &str,
    holder_id: &str,
    type_code: &str,
    today: &str,
) -> AppResult<Option<CertRow>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM certificates WHERE holder_kind = $1 AND holder_id = $2 AND type_code = $3 AND status = 'valid' AND (valid_until IS NULL OR valid_until >= $4) ORDER BY issued_at DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .bind(type_code.to_owned())
        .bind(today.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(cert_row).transpose()
}

/// A service item as certificate use sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ServiceItem {
    pub code: String,
    pub name: String,
    pub department_id: String,
    /// The law or regulation that lets the department use the listed types without consent.
    pub legal_basis: Option<String>,
    pub consent_free_types: Vec<String>,
}

/// A service item's row as certificate use reads it: the consent-free types as JSON text.
#[derive(FromRow)]
struct ServiceItemRow {
    code: String,
    name: String,
    department_id: String,
    legal_basis: Option<String>,
    consent_free_types: String,
}

fn service_item(row: &sqlx::any::AnyRow) -> AppResult<ServiceItem> {
    let item = ServiceItemRow::from_row(row)?;
    Ok(ServiceItem {
        consent_free_types: serde_json::from_str(&item.consent_free_types)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?,
        code: item.code,
        name: item.name,
        department_id: item.department_id,
        legal_basis: item.legal_basis,
    })
}

pub async fn service_item_by_code(db: impl Exec<'_>, code: &str) -> AppResult<Option<ServiceItem>> {
    let row = sqlx::query("SELECT code, name, department_id, legal_basis, consent_free_types FROM service_items WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(service_item).transpose()
}

pub async fn service_items_of(
    db: impl Exec<'_>,
    department_id: &str,
) -> AppResult<Vec<ServiceItem>> {
    let rows = sqlx::query("SELECT code, name, department_id, legal_basis, consent_free_types FROM service_items WHERE department_id = $1 ORDER BY code")
        .bind(department_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(service_item).collect()
}

/// A holder's authorisation (or a department's request for one).
#[derive(Debug, Clone)]
pub struct Authorisation {
    pub id: String,
    pub holder_kind: String,
    pub holder_id: String,
    pub department_id: String,
    pub type_code: String,
    pub service_code: String,
    /// requested, granted, declined, withdrawn or used.
    pub state: String,
    pub once: bool,
    pub valid_until: Option<i64>,
    pub created_at: i64,
}

const AUTHORISATION_COLUMNS: &str = "id, holder_kind, holder_id, department_id, type_code, service_code, state, once, valid_until, created_at";

/// An authorisation's row (`AUTHORISATION_COLUMNS`); `once` is 0/1.
#[derive(FromRow)]
struct AuthorisationRow {
    id: String,
    holder_kind: String,
    holder_id: String,
    department_id: String,
    type_code: String,
    service_code: String,
    state: String,
    once: i64,
    valid_until: Option<i64>,
    created_at: i64,
}

fn authorisation(row: &sqlx::any::AnyRow) -> AppResult<Authorisation> {
    let a = AuthorisationRow::from_row(row)?;
    Ok(Authorisation {
        once: a.once != 0,
        id: a.id,
        holder_kind: a.holder_kind,
        holder_id: a.holder_id,
        department_id: a.department_id,
        type_code: a.type_code,
        service_code: a.service_code,
        state: a.state,
        valid_until: a.valid_until,
        created_at: a.created_at,
    })
}

/// The holder's authorisations for one department, type and service item in `states`, newest
/// first.
pub async fn authorisations_for(
    state: &AppState,
    a: &Authorisation,
    states: &[&str],
) -> AppResult<Vec<Authorisation>> {
    let sql = format!(
        "SELECT {AUTHORISATION_COLUMNS} FROM cert_authorisations WHERE department_id = $1 AND type_code = $2 AND service_code = $3 AND holder_id = $4 AND holder_kind = $5 ORDER BY created_at DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(a.department_id.clone())
        .bind(a.type_code.clone())
        .bind(a.service_code.clone())
        .bind(a.holder_id.clone())
        .bind(a.holder_kind.clone())
        .fetch_all(state.pool())
        .await?;
    Ok(rows
        .iter()
        .map(authorisation)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|found| states.contains(&found.state.as_str()))
        .collect())
}

pub async fn insert_authorisation(state: &AppState, a: &Authorisation) -> AppResult<()> {
    sqlx::query("INSERT INTO cert_authorisations (id, holder_kind, holder_id, department_id, type_code, service_code, state, once, valid_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(a.id.clone())
        .bind(a.holder_kind.clone())
        .bind(a.holder_id.clone())
        .bind(a.department_id.clone())
        .bind(a.type_code.clone())
        .bind(a.service_code.clone())
        .bind(a.state.clone())
        .bind(i64::from(a.once))
        .bind(a.valid_until)
        .bind(a.created_at)
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn authorisations_of_holder(
    db: impl Exec<'_>,
    kind: &str,
    holder_id: &str,
) -> AppResult<Vec<Authorisation>> {
    let sql = format!(
        "SELECT {AUTHORISATION_COLUMNS} FROM cert_authorisations WHERE holder_kind = $1 AND holder_id = $2 ORDER BY created_at DESC LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(authorisation).collect()
}

/// Moves an authorisation of the holder from `from` to `to` (with the grant's terms); false
/// when it is not the holder's or not in `from`. One statement, so two decisions at once
/// cannot both apply.
#[allow(clippy::too_many_arguments)]
pub async fn decide_authorisation(
    state: &AppState,
    id: &str,
    kind: &str,
    holder_id: &str,
    from: &str,
    to: &str,
    once: bool,
    valid_until: Option<i64>,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE cert_authorisations SET state = $5, once = $6, valid_until = $7, decided_at = $8 WHERE id = $1 AND holder_kind = $2 AND holder_id = $3 AND state = $4")
        .bind(id.to_owned())
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .bind(from.to_owned())
        .bind(to.to_owned())
        .bind(i64::from(once))
        .bind(valid_until)
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Uses up a one-time grant; false when another use took it first.
pub async fn consume_once(db: impl Exec<'_>, id: &str) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE cert_authorisations SET state = 'used' WHERE id = $1 AND state = 'granted' AND once = 1",
    )
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// One entry of a holder's usage record (用证记录).
#[derive(sqlx::FromRow)]
pub struct UseRow {
    pub id: String,
    pub holder_kind: String,
    pub holder_id: String,
    pub department_id: String,
    pub actor_id: String,
    pub service_code: String,
    pub type_code: String,
    pub certificate_id: Option<String>,
    pub cause_sealed: Vec<u8>,
    /// released or refused.
    pub outcome: String,
    /// consent or legal_basis, for a release.
    pub basis: Option<String>,
    pub at: i64,
    pub copy_expires_at: Option<i64>,
}

pub async fn insert_use(db: impl Exec<'_>, row: &UseRow) -> AppResult<()> {
    sqlx::query("INSERT INTO cert_uses (id, holder_kind, holder_id, department_id, actor_id, service_code, type_code, certificate_id, cause_sealed, outcome, basis, at, copy_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
        .bind(row.id.clone())
        .bind(row.holder_kind.clone())
        .bind(row.holder_id.clone())
        .bind(row.department_id.clone())
        .bind(row.actor_id.clone())
        .bind(row.service_code.clone())
        .bind(row.type_code.clone())
        .bind(row.certificate_id.clone())
        .bind(row.cause_sealed.clone())
        .bind(row.outcome.clone())
        .bind(row.basis.clone())
        .bind(row.at)
        .bind(row.copy_expires_at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn uses_of_holder(
    db: impl Exec<'_>,
    kind: &str,
    holder_id: &str,
) -> AppResult<Vec<UseRow>> {
    let rows = sqlx::query("SELECT id, holder_kind, holder_id, department_id, actor_id, service_code, type_code, certificate_id, cause_sealed, outcome, basis, at, copy_expires_at FROM cert_uses WHERE holder_kind = $1 AND holder_id = $2 ORDER BY at DESC LIMIT 200")
        .bind(kind.to_owned())
        .bind(holder_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(|row| Ok(UseRow::from_row(row)?)).collect()
}

/// Deletes certificate-use records made before `before`; returns how many.
pub async fn delete_uses_before(db: impl Exec<'_>, before: i64) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM cert_uses WHERE at < $1")
        .bind(before)
        .execute(db)
        .await?
        .rows_affected())
}

/// The approved basis code of a consent-free use, if any.
pub async fn consent_free_basis(
    db: impl Exec<'_>,
    service_code: &str,
    type_code: &str,
) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT basis_code FROM consent_free_approvals WHERE service_code = $1 AND type_code = $2",
    )
    .bind(service_code.to_owned())
    .bind(type_code.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Every item with its department's name and the consent-free types it lists (JSON):
/// (code, name, department name, types).
pub async fn consent_free_requests(
    db: impl Exec<'_>,
) -> AppResult<Vec<(String, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT s.code, s.name, d.name, s.consent_free_types FROM service_items s
         JOIN departments d ON d.id = s.department_id ORDER BY s.code",
    )
    .fetch_all(db)
    .await?)
}

pub async fn upsert_consent_free(
    db: impl Exec<'_>,
    service: &str,
    type_code: &str,
    basis_code: &str,
    by: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO consent_free_approvals (service_code, type_code, basis_code, approved_by, approved_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (service_code, type_code) DO UPDATE SET basis_code = $3, approved_by = $4, approved_at = $5",
    )
    .bind(service.to_owned())
    .bind(type_code.to_owned())
    .bind(basis_code.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_consent_free(
    db: impl Exec<'_>,
    service: &str,
    type_code: &str,
) -> AppResult<()> {
    sqlx::query("DELETE FROM consent_free_approvals WHERE service_code = $1 AND type_code = $2")
        .bind(service.to_owned())
        .bind(type_code.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// A certificate another region issued, kept in a holder's wallet here (`certs::elsewhere`).
#[derive(Debug, Clone, FromRow)]
pub struct ElsewhereRow {
    pub id: String,
    pub region: String,
    pub type_name: String,
    pub issuer_name: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub document_sealed: Vec<u8>,
    /// As the issuing region's status list last said.
    pub status: String,
}

const ELSEWHERE_COLUMNS: &str =
    "id, region, type_name, issuer_name, issued_on, valid_until, document_sealed, status";

/// Keeps a certificate from elsewhere for a person, once (`valid` until its list says more).
pub async fn elsewhere_keep(
    db: &sqlx::AnyPool,
    person_id: &str,
    region: &str,
    c: &tongban_certs::Certificate,
    document_sealed: Vec<u8>,
    source: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO certificates_elsewhere (id, holder_kind, holder_id, region, type_name, \
         issuer_name, issued_on, valid_until, document_sealed, source, received_at, status, \
         status_at) VALUES ($1, 'person', $2, $3, $4, $5, $6, $7, $8, $9, $10, 'valid', $10) \
         ON CONFLICT (holder_kind, holder_id, id) DO NOTHING",
    )
    .bind(c.id.clone())
    .bind(person_id.to_owned())
    .bind(region.to_owned())
    .bind(c.type_name.clone())
    .bind(c.issuer.name.clone())
    .bind(c.issued_on.clone())
    .bind(c.valid_until.clone())
    .bind(document_sealed)
    .bind(source.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn elsewhere_of_holder(
    db: &sqlx::AnyPool,
    kind: &str,
    holder: &str,
) -> AppResult<Vec<ElsewhereRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ELSEWHERE_COLUMNS} FROM certificates_elsewhere WHERE holder_kind = $1 \
         AND holder_id = $2 ORDER BY received_at DESC LIMIT 200"
    )))
    .bind(kind.to_owned())
    .bind(holder.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn elsewhere_one(
    db: &sqlx::AnyPool,
    kind: &str,
    holder: &str,
    id: &str,
) -> AppResult<Option<ElsewhereRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ELSEWHERE_COLUMNS} FROM certificates_elsewhere WHERE holder_kind = $1 \
         AND holder_id = $2 AND id = $3"
    )))
    .bind(kind.to_owned())
    .bind(holder.to_owned())
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

#[derive(FromRow)]
struct ElsewhereHeld {
    holder_kind: String,
    holder_id: String,
    #[sqlx(flatten)]
    row: ElsewhereRow,
}

/// The kept certificates not yet revoked, those whose status was read longest ago first:
/// (holder kind, holder id, row).
pub async fn elsewhere_unrevoked(
    db: &sqlx::AnyPool,
    limit: i64,
) -> AppResult<Vec<(String, String, ElsewhereRow)>> {
    let rows: Vec<ElsewhereHeld> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT holder_kind, holder_id, {ELSEWHERE_COLUMNS} FROM certificates_elsewhere \
         WHERE status <> 'revoked' ORDER BY status_at LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.holder_kind, r.holder_id, r.row))
        .collect())
}

pub async fn elsewhere_set_status(
    db: &sqlx::AnyPool,
    (kind, holder, id): (&str, &str, &str),
    status: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE certificates_elsewhere SET status = $1, status_at = $2 \
         WHERE holder_kind = $3 AND holder_id = $4 AND id = $5",
    )
    .bind(status.to_owned())
    .bind(now)
    .bind(kind.to_owned())
    .bind(holder.to_owned())
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}
