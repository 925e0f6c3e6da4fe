-- dispute 0002, PostgreSQL part: dispute_event cannot be updated, deleted
-- or truncated (an upsert's update is refused too). anfu_append_only() is
-- core 0001's.
CREATE TRIGGER dispute_event_append_only BEFORE UPDATE OR DELETE ON dispute_event
    FOR EACH ROW EXECUTE FUNCTION anfu_append_only();
CREATE TRIGGER dispute_event_no_truncate BEFORE TRUNCATE ON dispute_event
    FOR EACH STATEMENT EXECUTE FUNCTION anfu_append_only();
