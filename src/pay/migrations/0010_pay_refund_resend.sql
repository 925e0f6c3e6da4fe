-- pay 0010: a failed refund sent again to another bound card of the payer
-- (docs/payments.md "A failed refund sent again"; FUNC-SETL-08, FUNC-OPS-05).
-- attempt: the number of the refund's current card credit (1 the first,
-- n + 1 after n re-sends; the bank credit's request id is
-- "refund:<id>" for 1, "refund:<id>:<n>" for n >= 2); 0 for a refund never
-- sent to a card. The refunds a card was credited for before it had one
-- credit each: attempt 1.
-- Portable SQL (SQLite 3.40 / PostgreSQL 15).
ALTER TABLE pay_refund ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
UPDATE pay_refund SET attempt = 1 WHERE destination = 'card';
