-- ledger 0002: the permissions of account state changes through four eyes
-- (docs/ledger.md, "Account states and operator changes"; FUNC-ACCT-05,
-- -07, IAM-SOD-03). Portable SQL (SQLite 3.40 / PostgreSQL 15). Rows of
-- iam's permission tables, which only migrations change: the business
-- operator files a freeze, unfreeze or close, the risk officer (another
-- person: nobody may hold both P.request and P.approve) approves or
-- rejects it; both read accounts. No administrator role gets any of them
-- (IAM-SOD-02: administrators do not run business operations).
INSERT INTO iam_permission (name, description) VALUES
    ('ledger.account.read', 'Read a ledger account: its state and balances'),
    ('ledger.approval.account_state.request',
     'File a request to freeze, unfreeze or close a ledger account'),
    ('ledger.approval.account_state.approve',
     'Approve or reject a request to freeze, unfreeze or close a ledger account');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('operator', 'ledger.account.read'),
    ('risk_officer', 'ledger.account.read'),
    ('operator', 'ledger.approval.account_state.request'),
    ('risk_officer', 'ledger.approval.account_state.approve');
