-- Lineage schema v1 (SQLite). Times are Unix milliseconds. Kept in lockstep with postgres/0001_initial.sql.

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT,
    created_at  INTEGER NOT NULL
);
INSERT INTO projects (name, description, created_at)
VALUES ('default', 'The default project', CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    name        TEXT    NOT NULL,
    description TEXT,
    lifecycle   TEXT    NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'deleted')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER,
    UNIQUE (project_id, name)
);
-- Experiment 0 'Default' in the default project, as in MLflow.
INSERT INTO experiments (id, project_id, name, created_at, updated_at)
SELECT 0, id, 'Default', created_at, created_at FROM projects WHERE name = 'default';

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

-- Runs: public 32-hex uuid, internal integer id used by every hot table.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT    NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id),
    name          TEXT,
    status        TEXT    NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
    start_time    INTEGER NOT NULL,
    end_time      INTEGER,
    user_name     TEXT,
    parent_id     INTEGER REFERENCES runs (id),
    lifecycle     TEXT    NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'deleted')),
    deleted_at    INTEGER
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, id DESC);
CREATE INDEX runs_by_parent ON runs (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Metric names are interned: hot tables carry a small integer instead of the text.
CREATE TABLE metric_keys (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

-- Metric history in chunks of up to 1,000 points per (run, key): see MetricChunkCodec.
-- last_step/last_ts let the next write append delta-encoded points without decoding.
CREATE TABLE metric_chunks (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    key_id      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    point_count INTEGER NOT NULL,
    last_step   INTEGER NOT NULL,
    last_ts     INTEGER NOT NULL,
    data        BLOB    NOT NULL,
    UNIQUE (run_id, key_id, seq)
);

-- Latest value per (run, key), kept current on every write so searches never read history.
-- value NULL means NaN (SQLite cannot store NaN).
CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL,
    key_id    INTEGER NOT NULL,
    value     REAL,
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (run_id, key_id)
) WITHOUT ROWID;

-- Results of writes sent with an Idempotency-Key, stored in the write's own transaction.
CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    request_hash TEXT    NOT NULL,
    result       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
