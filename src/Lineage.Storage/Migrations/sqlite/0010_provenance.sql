-- Provenance of records (issue 7, item 7): who created each record and when, who changed it last and when.
-- Columns that existed are reused (created_at, created_by, updated_at, updated_by); the new ones are
-- backfilled from what the row already knew. Kept in lockstep with postgres/0010_provenance.sql.

ALTER TABLE projects ADD COLUMN created_by TEXT;
ALTER TABLE projects ADD COLUMN updated_at INTEGER;
ALTER TABLE projects ADD COLUMN updated_by TEXT;
UPDATE projects SET updated_at = created_at;

ALTER TABLE experiments ADD COLUMN created_by TEXT;
ALTER TABLE experiments ADD COLUMN updated_by TEXT;

-- A run's creator is its MLflow user; its last change is its end, else its start.
ALTER TABLE runs ADD COLUMN created_at INTEGER;
ALTER TABLE runs ADD COLUMN created_by TEXT;
ALTER TABLE runs ADD COLUMN updated_at INTEGER;
ALTER TABLE runs ADD COLUMN updated_by TEXT;
UPDATE runs SET created_at = start_time, created_by = user_name, updated_at = COALESCE(end_time, start_time), updated_by = user_name;

-- An artifact version's last change is its newest edit (description, tags, lifecycle), else its creation.
ALTER TABLE artifact_versions ADD COLUMN updated_at INTEGER;
ALTER TABLE artifact_versions ADD COLUMN updated_by TEXT;
UPDATE artifact_versions SET updated_at = created_at, updated_by = created_by;
UPDATE artifact_versions SET
    updated_at = (SELECT e.edited_at FROM artifact_edits e WHERE e.version_id = artifact_versions.id ORDER BY e.id DESC LIMIT 1),
    updated_by = (SELECT e.edited_by FROM artifact_edits e WHERE e.version_id = artifact_versions.id ORDER BY e.id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM artifact_edits e WHERE e.version_id = artifact_versions.id);

-- An alias's creator is unknown once it has moved; its current position is the best record.
ALTER TABLE artifact_aliases ADD COLUMN created_at INTEGER;
ALTER TABLE artifact_aliases ADD COLUMN created_by TEXT;
UPDATE artifact_aliases SET created_at = updated_at, created_by = updated_by;

ALTER TABLE registered_models ADD COLUMN updated_by TEXT;
UPDATE registered_models SET updated_by = created_by;

ALTER TABLE model_versions ADD COLUMN updated_by TEXT;
UPDATE model_versions SET updated_by = created_by;

ALTER TABLE model_aliases ADD COLUMN created_at INTEGER;
ALTER TABLE model_aliases ADD COLUMN created_by TEXT;
UPDATE model_aliases SET created_at = updated_at, created_by = updated_by;

ALTER TABLE deployments ADD COLUMN updated_by TEXT;
UPDATE deployments SET updated_by = created_by;

ALTER TABLE executions ADD COLUMN created_by TEXT;
ALTER TABLE executions ADD COLUMN updated_at INTEGER;
ALTER TABLE executions ADD COLUMN updated_by TEXT;
UPDATE executions SET updated_at = COALESCE(end_time, created_at);

ALTER TABLE contexts ADD COLUMN created_by TEXT;
ALTER TABLE contexts ADD COLUMN updated_at INTEGER;
ALTER TABLE contexts ADD COLUMN updated_by TEXT;
UPDATE contexts SET updated_at = created_at;
