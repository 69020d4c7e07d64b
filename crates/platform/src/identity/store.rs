//! SQL for accounts, role grants, sessions and API tokens. The only place that writes it.

use std::collections::HashMap;

use sqlx::{AnyPool, any::AnyRow};
use sqlx::{FromRow, Row};
use tongban_core::RegionCode;

use super::model::{Account, AccountKind, Language, Role, RoleGrant, Scope};
use crate::db::Exec;
use crate::error::{AppError, AppResult};

const ACCOUNT_COLUMNS: &str = "id, username, display_name, kind, home_region, department_id, person_id, enterprise_id, language, large_text, disabled, totp_secret";

/// Secrets and counters that only the login use-case reads.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub account: Account,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub failed_logins: i64,
    pub locked_until: i64,
}

/// What is needed to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub home_region: RegionCode,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub department_id: Option<String>,
    pub person_id: Option<String>,
    pub enterprise_id: Option<String>,
}

/// An account as its row holds it (`ACCOUNT_COLUMNS`).
#[derive(FromRow)]
struct AccountRow {
    id: String,
    username: String,
    display_name: String,
    kind: String,
    home_region: String,
    department_id: Option<String>,
    person_id: Option<String>,
    enterprise_id: Option<String>,
    language: String,
    large_text: i64,
    disabled: i64,
    totp_secret: Option<String>,
}

fn account_from_row(row: &AnyRow) -> AppResult<Account> {
    let r = AccountRow::from_row(row)?;
    Ok(Account {
        kind: AccountKind::parse(&r.kind)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad account kind {}", r.kind)))?,
        home_region: parse_stored_region(&r.home_region)?,
        language: Language::parse(&r.language).unwrap_or_default(),
        large_text: r.large_text != 0,
        disabled: r.disabled != 0,
        totp_enabled: r.totp_secret.is_some(),
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        department_id: r.department_id,
        person_id: r.person_id,
        enterprise_id: r.enterprise_id,
    })
}

/// The login secrets and counters of an account's row.
#[derive(FromRow)]
struct LoginRow {
    password_hash: String,
    totp_secret: Option<String>,
    totp_last_step: i64,
    failed_logins: i64,
    locked_until: i64,
}

pub async fn insert_account<'e>(
    db: impl Exec<'e>,
    id: &str,
    new: &NewAccount,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO accounts (id, username, display_name, kind, home_region, password_hash, totp_secret, department_id, person_id, enterprise_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.to_owned())
    .bind(new.username.clone())
    .bind(new.display_name.clone())
    .bind(new.kind.as_str())
    .bind(new.home_region.as_str().to_owned())
    .bind(new.password_hash.clone())
    .bind(new.totp_secret.clone())
    .bind(new.department_id.clone())
    .bind(new.person_id.clone())
    .bind(new.enterprise_id.clone())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn login_record(db: impl Exec<'_>, username: &str) -> AppResult<Option<LoginRecord>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, password_hash, totp_last_step, failed_logins, locked_until FROM accounts WHERE username = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username.to_owned())
        .fetch_optional(db)
        .await?;
    row.map(|row| {
        let login = LoginRow::from_row(&row)?;
        Ok(LoginRecord {
            account: account_from_row(&row)?,
            password_hash: login.password_hash,
            totp_secret: login.totp_secret,
            totp_last_step: login.totp_last_step,
            failed_logins: login.failed_logins,
            locked_until: login.locked_until,
        })
    })
    .transpose()
}

pub async fn account(db: impl Exec<'_>, id: &str) -> AppResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    row.map(|row| account_from_row(&row)).transpose()
}

pub async fn account_by_username(db: impl Exec<'_>, username: &str) -> AppResult<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(username.to_owned())
        .fetch_optional(db)
        .await?;
    row.map(|row| account_from_row(&row)).transpose()
}

