-- 一网统管: how many of each figure happened, per region and hour (the hour's start, Unix
-- milliseconds). Each node adds its tally every few seconds; the operations view reads these
-- rows, never the tables the events live in.
CREATE TABLE ops_counts (
    figure       TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    hour         BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (figure, region_code, hour)
);
CREATE INDEX ops_counts_hour ON ops_counts (hour);

-- The same counts by day (the start of the deployment's local day, Unix milliseconds), added
-- in the same transaction: a week or a month is read from these.
CREATE TABLE ops_daily (
    figure       TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    day          BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (figure, region_code, day)
);
CREATE INDEX ops_daily_day ON ops_daily (day);
