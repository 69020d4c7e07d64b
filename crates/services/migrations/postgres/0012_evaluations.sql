-- 好差评: the applicant's rating of a delivered application (one each), and the
-- rectification a poor rating opens for the department, closed only with a reply.
CREATE TABLE evaluations (
    application_id  TEXT PRIMARY KEY REFERENCES applications(id),
    department_id   TEXT NOT NULL REFERENCES departments(id),
    item_code       TEXT NOT NULL,
    grade           BIGINT NOT NULL,
    indicators      TEXT NOT NULL,
    comment_sealed  BYTEA,
    at              BIGINT NOT NULL
);
CREATE INDEX evaluations_department ON evaluations (department_id, at);

CREATE TABLE rectifications (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications(id),
    department_id   TEXT NOT NULL REFERENCES departments(id),
    opened_at       BIGINT NOT NULL,
    due_day         TEXT NOT NULL,
    state           TEXT NOT NULL,
    reply_sealed    BYTEA,
    closed_at       BIGINT,
    closed_by       TEXT
);
CREATE INDEX rectifications_department ON rectifications (department_id, state, due_day);
