-- receipt 0001, PostgreSQL part: a stored receipt is never changed or
-- deleted (the same document byte for byte on every download).
CREATE TRIGGER receipt_append_only BEFORE UPDATE OR DELETE ON receipt
    FOR EACH ROW EXECUTE FUNCTION anfu_append_only();
