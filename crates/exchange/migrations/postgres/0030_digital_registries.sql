-- Digital registries (GovStack Digital Registries): a department keeps the records of one of
-- its catalogue resources under a registry name and version. A record's fields are the
-- resource's data items; its ID item is found through a keyed blind index, and the whole
-- record is sealed, since registries hold personal data.
CREATE TABLE data_registries (
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    resource_code  TEXT NOT NULL REFERENCES data_resources(code),
    id_item        TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE registry_records (
    registry        TEXT NOT NULL,
    version         TEXT NOT NULL,
    record_key      TEXT NOT NULL,
    content_sealed  BYTEA NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (registry, version, record_key)
);
