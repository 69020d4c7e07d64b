-- The service catalogue (政务服务事项): each item's full definition (the national
-- implementation-list fields, JSON) beside the columns that certificate use and browsing read.
-- `version` counts saves, so two administrators editing at once cannot overwrite each other.
ALTER TABLE service_items ADD COLUMN definition TEXT;
ALTER TABLE service_items ADD COLUMN item_type TEXT;
ALTER TABLE service_items ADD COLUMN theme TEXT;
ALTER TABLE service_items ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE service_items ADD COLUMN updated_at BIGINT;
CREATE INDEX service_items_department ON service_items (department_id);
