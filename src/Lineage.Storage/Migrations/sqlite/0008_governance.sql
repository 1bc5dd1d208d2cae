-- Governance (SQLite): principals, API tokens, project roles, the hash-chained audit log.
-- Kept in lockstep with postgres/0008_governance.sql. (0007 is taken by the MLflow registry work.)

CREATE TABLE principals (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL CHECK (kind IN ('user', 'service')),
    password_hash TEXT,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    created_by    TEXT
);

-- Only a salted hash of each token's secret is stored; public_id finds the row.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    principal_id INTEGER NOT NULL REFERENCES principals (id),
    public_id    TEXT    NOT NULL UNIQUE,
    salt         TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_by_principal ON api_tokens (principal_id);

CREATE TABLE project_roles (
    principal_id INTEGER NOT NULL REFERENCES principals (id),
    project_id   INTEGER NOT NULL REFERENCES projects (id),
    role         TEXT    NOT NULL CHECK (role IN ('reader', 'writer', 'approver', 'admin')),
    granted_at   INTEGER NOT NULL,
    granted_by   TEXT,
    PRIMARY KEY (principal_id, project_id)
) WITHOUT ROWID;

-- Append-only: each entry's hash covers its fields and the previous entry's hash.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    address   TEXT,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    status    INTEGER NOT NULL,
    summary   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_by_time ON audit_log (time);
