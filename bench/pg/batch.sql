-- bench/pg/batch.sql: pgbench script, `batch` transfers in one transaction
-- (one durable commit), the batched variant of uniform.sql and hot.sql as
-- bench_ledger_raw batches 10, 100, 1000 transfers per commit.
-- Variables (pgbench -D): batch, hot (0 uniform, 1 hot), accounts, ts0.
-- The work is the PL/pgSQL function bench_transfers of functions.sql.
SELECT bench_transfers(:batch, :hot, :accounts, :ts0);
