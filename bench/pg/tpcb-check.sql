-- bench/pg/tpcb-check.sql: after pgbench's built-in TPC-B run, do its books
-- add up? Prints "rows ok": history rows, and whether Σ abalance = Σ bbalance
-- = Σ tbalance = Σ history.delta (each transaction adds the same delta to
-- one account, one teller, one branch and the history).
SELECT (SELECT count(*) FROM pgbench_history),
       (SELECT sum(abalance) FROM pgbench_accounts) = (SELECT sum(bbalance) FROM pgbench_branches)
   AND (SELECT sum(bbalance) FROM pgbench_branches) = (SELECT sum(tbalance) FROM pgbench_tellers)
   AND (SELECT sum(tbalance) FROM pgbench_tellers)
       = (SELECT coalesce(sum(delta), 0) FROM pgbench_history);
