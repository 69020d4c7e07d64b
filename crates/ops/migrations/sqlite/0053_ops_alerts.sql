-- 一网统管's alerts: a threshold on a figure of a region, per hour or per day; an alert is
-- raised once for each period in which the figure reaches it, and stays open until a viewer
-- of the region acknowledges it.
CREATE TABLE ops_alert_rules (
    id            TEXT PRIMARY KEY,
    region_code   TEXT NOT NULL,
    figure        TEXT NOT NULL,
    per           TEXT NOT NULL,
    threshold     BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE ops_alerts (
    id               TEXT PRIMARY KEY,
    rule_id          TEXT NOT NULL REFERENCES ops_alert_rules(id),
    period_start     BIGINT NOT NULL,
    value            BIGINT NOT NULL,
    raised_at        BIGINT NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  BIGINT,
    UNIQUE (rule_id, period_start)
);
CREATE INDEX ops_alerts_open ON ops_alerts (acknowledged_at, raised_at);
