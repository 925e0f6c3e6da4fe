-- core 0001 foundation (legacy 0001): the tamper-evident audit log. The
-- bookkeeping table schema_version belongs to store/migrate.c, which makes
-- it before the first migration runs.
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.

-- Append-only audit records (audit/). hash = H(prev_hash || canonical).
CREATE TABLE audit_log (
    seq          BIGINT NOT NULL PRIMARY KEY,
    ts_ms        BIGINT NOT NULL,
    actor_id     TEXT   NOT NULL,
    actor_type   TEXT   NOT NULL,
    actor_role   TEXT   NOT NULL,
    source_ip    TEXT   NOT NULL,
    device       TEXT   NOT NULL,
    request_id   TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    object_type  TEXT   NOT NULL,
    object_id    TEXT   NOT NULL,
    outcome      TEXT   NOT NULL,
    details      TEXT   NOT NULL,
    prev_hash    TEXT   NOT NULL,
    hash         TEXT   NOT NULL
);
CREATE INDEX audit_log_action ON audit_log (action, ts_ms);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

-- The chain head: one row, updated under the writer's lock so appends from
-- concurrent transactions serialise (PostgreSQL: row lock; SQLite: the
-- database write lock).
CREATE TABLE audit_head (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq   BIGINT  NOT NULL,
    hash  TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Signed checkpoints of the chain head.
CREATE TABLE audit_checkpoint (
    seq        BIGINT NOT NULL PRIMARY KEY,
    head_hash  TEXT   NOT NULL,
    ts_ms      BIGINT NOT NULL,
    key_id     TEXT   NOT NULL,
    hash_alg   TEXT   NOT NULL,
    signature  TEXT   NOT NULL
);
