"""bench/pg_ledger.sh (`bench/run.sh pg`): its pgbench scripts parse and run,
and the books check after every run passes on the committed scripts and fails
on a broken one. Benchmarks stay out of `make test`: this runs one 1-second
pair of each kind (uniform.sql/hot.sql, batch.sql at batch 10) on 10
accounts (so that a script locking in no fixed order deadlocks at once) and
measures nothing; TPC-B (pgbench's own script, bench/pg/tpcb-check.sql) is
left out to keep the file under 10 s and runs only in `bench/run.sh pg`.

Each run makes its own throwaway cluster (scripts/pg-cluster.sh) under a
fresh BENCH_DIR, which must be empty again afterwards. The wallets open with
5000 fen and transfers are 1..10000 fen, so the "debits must not exceed
credits" rule refuses about half of the first debits of every wallet: the
committed scripts must refuse some and overdraw none.

The scripts that make the benchmarks' customers (bench/login_users.py,
bench/wallet_users.py, their shared bench/customers.py) run against a
test-hooks anfud of the test's own, making two customers each; what they
write must be what bench/login.lua and bench_wallet use: a login that a
trusted device completes at once, a funded session. bench/paycode_users.py
(issue 11) also makes a merchant and its till sessions; bench_paycode then
runs for a second against them and bench/paycode_check.sql must find its
payments in the books.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid

import pytest

from conftest import BUILD, ROOT, pg_connect

SCRIPT = os.path.join(ROOT, "bench", "pg_ledger.sh")
SQL_DIR = os.path.join(ROOT, "bench", "pg")

CHECK_LINE = re.compile(
    r"^# check: (ok|FAILED), (\d+) failed transactions, (\d+) journal rows "
    r"\((\d+) of (\d+) transfers refused\), "
    r"(\d+) accounts off, credits - debits - opening = (-?\d+), (\d+) flagged accounts overdrawn$",
    re.M)


@pytest.fixture
def bench_dir():
    # Not pytest's tmp_path: the cluster runs as `nobody`, which cannot enter
    # /tmp/pytest-of-root.
    d = tempfile.mkdtemp(prefix="anfu-test-pgbench-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_bench(bench_dir, sql_dir=SQL_DIR, batches="10"):
    env = dict(os.environ, PG_SECONDS="1", PG_REPEAT="1", PG_ACCOUNTS="10",
               PG_OPENING="5000", PG_TPCB_SCALE="0", PG_BATCHES=batches,
               PG_SQL_DIR=sql_dir,
               IDLE_WAIT="0", BENCH_DIR=bench_dir,
               # A deadlock is found after deadlock_timeout (1 s by default,
               # as long as the run): sooner, so that a script that locks in
               # no fixed order fails within the run.
               PGOPTIONS="-c deadlock_timeout=20ms")
    p = subprocess.run([SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    # The cluster is stopped and its directory removed, whatever happened.
    assert os.listdir(bench_dir) == [], (os.listdir(bench_dir), p.stderr)
    return p


def test_pg_scripts_run_and_the_books_add_up(bench_dir):
    # No requirement ID: bench tooling (issue 8 §6), not a product rule.
    p = run_bench(bench_dir)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.rstrip().splitlines()[-1] == "check: ok"
    assert re.search(r"^# settings \(SHOW\): fsync=on synchronous_commit=on ", p.stdout, re.M)
    rows = {m.group(0).split()[0]: m for m in
            re.finditer(r"^(uniform|hot|tpcb) .*$", p.stdout, re.M)}
    assert sorted(rows) == ["hot", "uniform"], p.stdout
    checks = CHECK_LINE.findall(p.stdout)
    # uniform.sql, hot.sql, then batch.sql (batch 10) uniform and hot
    assert len(checks) == 4, p.stdout
    for verdict, failed, journal, ref, total, off, diff, overdrawn in checks:
        assert (verdict, failed, off, diff, overdrawn) == ("ok", "0", "0", "0", "0")
        assert int(journal) >= 1 and int(journal) + int(ref) == int(total)
        # The overdraft rule refused transfers, and none overdrew (above).
        assert int(ref) > 0, p.stdout
    assert re.search(r"^hot +batch\.sql +10 ", p.stdout, re.M), p.stdout
    assert re.search(r"^# hot / uniform: [\d.]+ % ", p.stdout, re.M), p.stdout


# (breakage of bench/pg/uniform.sql, what check.sql must see)
BROKEN = {
    # The credit is not posted: money vanishes.
    "credit-lost": (("SET credits_posted = a.credits_posted + :amount",
                     "SET credits_posted = a.credits_posted"),
                    lambda off, diff, overdrawn: off > 0 and diff < 0),
    # The debit account's balance is not checked: wallets overdraw.
    "overdraft-unchecked": (("OR d.credits_posted - d.debits_posted - d.debits_pending >= :amount",
                             "OR true"),
                            lambda off, diff, overdrawn: off == 0 and diff == 0 and overdrawn > 0),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_script_fails_the_books_check(bench_dir, tmp_path, name):
    # No requirement ID: bench tooling; a check that cannot fail proves nothing.
    (find, replace), seen = BROKEN[name]
    sql_dir = tmp_path / "pg"
    shutil.copytree(SQL_DIR, sql_dir)
    text = (sql_dir / "uniform.sql").read_text()
    assert text.count(find) == 1
    (sql_dir / "uniform.sql").write_text(text.replace(find, replace))
    p = run_bench(bench_dir, sql_dir=str(sql_dir), batches="")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "check: ok" not in p.stdout.splitlines()
    checks = CHECK_LINE.findall(p.stdout)
    # The first run (uniform) fails its check, and nothing runs after it.
    assert len(checks) == 1, p.stdout
    verdict, _, _, _, _, off, diff, overdrawn = checks[0]
    assert verdict == "FAILED"
    assert seen(int(off), int(diff), int(overdrawn)), checks[0]
    assert not re.search(r"^hot ", p.stdout, re.M)


# bench/run.sh's login_config and wallet_config: correct passwords only, so
# no captcha for a login and no per-IP throttle.
USERS_CONFIG = {"captcha": {"mode": "after_failures", "after_failures": "1"},
                "lockout": {"ip_failures": "10000"}}


def run_users(script, srv, out, *args, users=2):
    p = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", script),
                        "--port", str(srv.port), "--cert", srv.cert, "--users", str(users),
                        "--workers", "2", "--out", str(out), *args],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == users, lines
    return [line.split("\t") for line in lines]


def test_login_users_makes_customers_whose_trusted_device_logs_in(make_server, tmp_path):
    # No requirement ID: bench tooling (the login benchmark's customers).
    s = make_server(config=USERS_CONFIG)
    rows = run_users("login_users.py", s, tmp_path / "bodies.txt")
    assert len({r[0] for r in rows}) == 2
    for body, token in rows:
        # What bench/login.lua sends: the body, the device, its secret.
        r = s.post("/api/v1/auth/login", json.loads(body),
                   headers={"X-Device-Id": "bench-device", "User-Agent": "anfu-bench/1.0",
                            "X-Device-Token": token})
        assert (r.status_code, r.json().get("state")) == (200, "active"), r.text


def test_wallet_users_makes_funded_customers_with_live_sessions(make_server, tmp_path):
    # No requirement ID: bench tooling (the wallet benchmark's customers).
    s = make_server(config=USERS_CONFIG)
    rows = run_users("wallet_users.py", s, tmp_path / "users.txt",
                     "--pin", "583016", "--funds", "1000")
    assert len({r[0] for r in rows}) == 2
    for phone, cookie, csrf in rows:
        assert re.fullmatch(r"138\d{8}", phone) and csrf
        # What bench_wallet sends with every request.
        r = s.get("/api/v1/me/balance",
                  headers={"Cookie": cookie, "X-Device-Id": "bench-wallet",
                           "User-Agent": "anfu-bench/1.0"})
        assert (r.status_code, r.json().get("available")) == (200, 1000), r.text


PAYCODE_CHECK = open(os.path.join(ROOT, "bench", "paycode_check.sql"), encoding="utf-8").read()


def paycode_books(s):
    return s.query(PAYCODE_CHECK)[0]


def kv_line(text):
    return {k: float(v) for k, v in (w.split("=") for w in text.strip().splitlines()[-1].split())}


def test_paycode_users_and_bench_paycode_pay_and_the_books_add_up(make_server, tmp_path):
    """bench/paycode_users.py makes funded customers and the till sessions
    of a merchant with a payment profile; a code issued on a customer's
    session is collected on a till's session; bench_paycode (one second,
    two connections) pays with fresh codes, and every payment it counted is
    one paid order with its ledger chain (bench/paycode_check.sql).
    No requirement ID: bench tooling (the payment-code benchmark, issue 11)."""
    s = make_server(config=USERS_CONFIG)
    tills_out = tmp_path / "tills.txt"
    rows = run_users("paycode_users.py", s, tmp_path / "users.txt", "--pin", "583016",
                     "--funds", "100000", "--admin-port", str(s.admin_port), "--anfu", s.cli,
                     "--data", str(s.data), "--fee-bps", "4999", "--tills", "2",
                     "--merchants-out", str(tills_out), users=3)
    tills = [line.split("\t") for line in tills_out.read_text(encoding="utf-8").splitlines()]
    assert len(tills) == 2 and len({t[0] for t in tills}) == 2, tills
    assert paycode_books(s)["orders"] == 0
    dev = {"X-Device-Id": "bench-paycode", "User-Agent": "anfu-bench/1.0"}
    # What bench_paycode sends: the customer's session issues the code ...
    phone, cookie, csrf = rows[0]
    r = s.post("/api/v1/me/paycode", json={},
               headers=dict(dev, Cookie=cookie, **{"X-CSRF-Token": csrf}))
    assert r.status_code == 201, r.text
    # ... and a till's session collects it: paid at once, fee 1 fen at 4999 bps.
    body = {"auth_code": r.json()["code"], "out_trade_no": "T" + uuid.uuid4().hex[:16],
            "amount": 3, "currency": "CNY", "subject": "bench",
            "lines": [{"name": "tea", "quantity": 1, "unit_amount": 3, "amount": 3}]}
    r = s.post("/api/v1/merchant/paycode-payments", json=body,
               headers=dict(dev, Cookie=tills[1][0], **{"X-CSRF-Token": tills[1][1]}))
    assert (r.status_code, r.json().get("state"), r.json().get("fee")) == (201, "paid", 1), r.text
    assert paycode_books(s) == {"orders": 1, "paid": 1, "payments": 1, "amount": 3, "fee": 1,
                                "chain_bad": 0, "pending_net": 2, "transfers": 2}
    # The benchmark itself, briefly; amounts 1..4 fen at 4999 bps: 1 fen has
    # no fee (0.4999 rounds down), 2..4 a fee of 1 or 2: both chain shapes.
    p = subprocess.run([os.path.join(BUILD, "bench", "bench_paycode"),
                        "--url", "https://127.0.0.1:%d" % s.port, "--cacert", s.cert,
                        "--users", str(tmp_path / "users.txt"), "--merchants", str(tills_out),
                        "--conns", "2", "--seconds", "1", "--warmup", "0", "--max-amount", "4"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    got = kv_line(p.stdout)
    assert got["payments"] >= 1 and got["errors"] == 0 and got["errors_total"] == 0, p.stdout
    books = paycode_books(s)
    assert books["orders"] == books["paid"] == books["payments"] == 1 + got["ok_total"], books
    assert books["amount"] == 3 + got["amount_total"], (books, p.stdout)
    assert books["chain_bad"] == 0 and books["pending_net"] == books["amount"] - books["fee"]
    fees = s.query("SELECT COUNT(*) AS n FROM pay_payment WHERE fee > 0")[0]["n"]
    assert books["transfers"] == books["payments"] + fees
    s.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    # The check can fail: a payment whose fee, or whose payer, is not its
    # ledger chain's counts as chain_bad (the stopped server's rows changed
    # behind its back).
    paid = s.query("SELECT id, fee FROM pay_payment ORDER BY fee DESC, id")
    tamper(s, "UPDATE pay_payment SET fee = fee + 1 WHERE id = '%s'" % paid[0]["id"])
    assert paycode_books(s)["chain_bad"] == 1
    tamper(s, "UPDATE pay_payment SET payer_id = 'usr_nobody' WHERE id = '%s'" % paid[-1]["id"])
    assert paycode_books(s)["chain_bad"] == 2


def tamper(s, sql):
    """Runs sql on the (stopped) server's database, bypassing anfud."""
    if s.pg_db:
        c = pg_connect(s.pg_db)
        c.autocommit = True
    else:
        c = sqlite3.connect(str(s.data / "anfu.db"))
    try:
        c.cursor().execute(sql)
        c.commit()
    finally:
        c.close()
