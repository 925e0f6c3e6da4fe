-- notify 0001 outgoing SMS and email (src/notify/). Legacy global version 2
-- (with core 0002 and iam 0001).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.

-- Outgoing notifications (src/notify/): target and body are encrypted.
CREATE TABLE notify_message (
    id               TEXT    NOT NULL PRIMARY KEY,
    channel          TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    user_id          TEXT,
    target_enc       TEXT    NOT NULL,
    subject_enc      TEXT    NOT NULL,
    body_enc         TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    created_ms       BIGINT  NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT  NOT NULL,
    sent_ms          BIGINT,
    last_error       TEXT
);
CREATE INDEX notify_message_due ON notify_message (status, next_attempt_ms);
