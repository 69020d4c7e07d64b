-- 一表通: the staff member who carries a collector's device. The device's forms are on that
-- person's to-do list (待填报), and the person, signed in, fills them without the token.
ALTER TABLE collect_actors ADD COLUMN holder_id TEXT;
CREATE INDEX collect_actors_holder ON collect_actors (holder_id);
