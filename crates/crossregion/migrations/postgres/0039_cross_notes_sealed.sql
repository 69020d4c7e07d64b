-- A step's note (what is missing, why an application is rejected, how a part ended) is what a
-- clerk wrote about a person's case: kept sealed from now on, as the services module keeps its
-- reasons. Notes written before stay readable as they were.
ALTER TABLE cross_cases ADD COLUMN note_sealed BYTEA;
ALTER TABLE cross_case_events ADD COLUMN note_sealed BYTEA;
