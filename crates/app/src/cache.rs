//! The node's cache of the pass hot path: who a bearer token belongs to, and what a holder's
//! status is made from (their facts, opened; their approved overrides; their entitlements).
//!
//! A pass is asked for every few minutes by every holder, and checked at every door, so these
//! reads dominate the load. Entries are not kept for a fixed short time (a holder would miss
//! every time): they stay until the data under them changes, and at most [`MAX_AGE_MS`].
//!
//! Coherence:
//! - A change made on this node evicts the entry once the change is committed, and bumps an
//!   epoch, so that a read which started before the change cannot put its older answer back.
//! - Every change is also written to the `cache_events` feed. Each node reads the feed every
//!   second ([`follow_feed`]) and evicts what other nodes changed; a node sharing PostgreSQL
//!   with others therefore sees their changes within about a second. Rows are read by time
//!   with a look-back window, not by a sequence, so nothing depends on ids committing in
//!   order (and distributed SQL engines without sequences work).
//! - [`MAX_AGE_MS`] bounds what a lost feed row could leave stale.
//!
//! Time is not cached: facts and overrides carry their own end, and the status is computed
//! from them at the moment of each request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use sqlx::Row;

use crate::error::AppResult;
use crate::health::store::OverrideRow;
use crate::identity::model::Actor;
use crate::state::AppState;

/// The longest an entry is used before it is read again from the database.
pub const MAX_AGE_MS: i64 = 10 * 60 * 1000;
/// Feed rows are kept this long, far longer than any node takes to read them.
const FEED_KEEP_MS: i64 = 60 * 60 * 1000;
/// How far back each read of the feed looks again behind the newest row it has seen, for rows
/// that committed late or were stamped by a node whose clock runs a little behind.
const FEED_LOOKBACK_MS: i64 = 10_000;

const PERSON: &str = "person";
const IDENTITY: &str = "identity";

/// The account behind a bearer token, as it stood when read.
pub struct CachedActor {
    pub actor: Actor,
    pub token_expires_at: Option<i64>,
    loaded_at: i64,
}

/// A fact with its value opened, for computing a status.
pub struct OpenFact {
    pub id: String,
    pub kind: String,
    pub value: String,
    pub observed_at: i64,
    pub expires_at: i64,
}

/// Everything a holder's status and pass are computed from, besides the policy and the clock.
pub struct HolderInputs {
    /// Within retention when read, oldest first.
    pub facts: Vec<OpenFact>,
    /// Approved and unexpired when read, newest approval first.
    pub overrides: Vec<OverrideRow>,
    pub entitlements: Vec<String>,
    loaded_at: i64,
}

impl HolderInputs {
    /// The facts still within retention at `now`.
    pub fn facts_at(&self, now: i64) -> impl Iterator<Item = &OpenFact> {
        self.facts.iter().filter(move |fact| fact.expires_at > now)
    }

