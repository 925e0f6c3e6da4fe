-- bench/paycode_check.sql: the books after a payment-code benchmark
-- (bench/run.sh paycode; tests/api/test_bench_scripts.py runs it too).
-- Portable SQL (SQLite / PostgreSQL). The merchant is 'mch_bench'
-- (bench/paycode_users.py --merchant-id), which takes no other payments.
-- One row, "|"-joined by sqlite3 -list:
--   orders        the merchant's orders (the client's 2xx payments, as each
--                 payment made exactly one order)
--   paid          of them paid
--   payments      pay_payment rows of its orders by auth 'paycode'
--   amount, fee   their sums (fen)
--   chain_bad     payments whose ledger chain is not exactly: payer's
--                 customer_wallet -> merchant_pending the amount (caller
--                 pay, key pay.<order id>), and merchant_pending ->
--                 platform_fee the fee (key pay.<order id>.fee; none when
--                 the fee is 0)
--   pending_net   merchant_pending's credits - debits (must be amount - fee)
--   transfers     the ledger transfers under the merchant's order keys
--                 (must be payments + the payments with a fee)
SELECT
  (SELECT COUNT(*) FROM pay_order WHERE merchant_id = 'mch_bench') AS orders,
  (SELECT COUNT(*) FROM pay_order WHERE merchant_id = 'mch_bench' AND state = 'paid') AS paid,
  (SELECT COUNT(*) FROM pay_payment p JOIN pay_order o ON o.id = p.order_id
    WHERE o.merchant_id = 'mch_bench' AND p.auth = 'paycode') AS payments,
  (SELECT COALESCE(SUM(p.amount), 0) FROM pay_payment p JOIN pay_order o ON o.id = p.order_id
    WHERE o.merchant_id = 'mch_bench') AS amount,
  (SELECT COALESCE(SUM(p.fee), 0) FROM pay_payment p JOIN pay_order o ON o.id = p.order_id
    WHERE o.merchant_id = 'mch_bench') AS fee,
  (SELECT COUNT(*) FROM pay_payment p JOIN pay_order o ON o.id = p.order_id
    JOIN ledger_account m ON m.owner_type = 'merchant' AND m.owner_id = o.merchant_id
      AND m.kind = 'merchant_pending' AND m.asset = 'CNY'
    WHERE o.merchant_id = 'mch_bench' AND (
      NOT EXISTS (SELECT 1 FROM ledger_transfer t
        JOIN ledger_account w ON w.id = t.debit_account
        WHERE t.id = p.ledger_id AND t.caller = 'pay' AND t.idem_key = 'pay.' || o.id
          AND t.amount = p.amount AND t.credit_account = m.id
          AND w.kind = 'customer_wallet' AND w.owner_type = 'customer'
          AND w.owner_id = p.payer_id)
      OR (p.fee = 0 AND p.fee_ledger_id IS NOT NULL)
      OR (p.fee > 0 AND NOT EXISTS (SELECT 1 FROM ledger_transfer f
        JOIN ledger_account pf ON pf.id = f.credit_account
        WHERE f.id = p.fee_ledger_id AND f.caller = 'pay' AND f.idem_key = 'pay.' || o.id || '.fee'
          AND f.amount = p.fee AND f.debit_account = m.id AND pf.kind = 'platform_fee')))
  ) AS chain_bad,
  (SELECT COALESCE(SUM(credits_posted - debits_posted), 0) FROM ledger_account
    WHERE owner_type = 'merchant' AND owner_id = 'mch_bench' AND kind = 'merchant_pending') AS pending_net,
  (SELECT COUNT(*) FROM ledger_transfer t JOIN pay_order o
    ON t.caller = 'pay' AND (t.idem_key = 'pay.' || o.id OR t.idem_key = 'pay.' || o.id || '.fee')
    WHERE o.merchant_id = 'mch_bench') AS transfers;
