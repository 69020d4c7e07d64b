-- 收文: documents received by an organ of this deployment, one per recipient organ, copied from
-- the sent document (its elements, number and sender) so that it stands alone: 签收 → 登记 (the
-- register number 收文编号, without gaps per organ and year, from office_numbers) → 初审 → 承办
-- (a handler and a working-day limit) → 传阅 → 催办 → 答复 (办结). `version` is raised by every
-- act, so that two people acting at once cannot both move it.
CREATE TABLE office_incoming (
    id                    TEXT PRIMARY KEY,
    department_id         TEXT NOT NULL,
    source_document_id    TEXT NOT NULL,
    sender_department_id  TEXT NOT NULL,
    sender_name           TEXT NOT NULL,
    copied                BIGINT NOT NULL,
    title                 TEXT NOT NULL,
    number                TEXT NOT NULL,
    draft                 TEXT NOT NULL,
    dated                 TEXT NOT NULL,
    urgency               BIGINT NOT NULL,
    state                 TEXT NOT NULL,
    register_year         BIGINT,
    register_seq          BIGINT,
    handler_id            TEXT,
    due_day               TEXT,
    reminded_at           BIGINT,
    reply                 TEXT,
    version               BIGINT NOT NULL,
    received_at           BIGINT NOT NULL,
    modified_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX office_incoming_source ON office_incoming (source_document_id, department_id);
CREATE UNIQUE INDEX office_incoming_register ON office_incoming (department_id, register_year, register_seq);
CREATE INDEX office_incoming_department ON office_incoming (department_id, state, modified_at);
CREATE INDEX office_incoming_handler ON office_incoming (handler_id, state);

-- A sent document is delivered once: dated when its recipients' inboxes have it.
ALTER TABLE office_documents ADD COLUMN delivered_at BIGINT;
CREATE INDEX office_documents_undelivered ON office_documents (state, delivered_at);

-- Where a sent document went: each recipient named on it (主送 or 抄送), the organ of this
-- deployment that took it, or none when the organ is not one of this deployment's.
CREATE TABLE office_deliveries (
    document_id    TEXT NOT NULL,
    position       BIGINT NOT NULL,
    recipient      TEXT NOT NULL,
    copied         BIGINT NOT NULL,
    incoming_id    TEXT,
    delivered_at   BIGINT NOT NULL,
    PRIMARY KEY (document_id, position)
);

-- Every act on a received document, never changed, as office_history is for those sent.
CREATE TABLE office_incoming_history (
    incoming_id     TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    step            TEXT NOT NULL,
    act             TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    opinion         TEXT NOT NULL,
    opinion_digest  TEXT NOT NULL,
    content_digest  TEXT NOT NULL,
    log_index       BIGINT,
    at              BIGINT NOT NULL,
    PRIMARY KEY (incoming_id, seq)
);
CREATE INDEX office_incoming_history_actor ON office_incoming_history (actor_id, at);
CREATE INDEX office_incoming_history_unlogged ON office_incoming_history (log_index);

-- 传阅: the people a received document is circulated to, each receipt dated when read.
CREATE TABLE office_incoming_readers (
    incoming_id  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    sent_at      BIGINT NOT NULL,
    read_at      BIGINT,
    PRIMARY KEY (incoming_id, account_id)
);
CREATE INDEX office_incoming_readers_account ON office_incoming_readers (account_id, read_at);
