-- Webhooks (issue 14, part 3): per-project subscriptions to events, and one delivery row per (webhook, event).
-- Kept in lockstep with the other dialect's 0017_webhooks.sql.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects (id),
    name            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    -- JSON array of event types or patterns ("*", "run.*", "model_version.created").
    event_types     TEXT    NOT NULL,
    -- 'lineage' (native event JSON) or 'mlflow' (MLflow 3 webhook payloads and event names).
    format          TEXT    NOT NULL DEFAULT 'lineage',
    -- The Standard Webhooks signing secret (whsec_…), sealed by field encryption when the server has a key.
    secret          TEXT    NOT NULL,
    description     TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    -- The highest event seq already fanned out into deliveries for this webhook.
    fanned_out_seq  INTEGER NOT NULL,
    -- Which server delivers this webhook's queue until when (ms): one at a time, so deliveries stay in order.
    leased_by       TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    created_by      TEXT,
    updated_at      INTEGER NOT NULL,
    updated_by      TEXT,
    UNIQUE (project_id, name)
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL,
    -- pending (waiting or retrying), succeeded, dead (gave up after the maximum attempts; redeliver by hand).
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The last attempt: HTTP status (NULL: no answer), time to answer, error text.
    response_code   INTEGER,
    latency_ms      INTEGER,
    last_error      TEXT,
    last_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    UNIQUE (webhook_id, event_seq)
);
-- A webhook's queue in order: the head is the pending delivery with the smallest event seq.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, event_seq) WHERE status = 'pending';
