-- Until when each account has read its messages (the message centre's unread count starts
-- after it). One row per account that has opened its messages.
CREATE TABLE message_marks (
    account_id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
