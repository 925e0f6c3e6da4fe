-- bank 0002: reconciliation with the banks' daily statement files
-- (docs/bank.md, "Reconciliation"; FUNC-SETL-06). Portable SQL (SQLite
-- 3.40 / PostgreSQL 15). A reconciliation changes no money: it records
-- what differs for a human to resolve. Nothing depends on this file's
-- number (the integrator may renumber it).

-- One reconciliation per bank and Shanghai day (YYYYMMDD): the statement
-- file's digest and size, the outcome. state: reconciled (compared; see
-- differences), unreadable (the file did not parse: nothing compared).
CREATE TABLE bank_recon (
    bank_id       TEXT    NOT NULL,
    day           BIGINT  NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('reconciled', 'unreadable')),
    sha256        TEXT    NOT NULL,
    lines         BIGINT  NOT NULL,
    matched       BIGINT  NOT NULL,
    differences   BIGINT  NOT NULL,
    outcome_hash  TEXT    NOT NULL,
    ran_ms        BIGINT  NOT NULL,
    PRIMARY KEY (bank_id, day)
);

-- The statement file's lines as the bank sent them (parsed).
CREATE TABLE bank_recon_line (
    bank_id   TEXT    NOT NULL,
    day       BIGINT  NOT NULL,
    line_no   BIGINT  NOT NULL,
    serial    TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    amount    BIGINT  NOT NULL,
    status    TEXT    NOT NULL,
    PRIMARY KEY (bank_id, day, line_no)
);

-- A difference between the statement and bank_payment: not_ours (on the
-- statement, no payment of ours), missing_at_bank (ours, not on the
-- statement), kind_differs, amount_differs, status_differs. Empty text and
-- 0 for the side that has nothing.
CREATE TABLE bank_recon_diff (
    bank_id      TEXT    NOT NULL,
    day          BIGINT  NOT NULL,
    serial       TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('not_ours', 'missing_at_bank',
                         'kind_differs', 'amount_differs', 'status_differs')),
    payment_id   TEXT    NOT NULL,
    our_kind     TEXT    NOT NULL,
    our_amount   BIGINT  NOT NULL,
    our_state    TEXT    NOT NULL,
    bank_kind    TEXT    NOT NULL,
    bank_amount  BIGINT  NOT NULL,
    bank_status  TEXT    NOT NULL,
    PRIMARY KEY (bank_id, day, serial)
);

-- Finance and risk officers read reconciliations (no administrator:
-- IAM-SOD-02).
INSERT INTO iam_permission (name, description) VALUES
    ('bank.recon.read', 'Read bank reconciliations and their differences');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('finance', 'bank.recon.read'),
    ('risk_officer', 'bank.recon.read');
