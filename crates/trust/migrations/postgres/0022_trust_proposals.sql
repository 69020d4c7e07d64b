-- A change that widens what this region trusts (a region recognised, DCC signers or schemas,
-- a SMART Health Card issuer, the visitors' rule): proposed by one security administrator, in
-- force when a second approves it within a day. Removing trust needs one.
CREATE TABLE trust_proposals (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    change       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    proposed_by  TEXT NOT NULL,
    proposed_at  BIGINT NOT NULL,
    approved_by  TEXT,
    approved_at  BIGINT
);
CREATE INDEX trust_proposals_open ON trust_proposals(approved_at, proposed_at);
