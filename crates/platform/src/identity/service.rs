//! Login, sessions and tokens: who is acting, proven how.

use super::model::{Account, AccountKind, Actor, Credential};
use super::{password, store, totp};
use crate::error::{AppError, AppResult};
use crate::random;
use crate::state::AppState;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A login attempt as typed.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub password: String,
    pub totp: Option<String>,
    /// The network address the attempt came from, when known.
    pub from: Option<std::net::IpAddr>,
}

/// Checks both factors and the lockout. On success the failure count is cleared and the TOTP
/// step is consumed; on failure it is counted in the database, and against the address it
/// came from. The answer is the same for an unknown name, a wrong factor and a locked account
/// — in its words and in the time it takes — so that names cannot be probed; only an address
/// past its failures for the minute is told to wait, before any hashing.
pub async fn authenticate(state: &AppState, attempt: LoginAttempt) -> AppResult<Account> {
    let throttle = state.module::<super::throttle::LoginThrottle>();
    let (from, now) = (attempt.from, state.now());
    throttle.admit(from, now)?;
    let checked = check_factors(state, attempt).await;
    if let Err(AppError::InvalidCredentials) = &checked {
        throttle.count(from, now);
    }
    checked
}

async fn check_factors(state: &AppState, attempt: LoginAttempt) -> AppResult<Account> {
    let pool = state.pool();
    let now = state.now();
    let username = attempt.username.trim();
    if username.is_empty() || username.len() > 64 || attempt.password.len() > 256 {
        return Err(AppError::InvalidCredentials);
    }
    let Some(record) = store::login_record(pool, username).await? else {
        // Spend the same time as for a real account, so usernames cannot be probed by timing.
        password::verify(attempt.password, password::UNUSABLE_HASH.to_owned()).await?;
        return Err(AppError::InvalidCredentials);
    };
    if record.locked_until > now {
        password::verify(attempt.password, password::UNUSABLE_HASH.to_owned()).await?;
        return Err(AppError::InvalidCredentials);
    }
    if !check_record(state, &record, attempt.password, attempt.totp.as_deref()).await? {
        return Err(AppError::InvalidCredentials);
    }
    Ok(record.account)
}

/// Checks the sent factors against a stored login record and records the outcome, as every
/// check of a password does (a login, or a step that asks for it again): a failure counts
/// towards the account's lockout; a success clears the count and uses the code's step once
/// (false when another check used it meanwhile — a replay). A disabled account never passes.
async fn check_record(
    state: &AppState,
    record: &store::LoginRecord,
    sent_password: String,
    sent_totp: Option<&str>,
) -> AppResult<bool> {
    let (pool, now) = (state.pool(), state.now());
    let password_ok = sent_password.len() <= 256
        && password::verify(sent_password, record.password_hash.clone()).await?;
    let second_factor_needed =
        record.totp_secret.is_some() || record.account.kind == AccountKind::Staff;
    let totp_step = match (&record.totp_secret, sent_totp) {
        (Some(stored), Some(code)) => {
            let secret = totp::open(&state.vault, &record.account.id, stored)?;
            totp::verify(&secret, code, now.div_euclid(1000), record.totp_last_step)
        }
        _ => None,
    };
    let factors_ok = password_ok && (!second_factor_needed || totp_step.is_some());
    if !factors_ok || record.account.disabled {
        let config = &state.config;
        store::record_failed_login(
            pool,
            &record.account.id,
            now,
            config.lockout_threshold,
            config.lockout_minutes * MINUTE_MS,
        )
        .await?;
        return Ok(false);
    }
    store::record_successful_login(pool, &record.account.id, totp_step).await
}

/// The account of this username, if any: how modules find the accounts they work with
/// (their part of the demo city, for one) without reading the kernel's tables.
pub async fn account_by_username(state: &AppState, username: &str) -> AppResult<Option<Account>> {
    store::account_by_username(state.pool(), username).await
}

