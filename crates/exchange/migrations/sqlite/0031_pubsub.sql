-- Publish/subscribe (GovStack IM PubSub): a department's room (a subsystem) holds event types,
-- each bound to one of its catalogue resources, whose grants decide who may subscribe and
-- which items of an event they receive. Events are numbered per type in publication order;
-- a subscription's position is the last event it has had (pushed and answered 2xx, or pulled
-- and confirmed). Events that could not be pushed after every retry go to the dead letters.
CREATE TABLE pubsub_event_types (
    room           TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    department_id  TEXT NOT NULL REFERENCES departments(id),
    resource_code  TEXT NOT NULL REFERENCES data_resources(code),
    schema_json    TEXT NOT NULL,
    last_seq       BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (room, event_type)
);

CREATE TABLE pubsub_events (
    room          TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    id            TEXT NOT NULL UNIQUE,
    publisher     TEXT NOT NULL,
    body_sealed   BLOB NOT NULL,
    published_at  BIGINT NOT NULL,
    withdrawn     BIGINT NOT NULL,
    PRIMARY KEY (room, event_type, seq)
);

CREATE TABLE pubsub_subscriptions (
    id              TEXT PRIMARY KEY,
    room            TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    subscriber      TEXT NOT NULL,
    department_id   TEXT NOT NULL REFERENCES departments(id),
    delivery        TEXT NOT NULL,
    push_url        TEXT,
    ttl_seconds     BIGINT NOT NULL,
    fifo            BIGINT NOT NULL,
    position        BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    leased_until    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX pubsub_subscriptions_one ON pubsub_subscriptions (room, event_type, subscriber);

CREATE TABLE pubsub_dead_letters (
    subscription_id  TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    reason           TEXT NOT NULL,
    at               BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, seq)
);
