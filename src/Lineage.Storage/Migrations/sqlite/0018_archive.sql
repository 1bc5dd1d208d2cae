-- Archival to cold storage (issue 13, docs/artifacts.md "Archival"). Kept in lockstep with postgres/0018_archive.sql.

-- When a blob's content was last read. The server gathers the digests it served in memory and writes them here
-- in one statement every minute (and at shutdown), so a download never pays a write. A blob never read since
-- this table existed has no row: its versions' registration time counts instead.
CREATE TABLE blob_reads (
    digest       TEXT    PRIMARY KEY,
    last_read_at INTEGER NOT NULL
);

-- Content moved out of the blob store to an archive location (a folder or s3://bucket/prefix). The versions
-- using it keep their rows, digests and lineage; reading them answers 409 ARCHIVED until 'lineage archive restore'.
CREATE TABLE archived_blobs (
    digest      TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    location    TEXT    NOT NULL,
    archived_at INTEGER NOT NULL
);
