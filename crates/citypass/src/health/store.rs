//! SQL of health facts, status policies and settings.

use sqlx::AnyPool;
use sqlx::FromRow;

use crate::error::AppResult;
use tongban_platform::db::Exec;
use tongban_platform::keys::vault::Vault;

#[derive(sqlx::FromRow)]
pub struct FactRow {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub value_sealed: Vec<u8>,
    pub observed_at: i64,
    pub legal_basis: String,
    pub department_id: Option<String>,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub expires_at: i64,
    /// The laboratory's sample or report number the fact rests on.
    pub evidence_ref: Option<String>,
    /// None while the fact waits for a second officer: no status reads it.
    pub confirmed_by: Option<String>,
}

const FACT_COLUMNS: &str = "id, person_id, kind, value_sealed, observed_at, legal_basis, department_id, recorded_by, recorded_at, expires_at, evidence_ref, confirmed_by";

pub async fn insert_fact(db: impl Exec<'_>, fact: &FactRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO health_facts (id, person_id, kind, value_sealed, observed_at, legal_basis, department_id, recorded_by, recorded_at, expires_at, evidence_ref, confirmed_by, confirmed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(fact.id.clone())
    .bind(fact.person_id.clone())
    .bind(fact.kind.clone())
    .bind(fact.value_sealed.clone())
    .bind(fact.observed_at)
    .bind(fact.legal_basis.clone())
    .bind(fact.department_id.clone())
    .bind(fact.recorded_by.clone())
    .bind(fact.recorded_at)
    .bind(fact.expires_at)
    .bind(fact.evidence_ref.clone())
    .bind(fact.confirmed_by.clone())
    .bind(fact.confirmed_by.as_ref().map(|_| fact.recorded_at))
    .execute(db)
    .await?;
    Ok(())
}

