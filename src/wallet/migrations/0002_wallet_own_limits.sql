-- wallet 0002: the limits a customer set for themselves (RISK-LIM-04),
-- never above the system's (src/wallet/limits.c, docs/wallet.md).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15). Money is BIGINT fen.

-- One row per customer who lowered their limits: every transfer and every
-- movement that calls the limit check is held to the lower of these and
-- the system's limits of its authentication method.
CREATE TABLE wallet_customer_limit (
    user_id    TEXT    NOT NULL PRIMARY KEY,
    single_max BIGINT  NOT NULL CHECK (single_max > 0),
    daily_max  BIGINT  NOT NULL CHECK (daily_max > 0 AND single_max <= daily_max),
    updated_ms BIGINT  NOT NULL
);
