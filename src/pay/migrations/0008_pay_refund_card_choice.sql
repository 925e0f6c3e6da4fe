-- pay 0008: an operator's choice of the payer's bound card for a refund
-- that must go to a card (docs/payments.md "Refunds to a bound card",
-- "An operator chooses the card"; FUNC-SETL-08, FUNC-OPS-04).
-- chosen_card_id: the bank_card id (bcd_...) an operator chose, '' for
-- none (the payer's newest bound card is credited, as before);
-- chosen_card: its masked number (first 6 + last 4) as it was chosen.
-- Portable SQL (SQLite 3.40 / PostgreSQL 15); old refunds have no choice.
ALTER TABLE pay_refund ADD COLUMN chosen_card_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pay_refund ADD COLUMN chosen_card TEXT NOT NULL DEFAULT '';
