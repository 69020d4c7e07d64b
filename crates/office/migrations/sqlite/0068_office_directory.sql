-- 通讯录: the directory of the organs (the platform's departments, level 1) — their internal
-- departments and sub-units to the sixth level, the posts people hold in them (one person may
-- hold several; leaders marked), and what the directory knows of a person: the initials of
-- their name's pinyin for searching, and their work phone, sealed, with a keyed blind index
-- so that a number can be looked up without being stored in clear.
CREATE TABLE office_units (
    id             TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    parent_id      TEXT,
    level          INTEGER NOT NULL,
    name           TEXT NOT NULL,
    initials       TEXT NOT NULL,
    sort           INTEGER NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX office_units_department ON office_units (department_id, level, sort);

CREATE TABLE office_posts (
    id             TEXT PRIMARY KEY,
    department_id  TEXT NOT NULL,
    unit_id        TEXT,
    account_id     TEXT NOT NULL,
    title          TEXT NOT NULL,
    leader         INTEGER NOT NULL,
    sort           INTEGER NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX office_posts_department ON office_posts (department_id, sort);
CREATE INDEX office_posts_account ON office_posts (account_id);

CREATE TABLE office_people (
    account_id     TEXT PRIMARY KEY,
    initials       TEXT NOT NULL,
    phone_sealed   BLOB,
    phone_index    TEXT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX office_people_phone ON office_people (phone_index);
