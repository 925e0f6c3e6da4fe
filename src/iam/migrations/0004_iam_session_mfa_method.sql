-- iam 0004: which second factor the session's latest step-up used (sms,
-- email or totp; '' for none), recorded with mfa_ms, so that payment
-- limits can follow the factor (RISK-LIM-01; src/iam/session.c).
ALTER TABLE iam_session ADD COLUMN mfa_method TEXT NOT NULL DEFAULT '';
