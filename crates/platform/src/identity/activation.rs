//! Activation: a staff account an administrator creates (or whose password an administrator
//! resets) has no usable password and no second factor. Its holder receives a one-time code
//! through the delivery gateway — never through the administrator — and sets their own
//! password and TOTP with it. A citizen who lost their password recovers the same way, the
//! code going to the phone on their record ([`recover`]). A code lasts three days, works once, and a wrong one counts
//! towards the account's lockout like a failed login.

use sqlx::AnyPool;
use zeroize::Zeroizing;

use super::{password, store, totp};
use crate::error::{AppError, AppResult, retrying};
use crate::random;
use crate::state::AppState;

/// How long an activation code is valid.
pub const LIFETIME_MS: i64 = 3 * 24 * 3_600_000;

fn code_hash(state: &AppState, account_id: &str, code: &str) -> String {
    let normalised: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    state
        .vault
        .blind_index("activation", &format!("{account_id}/{normalised}"))
}

/// A password nobody knows: the account cannot log in until it is activated.
pub async fn unusable_password_hash() -> AppResult<String> {
    password::hash(random::secret_token()).await
}

/// Issues a new code for the account (replacing any earlier one) and queues it, sealed, for
/// delivery to the holder. Runs inside the caller's transaction.
pub async fn issue(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    username: &str,
    issued_by: &str,
) -> AppResult<()> {
    let code = Zeroizing::new(random::readable_password());
    let now = state.now();
    let hash = code_hash(state, account_id, &code);
    store::upsert_activation(
        &mut *conn,
        account_id,
        &hash,
        issued_by,
        now,
        now + LIFETIME_MS,
    )
    .await?;
    let id = random::new_id();
    let body = format!(
        "通办 tongban：账号 {username} 的激活码 {} ，三日内有效，仅可使用一次。请在 /activate 设置您自己的密码和动态口令。\n\
         tongban: the activation code of account {username} is {} — valid three days, once. \
         Set your own password and one-time codes at /activate.",
        code.as_str(),
        code.as_str()
    );
    let sealed = state
        .vault
        .seal_field(&format!("deliveries.body/{id}"), body.as_bytes());
    store::insert_delivery(&mut *conn, &id, account_id, sealed, now).await
}

/// A message handed to the delivery gateway.
pub struct Delivery {
    pub account_id: String,
    pub username: String,
    /// The person whose phone on record receives it: the citizen, or an enterprise's legal
    /// representative; None for a staff account (handed over in person).
    pub recipient: Option<String>,
    pub body: Zeroizing<String>,
}

/// Takes every queued message (deleting it) for the delivery gateway: an SMS or mail
/// integration, or the operator printing sealed letters (`tongban admin deliveries`).
pub async fn take_deliveries(state: &AppState) -> AppResult<Vec<Delivery>> {
    // Reading and then deleting may lose a race with another writer on SQLite; the whole
    // taking runs again, so a message is either taken once or left queued.
    retrying(|| take_queued(state)).await
}

async fn take_queued(state: &AppState) -> AppResult<Vec<Delivery>> {
    let mut tx = state.pool().begin().await?;
    let rows = store::deliveries(&mut *tx).await?;
    let mut taken = Vec::with_capacity(rows.len());
    for (id, account_id, username, recipient, sealed) in rows {
        let plain = state
            .vault
            .open_field(&format!("deliveries.body/{id}"), &sealed)?;
        store::delete_delivery(&mut *tx, &id).await?;
        taken.push(Delivery {
            account_id,
            username,
            recipient,
            body: Zeroizing::new(String::from_utf8_lossy(&plain).into_owned()),
        });
    }
    tx.commit().await?;
    Ok(taken)
}

/// The code out of a delivered message (for the holder's software, and tests).
pub fn code_in(body: &str) -> Option<String> {
    body.split_whitespace()
        .find(|word| word.len() == 19 && word.matches('-').count() == 3)
        .map(str::to_owned)
}

/// The account a code activates, when the code is right and unexpired. A wrong code counts as
/// a failed login of the account (and nothing is accepted during a lockout) and against the
/// address it came from, as logins do.
async fn check(
    state: &AppState,
    username: &str,
    code: &str,
    from: Option<std::net::IpAddr>,
) -> AppResult<String> {
    let throttle = state.module::<super::throttle::LoginThrottle>();
    let now = state.now();
    throttle.admit(from, now)?;
    let checked = check_code(state, username, code).await;
    if let Err(AppError::Invalid { .. }) = &checked {
        throttle.count(from, now);
    }
    checked
}

async fn check_code(state: &AppState, username: &str, code: &str) -> AppResult<String> {
    let refused = || {
        AppError::invalid(
            "code",
            "the username or activation code is wrong or expired",
        )
    };
    if username.len() > 64 || code.len() > 64 {
        return Err(refused());
    }
    let record = store::login_record(state.pool(), username.trim())
        .await?
        .ok_or_else(refused)?;
    let now = state.now();
    if record.locked_until > now {
        return Err(refused());
    }
    let id = record.account.id.clone();
    let stored = store::activation(state.pool(), &id).await?;
    match stored {
        Some((hash, expires_at)) if expires_at > now && hash == code_hash(state, &id, code) => {
            Ok(id)
        }
        _ => {
            failed(state, state.pool(), &id, now).await?;
            Err(refused())
        }
    }
}

async fn failed(state: &AppState, pool: &AnyPool, account_id: &str, now: i64) -> AppResult<()> {
    let config = &state.config;
    store::record_failed_login(
        pool,
        account_id,
        now,
        config.lockout_threshold,
        config.lockout_minutes * 60_000,
    )
    .await?;
    Ok(())
}

