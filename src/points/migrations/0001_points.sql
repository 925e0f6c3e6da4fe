-- points 0001: loyalty points (src/points/, docs/points.md). Portable SQL
-- (SQLite 3.40 / PostgreSQL 15). Balances live in the ledger
-- (customer_points / points_liability); these rows say why points moved.
-- Every row that goes with a ledger transfer is written in the same writer
-- command as the transfer.

-- Per-merchant earning campaigns, managed by operators.
CREATE TABLE points_campaign (
    id              TEXT    NOT NULL PRIMARY KEY,
    merchant_id     TEXT    NOT NULL,
    multiplier_pct  BIGINT  NOT NULL CHECK (multiplier_pct BETWEEN 1 AND 10000),
    bonus           BIGINT  NOT NULL CHECK (bonus >= 0),
    starts_ms       BIGINT  NOT NULL,
    ends_ms         BIGINT  NOT NULL,
    active          INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_ms      BIGINT  NOT NULL,
    updated_ms      BIGINT  NOT NULL,
    CHECK (ends_ms > starts_ms)
);
CREATE INDEX points_campaign_merchant ON points_campaign (merchant_id, starts_ms);

-- The redemption catalogue.
CREATE TABLE points_item (
    id              TEXT    NOT NULL PRIMARY KEY,
    name_zh         TEXT    NOT NULL,
    name_en         TEXT    NOT NULL,
    price           BIGINT  NOT NULL CHECK (price > 0),
    stock           BIGINT  NOT NULL CHECK (stock >= 0),
    active          INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_ms      BIGINT  NOT NULL,
    updated_ms      BIGINT  NOT NULL
);

-- Earnings (on a payment: kind 'earn') and operator grants ('grant'):
-- one per ref, so a retry earns nothing twice.
CREATE TABLE points_earning (
    id              TEXT    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('earn', 'grant')),
    ref             TEXT    NOT NULL UNIQUE,
    customer_id     TEXT    NOT NULL,
    merchant_id     TEXT    NOT NULL,
    paid_fen        BIGINT  NOT NULL CHECK (paid_fen >= 0),
    points          BIGINT  NOT NULL CHECK (points >= 0),
    campaign_id     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    transfer_id     TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL
);

-- Redemptions: one per (customer, client request id).
CREATE TABLE points_redemption (
    id              TEXT    NOT NULL PRIMARY KEY,
    customer_id     TEXT    NOT NULL,
    request_id      TEXT    NOT NULL,
    type            TEXT    NOT NULL CHECK (type IN ('item', 'value')),
    item_id         TEXT    NOT NULL,
    quantity        BIGINT  NOT NULL CHECK (quantity >= 0),
    points          BIGINT  NOT NULL CHECK (points > 0),
    value_fen       BIGINT  NOT NULL CHECK (value_fen >= 0),
    state           TEXT    NOT NULL CHECK (state IN ('completed', 'cancelled')),
    transfer_id     TEXT    NOT NULL,
    cancel_transfer_id TEXT NOT NULL,
    cancel_reason   TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    cancelled_ms    BIGINT  NOT NULL,
    UNIQUE (customer_id, request_id)
);
CREATE INDEX points_redemption_customer ON points_redemption (customer_id, created_ms);

-- A customer's points history: every change with the balance after it,
-- numbered 1, 2, 3 ... per customer by the writer.
CREATE TABLE points_entry (
    customer_id     TEXT    NOT NULL,
    n               BIGINT  NOT NULL,
    delta           BIGINT  NOT NULL,
    balance         BIGINT  NOT NULL CHECK (balance >= 0),
    reason          TEXT    NOT NULL CHECK (reason IN ('earn', 'grant', 'redeem', 'cancel')),
    ref             TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    PRIMARY KEY (customer_id, n)
);
