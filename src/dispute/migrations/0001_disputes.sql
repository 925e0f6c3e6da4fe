-- dispute 0001: transaction disputes, their events and the deadline
-- reminders (src/dispute/, docs/disputes.md; FUNC-PAY-13).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15). Money is BIGINT fen.

-- A dispute about one subject (kind, ref) of another module, with the
-- subject's facts as its provider told them when it was lodged. State by
-- the table of dispute/states.c. active_key is kind || ':' || ref while
-- the dispute is not final and NULL after: one open dispute per subject.
CREATE TABLE dispute (
    id               TEXT    NOT NULL PRIMARY KEY,
    kind             TEXT    NOT NULL,
    ref              TEXT    NOT NULL,
    active_key       TEXT    UNIQUE,
    customer_id      TEXT    NOT NULL,
    counterparty_id  TEXT    NOT NULL DEFAULT '',
    merchant_id      TEXT    NOT NULL DEFAULT '',
    amount           BIGINT  NOT NULL CHECK (amount > 0),
    currency         TEXT    NOT NULL CHECK (currency = 'CNY'),
    subject_ms       BIGINT  NOT NULL,
    description      TEXT    NOT NULL,
    category         TEXT    NOT NULL
                     CHECK (category IN ('not_received', 'not_as_described', 'wrong_amount',
                                         'not_authorized', 'duplicate', 'other')),
    reason           TEXT    NOT NULL,
    state            TEXT    NOT NULL
                     CHECK (state IN ('open', 'in_progress', 'resolved', 'confirmed',
                                      'withdrawn')),
    operator_id      TEXT    NOT NULL DEFAULT '',
    resolution       TEXT    NOT NULL DEFAULT '',
    refund_amount    BIGINT  NOT NULL DEFAULT 0 CHECK (refund_amount >= 0),
    refund_state     TEXT    NOT NULL DEFAULT 'none'
                     CHECK (refund_state IN ('none', 'pending', 'done')),
    refund_ref       TEXT    NOT NULL DEFAULT '',
    created_ms       BIGINT  NOT NULL,
    taken_ms         BIGINT  NOT NULL DEFAULT 0,
    resolved_ms      BIGINT  NOT NULL DEFAULT 0,
    closed_ms        BIGINT  NOT NULL DEFAULT 0,
    updated_ms       BIGINT  NOT NULL,
    CHECK (refund_amount <= amount)
);
CREATE INDEX dispute_customer ON dispute (customer_id, created_ms);
CREATE INDEX dispute_counterparty ON dispute (counterparty_id, created_ms);
CREATE INDEX dispute_merchant ON dispute (merchant_id, created_ms);
CREATE INDEX dispute_state ON dispute (state, created_ms);

-- Every change of a dispute (a state change or a message), in order:
-- who, when, from which state to which, and the note (the complaint, the
-- resolution, the message). Rows are only ever inserted.
CREATE TABLE dispute_event (
    dispute_id  TEXT    NOT NULL REFERENCES dispute (id),
    seq         BIGINT  NOT NULL CHECK (seq > 0),
    at_ms       BIGINT  NOT NULL,
    actor_id    TEXT    NOT NULL,
    actor_type  TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    PRIMARY KEY (dispute_id, seq)
);

-- The reminders the deadline job raised: one per dispute and kind
-- ('take', 'handle'), so a run after a crash raises none twice.
CREATE TABLE dispute_reminder (
    dispute_id  TEXT    NOT NULL REFERENCES dispute (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('take', 'handle')),
    at_ms       BIGINT  NOT NULL,
    PRIMARY KEY (dispute_id, kind)
);

-- Operators read and handle disputes; risk officers and auditors read.
INSERT INTO iam_permission (name, description) VALUES
    ('dispute.read', 'Read customers'' disputes and their events'),
    ('dispute.handle', 'Take and resolve a dispute (with a refund)');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('operator', 'dispute.read'),
    ('operator', 'dispute.handle'),
    ('risk_officer', 'dispute.read');
