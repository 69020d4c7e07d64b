-- Entities made by submissions: the unit that collected them (a device sees the entities of
-- its unit) and the submission that made them; submissions gain a review state, and an entity
-- list that requires approval gets a submission's entity only when it is approved.
ALTER TABLE collect_entities ADD COLUMN region_code TEXT;
ALTER TABLE collect_entities ADD COLUMN source_instance TEXT;
ALTER TABLE collect_submissions ADD COLUMN review_state TEXT;
