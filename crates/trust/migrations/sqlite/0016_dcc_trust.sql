-- EU Digital COVID Certificates at the door: the document signer certificates (DSC, X.509)
-- trusted as anchors, by key id, and the DCC JSON schemas by release, against which a
-- certificate is validated by the version it declares.
CREATE TABLE dcc_signers (
    fingerprint  TEXT PRIMARY KEY,
    kid          TEXT NOT NULL,
    country      TEXT,
    subject      TEXT NOT NULL,
    not_after    BIGINT NOT NULL,
    certificate  TEXT NOT NULL,
    imported_at  BIGINT NOT NULL
);
CREATE INDEX dcc_signers_kid ON dcc_signers (kid);

CREATE TABLE dcc_schemas (
    version      TEXT PRIMARY KEY,
    schema_text  TEXT NOT NULL,
    is_current   BIGINT NOT NULL,
    imported_at  BIGINT NOT NULL
);
