-- Erasure of one user's name (issue 13, docs/governance.md "Erasing a user"). Kept in lockstep with postgres/0019_audit_redactions.sql.

-- An audit entry whose actor, target or summary had a user's name replaced by a pseudonym. Its stored hash (which
-- the next entry links to) still covers the original text; redacted_hash is the same hash computed over the
-- redacted fields (an entry redacted by two erasures has two rows; the latest erasure's is the current one).
-- The erasure's own audit entry (erasure_seq) records a digest over all of its rows here, so
-- 'audit verify' checks a redacted entry against redacted_hash and these rows against that chained entry.
CREATE TABLE audit_redactions (
    seq           INTEGER NOT NULL,
    erasure_seq   INTEGER NOT NULL,
    redacted_hash TEXT    NOT NULL,
    PRIMARY KEY (seq, erasure_seq)
);
CREATE INDEX audit_redactions_by_erasure ON audit_redactions (erasure_seq, seq);