/// A second factor to enrol in the first step of an activation.
pub struct Factor {
    /// `otpauth://` URI for an authenticator app.
    pub uri: String,
    /// The same secret in base32.
    pub secret: String,
    /// Staff must enrol it; a citizen may leave it.
    pub required: bool,
}

/// The first step: with a right code, a new TOTP secret to enrol; nothing is changed but the
/// pending secret.
pub async fn begin(
    state: &AppState,
    username: &str,
    code: &str,
    from: Option<std::net::IpAddr>,
) -> AppResult<Factor> {
    let account_id = check(state, username, code, from).await?;
    let required = store::account(state.pool(), &account_id)
        .await?
        .is_none_or(|account| account.kind == super::model::AccountKind::Staff);
    let secret = totp::new_secret();
    let sealed = totp::seal(&state.vault, &account_id, &secret);
    store::set_totp_pending(state.pool(), &account_id, &sealed).await?;
    let uri = format!(
        "otpauth://totp/tongban:{}?secret={secret}&issuer=tongban&algorithm=SHA1&digits=6&period=30",
        username.trim()
    );
    Ok(Factor {
        uri,
        secret,
        required,
    })
}

/// The second step: the code again, the holder's own password, and a one-time code from the
/// secret enrolled in the first step (staff must; a citizen who leaves it empty has no second
/// factor). The code is spent, every session and token of the account ends, and it can log in.
pub async fn complete(
    state: &AppState,
    username: &str,
    code: &str,
    new_password: String,
    totp_code: &str,
    from: Option<std::net::IpAddr>,
) -> AppResult<()> {
    let account_id = check(state, username, code, from).await?;
    password::check_strength(&new_password)?;
    let account = store::account(state.pool(), &account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let staff = account.kind == super::model::AccountKind::Staff;
    let pending = store::totp_pending(state.pool(), &account_id).await?;
    let enrol = match (totp_code.trim(), pending) {
        ("", _) if !staff => None,
        (_, None) => return Err(AppError::invalid("totp", "start the activation again")),
        (sent, Some(pending)) => {
            let secret = totp::open(&state.vault, &account_id, &pending)?;
            let step = totp::verify(&secret, sent, state.now().div_euclid(1000), 0)
                .ok_or_else(|| AppError::invalid("totp", "the one-time code does not match"))?;
            Some((pending, step))
        }
    };
    let hash = password::hash(new_password).await?;
    let mut tx = state.pool().begin().await?;
    if !store::spend_activation(&mut *tx, &account_id).await? {
        return Err(AppError::invalid(
            "code",
            "the activation code was used meanwhile",
        ));
    }
    store::set_password(&mut *tx, &account_id, &hash).await?;
    match enrol {
        Some((pending, step)) => {
            if !store::confirm_totp(&mut *tx, &account_id, &pending, step).await? {
                return Err(AppError::invalid("totp", "start the activation again"));
            }
        }
        None => store::set_totp_secret(&mut *tx, &account_id, None).await?,
    }
    store::delete_sessions_of(&mut *tx, &account_id).await?;
    store::revoke_tokens_of(&mut *tx, &account_id, None, state.now()).await?;
    tx.commit().await?;
    crate::cache::account_changed(state, &account_id).await;
    Ok(())
}

/// How long after one recovery code another may be sent (no flood of messages to a phone).
pub(crate) const RECOVERY_PAUSE_MS: i64 = 10 * 60_000;

/// A citizen who lost their password recovers through their own verified channel: with their
/// username and ID number, an activation code goes to the phone on their record (never shown
/// here). An enterprise's account recovers the same way through its legal representative: with
/// the username, the enterprise's USCC and the representative's ID number, the code goes to
/// the representative's phone. The answer is the same whether anything matched, so nothing can
/// be probed; a miss counts against the address like a failed login.
pub async fn recover(
    state: &AppState,
    username: &str,
    resident_id: &tongban_core::ResidentId,
    uscc: Option<&tongban_core::Uscc>,
    from: Option<std::net::IpAddr>,
) -> AppResult<()> {
    use super::model::AccountKind;
    let throttle = state.module::<super::throttle::LoginThrottle>();
    let now = state.now();
    throttle.admit(from, now)?;
    let holder = super::personal::person_id_by_resident_id(state, resident_id).await?;
    let matched = match (
        store::account_by_username(state.pool(), username.trim()).await?,
        holder,
    ) {
        (Some(account), Some(holder)) => {
            let verified = match (
                account.kind,
                &account.person_id,
                &account.enterprise_id,
                uscc,
            ) {
                (AccountKind::Citizen, Some(person), _, None) => {
                    *person == holder && super::personal::has_phone(state, person).await?
                }
                (AccountKind::Enterprise, _, Some(enterprise), Some(uscc)) => {
                    super::personal::represents_with_phone(state, enterprise, uscc, &holder).await?
                }
                _ => false,
            };
            verified.then_some(account)
        }
        _ => None,
    };
    let Some(account) = matched else {
        throttle.count(from, now);
        return Ok(());
    };
    let recent = store::activation(state.pool(), &account.id).await?;
    if recent.is_some_and(|(_, expires_at)| now - (expires_at - LIFETIME_MS) < RECOVERY_PAUSE_MS) {
        return Ok(());
    }
    let mut tx = state.pool().begin().await?;
    issue(state, &mut tx, &account.id, &account.username, "recovery").await?;
    tx.commit().await?;
    Ok(())
}