    /// The newest approved override still in force at `now`.
    pub fn override_at(&self, now: i64) -> Option<&OverrideRow> {
        self.overrides.iter().find(|row| row.expires_at > now)
    }
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

pub struct NodeCache {
    /// By token digest; `None` when the cache is switched off.
    actors: Option<Cache<String, Arc<CachedActor>>>,
    /// By person id.
    holders: Option<Cache<String, Arc<HolderInputs>>>,
    epoch: AtomicU64,
    feed: std::sync::Mutex<FeedPosition>,
}

impl NodeCache {
    /// A cache of up to `entries` holders (and as many tokens); 0 switches it off.
    pub fn new(entries: usize) -> NodeCache {
        NodeCache {
            actors: (entries > 0).then(|| Cache::new(entries)),
            holders: (entries > 0).then(|| Cache::new(entries)),
            epoch: AtomicU64::new(0),
            feed: std::sync::Mutex::new(FeedPosition::default()),
        }
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn evict_person(&self, person_id: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(holders) = &self.holders {
            holders.remove(person_id);
        }
    }

    fn evict_identities(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(actors) = &self.actors {
            actors.clear();
        }
    }

    fn evict_all_holders(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(holders) = &self.holders {
            holders.clear();
        }
    }

    /// How many holders and tokens are held, for the metrics page and tests.
    pub fn len(&self) -> (usize, usize) {
        (
            self.holders.as_ref().map_or(0, Cache::len),
            self.actors.as_ref().map_or(0, Cache::len),
        )
    }
}

fn fresh(loaded_at: i64, now: i64) -> bool {
    (0..MAX_AGE_MS).contains(&(now - loaded_at))
}

/// The actor behind a token digest, from the cache or else from `load`.
pub async fn actor<F, Fut>(
    state: &AppState,
    digest: String,
    load: F,
) -> AppResult<Option<Arc<CachedActor>>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = AppResult<Option<(Actor, Option<i64>)>>>,
{
    let now = state.now();
    let cache = &state.cache;
    if let Some(actors) = &cache.actors
        && let Some(hit) = actors.get(&digest)
        && fresh(hit.loaded_at, now)
    {
        return Ok(Some(hit));
    }
    let epoch = cache.epoch();
    let Some((actor, token_expires_at)) = load().await? else {
        return Ok(None);
    };
    let entry = Arc::new(CachedActor {
        actor,
        token_expires_at,
        loaded_at: now,
    });
    if let Some(actors) = &cache.actors
        && cache.epoch() == epoch
    {
        actors.insert(digest, entry.clone());
    }
    Ok(Some(entry))
}

/// A holder's status inputs, from the cache or else read (and the facts opened).
pub async fn holder(state: &AppState, person_id: &str) -> AppResult<Arc<HolderInputs>> {
    let now = state.now();
    let cache = &state.cache;
    if let Some(holders) = &cache.holders
        && let Some(hit) = holders.get(person_id)
        && fresh(hit.loaded_at, now)
    {
        return Ok(hit);
    }
    let epoch = cache.epoch();
    let facts = crate::health::store::facts_of(state.pool(), person_id, now)
        .await?
        .into_iter()
        .map(|fact| {
            let value = state.vault.open_field(
                &format!("health_facts.value/{}", fact.id),
                &fact.value_sealed,
            )?;
            Ok(OpenFact {
                id: fact.id,
                kind: fact.kind,
                value: String::from_utf8_lossy(&value).into_owned(),
                observed_at: fact.observed_at,
                expires_at: fact.expires_at,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    if !facts.is_empty() {
        crate::identity::personal::record_status_computation(state, person_id).await?;
    }
    let entry = Arc::new(HolderInputs {
        facts,
        overrides: crate::health::store::active_overrides(state.pool(), person_id, now).await?,
        entitlements: crate::venues::store::entitlements_of(state, person_id).await?,
        loaded_at: now,
    });
    if let Some(holders) = &cache.holders
        && cache.epoch() == epoch
    {
        holders.insert(person_id.to_owned(), entry.clone());
    }
    Ok(entry)
}

/// Call after a change to a person's facts, overrides or entitlements has been committed.
pub async fn person_changed(state: &AppState, person_id: &str) {
    state.cache.evict_person(person_id);
    publish(state, PERSON, person_id).await;
}

/// Call after a change to accounts, roles or tokens has been committed.
pub async fn identity_changed(state: &AppState) {
    state.cache.evict_identities();
    publish(state, IDENTITY, "").await;
}

/// Call after facts of many people were deleted at once (retention).
pub async fn holders_changed(state: &AppState) {
    state.cache.evict_all_holders();
    publish(state, PERSON, "*").await;
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
        match (scope.as_str(), key.as_str()) {
            (PERSON, "*") => state.cache.evict_all_holders(),
            (PERSON, person) => state.cache.evict_person(person),
            _ => state.cache.evict_identities(),
        }
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
