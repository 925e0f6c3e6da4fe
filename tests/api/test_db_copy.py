"""`anfu db copy`: a stopped installation moves from SQLite to PostgreSQL
and back (docs/deployment.md, "Moving between SQLite and PostgreSQL"), on
data the suite makes through the API: customers registered, a login, ledger
transfers through the test hooks.

Needs the server in ANFU_TEST_PG_DSN; without it every test here skips.
"""
import itertools
import os
import pty
import sqlite3
import subprocess

import pytest

from conftest import ANFU, PG_DSN, merge, pg_connect, run_cli, write_config
from iam import login_customer, register

pytestmark = pytest.mark.skipif(not PG_DSN, reason="ANFU_TEST_PG_DSN is not set: "
                                "no PostgreSQL server for these tests")

_COUNTER = itertools.count()


@pytest.fixture
def target_db():
    """An empty PostgreSQL database; dropped at teardown."""
    name = "anfu_copy_%d_%d" % (os.getpid(), next(_COUNTER))
    c = pg_connect()
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        cur.execute("CREATE DATABASE %s" % name)
    c.close()
    yield name
    c = pg_connect()
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    c.close()


def dsn(dbname):
    return "%s dbname=%s" % (PG_DSN, dbname)


def pg_tables(dbname):
    """{table: sorted rows} of a PostgreSQL database."""
    c = pg_connect(dbname)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            names = [r[0] for r in cur.fetchall()]
            out = {}
            for n in names:
                cur.execute("SELECT * FROM %s" % n)
                out[n] = sorted(tuple(r) for r in cur.fetchall())
            return out
    finally:
        c.close()


def sqlite_tables(path):
    c = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        names = [r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(tuple(r) for r in c.execute("SELECT * FROM %s" % n))
                for n in names}
    finally:
        c.close()


def open_account(s, kind, owner_type, owner_id):
    r = s.post("/test/v1/ledger/accounts", {"kind": kind, "asset": "CNY",
                                            "owner_type": owner_type, "owner_id": owner_id})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def transfer(s, key, dr, cr, amount):
    r = s.post("/test/v1/ledger/transfers", {
        "caller": "copy", "idem_key": key, "debit_account": dr, "credit_account": cr,
        "amount": amount, "asset": "CNY", "code": "payment"})
    assert r.status_code == 200, r.text
    assert r.json()["code"] is None, r.text


def make_data(s):
    """Customers, a login, accounts and transfers; returns what to check."""
    _, phone = register(s)
    register(s)
    login_customer(s, phone)
    reserve = open_account(s, "bank_reserve", "bank", "ICBC")
    w1 = open_account(s, "customer_wallet", "customer", "usr_c1")
    w2 = open_account(s, "customer_wallet", "customer", "usr_c2")
    transfer(s, "k1", reserve, w1, 1000)
    transfer(s, "k2", w1, w2, 250)
    transfer(s, "k3", reserve, w2, 40)
    want = balances(s)
    assert want[w1] == 750 and want[w2] == 290
    return phone, want


def balances(s):
    return {r["id"]: r["credits_posted"] - r["debits_posted"]
            for r in s.query("SELECT * FROM ledger_account WHERE kind = 'customer_wallet'")}


def switch_to(s, database, pg_db=None):
    """Points the server's configuration at another database."""
    s.config = merge(s.config, {"database": database})
    write_config(s.data / "anfu.conf", s.config)
    s.pg_db = pg_db


def test_copy_sqlite_to_postgresql_then_anfud_serves_it(make_server, target_db):
    s = make_server(backend="sqlite")
    phone, want = make_data(s)
    s.stop()
    before = sqlite_tables(s.data / "anfu.db")
    p = run_cli("db", "copy", "--to", "postgresql", dsn(target_db), data=s.data)
    assert p.stdout.splitlines() == [
        "copying sqlite to postgresql",
        "row counts:   equal (%d tables, %d rows)"
        % (len(before), sum(len(v) for v in before.values())),
        "audit log:    OK: %d records, %d checkpoints verified"
        % (len(before["audit_log"]), 2 * len(before["audit_checkpoint"])),
        "ledger:       OK: 3 transfers in %d batches, %d accounts verified"
        % (len(before["ledger_batch"]), len(before["ledger_account"])),
        "done: point [database] at the target (docs/deployment.md)"]
    # No progress without a terminal.
    assert p.stderr == ""
    # Every row of every table, not only the counts.
    assert pg_tables(target_db) == before
    # anfud on the copy: the customer logs in, the balances are there, and
    # the chains go on where the source's ended.
    switch_to(s, {"backend": "postgresql", "dsn": dsn(target_db)}, target_db)
    s.start()
    login_customer(s, phone, device="dev-2")
    assert balances(s) == want
    w1 = next(a for a, v in want.items() if v == 750)
    w2 = next(a for a, v in want.items() if v == 290)
    transfer(s, "k4", w1, w2, 1)
    s.stop()
    assert run_cli("ledger", "verify", data=s.data).stdout.startswith("OK: 4 transfers")
    assert run_cli("audit", "verify", data=s.data).returncode == 0


