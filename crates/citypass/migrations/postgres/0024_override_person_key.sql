-- A manual colour change names its person by a keyed index of their id (for the person's
-- status) and by the id sealed (for the approver's inbox), never by the id in clear. Rows
-- written before this have no sealed id yet and hold the id in `person_key`; the node rewrites
-- them when it starts.
ALTER TABLE status_overrides DROP CONSTRAINT IF EXISTS status_overrides_person_id_fkey;
ALTER TABLE status_overrides RENAME COLUMN person_id TO person_key;
ALTER TABLE status_overrides ADD COLUMN person_sealed BYTEA;
