"""`anfu ledger verify|accounts|account|transfers` on a data directory.

The ledger is written into the data directory's database by this test, its
batch hashes computed here from the encoding docs/ledger.md describes
("The hash chain"), independently of src/ledger/chain.c: a verify that
passes on it also shows that the documented encoding is the one anfu uses.
Then the database is changed one way at a time, as someone holding the
file could (the append-only triggers dropped first; on PostgreSQL, as the
tables' owner could: the triggers disabled), and verify must exit 1 naming
the first bad row. The data directories are made by Server (never
started), so they are on the suite's backend (conftest.py BACKEND).
"""
import hashlib
import struct

import pytest

from conftest import run_cli

ZERO = "0" * 64
PENDING, POST = 1 << 1, 1 << 2
DEBITS_LIMITED, CREDITS_LIMITED = 1 << 0, 1 << 1
CUSTOMER = "usr_7Hq2mZ9xKp4Lw8Rt3Vn6Yb"
MERCHANT = "mer_Qa5Ws8Ed1Rf4Tg7Yh0Uj3I"

# (seq, debit, credit, amount, asset, flags, pending_id, on_timeout, batch)
TRANSFERS = [
    (1, "acc_reserve", "acc_wallet", 100000, "CNY", 0, None, "", 1),
    (2, "acc_wallet", "acc_merchant", 3000, "CNY", 0, None, "", 2),
    (3, "acc_wallet", "acc_merchant", 2000, "CNY", PENDING, None, "void", 2),
    (4, "acc_wallet", "acc_merchant", 1500, "CNY", POST, "trf_3", "", 3),
    (5, "acc_wallet", "acc_merchant", 700, "CNY", PENDING, None, "void", 3),
]
BATCHES = [(1, 1, 1), (2, 2, 3), (3, 4, 5)]


def row(t):
    seq, debit, credit, amount, asset, flags, pending, on_timeout, batch = t
    return (seq, "trf_%d" % seq, "svc", "k%d" % seq, "ch%d" % seq, debit, credit, amount,
            asset, "payment", "ord_%d" % seq, flags, pending, 0, on_timeout,
            1_000_000 + seq, batch)


def enc(values):
    """docs/ledger.md: every column a 4-byte big-endian length and its
    bytes, integers in decimal, NULL as length 0xFFFFFFFF."""
    out = b""
    for v in values:
        if v is None:
            out += b"\xff\xff\xff\xff"
            continue
        b = (str(v) if isinstance(v, int) else v).encode()
        out += struct.pack(">I", len(b)) + b
    return out


def batch_hash(prev_hex, rows, alg="sha256"):
    return hashlib.new(alg, bytes.fromhex(prev_hex) + b"".join(enc(r) for r in rows)).hexdigest()


def write_ledger(s, alg="sha256"):
    """Writes the ledger into the database of s (a conftest Server)."""
    with s.rw() as c:
        for acc, kind, owner_type, owner, flags, dp, dpo, cp, cpo in [
                ("acc_reserve", "bank_reserve", "bank", "ICBC", CREDITS_LIMITED, 0, 100000, 0, 0),
                ("acc_wallet", "customer_wallet", "customer", CUSTOMER, DEBITS_LIMITED,
                 700, 4500, 0, 100000),
                ("acc_merchant", "merchant_pending", "merchant", MERCHANT, DEBITS_LIMITED,
                 0, 0, 700, 4500)]:
            c.execute("INSERT INTO ledger_account (id, asset, kind, owner_type, owner_id, flags,"
                      " state, debits_pending, debits_posted, credits_pending, credits_posted,"
                      " created_ms) VALUES (?, 'CNY', ?, ?, ?, ?, 'normal', ?, ?, ?, ?, 1)",
                      acc, kind, owner_type, owner, flags, dp, dpo, cp, cpo)
        rows = [row(t) for t in TRANSFERS]
        for r in rows:
            c.execute("INSERT INTO ledger_transfer VALUES (%s)" % ",".join("?" * 17), *r)
        c.execute("INSERT INTO ledger_hold VALUES ('trf_3', 'posted', 2000, 0, 'void', 'trf_4')")
        c.execute("INSERT INTO ledger_hold VALUES ('trf_5', 'pending', 700, 0, 'void', NULL)")
        prev = ZERO
        for seq, first, last in BATCHES:
            h = batch_hash(prev, rows[first - 1:last], alg)
            c.execute("INSERT INTO ledger_batch VALUES (?, ?, ?, ?, ?, ?)",
                      seq, first, last, 1_000_000 + last, prev, h)
            prev = h
        c.execute("UPDATE ledger_head SET last_transfer = 5, last_batch = 3,"
                  " last_ts_us = 1000005, last_hash = ?", prev)


