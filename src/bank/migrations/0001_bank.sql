-- bank: cards bound to customers, bank payments (top-ups; withdrawals'
-- bank side), the nonces of bank callbacks (docs/bank.md).

-- A card: its number sealed by the vault (field "bank.card", owner the
-- card id), found by its blind index; one bound row per card number, so
-- one customer's card cannot be bound by another.
CREATE TABLE bank_card (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    bank_id       TEXT    NOT NULL,
    card_enc      TEXT    NOT NULL,
    card_index    TEXT    NOT NULL,
    masked        TEXT    NOT NULL,
    phone_masked  TEXT    NOT NULL DEFAULT '',
    serial        TEXT    NOT NULL UNIQUE,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'bound', 'unbound', 'failed')),
    created_ms    BIGINT  NOT NULL,
    bound_ms      BIGINT  NOT NULL DEFAULT 0,
    unbound_ms    BIGINT  NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX bank_card_bound ON bank_card (card_index) WHERE state = 'bound';
CREATE INDEX bank_card_user ON bank_card (user_id, created_ms);

-- A payment with a bank: one serial per request, its state by the table
-- of bank/states.c.
CREATE TABLE bank_payment (
    id                 TEXT    NOT NULL PRIMARY KEY,
    serial             TEXT    NOT NULL UNIQUE,
    bank_id            TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('debit', 'credit')),
    user_id            TEXT    NOT NULL,
    card_id            TEXT    NOT NULL REFERENCES bank_card (id),
    amount             BIGINT  NOT NULL CHECK (amount > 0),
    currency           TEXT    NOT NULL CHECK (currency = 'CNY'),
    state              TEXT    NOT NULL
                       CHECK (state IN ('created', 'in_transit', 'unknown', 'succeeded', 'failed')),
    client_request_id  TEXT    NOT NULL,
    day_cn             BIGINT  NOT NULL,
    bank_ref           TEXT    NOT NULL DEFAULT '',
    reason             TEXT    NOT NULL DEFAULT '',
    transfer_id        TEXT    NOT NULL DEFAULT '',
    created_ms         BIGINT  NOT NULL,
    updated_ms         BIGINT  NOT NULL,
    UNIQUE (user_id, kind, client_request_id)
);
CREATE INDEX bank_payment_user ON bank_payment (user_id, created_ms);
CREATE INDEX bank_payment_open ON bank_payment (state, updated_ms);

-- Every nonce a bank's callback carried: a replay is refused.
CREATE TABLE bank_nonce (
    bank_id   TEXT    NOT NULL,
    nonce     TEXT    NOT NULL,
    ts_ms     BIGINT  NOT NULL,
    PRIMARY KEY (bank_id, nonce)
);
