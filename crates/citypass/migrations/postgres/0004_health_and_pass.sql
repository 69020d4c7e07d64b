-- Health facts, status policies and the emergency switch of the city pass (一码通).

-- A fact about a person recorded by an authorised health source. The value is personal data
-- (sealed like every personal field); the kind is not.
CREATE TABLE health_facts (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    kind          TEXT NOT NULL,
    value_sealed  BYTEA NOT NULL,
    observed_at   BIGINT NOT NULL,
    legal_basis   TEXT NOT NULL,
    department_id TEXT,
    recorded_by   TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX health_facts_person ON health_facts(person_id, observed_at);

-- A versioned set of CertLogic rules mapping facts to a colour. A version takes effect only
-- once a second, different health officer approves it.
CREATE TABLE status_policies (
    version      BIGINT PRIMARY KEY,
    rules        TEXT NOT NULL,
    proposed_by  TEXT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT
);

-- Deployment-wide switches (the public-health emergency mode among them).
CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);

-- A manual change of a person's colour: two different health officers, a reason from a closed
-- list, an expiry, and a notice to the person.
CREATE TABLE status_overrides (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES persons(id),
    colour        TEXT NOT NULL,
    reason_code   TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX status_overrides_person ON status_overrides(person_id, expires_at);

-- A citizen's request for correction (纠错) or for review by a person, and its outcome.
CREATE TABLE status_requests (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    kind            TEXT NOT NULL,
    message_sealed  BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    outcome_sealed  BYTEA,
    resolved_by     TEXT,
    resolved_at     BIGINT
);
CREATE INDEX status_requests_open ON status_requests(resolved_at, created_at);

-- Notices to a person (a changed colour, an answered request), sealed: they speak of health.
CREATE TABLE notices (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES persons(id),
    text_zh_sealed  BYTEA NOT NULL,
    text_en_sealed  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX notices_person ON notices(person_id, created_at);

-- 码上服务: venues of a kind (transit, library, hospital, government_hall, other), the staff
-- who check passes there, and the services a person is entitled to (a library card, …).
CREATE TABLE venues (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    region_code  TEXT NOT NULL REFERENCES regions(code),
    created_at   BIGINT NOT NULL
);

CREATE TABLE venue_staff (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    venue_id    TEXT NOT NULL REFERENCES venues(id),
    PRIMARY KEY (account_id, venue_id)
);

CREATE TABLE entitlements (
    person_id  TEXT NOT NULL REFERENCES persons(id),
    service    TEXT NOT NULL,
    PRIMARY KEY (person_id, service)
);
