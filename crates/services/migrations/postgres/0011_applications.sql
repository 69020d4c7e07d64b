-- 办件: applications for service items, their workflow history, materials and the applicant's
-- inbox; and the working-day calendar of each region.
CREATE TABLE calendar_days (
    region_code  TEXT NOT NULL,
    day          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    PRIMARY KEY (region_code, day)
);

-- The form is sealed (it carries names, ID numbers, addresses). `version` counts transitions:
-- an action names the version it was decided on, so of two clerks acting at once one wins.
CREATE TABLE applications (
    id                  TEXT PRIMARY KEY,
    item_code           TEXT NOT NULL REFERENCES service_items(code),
    department_id       TEXT NOT NULL REFERENCES departments(id),
    applicant_kind      TEXT NOT NULL,
    applicant_id        TEXT NOT NULL,
    applicant_account   TEXT NOT NULL,
    state               TEXT NOT NULL,
    version             BIGINT NOT NULL,
    form_sealed         BYTEA NOT NULL,
    submitted_at        BIGINT NOT NULL,
    due_day             TEXT NOT NULL,
    state_since         BIGINT NOT NULL,
    result_certificate  TEXT,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX applications_queue ON applications (department_id, state, due_day);
CREATE INDEX applications_applicant ON applications (applicant_account, submitted_at);

CREATE TABLE application_events (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    at              BIGINT NOT NULL,
    actor_id        TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_state      TEXT NOT NULL,
    to_state        TEXT NOT NULL,
    reason_sealed   BYTEA
);
CREATE INDEX application_events_of ON application_events (application_id, at);

-- A material is an annotated copy obtained from the certificate library (免证办), or an
-- upload, kept as an opaque sealed blob and only ever served as a download.
CREATE TABLE application_materials (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,
    content_type    TEXT,
    size            BIGINT NOT NULL,
    data_sealed     BYTEA NOT NULL,
    added_at        BIGINT NOT NULL
);
CREATE INDEX application_materials_of ON application_materials (application_id);

CREATE TABLE application_notices (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    at              BIGINT NOT NULL,
    application_id  TEXT,
    text            TEXT NOT NULL,
    read_at         BIGINT
);
CREATE INDEX application_notices_of ON application_notices (account_id, at);

-- Files an applicant uploaded for a material, before the application that uses them.
-- Unused uploads are deleted after a day.
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data_sealed   BYTEA NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX uploads_of ON uploads (account_id, at);
