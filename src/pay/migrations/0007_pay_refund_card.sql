-- pay 0007: refunds to the payer's bound card when their wallet cannot
-- take them (docs/payments.md "Refunds to a bound card"; FUNC-SETL-08).
-- destination: where the money went ('wallet' | 'card'); card: the masked
-- number of the card credited; withdrawal_id: the bank module's credit
-- row (bank_withdrawal) that pays it. Two more states: sending (the credit
-- on its way through the bank channel) and failed (the bank did not pay:
-- the money is back in the merchant's balance). Portable part; the
-- dialect parts widen pay_refund.state's check.
ALTER TABLE pay_refund ADD COLUMN destination TEXT NOT NULL DEFAULT 'wallet';
ALTER TABLE pay_refund ADD COLUMN card TEXT NOT NULL DEFAULT '';
ALTER TABLE pay_refund ADD COLUMN withdrawal_id TEXT NOT NULL DEFAULT '';
