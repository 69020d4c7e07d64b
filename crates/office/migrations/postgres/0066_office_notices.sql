-- 通知公告: notices from a department to units and people, with a receipt per recipient. The
-- recipients are fixed when the notice is sent (the staff of the units named, and the people
-- named); a receipt is dated when its recipient opens the notice. A reminder dates the notice.
CREATE TABLE office_notices (
    id             TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    sent_by        TEXT NOT NULL,
    sent_at        BIGINT NOT NULL,
    read_by        BIGINT,
    reminded_at    BIGINT
);
CREATE INDEX office_notices_department ON office_notices (department_id, sent_at);

CREATE TABLE office_notice_receipts (
    notice_id   TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    read_at     BIGINT,
    PRIMARY KEY (notice_id, account_id)
);
CREATE INDEX office_notice_receipts_account ON office_notice_receipts (account_id, read_at);
