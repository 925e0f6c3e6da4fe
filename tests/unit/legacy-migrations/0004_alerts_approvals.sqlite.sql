-- 0004, SQLite part: approvals are archived (IAM-ACCT-03). A request is
-- never deleted; once decided it never changes, and what was filed
-- (number, type, payload, summary, maker, time) never changes at all.
CREATE TRIGGER iam_approval_no_delete BEFORE DELETE ON iam_approval
BEGIN
    SELECT RAISE(ABORT, 'iam_approval is archived');
END;
CREATE TRIGGER iam_approval_archived BEFORE UPDATE ON iam_approval
WHEN OLD.status <> 'pending' OR NEW.id <> OLD.id OR NEW.number <> OLD.number
    OR NEW.type <> OLD.type OR NEW.payload <> OLD.payload OR NEW.summary <> OLD.summary
    OR NEW.maker_id <> OLD.maker_id OR NEW.created_ms <> OLD.created_ms
BEGIN
    SELECT RAISE(ABORT, 'iam_approval is archived');
END;
