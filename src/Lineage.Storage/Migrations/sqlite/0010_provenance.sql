-- Provenance of records (issue 7, item 7): who created each record and when, who changed it last and when.
-- Projects, experiments, runs, executions and contexts; columns that existed are reused (created_at,
-- updated_at) and the new ones backfilled from what the row already knew. The registry and artifact tables
-- already keep created_at/created_by and updated_at (their change histories name who changed what).
-- Kept in lockstep with postgres/0010_provenance.sql.

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

ALTER TABLE executions ADD COLUMN created_by TEXT;
ALTER TABLE executions ADD COLUMN updated_at INTEGER;
ALTER TABLE executions ADD COLUMN updated_by TEXT;
UPDATE executions SET updated_at = COALESCE(end_time, created_at);

ALTER TABLE contexts ADD COLUMN created_by TEXT;
ALTER TABLE contexts ADD COLUMN updated_at INTEGER;
ALTER TABLE contexts ADD COLUMN updated_by TEXT;
UPDATE contexts SET updated_at = created_at;
