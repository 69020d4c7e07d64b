-- Entity lists (ODK's datasets): a project's named lists of things collected once and used
-- again — households, shops, wells — each entity with a label and properties. An entity's
-- label and data may name persons: they are sealed at rest together, each version under the
-- entity's own context. `version` counts the entity's versions (an update names the version
-- it was based on); a deleted entity keeps its row with `deleted_at`.
CREATE TABLE collect_datasets (
    project_id        BIGINT NOT NULL,
    name              TEXT NOT NULL,
    approval_required BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE collect_dataset_properties (
    project_id   BIGINT NOT NULL,
    dataset      TEXT NOT NULL,
    name         TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, dataset, name)
);

CREATE TABLE collect_entities (
    project_id   BIGINT NOT NULL,
    dataset      TEXT NOT NULL,
    uuid         TEXT NOT NULL,
    body_sealed  BLOB NOT NULL,
    version      BIGINT NOT NULL,
    creator_id   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT,
    deleted_at   BIGINT,
    PRIMARY KEY (project_id, dataset, uuid)
);
CREATE INDEX collect_entities_order ON collect_entities (project_id, dataset, created_at);