def tamper(s, *sql):
    with s.rw() as c:
        c.disable_triggers("ledger_transfer", "ledger_batch")
        for q in sql:
            c.execute(q)


@pytest.fixture
def ledger_server(make_server):
    """A data directory (on the suite's backend) holding the ledger above;
    anfud is not started."""
    s = make_server(start=False)
    write_ledger(s)
    return s


@pytest.fixture
def ledger_data(ledger_server):
    return ledger_server.data


def test_ledger_verify_passes_on_a_consistent_ledger(ledger_data):
    """req: FUNC-ACCT-10, TX-INT-01 (the documented chain encoding verifies)"""
    p = run_cli("ledger", "verify", data=ledger_data)
    assert p.returncode == 0
    assert p.stdout == "OK: 5 transfers in 3 batches, 3 accounts, 2 holds verified\n"


def test_ledger_verify_passes_on_a_fresh_data_directory(make_server):
    data = make_server(start=False).data
    p = run_cli("ledger", "verify", data=data)
    assert p.stdout == "OK: 0 transfers in 0 batches, 0 accounts, 0 holds verified\n"


def test_ledger_verify_uses_sm3_under_the_gm_profile(make_server):
    """The chain hash follows the deployment's profile (SM3 under gm)."""
    s = make_server(crypto="gm", start=False)
    write_ledger(s, alg="sm3")
    assert run_cli("ledger", "verify", data=s.data).returncode == 0
    s2 = make_server(crypto="gm", start=False)
    write_ledger(s2, alg="sha256")
    p = run_cli("ledger", "verify", data=s2.data, check=False)
    assert p.returncode == 1
    assert p.stdout == "FAILED: ledger_batch seq 1: hash does not match transfers 1..1\n"


@pytest.mark.parametrize("sql, problem", [
    # req: TX-INT-01 (an edited journal row is detected)
    (["UPDATE ledger_transfer SET amount = 3001 WHERE seq = 2"],
     "ledger_batch seq 2: hash does not match transfers 2..3"),
    # req: TX-INT-01 (a deleted journal row is detected)
    (["DELETE FROM ledger_transfer WHERE seq = 2"],
     "ledger_transfer seq 2 is missing (the next row is seq 3)"),
    (["UPDATE ledger_batch SET hash = '%s' WHERE seq = 3" % ("1" * 64)],
     "ledger_batch seq 3: hash does not match transfers 4..5"),
    # req: FUNC-ACCT-10 (a balance that is not the sum of its journal entries)
    (["UPDATE ledger_account SET credits_posted = 4501 WHERE id = 'acc_merchant'"],
     "ledger_account acc_merchant: credits_posted is 4501, the journal gives 4500"),
    (["UPDATE ledger_hold SET state = 'voided' WHERE transfer_id = 'trf_5'"],
     "ledger_hold trf_5: state voided but closed_by names no transfer of it"),
])
def test_ledger_verify_fails_naming_the_first_bad_row(ledger_server, sql, problem):
    data = ledger_server.data
    assert run_cli("ledger", "verify", data=data).returncode == 0
    tamper(ledger_server, *sql)
    p = run_cli("ledger", "verify", data=data, check=False)
    assert p.returncode == 1
    assert p.stdout == "FAILED: %s\n" % problem


def test_ledger_verify_fails_without_the_ledger_tables(ledger_server):
    ledger_data = ledger_server.data
    with ledger_server.rw() as c:
        c.execute("DROP TABLE ledger_hold")
    p = run_cli("ledger", "verify", data=ledger_data, check=False)
    assert p.returncode == 1
    assert p.stdout.startswith("FAILED: the ledger tables could not be read")