/// A bearer token for an API client, valid for the configured hours.
pub async fn issue_login_token(state: &AppState, account: &Account) -> AppResult<(String, i64)> {
    let expires_at = state.now() + state.config.login_token_hours * HOUR_MS;
    let token = issue_token(state, &account.id, "login", Some(expires_at)).await?;
    Ok((token, expires_at))
}

/// Creates a bearer token; only its digest is stored. The secret is returned once.
pub async fn issue_token(
    state: &AppState,
    account_id: &str,
    label: &str,
    expires_at: Option<i64>,
) -> AppResult<String> {
    let secret = format!("tbk_{}", random::secret_token());
    store::insert_token(
        state.pool(),
        &random::new_id(),
        account_id,
        &random::secret_digest(&secret),
        label,
        state.now(),
        expires_at,
    )
    .await?;
    Ok(secret)
}

/// A new page session: the raw id goes in the cookie, its digest in the database.
pub struct NewSession {
    pub raw_id: String,
    pub csrf_token: String,
}

pub async fn start_session(state: &AppState, account_id: &str) -> AppResult<NewSession> {
    let raw_id = random::secret_token();
    let csrf_token = random::secret_token();
    let now = state.now();
    let expires_at = now + state.config.session_absolute_hours * HOUR_MS;
    store::insert_session(
        state.pool(),
        &random::secret_digest(&raw_id),
        account_id,
        &csrf_token,
        now,
        expires_at,
    )
    .await?;
    Ok(NewSession { raw_id, csrf_token })
}

pub async fn end_session(state: &AppState, raw_id: &str) -> AppResult<()> {
    store::delete_session(state.pool(), &random::secret_digest(raw_id)).await
}

/// The actor behind a session cookie, or `None` when the session is unknown, idle too long or
/// past its absolute end. An ended session is deleted.
pub async fn actor_from_session(state: &AppState, raw_id: &str) -> AppResult<Option<Actor>> {
    let id_hash = random::secret_digest(raw_id);
    let Some(session) = store::session(state.pool(), &id_hash).await? else {
        return Ok(None);
    };
    let now = state.now();
    let idle_ms = state.config.session_idle_minutes * MINUTE_MS;
    if now >= session.expires_at || now - session.last_seen_at >= idle_ms {
        store::delete_session(state.pool(), &id_hash).await?;
        return Ok(None);
    }
    // Writing on every request would make sessions a hot row; a minute's precision is enough.
    if now - session.last_seen_at >= MINUTE_MS {
        store::touch_session(state.pool(), &id_hash, now).await?;
    }
    load_actor(
        state,
        &session.account_id,
        Credential::Session {
            csrf_token: session.csrf_token,
        },
    )
    .await
}

/// The actor behind a bearer token, or `None` when it is unknown, revoked or expired.
pub async fn actor_from_token(state: &AppState, raw_token: &str) -> AppResult<Option<Actor>> {
    if !raw_token.starts_with("tbk_") || raw_token.len() > 100 {
        return Ok(None);
    }
    let digest = random::secret_digest(raw_token);
    let found = crate::cache::actor(state, digest.clone(), || async {
        state.module::<TokenReads>().read(state, &digest).await
    })
    .await?;
    Ok(found
        .filter(|hit| hit.token_expires_at.is_none_or(|end| state.now() < end))
        .map(|hit| hit.actor.clone()))
}

/// A token's owner as the cache keeps it: the actor, and when the token ends.
pub type TokenOwner = (Actor, Option<i64>);

/// How the owners of tokens that miss the cache are read: together when they miss together
/// (a node's first requests after a restart, the morning peak), in two statements for
/// everyone waiting — the tokens with their accounts and departments, then the accounts'
/// grants (see [`crate::cache::Gather`]).
pub type TokenReads = std::sync::Arc<crate::cache::Gather<TokenOwner>>;

/// The kernel's gatherer of token owners, which the state holds among the modules' parts.
pub fn token_reads() -> TokenReads {
    crate::cache::Gather::new(2, 200, |state: AppState, digests: Vec<String>| async move {
        token_owners(&state, &digests).await
    })
}

