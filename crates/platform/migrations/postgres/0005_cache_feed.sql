-- Changes that other nodes must evict from their pass caches (see crates/app/src/cache.rs).
CREATE TABLE cache_events (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX cache_events_at ON cache_events (at);
