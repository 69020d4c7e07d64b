-- What a DCC signer is checked against before it is trusted: a country signing CA (CSCA, an
-- X.509 CA certificate) that issued it, or the key of a signed signer list (a gateway's or a
-- national backend's) that carries it. Each signer names the anchor that vouched for it, and
-- is trusted only while that anchor is; signers imported before anchors existed name none.
CREATE TABLE dcc_anchors (
    fingerprint  TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    kid          TEXT NOT NULL,
    country      TEXT,
    subject      TEXT NOT NULL,
    not_after    BIGINT,
    material     TEXT NOT NULL,
    imported_at  BIGINT NOT NULL
);
CREATE INDEX dcc_anchors_kid ON dcc_anchors (kid);

ALTER TABLE dcc_signers ADD COLUMN vouched_by TEXT;
