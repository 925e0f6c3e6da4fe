-- bench/pg/uniform.sql: pgbench script, one transfer per transaction between
-- two customer wallets drawn uniformly (never the same one), as
-- bench_ledger_raw's "uniform" workload at batch 1.
-- Variables (pgbench -D): accounts (customer wallets), ts0 (µs, see
-- schema.sql). Plain SQL, no PL/pgSQL; bench/pg/hot.sql has the same
-- transaction below its \set lines.
--
-- Both accounts are locked first (SELECT ... FOR UPDATE, reading what
-- bench_ledger_raw reads) in one fixed order, the lower account number
-- first (the merchant counts as number `accounts`, the highest), so no two
-- transfers can deadlock. The transfer itself is then one statement: `ok`
-- holds one row only when every check passes (both accounts exist and are
-- normal, same asset, distinct, the debit account's "debits must not
-- exceed credits" flag, no overflow); the two UPDATEs and the journal
-- INSERT take their rows from `ok`, so a refused transfer changes nothing.
\set d random(0, :accounts - 1)
\set c random(0, :accounts - 2)
\set c :c + case when :c >= :d then 1 else 0 end
\set amount random(1, 10000)
\set lo least(:d, :c)
\set hi greatest(:d, :c)
BEGIN;
SELECT asset, flags, state, debits_pending, debits_posted, credits_pending, credits_posted
  FROM ledger_account WHERE id = 'acc_c' || :lo FOR UPDATE;
SELECT asset, flags, state, debits_pending, debits_posted, credits_pending, credits_posted
  FROM ledger_account WHERE id = 'acc_c' || :hi FOR UPDATE;
WITH ok AS (
    SELECT nextval('ledger_transfer_seq') AS n, d.id AS debit, c.id AS credit
      FROM ledger_account d, ledger_account c
     WHERE d.id = 'acc_c' || :d AND c.id = 'acc_c' || :c AND d.id <> c.id
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
