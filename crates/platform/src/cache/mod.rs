//! The node's caches of what the hot paths read — who a bearer token belongs to (the kernel's),
//! and what modules register (the pass's holders' status inputs) — kept coherent across nodes.
//!
//! A pass is asked for every few minutes by every holder, and checked at every door, so these
//! reads dominate the load. Entries are not kept for a fixed short time (a holder would miss
//! every time): they stay until the data under them changes, and at most [`MAX_AGE_MS`].
//!
//! Coherence:
//! - Every cache has a scope (`identity`, `person` …). A change made on this node evicts the
//!   key in every cache of its scope once the change is committed ([`changed`]), and bumps the
//!   cache's epoch, so that a read which started before the change cannot put its older
//!   answer back.
//! - Every change is also written to the `cache_events` feed. Each node reads the feed every
//!   second ([`follow_feed`]) and evicts what other nodes changed; a node sharing PostgreSQL
//!   with others therefore sees their changes within about a second. Rows are read by time
//!   with a look-back window, not by a sequence, so nothing depends on ids committing in
//!   order (and distributed SQL engines without sequences work).
//! - [`MAX_AGE_MS`] bounds what a lost feed row could leave stale.

pub(crate) mod coherent;
mod gather;

pub use coherent::{
    ACCOUNT, ALL, CacheStats, CachedActor, Coherent, Entry, Evict, IDENTITY, KEYS, MAX_AGE_MS,
    MEMBERS, NodeCache,
};
pub use gather::{Found, Gather};

use std::sync::Arc;

use crate::error::AppResult;
use crate::identity::model::Actor;
use crate::state::AppState;
use coherent::{FEED_KEEP_MS, FEED_LOOKBACK_MS};

/// The actor behind a token digest, from the cache or else from `load`.
pub async fn actor<F, Fut>(
    state: &AppState,
    digest: String,
    load: F,
) -> AppResult<Option<Arc<Entry<CachedActor>>>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<Option<(Actor, Option<i64>)>>>,
{
    state
        .cache
        .actors
        .get_or_load(state.now(), &digest, || async {
            Ok(load().await?.map(|(actor, token_expires_at)| CachedActor {
                actor,
                token_expires_at,
            }))
        })
        .await
}

/// Call after a change of `key` in `scope` has been committed: evicts it on this node at once
/// and tells the other nodes.
pub async fn changed(state: &AppState, scope: &'static str, key: &str) {
    state.cache.evict(scope, key);
    publish(state, scope, key).await;
}

/// Call after a change to one account's own settings or tokens has been committed: evicts
/// that account's token owners only, so that no ordinary user's request empties the cache
/// every other user's requests rely on.
pub async fn account_changed(state: &AppState, account_id: &str) {
    changed(state, IDENTITY, &format!("{ACCOUNT}{account_id}")).await;
}

/// Call after a change to accounts, roles or tokens has been committed.
pub async fn identity_changed(state: &AppState) {
    changed(state, IDENTITY, ALL).await;
}

/// Tells the other nodes. The change itself is already committed, so a failure here is
/// logged, not returned: the others then see it when their entries age out.
async fn publish(state: &AppState, scope: &str, key: &str) {
    let (id, at) = (crate::random::new_id(), state.now());
    let written =
        sqlx::query("INSERT INTO cache_events (id, scope, key, at) VALUES ($1, $2, $3, $4)")
            .bind(id.clone())
            .bind(scope.to_owned())
            .bind(key.to_owned())
            .bind(at)
            .execute(state.pool())
            .await;
    match written {
        // This node evicted already; its own row need not be applied again.
        Ok(_) => {
            if let Ok(mut feed) = state.cache.feed.lock() {
                feed.note(id, at);
            }
        }
        Err(error) => {
            tracing::warn!(%error, scope, "could not publish a cache eviction to the other nodes")
        }
    }
}

async fn feed_rows(state: &AppState, after: i64) -> AppResult<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, scope, key, at FROM cache_events WHERE at > $1 ORDER BY at LIMIT 100000",
    )
    .bind(after)
    .fetch_all(state.pool())
    .await?)
}

/// Reads the feed once and evicts what other nodes changed. Returns how many rows were new.
pub async fn read_feed(state: &AppState) -> AppResult<usize> {
    let newest = state.cache.feed.lock().map(|f| f.newest).unwrap_or(0);
    let rows = feed_rows(state, newest - FEED_LOOKBACK_MS).await?;
    let mut new = Vec::new();
    if let Ok(mut feed) = state.cache.feed.lock() {
        for (id, scope, key, at) in rows {
            if feed.note(id, at) {
                new.push((scope, key));
            }
        }
        feed.forget_old();
    }
    for (scope, key) in &new {
        state.cache.evict(scope, key);
    }
    Ok(new.len())
}

/// Starts reading at the end of the feed: what is older was committed before this node cached
/// anything.
pub async fn start_feed(state: &AppState) -> AppResult<()> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(at) FROM cache_events")
        .fetch_one(state.pool())
        .await?;
    let Some(newest) = newest else {
        return Ok(());
    };
    let rows = feed_rows(state, newest - FEED_LOOKBACK_MS).await?;
    if let Ok(mut feed) = state.cache.feed.lock() {
        for (id, _, _, at) in rows {
            feed.note(id, at);
        }
    }
    Ok(())
}

/// Follows the feed every second and drops rows older than an hour every minute.
pub async fn follow_feed(state: AppState) {
    if let Err(error) = start_feed(&state).await {
        tracing::warn!(%error, "could not read the cache feed");
    }
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut ticks = 0u64;
    loop {
        interval.tick().await;
        if let Err(error) = read_feed(&state).await {
            tracing::warn!(%error, "could not read the cache feed");
        }
        ticks += 1;
        if ticks.is_multiple_of(60) {
            let purged = sqlx::query("DELETE FROM cache_events WHERE at < $1")
                .bind(state.now() - FEED_KEEP_MS)
                .execute(state.pool())
                .await;
            if let Err(error) = purged {
                tracing::warn!(%error, "could not trim the cache feed");
            }
        }
    }
}
