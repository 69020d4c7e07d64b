-- Check-ins: who was admitted where and when, at venues configured to record them. The person
-- is stored twice and never in clear: a keyed digest (subject) to find a person's visits and
-- others at the same venue, and the person id sealed under the field key to name a contact
-- once a health officer has confirmed them. Kept for the retention period, then deleted.
ALTER TABLE venues ADD COLUMN records_checkins BIGINT NOT NULL DEFAULT 0;

CREATE TABLE checkins (
    id              TEXT PRIMARY KEY,
    venue_id        TEXT NOT NULL REFERENCES venues(id),
    subject         TEXT NOT NULL,
    person_sealed   BYTEA NOT NULL,
    at              BIGINT NOT NULL,
    method          TEXT NOT NULL
);
CREATE INDEX checkins_venue_at ON checkins (venue_id, at);
CREATE INDEX checkins_subject_at ON checkins (subject, at);
CREATE INDEX checkins_at ON checkins (at);
