-- The government information resource catalogue (政务信息资源目录): each resource a department
-- holds, its data items (信息项) with their personal-data category, and whether and how it is
-- shared (共享) and opened (开放). Requests for a resource name the items they need; a grant is
-- a request decided, with the items granted and until when.
CREATE TABLE data_resources (
    code              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    department_id     TEXT NOT NULL REFERENCES departments(id),
    description       TEXT NOT NULL,
    share_type        TEXT NOT NULL,
    share_conditions  TEXT,
    legal_basis       TEXT,
    open_type         TEXT NOT NULL,
    update_cycle      TEXT NOT NULL,
    format            TEXT NOT NULL,
    service           TEXT,
    version           BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL
);
CREATE INDEX data_resources_department ON data_resources (department_id);

CREATE TABLE data_items (
    resource_code  TEXT NOT NULL REFERENCES data_resources(code),
    position       BIGINT NOT NULL,
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    length         BIGINT,
    personal       TEXT,
    PRIMARY KEY (resource_code, code)
);

CREATE TABLE data_requests (
    id                      TEXT PRIMARY KEY,
    resource_code           TEXT NOT NULL REFERENCES data_resources(code),
    consumer_department_id  TEXT NOT NULL REFERENCES departments(id),
    items                   TEXT NOT NULL,
    purpose                 TEXT NOT NULL,
    legal_basis             TEXT NOT NULL,
    service_item            TEXT,
    until_day               TEXT NOT NULL,
    state                   TEXT NOT NULL,
    requested_by            TEXT NOT NULL,
    requested_at            BIGINT NOT NULL,
    decided_by              TEXT,
    decided_at              BIGINT,
    decision_note           TEXT,
    granted_items           TEXT
);
CREATE INDEX data_requests_consumer ON data_requests (consumer_department_id, state);
CREATE INDEX data_requests_resource ON data_requests (resource_code, state);
