-- points 0002: the permissions of the points routes (docs/points.md
-- "Who"). Portable SQL. Customers read and redeem their own points; the
-- business operator runs the catalogue, the campaigns, grants and
-- cancellations; the risk officer reads. No administrator role and not
-- finance gets any (IAM-SOD-02: administrators do not run business
-- operations).
INSERT INTO iam_permission (name, description) VALUES
    ('points.self.read', 'Read one''s own points balance, history, catalogue and redemptions'),
    ('points.self.redeem', 'Redeem and cancel one''s own points redemptions'),
    ('points.read', 'Read the points catalogue and campaigns'),
    ('points.catalogue.manage', 'Add and change points catalogue items'),
    ('points.campaign.manage', 'Add, activate and end points campaigns'),
    ('points.grant', 'Grant points to a customer, with a reason'),
    ('points.redemption.cancel', 'Cancel a customer''s points redemption, with a reason');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('customer', 'points.self.read'),
    ('customer', 'points.self.redeem'),
    ('operator', 'points.read'),
    ('risk_officer', 'points.read'),
    ('operator', 'points.catalogue.manage'),
    ('operator', 'points.campaign.manage'),
    ('operator', 'points.grant'),
    ('operator', 'points.redemption.cancel');
