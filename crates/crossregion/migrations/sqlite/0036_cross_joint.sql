-- 多地联办: an item's next part (the item code another region handles after this one), as a
-- partner's catalogue lists it; a joint case's sent side moves from part to part.
ALTER TABLE cross_items ADD COLUMN joint_next TEXT;
-- The part of the route the case is at (0 for a case of one region).
ALTER TABLE cross_cases ADD COLUMN leg BIGINT NOT NULL DEFAULT 0;
