//! Registration: a resident opens their own account with their ID number, verified through
//! the phone on their record, as [`super::activation`] verifies a recovery.

use super::activation::{LIFETIME_MS, RECOVERY_PAUSE_MS, issue};
use super::store;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A citizen registers themself: with a username of their choice and their ID number, an
/// account bound to their record is made and its activation code goes to the phone on that
/// record (never shown here); they then set their password at `/activate`. Whether the ID
/// number is on the register, has a phone, or already has an account, the answer is the same,
/// so nothing about a person can be probed: a person who already has an account receives a
/// new code for it on their phone instead (at most one in ten minutes), which also tells
/// them their username. Only a username already taken is said, as a name is not a person's
/// data. A miss counts against the address like a failed login.
pub async fn register(
    state: &AppState,
    username: &str,
    resident_id: &tongban_core::ResidentId,
    from: Option<std::net::IpAddr>,
) -> AppResult<()> {
    let throttle = state.module::<super::throttle::LoginThrottle>();
    let now = state.now();
    throttle.admit(from, now)?;
    let username = crate::admin::service::valid_username(username)?;
    if store::account_by_username(state.pool(), &username)
        .await?
        .is_some()
    {
        // Said, as a name is no person's data — but counted, so usernames cannot be listed
        // by asking fast.
        throttle.count(from, now);
        return Err(AppError::invalid(
            "username",
            "this username is taken: choose another",
        ));
    }
    let person = super::personal::person_id_by_resident_id(state, resident_id).await?;
    let reachable = match &person {
        Some(person) => super::personal::has_phone(state, person).await?,
        None => false,
    };
    let (Some(person), true) = (person, reachable) else {
        throttle.count(from, now);
        return Ok(());
    };
    if let Some(account) = store::account_of_person(state.pool(), &person).await? {
        let recent = store::activation(state.pool(), &account.id).await?;
        if recent
            .is_some_and(|(_, expires_at)| now - (expires_at - LIFETIME_MS) < RECOVERY_PAUSE_MS)
        {
            return Ok(());
        }
        let mut tx = state.pool().begin().await?;
        issue(
            state,
            &mut tx,
            &account.id,
            &account.username,
            "registration",
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let region = super::personal::person_region(state, &person)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::admin::service::register_citizen(state, &username, &person, region).await
}
