-- Idempotency keys are kept a day; the purge deletes by time alone.
CREATE INDEX application_requests_at ON application_requests (at);
