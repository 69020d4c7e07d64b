-- When each venue last had a check-in (the latest moved out of the log by the compactor): the
-- operations view's active venues are those seen in the last day — read from one row a venue,
-- never from the check-ins themselves. Venue-level, nothing about a person.
CREATE TABLE venue_seen (
    venue_no  BIGINT PRIMARY KEY,
    last_at   BIGINT NOT NULL
);
