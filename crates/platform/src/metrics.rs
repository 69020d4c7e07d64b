//! Prometheus metrics: requests and latency per route, the database pool, and the turns of
//! the jobs that run once across the nodes (which node ran each, where leases keep them apart).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// What a cache has served since the node started, for the metrics page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    /// The cached value's type, which names the cache (`HolderInputs`, `CachedActor` …).
    pub name: &'static str,
    pub scope: &'static str,
    pub entries: usize,
    /// Lookups answered from the cache, and those that read the database.
    pub hits: u64,
    pub misses: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
    turn: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LookupLabels {
    cache: &'static str,
    scope: &'static str,
    outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pool_size: Gauge,
    pool_idle: Gauge,
    job_turns: Family<JobLabels, Counter>,
    cache_entries: Family<CacheLabels, Gauge>,
    cache_lookups: Family<LookupLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tongban");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let pool_size = Gauge::default();
        let pool_idle = Gauge::default();
        let job_turns = Family::<JobLabels, Counter>::default();
        let cache_entries = Family::<CacheLabels, Gauge>::default();
        let cache_lookups = Family::<LookupLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Database connections idle",
            pool_idle.clone(),
        );
        registry.register(
            "job_turns",
            "Turns of the jobs run once across nodes, on this node: ran here, held by another \
             node (elsewhere), or stopped when the lease was lost",
            job_turns.clone(),
        );
        registry.register(
            "cache_entries",
            "Entries held by each of this node's caches",
            cache_entries.clone(),
        );
        registry.register(
            "cache_lookups",
            "Lookups in each of this node's caches: answered from it (hit) or read from the \
             database (miss)",
            cache_lookups.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            job_turns,
            cache_entries,
            cache_lookups,
        }
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// Counts one turn of a leased job: `ran`, `elsewhere` or `lost`.
    pub fn job_turn(&self, job: &str, turn: &'static str) {
        self.job_turns
            .get_or_create(&JobLabels {
                job: job.to_owned(),
                turn,
            })
            .inc();
    }

    /// The text exposition, with the pool gauges and the caches' counts read now.
    pub fn render(&self, pool_size: u32, pool_idle: usize, caches: &[CacheStats]) -> String {
        self.pool_size.set(i64::from(pool_size));
        self.pool_idle.set(pool_idle as i64);
        for cache in caches {
            let (name, scope) = (cache.name, cache.scope);
            self.cache_entries
                .get_or_create(&CacheLabels { cache: name, scope })
                .set(cache.entries as i64);
            for (outcome, count) in [("hit", cache.hits), ("miss", cache.misses)] {
                // The caches keep their own running counts; the counter shows them as they are.
                self.cache_lookups
                    .get_or_create(&LookupLabels {
                        cache: name,
                        scope,
                        outcome,
                    })
                    .inner()
                    .store(count, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
