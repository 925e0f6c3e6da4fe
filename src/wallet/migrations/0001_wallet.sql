-- wallet 0001: transfers between customers, their confirmations and the
-- day's usage of the payment limits (src/wallet/, docs/wallet.md).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15). Money is BIGINT fen.

-- A previewed transfer the payer may confirm until expires_ms
-- (TX-CONFIRM-01): the values shown, bound by their hash; transfer_id is
-- set, once, by the writer command that runs it.
CREATE TABLE wallet_confirmation (
    id            TEXT    NOT NULL PRIMARY KEY,
    payer_id      TEXT    NOT NULL,
    payee_id      TEXT    NOT NULL,
    amount        BIGINT  NOT NULL CHECK (amount > 0),
    currency      TEXT    NOT NULL CHECK (currency = 'CNY'),
    memo          TEXT    NOT NULL,
    payee_name    TEXT    NOT NULL,
    payee_login   TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    expires_ms    BIGINT  NOT NULL,
    second_factor INTEGER NOT NULL CHECK (second_factor IN (0, 1)),
    hash          TEXT    NOT NULL,
    transfer_id   TEXT
);
CREATE INDEX wallet_confirmation_payer ON wallet_confirmation (payer_id, created_ms);

-- A transfer that ran: one per confirmation, one per (payer, request id).
-- payee_name / payee_login / payer_login are masked (shown in histories).
CREATE TABLE wallet_transfer (
    id              TEXT    NOT NULL PRIMARY KEY,
    payer_id        TEXT    NOT NULL,
    payee_id        TEXT    NOT NULL,
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    currency        TEXT    NOT NULL CHECK (currency = 'CNY'),
    memo            TEXT    NOT NULL,
    payee_name      TEXT    NOT NULL,
    payee_login     TEXT    NOT NULL,
    payer_name      TEXT    NOT NULL,
    payer_login     TEXT    NOT NULL,
    confirmation_id TEXT    NOT NULL UNIQUE,
    request_id      TEXT    NOT NULL,
    auth            TEXT    NOT NULL CHECK (auth IN ('pin', 'pin_otp')),
    ledger_id       TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    UNIQUE (payer_id, request_id)
);
CREATE INDEX wallet_transfer_payee ON wallet_transfer (payee_id, created_ms);

-- Each customer's outgoing total of one Asia/Shanghai calendar day (day:
-- days since 1970-01-01 there), across every service that calls the limit
-- check (RISK-LIM-03).
CREATE TABLE wallet_limit_usage (
    user_id   TEXT    NOT NULL,
    day       BIGINT  NOT NULL,
    used      BIGINT  NOT NULL CHECK (used >= 0),
    count     BIGINT  NOT NULL CHECK (count >= 0),
    PRIMARY KEY (user_id, day)
);
