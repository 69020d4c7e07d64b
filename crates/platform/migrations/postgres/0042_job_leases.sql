-- Work that must run once across the nodes sharing this database (purges, compaction,
-- checkpoint signing, deliveries) takes a lease by name: one node holds it until it expires,
-- renewing it while it works; a node that dies loses it when it expires.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
