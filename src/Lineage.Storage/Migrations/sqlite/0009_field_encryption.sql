-- Field encryption (SQLite): the ids of the keys that have sealed values in this database.
-- A server starting without one of them refuses to start (it could not read those values).
-- A row is added the first time a key seals a value and removed by 'lineage keys retire'.
-- Kept in lockstep with postgres/0009_field_encryption.sql.

CREATE TABLE encryption_keys (
    key_id        TEXT    NOT NULL PRIMARY KEY,
    first_used_at INTEGER NOT NULL
) WITHOUT ROWID;