/// The citizen account of a natural person, if they have one.
pub async fn account_of_person(db: impl Exec<'_>, person_id: &str) -> AppResult<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE person_id = $1 AND kind = 'citizen' \
         ORDER BY id LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(person_id.to_owned())
        .fetch_optional(db)
        .await?;
    row.map(|row| account_from_row(&row)).transpose()
}

pub async fn list_accounts(db: impl Exec<'_>, limit: i64, offset: i64) -> AppResult<Vec<Account>> {
    let sql =
        format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY username LIMIT $1 OFFSET $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await?;
    rows.iter().map(account_from_row).collect()
}

/// Counts a failed login and locks the account once `threshold` failures are reached in a row.
/// The increment happens in the database, so failures on different nodes add up.
pub async fn record_failed_login(
    pool: &AnyPool,
    account_id: &str,
    now: i64,
    threshold: i64,
    first_lock_ms: i64,
) -> AppResult<i64> {
    let failures: i64 = sqlx::query_scalar("UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
        .bind(account_id.to_owned())
        .fetch_one(pool)
        .await?;
    if failures >= threshold {
        // Each failure past the threshold doubles the lock, up to a day.
        let doublings = (failures - threshold).min(7) as u32;
        let lock_ms = (first_lock_ms.saturating_mul(1 << doublings)).min(24 * 3600 * 1000);
        sqlx::query("UPDATE accounts SET locked_until = $2 WHERE id = $1")
            .bind(account_id.to_owned())
            .bind(now + lock_ms)
            .execute(pool)
            .await?;
    }
    Ok(failures)
}

/// Clears the failure count and records the TOTP step used. Returns false when another login
/// used the same or a later step meanwhile (a replayed code), checked atomically.
pub async fn record_successful_login(
    pool: &AnyPool,
    account_id: &str,
    totp_step: Option<i64>,
) -> AppResult<bool> {
    let result = match totp_step {
        Some(step) => {
            sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = 0, totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                .bind(account_id.to_owned())
                .bind(step)
                .execute(pool)
                .await?
        }
        None => {
            sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = 0 WHERE id = $1")
                .bind(account_id.to_owned())
                .execute(pool)
                .await?
        }
    };
    Ok(result.rows_affected() == 1)
}

pub async fn set_password<'e>(
    db: impl Exec<'e>,
    account_id: &str,
    password_hash: &str,
) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE accounts SET password_hash = $2, failed_logins = 0, locked_until = 0 WHERE id = $1",
    )
    .bind(account_id.to_owned())
    .bind(password_hash.to_owned())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn set_totp_secret(
    db: impl Exec<'_>,
    account_id: &str,
    secret: Option<&str>,
) -> AppResult<()> {
    sqlx::query("UPDATE accounts SET totp_secret = $2, totp_last_step = 0 WHERE id = $1")
        .bind(account_id.to_owned())
        .bind(secret.map(str::to_owned))
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_totp_pending(db: impl Exec<'_>, account_id: &str, secret: &str) -> AppResult<()> {
    sqlx::query("UPDATE accounts SET totp_pending = $2 WHERE id = $1")
        .bind(account_id.to_owned())
        .bind(secret.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

pub async fn totp_pending(db: impl Exec<'_>, account_id: &str) -> AppResult<Option<String>> {
    let pending: Option<Option<String>> =
        sqlx::query_scalar("SELECT totp_pending FROM accounts WHERE id = $1")
            .bind(account_id.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(pending.flatten())
}

/// Makes the pending secret the account's second factor, if it is still the one confirmed.
/// The confirming code's step counts as used.
pub async fn confirm_totp(
    db: impl Exec<'_>,
    account_id: &str,
    secret: &str,
    step: i64,
) -> AppResult<bool> {
    let result = sqlx::query(
        "UPDATE accounts SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $3
         WHERE id = $1 AND totp_pending = $2",
    )
    .bind(account_id.to_owned())
    .bind(secret.to_owned())
    .bind(step)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn set_preferences(
    db: impl Exec<'_>,
    account_id: &str,
    language: Language,
    large_text: bool,
) -> AppResult<()> {
    sqlx::query("UPDATE accounts SET language = $2, large_text = $3 WHERE id = $1")
        .bind(account_id.to_owned())
        .bind(language.as_str())
        .bind(i64::from(large_text))
        .execute(db)
        .await?;
    Ok(())
}

/// A role grant's row, with the region of the department it may name.
#[derive(FromRow)]
struct GrantRow {
    account_id: String,
    role: String,
    scope_kind: String,
    scope_id: String,
    region_code: Option<String>,
}

pub async fn grants(db: impl Exec<'_>, account_id: &str) -> AppResult<Vec<RoleGrant>> {
    let mut of = grants_of_many(db, &[account_id.to_owned()]).await?;
    Ok(of.remove(account_id).unwrap_or_default())
}

/// The grants of several accounts in one statement, by account (an account without grants
/// is absent).
pub async fn grants_of_many(
    db: impl Exec<'_>,
    account_ids: &[String],
) -> AppResult<HashMap<String, Vec<RoleGrant>>> {
    if account_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT g.account_id, g.role, g.scope_kind, g.scope_id, d.region_code FROM role_grants g
         LEFT JOIN departments d ON g.scope_kind = 'department' AND d.id = g.scope_id
         WHERE g.account_id IN ({}) ORDER BY g.account_id, g.granted_at, g.role",
        crate::db::in_list(1, account_ids.len())
    );
    let mut query = sqlx::query_as::<_, GrantRow>(sqlx::AssertSqlSafe(sql));
    for id in account_ids {
        query = query.bind(id.clone());
    }
    let rows = query.fetch_all(db).await?;
    let mut grants: HashMap<String, Vec<RoleGrant>> = HashMap::new();
    for GrantRow {
        account_id,
        role,
        scope_kind,
        scope_id,
        region_code: department_region,
    } in rows
    {
        let Ok(role) = role.parse::<Role>() else {
            continue;
        };
        let scope = match scope_kind.as_str() {
            "region" => Scope::Region {
                code: parse_stored_region(&scope_id)?,
            },
            "department" => {
                let region = department_region.ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("grant to a missing department"))
                })?;
                Scope::Department {
                    id: scope_id,
                    region: parse_stored_region(&region)?,
                }
            }
            _ => Scope::Own,
        };
        grants
            .entry(account_id)
            .or_default()
            .push(RoleGrant { role, scope });
    }
    Ok(grants)
}

pub(crate) fn parse_stored_region(code: &str) -> AppResult<RegionCode> {
    code.parse().map_err(|_| {
        AppError::Internal(anyhow::anyhow!("stored region code {code} does not parse"))
    })
}

pub async fn insert_grant<'e>(
    db: impl Exec<'e>,
    account_id: &str,
    role: Role,
    scope: &Scope,
    granted_by: Option<&str>,
    now: i64,
) -> AppResult<()> {
    let scope_id = match scope {
        Scope::Region { code } => code.as_str().to_owned(),
        Scope::Department { id, .. } => id.clone(),
        Scope::Own => account_id.to_owned(),
    };
    sqlx::query(
        "INSERT INTO role_grants (account_id, role, scope_kind, scope_id, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (account_id, role, scope_kind, scope_id) DO NOTHING",
    )
    .bind(account_id.to_owned())
    .bind(role.as_str())
    .bind(scope.kind())
    .bind(scope_id)
    .bind(granted_by.map(str::to_owned))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_grants<'e>(db: impl Exec<'e>, account_id: &str, role: Role) -> AppResult<u64> {
    let result = sqlx::query("DELETE FROM role_grants WHERE account_id = $1 AND role = $2")
        .bind(account_id.to_owned())
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// A stored page session.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct SessionRecord {
    pub account_id: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub async fn insert_session(
    db: impl Exec<'_>,
    id_hash: &str,
    account_id: &str,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO sessions (id_hash, account_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $4, $5)")
        .bind(id_hash.to_owned())
        .bind(account_id.to_owned())
        .bind(csrf_token.to_owned())
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn session(db: impl Exec<'_>, id_hash: &str) -> AppResult<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT account_id, csrf_token, last_seen_at, expires_at FROM sessions WHERE id_hash = $1",
    )
    .bind(id_hash.to_owned())
    .fetch_optional(db)
    .await?;
    row.map(|row| Ok(SessionRecord::from_row(&row)?))
        .transpose()
}

pub async fn touch_session(db: impl Exec<'_>, id_hash: &str, now: i64) -> AppResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_session(db: impl Exec<'_>, id_hash: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of an account (after a password reset or when it is disabled).
pub async fn delete_sessions_of<'e>(db: impl Exec<'e>, account_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of an account but the one whose digest is `keep`.
pub async fn delete_other_sessions(
    db: impl Exec<'_>,
    account_id: &str,
    keep: &str,
) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
        .bind(account_id.to_owned())
        .bind(keep.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Removes sessions that ended, so the table does not grow without bound.
pub async fn delete_expired_sessions(db: impl Exec<'_>, now: i64, idle_ms: i64) -> AppResult<u64> {
    let result = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now)
        .bind(now - idle_ms)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// A stored bearer token.
#[derive(sqlx::FromRow, Debug, Clone)]
pub struct TokenRecord {
    pub id: String,
    pub account_id: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert_token(
    db: impl Exec<'_>,
    id: &str,
    account_id: &str,
    token_hash: &str,
    label: &str,
    now: i64,
    expires_at: Option<i64>,
) -> AppResult<()> {
    sqlx::query("INSERT INTO api_tokens (id, account_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.to_owned())
        .bind(account_id.to_owned())
        .bind(token_hash.to_owned())
        .bind(label.to_owned())
        .bind(now)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn token(db: impl Exec<'_>, token_hash: &str) -> AppResult<Option<TokenRecord>> {
    let row = sqlx::query(
        "SELECT id, account_id, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1",
    )
    .bind(token_hash.to_owned())
    .fetch_optional(db)
    .await?;
    row.map(|row| Ok(TokenRecord::from_row(&row)?)).transpose()
}

/// A token with its owner's account and the region of the owner's department, as one row of
/// [`token_owners`].
pub struct TokenOwnerRow {
    pub token_hash: String,
    pub token: TokenRecord,
    pub account: Account,
    pub department_region: Option<RegionCode>,
}

/// The tokens with these digests and their owners, in one statement (a node's first requests
/// after a restart bring many tokens at once). An unknown digest is absent.
pub async fn token_owners(
    db: impl Exec<'_>,
    token_hashes: &[String],
) -> AppResult<Vec<TokenOwnerRow>> {
    if token_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let account_columns = ACCOUNT_COLUMNS
        .split(", ")
        .map(|column| format!("a.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT t.token_hash, t.id AS token_id, t.expires_at AS token_expires_at, \
         t.revoked_at AS token_revoked_at, d.region_code AS department_region, {account_columns} \
         FROM api_tokens t JOIN accounts a ON a.id = t.account_id \
         LEFT JOIN departments d ON d.id = a.department_id \
         WHERE t.token_hash IN ({})",
        crate::db::in_list(1, token_hashes.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for hash in token_hashes {
        query = query.bind(hash.clone());
    }
    let rows = query.fetch_all(db).await?;
    rows.iter()
        .map(|row| {
            let account = account_from_row(row)?;
            Ok(TokenOwnerRow {
                token_hash: row.try_get("token_hash")?,
                token: TokenRecord {
                    id: row.try_get("token_id")?,
                    account_id: account.id.clone(),
                    expires_at: row.try_get("token_expires_at")?,
                    revoked_at: row.try_get("token_revoked_at")?,
                },
                department_region: row
                    .try_get::<Option<String>, _>("department_region")?
                    .as_deref()
                    .map(parse_stored_region)
                    .transpose()?,
                account,
            })
        })
        .collect()
}

pub async fn revoke_token(
    db: impl Exec<'_>,
    token_id: &str,
    account_id: &str,
    now: i64,
) -> AppResult<bool> {
    let result = sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL")
        .bind(token_id.to_owned())
        .bind(account_id.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes every token of an account but `keep` (a token id, or none).
pub async fn revoke_tokens_of<'e>(
    db: impl Exec<'e>,
    account_id: &str,
    keep: Option<&str>,
    now: i64,
) -> AppResult<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE account_id = $1 AND id <> $2 AND revoked_at IS NULL")
        .bind(account_id.to_owned())
        .bind(keep.unwrap_or_default().to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every token of an account carrying `label` (e.g. the demo's long-lived token).
pub async fn revoke_tokens_labelled(
    db: impl Exec<'_>,
    account_id: &str,
    label: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE account_id = $1 AND label = $2 AND revoked_at IS NULL")
        .bind(account_id.to_owned())
        .bind(label.to_owned())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// A token as listed to its owner, without the secret.
#[derive(sqlx::FromRow, Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenSummary {
    pub id: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn tokens_of(db: impl Exec<'_>, account_id: &str) -> AppResult<Vec<TokenSummary>> {
    let rows = sqlx::query("SELECT id, label, created_at, expires_at, revoked_at FROM api_tokens WHERE account_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(account_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter()
        .map(|row| Ok(TokenSummary::from_row(row)?))
        .collect()
}

/// Stores an activation code's hash for an account, replacing any earlier one.
pub async fn upsert_activation<'e>(
    db: impl Exec<'e>,
    account_id: &str,
    code_hash: &str,
    created_by: &str,
    now: i64,
    expires_at: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO activations (account_id, code_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET code_hash = $2, created_by = $3, created_at = $4, expires_at = $5",
    )
    .bind(account_id.to_owned())
    .bind(code_hash.to_owned())
    .bind(created_by.to_owned())
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// An account's activation: (code hash, expiry).
pub async fn activation(db: impl Exec<'_>, account_id: &str) -> AppResult<Option<(String, i64)>> {
    Ok(
        sqlx::query_as("SELECT code_hash, expires_at FROM activations WHERE account_id = $1")
            .bind(account_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Spends an account's activation; false when there was none (used meanwhile).
pub async fn spend_activation<'e>(db: impl Exec<'e>, account_id: &str) -> AppResult<bool> {
    Ok(sqlx::query("DELETE FROM activations WHERE account_id = $1")
        .bind(account_id.to_owned())
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

pub async fn insert_delivery<'e>(
    db: impl Exec<'e>,
    id: &str,
    account_id: &str,
    body_sealed: Vec<u8>,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO deliveries (id, account_id, body_sealed, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_owned())
    .bind(account_id.to_owned())
    .bind(body_sealed)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Queued messages, oldest first: (id, account id, username, sealed body).
/// Queued messages: id, account, username, the person whose phone on record receives it (the
/// citizen, or an enterprise's legal representative; none for staff), the sealed body.
pub async fn deliveries(
    db: impl Exec<'_>,
) -> AppResult<Vec<(String, String, String, Option<String>, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.account_id, a.username, COALESCE(a.person_id, e.representative_id), d.body_sealed
         FROM deliveries d JOIN accounts a ON a.id = d.account_id
         LEFT JOIN enterprises e ON e.id = a.enterprise_id ORDER BY d.created_at",
    )
    .fetch_all(db)
    .await?)
}

pub async fn delete_delivery<'e>(db: impl Exec<'e>, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM deliveries WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Until when the account has read its messages (0 when it never opened them).
pub async fn messages_seen_at(db: impl Exec<'_>, account_id: &str) -> AppResult<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT seen_at FROM message_marks WHERE account_id = $1")
            .bind(account_id.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(row.map_or(0, |(at,)| at))
}

/// Marks the account's messages read up to `at`.
pub async fn mark_messages_seen(db: impl Exec<'_>, account_id: &str, at: i64) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO message_marks (account_id, seen_at) VALUES ($1, $2)
         ON CONFLICT (account_id) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(account_id.to_owned())
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}
