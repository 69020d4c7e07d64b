-- Identity checks by ID number, counted per officer and minute before the number is looked
-- up: the limit then holds for unknown numbers too, and for checks made at the same moment.
CREATE TABLE id_check_attempts (
    actor_id TEXT NOT NULL,
    minute   BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (actor_id, minute)
);