/// The confirmed facts of a person still within their retention, oldest first.
pub async fn facts_of(db: impl Exec<'_>, person_id: &str, now: i64) -> AppResult<Vec<FactRow>> {
    let sql = format!(
        "SELECT {FACT_COLUMNS} FROM health_facts
         WHERE person_id = $1 AND expires_at > $2 AND confirmed_at IS NOT NULL
         ORDER BY observed_at, recorded_at"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(person_id.to_owned())
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.iter().map(|row| Ok(FactRow::from_row(row)?)).collect()
}

/// [`facts_of`] for many people in one statement, in the same order within each person.
pub async fn facts_of_many(
    db: impl Exec<'_>,
    person_ids: &[String],
    now: i64,
) -> AppResult<Vec<FactRow>> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {FACT_COLUMNS} FROM health_facts
         WHERE person_id IN ({}) AND expires_at > $1 AND confirmed_at IS NOT NULL
         ORDER BY observed_at, recorded_at",
        tongban_platform::db::in_list(2, person_ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for id in person_ids {
        query = query.bind(id.clone());
    }
    let rows = query.fetch_all(db).await?;
    rows.iter().map(|row| Ok(FactRow::from_row(row)?)).collect()
}

pub async fn fact_by_id(db: impl Exec<'_>, id: &str) -> AppResult<Option<FactRow>> {
    let sql = format!("SELECT {FACT_COLUMNS} FROM health_facts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    Ok(row.as_ref().map(FactRow::from_row).transpose()?)
}

/// Facts waiting for a second officer, within retention, oldest first (at most 200).
pub async fn pending_facts(db: impl Exec<'_>, now: i64) -> AppResult<Vec<FactRow>> {
    let sql = format!(
        "SELECT {FACT_COLUMNS} FROM health_facts
         WHERE confirmed_at IS NULL AND expires_at > $1 ORDER BY recorded_at LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.iter().map(|row| Ok(FactRow::from_row(row)?)).collect()
}

/// Confirms a pending fact by someone other than its recorder; false when that does not hold.
pub async fn confirm_fact(db: impl Exec<'_>, id: &str, by: &str, now: i64) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE health_facts SET confirmed_by = $2, confirmed_at = $3
         WHERE id = $1 AND confirmed_at IS NULL AND recorded_by <> $2 AND expires_at > $3",
    )
    .bind(id.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The kind of health source a department is (`laboratory`, `hospital`), if it is one.
pub async fn health_source(db: impl Exec<'_>, department_id: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT kind FROM health_sources WHERE department_id = $1")
            .bind(department_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

pub async fn designate_source(
    db: impl Exec<'_>,
    department_id: &str,
    kind: &str,
    by: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO health_sources (department_id, kind, designated_by, designated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (department_id) DO UPDATE SET kind = $2, designated_by = $3, designated_at = $4",
    )
    .bind(department_id.to_owned())
    .bind(kind.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes facts whose retention has ended; returns how many.
pub async fn purge_facts(db: impl Exec<'_>, now: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM health_facts WHERE expires_at <= $1")
            .bind(now)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

pub async fn remove_source(db: impl Exec<'_>, department_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM health_sources WHERE department_id = $1")
        .bind(department_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct PolicyRow {
    pub version: i64,
    pub rules: String,
    pub proposed_by: String,
    pub proposed_at: i64,
    pub approved_by: Option<String>,
    /// Days after a positive test in which a fact lowering risk needs a second officer.
    pub positive_hold_days: i64,
}

const POLICY_COLUMNS: &str =
    "version, rules, proposed_by, proposed_at, approved_by, positive_hold_days";

fn policy_from_row(row: &sqlx::any::AnyRow) -> AppResult<PolicyRow> {
    Ok(PolicyRow::from_row(row)?)
}

/// The newest approved policy.
pub async fn active_policy(db: impl Exec<'_>) -> AppResult<Option<PolicyRow>> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM status_policies WHERE approved_by IS NOT NULL ORDER BY version DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(db)
        .await?;
    row.as_ref().map(policy_from_row).transpose()
}

pub async fn policy(db: impl Exec<'_>, version: i64) -> AppResult<Option<PolicyRow>> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM status_policies WHERE version = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(policy_from_row).transpose()
}

/// Proposed versions not yet approved, oldest first.
pub async fn pending_policies(db: impl Exec<'_>) -> AppResult<Vec<PolicyRow>> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM status_policies WHERE approved_by IS NULL ORDER BY version LIMIT 50"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.iter().map(policy_from_row).collect()
}

/// Stores a proposed policy under the next version number and returns it.
pub async fn insert_policy(
    pool: &AnyPool,
    rules: &str,
    positive_hold_days: i64,
    proposed_by: &str,
    approved_by: Option<&str>,
    now: i64,
) -> AppResult<i64> {
    let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM status_policies")
        .fetch_one(pool)
        .await?;
    sqlx::query("INSERT INTO status_policies (version, rules, proposed_by, proposed_at, approved_by, approved_at, positive_hold_days) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(next)
        .bind(rules.to_owned())
        .bind(proposed_by.to_owned())
        .bind(now)
        .bind(approved_by.map(str::to_owned))
        .bind(approved_by.map(|_| now))
        .bind(positive_hold_days)
        .execute(pool)
        .await?;
    Ok(next)
}

/// Approves a proposal by someone other than its proposer; false when that does not hold.
pub async fn approve_policy(
    db: impl Exec<'_>,
    version: i64,
    approver: &str,
    now: i64,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE status_policies SET approved_by = $2, approved_at = $3 WHERE version = $1 AND approved_by IS NULL AND proposed_by <> $2")
        .bind(version)
        .bind(approver.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn setting(db: impl Exec<'_>, name: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_setting(
    db: impl Exec<'_>,
    name: &str,
    value: &str,
    changed_by: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO settings (name, value, changed_by, changed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET value = $2, changed_by = $3, changed_at = $4",
    )
    .bind(name.to_owned())
    .bind(value.to_owned())
    .bind(changed_by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct SettingProposal {
    pub id: String,
    pub name: String,
    pub value: String,
    pub proposed_by: String,
    pub proposed_at: i64,
}

pub async fn insert_setting_proposal(db: impl Exec<'_>, row: &SettingProposal) -> AppResult<()> {
    sqlx::query("INSERT INTO setting_proposals (id, name, value, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(row.id.clone())
        .bind(row.name.clone())
        .bind(row.value.clone())
        .bind(row.proposed_by.clone())
        .bind(row.proposed_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Open proposals made since `since`, oldest first.
pub async fn pending_setting_proposals(
    db: impl Exec<'_>,
    since: i64,
) -> AppResult<Vec<SettingProposal>> {
    Ok(sqlx::query_as("SELECT id, name, value, proposed_by, proposed_at FROM setting_proposals WHERE approved_at IS NULL AND proposed_at > $1 ORDER BY proposed_at LIMIT 50")
        .bind(since)
        .fetch_all(db)
        .await?)
}

pub async fn setting_proposal(db: impl Exec<'_>, id: &str) -> AppResult<Option<SettingProposal>> {
    Ok(sqlx::query_as(
        "SELECT id, name, value, proposed_by, proposed_at FROM setting_proposals WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Approves an open proposal made since `since` by someone other than its proposer.
pub async fn approve_setting_proposal(
    db: impl Exec<'_>,
    id: &str,
    by: &str,
    now: i64,
    since: i64,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE setting_proposals SET approved_by = $2, approved_at = $3 WHERE id = $1 AND approved_at IS NULL AND proposed_by <> $2 AND proposed_at > $4")
        .bind(id.to_owned())
        .bind(by.to_owned())
        .bind(now)
        .bind(since)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Opens an approved proposal again (its change could not be made).
pub async fn reopen_setting_proposal(db: impl Exec<'_>, id: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE setting_proposals SET approved_by = NULL, approved_at = NULL WHERE id = $1",
    )
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// A manual colour change. Stored with its person as a keyed index (for the person's status)
/// and as the id sealed (for the approver's inbox); the store opens it, so callers see the id.
pub struct OverrideRow {
    pub id: String,
    pub person_id: String,
    pub colour: String,
    pub reason_code: String,
    pub requested_by: String,
    pub requested_at: i64,
    pub approved_by: Option<String>,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct StoredOverride {
    id: String,
    person_sealed: Option<Vec<u8>>,
    colour: String,
    reason_code: String,
    requested_by: String,
    requested_at: i64,
    approved_by: Option<String>,
    expires_at: i64,
}

const OVERRIDE_COLUMNS: &str =
    "id, person_sealed, colour, reason_code, requested_by, requested_at, approved_by, expires_at";

fn override_person_key(vault: &Vault, person_id: &str) -> String {
    vault.blind_index("override-person", person_id)
}

fn override_person_context(id: &str) -> String {
    format!("status_overrides.person/{id}")
}

fn override_from_row(vault: &Vault, row: &sqlx::any::AnyRow) -> AppResult<OverrideRow> {
    let stored = StoredOverride::from_row(row)?;
    let sealed = stored.person_sealed.ok_or_else(|| {
        crate::error::AppError::Internal(anyhow::anyhow!(
            "an override still holds its person in clear; the node rewrites it on start"
        ))
    })?;
    let person = vault.open_field(&override_person_context(&stored.id), &sealed)?;
    Ok(OverrideRow {
        person_id: String::from_utf8(person.to_vec()).map_err(|_| {
            crate::error::AppError::Internal(anyhow::anyhow!(
                "a sealed override person is not text"
            ))
        })?,
        id: stored.id,
        colour: stored.colour,
        reason_code: stored.reason_code,
        requested_by: stored.requested_by,
        requested_at: stored.requested_at,
        approved_by: stored.approved_by,
        expires_at: stored.expires_at,
    })
}

pub async fn insert_override(db: impl Exec<'_>, vault: &Vault, row: &OverrideRow) -> AppResult<()> {
    sqlx::query("INSERT INTO status_overrides (id, person_key, person_sealed, colour, reason_code, requested_by, requested_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(row.id.clone())
        .bind(override_person_key(vault, &row.person_id))
        .bind(vault.seal_field(&override_person_context(&row.id), row.person_id.as_bytes()))
        .bind(row.colour.clone())
        .bind(row.reason_code.clone())
        .bind(row.requested_by.clone())
        .bind(row.requested_at)
        .bind(row.expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Rewrites overrides an earlier version stored with the person's id in clear (those without
/// a sealed id). Runs when the node starts; a row another node rewrote first is left alone.
pub async fn key_override_persons(db: &AnyPool, vault: &Vault) -> AppResult<u64> {
    let mut rewritten = 0;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, person_key FROM status_overrides WHERE person_sealed IS NULL LIMIT 500",
        )
        .fetch_all(db)
        .await?;
        if rows.is_empty() {
            return Ok(rewritten);
        }
        for (id, person_id) in rows {
            rewritten += sqlx::query(
                "UPDATE status_overrides SET person_key = $2, person_sealed = $3 WHERE id = $1 AND person_sealed IS NULL",
            )
            .bind(id.clone())
            .bind(override_person_key(vault, &person_id))
            .bind(vault.seal_field(&override_person_context(&id), person_id.as_bytes()))
            .execute(db)
            .await?
            .rows_affected();
        }
    }
}

pub async fn override_by_id(
    db: impl Exec<'_>,
    vault: &Vault,
    id: &str,
) -> AppResult<Option<OverrideRow>> {
    let sql = format!("SELECT {OVERRIDE_COLUMNS} FROM status_overrides WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    row.as_ref()
        .map(|row| override_from_row(vault, row))
        .transpose()
}

/// Overrides waiting for a second officer, unexpired, oldest first (at most 200).
pub async fn pending_overrides(
    db: impl Exec<'_>,
    vault: &Vault,
    now: i64,
) -> AppResult<Vec<OverrideRow>> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM status_overrides WHERE approved_by IS NULL AND expires_at > $1 ORDER BY requested_at LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| override_from_row(vault, row))
        .collect()
}

/// Approves a pending override by someone other than its requester.
pub async fn approve_override(
    db: impl Exec<'_>,
    id: &str,
    approver: &str,
    now: i64,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE status_overrides SET approved_by = $2, approved_at = $3 WHERE id = $1 AND approved_by IS NULL AND requested_by <> $2 AND expires_at > $3")
        .bind(id.to_owned())
        .bind(approver.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The approved, unexpired overrides of a person, the newest approval first.
pub async fn active_overrides(
    db: impl Exec<'_>,
    vault: &Vault,
    person_id: &str,
    now: i64,
) -> AppResult<Vec<OverrideRow>> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM status_overrides WHERE person_key = $1 AND approved_by IS NOT NULL AND expires_at > $2 ORDER BY approved_at DESC, id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(override_person_key(vault, person_id))
        .bind(now)
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| override_from_row(vault, row))
        .collect()
}

/// [`active_overrides`] for many people in one statement.
pub async fn active_overrides_many(
    db: impl Exec<'_>,
    vault: &Vault,
    person_ids: &[String],
    now: i64,
) -> AppResult<Vec<OverrideRow>> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM status_overrides WHERE person_key IN ({}) AND approved_by IS NOT NULL AND expires_at > $1 ORDER BY approved_at DESC, id DESC",
        tongban_platform::db::in_list(2, person_ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for id in person_ids {
        query = query.bind(override_person_key(vault, id));
    }
    let rows = query.fetch_all(db).await?;
    rows.iter()
        .map(|row| override_from_row(vault, row))
        .collect()
}

pub async fn insert_notice(
    db: impl Exec<'_>,
    id: &str,
    person_id: &str,
    text_zh_sealed: Vec<u8>,
    text_en_sealed: Vec<u8>,
    now: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO notices (id, person_id, text_zh_sealed, text_en_sealed, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_owned())
        .bind(person_id.to_owned())
        .bind(text_zh_sealed)
        .bind(text_en_sealed)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// (id, created_at, text_zh sealed, text_en sealed), newest first.
pub async fn notices(
    db: impl Exec<'_>,
    person_id: &str,
) -> AppResult<Vec<(String, i64, Vec<u8>, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT id, created_at, text_zh_sealed, text_en_sealed FROM notices WHERE person_id = $1 ORDER BY created_at DESC LIMIT 50")
        .bind(person_id.to_owned())
        .fetch_all(db)
        .await?)
}

#[derive(sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub person_id: String,
    pub kind: String,
    pub message_sealed: Vec<u8>,
    pub created_at: i64,
    pub outcome_sealed: Option<Vec<u8>>,
}

fn request_from_row(row: &sqlx::any::AnyRow) -> AppResult<RequestRow> {
    Ok(RequestRow::from_row(row)?)
}

pub async fn insert_request(db: impl Exec<'_>, row: &RequestRow) -> AppResult<()> {
    sqlx::query("INSERT INTO status_requests (id, person_id, kind, message_sealed, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(row.id.clone())
        .bind(row.person_id.clone())
        .bind(row.kind.clone())
        .bind(row.message_sealed.clone())
        .bind(row.created_at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn requests_of(db: impl Exec<'_>, person_id: &str) -> AppResult<Vec<RequestRow>> {
    let rows = sqlx::query("SELECT id, person_id, kind, message_sealed, created_at, outcome_sealed FROM status_requests WHERE person_id = $1 ORDER BY created_at DESC")
        .bind(person_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(request_from_row).collect()
}

pub async fn open_requests(db: impl Exec<'_>) -> AppResult<Vec<RequestRow>> {
    let rows = sqlx::query("SELECT id, person_id, kind, message_sealed, created_at, outcome_sealed FROM status_requests WHERE resolved_at IS NULL ORDER BY created_at")
        .fetch_all(db)
        .await?;
    rows.iter().map(request_from_row).collect()
}

pub async fn request_by_id(db: impl Exec<'_>, id: &str) -> AppResult<Option<RequestRow>> {
    let row = sqlx::query("SELECT id, person_id, kind, message_sealed, created_at, outcome_sealed FROM status_requests WHERE id = $1").bind(id.to_owned()).fetch_optional(db).await?;
    row.as_ref().map(request_from_row).transpose()
}

pub async fn resolve_request(
    db: impl Exec<'_>,
    id: &str,
    outcome_sealed: Vec<u8>,
    by: &str,
    now: i64,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE status_requests SET outcome_sealed = $2, resolved_by = $3, resolved_at = $4 WHERE id = $1 AND resolved_at IS NULL")
        .bind(id.to_owned())
        .bind(outcome_sealed)
        .bind(by.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes notices made, and requests answered, before `before`.
pub async fn purge_notices_and_requests(pool: &AnyPool, before: i64) -> AppResult<u64> {
    let notices = sqlx::query("DELETE FROM notices WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
    let requests = sqlx::query("DELETE FROM status_requests WHERE resolved_at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(notices + requests)
}
