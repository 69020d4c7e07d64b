-- The purge of health facts past their retention deletes by expiry alone: without this index
-- it read every fact each time it ran.
CREATE INDEX health_facts_expires ON health_facts (expires_at);
