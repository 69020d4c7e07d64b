-- 一表通: one-form collection, as ODK Central organises it. A project holds one department's
-- forms and the app users (collectors' devices) that fill them in.
CREATE TABLE collect_projects (
    id             BIGINT PRIMARY KEY,
    name           TEXT NOT NULL,
    department_id  TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX collect_projects_department ON collect_projects (department_id);

-- Forms: the definition read from the XLSForm (JSON) and the XForm written from it, with its
-- MD5 as OpenRosa form lists give it. `state` is pending (waiting for the burden-reduction
-- office), approved (open for collection), returned (sent back, with the office's note) or
-- closed.
CREATE TABLE collect_forms (
    project_id     BIGINT NOT NULL,
    xml_form_id    TEXT NOT NULL,
    version        TEXT NOT NULL,
    title          TEXT NOT NULL,
    definition     TEXT NOT NULL,
    xform          TEXT NOT NULL,
    hash           TEXT NOT NULL,
    state          TEXT NOT NULL,
    due_day        TEXT,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    decided_by     TEXT,
    decided_at     BIGINT,
    decision_note  TEXT,
    PRIMARY KEY (project_id, xml_form_id)
);

-- Who submits, with ODK's numeric ids: app users of a project (their token's digest kept, the
-- token shown once) and staff accounts (project 0, one row per account).
CREATE TABLE collect_actors (
    id             BIGINT PRIMARY KEY,
    project_id     BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    account_id     TEXT,
    token_hash     TEXT UNIQUE,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE UNIQUE INDEX collect_actors_account ON collect_actors (project_id, account_id);

-- Submissions: the instance as sent, sealed at rest (it holds names, phones, addresses); one
-- per form and instanceID.
CREATE TABLE collect_submissions (
    project_id     BIGINT NOT NULL,
    xml_form_id    TEXT NOT NULL,
    instance_id    TEXT NOT NULL,
    submitter_id   BIGINT NOT NULL,
    device_id      TEXT,
    version        TEXT NOT NULL,
    xml_hash       TEXT NOT NULL,
    xml_sealed     BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (project_id, xml_form_id, instance_id)
);
CREATE INDEX collect_submissions_time ON collect_submissions (project_id, xml_form_id, created_at);

-- Files sent with a submission (photos, documents), sealed at rest.
CREATE TABLE collect_attachments (
    project_id     BIGINT NOT NULL,
    xml_form_id    TEXT NOT NULL,
    instance_id    TEXT NOT NULL,
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    body_sealed    BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (project_id, xml_form_id, instance_id, name)
);
