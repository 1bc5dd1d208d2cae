-- MLflow's view of model versions (PostgreSQL). Kept in lockstep with sqlite/0007_mlflow_registry.sql.

-- What an MLflow client said when it created a model version: the source URI as given
-- (runs:/<run>/<path>, mlflow-artifacts:/…, s3://…), the run id as given ('' when none; the native
-- model_versions.run_id keeps the run the lineage links to) and the run link. Versions created
-- through the native API have no row here.
CREATE TABLE mlflow_model_versions (
    version_id BIGINT PRIMARY KEY REFERENCES model_versions (id),
    source     TEXT   NOT NULL,
    run_id     TEXT   NOT NULL,
    run_link   TEXT   NOT NULL
);
-- Search: run_id = '…' and source_path = '…' probe these.
CREATE INDEX mlflow_model_versions_by_run ON mlflow_model_versions (run_id);
