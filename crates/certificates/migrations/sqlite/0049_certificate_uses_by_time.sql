-- The purge of certificate uses past their retention deletes by time alone: without this index
-- it read the whole table each time it ran.
CREATE INDEX cert_uses_at ON cert_uses (at);
