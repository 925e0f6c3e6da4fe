-- bank 0005: a merchant's refund credited to the payer's bound card
-- (docs/bank.md "Refund credits"; issue 11, FUNC-SETL-08): a credit row of
-- bank_withdrawal whose hold is on another ledger account than the
-- customer's wallet (hold_account: the merchant's merchant_pending; ''
-- for a withdrawal, whose hold is on the wallet) and which names the pay
-- refund it pays (refund_id; '' for a withdrawal). Such a row is never the
-- customer's withdrawal: not in their list, not in their daily use.
-- Portable SQL (SQLite 3.40 / PostgreSQL 15).
ALTER TABLE bank_withdrawal ADD COLUMN hold_account TEXT NOT NULL DEFAULT '';
ALTER TABLE bank_withdrawal ADD COLUMN refund_id TEXT NOT NULL DEFAULT '';
