-- iam 0002 (legacy 0004), PostgreSQL part: approvals are archived (IAM-ACCT-03). A request is
-- never deleted; once decided it never changes, and what was filed
-- (number, type, payload, summary, maker, time) never changes at all.
CREATE FUNCTION anfu_approval_archived() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.status <> 'pending' OR NEW.id <> OLD.id
       OR NEW.number <> OLD.number OR NEW.type <> OLD.type OR NEW.payload <> OLD.payload
       OR NEW.summary <> OLD.summary OR NEW.maker_id <> OLD.maker_id
       OR NEW.created_ms <> OLD.created_ms THEN
        RAISE EXCEPTION 'iam_approval is archived';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER iam_approval_archived BEFORE UPDATE OR DELETE ON iam_approval
    FOR EACH ROW EXECUTE FUNCTION anfu_approval_archived();
CREATE TRIGGER iam_approval_no_truncate BEFORE TRUNCATE ON iam_approval
    FOR EACH STATEMENT EXECUTE FUNCTION anfu_append_only();
