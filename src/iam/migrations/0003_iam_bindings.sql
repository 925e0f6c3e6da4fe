-- iam 0003 (legacy 0005) captchas bound to a purpose and a listener; trusted devices proved
-- by a server-issued secret (src/iam/captcha.c, src/iam/login.c,
-- docs/iam.md). Portable SQL (SQLite 3.40 / PostgreSQL 15).

-- Captchas live for minutes: the table is made anew rather than altered,
-- and captchas open at the upgrade are gone (a client asks for another).
DROP TABLE iam_captcha;
CREATE TABLE iam_captcha (
    id           TEXT    NOT NULL PRIMARY KEY,
    answer_hash  TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL,
    expires_ms   BIGINT  NOT NULL,
    used_ms      BIGINT,
    -- What it was made for: accepted only for that, on that listener.
    purpose      TEXT    NOT NULL CHECK (purpose IN ('login', 'register', 'reset')),
    admin        INTEGER NOT NULL CHECK (admin IN (0, 1))
);

-- Trusted devices. A device was the keyed hash of two headers the client
-- chooses (X-Device-Id, User-Agent); it is now a random secret the server
-- issues at MFA, of which only a keyed hash is kept. Rows made under the
-- old scheme hold no secret and cannot be converted: they are dropped, and
-- those devices ask for a second factor at their next login.
DROP TABLE iam_device;
CREATE TABLE iam_device (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES iam_user (id),
    -- HMAC of the secret (vault token hash, purpose "device_secret").
    secret_hash  TEXT   NOT NULL UNIQUE,
    -- Fingerprint hash of the request that was trusted (X-Device-Id +
    -- User-Agent): a label for the login history, never a proof.
    fp_hash      TEXT   NOT NULL,
    label        TEXT   NOT NULL,
    trusted_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    created_ms   BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    revoked_ms   BIGINT
);
CREATE INDEX iam_device_user ON iam_device (user_id, expires_ms);

-- Decoy messages of password-reset starts (src/iam/reset.c). A start that
-- sends fewer than two codes (an unknown name, an ineligible account, an
-- account with one bound channel) writes here, sealed like notify_message,
-- what it would have queued, so that every start does the same work. Never
-- sent, never read; rows over a day old are deleted by the next start.
CREATE TABLE iam_reset_decoy (
    id           TEXT   NOT NULL PRIMARY KEY,
    reset_id     TEXT   NOT NULL,
    channel      TEXT   NOT NULL CHECK (channel IN ('sms', 'email')),
    target_enc   TEXT   NOT NULL,
    subject_enc  TEXT   NOT NULL,
    body_enc     TEXT   NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX iam_reset_decoy_created ON iam_reset_decoy (created_ms);
