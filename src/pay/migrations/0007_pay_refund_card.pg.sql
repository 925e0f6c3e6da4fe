-- pay 0007, PostgreSQL part: a refund may be sending or failed.
ALTER TABLE pay_refund DROP CONSTRAINT pay_refund_state_check;
ALTER TABLE pay_refund ADD CONSTRAINT pay_refund_state_check
    CHECK (state IN ('requested', 'declined', 'reviewing', 'approved', 'rejected',
                     'waiting_funds', 'succeeded', 'sending', 'failed'));
ALTER TABLE pay_refund ADD CONSTRAINT pay_refund_destination_check
    CHECK (destination IN ('wallet', 'card'));
