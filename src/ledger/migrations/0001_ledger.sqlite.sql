-- ledger 0001, SQLite part: the journal (ledger_transfer) and the chain of
-- batches (ledger_batch) cannot be changed or deleted, and INSERT OR
-- REPLACE cannot delete a row either (it fires no DELETE trigger: see
-- src/app/migrations/0003_audit_no_replace.sqlite.sql); the head row
-- cannot be deleted.
CREATE TRIGGER ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;
CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;
CREATE TRIGGER ledger_transfer_no_replace BEFORE INSERT ON ledger_transfer
WHEN EXISTS (SELECT 1 FROM ledger_transfer WHERE seq = NEW.seq OR id = NEW.id
             OR ts_us = NEW.ts_us OR (caller = NEW.caller AND idem_key = NEW.idem_key))
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;
CREATE TRIGGER ledger_batch_no_update BEFORE UPDATE ON ledger_batch
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
CREATE TRIGGER ledger_batch_no_delete BEFORE DELETE ON ledger_batch
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
CREATE TRIGGER ledger_batch_no_replace BEFORE INSERT ON ledger_batch
WHEN EXISTS (SELECT 1 FROM ledger_batch WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
CREATE TRIGGER ledger_head_no_delete BEFORE DELETE ON ledger_head
BEGIN
    SELECT RAISE(ABORT, 'ledger_head cannot be deleted');
END;
