-- ledger 0003, SQLite part: ledger_transfer and ledger_batch rebuilt with
-- seq INTEGER PRIMARY KEY (the rowid: no separate key index), every row
-- copied as it is (the batches' hashes cover the columns, not the
-- storage), then the journal's indexes and both tables' append-only
-- triggers of 0001 made again. DROP TABLE fires no DELETE trigger; no
-- other table, view or trigger refers to either table.
CREATE TABLE ledger_transfer_rowid (
    seq             INTEGER NOT NULL PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    caller          TEXT    NOT NULL,
    idem_key        TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    debit_account   TEXT    NOT NULL,
    credit_account  TEXT    NOT NULL,
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    asset           TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    ref             TEXT    NOT NULL,
    flags           INTEGER NOT NULL,
    pending_id      TEXT,
    timeout_ms      BIGINT  NOT NULL,
    on_timeout      TEXT    NOT NULL,
    ts_us           BIGINT  NOT NULL UNIQUE,
    batch_seq       BIGINT  NOT NULL,
    UNIQUE (caller, idem_key)
);
INSERT INTO ledger_transfer_rowid (seq, id, caller, idem_key, content_hash, debit_account,
    credit_account, amount, asset, code, ref, flags, pending_id, timeout_ms, on_timeout,
    ts_us, batch_seq)
SELECT seq, id, caller, idem_key, content_hash, debit_account, credit_account, amount,
    asset, code, ref, flags, pending_id, timeout_ms, on_timeout, ts_us, batch_seq
FROM ledger_transfer ORDER BY seq;
DROP TABLE ledger_transfer;
ALTER TABLE ledger_transfer_rowid RENAME TO ledger_transfer;
CREATE INDEX ledger_transfer_debit ON ledger_transfer (debit_account, seq);
CREATE INDEX ledger_transfer_credit ON ledger_transfer (credit_account, seq);
CREATE TRIGGER ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;
CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;
CREATE TRIGGER ledger_transfer_no_replace BEFORE INSERT ON ledger_transfer
WHEN EXISTS (SELECT 1 FROM ledger_transfer WHERE seq = NEW.seq OR id = NEW.id
             OR ts_us = NEW.ts_us OR (caller = NEW.caller AND idem_key = NEW.idem_key))
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfer is append-only');
END;

CREATE TABLE ledger_batch_rowid (
    seq             INTEGER NOT NULL PRIMARY KEY,
    first_transfer  BIGINT  NOT NULL,
    last_transfer   BIGINT  NOT NULL,
    ts_us           BIGINT  NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL
);
INSERT INTO ledger_batch_rowid (seq, first_transfer, last_transfer, ts_us, prev_hash, hash)
SELECT seq, first_transfer, last_transfer, ts_us, prev_hash, hash
FROM ledger_batch ORDER BY seq;
DROP TABLE ledger_batch;
ALTER TABLE ledger_batch_rowid RENAME TO ledger_batch;
CREATE TRIGGER ledger_batch_no_update BEFORE UPDATE ON ledger_batch
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
CREATE TRIGGER ledger_batch_no_delete BEFORE DELETE ON ledger_batch
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
CREATE TRIGGER ledger_batch_no_replace BEFORE INSERT ON ledger_batch
WHEN EXISTS (SELECT 1 FROM ledger_batch WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'ledger_batch is append-only');
END;
