-- Lineage graph (SQLite): executions, input/output events, contexts. Kept in lockstep with postgres/0003_lineage.sql.

-- A step of work. A tracking run is an execution (run_id set); its state is read from the run.
CREATE TABLE executions (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('NEW', 'RUNNING', 'COMPLETE', 'FAILED', 'CACHED', 'CANCELED')),
    start_time INTEGER,
    end_time   INTEGER,
    properties TEXT    NOT NULL,
    run_id     INTEGER UNIQUE REFERENCES runs (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX executions_by_type ON executions (project_id, type, id);

-- Every run already tracked becomes an execution of type 'run'.
INSERT INTO executions (project_id, type, name, state, start_time, end_time, properties, run_id, created_at)
SELECT e.project_id, 'run', COALESCE(r.name, r.uuid), 'RUNNING', r.start_time, r.end_time, '{}', r.id, r.start_time
FROM runs r JOIN experiments e ON e.id = r.experiment_id;

-- Immutable edges: input = the execution consumed the artifact version, output = produced it.
CREATE TABLE lineage_events (
    id           INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions (id),
    artifact_id  INTEGER NOT NULL REFERENCES artifact_versions (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('input', 'output')),
    role         TEXT    NOT NULL,
    time         INTEGER NOT NULL,
    UNIQUE (execution_id, artifact_id, kind, role)
);
CREATE INDEX lineage_events_by_artifact ON lineage_events (artifact_id, kind);
CREATE INDEX lineage_events_by_execution ON lineage_events (execution_id, kind);

-- Named groupings (a pipeline run, an experiment, a release), nested by parent.
CREATE TABLE contexts (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    parent_id  INTEGER REFERENCES contexts (id),
    properties TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, type, name)
);

CREATE TABLE context_executions (
    context_id   INTEGER NOT NULL REFERENCES contexts (id),
    execution_id INTEGER NOT NULL REFERENCES executions (id),
    PRIMARY KEY (context_id, execution_id)
) WITHOUT ROWID;

CREATE TABLE context_artifacts (
    context_id  INTEGER NOT NULL REFERENCES contexts (id),
    artifact_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    PRIMARY KEY (context_id, artifact_id)
) WITHOUT ROWID;

-- Artifacts registered from a run before this migration: the run produced them.
INSERT INTO lineage_events (execution_id, artifact_id, kind, role, time)
SELECT x.id, v.id, 'output', 'output', v.created_at
FROM artifact_versions v JOIN executions x ON x.run_id = v.producer_run_id;
