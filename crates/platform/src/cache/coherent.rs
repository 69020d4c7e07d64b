//! The caches themselves — [`Coherent`] by scope, and the node's set of them ([`NodeCache`]) —
//! apart from the functions that keep them coherent through the database ([`super`]), so that
//! the node's state can hold them without depending on those.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;

use crate::error::AppResult;
use crate::identity::model::Actor;
pub use crate::metrics::CacheStats;

/// The longest an entry is used before it is read again from the database.
pub const MAX_AGE_MS: i64 = 10 * 60 * 1000;
/// Feed rows are kept this long, far longer than any node takes to read them.
pub(super) const FEED_KEEP_MS: i64 = 60 * 60 * 1000;
/// How far back each read of the feed looks again behind the newest row it has seen, for rows
/// that committed late or were stamped by a node whose clock runs a little behind.
pub(super) const FEED_LOOKBACK_MS: i64 = 10_000;

/// The scope of accounts, roles and tokens.
pub const IDENTITY: &str = "identity";
/// The scope of who a member code (USCC) names: one of this region's departments, or a
/// department that a recognised region's trust list binds exchange keys to. Published when a
/// department is created and when a region's trust list is imported or removed.
pub const MEMBERS: &str = "members";
/// The scope of the signing keys' public halves (the pass's verification keys).
pub const KEYS: &str = "signing-keys";
/// The key that evicts every entry of a scope.
pub const ALL: &str = "*";
/// An identity key that names one account (`account:<id>`): evicts that account's token
/// owners only.
pub const ACCOUNT: &str = "account:";

/// One cache of values by key, with a scope its changes are published under.
pub struct Coherent<V> {
    scope: &'static str,
    /// `None` when caching is switched off.
    entries: Option<Cache<String, Arc<Entry<V>>>>,
    epoch: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
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
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
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
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(hit));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let epoch = self.epoch.load(Ordering::Acquire);
        let Some(value) = load().await? else {
            return Ok(None);
        };
        let entry = Arc::new(Entry {
            value,
            loaded_at: now,
        });
        // A change committed while this was read bumped the epoch: keep the old answer out.
        // Checked again once stored, since an eviction can fall between the first check and
        // the insert (it would clear the cache before this answer lands in it).
        if let Some(entries) = &self.entries
            && self.epoch.load(Ordering::Acquire) == epoch
        {
            entries.insert(key.to_owned(), entry.clone());
            if self.epoch.load(Ordering::Acquire) != epoch {
                entries.remove(key);
            }
        }
        Ok(Some(entry))
    }

    /// Drops every entry whose value `keep` refuses.
    pub fn evict_where(&self, keep: impl Fn(&V) -> bool) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.retain(|_, entry| keep(&entry.value));
        }
    }

    /// How many entries are held, for tests and the metrics page.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Cache::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The last segment of a type's path, generics unwrapped: `Arc<a::b::Publishing>` is
/// `Publishing`.
fn short_type_name<V>() -> &'static str {
    let full = std::any::type_name::<V>().trim_end_matches('>');
    full.rsplit("::").next().unwrap_or(full)
}

/// What the feed needs of any cache: its scope, and eviction.
pub trait Evict: Send + Sync {
    fn scope(&self) -> &'static str;
    /// Drops `key`, or every entry for [`ALL`].
    fn evict(&self, key: &str);
    /// What the cache has served, where it counts.
    fn stats(&self) -> Option<CacheStats> {
        None
    }
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

    fn stats(&self) -> Option<CacheStats> {
        Some(CacheStats {
            name: short_type_name::<V>(),
            scope: self.scope,
            entries: self.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        })
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
pub(super) struct FeedPosition {
    pub(super) newest: i64,
    applied: std::collections::HashMap<String, i64>,
}

impl FeedPosition {
    /// Notes a row; true when it was not applied before.
    pub(super) fn note(&mut self, id: String, at: i64) -> bool {
        self.newest = self.newest.max(at);
        self.applied.insert(id, at).is_none()
    }

    pub(super) fn forget_old(&mut self) {
        let keep_from = self.newest - FEED_LOOKBACK_MS;
        self.applied.retain(|_, at| *at >= keep_from);
    }
}

/// The node's caches: the kernel's token owners, every cache the modules registered, and the
/// node's place in the feed.
pub struct NodeCache {
    /// Token owners, by token digest.
    pub actors: Arc<Coherent<CachedActor>>,
    /// Every signing key's row, under one key (`ALL`): read at every door.
    pub keys: Arc<Coherent<Vec<crate::keys::store::SigningKeyRow>>>,
    all: Vec<Arc<dyn Evict>>,
    pub(super) feed: std::sync::Mutex<FeedPosition>,
}

impl NodeCache {
    /// Token owners of up to `entries` tokens (0 switches caching off), and the modules'
    /// caches.
    pub fn new(entries: usize, modules: Vec<Arc<dyn Evict>>) -> NodeCache {
        let actors = Arc::new(Coherent::new(IDENTITY, entries));
        let keys = Arc::new(Coherent::new(KEYS, entries.min(1)));
        let mut all: Vec<Arc<dyn Evict>> = vec![actors.clone(), keys.clone()];
        all.extend(modules);
        NodeCache {
            actors,
            keys,
            all,
            feed: std::sync::Mutex::new(FeedPosition::default()),
        }
    }

    /// What each cache of the node has served.
    pub fn stats(&self) -> Vec<CacheStats> {
        self.all.iter().filter_map(|cache| cache.stats()).collect()
    }

    /// Evicts `key` from every cache of `scope` on this node. An identity key names one
    /// account ([`ACCOUNT`]) or else every token owner (rows of older nodes name an identity
    /// change with an empty key).
    pub(super) fn evict(&self, scope: &str, key: &str) {
        if scope == IDENTITY
            && let Some(account) = key.strip_prefix(ACCOUNT)
        {
            self.actors
                .evict_where(|owner| owner.actor.account.id != account);
            return;
        }
        let key = if scope == IDENTITY { ALL } else { key };
        for cache in self.all.iter().filter(|cache| cache.scope() == scope) {
            cache.evict(key);
        }
    }
}
