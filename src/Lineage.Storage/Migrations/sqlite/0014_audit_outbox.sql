-- The audit outbox (docs/governance.md, "Audit log"): a write request's entry is inserted here in the
-- transaction of the request's first write, so it commits or rolls back with that write; the server
-- then moves it into audit_log (deleting it here) with the request's final status. A crash between the
-- two leaves the row here, and it is chained later: an acknowledged write never goes unaudited.
-- Kept in lockstep with postgres/0014_audit_outbox.sql.
CREATE TABLE audit_pending (
    -- AUTOINCREMENT: an id is never reused once its row was chained and deleted, so a late answer for
    -- an old id can never attach to a newer request's row.
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    -- One row per request even if two of its transactions write at once (INSERT … ON CONFLICT DO NOTHING).
    request  TEXT    NOT NULL UNIQUE,
    -- When the row was written (the request's first write): the entry's time, and the age that lets
    -- any server chain the row once nobody can still be answering it.
    time     INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    address  TEXT,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    summary  TEXT    NOT NULL
);
CREATE INDEX audit_pending_by_time ON audit_pending (time);
