-- Certificates another region issued to a holder of this region (the result of a 跨省通办
-- case), kept in the holder's wallet once verified against that region's trust list. The
-- signed certificate is sealed at rest; the list shows its type, issuer and days.
CREATE TABLE certificates_elsewhere (
    id              TEXT NOT NULL,
    holder_kind     TEXT NOT NULL,
    holder_id       TEXT NOT NULL,
    region          TEXT NOT NULL,
    type_name       TEXT NOT NULL,
    issuer_name     TEXT NOT NULL,
    issued_on       TEXT NOT NULL,
    valid_until     TEXT,
    document_sealed BYTEA NOT NULL,
    source          TEXT NOT NULL,
    received_at     BIGINT NOT NULL,
    -- As the issuing region's signed status list last said (valid, suspended, revoked), and
    -- when this region last read that list.
    status          TEXT NOT NULL,
    status_at       BIGINT NOT NULL,
    PRIMARY KEY (holder_kind, holder_id, id)
);
