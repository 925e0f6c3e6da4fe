-- pay 0005: refunds (src/pay/refund.c; docs/payments.md, "Refunds").
-- Portable SQL (SQLite 3.40 / PostgreSQL 15). A refund's state moves only
-- by the refund table of src/pay/states.c; its merchant refund number is
-- unique per merchant (the idempotency of FUNC-SETL-08).
CREATE TABLE pay_refund (
    id             TEXT   NOT NULL PRIMARY KEY,
    order_id       TEXT   NOT NULL REFERENCES pay_order (id),
    merchant_id    TEXT   NOT NULL REFERENCES pay_merchant (merchant_id),
    out_refund_no  TEXT   NOT NULL,
    payer_id       TEXT   NOT NULL,
    state          TEXT   NOT NULL CHECK (state IN ('requested', 'declined', 'reviewing',
                              'approved', 'rejected', 'waiting_funds', 'succeeded')),
    amount         BIGINT NOT NULL CHECK (amount > 0),
    fee_back       BIGINT NOT NULL CHECK (fee_back >= 0),
    reason         TEXT   NOT NULL,
    origin         TEXT   NOT NULL CHECK (origin IN ('merchant', 'customer', 'dispute')),
    created_by     TEXT   NOT NULL,
    reviewed_by    TEXT   NOT NULL,
    approved_by    TEXT   NOT NULL,
    ledger_id      TEXT,
    fee_ledger_id  TEXT,
    created_ms     BIGINT NOT NULL,
    updated_ms     BIGINT NOT NULL,
    UNIQUE (merchant_id, out_refund_no)
);
CREATE INDEX pay_refund_order ON pay_refund (order_id, state);
CREATE INDEX pay_refund_state ON pay_refund (state, updated_ms);

-- Merchant administrators refund; both merchant roles read refunds;
-- operators review them (FUNC-OPS-04), risk and finance read them.
INSERT INTO iam_permission (name, description) VALUES
    ('pay.refund.create', 'Refund orders of one''s own merchant'),
    ('pay.refund.read', 'Read refunds of one''s own merchant'),
    ('pay.refund.review', 'Approve or reject refunds held for review'),
    ('pay.refund.list', 'Read refunds held for review or waiting for funds');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('merchant_admin', 'pay.refund.create'),
    ('merchant_admin', 'pay.refund.read'),
    ('merchant_staff', 'pay.refund.read'),
    ('operator', 'pay.refund.review'),
    ('operator', 'pay.refund.list'),
    ('risk_officer', 'pay.refund.list'),
    ('finance', 'pay.refund.list');
