-- pay 0007, SQLite part: a refund may be sending or failed. SQLite cannot
-- change a check, so the table is rebuilt (same columns, same rows, same
-- indexes; no table refers to it).
CREATE TABLE pay_refund_0007 (
    id             TEXT   NOT NULL PRIMARY KEY,
    order_id       TEXT   NOT NULL REFERENCES pay_order (id),
    merchant_id    TEXT   NOT NULL REFERENCES pay_merchant (merchant_id),
    out_refund_no  TEXT   NOT NULL,
    payer_id       TEXT   NOT NULL,
    state          TEXT   NOT NULL CHECK (state IN ('requested', 'declined', 'reviewing',
                              'approved', 'rejected', 'waiting_funds', 'succeeded',
                              'sending', 'failed')),
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
    destination    TEXT   NOT NULL DEFAULT 'wallet' CHECK (destination IN ('wallet', 'card')),
    card           TEXT   NOT NULL DEFAULT '',
    withdrawal_id  TEXT   NOT NULL DEFAULT '',
    UNIQUE (merchant_id, out_refund_no)
);
INSERT INTO pay_refund_0007 (id, order_id, merchant_id, out_refund_no, payer_id, state, amount,
    fee_back, reason, origin, created_by, reviewed_by, approved_by, ledger_id, fee_ledger_id,
    created_ms, updated_ms, destination, card, withdrawal_id)
SELECT id, order_id, merchant_id, out_refund_no, payer_id, state, amount, fee_back, reason,
    origin, created_by, reviewed_by, approved_by, ledger_id, fee_ledger_id, created_ms,
    updated_ms, destination, card, withdrawal_id FROM pay_refund;
DROP TABLE pay_refund;
ALTER TABLE pay_refund_0007 RENAME TO pay_refund;
CREATE INDEX pay_refund_order ON pay_refund (order_id, state);
CREATE INDEX pay_refund_state ON pay_refund (state, updated_ms);
