-- No administrator sees another person's credentials, and no one administrator gives powers
-- over personal data.

-- One-time activation codes: a new staff account, or one whose password an administrator
-- reset, is activated by its holder, who sets their own password and second factor. Only a
-- keyed hash of the code is kept.
CREATE TABLE activations (
    account_id  TEXT PRIMARY KEY REFERENCES accounts(id),
    code_hash   TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Messages to account holders waiting for the delivery gateway (SMS, mail, a sealed letter),
-- sealed because they carry activation codes; deleted once handed over.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    body_sealed BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A grant of a role with powers over personal data or a city-wide scope: requested by one
-- administrator, in force only once a security administrator who is not the requester
-- approves it.
CREATE TABLE grant_requests (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    role          TEXT NOT NULL,
    scope_kind    TEXT NOT NULL,
    scope_id      TEXT NOT NULL,
    region_code   TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    outcome       TEXT
);
CREATE INDEX grant_requests_open ON grant_requests(decided_at, requested_at);

-- The region an administrative event concerns, so that each audit administrator reads the
-- events of their own scope.
ALTER TABLE admin_events ADD COLUMN region_code TEXT;

-- Reads of whole personal records by staff, counted per official and hour before anything is
-- read, so that the limit holds for reads made at the same moment. Kept two hours.
CREATE TABLE record_reads (
    actor_id TEXT NOT NULL,
    hour     BIGINT NOT NULL,
    reads    BIGINT NOT NULL,
    PRIMARY KEY (actor_id, hour)
);
