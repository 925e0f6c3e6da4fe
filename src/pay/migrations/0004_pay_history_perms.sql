-- pay 0004: who may read every customer's and merchant's payments
-- (docs/payments.md "History and download"; FUNC-PAY-14, IAM-RBAC-01,
-- IAM-LP-01). Risk officers and finance investigate and reconcile; the
-- operator role, which registers merchants, does not get it (IAM-LP-01).
-- Merchant users read their own merchant's transactions with
-- pay.order.read; customers their own payments with their session.
INSERT INTO iam_permission (name, description) VALUES
    ('pay.transaction.read', 'Read and download any customer''s or merchant''s payments');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('risk_officer', 'pay.transaction.read'),
    ('finance', 'pay.transaction.read');
