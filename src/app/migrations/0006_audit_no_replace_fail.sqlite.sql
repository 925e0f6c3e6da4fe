-- core 0006 audit, SQLite part: audit_log_no_replace of 0005 made again
-- with RAISE(FAIL) instead of RAISE(ABORT); its condition is unchanged.
DROP TRIGGER audit_log_no_replace;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(FAIL, 'audit_log is append-only');
END;
