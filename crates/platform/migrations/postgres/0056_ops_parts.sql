-- 一网统管: the counts of some figures by part of a region as well — the department that did
-- the work (applications received, delivered on time …), the shared resource that was called —
-- per local day (its start, Unix milliseconds). Added in the same transaction as the region's
-- counts; read for a day, a week or a month.
CREATE TABLE ops_parts (
    figure       TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    part         TEXT NOT NULL,
    day          BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (figure, region_code, part, day)
);
CREATE INDEX ops_parts_day ON ops_parts (day);
