-- The message log of the data-sharing gateway: one row per exchange, for the parties' search
-- and their receipts. The signed record itself is an entry of the transparency log
-- (ledger_index); the row holds no personal data and no message content, only who called
-- which service, when, with what outcome.
CREATE TABLE exchange_messages (
    id                      TEXT PRIMARY KEY,
    at                      BIGINT NOT NULL,
    client                  TEXT NOT NULL,
    service                 TEXT NOT NULL,
    resource_code           TEXT NOT NULL,
    consumer_department_id  TEXT NOT NULL,
    provider_department_id  TEXT NOT NULL,
    method                  TEXT NOT NULL,
    status                  BIGINT NOT NULL,
    error_type              TEXT,
    removed_values          BIGINT NOT NULL,
    micros                  BIGINT NOT NULL,
    ledger_index            BIGINT NOT NULL
);
CREATE INDEX exchange_messages_consumer ON exchange_messages (consumer_department_id, at);
CREATE INDEX exchange_messages_provider ON exchange_messages (provider_department_id, at);
