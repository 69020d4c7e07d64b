-- 电子证照: the catalogue of certificate types (GB/T 36902 style), which departments issue
-- each type, and the certificates issued. A certificate's signed document is sealed under the
-- field key (it carries the holder's name and ID number); its status is kept beside it.
CREATE TABLE cert_types (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    holder_kind    TEXT NOT NULL,
    items          TEXT NOT NULL,
    validity_years BIGINT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE cert_type_issuers (
    type_code      TEXT NOT NULL REFERENCES cert_types(code),
    department_id  TEXT NOT NULL REFERENCES departments(id),
    PRIMARY KEY (type_code, department_id)
);

CREATE TABLE certificates (
    id                 TEXT PRIMARY KEY,
    type_code          TEXT NOT NULL REFERENCES cert_types(code),
    holder_kind        TEXT NOT NULL,
    holder_id          TEXT NOT NULL,
    issuer_department  TEXT NOT NULL REFERENCES departments(id),
    document_sealed    BLOB NOT NULL,
    status             TEXT NOT NULL,
    status_reason      TEXT,
    status_changed_at  BIGINT,
    issued_at          BIGINT NOT NULL,
    valid_until        TEXT
);
CREATE INDEX certificates_holder ON certificates (holder_kind, holder_id);
