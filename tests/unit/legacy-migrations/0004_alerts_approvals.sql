-- 0004 privilege-attempt alerts (AUD-ALERT-01) and four-eyes approvals for
-- every change of a staff account (IAM-ACCT-03). Portable SQL (SQLite 3.40
-- / PostgreSQL 15); the dialect parts make decided approvals immutable.

-- One alert per actor and mail window (src/iam/alert.c): an authenticated
-- principal tried something beyond its privileges. Further attempts of the
-- same actor while the alert is open and within alerts.mail_window of its
-- first attempt are counted on it (attempts, last_*); each attempt also has
-- its own "denied" audit record naming the alert. mailed: how many
-- administrators the alert mail was queued for (0: none, e.g. one went out
-- for this actor within the window already).
CREATE TABLE iam_alert (
    id            TEXT    NOT NULL PRIMARY KEY,
    number        BIGINT  NOT NULL UNIQUE,
    actor_id      TEXT    NOT NULL REFERENCES iam_user (id),
    actor_kind    TEXT    NOT NULL CHECK (actor_kind IN ('customer', 'merchant', 'staff')),
    role_class    TEXT    NOT NULL
                  CHECK (role_class IN ('customer', 'merchant', 'operator', 'admin')),
    first_ms      BIGINT  NOT NULL,
    last_ms       BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL CHECK (attempts >= 1),
    first_action  TEXT    NOT NULL,
    last_action   TEXT    NOT NULL,
    last_object   TEXT    NOT NULL,
    last_reason   TEXT    NOT NULL,
    last_ip       TEXT    NOT NULL,
    mailed        INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('open', 'acknowledged')),
    acked_by      TEXT    REFERENCES iam_user (id),
    acked_ms      BIGINT,
    ack_note      TEXT
);
CREATE INDEX iam_alert_actor ON iam_alert (actor_id, first_ms);
CREATE INDEX iam_alert_state ON iam_alert (state, number);
INSERT INTO iam_counter (name, value) VALUES ('alert', 0);

INSERT INTO iam_permission (name, description) VALUES
    ('iam.alert.manage', 'Read and acknowledge privilege-attempt alerts'),
    ('iam.approval.staff_account.request',
     'File a request to disable, enable, hand over or change the validity of a staff account'),
    ('iam.approval.staff_account.approve',
     'Approve or reject a request to disable, enable, hand over or change the validity of a staff account');

-- Alerts go to administrators and security officers (AUD-ALERT-01); staff
-- account changes follow the maker (security_admin) / checker
-- (security_officer) split of create_operator.
INSERT INTO iam_role_permission (role, permission) VALUES
    ('security_admin', 'iam.alert.manage'),
    ('security_officer', 'iam.alert.manage'),
    ('sysadmin', 'iam.alert.manage'),
    ('security_admin', 'iam.approval.staff_account.request'),
    ('security_officer', 'iam.approval.staff_account.approve');
