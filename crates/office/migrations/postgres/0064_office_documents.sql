-- 协同办公: official documents (公文). A document is kept as its draft's elements (JSON, as
-- tongban-gongwen defines them) beside the columns it is found by; its number (发文字号), once
-- issued, is unique per organ's code and year.
CREATE TABLE office_documents (
    id             TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    draft          TEXT NOT NULL,
    state          TEXT NOT NULL,
    number_code    TEXT,
    number_year    BIGINT,
    number_seq     BIGINT,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    modified_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX office_documents_number ON office_documents (number_code, number_year, number_seq);
CREATE INDEX office_documents_department ON office_documents (department_id, state, modified_at);

-- The last number issued per organ's code and year. A number is taken in the transaction that
-- writes it on its document, so a transaction that fails gives it back: the numbers of a code
-- and year run from 1 without a gap or a repeat, on any number of nodes.
CREATE TABLE office_numbers (
    code  TEXT NOT NULL,
    year  BIGINT NOT NULL,
    last  BIGINT NOT NULL,
    PRIMARY KEY (code, year)
);
