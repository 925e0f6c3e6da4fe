-- pay 0001: merchants' payment profiles, orders, their bill lines and
-- payments (src/pay/; docs/payments.md). Portable SQL (SQLite 3.40 /
-- PostgreSQL 15).

-- A merchant's payment profile (registered by an operator); merchant_id
-- is iam's (its users carry it), account_id its merchant_pending account.
CREATE TABLE pay_merchant (
    merchant_id  TEXT   NOT NULL PRIMARY KEY,
    name_zh      TEXT   NOT NULL,
    name_en      TEXT   NOT NULL,
    fee_bps      BIGINT NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    escrow_days  BIGINT CHECK (escrow_days IS NULL OR escrow_days > 0),
    state        TEXT   NOT NULL CHECK (state IN ('active', 'disabled')),
    account_id   TEXT   NOT NULL,
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);

-- An order; state moves only by the table of src/pay/states.c.
CREATE TABLE pay_order (
    id            TEXT   NOT NULL PRIMARY KEY,
    merchant_id   TEXT   NOT NULL REFERENCES pay_merchant (merchant_id),
    out_trade_no  TEXT   NOT NULL,
    content_hash  TEXT   NOT NULL,
    kind          TEXT   NOT NULL CHECK (kind IN ('general', 'escrow', 'agreement')),
    state         TEXT   NOT NULL CHECK (state IN ('created', 'paying', 'paid', 'closed',
                             'partially_refunded', 'refunded', 'escrow_held',
                             'escrow_released')),
    amount        BIGINT NOT NULL CHECK (amount > 0),
    currency      TEXT   NOT NULL CHECK (currency = 'CNY'),
    subject       TEXT   NOT NULL,
    return_url    TEXT   NOT NULL,
    notify_url    TEXT   NOT NULL,
    created_by    TEXT   NOT NULL,
    payer_id      TEXT,
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL,
    paid_ms       BIGINT,
    closed_ms     BIGINT,
    UNIQUE (merchant_id, out_trade_no)
);
CREATE INDEX pay_order_due ON pay_order (state, expires_ms);
CREATE INDEX pay_order_merchant ON pay_order (merchant_id, created_ms, id);

-- The bill lines of an order (FUNC-PAY-19), in the merchant's order.
CREATE TABLE pay_order_line (
    order_id     TEXT   NOT NULL REFERENCES pay_order (id),
    seq          BIGINT NOT NULL,
    name         TEXT   NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    unit_amount  BIGINT NOT NULL CHECK (unit_amount > 0),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (order_id, seq)
);

-- A completed payment of an order: at most one per order.
CREATE TABLE pay_payment (
    id             TEXT   NOT NULL PRIMARY KEY,
    order_id       TEXT   NOT NULL UNIQUE REFERENCES pay_order (id),
    payer_id       TEXT   NOT NULL,
    request_id     TEXT   NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    fee_bps        BIGINT NOT NULL,
    fee            BIGINT NOT NULL CHECK (fee >= 0),
    auth           TEXT   NOT NULL,
    ledger_id      TEXT   NOT NULL,
    fee_ledger_id  TEXT,
    created_ms     BIGINT NOT NULL,
    UNIQUE (payer_id, request_id)
);
