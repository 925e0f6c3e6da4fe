-- dispute 0004: deadline reminders per round of handling (docs/disputes.md,
-- "Deadlines"; FUNC-PAY-13). A round begins when the dispute is lodged and
-- again when it is reopened: round_ms is when the current one began, and
-- its take and handle deadlines count from it. dispute_reminder gains
-- round (1 the first, n + 1 after the n-th reopen) in its key: one
-- reminder per dispute, kind and round, so a reminder of an earlier round
-- does not stand for the next one's.
-- Existing rows: round_ms is the latest reopen's time, else the lodging's;
-- a reminder's round is 1 + the reopens at or before it (a reminder raised
-- after a reopen belonged to the reopened round). Portable part; the
-- dialect parts put round in dispute_reminder's primary key.
ALTER TABLE dispute ADD COLUMN round_ms BIGINT NOT NULL DEFAULT 0;
UPDATE dispute SET round_ms = COALESCE((SELECT MAX(e.at_ms) FROM dispute_event e
                                        WHERE e.dispute_id = dispute.id
                                        AND e.event = 'reopen'), created_ms);
CREATE INDEX dispute_round ON dispute (state, round_ms);
ALTER TABLE dispute_reminder ADD COLUMN round BIGINT NOT NULL DEFAULT 1 CHECK (round >= 1);
UPDATE dispute_reminder SET round = 1 + (SELECT COUNT(*) FROM dispute_event e
                                         WHERE e.dispute_id = dispute_reminder.dispute_id
                                         AND e.event = 'reopen'
                                         AND e.at_ms <= dispute_reminder.at_ms);
