-- bank 0002: withdrawals (docs/bank.md "Withdrawal"; FUNC-PAY-09,
-- FUNC-OPS-02, FUNC-OPS-03). Portable SQL (SQLite 3.40 / PostgreSQL 15).

-- A customer's withdrawal to their own bound card: its state by the second
-- table of bank/states.c; the ledger hold of amount + fee on the wallet
-- (hold_id) made with the row in one writer command; its bank side a
-- bank_payment of kind credit (payment_id) once approved.
CREATE TABLE bank_withdrawal (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    bank_id      TEXT    NOT NULL,
    card_id      TEXT    NOT NULL REFERENCES bank_card (id),
    amount       BIGINT  NOT NULL CHECK (amount > 0),
    fee          BIGINT  NOT NULL CHECK (fee >= 0),
    currency     TEXT    NOT NULL CHECK (currency = 'CNY'),
    state        TEXT    NOT NULL
                 CHECK (state IN ('submitted', 'review', 'approved', 'sent', 'succeeded',
                                  'failed', 'returned', 'rejected')),
    review       TEXT    NOT NULL CHECK (review IN ('auto', 'single', 'dual')),
    request_id   TEXT    NOT NULL,
    day_cn       BIGINT  NOT NULL,
    hold_id      TEXT    NOT NULL DEFAULT '',
    payment_id   TEXT    NOT NULL DEFAULT '',
    maker_id     TEXT    NOT NULL DEFAULT '',
    checker_id   TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL DEFAULT '',
    created_ms   BIGINT  NOT NULL,
    updated_ms   BIGINT  NOT NULL,
    UNIQUE (user_id, request_id)
);
CREATE INDEX bank_withdrawal_user ON bank_withdrawal (user_id, day_cn);
CREATE INDEX bank_withdrawal_state ON bank_withdrawal (state, created_ms);
CREATE INDEX bank_withdrawal_payment ON bank_withdrawal (payment_id);

-- The withdrawal rules operators set through four eyes (one row at most:
-- none means the [bank] options are in force).
CREATE TABLE bank_withdraw_rules (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    min_amount    BIGINT  NOT NULL,
    max_amount    BIGINT  NOT NULL,
    daily_count   BIGINT  NOT NULL,
    daily_amount  BIGINT  NOT NULL,
    fee_fixed     BIGINT  NOT NULL,
    fee_bp        BIGINT  NOT NULL,
    auto_max      BIGINT  NOT NULL,
    large_over    BIGINT  NOT NULL,
    approval_id   TEXT    NOT NULL,
    updated_ms    BIGINT  NOT NULL
);

-- Who may see and decide withdrawals and change their rules. Operators and
-- risk officers review (a large amount: two different people); an operator
-- files a rule change, a risk officer approves it (nobody holds both
-- request and approve). No administrator role (IAM-SOD-02).
INSERT INTO iam_permission (name, description) VALUES
    ('bank.withdrawal.read', 'Read customers'' withdrawals and the withdrawal rules'),
    ('bank.withdrawal.review', 'Approve or reject a withdrawal in review'),
    ('bank.approval.withdraw_rules.request', 'File a change of the withdrawal rules'),
    ('bank.approval.withdraw_rules.approve',
     'Approve or reject a change of the withdrawal rules');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('operator', 'bank.withdrawal.read'),
    ('risk_officer', 'bank.withdrawal.read'),
    ('operator', 'bank.withdrawal.review'),
    ('risk_officer', 'bank.withdrawal.review'),
    ('operator', 'bank.approval.withdraw_rules.request'),
    ('risk_officer', 'bank.approval.withdraw_rules.approve');
