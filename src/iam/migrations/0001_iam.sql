-- iam 0001 identity and access (src/iam/): users, roles, sessions, codes,
-- approvals. Legacy global version 2 (with core 0002 and notify 0001).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.
-- Personal data never appears in clear: *_enc columns hold vault
-- ciphertexts ("v1.<dkid>.<base64>"), *_index columns keyed blind indexes.

-- Principals: customers, merchant users and staff (operators).
CREATE TABLE iam_user (
    id                  TEXT    NOT NULL PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('customer', 'merchant', 'staff')),
    login_kind          TEXT    NOT NULL CHECK (login_kind IN ('mobile', 'email', 'username')),
    login_index         TEXT    NOT NULL UNIQUE,
    login_enc           TEXT    NOT NULL,
    status              TEXT    NOT NULL
                        CHECK (status IN ('active', 'locked', 'disabled', 'expired')),
    locked_until_ms     BIGINT,
    expires_ms          BIGINT,
    temporary           INTEGER NOT NULL DEFAULT 0 CHECK (temporary IN (0, 1)),
    created_ms          BIGINT  NOT NULL,
    created_by          TEXT    NOT NULL,
    last_used_ms        BIGINT,
    pwd_hash            TEXT,
    pwd_changed_ms      BIGINT,
    pwd_must_change     INTEGER NOT NULL DEFAULT 0 CHECK (pwd_must_change IN (0, 1)),
    -- When an administrator forced the next change (the change is then
    -- recorded with reason 'admin_force'); cleared by any new password.
    pwd_forced_ms       BIGINT,
    pwd_reminded_ms     BIGINT,
    failures            INTEGER NOT NULL DEFAULT 0,
    pay_hash            TEXT,
    pay_failures        INTEGER NOT NULL DEFAULT 0,
    pay_locked_until_ms BIGINT,
    phone_enc           TEXT,
    phone_index         TEXT,
    email_enc           TEXT,
    email_index         TEXT,
    name_enc            TEXT,
    idno_enc            TEXT,
    idno_index          TEXT,
    nickname            TEXT,
    totp_enc            TEXT,
    totp_confirmed      INTEGER NOT NULL DEFAULT 0 CHECK (totp_confirmed IN (0, 1)),
    totp_last_step      BIGINT  NOT NULL DEFAULT 0,
    merchant_id         TEXT,
    lang                TEXT    NOT NULL DEFAULT 'zh' CHECK (lang IN ('zh', 'en'))
);
CREATE UNIQUE INDEX iam_user_phone ON iam_user (phone_index);
CREATE UNIQUE INDEX iam_user_email ON iam_user (email_index);
CREATE INDEX iam_user_status ON iam_user (status, last_used_ms);

-- Every password a user had (hashed), with who changed it and why
-- (IAM-PWD-06, IAM-PWD-10, IAM-PWD-11).
CREATE TABLE iam_password_history (
    id          TEXT   NOT NULL PRIMARY KEY,
    user_id     TEXT   NOT NULL REFERENCES iam_user (id),
    kind        TEXT   NOT NULL CHECK (kind IN ('login', 'payment')),
    hash        TEXT   NOT NULL,
    changed_ms  BIGINT NOT NULL,
    reason      TEXT   NOT NULL
                CHECK (reason IN ('initial', 'user_change', 'expiry', 'reset', 'admin_force',
                                  'admin_reset', 'registration')),
    actor_id    TEXT   NOT NULL
);
CREATE INDEX iam_password_history_user ON iam_password_history (user_id, kind, changed_ms);

-- Roles, permissions, grants, conflicts (IAM-RBAC-*, IAM-SOD-01).
CREATE TABLE iam_role (
    name         TEXT    NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('customer', 'merchant', 'staff')),
    privileged   INTEGER NOT NULL CHECK (privileged IN (0, 1)),
    description  TEXT    NOT NULL
);
CREATE TABLE iam_permission (
    name         TEXT NOT NULL PRIMARY KEY,
    description  TEXT NOT NULL
);
CREATE TABLE iam_role_permission (
    role        TEXT NOT NULL REFERENCES iam_role (name),
    permission  TEXT NOT NULL REFERENCES iam_permission (name),
    PRIMARY KEY (role, permission)
);
CREATE TABLE iam_role_conflict (
    role_a  TEXT NOT NULL REFERENCES iam_role (name),
    role_b  TEXT NOT NULL REFERENCES iam_role (name),
    reason  TEXT NOT NULL,
    PRIMARY KEY (role_a, role_b)
);
CREATE TABLE iam_user_role (
    user_id      TEXT   NOT NULL REFERENCES iam_user (id),
    role         TEXT   NOT NULL REFERENCES iam_role (name),
    granted_ms   BIGINT NOT NULL,
    granted_by   TEXT   NOT NULL,
    approval_id  TEXT,
    PRIMARY KEY (user_id, role)
);

