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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Taken; for a package, the due day the other region answered.
    Delivered { due_day: Option<String> },
    /// The other region refused it for good (its own answer, 4xx).
    Refused(String),
    /// It could not be delivered now; tried again later.
    Later(String),
}

/// One delivery round at a time on a node: the job's and any other caller's (a caller waits
/// for the round under way, then sees what it left).
#[derive(Default)]
pub struct Rounds(tokio::sync::Mutex<()>);

/// Sends every entry that is due, then records what became of each in one transaction;
/// returns how many were delivered. An entry is held for [`LEASE_MS`] while it is tried, so
/// another node leaves it alone; a node that stops in between sends it again after the lease,
/// which the other region takes as the same delivery.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let _round = state.module::<Rounds>().0.lock().await;
    let now = state.now();
    let due = crate::store::due(state.pool(), now, PER_ROUND).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let seen: Vec<(&str, i64)> = due.iter().map(|e| (e.id.as_str(), e.next_at)).collect();
    let taken = crate::store::claim(state.pool(), &seen, now + LEASE_MS).await?;
    let Some(intake) = crate::cases::intake_department(state).await? else {
        tracing::warn!("this region has no intake resource to send 跨省通办 packages from");
        return Ok(0);
    };
    let intake = std::sync::Arc::new(intake);
    let mut tasks = tokio::task::JoinSet::new();
    let mut outcomes = Vec::with_capacity(taken.len());
    for entry in due.into_iter().filter(|e| taken.contains(&e.id)) {
        while tasks.len() >= IN_FLIGHT {
            if let Some(Ok(outcome)) = tasks.join_next().await {
                outcomes.push(outcome);
            }
        }
        let (state, intake) = (state.clone(), intake.clone());
        tasks.spawn(async move {
            let attempt = attempt(&state, &intake, &entry).await;
            (entry, attempt)
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(outcome) = done {
            outcomes.push(outcome);
        }
    }
    let delivered = outcomes
        .iter()
        .filter(|(_, a)| matches!(a, Attempt::Delivered { .. }))
        .count();
    crate::error::retrying(|| record(state, &outcomes)).await?;
    Ok(delivered)
}

/// Records a round's outcomes, and moves the cases of packages on.
async fn record(state: &AppState, outcomes: &[(crate::store::Outgoing, Attempt)]) -> AppResult<()> {
    let at = state.now();
    let mut tx = state.pool().begin().await?;
    // The delivered together: a round of hundreds costs a few statements.
    let mut delivered = Vec::new();
    let mut settled = Vec::new();
    for (entry, attempt) in outcomes {
        let package = entry.kind == "package";
        match attempt {
            Attempt::Delivered { due_day } => {
                delivered.push(entry.id.as_str());
                if package {
                    let sent = crate::cases::Sent::Taken {
                        due_day: due_day.as_deref(),
                    };
                    settled.push((entry.case_id.as_str(), sent));
                }
            }
            Attempt::Refused(why) => {
                tracing::warn!(entry = %entry.id, "the other region refused a cross-region delivery");
                crate::store::done_in(&mut tx, &entry.id, at, "refused", Some(why)).await?;
                if package {
                    settled.push((entry.case_id.as_str(), crate::cases::Sent::Refused { why }));
                }
            }
            Attempt::Later(why) => {
                let next = at + backoff_ms(entry.attempts);
                crate::store::retry_later_in(&mut tx, &entry.id, next, why).await?;
            }
        }
    }
    crate::store::done_all_in(&mut tx, &delivered, at, "delivered").await?;
    crate::cases::settle_all_in(state, &mut tx, &settled, at).await?;
    tx.commit().await?;
    Ok(())
}

async fn attempt(
    state: &AppState,
    intake: &tongban_platform::admin::store::Department,
    entry: &crate::store::Outgoing,
) -> Attempt {
    let opened = match crate::store::body(state.pool(), &entry.id).await {
        Ok(Some(sealed)) => crate::cases::open_body(state, &entry.case_id, &sealed),
        Ok(None) => Err(crate::error::AppError::NotFound),
        Err(error) => Err(error),
    };
    let body = match opened {
        Ok(body) => body,
        Err(error) => return Attempt::Later(format!("the entry could not be read: {error}")),
    };
    let path = if entry.kind == "package" {
        "/packages"
    } else {
        "/updates"
    };
    // Packages go as CBOR; those queued before, and updates, as JSON.
    let json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_none_or(|&b| b == b'{');
    let content_type = (!json).then_some(crate::package::MEDIA_TYPE);
    let sent = tongban_exchange::gateway::peers::send(
        state,
        intake,
        crate::SUBSYSTEM,
        &entry.to_uscc,
        crate::INTAKE_RESOURCE,
        axum::http::Method::POST,
        path,
        body,
        content_type,
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
    let json = serde_json::from_slice::<serde_json::Value>(&answer).ok();
    let detail = || {
        json.as_ref()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&answer).chars().take(300).collect())
    };
    if (200..300).contains(&status) {
        let due_day = json
            .as_ref()
            .and_then(|v| v["due_day"].as_str())
            .filter(|d| d.len() == 10)
            .map(str::to_owned);
        return Attempt::Delivered { due_day };
    }
    // The other region's own refusal (not its gateway's, not the way there): final.
    if gateway_error.is_none() && (400..500).contains(&status) && status != 429 {
        return Attempt::Refused(format!("{status}: {}", detail()));
    }
    Attempt::Later(match gateway_error {
        Some(kind) => format!("{status} {kind}: {}", detail()),
        None => format!("{status}: {}", detail()),
    })
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