def test_copy_postgresql_to_sqlite_then_anfud_serves_it(make_server):
    s = make_server(backend="postgresql")
    phone, want = make_data(s)
    s.stop()
    before = pg_tables(s.pg_db)
    # Where an SQLite installation keeps its database (query() reads it).
    target = s.data / "anfu.db"
    assert not target.exists()
    p = run_cli("db", "copy", "--to", "sqlite", str(target), data=s.data)
    assert "row counts:   equal (%d tables" % len(before) in p.stdout
    assert "ledger:       OK: 3 transfers" in p.stdout
    assert sqlite_tables(target) == before
    switch_to(s, {"backend": "sqlite", "path": "anfu.db"})
    s.start()
    login_customer(s, phone, device="dev-2")
    assert balances(s) == want


def test_copy_shows_progress_on_a_terminal(make_server, target_db):
    s = make_server(backend="sqlite", start=False)
    master, slave = pty.openpty()
    p = subprocess.run([ANFU, "db", "copy", "--to", "postgresql", dsn(target_db),
                        "--data", str(s.data)], stdout=subprocess.PIPE, stderr=slave,
                       text=True, timeout=120)
    os.close(slave)
    out = os.read(master, 65536).decode()
    os.close(master)
    assert p.returncode == 0, out
    rows = sum(len(v) for v in sqlite_tables(s.data / "anfu.db").values())
    assert "\r  %d / %d (100%%)" % (rows, rows) in out


def test_copy_refuses_while_anfud_runs(make_server, target_db):
    s = make_server(backend="sqlite")
    p = run_cli("db", "copy", "--to", "postgresql", dsn(target_db), data=s.data, check=False)
    assert p.returncode == 1
    assert "anfud is running on this data directory: stop it first" in p.stderr
    assert pg_tables(target_db) == {}


def test_copy_refuses_a_target_that_holds_an_installation(make_server, target_db):
    s = make_server(backend="sqlite", start=False)
    run_cli("db", "copy", "--to", "postgresql", dsn(target_db), data=s.data)
    before = pg_tables(target_db)
    p = run_cli("db", "copy", "--to", "postgresql", dsn(target_db), data=s.data, check=False)
    assert p.returncode == 1
    assert "the target holds an anfu installation already" in p.stderr
    assert pg_tables(target_db) == before


def test_copy_refuses_an_existing_sqlite_file(make_server, tmp_path):
    s = make_server(backend="postgresql", start=False)
    target = tmp_path / "there.db"
    target.write_bytes(b"keep me")
    p = run_cli("db", "copy", "--to", "sqlite", str(target), data=s.data, check=False)
    assert p.returncode == 1
    assert "exists; the target must be a new file" in p.stderr
    assert target.read_bytes() == b"keep me"


def test_copy_refuses_a_source_behind_this_anfu(make_server, target_db):
    s = make_server(backend="sqlite", start=False)
    c = sqlite3.connect(s.data / "anfu.db")
    with c:
        c.execute("DELETE FROM schema_version WHERE module = 'ledger' AND version = 4")
    c.close()
    p = run_cli("db", "copy", "--to", "postgresql", dsn(target_db), data=s.data, check=False)
    assert p.returncode == 1
    assert "1 migration(s) of this anfu not applied" in p.stderr
    assert pg_tables(target_db) == {}


@pytest.mark.parametrize("args, err", [
    (["--to", "postgresql"], "usage:"),
    (["--to", "oracle", "x"], "usage:"),
    (["--to", "postgresql", "PASSWORD"], "contains a password"),
])
def test_copy_refuses_bad_arguments(make_server, target_db, args, err):
    s = make_server(backend="sqlite", start=False)
    args = [dsn(target_db) + " password=secret" if a == "PASSWORD" else a for a in args]
    p = run_cli("db", "copy", *args, data=s.data, check=False)
    assert p.returncode in (1, 2)
    assert err in p.stderr
    assert "secret" not in p.stdout + p.stderr
    assert pg_tables(target_db) == {}


def test_copy_to_the_backend_it_is_on_is_refused(make_server, tmp_path):
    s = make_server(backend="sqlite", start=False)
    p = run_cli("db", "copy", "--to", "sqlite", str(tmp_path / "x.db"), data=s.data,
                check=False)
    assert p.returncode == 1
    assert "the installation is on sqlite already" in p.stderr
    assert not (tmp_path / "x.db").exists()


def test_to_is_an_option_of_copy_only(tmp_path):
    """An option is one of a command's only as a whole name of its list:
    --to (copy's) is not init's although init takes --crypto."""
    data = tmp_path / "d"
    p = run_cli("init", "--to", "sqlite", data=data, check=False)
    assert p.returncode == 2
    assert "anfu init: unknown option (see --help)" in p.stderr
    assert not data.exists()
