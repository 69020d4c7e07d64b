-- A package and an outbox body are written once, while their rows change at every step and
-- delivery attempt; a database that rewrites a whole row on update (SQLite does) would copy
-- the materials each time. They live in tables of their own.
CREATE TABLE cross_case_packages (
    case_id         TEXT PRIMARY KEY REFERENCES cross_cases(id),
    package_sealed  BLOB NOT NULL
);
INSERT INTO cross_case_packages (case_id, package_sealed) SELECT id, package_sealed FROM cross_cases;
ALTER TABLE cross_cases DROP COLUMN package_sealed;
CREATE TABLE cross_outbox_bodies (
    id           TEXT PRIMARY KEY REFERENCES cross_outbox(id),
    body_sealed  BLOB NOT NULL
);
INSERT INTO cross_outbox_bodies (id, body_sealed) SELECT id, body_sealed FROM cross_outbox;
ALTER TABLE cross_outbox DROP COLUMN body_sealed;
