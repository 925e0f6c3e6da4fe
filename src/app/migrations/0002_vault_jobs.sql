-- core 0002 data-encryption keys (src/vault/) and scheduled jobs
-- (src/jobs/). Legacy global version 2 (with notify 0001 and iam 0001).
-- Portable SQL (SQLite 3.40 / PostgreSQL 15): see docs/architecture.md.

-- Data-encryption keys, wrapped by the master key (src/vault/).
CREATE TABLE vault_key (
    id          TEXT    NOT NULL PRIMARY KEY,
    wrapped     TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1))
);

-- Scheduled jobs (src/jobs/): when each runs next, on the injectable clock.
CREATE TABLE job_schedule (
    name          TEXT   NOT NULL PRIMARY KEY,
    next_run_ms   BIGINT NOT NULL,
    last_run_ms   BIGINT,
    last_result   TEXT
);
