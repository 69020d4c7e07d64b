-- Keys and the transparency log. Data keys and private signing keys are stored only sealed
-- under the master key; the log is append-only, sequenced by ledger_head.

CREATE TABLE data_keys (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    algorithm     TEXT NOT NULL,
    public_key    BLOB NOT NULL,
    sealed_secret BLOB NOT NULL,
    not_before    BIGINT NOT NULL,
    not_after     BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX signing_keys_owner ON signing_keys(owner, purpose, not_before);

CREATE TABLE ledger_head (
    id    BIGINT PRIMARY KEY,
    size  BIGINT NOT NULL
);
INSERT INTO ledger_head (id, size) VALUES (1, 0);

-- Each entry with its leaf hash, HASH(0x00 ‖ data).
CREATE TABLE ledger_entries (
    idx        BIGINT PRIMARY KEY,
    leaf_hash  BLOB NOT NULL,
    data       BLOB NOT NULL
);

-- Hashes of the perfect subtrees above the leaves (level 1 and up).
CREATE TABLE ledger_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE ledger_checkpoints (
    size        BIGINT PRIMARY KEY,
    root        BLOB NOT NULL,
    note        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

ALTER TABLE personal_data_access ADD COLUMN ledger_index BIGINT;
