-- Foreign credentials at the door: the SMART Health Card issuers this region trusts (their
-- JWKS and revocation lists, configured locally since there is no network), and the region's
-- acceptance rule for visitors (CertLogic).
CREATE TABLE shc_issuers (
    iss          TEXT PRIMARY KEY,
    jwks         TEXT NOT NULL,
    crls         TEXT NOT NULL,
    imported_at  BIGINT NOT NULL
);

CREATE TABLE visitor_rules (
    id          TEXT PRIMARY KEY,
    rule        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);
