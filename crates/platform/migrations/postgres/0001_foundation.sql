-- Foundation: regions, departments, people, enterprises, accounts, roles, sessions, tokens,
-- and the personal-data access record. Kept in step with migrations/sqlite/0001_foundation.sql.
-- Integers are BIGINT on both engines (timestamps are Unix milliseconds; flags are 0/1).

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES regions(code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    uscc        TEXT UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX departments_region ON departments(region_code);

-- Personal fields are written and read only through identity::personal::PersonalRecords.
-- The *_sealed columns hold the sealed form; resident_id_index is a keyed lookup value.
CREATE TABLE persons (
    id                TEXT PRIMARY KEY,
    region_code       TEXT NOT NULL REFERENCES regions(code),
    resident_id_index TEXT NOT NULL UNIQUE,
    resident_id_sealed BYTEA NOT NULL,
    name_sealed       BYTEA NOT NULL,
    phone_sealed      BYTEA,
    created_at        BIGINT NOT NULL
);

CREATE TABLE enterprises (
    id          TEXT PRIMARY KEY,
    uscc        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    created_at  BIGINT NOT NULL
);

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    -- The region an account belongs to (its department's, its person's, its enterprise's),
    -- against which administrators' scopes are checked.
    home_region     TEXT NOT NULL REFERENCES regions(code),
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT NOT NULL DEFAULT 0,
    language        TEXT NOT NULL DEFAULT 'zh',
    large_text      BIGINT NOT NULL DEFAULT 0,
    department_id   TEXT REFERENCES departments(id),
    person_id       TEXT REFERENCES persons(id),
    enterprise_id   TEXT REFERENCES enterprises(id),
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

CREATE TABLE role_grants (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    role        TEXT NOT NULL,
    scope_kind  TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    granted_by  TEXT,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, role, scope_kind, scope_id)
);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    token_hash    TEXT NOT NULL UNIQUE,
    label         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_account ON api_tokens(account_id);

-- Every read of personal data: who, what, whose, why, when.
CREATE TABLE personal_data_access (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor_id       TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,
    categories     TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    department_id  TEXT,
    request_id     TEXT
);
CREATE INDEX personal_data_access_subject ON personal_data_access(subject_id, at);

-- Administrative actions (user created, role granted, password reset …) for the audit administrator.
CREATE TABLE admin_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX admin_events_at ON admin_events(at);
