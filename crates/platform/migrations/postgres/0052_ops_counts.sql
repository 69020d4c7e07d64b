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
