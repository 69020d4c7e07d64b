-- Where a person lives: sealed like their name and phone, read only through the audited
-- accessor (a whole record, or a form's prefill).
ALTER TABLE persons ADD COLUMN address_sealed BYTEA;
