-- Keyed indexes of each person's name as travel documents spell it, with their birth date:
-- HMAC(index key, "<SPELLING>|<YYYY-MM-DD>"). A foreign health card shown at a door names its
-- holder and birth date; when they match a person registered here, that person's own status
-- applies and the card cannot override it. Without the key the table says nothing.
CREATE TABLE person_match_keys (
    match_key  TEXT NOT NULL,
    person_id  TEXT NOT NULL REFERENCES persons(id)
);
CREATE INDEX person_match_keys_key ON person_match_keys(match_key);
CREATE INDEX person_match_keys_person ON person_match_keys(person_id);

-- When the person's match keys were written; NULL for persons registered before, whom the
-- node indexes when it starts.
ALTER TABLE persons ADD COLUMN match_keyed BIGINT;
