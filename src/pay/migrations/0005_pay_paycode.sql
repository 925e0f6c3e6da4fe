-- pay 0005: payment codes (docs/payments.md, "Payment code"). A code is
-- stored only as its keyed hash (HMAC under a key derived from the master
-- key); state live -> used (by one order) or void (a newer code of the
-- customer replaced it). Portable SQL (SQLite 3.40 / PostgreSQL 15).
CREATE TABLE pay_paycode (
    hash         TEXT   NOT NULL PRIMARY KEY,
    customer_id  TEXT   NOT NULL,
    state        TEXT   NOT NULL CHECK (state IN ('live', 'used', 'void')),
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    used_ms      BIGINT,
    order_id     TEXT   REFERENCES pay_order (id)
);
CREATE INDEX pay_paycode_customer ON pay_paycode (customer_id, state);

-- Merchant users collect with a customer's code (cashiers are staff).
INSERT INTO iam_permission (name, description) VALUES
    ('pay.paycode.collect', 'Collect orders of one''s own merchant with a customer''s payment code');
INSERT INTO iam_role_permission (role, permission) VALUES
    ('merchant_admin', 'pay.paycode.collect'),
    ('merchant_staff', 'pay.paycode.collect');