def test_ledger_accounts_masks_customer_and_merchant_owners(ledger_data):
    """Owner ids of customers and merchants are masked (base/mask.h's ID
    number rule, first and last character, after the id's prefix)."""
    p = run_cli("ledger", "accounts", data=ledger_data)
    assert CUSTOMER not in p.stdout and MERCHANT not in p.stdout
    lines = {ln.split()[0]: ln.split() for ln in p.stdout.splitlines()[1:-1]}
    assert sorted(lines) == ["acc_merchant", "acc_reserve", "acc_wallet"]
    assert lines["acc_wallet"][4] == "usr_7" + "*" * 20 + "b"
    assert lines["acc_merchant"][4] == "mer_Q" + "*" * 20 + "I"
    assert lines["acc_reserve"][4] == "ICBC"  # a bank code is no personal data
    assert lines["acc_wallet"][7:] == ["700", "4500", "0", "100000"]
    assert p.stdout.splitlines()[-1] == "(3 accounts)"
    p = run_cli("ledger", "accounts", "--limit", "1", data=ledger_data)
    assert p.stdout.splitlines()[1].split()[0] == "acc_merchant"
    assert p.stdout.splitlines()[-1] == "(1 accounts)"


def test_ledger_account_shows_one_account_and_its_open_holds(ledger_data):
    p = run_cli("ledger", "account", "acc_wallet", data=ledger_data)
    out = p.stdout.splitlines()
    assert out[1].split()[0] == "acc_wallet"
    assert CUSTOMER not in p.stdout
    assert out[-1] == "open holds: 1"
    p = run_cli("ledger", "account", "acc_nobody", data=ledger_data, check=False)
    assert p.returncode == 1
    assert p.stdout == ""
    assert "no account acc_nobody" in p.stderr


def test_ledger_transfers_lists_newest_first_by_account(ledger_data):
    p = run_cli("ledger", "transfers", "--limit", "2", data=ledger_data)
    seqs = [ln.split()[0] for ln in p.stdout.splitlines()[1:-1]]
    assert seqs == ["5", "4"]
    p = run_cli("ledger", "transfers", "--account", "acc_reserve", data=ledger_data)
    seqs = [ln.split()[0] for ln in p.stdout.splitlines()[1:-1]]
    assert seqs == ["1"]
    assert p.stdout.splitlines()[-1] == "(1 transfers)"


@pytest.mark.parametrize("args", [
    ["ledger"], ["ledger", "bogus"], ["ledger", "account"],
    ["ledger", "transfers", "--limit", "0"], ["ledger", "transfers", "--limit", "10001"],
    ["ledger", "transfers", "--limit", "x"], ["ledger", "verify", "--limit", "5"],
    ["ledger", "accounts", "--account", "acc_x"],
])
def test_ledger_usage_errors_exit_2(tmp_path, args):
    p = run_cli(*args, data=tmp_path, check=False)
    assert p.returncode == 2
    assert p.stdout == ""


def test_ledger_accounts_hides_an_owner_id_it_cannot_mask(ledger_server):
    """An owner id without the usual prefix is not shown at all."""
    ledger_data = ledger_server.data
    with ledger_server.rw() as c:
        c.execute("INSERT INTO ledger_account (id, asset, kind, owner_type, owner_id, flags,"
                  " state, created_ms) VALUES ('acc_odd', 'CNY', 'customer_wallet', 'customer',"
                  " '13800001050', 1, 'normal', 1)")
    p = run_cli("ledger", "account", "acc_odd", data=ledger_data)
    assert "13800001050" not in p.stdout
    assert p.stdout.splitlines()[1].split()[4] == "***"


def test_ledger_verify_runs_beside_a_running_anfud(make_server):
    """verify reads a snapshot: it works while anfud (and its ledger writer)
    runs on the same data directory, and after anfud stopped."""
    s = make_server()
    write_ledger(s)
    # The three accounts write_ledger opened, and the platform accounts the
    # modules open at start (points: points_liability and its CNY fund;
    # pay: platform_fee and platform_escrow).
    n = s.query("SELECT count(*) AS n FROM ledger_account")[0]["n"]
    assert n == 3 + 2 + 2
    p = run_cli("ledger", "verify", data=s.data)
    assert p.stdout == "OK: 5 transfers in 3 batches, %d accounts, 2 holds verified\n" % n
    s.stop()
    assert run_cli("ledger", "verify", data=s.data).returncode == 0
