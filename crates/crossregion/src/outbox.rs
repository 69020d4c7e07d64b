//! Delivery exactly once in effect: what one region sends another is written to the outbox in
//! the transaction of the step that made it, and sent until the other region takes it — with
//! backoff while it cannot be reached. A case's entries go one at a time, in order. The other
//! region makes one case of a package and applies an update once, however often either
//! arrives, so sending again after a lost answer is always safe.

use std::time::Duration;

use crate::error::AppResult;
use crate::state::AppState;

/// The first wait after a failed attempt; it doubles with each attempt, up to [`MAX_WAIT_MS`].
const FIRST_WAIT_MS: i64 = 2_000;
const MAX_WAIT_MS: i64 = 5 * 60 * 1000;
/// How long an attempt holds an entry before another node may try it.
const LEASE_MS: i64 = 60_000;
/// Entries taken per round.
const PER_ROUND: i64 = 256;
/// Attempts in flight at once.
const IN_FLIGHT: usize = 32;

/// The wait before the attempt after `attempts` failed ones.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doubled = FIRST_WAIT_MS.saturating_mul(1_i64 << attempts.clamp(0, 20));
    doubled.min(MAX_WAIT_MS)
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Delivered,
    /// The other region refused it for good (its own answer, 4xx).
    Refused,
    /// It could not be delivered now; tried again later.
    Later,
    /// Another node holds it.
    Skipped,
}

/// Sends every entry that is due; returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let due = crate::store::due(state.pool(), now, PER_ROUND).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut delivered = 0;
    let mut tasks = tokio::task::JoinSet::new();
    for entry in due {
        while tasks.len() >= IN_FLIGHT {
            if let Some(Ok(Ok(Attempt::Delivered))) = tasks.join_next().await {
                delivered += 1;
            }
        }
        let state = state.clone();
        tasks.spawn(async move { attempt(&state, entry).await });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(Attempt::Delivered)) => delivered += 1,
            Ok(Err(error)) => tracing::warn!(%error, "a cross-region delivery failed"),
            _ => {}
        }
    }
    Ok(delivered)
}

async fn attempt(state: &AppState, entry: crate::store::Outgoing) -> AppResult<Attempt> {
    let now = state.now();
    if !crate::store::claim(state.pool(), &entry.id, entry.next_at, now + LEASE_MS).await? {
        return Ok(Attempt::Skipped);
    }
    let Some(intake) = crate::cases::intake_department(state).await? else {
        let why = "this region has no intake resource to send from";
        crate::store::retry_later(
            state.pool(),
            &entry.id,
            now + backoff_ms(entry.attempts),
            why,
        )
        .await?;
        return Ok(Attempt::Later);
    };
    let body = crate::cases::open_body(state, &entry.case_id, &entry.body_sealed)?;
    let path = if entry.kind == "package" {
        "/packages"
    } else {
        "/updates"
    };
    let sent = tongban_exchange::gateway::peers::send(
        state,
        &intake,
        crate::SUBSYSTEM,
        &entry.to_uscc,
        crate::INTAKE_RESOURCE,
        axum::http::Method::POST,
        path,
        body,
    )
    .await;
    let (status, gateway_error, answer) = match sent {
        Ok(out) => {
            let kind = out
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("x-road-error"))
                .map(|(_, value)| value.clone());
            (out.status, kind, out.body)
        }
        Err(failure) => (
            failure.status,
            Some(failure.kind.to_owned()),
            failure.message.into_bytes(),
        ),
    };
    let detail = || {
        serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&answer).chars().take(300).collect())
    };
    let at = state.now();
    if (200..300).contains(&status) {
        crate::store::done(state.pool(), &entry.id, at, "delivered", None).await?;
        if entry.kind == "package" {
            crate::cases::delivered(state, &entry.case_id).await?;
        }
        return Ok(Attempt::Delivered);
    }
    // The other region's own refusal (not its gateway's, not the way there): final.
    if gateway_error.is_none() && (400..500).contains(&status) && status != 429 {
        let why = format!("{status}: {}", detail());
        crate::store::done(state.pool(), &entry.id, at, "refused", Some(&why)).await?;
        if entry.kind == "package" {
            crate::cases::undeliverable(state, &entry.case_id, &why).await?;
        }
        tracing::warn!(entry = %entry.id, status, "the other region refused a cross-region delivery");
        return Ok(Attempt::Refused);
    }
    let why = match gateway_error {
        Some(kind) => format!("{status} {kind}: {}", detail()),
        None => format!("{status}: {}", detail()),
    };
    crate::store::retry_later(
        state.pool(),
        &entry.id,
        at + backoff_ms(entry.attempts),
        &why,
    )
    .await?;
    Ok(Attempt::Later)
}

/// How many entries wait to be delivered.
pub async fn waiting(state: &AppState) -> AppResult<i64> {
    crate::store::waiting(state.pool()).await
}

/// The period of the delivery job.
pub const PERIOD: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_two_seconds_to_five_minutes() {
        assert_eq!(backoff_ms(0), 2_000);
        assert_eq!(backoff_ms(1), 4_000);
        assert_eq!(backoff_ms(3), 16_000);
        assert_eq!(backoff_ms(8), MAX_WAIT_MS);
        assert_eq!(backoff_ms(1_000), MAX_WAIT_MS);
        assert_eq!(backoff_ms(-5), 2_000);
    }
}
