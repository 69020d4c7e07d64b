-- 场所码: venues apply (an operator), are approved or refused by staff of their district, and
-- can be revoked; an active venue has a printable code. Companions (同行人员) are family members
-- a citizen registered, whom they may check in along with themselves.
ALTER TABLE venues ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE venues ADD COLUMN capacity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE venues ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE venues ADD COLUMN applied_by TEXT;
ALTER TABLE venues ADD COLUMN decided_by TEXT;
ALTER TABLE venues ADD COLUMN decided_at BIGINT;

CREATE TABLE companions (
    holder_person_id  TEXT NOT NULL REFERENCES persons(id),
    person_id         TEXT NOT NULL REFERENCES persons(id),
    relation          TEXT NOT NULL,
    masked_name       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (holder_person_id, person_id)
);
