-- 数据开放: the open-data portal.
--
-- The departments that publish (CKAN's organizations), by their URL name.
CREATE TABLE open_organizations (
    department_id  TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    description    TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Datasets. Themes and tags are JSON arrays of names; `private` is 0/1; `state` is active or
-- deleted (a deleted dataset keeps its name, as CKAN's do).
CREATE TABLE open_datasets (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    department_id   TEXT NOT NULL,
    title           TEXT NOT NULL,
    title_en        TEXT NOT NULL,
    notes           TEXT NOT NULL,
    notes_en        TEXT NOT NULL,
    themes          TEXT NOT NULL,
    tags            TEXT NOT NULL,
    license_id      TEXT NOT NULL,
    frequency       TEXT NOT NULL,
    temporal_start  TEXT,
    temporal_end    TEXT,
    spatial         TEXT NOT NULL,
    contact_name    TEXT NOT NULL,
    contact_email   TEXT NOT NULL,
    source          TEXT,
    private         BIGINT NOT NULL,
    state           TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL
);
CREATE INDEX open_datasets_department ON open_datasets (department_id);

-- Resources: links, or uploads the personal-data gate scanned (`findings`, JSON) and the
-- publisher treated (`treatments`, JSON); published by another person than `changed_by`.
CREATE TABLE open_resources (
    id            TEXT PRIMARY KEY,
    dataset_id    TEXT NOT NULL REFERENCES open_datasets(id),
    position      BIGINT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    format        TEXT NOT NULL,
    url           TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    fields        TEXT NOT NULL,
    row_count     BIGINT NOT NULL,
    state         TEXT NOT NULL,
    findings      TEXT NOT NULL,
    treatments    TEXT NOT NULL,
    quasi         TEXT NOT NULL,
    k             BIGINT NOT NULL,
    changed_by    TEXT NOT NULL,
    published_by  TEXT,
    downloads     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    modified_at   BIGINT NOT NULL
);
CREATE INDEX open_resources_dataset ON open_resources (dataset_id, position);

-- The files: `raw`, the upload as sent, sealed (it may hold personal data until treated),
-- kept only until publication; `served`, what the portal serves once published.
CREATE TABLE open_files (
    resource_id  TEXT NOT NULL REFERENCES open_resources(id),
    kind         TEXT NOT NULL,
    content      BYTEA NOT NULL,
    PRIMARY KEY (resource_id, kind)
);

-- Other portals' DCAT-AP catalogues a department harvests, and which local dataset each
-- harvested dataset (by its IRI there) became.
CREATE TABLE open_harvest_sources (
    id             TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    url            TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_run_at    BIGINT,
    last_status    TEXT NOT NULL
);
CREATE TABLE open_harvested (
    source_id   TEXT NOT NULL REFERENCES open_harvest_sources(id),
    remote_iri  TEXT NOT NULL,
    dataset_id  TEXT NOT NULL REFERENCES open_datasets(id),
    PRIMARY KEY (source_id, remote_iri)
);
