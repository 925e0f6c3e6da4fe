-- example 0001 notes (src/example/): one row per note a user wrote.
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.
CREATE TABLE example_note (
    id          TEXT   NOT NULL PRIMARY KEY,
    user_id     TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX example_note_user ON example_note (user_id, created_ms);
