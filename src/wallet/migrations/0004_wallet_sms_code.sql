-- wallet 0004: a confirmation above [wallet] sms_confirm_over needs an
-- SMS code bound to it (IAM-MFA-11, TX-CONFIRM-02). The code itself is
-- iam's (iam_code, purpose "tx", context the confirmation id); this
-- records that the preview sent one (bound by the confirmation's hash).
ALTER TABLE wallet_confirmation ADD COLUMN sms_code INTEGER NOT NULL DEFAULT 0;
