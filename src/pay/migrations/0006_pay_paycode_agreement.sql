-- pay 0006: payment codes and agreements (docs/payments.md, "Payment code"). A code is
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

-- Agreements (协议支付; FUNC-PAY-04/05): what the customer signed, its
-- canonical JSON signed by the platform's receipt key (document: the
-- signed document, kid: the key), active until revoked or expired.
CREATE TABLE pay_agreement (
    id             TEXT   NOT NULL PRIMARY KEY,
    customer_id    TEXT   NOT NULL,
    merchant_id    TEXT   NOT NULL REFERENCES pay_merchant (merchant_id),
    scope          TEXT   NOT NULL,
    per_debit_max  BIGINT NOT NULL CHECK (per_debit_max > 0),
    period         TEXT   NOT NULL CHECK (period IN ('day', 'month')),
    period_max     BIGINT NOT NULL CHECK (period_max >= per_debit_max),
    state          TEXT   NOT NULL CHECK (state IN ('active', 'revoked')),
    kid            TEXT   NOT NULL,
    document       TEXT   NOT NULL,
    created_ms     BIGINT NOT NULL,
    expires_ms     BIGINT NOT NULL,
    revoked_ms     BIGINT
);
CREATE INDEX pay_agreement_customer ON pay_agreement (customer_id, created_ms);

-- What the debits of one period (a Shanghai day or month) took.
CREATE TABLE pay_agreement_usage (
    agreement_id  TEXT   NOT NULL REFERENCES pay_agreement (id),
    period_key    TEXT   NOT NULL,
    used          BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (agreement_id, period_key)
);

-- Each debit: the order it paid under which agreement.
CREATE TABLE pay_agreement_debit (
    order_id      TEXT   NOT NULL PRIMARY KEY REFERENCES pay_order (id),
    agreement_id  TEXT   NOT NULL REFERENCES pay_agreement (id),
    period_key    TEXT   NOT NULL,
    amount        BIGINT NOT NULL CHECK (amount > 0),
    created_ms    BIGINT NOT NULL
);

INSERT INTO iam_permission (name, description) VALUES
    ('pay.agreement.debit', 'Debit customers under their agreements with one''s own merchant');
INSERT INTO iam_role_permission (role, permission) VALUES
    ('merchant_admin', 'pay.agreement.debit');
