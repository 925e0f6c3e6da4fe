-- pay 0002: the permissions of the pay module (docs/payments.md, "Who may
-- do what"; IAM-RBAC-01, IAM-LP-01). Rows of iam's permission tables,
-- which only migrations change. Operators register and change merchants'
-- payment profiles (a business operation: no administrator role gets it,
-- IAM-SOD-02); risk and finance read them. Merchant users work on their
-- own merchant's orders: both roles create and read, only the merchant's
-- administrator cancels.
INSERT INTO iam_permission (name, description) VALUES
    ('pay.merchant.read', 'Read merchants'' payment profiles'),
    ('pay.merchant.manage', 'Register and change merchants'' payment profiles'),
    ('pay.order.read', 'Read one''s own merchant''s orders'),
    ('pay.order.create', 'Create orders of one''s own merchant'),
    ('pay.order.cancel', 'Cancel unpaid orders of one''s own merchant');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('operator', 'pay.merchant.read'),
    ('operator', 'pay.merchant.manage'),
    ('risk_officer', 'pay.merchant.read'),
    ('finance', 'pay.merchant.read'),
    ('merchant_admin', 'pay.order.read'),
    ('merchant_admin', 'pay.order.create'),
    ('merchant_admin', 'pay.order.cancel'),
    ('merchant_staff', 'pay.order.read'),
    ('merchant_staff', 'pay.order.create');
