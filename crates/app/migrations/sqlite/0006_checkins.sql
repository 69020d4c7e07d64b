-- Check-ins: who was admitted or checked in where and when. Laid out for contact matching
-- over hundreds of millions of rows (see ARCHITECTURE.md, "Check-ins"):
-- - rows are keyed (day, venue_no, at, subject), so "who was at this venue around this time"
--   is one range of the primary key, and retention deletes whole days from its front;
-- - a second index (subject, at) finds one person's visits;
-- - the person is a 16-byte keyed pseudonym, never in clear; checkin_subjects maps each
--   pseudonym, once, to the person id sealed under the field key, opened only when a health
--   officer confirms a contact.
ALTER TABLE venues ADD COLUMN records_checkins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN no BIGINT;
CREATE UNIQUE INDEX venues_no ON venues (no);

CREATE TABLE checkins (
    day       BIGINT NOT NULL,
    venue_no  BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    subject   BLOB NOT NULL,
    method    BIGINT NOT NULL,
    PRIMARY KEY (day, venue_no, at, subject)
) WITHOUT ROWID;
CREATE INDEX checkins_subject ON checkins (subject, at);

CREATE TABLE checkin_subjects (
    subject        BLOB PRIMARY KEY,
    person_sealed  BLOB NOT NULL
) WITHOUT ROWID;
