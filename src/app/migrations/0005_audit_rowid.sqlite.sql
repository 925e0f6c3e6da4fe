-- core 0005 audit, SQLite part: audit_log rebuilt with seq INTEGER PRIMARY
-- KEY (the rowid: no separate key index), every record copied as it is
-- (the chain's hashes cover the columns, not the storage), then its
-- indexes and its append-only triggers of 0001 and 0003 made again
-- (AUD-PROT-01). DROP TABLE fires no DELETE trigger; no other table, view
-- or trigger refers to audit_log.
CREATE TABLE audit_log_rowid (
    seq          INTEGER NOT NULL PRIMARY KEY,
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
INSERT INTO audit_log_rowid (seq, ts_ms, actor_id, actor_type, actor_role, source_ip,
    device, request_id, action, object_type, object_id, outcome, details, prev_hash, hash)
SELECT seq, ts_ms, actor_id, actor_type, actor_role, source_ip, device, request_id,
    action, object_type, object_id, outcome, details, prev_hash, hash
FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_rowid RENAME TO audit_log;
CREATE INDEX audit_log_action ON audit_log (action, ts_ms);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