-- Sessions: only the keyed hash of the session id is stored (IAM-SESS-*).
CREATE TABLE iam_session (
    id_hash         TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES iam_user (id),
    public_id       TEXT    NOT NULL UNIQUE,
    admin           INTEGER NOT NULL CHECK (admin IN (0, 1)),
    role_class      INTEGER NOT NULL,
    state           TEXT    NOT NULL
                    CHECK (state IN ('mfa_pending', 'required_actions', 'active')),
    csrf_hash       TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    last_seen_ms    BIGINT  NOT NULL,
    absolute_ms     BIGINT  NOT NULL,
    mfa_ms          BIGINT  NOT NULL DEFAULT 0,
    ip              TEXT    NOT NULL,
    device_hash     TEXT    NOT NULL,
    device_id       TEXT,
    revoked_ms      BIGINT,
    revoke_reason   TEXT
);
CREATE INDEX iam_session_user ON iam_session (user_id, revoked_ms);

-- Devices a user registered after a full MFA login (possession factor).
CREATE TABLE iam_device (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES iam_user (id),
    fp_hash      TEXT   NOT NULL,
    label        TEXT   NOT NULL,
    trusted_ms   BIGINT,
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    revoked_ms   BIGINT,
    UNIQUE (user_id, fp_hash)
);

-- Every login attempt (IAM-HIST-*, IAM-ANOM-*).
CREATE TABLE iam_login_attempt (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT,
    ts_ms        BIGINT NOT NULL,
    ip           TEXT   NOT NULL,
    network      TEXT   NOT NULL,
    device_hash  TEXT   NOT NULL,
    admin        INTEGER NOT NULL CHECK (admin IN (0, 1)),
    result       TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    -- Blind index of the login name a password login gave, whether or not
    -- an account has it: the captcha in after_failures mode counts failures
    -- per name, so it cannot tell which names exist.
    login_index  TEXT
);
CREATE INDEX iam_login_attempt_user ON iam_login_attempt (user_id, ts_ms);
CREATE INDEX iam_login_attempt_ip ON iam_login_attempt (ip, ts_ms);
CREATE INDEX iam_login_attempt_login ON iam_login_attempt (login_index, ts_ms);

