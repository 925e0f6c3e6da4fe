-- bench/pg/check.sql: after a run, do the books add up? (psql -v opening=FEN)
-- Prints one line "rows off diff overdrawn" for bench/pg_ledger.sh to judge:
--   rows       journal rows (transfers applied)
--   off        accounts whose balances differ from their opening credit plus
--              the journal's sums (the check of bench_ledger_raw)
--   diff       Σ credits − Σ debits − the opening credits: money made or lost
--   overdrawn  accounts with flags & 1 (debits must not exceed credits)
--              whose debits exceed their credits
WITH d AS (SELECT debit_account AS id, sum(amount) AS s FROM ledger_transfer
            GROUP BY debit_account),
     c AS (SELECT credit_account AS id, sum(amount) AS s FROM ledger_transfer
            GROUP BY credit_account)
SELECT (SELECT count(*) FROM ledger_transfer),
       (SELECT count(*) FROM ledger_account a
          LEFT JOIN d ON d.id = a.id LEFT JOIN c ON c.id = a.id
         WHERE a.debits_posted <> coalesce(d.s, 0)
            OR a.credits_posted <> (CASE a.kind WHEN 'customer_wallet' THEN :opening
                                    ELSE 0 END) + coalesce(c.s, 0)),
       (SELECT sum(credits_posted) - sum(debits_posted)
               - :opening * count(*) FILTER (WHERE kind = 'customer_wallet')
          FROM ledger_account),
       (SELECT count(*) FROM ledger_account
         WHERE flags & 1 = 1 AND credits_posted - debits_posted - debits_pending < 0);
