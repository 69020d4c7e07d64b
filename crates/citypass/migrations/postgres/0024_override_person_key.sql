-- A manual colour change names its person by a keyed index of their id (for the person's
-- status) and by the id sealed (for the approver's inbox), never by the id in clear. Rows
-- written before this have no sealed id yet and hold the id in `person_key`; the node rewrites
-- them when it starts.
CREATE TABLE status_overrides_keyed (
    id            TEXT PRIMARY KEY,
    person_key    TEXT NOT NULL,
    person_sealed BYTEA,
    colour        TEXT NOT NULL,
    reason_code   TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    expires_at    BIGINT NOT NULL
);
INSERT INTO status_overrides_keyed
    (id, person_key, person_sealed, colour, reason_code, requested_by, requested_at, approved_by, approved_at, expires_at)
    SELECT id, person_id, NULL, colour, reason_code, requested_by, requested_at, approved_by, approved_at, expires_at
    FROM status_overrides;
DROP TABLE status_overrides;
ALTER TABLE status_overrides_keyed RENAME TO status_overrides;
CREATE INDEX status_overrides_person ON status_overrides(person_key, expires_at);
