-- Status lists and 授权用证.
--
-- Each certificate has a bit in its issuer's status list for its type; the next free bit of
-- every list is counted here, reserved a batch at a time (so no two certificates share one).
-- A list is made from the few certificates that are not valid, which a partial index finds
-- without costing the many valid ones anything.
ALTER TABLE certificates ADD COLUMN status_index BIGINT;
CREATE INDEX certificates_not_valid ON certificates (issuer_department, type_code)
    WHERE status <> 'valid';

CREATE TABLE cert_status_lists (
    department_id  TEXT NOT NULL REFERENCES departments(id),
    type_code      TEXT NOT NULL REFERENCES cert_types(code),
    next_index     BIGINT NOT NULL,
    PRIMARY KEY (department_id, type_code)
);

-- Service items (事项) as far as certificate use needs them: which department handles the
-- item, and the legal basis that lets it use certificate types without the holder's consent
-- (a JSON list of type codes). The service catalogue extends this table.
CREATE TABLE service_items (
    code                TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    department_id       TEXT NOT NULL REFERENCES departments(id),
    legal_basis         TEXT,
    consent_free_types  TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);

-- A holder's authorisation of a department to use a certificate type for a service item:
-- asked for by the department (state 'requested') or decided by the holder ('granted',
-- 'declined', later 'withdrawn'); a grant is for one use (once = 1, then 'used') or standing
-- until a time.
CREATE TABLE cert_authorisations (
    id             TEXT PRIMARY KEY,
    holder_kind    TEXT NOT NULL,
    holder_id      TEXT NOT NULL,
    department_id  TEXT NOT NULL REFERENCES departments(id),
    type_code      TEXT NOT NULL REFERENCES cert_types(code),
    service_code   TEXT NOT NULL REFERENCES service_items(code),
    state          TEXT NOT NULL,
    once           BIGINT NOT NULL,
    valid_until    BIGINT,
    created_at     BIGINT NOT NULL,
    decided_at     BIGINT
);
CREATE INDEX cert_authorisations_holder ON cert_authorisations (holder_kind, holder_id, state);
CREATE INDEX cert_authorisations_use ON cert_authorisations (department_id, type_code, service_code, holder_id);

-- 用证记录: every use of a holder's certificates by a department, released or refused. The
-- cause is sealed (clerks may write anything in it).
CREATE TABLE cert_uses (
    id               TEXT PRIMARY KEY,
    holder_kind      TEXT NOT NULL,
    holder_id        TEXT NOT NULL,
    department_id    TEXT NOT NULL REFERENCES departments(id),
    actor_id         TEXT NOT NULL,
    service_code     TEXT NOT NULL,
    type_code        TEXT NOT NULL,
    certificate_id   TEXT,
    cause_sealed     BYTEA NOT NULL,
    outcome          TEXT NOT NULL,
    basis            TEXT,
    at               BIGINT NOT NULL,
    copy_expires_at  BIGINT
);
CREATE INDEX cert_uses_holder ON cert_uses (holder_kind, holder_id, at);
