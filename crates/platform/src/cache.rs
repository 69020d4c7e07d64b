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

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use sqlx::Row;

use crate::error::AppResult;
use crate::identity::model::Actor;
use crate::state::AppState;

/// The longest an entry is used before it is read again from the database.
pub const MAX_AGE_MS: i64 = 10 * 60 * 1000;
/// Feed rows are kept this long, far longer than any node takes to read them.
const FEED_KEEP_MS: i64 = 60 * 60 * 1000;
/// How far back each read of the feed looks again behind the newest row it has seen, for rows
/// that committed late or were stamped by a node whose clock runs a little behind.
const FEED_LOOKBACK_MS: i64 = 10_000;

/// The scope of accounts, roles and tokens.
pub const IDENTITY: &str = "identity";
/// The key that evicts every entry of a scope.
pub const ALL: &str = "*";

/// One cache of values by key, with a scope its changes are published under.
pub struct Coherent<V> {
    scope: &'static str,
    /// `None` when caching is switched off.
    entries: Option<Cache<String, Arc<Entry<V>>>>,
    epoch: AtomicU64,
}

/// A cached value and when it was read.
pub struct Entry<V> {
    pub value: V,
    loaded_at: i64,
}

impl<V> std::ops::Deref for Entry<V> {
    type Target = V;

    fn deref(&self) -> &V {
        &self.value
    }
}

impl<V: Send + Sync + 'static> Coherent<V> {
    /// A cache of up to `capacity` entries of `scope`; 0 switches it off.
    pub fn new(scope: &'static str, capacity: usize) -> Coherent<V> {
        Coherent {
            scope,
            entries: (capacity > 0).then(|| Cache::new(capacity)),
            epoch: AtomicU64::new(0),
        }
    }

    /// The value of `key`, from the cache while fresh, or else from `load` (`None`: there is
    /// none, and nothing is cached).
    pub async fn get_or_load<F, Fut>(
        &self,
        now: i64,
        key: &str,
        load: F,
    ) -> AppResult<Option<Arc<Entry<V>>>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<Option<V>>>,
    {
        if let Some(entries) = &self.entries
            && let Some(hit) = entries.get(key)
            && (0..MAX_AGE_MS).contains(&(now - hit.loaded_at))
        {
            return Ok(Some(hit));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let Some(value) = load().await? else {
            return Ok(None);
        };
        let entry = Arc::new(Entry {
            value,
            loaded_at: now,
        });
        // A change committed while this was read bumped the epoch: keep the old answer out.
        if let Some(entries) = &self.entries
            && self.epoch.load(Ordering::Acquire) == epoch
        {
            entries.insert(key.to_owned(), entry.clone());
        }
        Ok(Some(entry))
    }

    /// How many entries are held, for tests and the metrics page.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Cache::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the feed needs of any cache: its scope, and eviction.
pub trait Evict: Send + Sync {
    fn scope(&self) -> &'static str;
    /// Drops `key`, or every entry for [`ALL`].
    fn evict(&self, key: &str);
}

impl<V: Send + Sync + 'static> Evict for Coherent<V> {
    fn scope(&self) -> &'static str {
        self.scope
    }

    fn evict(&self, key: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            if key == ALL {
                entries.clear();
            } else {
                entries.remove(key);
            }
        }
    }
}

/// The account behind a bearer token, as it stood when read.
pub struct CachedActor {
    pub actor: Actor,
    pub token_expires_at: Option<i64>,
}

/// Where this node is in the feed: the newest row's time, and the rows of the look-back window
/// it has already applied (by id, with their time).
#[derive(Default)]
struct FeedPosition {
    newest: i64,
    applied: std::collections::HashMap<String, i64>,
}

impl FeedPosition {
    /// Notes a row; true when it was not applied before.
    fn note(&mut self, id: String, at: i64) -> bool {
        self.newest = self.newest.max(at);
        self.applied.insert(id, at).is_none()
    }

    fn forget_old(&mut self) {
        let keep_from = self.newest - FEED_LOOKBACK_MS;
        self.applied.retain(|_, at| *at >= keep_from);
    }
}

/// The node's caches: the kernel's token owners, every cache the modules registered, and the
/// node's place in the feed.
pub struct NodeCache {
    /// Token owners, by token digest.
    pub actors: Arc<Coherent<CachedActor>>,
    all: Vec<Arc<dyn Evict>>,
    feed: std::sync::Mutex<FeedPosition>,
}

impl NodeCache {
    /// Token owners of up to `entries` tokens (0 switches caching off), and the modules'
    /// caches.
    pub fn new(entries: usize, modules: Vec<Arc<dyn Evict>>) -> NodeCache {
        let actors = Arc::new(Coherent::new(IDENTITY, entries));
        let mut all: Vec<Arc<dyn Evict>> = vec![actors.clone()];
        all.extend(modules);
        NodeCache {
            actors,
            all,
            feed: std::sync::Mutex::new(FeedPosition::default()),
        }
    }

    /// Evicts `key` from every cache of `scope` on this node. Rows of older nodes name an
    /// identity change with an empty key: that, too, evicts every token owner.
    fn evict(&self, scope: &str, key: &str) {
        let key = if scope == IDENTITY { ALL } else { key };
        for cache in self.all.iter().filter(|cache| cache.scope() == scope) {
            cache.evict(key);
        }
    }
}

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
    let rows = sqlx::query(
        "SELECT id, scope, key, at FROM cache_events WHERE at > $1 ORDER BY at LIMIT 100000",
    )
    .bind(after)
    .fetch_all(state.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                row.try_get("scope")?,
                row.try_get("key")?,
                row.try_get("at")?,
            ))
        })
        .collect()
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
