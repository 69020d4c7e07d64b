-- 跨地区公文交换: documents sent to organs of another region through the data-sharing exchange.
-- The organs of each partner region, as its document exchange (resource GW-TB-001) listed them;
-- a recipient named on a document that is one of them (by full name) is reached there.
CREATE TABLE office_remote_organs (
    region        TEXT NOT NULL,
    uscc          TEXT NOT NULL,
    name          TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    refreshed_at  BIGINT NOT NULL,
    PRIMARY KEY (region, uscc)
);
CREATE INDEX office_remote_organs_name ON office_remote_organs (name);

-- What goes to another region: one package per document and region, written with the
-- document's delivery and sent until that region takes it (or refuses it for good).
CREATE TABLE office_exchange_out (
    id           TEXT PRIMARY KEY,
    document_id  TEXT NOT NULL,
    region       TEXT NOT NULL,
    to_uscc      TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     BIGINT NOT NULL,
    next_at      BIGINT NOT NULL,
    outcome      TEXT,
    answer       TEXT,
    done_at      BIGINT
);
CREATE INDEX office_exchange_out_due ON office_exchange_out (outcome, next_at);
CREATE UNIQUE INDEX office_exchange_out_document ON office_exchange_out (document_id, region);

-- A recipient reached in another region: that region's code.
ALTER TABLE office_deliveries ADD COLUMN region TEXT;
