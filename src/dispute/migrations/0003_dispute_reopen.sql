-- dispute 0003: reopening a resolution (docs/disputes.md, "States";
-- FUNC-PAY-13). reopens counts the complainant's reopens (at most
-- ANFU_LIMIT_DISPUTE_REOPENS, src/base/limits.h); refunded is the fen the
-- refunds of this dispute's earlier resolutions made, so a later
-- resolution refunds at most amount - refunded. Existing rows: 0 and 0
-- (none was ever reopened). Portable SQL (SQLite 3.40 / PostgreSQL 15).
ALTER TABLE dispute ADD COLUMN reopens BIGINT NOT NULL DEFAULT 0 CHECK (reopens >= 0);
ALTER TABLE dispute ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0);
