-- An access row names the person whose data was read by a keyed index of their id (an HMAC
-- under the vault's index key), not by the id itself: a copy of the table does not say whose
-- data each official read. Rows written before this hold the id; the node rewrites them when
-- it starts (they are told apart by the dashes of an id).
ALTER TABLE personal_data_access RENAME COLUMN subject_id TO subject_key;
