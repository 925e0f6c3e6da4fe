-- receipt 0001: electronic receipts (电子回单) of completed transactions
-- (src/receipt/, docs/receipts.md). Portable SQL (SQLite 3.40 /
-- PostgreSQL 15).

-- One signed receipt per transaction (kind, ref_id): body is the
-- canonical JSON the signature (sig, base64) covers, under the key kid of
-- algorithm alg. Stored the first time it is asked for; never changed.
CREATE TABLE receipt (
    id         TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    ref_id     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    alg        TEXT    NOT NULL CHECK (alg IN ('ed25519', 'sm2')),
    kid        TEXT    NOT NULL,
    sig        TEXT    NOT NULL,
    issued_ms  BIGINT  NOT NULL,
    UNIQUE (kind, ref_id)
);

-- Operators read any receipt (FUNC-PAY-16's audited download); customers
-- read their own through their session (no permission row needed).
INSERT INTO iam_permission (name, description) VALUES
    ('receipt.read', 'Read and download any electronic receipt');

INSERT INTO iam_role_permission (role, permission) VALUES
    ('operator', 'receipt.read'),
    ('auditor', 'receipt.read');
