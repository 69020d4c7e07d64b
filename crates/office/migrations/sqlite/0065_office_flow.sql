-- 协同办公: outgoing documents travel from draft to sent (拟稿 → 审核 → 签发 → 复核 → 用印 → 登记
-- → 分发). The document keeps the code it is numbered under, its urgency (for the to-do lists)
-- and a version raised by every act, so that two people acting at once cannot both move it.
ALTER TABLE office_documents ADD COLUMN code TEXT NOT NULL DEFAULT '';
ALTER TABLE office_documents ADD COLUMN urgency BIGINT NOT NULL DEFAULT 0;
ALTER TABLE office_documents ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE INDEX office_documents_drafter ON office_documents (created_by, state);

-- The codes (机关代字) an organ numbers its documents under, each an organ's own.
CREATE TABLE office_codes (
    code           TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX office_codes_department ON office_codes (department_id);

-- Who a document was sent to for review and sign-off, named when it was sent; a reviewer's
-- agreement is dated. A document sent back and sent again names them anew.
CREATE TABLE office_parties (
    document_id  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    party        TEXT NOT NULL,
    position     BIGINT NOT NULL,
    agreed_at    BIGINT,
    PRIMARY KEY (document_id, party, account_id)
);
CREATE INDEX office_parties_account ON office_parties (account_id, party);

-- Every act on a document (流转记录), never changed: who, in which step, the opinion and the
-- digests of the opinion and of the document's text at that moment, and the index of the
-- transparency log's entry that witnesses them (written once the log has it).
CREATE TABLE office_history (
    document_id     TEXT NOT NULL,
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
    PRIMARY KEY (document_id, seq)
);
CREATE INDEX office_history_actor ON office_history (actor_id, at);
CREATE INDEX office_history_unlogged ON office_history (log_index);

-- What waits for whom (the to-do lists' index), kept by every act: a document waits for an
-- account (`account:<id>`: its drafter, a reviewer who has not agreed, the leader) or for a
-- department's secretariat (`department:<id>`), less the leader who signed it (`excluded`).
CREATE TABLE office_waiting (
    holder       TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    excluded     TEXT NOT NULL,
    urgency      BIGINT NOT NULL,
    since        BIGINT NOT NULL,
    PRIMARY KEY (holder, document_id)
);
CREATE INDEX office_waiting_list ON office_waiting (holder, urgency DESC, since);
CREATE INDEX office_waiting_document ON office_waiting (document_id);
