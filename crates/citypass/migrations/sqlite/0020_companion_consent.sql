-- A companion is checked in along only with their consent: given by themself on their own
-- account, or in person at a service window (recorded by the clerk). Until then the row is a
-- request. Companions registered before consent was asked for are requests again.
ALTER TABLE companions ADD COLUMN consented_at BIGINT;
ALTER TABLE companions ADD COLUMN consented_by TEXT;
CREATE INDEX companions_person ON companions(person_id);
