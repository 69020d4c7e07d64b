-- A certificate is stored in the transaction of its `certificate_issued` entry in the
-- transparency log; the entry's index is kept beside it. A certificate issued as the result
-- of an application names it, so that an issuance cut off after the approval is finished
-- once, never twice.
ALTER TABLE certificates ADD COLUMN ledger_index BIGINT;
ALTER TABLE certificates ADD COLUMN source_application TEXT;
CREATE INDEX certificates_source_application ON certificates (source_application);
