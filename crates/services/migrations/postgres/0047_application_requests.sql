-- An applicant's Idempotency-Key (the request header) and the application it made, written in
-- the application's transaction: the same key sent again — a retry after an answer that was
-- lost — answers that application instead of making a second. Kept a day.
CREATE TABLE application_requests (
    account_id       TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    -- SHA-256 of the item and the request, so that a key reused for another request is refused.
    fingerprint      TEXT NOT NULL,
    application_id   TEXT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);
