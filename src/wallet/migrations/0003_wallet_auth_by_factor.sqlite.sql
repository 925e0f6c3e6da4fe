-- wallet 0003, SQLite part: a transfer's auth may be pin_totp. SQLite
-- cannot change a check, so the table is rebuilt (same columns, same
-- rows, same index); confirmations' auth is checked by a trigger.
CREATE TABLE wallet_transfer_0003 (
    id              TEXT    NOT NULL PRIMARY KEY,
    payer_id        TEXT    NOT NULL,
    payee_id        TEXT    NOT NULL,
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    currency        TEXT    NOT NULL CHECK (currency = 'CNY'),
    memo            TEXT    NOT NULL,
    payee_name      TEXT    NOT NULL,
    payee_login     TEXT    NOT NULL,
    payer_name      TEXT    NOT NULL,
    payer_login     TEXT    NOT NULL,
    confirmation_id TEXT    NOT NULL UNIQUE,
    request_id      TEXT    NOT NULL,
    auth            TEXT    NOT NULL CHECK (auth IN ('pin', 'pin_otp', 'pin_totp')),
    ledger_id       TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    UNIQUE (payer_id, request_id)
);
INSERT INTO wallet_transfer_0003 (id, payer_id, payee_id, amount, currency, memo, payee_name,
    payee_login, payer_name, payer_login, confirmation_id, request_id, auth, ledger_id,
    created_ms)
SELECT id, payer_id, payee_id, amount, currency, memo, payee_name, payee_login, payer_name,
    payer_login, confirmation_id, request_id, auth, ledger_id, created_ms FROM wallet_transfer;
DROP TABLE wallet_transfer;
ALTER TABLE wallet_transfer_0003 RENAME TO wallet_transfer;
CREATE INDEX wallet_transfer_payee ON wallet_transfer (payee_id, created_ms);
CREATE TRIGGER wallet_confirmation_auth_ins BEFORE INSERT ON wallet_confirmation
WHEN NEW.auth NOT IN ('pin', 'pin_otp', 'pin_totp')
BEGIN
    SELECT RAISE(ABORT, 'wallet_confirmation.auth');
END;
