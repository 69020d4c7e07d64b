-- A resource's files kept in parts of at most 4 MiB, so that a file of any size is written as
-- it arrives and read back in bounded memory. A raw upload's parts are sealed one by one (the
-- part's number is in the sealing context) and the whole is checked against the resource's
-- SHA-256 when read to its end, so no part can be dropped, swapped or cut unnoticed.
CREATE TABLE open_file_parts (
    file_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    content     BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (file_id, seq)
);

-- Which file is a resource's raw upload or served file. Parts no row names are an upload
-- still arriving, or one a failure left behind (removed after a day).
CREATE TABLE open_file_refs (
    resource_id  TEXT NOT NULL REFERENCES open_resources(id),
    kind         TEXT NOT NULL,
    file_id      TEXT NOT NULL,
    PRIMARY KEY (resource_id, kind)
);

-- Files kept whole before become one part each; a raw upload keeps its sealing context
-- (`open_files/raw/{resource}`), which is the first part's of the file `raw/{resource}`.
INSERT INTO open_file_parts (file_id, seq, content, created_at)
    SELECT kind || '/' || resource_id, 0, content, 0 FROM open_files;
INSERT INTO open_file_refs (resource_id, kind, file_id)
    SELECT resource_id, kind, kind || '/' || resource_id FROM open_files;
DROP TABLE open_files;
