-- ledger 0001 (src/ledger/): accounts with four balances, the append-only
-- journal of transfers, the state of each hold, the hash chain of batches
-- and the writer's cursors (docs/ledger.md). Portable SQL (SQLite 3.40 /
-- PostgreSQL 15); BIGINT for money (fen or points). Only the ledger writer
-- (src/ledger/writer.c) writes these tables. The append-only triggers are
-- the dialect parts.
CREATE TABLE ledger_account (
    id              TEXT    NOT NULL PRIMARY KEY,
    asset           TEXT    NOT NULL CHECK (asset IN ('CNY', 'POINTS')),
    kind            TEXT    NOT NULL CHECK (kind IN ('customer_wallet', 'merchant_pending',
                        'merchant_settled', 'platform_escrow', 'platform_fee', 'bank_reserve',
                        'bank_clearing', 'points_liability', 'customer_points', 'suspense')),
    owner_type      TEXT    NOT NULL CHECK (owner_type IN ('customer', 'merchant', 'platform', 'bank')),
    owner_id        TEXT    NOT NULL,
    flags           INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('normal', 'frozen_debit',
                        'frozen_credit', 'frozen', 'closed')),
    debits_pending  BIGINT  NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    debits_posted   BIGINT  NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_pending BIGINT  NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    credits_posted  BIGINT  NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    created_ms      BIGINT  NOT NULL,
    UNIQUE (owner_type, owner_id, kind, asset)
);
CREATE TABLE ledger_transfer (
    seq             BIGINT  NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    caller          TEXT    NOT NULL,
    idem_key        TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    debit_account   TEXT    NOT NULL,
    credit_account  TEXT    NOT NULL,
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    asset           TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    ref             TEXT    NOT NULL,
    flags           INTEGER NOT NULL,
    pending_id      TEXT,
    timeout_ms      BIGINT  NOT NULL,
    on_timeout      TEXT    NOT NULL,
    ts_us           BIGINT  NOT NULL UNIQUE,
    batch_seq       BIGINT  NOT NULL,
    UNIQUE (caller, idem_key)
);
CREATE INDEX ledger_transfer_debit ON ledger_transfer (debit_account, seq);
CREATE INDEX ledger_transfer_credit ON ledger_transfer (credit_account, seq);
CREATE TABLE ledger_hold (
    transfer_id     TEXT    NOT NULL PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'posted', 'voided', 'expired')),
    amount          BIGINT  NOT NULL,
    expires_ms      BIGINT  NOT NULL,
    on_timeout      TEXT    NOT NULL CHECK (on_timeout IN ('void', 'post')),
    closed_by       TEXT
);
CREATE INDEX ledger_hold_due ON ledger_hold (state, expires_ms);
CREATE TABLE ledger_batch (
    seq             BIGINT  NOT NULL PRIMARY KEY,
    first_transfer  BIGINT  NOT NULL,
    last_transfer   BIGINT  NOT NULL,
    ts_us           BIGINT  NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL
);
CREATE TABLE ledger_head (
    id              INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_transfer   BIGINT  NOT NULL,
    last_batch      BIGINT  NOT NULL,
    last_ts_us      BIGINT  NOT NULL,
    last_hash       TEXT    NOT NULL
);
INSERT INTO ledger_head (id, last_transfer, last_batch, last_ts_us, last_hash)
VALUES (1, 0, 0, 0, '0000000000000000000000000000000000000000000000000000000000000000');
