-- Grants to departments of other regions (跨区域共享): the owner of a resource lets a
-- department of a recognised region read items of it through the gateways. The department is
-- named by its USCC, which that region's trust list binds to its exchange key; its name is as
-- the owner recorded it.
CREATE TABLE data_foreign_grants (
    id             TEXT PRIMARY KEY,
    resource_code  TEXT NOT NULL REFERENCES data_resources(code),
    region_code    TEXT NOT NULL,
    consumer_uscc  TEXT NOT NULL,
    consumer_name  TEXT NOT NULL,
    items          TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    until_day      TEXT NOT NULL,
    granted_by     TEXT NOT NULL,
    granted_at     BIGINT NOT NULL,
    revoked_by     TEXT,
    revoked_at     BIGINT,
    revoke_note    TEXT
);
CREATE INDEX data_foreign_grants_consumer ON data_foreign_grants (consumer_uscc, resource_code);
CREATE INDEX data_foreign_grants_resource ON data_foreign_grants (resource_code);
