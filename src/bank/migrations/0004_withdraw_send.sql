-- bank 0004: when an approved withdrawal's credit may be sent (docs/bank.md
-- "Withdrawal"): the approval's time, or the start of the next Shanghai
-- day when it was approved after [bank] withdraw_cutoff. The payment row is
-- written when the credit is sent (bank.withdraw_send job, or at once), not
-- with the approval. Portable SQL (SQLite 3.40 / PostgreSQL 15).
ALTER TABLE bank_withdrawal ADD COLUMN send_after_ms BIGINT NOT NULL DEFAULT 0;
