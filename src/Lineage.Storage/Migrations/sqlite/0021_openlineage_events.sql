-- The raw OpenLineage RunEvents ingestion accepted (issue 12, part 2). Kept in lockstep with postgres/0021_openlineage_events.sql.

-- Each event as it was posted, so GET /api/v1/events/lineage can serve them in Marquez's shape and another server
-- (or `lineage import openlineage --from`) can replay them. An event is identified by its run, type and time (in
-- milliseconds): a repeat of one stored is recognised here and changes nothing. A run belongs to one project (its
-- first event's), so the key needs no project; project_id is there for the per-project, time-ordered read.
CREATE TABLE openlineage_events (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    run_uuid    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    event_time  INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (run_uuid, event_type, event_time)
);
CREATE INDEX openlineage_events_by_time ON openlineage_events (project_id, event_time, id);
