-- web 0001 (src/web/keypad.c): one row per shuffled payment keypad shown
-- (WEB-KBD-01): its layout (the digit on each key position), its user,
-- its expiry, and whether it was taken (single use).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.
CREATE TABLE web_keypad (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    layout      TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX web_keypad_user ON web_keypad (user_id, created_ms);
