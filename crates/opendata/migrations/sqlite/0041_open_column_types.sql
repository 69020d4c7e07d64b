-- The column types a publisher chose over the inferred ones: a JSON list of [column, type].
ALTER TABLE open_resources ADD COLUMN column_types TEXT NOT NULL DEFAULT '[]';
