-- bench/pg/functions.sql: bench_transfers(batch, hot, accounts, ts0), the
-- batched transfers of batch.sql (PL/pgSQL, made by bench/pg_ledger.sh after
-- schema.sql). Returns the transfers applied.
--
-- It draws `batch` transfers as uniform.sql (hot = 0) or hot.sql (hot = 1)
-- do, locks every account they touch first, lower account number first
-- (the merchant acc_m is number `accounts`, the highest), one SELECT ...
-- FOR UPDATE each, so that no two batches can deadlock; then runs each
-- transfer with the conditional statement of uniform.sql (nothing happens
-- when a check fails). pgbench runs it as one statement, so the batch is
-- one transaction and one commit.
CREATE OR REPLACE FUNCTION bench_transfers(p_batch integer, p_hot integer,
                                           p_accounts integer, p_ts0 bigint)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    v_d integer[] := '{}';
    v_c integer[] := '{}';
    v_amount bigint[] := '{}';
    v_k integer;
    v_x integer;
    v_debit text;
    v_credit text;
    v_done integer;
    v_applied integer := 0;
BEGIN
    FOR v_k IN 1 .. p_batch LOOP
        v_d[v_k] := floor(random() * p_accounts)::integer;
        IF p_hot = 1 THEN
            v_c[v_k] := p_accounts;
        ELSE
            v_c[v_k] := floor(random() * (p_accounts - 1))::integer;
            IF v_c[v_k] >= v_d[v_k] THEN
                v_c[v_k] := v_c[v_k] + 1;
            END IF;
        END IF;
        v_amount[v_k] := 1 + floor(random() * 10000)::bigint;
    END LOOP;
    FOR v_x IN SELECT DISTINCT u FROM unnest(v_d || v_c) AS u ORDER BY u LOOP
        PERFORM 1 FROM ledger_account
          WHERE id = CASE WHEN v_x = p_accounts THEN 'acc_m' ELSE 'acc_c' || v_x END
          FOR UPDATE;
    END LOOP;
    FOR v_k IN 1 .. p_batch LOOP
        v_debit := 'acc_c' || v_d[v_k];
        v_credit := CASE WHEN v_c[v_k] = p_accounts THEN 'acc_m' ELSE 'acc_c' || v_c[v_k] END;
        WITH ok AS (
            SELECT nextval('ledger_transfer_seq') AS n, d.id AS debit, c.id AS credit
              FROM ledger_account d, ledger_account c
             WHERE d.id = v_debit AND c.id = v_credit AND d.id <> c.id
               AND d.state = 'normal' AND c.state = 'normal'
               AND d.asset = 'CNY' AND c.asset = d.asset
               AND (d.flags & 1 = 0
                    OR d.credits_posted - d.debits_posted - d.debits_pending >= v_amount[v_k])
               AND d.debits_posted <= 9223372036854775807 - v_amount[v_k]
               AND c.credits_posted <= 9223372036854775807 - v_amount[v_k]
        ), dr AS (
            UPDATE ledger_account a SET debits_posted = a.debits_posted + v_amount[v_k]
              FROM ok WHERE a.id = ok.debit
        ), cr AS (
            UPDATE ledger_account a SET credits_posted = a.credits_posted + v_amount[v_k]
              FROM ok WHERE a.id = ok.credit
        )
        INSERT INTO ledger_transfer (seq, id, caller, idem_key, content_hash, debit_account,
                                     credit_account, amount, asset, code, ref, flags,
                                     pending_id, timeout_ms, on_timeout, ts_us, batch_seq)
        SELECT n, 'trf_' || lpad(n::text, 22, '0'), 'bench', 'k' || n,
               lpad(to_hex((random() * 9e18)::bigint), 64, '0'), debit, credit,
               v_amount[v_k], 'CNY', 'payment', 'ord_' || n, 0, NULL, 0, '', p_ts0 + n,
               txid_current()
          FROM ok;
        GET DIAGNOSTICS v_done = ROW_COUNT;
        v_applied := v_applied + v_done;
    END LOOP;
    RETURN v_applied;
END
$fn$;
