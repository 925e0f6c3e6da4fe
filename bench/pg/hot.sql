-- bench/pg/hot.sql: pgbench script, one transfer per transaction from a
-- customer wallet drawn uniformly to the one merchant account acc_m (every
-- transfer credits it), as bench_ledger_raw's "hot" workload at batch 1.
-- Variables (pgbench -D): accounts, ts0. The transaction is the one of
-- bench/pg/uniform.sql (see there); only the credit account differs: the
-- merchant, number `accounts` in the lock order, so it is always locked
-- second.
\set d random(0, :accounts - 1)
\set amount random(1, 10000)
BEGIN;
SELECT asset, flags, state, debits_pending, debits_posted, credits_pending, credits_posted
  FROM ledger_account WHERE id = 'acc_c' || :d FOR UPDATE;
SELECT asset, flags, state, debits_pending, debits_posted, credits_pending, credits_posted
  FROM ledger_account WHERE id = 'acc_m' FOR UPDATE;
WITH ok AS (
    SELECT nextval('ledger_transfer_seq') AS n, d.id AS debit, c.id AS credit
      FROM ledger_account d, ledger_account c
     WHERE d.id = 'acc_c' || :d AND c.id = 'acc_m' AND d.id <> c.id
       AND d.state = 'normal' AND c.state = 'normal'
       AND d.asset = 'CNY' AND c.asset = d.asset
       AND (d.flags & 1 = 0
            OR d.credits_posted - d.debits_posted - d.debits_pending >= :amount)
       AND d.debits_posted <= 9223372036854775807 - :amount
       AND c.credits_posted <= 9223372036854775807 - :amount
), dr AS (
    UPDATE ledger_account a SET debits_posted = a.debits_posted + :amount
      FROM ok WHERE a.id = ok.debit
), cr AS (
    UPDATE ledger_account a SET credits_posted = a.credits_posted + :amount
      FROM ok WHERE a.id = ok.credit
)
INSERT INTO ledger_transfer (seq, id, caller, idem_key, content_hash, debit_account,
                             credit_account, amount, asset, code, ref, flags, pending_id,
                             timeout_ms, on_timeout, ts_us, batch_seq)
SELECT n, 'trf_' || lpad(n::text, 22, '0'), 'bench', 'k' || n,
       lpad(to_hex((random() * 9e18)::bigint), 64, '0'), debit, credit, :amount, 'CNY',
       'payment', 'ord_' || n, 0, NULL, 0, '', :ts0 + n, n
  FROM ok;
COMMIT;
