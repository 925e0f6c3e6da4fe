-- receipt 0001, SQLite part: a stored receipt is never changed or deleted
-- (the same document byte for byte on every download).
CREATE TRIGGER receipt_no_update BEFORE UPDATE ON receipt
BEGIN
    SELECT RAISE(ABORT, 'receipt is append-only');
END;
CREATE TRIGGER receipt_no_delete BEFORE DELETE ON receipt
BEGIN
    SELECT RAISE(ABORT, 'receipt is append-only');
END;
