-- ledger 0001, PostgreSQL part: the journal (ledger_transfer) and the chain
-- of batches (ledger_batch) cannot be changed, deleted or truncated; the
-- head row cannot be deleted. anfu_append_only() is core 0001's.
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION anfu_append_only();
CREATE TRIGGER ledger_transfer_no_truncate BEFORE TRUNCATE ON ledger_transfer
    FOR EACH STATEMENT EXECUTE FUNCTION anfu_append_only();
CREATE TRIGGER ledger_batch_append_only BEFORE UPDATE OR DELETE ON ledger_batch
    FOR EACH ROW EXECUTE FUNCTION anfu_append_only();
CREATE TRIGGER ledger_batch_no_truncate BEFORE TRUNCATE ON ledger_batch
    FOR EACH STATEMENT EXECUTE FUNCTION anfu_append_only();
CREATE TRIGGER ledger_head_no_delete BEFORE DELETE ON ledger_head
    FOR EACH ROW EXECUTE FUNCTION anfu_append_only();
