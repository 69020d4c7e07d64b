-- Two persons before a colour can change: facts from a health source take effect at once;
-- facts entered by hand, contact designations, and facts that would lift a recent positive
-- wait for a second officer's confirmation.

-- Provenance of a fact (a laboratory's sample or report number), and its confirmation. A fact
-- with no confirmation is pending and read by no status computation.
ALTER TABLE health_facts ADD COLUMN evidence_ref TEXT;
ALTER TABLE health_facts ADD COLUMN confirmed_by TEXT;
ALTER TABLE health_facts ADD COLUMN confirmed_at BIGINT;
UPDATE health_facts SET confirmed_by = recorded_by, confirmed_at = recorded_at;
CREATE INDEX health_facts_pending ON health_facts(confirmed_at, recorded_at);

-- Departments whose results are health facts at once (laboratories, hospital departments).
CREATE TABLE health_sources (
    department_id TEXT PRIMARY KEY REFERENCES departments(id),
    kind          TEXT NOT NULL,
    designated_by TEXT NOT NULL,
    designated_at BIGINT NOT NULL
);

-- How long after a positive test a fact that lowers risk needs a second officer (days).
ALTER TABLE status_policies ADD COLUMN positive_hold_days BIGINT NOT NULL DEFAULT 7;

-- A proposed change of a city-wide switch (the emergency mode), waiting for a second officer.
CREATE TABLE setting_proposals (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    proposed_by  TEXT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT
);

-- A contact match asked for by one officer about a confirmed case, run only once a second
-- officer approves. The case is sealed: the row names no one in clear.
CREATE TABLE contact_match_requests (
    id            TEXT PRIMARY KEY,
    case_sealed   BYTEA NOT NULL,
    region_code   TEXT NOT NULL,
    period_from   BIGINT NOT NULL,
    period_to     BIGINT NOT NULL,
    dwell_minutes BIGINT NOT NULL,
    purpose       TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT
);
CREATE INDEX contact_match_requests_open ON contact_match_requests(approved_at, requested_at);
