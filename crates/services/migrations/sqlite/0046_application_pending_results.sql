-- The certificate an approval is to issue, written in the approval's transaction and deleted
-- once the certificate is issued and recorded as the application's result. A row older than a
-- minute is an issuance that was cut off (the node died, the database went away): a job
-- finishes it, once.
CREATE TABLE application_pending_results (
    application_id  TEXT PRIMARY KEY,
    type_code       TEXT NOT NULL,
    department_id   TEXT NOT NULL,
    issued_by       TEXT NOT NULL,
    -- The holder (kind, record id, name, code) and the items, as JSON, sealed.
    draft_sealed    BLOB NOT NULL,
    created_at      BIGINT NOT NULL
);
