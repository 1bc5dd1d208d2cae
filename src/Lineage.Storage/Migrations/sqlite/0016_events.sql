-- Domain events (issue 14): the transactional outbox. A store operation that changes something a user cares about
-- inserts its event here in the same transaction, so an event exists if and only if its change committed.
-- Kept in lockstep with postgres/0016_events.sql.
CREATE TABLE events (
    -- Insertion order; internal. AUTOINCREMENT so an id is never reused.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The public event id, monotonic in commit order: a reader paging with after=<seq> never misses an event
    -- that commits later. SQLite has one writer, so the insert takes MAX(seq) + 1 directly (docs/events.md).
    seq        INTEGER UNIQUE,
    time       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    actor      TEXT,
    -- What the event is about, as kind:key (run:<uuid>, model_version:<model>/<version>, deployment:<id> …).
    entity     TEXT    NOT NULL,
    -- A JSON object with the changed facts.
    payload    TEXT    NOT NULL
);
CREATE INDEX events_by_project ON events (project_id, seq);
CREATE INDEX events_by_type ON events (type, seq);
