-- OpenLineage ingestion (SQLite): which execution an OpenLineage run is, and which artifact a dataset is.
-- Kept in lockstep with postgres/0004_openlineage.sql.

CREATE TABLE openlineage_runs (
    run_uuid        TEXT    PRIMARY KEY,
    execution_id    INTEGER NOT NULL UNIQUE REFERENCES executions (id),
    job_namespace   TEXT    NOT NULL,
    job_name        TEXT    NOT NULL,
    last_event_time INTEGER NOT NULL
);
CREATE INDEX openlineage_runs_by_job ON openlineage_runs (job_namespace, job_name);

CREATE TABLE openlineage_datasets (
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    artifact_name TEXT NOT NULL UNIQUE,
    PRIMARY KEY (namespace, name)
);
