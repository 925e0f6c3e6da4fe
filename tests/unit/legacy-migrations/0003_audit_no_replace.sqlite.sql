-- 0003 audit, SQLite part: an insert whose key is already present is
-- refused before the REPLACE conflict resolution can delete the old row
-- (AUD-PROT-01). An ordinary insert of an existing key fails on the primary
-- key anyway; this makes every conflict resolution fail the same way.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_checkpoint_no_replace BEFORE INSERT ON audit_checkpoint
WHEN EXISTS (SELECT 1 FROM audit_checkpoint WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;
