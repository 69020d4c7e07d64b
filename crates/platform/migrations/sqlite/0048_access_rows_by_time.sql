-- The purge of access records past their retention deletes by time alone: without this index
-- it read the whole table (every record of every read of personal data) each time it ran, and
-- the connection that ran it kept those pages in its cache.
CREATE INDEX personal_data_access_at ON personal_data_access (at);
