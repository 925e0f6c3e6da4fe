-- pay 0003: escrow payments (FUNC-PAY-02/03), their permissions, and the
-- share links of pay-on-behalf (FUNC-PAY-17) (src/pay/escrow.c,
-- src/pay/behalf.c; docs/payments.md, "Escrow payment", "Pay-on-behalf").

-- The hold of an escrow order: one per order, written with its payment.
-- The hold (customer_wallet -> platform_escrow, PENDING) is hold_id until
-- the first refund or the release posts it (posted = 1); refunded is what
-- refunds took back; the merchant gets amount - refunded at release.
CREATE TABLE pay_escrow (
    order_id           TEXT   NOT NULL PRIMARY KEY REFERENCES pay_order (id),
    amount             BIGINT NOT NULL CHECK (amount > 0),
    refunded           BIGINT NOT NULL CHECK (refunded >= 0 AND refunded <= amount),
    hold_id            TEXT   NOT NULL,
    posted             BIGINT NOT NULL CHECK (posted IN (0, 1)),
    wallet_account     TEXT   NOT NULL,
    escrow_account     TEXT   NOT NULL,
    merchant_account   TEXT   NOT NULL,
    release_ms         BIGINT NOT NULL,
    released_ms        BIGINT,
    released_by        TEXT,
    release_ledger_id  TEXT,
    fee                BIGINT CHECK (fee IS NULL OR fee >= 0),
    fee_ledger_id      TEXT
);
CREATE INDEX pay_escrow_due ON pay_escrow (released_ms, release_ms);

-- A share link of an unpaid order (pay-on-behalf): the customer who first
-- shared it is its requester (only they may share it again or cancel it);
-- the link is the token, stored as its SHA-256 (hex); sharing again
-- replaces it. The payer is pay_order.payer_id once paid.
CREATE TABLE pay_share (
    order_id      TEXT   NOT NULL PRIMARY KEY REFERENCES pay_order (id),
    requester_id  TEXT   NOT NULL,
    token_hash    TEXT   NOT NULL UNIQUE,
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL
);
CREATE INDEX pay_share_requester ON pay_share (requester_id);