/// The owners of distinct token digests. A token unknown, revoked or of a disabled account has
/// no owner (absent from the answer).
async fn token_owners(
    state: &AppState,
    digests: &[String],
) -> AppResult<crate::cache::Found<TokenOwner>> {
    let rows = store::token_owners(state.pool(), digests).await?;
    let live: Vec<store::TokenOwnerRow> = rows
        .into_iter()
        .filter(|row| row.token.revoked_at.is_none() && !row.account.disabled)
        .collect();
    let mut accounts: Vec<String> = live.iter().map(|row| row.account.id.clone()).collect();
    accounts.sort();
    accounts.dedup();
    let grants = store::grants_of_many(state.pool(), &accounts).await?;
    Ok(live
        .into_iter()
        .map(|row| {
            let grants = grants.get(&row.account.id).cloned().unwrap_or_default();
            let actor = Actor {
                grants,
                department_region: row.department_region,
                credential: Credential::Token {
                    token_id: row.token.id,
                },
                account: row.account,
            };
            (row.token_hash, Ok((actor, row.token.expires_at)))
        })
        .collect())
}

/// The actor of an account for work the node does in its name outside any request (the demo
/// city's documents, benches): its grants as stored, no token of its own, and nothing cached.
pub async fn actor_of_username(state: &AppState, username: &str) -> AppResult<Option<Actor>> {
    let Some(account) = store::account_by_username(state.pool(), username).await? else {
        return Ok(None);
    };
    load_actor(
        state,
        &account.id,
        Credential::Token {
            token_id: String::new(),
        },
    )
    .await
}

async fn load_actor(
    state: &AppState,
    account_id: &str,
    credential: Credential,
) -> AppResult<Option<Actor>> {
    let Some(account) = store::account(state.pool(), account_id).await? else {
        return Ok(None);
    };
    if account.disabled {
        return Ok(None);
    }
    let grants = store::grants(state.pool(), account_id).await?;
    let department_region = match &account.department_id {
        Some(id) => crate::admin::store::department(state.pool(), id)
            .await?
            .map(|d| d.region_code),
        None => None,
    };
    Ok(Some(Actor {
        account,
        grants,
        department_region,
        credential,
    }))
}

/// Ends the credential the actor used: the token is revoked or the session deleted.
pub async fn log_out(state: &AppState, actor: &Actor, raw_session: Option<&str>) -> AppResult<()> {
    match &actor.credential {
        Credential::Token { token_id } => {
            store::revoke_token(state.pool(), token_id, actor.id(), state.now()).await?;
            crate::cache::account_changed(state, actor.id()).await;
        }
        Credential::Session { .. } => {
            if let Some(raw) = raw_session {
                end_session(state, raw).await?;
            }
        }
    }
    Ok(())
}

/// Starts enrolling a (new) second factor: a fresh secret waits until a code from it is
/// confirmed, so a mistyped enrolment never locks anyone out.
pub async fn begin_totp_enrolment(
    state: &AppState,
    actor: &Actor,
    confirmation: &Confirmation,
) -> AppResult<TotpEnrolment> {
    reauthenticate(state, actor, confirmation).await?;
    let secret = totp::new_secret();
    let sealed = totp::seal(&state.vault, actor.id(), &secret);
    store::set_totp_pending(state.pool(), actor.id(), &sealed).await?;
    let uri = format!(
        "otpauth://totp/tongban:{username}?secret={secret}&issuer=tongban&algorithm=SHA1&digits=6&period=30",
        username = actor.account.username
    );
    Ok(TotpEnrolment { secret, uri })
}

/// A secret being enrolled, to show once (as text and as an `otpauth://` URI).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpEnrolment {
    pub secret: String,
    pub uri: String,
}

