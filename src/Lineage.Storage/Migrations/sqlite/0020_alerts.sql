-- Alert rules (issue 14, part 5): rules a project sets, the state of each (rule, subject) condition, and the history of
-- alerts fired. Kept in lockstep with postgres/0020_alerts.sql.
CREATE TABLE alert_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects (id),
    name        TEXT    NOT NULL,
    -- metric_threshold, model_regression, data_drift, promotion_pending, deployment_failed, run_stale.
    kind        TEXT    NOT NULL,
    -- The kind's settings as JSON (query, model/alias/metric, dataset/baseline/method/threshold, hours, minutes …).
    spec        TEXT    NOT NULL,
    severity    TEXT    NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    description TEXT,
    -- While now < muted_until the rule's condition changes are tracked but fire nothing.
    muted_until INTEGER,
    created_at  INTEGER NOT NULL,
    created_by  TEXT,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT,
    UNIQUE (project_id, name)
);
-- The evaluator looks rules up by kind (and project): one index probe per event batch.
CREATE INDEX alert_rules_by_kind ON alert_rules (kind, project_id);

-- One alert per firing: fired when a (rule, subject) condition became true, resolved when it cleared or by hand.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id         INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    -- What the condition is about, as kind:key (run:<uuid>, model_version:<model>/<version>, dataset:<name>/<version> …).
    subject         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('firing', 'resolved')),
    value           REAL,
    -- JSON with the facts behind the alert (the metric values, the drifted columns …).
    details         TEXT    NOT NULL,
    fired_at        INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    resolved_at     INTEGER,
    -- NULL with resolved_at set: the condition cleared; otherwise who resolved it by hand.
    resolved_by     TEXT
);
CREATE INDEX alerts_by_rule ON alerts (rule_id, id);
CREATE INDEX alerts_by_state ON alerts (state, id);

-- The last known truth of each (rule, subject) condition: an alert fires only when it turns true and resolves only when
-- it turns false, so a condition that stays true fires once (no storms), across restarts and servers.
CREATE TABLE alert_states (
    rule_id    INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    subject    TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    -- The alert fired by the last false → true change (NULL: it was muted).
    alert_id   INTEGER,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, subject)
);
CREATE INDEX alert_states_active ON alert_states (rule_id) WHERE active = 1;

-- How far the evaluator has read the event log (one row). Evaluation reads current state, so reading an event twice
-- (after a crash before the position was saved) changes nothing.
CREATE TABLE alert_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO alert_cursor (id, seq) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM events));

-- The periodic "running with no data" check reads only running runs.
CREATE INDEX runs_running ON runs (experiment_id) WHERE status = 'RUNNING';
