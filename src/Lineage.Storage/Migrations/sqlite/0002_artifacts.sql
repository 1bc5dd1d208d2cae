-- Versioned, immutable artifacts (SQLite). Kept in lockstep with postgres/0002_artifacts.sql.

-- One row per (project, name); latest_version is the version counter, bumped by an upsert
-- so concurrent registrations get 1..N without gaps (a rolled-back registration rolls it back).
CREATE TABLE artifact_names (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects (id),
    name           TEXT    NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

-- A version's content and metadata never change; description, tags and lifecycle may.
-- kind: file (digest = blob), directory (digest = manifest digest), external (digest vouched by the client).
-- lifecycle: active, deleted (restorable), purged (content freed; the row stays for lineage).
CREATE TABLE artifact_versions (
    id              INTEGER PRIMARY KEY,
    name_id         INTEGER NOT NULL REFERENCES artifact_names (id),
    version         INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('file', 'directory', 'external')),
    digest          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    external_uri    TEXT,
    metadata        TEXT    NOT NULL,
    description     TEXT,
    producer_run_id INTEGER REFERENCES runs (id),
    lifecycle       TEXT    NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'deleted', 'purged')),
    created_at      INTEGER NOT NULL,
    created_by      TEXT,
    deleted_at      INTEGER,
    UNIQUE (name_id, version)
);
CREATE INDEX artifact_versions_by_type ON artifact_versions (type, id);
CREATE INDEX artifact_versions_by_digest ON artifact_versions (digest);
CREATE INDEX artifact_versions_by_run ON artifact_versions (producer_run_id) WHERE producer_run_id IS NOT NULL;

-- Manifest of a directory version: relative path, blob digest, size.
CREATE TABLE artifact_files (
    version_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    path       TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX artifact_files_by_digest ON artifact_files (digest);

CREATE TABLE artifact_tags (
    version_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (version_id, key)
) WITHOUT ROWID;

-- An alias names one version of one artifact name and moves atomically; every move is kept.
CREATE TABLE artifact_aliases (
    name_id    INTEGER NOT NULL REFERENCES artifact_names (id),
    alias      TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (name_id, alias)
) WITHOUT ROWID;

CREATE TABLE artifact_alias_history (
    id         INTEGER PRIMARY KEY,
    name_id    INTEGER NOT NULL REFERENCES artifact_names (id),
    alias      TEXT    NOT NULL,
    version    INTEGER,
    changed_at INTEGER NOT NULL,
    changed_by TEXT
);
CREATE INDEX artifact_alias_history_by_alias ON artifact_alias_history (name_id, alias, id);

-- Every edit of a mutable field (description, tags, lifecycle), with who and when.
CREATE TABLE artifact_edits (
    id         INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES artifact_versions (id),
    field      TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    edited_at  INTEGER NOT NULL,
    edited_by  TEXT
);
CREATE INDEX artifact_edits_by_version ON artifact_edits (version_id, id);

-- Retention per artifact name or per type: keep the last N versions and/or those younger than D days.
CREATE TABLE retention_policies (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    scope      TEXT    NOT NULL CHECK (scope IN ('name', 'type')),
    target     TEXT    NOT NULL,
    keep_last  INTEGER,
    keep_days  INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, scope, target)
);
