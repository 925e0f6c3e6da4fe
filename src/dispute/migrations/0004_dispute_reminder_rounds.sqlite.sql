-- dispute 0004, SQLite part: round joins dispute_reminder's primary key.
-- SQLite cannot change a primary key, so the table is rebuilt (same
-- columns, same rows; it has no index of its own and no table refers to
-- it).
CREATE TABLE dispute_reminder_0004 (
    dispute_id  TEXT    NOT NULL REFERENCES dispute (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('take', 'handle')),
    at_ms       BIGINT  NOT NULL,
    round       BIGINT  NOT NULL DEFAULT 1 CHECK (round >= 1),
    PRIMARY KEY (dispute_id, kind, round)
);
INSERT INTO dispute_reminder_0004 (dispute_id, kind, at_ms, round)
SELECT dispute_id, kind, at_ms, round FROM dispute_reminder;
DROP TABLE dispute_reminder;
ALTER TABLE dispute_reminder_0004 RENAME TO dispute_reminder;
