-- The OpenAPI description a department registers for the external system that serves one of
-- its resources: the gateway lists its endpoints in the metadata services, hands it out with
-- getOpenAPI, and passes on only calls to the endpoints it describes. `endpoints` holds the
-- (method, path template) pairs, as JSON, taken from the document when it was saved.
CREATE TABLE data_service_descriptions (
    resource_code  TEXT PRIMARY KEY REFERENCES data_resources(code),
    document       TEXT NOT NULL,
    endpoints      TEXT NOT NULL,
    digest         TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT NOT NULL
);
