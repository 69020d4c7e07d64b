-- Materials an applicant adds to a case after the competent region asked for a correction
-- (补正材料), on both sides: their names, and the materials themselves sealed.
CREATE TABLE cross_supplements (
    id                TEXT PRIMARY KEY,
    case_id           TEXT NOT NULL REFERENCES cross_cases(id),
    seq               BIGINT NOT NULL,
    names             TEXT NOT NULL,
    materials_sealed  BLOB NOT NULL,
    added_at          BIGINT NOT NULL
);
CREATE INDEX cross_supplements_of ON cross_supplements (case_id, seq);
