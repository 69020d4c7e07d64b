-- Check-ins: who was admitted or checked in where and when, laid out for bursts of scans and
-- for contact matching over hundreds of millions of rows (ARCHITECTURE.md, "Check-ins"):
-- - checkin_log takes every check-in as it is acknowledged: appended in id (time) order, so a
--   burst writes sequential pages;
-- - a compactor moves log rows older than a minute into checkins, sorted, keyed
--   (day, venue_no, at, subject): "who was at this venue around this time" is one range of
--   the primary key, and retention deletes whole days from its front; the index
--   (day, subject, at) finds one person's visits with one seek per day;
-- - the person is a 16-byte keyed pseudonym, never in clear; checkin_subjects maps each
--   pseudonym, once a day, to the person id sealed under the field key, opened only when a
--   health officer confirms a contact, and deleted by day with the check-ins.
ALTER TABLE venues ADD COLUMN records_checkins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN no BIGINT;
CREATE UNIQUE INDEX venues_no ON venues (no);

CREATE TABLE checkin_log (
    id             TEXT PRIMARY KEY,
    venue_no       BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    subject        BLOB NOT NULL,
    person_sealed  BLOB NOT NULL,
    method         BIGINT NOT NULL
);
CREATE INDEX checkin_log_at ON checkin_log (at);

CREATE TABLE checkins (
    day       BIGINT NOT NULL,
    venue_no  BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    subject   BLOB NOT NULL,
    method    BIGINT NOT NULL,
    PRIMARY KEY (day, venue_no, at, subject)
) WITHOUT ROWID;
CREATE INDEX checkins_subject ON checkins (day, subject, at);

CREATE TABLE checkin_subjects (
    day            BIGINT NOT NULL,
    subject        BLOB NOT NULL,
    person_sealed  BLOB NOT NULL,
    PRIMARY KEY (day, subject)
) WITHOUT ROWID;
