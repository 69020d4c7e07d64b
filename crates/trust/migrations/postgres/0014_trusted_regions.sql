-- 互认: other regions whose passes (and later certificates) this region recognises. Each is
-- pinned to the root key its administrator obtained out of band; the latest signed trust list
-- imported under that key is kept whole, so its signature can be checked again at any time.
CREATE TABLE trusted_regions (
    region_code  TEXT PRIMARY KEY,
    root_alg     TEXT NOT NULL,
    root_key     TEXT NOT NULL,
    list_text    TEXT NOT NULL,
    issued_at    TEXT NOT NULL,
    imported_at  BIGINT NOT NULL,
    imported_by  TEXT NOT NULL
);
