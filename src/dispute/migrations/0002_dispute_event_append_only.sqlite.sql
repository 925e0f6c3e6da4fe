-- dispute 0002, SQLite part: dispute_event cannot be updated or deleted,
-- and INSERT OR REPLACE cannot delete a row either (it fires no DELETE
-- trigger: see src/app/migrations/0003_audit_no_replace.sqlite.sql).
CREATE TRIGGER dispute_event_no_update BEFORE UPDATE ON dispute_event
BEGIN
    SELECT RAISE(ABORT, 'dispute_event is append-only');
END;
CREATE TRIGGER dispute_event_no_delete BEFORE DELETE ON dispute_event
BEGIN
    SELECT RAISE(ABORT, 'dispute_event is append-only');
END;
CREATE TRIGGER dispute_event_no_replace BEFORE INSERT ON dispute_event
WHEN EXISTS (SELECT 1 FROM dispute_event WHERE dispute_id = NEW.dispute_id AND seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'dispute_event is append-only');
END;
