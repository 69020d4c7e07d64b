-- 跨省通办: applications whose receiving region and competent region differ.
--
-- The regions this region handles applications with (a 跨省通办 agreement): each names the
-- department of the other region whose intake resource (KS-TB-001) granted this region's
-- intake department. Recorded by an administrator of the intake department.
CREATE TABLE cross_partners (
    region       TEXT PRIMARY KEY,
    intake_uscc  TEXT NOT NULL,
    name         TEXT NOT NULL,
    added_by     TEXT NOT NULL,
    added_at     BIGINT NOT NULL
);

-- The partners' 跨省通办 items, as their catalogue last answered through the gateway
-- (`message_id` names the signed, logged exchange that brought them).
CREATE TABLE cross_items (
    region           TEXT NOT NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    department_uscc  TEXT NOT NULL,
    department_name  TEXT NOT NULL,
    modes            TEXT NOT NULL,
    promised_days    BIGINT NOT NULL,
    materials        TEXT NOT NULL,
    fetched_at       BIGINT NOT NULL,
    message_id       TEXT NOT NULL,
    PRIMARY KEY (region, code)
);

-- One application between regions, on each side: `sent` in the applicant's region, `received`
-- in the competent region. The id is the package's, the same on both sides: a package
-- delivered twice finds its case. The signed package is sealed at rest.
CREATE TABLE cross_cases (
    id                 TEXT PRIMARY KEY,
    side               TEXT NOT NULL,
    mode               TEXT NOT NULL,
    item_code          TEXT NOT NULL,
    item_name          TEXT NOT NULL,
    home_region        TEXT NOT NULL,
    competent_region   TEXT NOT NULL,
    competent_uscc     TEXT NOT NULL,
    peer_uscc          TEXT NOT NULL,
    applicant_account  TEXT,
    received_by        TEXT,  -- the window (department) that received it (代收)
    state              TEXT NOT NULL,
    seq                BIGINT NOT NULL,
    peer_seq           BIGINT NOT NULL,
    package_sealed     BLOB NOT NULL,
    package_hash       TEXT NOT NULL,
    due_day            TEXT,
    note               TEXT,
    result_sealed      BLOB,
    rating             BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX cross_cases_queue ON cross_cases (side, competent_uscc, state);
CREATE INDEX cross_cases_applicant ON cross_cases (applicant_account, created_at);

CREATE TABLE cross_case_events (
    id        TEXT PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES cross_cases(id),
    seq       BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    state     TEXT NOT NULL,
    note      TEXT
);
CREATE INDEX cross_case_events_of ON cross_case_events (case_id, seq);

-- What waits to reach another region: a package or an update, retried with backoff until the
-- other region takes it (or refuses it for good). The id is `{case}/{seq}`: a case's entries
-- go out one at a time, in order.
CREATE TABLE cross_outbox (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cross_cases(id),
    kind          TEXT NOT NULL,
    to_uscc       TEXT NOT NULL,
    body_sealed   BLOB NOT NULL,
    attempts      BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    last_error    TEXT,
    done_at       BIGINT,
    outcome       TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX cross_outbox_due ON cross_outbox (done_at, next_at);
