-- MLflow compatibility and search indexes (PostgreSQL). Kept in lockstep with sqlite/0006_mlflow.sql.

-- An experiment created through MLflow may name its own artifact location; NULL means mlflow-artifacts:/<id>.
ALTER TABLE experiments ADD COLUMN artifact_location TEXT;

-- Tags of a run's dataset input other than mlflow.data.context (which is the lineage edge's role).
CREATE TABLE run_input_tags (
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    artifact_id BIGINT NOT NULL REFERENCES artifact_versions (id),
    key         TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    PRIMARY KEY (run_id, artifact_id, key)
);

-- Files written through the MLflow artifact proxy, keyed by their path under mlflow-artifacts:/.
-- Bytes are blobs in the content-addressed store (gc keeps every digest listed here).
-- Byte-order collation so a folder is one range of the key.
CREATE TABLE proxy_files (
    path       TEXT COLLATE "C" PRIMARY KEY,
    digest     TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Search: "metric k compares to v" and ordered walks over one metric. Params and tags are
-- probed by their primary keys (run, key); values of up to 6,000 characters do not fit a btree.
CREATE INDEX latest_metrics_by_key ON latest_metrics (key_id, value, run_id);
