//! Leases: work that must run once across the nodes sharing a database — purges, compaction of
//! check-ins, checkpoint signing, outbox deliveries, harvests — runs on the node that holds
//! the job's lease ([`crate::module::Job::once_every`]).
//!
//! A lease is a row (`job_leases`: job, holder, expires_at) taken with one conditional upsert:
//! it is free when it has expired, and its holder may always take it again. The holder keeps
//! it past each step, so that the other nodes, whose timers run at other moments, do not run
//! the same step again in the same period; it renews the lease while a step runs, and a step
//! whose lease was lost (the node stalled past the expiry and another took over) is stopped.
//! A node that dies keeps its lease only until it expires: a period and a half and at least
//! half a minute after its last renewal.
//!
//! Times are the platform's clock (`AppState::now`), as every stored time is.

use std::time::Duration;

use crate::error::AppResult;
use crate::state::AppState;

/// How long a lease of a job run every `period` lasts from its last renewal.
pub fn ttl(period: Duration) -> Duration {
    period + (period / 2).max(Duration::from_secs(30))
}

/// Takes (or renews) the lease of `job` for this node until `ttl` from now; whether it holds it.
pub async fn take(state: &AppState, job: &str, ttl: Duration) -> AppResult<bool> {
    let now = state.now();
    let until = now + ttl.as_millis() as i64;
    let taken = sqlx::query(
        "INSERT INTO job_leases (job, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= $4",
    )
    .bind(job.to_owned())
    .bind(state.node.clone())
    .bind(until)
    .bind(now)
    .execute(state.pool())
    .await?
    .rows_affected();
    Ok(taken == 1)
}

/// How many leases whose job starts with `prefix` (letters, digits, `/`, `-`) are held now.
pub async fn held_under(state: &AppState, prefix: &str) -> AppResult<i64> {
    debug_assert!(!prefix.contains(['%', '_', '\\']));
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM job_leases WHERE job LIKE $1 AND expires_at > $2")
            .bind(format!("{prefix}%"))
            .bind(state.now())
            .fetch_one(state.pool())
            .await?,
    )
}

/// Gives the lease up (a node that stops): another node may take it at once.
pub async fn release(state: &AppState, job: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
        .bind(job.to_owned())
        .bind(state.node.clone())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// Gives up every lease this node holds (a node that stops gracefully): its jobs go on at once
/// on another node, or on this one when it starts again under a new name.
pub async fn release_all(state: &AppState) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM job_leases WHERE holder = $1")
        .bind(state.node.clone())
        .execute(state.pool())
        .await?
        .rows_affected())
}

/// The node holding `job`'s lease now, if any.
pub async fn holder(state: &AppState, job: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT holder FROM job_leases WHERE job = $1 AND expires_at > $2")
            .bind(job.to_owned())
            .bind(state.now())
            .fetch_optional(state.pool())
            .await?,
    )
}

/// What became of one turn of a leased job.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn<T> {
    /// Another node holds the lease: nothing ran here.
    Elsewhere,
    /// The step ran to its end under the lease.
    Ran(T),
    /// The lease was lost while the step ran (another node took it over): the step was
    /// stopped where it stood.
    Lost,
}

impl<T> Turn<T> {
    /// The turn's name in the metrics: `elsewhere`, `ran` or `lost`.
    pub fn name(&self) -> &'static str {
        match self {
            Turn::Elsewhere => "elsewhere",
            Turn::Ran(_) => "ran",
            Turn::Lost => "lost",
        }
    }
}

/// Runs `step` if this node holds (or can take) `job`'s lease, renewing it every third of
/// `ttl` while the step runs.
pub async fn run<T>(
    state: &AppState,
    job: &str,
    ttl: Duration,
    step: impl Future<Output = T>,
) -> AppResult<Turn<T>> {
    if !take(state, job, ttl).await? {
        return Ok(Turn::Elsewhere);
    }
    let mut step = std::pin::pin!(step);
    let mut renewal = tokio::time::interval(ttl / 3);
    renewal.tick().await;
    loop {
        tokio::select! {
            done = &mut step => return Ok(Turn::Ran(done)),
            _ = renewal.tick() => {
                // A renewal that cannot reach the database keeps the step going: the lease
                // is still ours until it expires, and the next renewal may succeed.
                match take(state, job, ttl).await {
                    Ok(false) => {
                        tracing::warn!(job, "lost the job's lease to another node: step stopped");
                        return Ok(Turn::Lost);
                    }
                    Ok(true) => {}
                    Err(error) => tracing::warn!(%error, job, "could not renew the job's lease"),
                }
            }
        }
    }
}
