-- wallet 0003, PostgreSQL part: a transfer's auth may be pin_totp.
ALTER TABLE wallet_transfer DROP CONSTRAINT wallet_transfer_auth_check;
ALTER TABLE wallet_transfer ADD CONSTRAINT wallet_transfer_auth_check
    CHECK (auth IN ('pin', 'pin_otp', 'pin_totp'));
ALTER TABLE wallet_confirmation ADD CONSTRAINT wallet_confirmation_auth_check
    CHECK (auth IN ('pin', 'pin_otp', 'pin_totp'));
