-- 用印 as a file: the certificates the deployment issues for the keys that sign official
-- documents (its root, and one per organ's key), and each sealed document's final PDF, signed.
-- A file is made once, when first asked for after sealing, and never changed: its digest is
-- in the transparency log.
CREATE TABLE office_certificates (
    kid         TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    der         BYTEA NOT NULL,
    subject     TEXT NOT NULL,
    not_after   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE office_files (
    document_id  TEXT PRIMARY KEY,
    pdf          BYTEA NOT NULL,
    digest       TEXT NOT NULL,
    kid          TEXT NOT NULL,
    log_index    BIGINT,
    made_at      BIGINT NOT NULL
);