/// Confirms the enrolment with a code from the new secret.
pub async fn confirm_totp_enrolment(state: &AppState, actor: &Actor, code: &str) -> AppResult<()> {
    let pending = store::totp_pending(state.pool(), actor.id())
        .await?
        .ok_or_else(|| AppError::Conflict("no second factor is being enrolled".into()))?;
    let secret = totp::open(&state.vault, actor.id(), &pending)?;
    let step = totp::verify(&secret, code, state.now().div_euclid(1000), 0)
        .ok_or_else(|| AppError::invalid("code", "the code does not match the new secret"))?;
    if !store::confirm_totp(state.pool(), actor.id(), &pending, step).await? {
        return Err(AppError::Conflict(
            "the enrolment changed meanwhile; start again".into(),
        ));
    }
    Ok(())
}

/// The password and, when the account has a second factor, a current one-time code: what a
/// step that could make a stolen session or token permanent asks for again.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub password: String,
    /// The current one-time code, when the account has a second factor.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Checks the actor's password (and one-time code) again, as a login would: a failure counts
/// towards the account's lockout, and a code is used once.
pub async fn reauthenticate(
    state: &AppState,
    actor: &Actor,
    confirmation: &Confirmation,
) -> AppResult<()> {
    let (pool, now) = (state.pool(), state.now());
    let Some(record) = store::login_record(pool, &actor.account.username).await? else {
        return Err(AppError::Unauthenticated);
    };
    if record.locked_until > now {
        return Err(AppError::LockedOut {
            retry_after_seconds: (record.locked_until - now + 999) / 1000,
        });
    }
    let sent = (confirmation.password.clone(), confirmation.totp.as_deref());
    if !check_record(state, &record, sent.0, sent.1).await? {
        return Err(AppError::Reauthenticate);
    }
    Ok(())
}

/// The actor changes their own password, confirming the current one (and a one-time code).
/// Every other session ends and every other token is revoked: whoever held a stolen one is
/// out. `session` is the raw id of the page session making the change, which stays.
pub async fn change_own_password(
    state: &AppState,
    actor: &Actor,
    session: Option<&str>,
    confirmation: &Confirmation,
    new_password: &str,
) -> AppResult<()> {
    password::check_strength(new_password).map_err(|error| match error {
        AppError::Invalid { reason, .. } => AppError::Invalid {
            field: "new_password",
            reason,
        },
        other => other,
    })?;
    if new_password == confirmation.password {
        return Err(AppError::invalid(
            "new_password",
            "must differ from the current password",
        ));
    }
    reauthenticate(state, actor, confirmation).await?;
    let hash = password::hash(new_password.to_owned()).await?;
    let keep_token = match &actor.credential {
        Credential::Token { token_id } => Some(token_id.as_str()),
        Credential::Session { .. } => None,
    };
    let mut tx = state.pool().begin().await?;
    store::set_password(&mut *tx, actor.id(), &hash).await?;
    store::revoke_tokens_of(&mut *tx, actor.id(), keep_token, state.now()).await?;
    match session {
        Some(raw) => {
            store::delete_other_sessions(&mut *tx, actor.id(), &random::secret_digest(raw)).await?
        }
        None => store::delete_sessions_of(&mut *tx, actor.id()).await?,
    }
    tx.commit().await?;
    crate::cache::account_changed(state, actor.id()).await;
    Ok(())
}

/// Issues an API token for the actor's own account, valid for `days` (1 to 366), once the
/// password (and one-time code) are confirmed again.
pub async fn create_own_token(
    state: &AppState,
    actor: &Actor,
    label: &str,
    days: i64,
    confirmation: &Confirmation,
) -> AppResult<String> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(AppError::invalid("label", "must have 1–64 characters"));
    }
    if !(1..=366).contains(&days) {
        return Err(AppError::invalid(
            "expires_in_days",
            "must be from 1 to 366",
        ));
    }
    reauthenticate(state, actor, confirmation).await?;
    issue_token(
        state,
        actor.id(),
        label,
        Some(state.now() + days * 24 * HOUR_MS),
    )
    .await
}

/// Revokes one of the actor's own tokens; someone else's token is "not found".
pub async fn revoke_own_token(state: &AppState, actor: &Actor, token_id: &str) -> AppResult<()> {
    if store::revoke_token(state.pool(), token_id, actor.id(), state.now()).await? {
        crate::cache::account_changed(state, actor.id()).await;
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
