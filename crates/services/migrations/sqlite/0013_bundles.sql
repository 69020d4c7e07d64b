-- 一件事一次办: bundles of service items applied for with one merged form and one set of
-- materials, fanned out as one application per item to the departments behind them.
CREATE TABLE bundles (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    items       TEXT NOT NULL,
    life_event  TEXT,
    guide       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE bundle_applications (
    id                 TEXT PRIMARY KEY,
    bundle_code        TEXT NOT NULL REFERENCES bundles(code),
    applicant_account  TEXT NOT NULL,
    submitted_at       BIGINT NOT NULL
);
CREATE INDEX bundle_applications_of ON bundle_applications (applicant_account, submitted_at);

ALTER TABLE applications ADD COLUMN bundle_id TEXT;
CREATE INDEX applications_bundle ON applications (bundle_id);
