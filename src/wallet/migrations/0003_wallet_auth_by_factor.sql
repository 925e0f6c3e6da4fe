-- wallet 0003: limits by the second factor used (RISK-LIM-01): a third
-- method, pin_totp (PIN + TOTP), above pin_otp (PIN + SMS / email code).
-- A confirmation records the weakest method its preview found enough;
-- the confirm needs a factor of at least that strength after the preview.
-- Portable part; the dialect parts widen wallet_transfer.auth's check.
ALTER TABLE wallet_confirmation ADD COLUMN auth TEXT NOT NULL DEFAULT 'pin';
UPDATE wallet_confirmation SET auth = 'pin_otp' WHERE second_factor = 1;
