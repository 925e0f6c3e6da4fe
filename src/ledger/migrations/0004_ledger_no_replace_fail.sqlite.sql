-- ledger 0004, SQLite part: ledger_transfer_no_replace of 0003 made again
-- with RAISE(FAIL) instead of RAISE(ABORT); its condition is unchanged.
DROP TRIGGER ledger_transfer_no_replace;
CREATE TRIGGER ledger_transfer_no_replace BEFORE INSERT ON ledger_transfer
WHEN EXISTS (SELECT 1 FROM ledger_transfer WHERE seq = NEW.seq OR id = NEW.id
             OR ts_us = NEW.ts_us OR (caller = NEW.caller AND idem_key = NEW.idem_key))
BEGIN
    SELECT RAISE(FAIL, 'ledger_transfer is append-only');
END;