-- One-time codes sent by SMS or email (IAM-MFA-07, IAM-MFA-08).
CREATE TABLE iam_code (
    id            TEXT    NOT NULL PRIMARY KEY,
    purpose       TEXT    NOT NULL,
    channel       TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    target_index  TEXT    NOT NULL,
    user_id       TEXT,
    context       TEXT    NOT NULL,
    code_hash     TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    expires_ms    BIGINT  NOT NULL,
    used_ms       BIGINT,
    attempts      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX iam_code_target ON iam_code (target_index, purpose, created_ms);

-- Image captchas: only a keyed hash of the answer (IAM-CAP-02).
CREATE TABLE iam_captcha (
    id           TEXT   NOT NULL PRIMARY KEY,
    answer_hash  TEXT   NOT NULL,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    used_ms      BIGINT
);

-- Password resets in progress (IAM-RST-*). user_id is NULL for an
-- unknown account, so the response cannot tell the difference.
CREATE TABLE iam_reset (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT,
    created_ms  BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    used_ms     BIGINT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    factors     TEXT    NOT NULL
);

-- Four-eyes approvals with human-facing sequential numbers (IAM-SOD-03,
-- IAM-ACCT-03).
CREATE TABLE iam_counter (
    name   TEXT   NOT NULL PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO iam_counter (name, value) VALUES ('approval', 0);

CREATE TABLE iam_approval (
    id              TEXT   NOT NULL PRIMARY KEY,
    number          BIGINT NOT NULL UNIQUE,
    type            TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    summary         TEXT   NOT NULL,
    maker_id        TEXT   NOT NULL REFERENCES iam_user (id),
    created_ms      BIGINT NOT NULL,
    status          TEXT   NOT NULL
                    CHECK (status IN ('pending', 'rejected', 'executed', 'failed')),
    checker_id      TEXT   REFERENCES iam_user (id),
    decided_ms      BIGINT,
    decision_note   TEXT,
    result          TEXT
);
CREATE INDEX iam_approval_status ON iam_approval (status, number);

-- Access recertification reports and their sign-off (IAM-ACCT-04), and the
-- monthly dormant / expired / temporary account reports (IAM-ACCT-05).
CREATE TABLE iam_report (
    id              TEXT   NOT NULL PRIMARY KEY,
    kind            TEXT   NOT NULL CHECK (kind IN ('recertification', 'account_review')),
    created_ms      BIGINT NOT NULL,
    created_by      TEXT   NOT NULL,
    content         TEXT   NOT NULL,
    signed_off_by   TEXT   REFERENCES iam_user (id),
    signed_off_ms   BIGINT,
    sign_off_note   TEXT
);

-- ---- built-in roles and permissions -------------------------------------

INSERT INTO iam_permission (name, description) VALUES
    ('self.profile.read', 'Read one''s own profile, logins and sessions'),
    ('self.profile.update', 'Change one''s own profile and bound phone or email'),
    ('self.password.change', 'Change one''s own login password'),
    ('self.payment_password.manage', 'Set, change and use one''s own payment password'),
    ('self.sessions.manage', 'List and end one''s own sessions'),
    ('self.devices.manage', 'List and remove one''s own trusted devices'),
    ('self.mfa.manage', 'Enrol and remove one''s own second factors'),
    ('merchant.staff.manage', 'Manage the staff accounts of one''s own merchant'),
    ('iam.user.read', 'List and read user accounts (masked personal data)'),
    ('iam.user.pii.reveal', 'See personal data of users unmasked (audited)'),
    ('iam.user.create', 'Create merchant user accounts'),
    ('iam.user.disable', 'Disable and re-enable accounts'),
    ('iam.user.unlock', 'Unlock locked accounts'),
    ('iam.user.force_password', 'Force a password change or reset an account password'),
    ('iam.approval.read', 'Read approval requests'),
    ('iam.approval.create_operator.request', 'File a request to create a staff account'),
    ('iam.approval.create_operator.approve', 'Approve or reject a request to create a staff account'),
    ('iam.approval.grant_role.request', 'File a request to grant or revoke a role'),
    ('iam.approval.grant_role.approve', 'Approve or reject a request to grant or revoke a role'),
    ('iam.review.read', 'Read the dormant / expired / temporary account reports'),
    ('iam.recert.read', 'Produce and read access-recertification reports'),
    ('iam.recert.signoff', 'Sign off an access-recertification report'),
    ('audit.read', 'Read and export the audit log');

INSERT INTO iam_role (name, kind, privileged, description) VALUES
    ('customer', 'customer', 0, 'A wallet holder'),
    ('merchant_admin', 'merchant', 0, 'Administrator of one merchant'),
    ('merchant_staff', 'merchant', 0, 'Staff member of one merchant'),
    ('operator', 'staff', 0, 'Platform operator: reads accounts, unlocks customers'),
    ('risk_officer', 'staff', 0, 'Risk control officer'),
    ('finance', 'staff', 0, 'Finance and settlement officer'),
    ('security_admin', 'staff', 1, 'Security administrator: accounts and policies (maker)'),
    ('security_officer', 'staff', 1, 'Security officer: approves account and role requests (checker)'),
    ('auditor', 'staff', 1, 'Security auditor: reads the audit log and reviews access'),
    ('sysadmin', 'staff', 1, 'System administrator: operates the platform'),
    ('third_party', 'staff', 0, 'Third-party (vendor) personnel: own account only, no data access');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('customer', 'self.profile.read'), ('customer', 'self.profile.update'),
    ('customer', 'self.password.change'), ('customer', 'self.payment_password.manage'),
    ('customer', 'self.sessions.manage'), ('customer', 'self.devices.manage'),
    ('customer', 'self.mfa.manage'),
    ('merchant_admin', 'self.profile.read'), ('merchant_admin', 'self.profile.update'),
    ('merchant_admin', 'self.password.change'), ('merchant_admin', 'self.sessions.manage'),
    ('merchant_admin', 'self.devices.manage'), ('merchant_admin', 'self.mfa.manage'),
    ('merchant_admin', 'merchant.staff.manage'),
    ('merchant_staff', 'self.profile.read'), ('merchant_staff', 'self.profile.update'),
    ('merchant_staff', 'self.password.change'), ('merchant_staff', 'self.sessions.manage'),
    ('merchant_staff', 'self.devices.manage'), ('merchant_staff', 'self.mfa.manage'),
    ('operator', 'self.profile.read'), ('operator', 'self.password.change'),
    ('operator', 'self.sessions.manage'), ('operator', 'self.mfa.manage'),
    ('operator', 'iam.user.read'), ('operator', 'iam.user.unlock'),
    ('risk_officer', 'self.profile.read'), ('risk_officer', 'self.password.change'),
    ('risk_officer', 'self.sessions.manage'), ('risk_officer', 'self.mfa.manage'),
    ('risk_officer', 'iam.user.read'), ('risk_officer', 'iam.user.pii.reveal'),
    ('finance', 'self.profile.read'), ('finance', 'self.password.change'),
    ('finance', 'self.sessions.manage'), ('finance', 'self.mfa.manage'),
    ('security_admin', 'self.profile.read'), ('security_admin', 'self.password.change'),
    ('security_admin', 'self.sessions.manage'), ('security_admin', 'self.mfa.manage'),
    ('security_admin', 'iam.user.read'), ('security_admin', 'iam.user.create'),
    ('security_admin', 'iam.user.disable'), ('security_admin', 'iam.user.unlock'),
    ('security_admin', 'iam.user.force_password'), ('security_admin', 'iam.approval.read'),
    ('security_admin', 'iam.approval.create_operator.request'),
    ('security_admin', 'iam.approval.grant_role.request'),
    ('security_admin', 'iam.review.read'), ('security_admin', 'iam.recert.read'),
    ('security_officer', 'self.profile.read'), ('security_officer', 'self.password.change'),
    ('security_officer', 'self.sessions.manage'), ('security_officer', 'self.mfa.manage'),
    ('security_officer', 'iam.user.read'), ('security_officer', 'iam.approval.read'),
    ('security_officer', 'iam.approval.create_operator.approve'),
    ('security_officer', 'iam.approval.grant_role.approve'),
    ('security_officer', 'iam.recert.read'), ('security_officer', 'iam.recert.signoff'),
    ('auditor', 'self.profile.read'), ('auditor', 'self.password.change'),
    ('auditor', 'self.sessions.manage'), ('auditor', 'self.mfa.manage'),
    ('auditor', 'audit.read'), ('auditor', 'iam.user.read'), ('auditor', 'iam.review.read'),
    ('auditor', 'iam.recert.read'), ('auditor', 'iam.recert.signoff'),
    ('sysadmin', 'self.profile.read'), ('sysadmin', 'self.password.change'),
    ('sysadmin', 'self.sessions.manage'), ('sysadmin', 'self.mfa.manage'),
    ('sysadmin', 'iam.user.read'), ('sysadmin', 'iam.approval.read'),
    ('sysadmin', 'iam.approval.create_operator.request'),
    ('third_party', 'self.profile.read'), ('third_party', 'self.password.change'),
    ('third_party', 'self.sessions.manage'), ('third_party', 'self.mfa.manage'),
    -- Every staff role binds its own phone and email (POST /admin/v1/me/phone,
    -- /me/email): where lockout, new-device and admin-action notices go.
    ('operator', 'self.profile.update'), ('risk_officer', 'self.profile.update'),
    ('finance', 'self.profile.update'), ('security_admin', 'self.profile.update'),
    ('security_officer', 'self.profile.update'), ('auditor', 'self.profile.update'),
    ('sysadmin', 'self.profile.update'), ('third_party', 'self.profile.update');

-- Roles one account may not hold together (IAM-SOD-01, IAM-SOD-02). Makers
-- and checkers of the same approval type are also refused by rule (a user
-- may never hold both X.request and X.approve), see src/iam/rbac.c.
INSERT INTO iam_role_conflict (role_a, role_b, reason) VALUES
    ('sysadmin', 'auditor', 'system administrator and security auditor'),
    ('security_admin', 'operator', 'security administrator and business operator'),
    ('security_admin', 'security_officer', 'maker and checker of the same approvals'),
    ('sysadmin', 'security_officer', 'maker and checker of staff-account approvals'),
    ('auditor', 'security_admin', 'security auditor and security administrator');
