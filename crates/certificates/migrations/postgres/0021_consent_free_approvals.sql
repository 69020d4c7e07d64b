-- Using a holder's certificate without their consent rests on a legal basis from the
-- maintained list, approved by the security (data-protection) administrator for one service
-- item and one certificate type. An item listing a type as consent-free is only a request
-- until then.
CREATE TABLE consent_free_approvals (
    service_code TEXT NOT NULL,
    type_code    TEXT NOT NULL,
    basis_code   TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_at  BIGINT NOT NULL,
    PRIMARY KEY (service_code, type_code)
);
