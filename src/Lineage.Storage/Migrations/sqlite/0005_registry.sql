-- Model registry, deployments, datasets and features (SQLite): typed views over artifact versions and the
-- lineage graph. Kept in lockstep with postgres/0005_registry.sql.

-- A registered model; latest_version is the version counter, bumped in the registering transaction.
CREATE TABLE registered_models (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects (id),
    name           TEXT    NOT NULL,
    description    TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    created_by     TEXT,
    updated_at     INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE registered_model_tags (
    model_id INTEGER NOT NULL REFERENCES registered_models (id),
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

-- Who may approve promotions and move aliases/stages of a model (until governance brings roles).
CREATE TABLE model_approvers (
    model_id  INTEGER NOT NULL REFERENCES registered_models (id),
    user_name TEXT    NOT NULL,
    added_at  INTEGER NOT NULL,
    added_by  TEXT,
    PRIMARY KEY (model_id, user_name)
) WITHOUT ROWID;

-- A model version is an artifact version (the bytes) plus registry state; run_id is the producing run.
CREATE TABLE model_versions (
    id             INTEGER PRIMARY KEY,
    model_id       INTEGER NOT NULL REFERENCES registered_models (id),
    version        INTEGER NOT NULL,
    artifact_id    INTEGER NOT NULL REFERENCES artifact_versions (id),
    run_id         INTEGER REFERENCES runs (id),
    status         TEXT    NOT NULL CHECK (status IN ('PENDING_REGISTRATION', 'READY', 'FAILED_REGISTRATION')),
    status_message TEXT,
    stage          TEXT    NOT NULL DEFAULT 'None' CHECK (stage IN ('None', 'Staging', 'Production', 'Archived')),
    description    TEXT,
    feature_set_id INTEGER REFERENCES artifact_versions (id),
    created_at     INTEGER NOT NULL,
    created_by     TEXT,
    updated_at     INTEGER NOT NULL,
    UNIQUE (model_id, version)
);
CREATE INDEX model_versions_by_artifact ON model_versions (artifact_id);
CREATE INDEX model_versions_by_feature_set ON model_versions (feature_set_id) WHERE feature_set_id IS NOT NULL;
CREATE INDEX model_versions_by_stage ON model_versions (model_id, stage);

CREATE TABLE model_version_tags (
    version_id INTEGER NOT NULL REFERENCES model_versions (id),
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (version_id, key)
) WITHOUT ROWID;
-- Tag search: each tag filter is one index range scan of (key, value) yielding version ids.
CREATE INDEX model_version_tags_by_value ON model_version_tags (key, value, version_id);

-- Input features a model version declares (checked against its feature set on write).
CREATE TABLE model_version_features (
    version_id INTEGER NOT NULL REFERENCES model_versions (id),
    name       TEXT    NOT NULL,
    dtype      TEXT    NOT NULL,
    shape      TEXT    NOT NULL,
    PRIMARY KEY (version_id, name)
) WITHOUT ROWID;
CREATE INDEX model_version_features_by_name ON model_version_features (name, version_id);

-- One alias names one version of one model; the primary key makes that a database rule.
CREATE TABLE model_aliases (
    model_id   INTEGER NOT NULL REFERENCES registered_models (id),
    alias      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;

-- Append-only history of every alias and stage change (kind 'alias': name = the alias; kind 'stage').
CREATE TABLE model_history (
    id         INTEGER PRIMARY KEY,
    model_id   INTEGER NOT NULL REFERENCES registered_models (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('alias', 'stage')),
    name       TEXT,
    version    INTEGER,
    old_value  TEXT,
    new_value  TEXT,
    changed_at INTEGER NOT NULL,
    changed_by TEXT,
    request_id INTEGER
);
CREATE INDEX model_history_by_model ON model_history (model_id, id);

CREATE TABLE promotion_requests (
    id               INTEGER PRIMARY KEY,
    model_id         INTEGER NOT NULL REFERENCES registered_models (id),
    version          INTEGER NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('alias', 'stage')),
    target           TEXT    NOT NULL,
    archive_existing INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    comment          TEXT,
    requested_at     INTEGER NOT NULL,
    requested_by     TEXT,
    decided_at       INTEGER,
    decided_by       TEXT,
    decision_comment TEXT
);
CREATE INDEX promotion_requests_by_status ON promotion_requests (status, id);
CREATE INDEX promotion_requests_by_model ON promotion_requests (model_id, id);

CREATE TABLE environments (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

-- A model version deployed to an environment; execution_id is the lineage execution that consumed the model.
CREATE TABLE deployments (
    id             INTEGER PRIMARY KEY,
    environment_id INTEGER NOT NULL REFERENCES environments (id),
    model_id       INTEGER NOT NULL REFERENCES registered_models (id),
    version_id     INTEGER NOT NULL REFERENCES model_versions (id),
    endpoint_url   TEXT,
    config         TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'healthy', 'degraded', 'failed', 'retired')),
    rollback_of    INTEGER REFERENCES deployments (id),
    execution_id   INTEGER REFERENCES executions (id),
    created_at     INTEGER NOT NULL,
    created_by     TEXT,
    updated_at     INTEGER NOT NULL
);
-- "What is deployed where": at most one live deployment per (environment, model), enforced by the database.
CREATE UNIQUE INDEX deployments_live ON deployments (environment_id, model_id) WHERE status <> 'retired';
CREATE INDEX deployments_by_environment ON deployments (environment_id, id);
CREATE INDEX deployments_by_version ON deployments (version_id);

CREATE TABLE deployment_events (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    status        TEXT    NOT NULL,
    reason        TEXT,
    at            INTEGER NOT NULL,
    actor         TEXT
);
CREATE INDEX deployment_events_by_deployment ON deployment_events (deployment_id, id);

-- Named, versioned column lists that dataset versions may declare.
CREATE TABLE dataset_schemas (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    columns    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT,
    UNIQUE (project_id, name, version)
);

-- Facts of a dataset version (an artifact version): written once.
CREATE TABLE dataset_facts (
    artifact_id   INTEGER PRIMARY KEY REFERENCES artifact_versions (id),
    source_uri    TEXT,
    source_system TEXT,
    ingested_at   INTEGER,
    schema_id     INTEGER REFERENCES dataset_schemas (id),
    columns       TEXT    NOT NULL,
    row_count     INTEGER,
    profile       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT
);

CREATE TABLE dataset_validations (
    id          INTEGER PRIMARY KEY,
    artifact_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    check_name  TEXT    NOT NULL,
    passed      INTEGER NOT NULL,
    details     TEXT,
    run_at      INTEGER NOT NULL,
    run_by      TEXT
);
CREATE INDEX dataset_validations_by_artifact ON dataset_validations (artifact_id, id);

-- Feature definitions of a feature set version (an artifact version of type feature_set).
CREATE TABLE features (
    feature_set_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    position       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    dtype          TEXT    NOT NULL,
    shape          TEXT    NOT NULL,
    description    TEXT,
    transformation TEXT,
    owner          TEXT,
    PRIMARY KEY (feature_set_id, name)
) WITHOUT ROWID;
CREATE INDEX features_by_name ON features (name, feature_set_id);
