"""Several anfud nodes on one PostgreSQL database, and PostgreSQL restarting
under load (issue 9; docs/architecture.md "Several nodes").

- Two nodes, each with its own ledger writer, take concurrent transfers on
  the same accounts: every acknowledged transfer exists exactly once, none
  refused exists, money is conserved, no wallet is overdrawn, the batches
  cover the journal without a gap (one hash chain across both nodes), and
  `anfu ledger verify` and `anfu audit verify` pass.
- The cluster restarts in the middle of a load of transfers into one node:
  what fails in the meantime fails with 503 `unavailable` (never a false
  success), every acknowledged transfer survives, and the same anfud
  process serves again by itself.

Transfers go through the test-hook route /test/v1/ledger/transfers (the
crash harness's, tests/api/test_ledger_crash.py, whose checks are reused).
Needs ANFU_TEST_PG_DSN (scripts/test.sh starts a throwaway cluster); without
it every test here skips and says why. The restart test runs a cluster of
its own (scripts/pg-cluster.sh), so no other test's server sees it go.
"""
import os
import random
import subprocess
import tempfile
import threading
import time

import pytest
import requests

import conftest
from conftest import PG_DSN, http_session
from test_ledger_crash import Ledger, body_of, check, open_account, retry_unknown

pytestmark = pytest.mark.skipif(not PG_DSN, reason="ANFU_TEST_PG_DSN is not set: "
                                "no PostgreSQL server for these tests")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WALLETS = 4


def accounts(s):
    reserve = open_account(s, "bank_reserve", "CNY", "bank", "ICBC")
    wallets = [open_account(s, "customer_wallet", "CNY", "customer", "usr_n%d" % i)
               for i in range(WALLETS)]
    return reserve, wallets


def transfer_body(rng, key, reserve, wallets):
    """Top-ups from the reserve and transfers between wallets, large enough
    that some are refused for insufficient funds (the overdraft rule is
    exercised, not only the happy path)."""
    if rng.random() < 0.3:
        return body_of(key, reserve, rng.choice(wallets), rng.randint(1, 300))
    dr, cr = rng.sample(wallets, 2)
    return body_of(key, dr, cr, rng.randint(1, 600))


class Outcomes:
    """What was not a plain answer: failures by status and error code, and
    anything a worker thread could not take apart (checked by the test)."""
    def __init__(self):
        self.failed = []      # (status, code)
        self.exceptions = []  # no answer at all, or an answer not understood
        self.lock = threading.Lock()


def post_one(http, url, led, out, key, body):
    """Submits one transfer and records its outcome; returns the status
    (None when there was no answer)."""
    try:
        r = http.post(url, json=body, timeout=60)
        j = r.json()
    except (requests.RequestException, ValueError) as e:
        with out.lock:
            out.exceptions.append(repr(e))
        with led.lock:
            led.unknown[key] = body
        return None
    with led.lock:
        if r.status_code != 200:
            led.unknown[key] = body
        elif j.get("existed") is not False:
            led.unknown[key] = body  # a fresh key cannot exist: the check fails below
        elif j["code"] is None:
            led.acked[key] = j["id"]
        else:
            led.refused[key] = j["code"]
    with out.lock:
        if r.status_code != 200:
            out.failed.append((r.status_code, j.get("error", {}).get("code")))
        elif j.get("existed") is not False:
            out.exceptions.append("fresh key %s answered as existing: %r" % (key, j))
    return r.status_code


# ---- two nodes ------------------------------------------------------------------


@pytest.fixture
def two_nodes(make_server, tmp_path):
    """Two started anfud nodes on one PostgreSQL database; the second is
    stopped and checked here, the first by make_server."""
    a = make_server(backend="postgresql")
    sub = tmp_path / "node-b"
    sub.mkdir()
    b = a.another_node(sub).start()
    try:
        yield a, b
    finally:
        b.assert_stopped_cleanly()


def node_worker(node, led, out, tag, n, reserve, wallets, seed, acked_here):
    rng = random.Random(seed)
    http = http_session(node.cert)
    url = node.url("/test/v1/ledger/transfers")
    for i in range(n):
        key = "%s-%d" % (tag, i)
        body = transfer_body(rng, key, reserve, wallets)
        if post_one(http, url, led, out, key, body) == 200:
            with led.lock:
                if key in led.acked:
                    acked_here.append(key)


def test_two_nodes_transfer_on_the_same_accounts_and_the_ledger_stays_whole(two_nodes):
    """req: FUNC-ACCT-10 -- two nodes, each with its own writer, write
    concurrently to the same accounts; the database serialises their
    batches (one advisory lock for every writer), so afterwards every
    acknowledged transfer exists exactly once, nothing refused exists,
    debits equal credits, no wallet is overdrawn, the batch chain covers
    the journal without a gap across both nodes' batches, and the ledger
    and audit chains verify."""
    a, b = two_nodes
    reserve, wallets = accounts(a)
    # The second node sees what the first opened: one database.
    assert b.post("/test/v1/ledger/transfers",
                  body_of("warm", reserve, wallets[0], 1000)).json()["code"] is None
    led, out = Ledger(), Outcomes()
    led.acked["warm"] = a.query("SELECT id FROM ledger_transfer WHERE idem_key = 'warm'")[0]["id"]
    seed = int(os.environ.get("ANFU_NODES_SEED", str(int(time.time()))))
    per_node = {a: [], b: []}
    threads = []
    for w in range(4):
        node = a if w % 2 == 0 else b
        threads.append(threading.Thread(
            target=node_worker,
            args=(node, led, out, "w%d" % w, 60, reserve, wallets, seed + w, per_node[node])))
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
        assert not t.is_alive()
    assert not out.exceptions, out.exceptions
    # Busy answers are allowed (503, a writer waited too long for the
    # lock); each is settled by its retry below.
    assert all(f == (503, "unavailable") or f == (503, "overloaded") for f in out.failed), \
        out.failed
    retry_unknown(a, led)
    assert per_node[a] and per_node[b], "seed %d: one node acknowledged nothing" % seed
    assert led.refused, "seed %d: nothing was refused (the overdraft rule went untested)" % seed
    check(a, led)
    # Exactly once: one row per key, and no more rows than keys.
    counts = a.query("SELECT idem_key, count(*) AS n FROM ledger_transfer "
                     "WHERE caller = 'harness' GROUP BY idem_key HAVING count(*) > 1")
    assert counts == []
    assert a.query("SELECT count(*) AS n FROM ledger_transfer WHERE caller = 'harness'")[0][
        "n"] == len(led.acked)
    # Both nodes' batches are in the one chain.
    assert len(a.query("SELECT seq FROM ledger_batch")) >= 2
    for node in (a, b):
        v = node.cli_run("ledger", "verify", check=False)
        assert v.returncode == 0 and "OK:" in v.stdout, v.stdout + v.stderr
        v = node.cli_run("audit", "verify", check=False)
        assert v.returncode == 0 and "OK:" in v.stdout, v.stdout + v.stderr


def test_a_hold_expiry_scheduled_on_both_nodes_closes_each_hold_once(two_nodes):
    """req: FUNC-PAY-03 -- the ledger.hold_expiry job runs on both nodes'
    schedulers; once the holds' timeout passed on both clocks each hold is
    closed by exactly one 'ledger.expiry' transfer, and both schedulers
    share the one schedule row of the job."""
    a, b = two_nodes
    reserve, wallets = accounts(a)
    assert a.post("/test/v1/ledger/transfers",
                  body_of("fund", reserve, wallets[0], 1000)).json()["code"] is None
    holds = []
    for i in range(6):
        node = a if i % 2 == 0 else b
        body = body_of("h%d" % i, wallets[0], wallets[1], 10)
        body.update(flags=2, timeout_ms=60000, on_timeout="void" if i % 3 else "post")
        r = node.post("/test/v1/ledger/transfers", body)
        assert r.status_code == 200 and r.json()["code"] is None, r.text
        holds.append(r.json()["id"])
    a.clock(advance_ms=61000)
    b.clock(advance_ms=61000)
    deadline = time.time() + 60
    while time.time() < deadline:
        left = a.query("SELECT count(*) AS n FROM ledger_hold WHERE state = 'pending'")[0]["n"]
        if left == 0:
            break
        time.sleep(0.05)
    states = {h["transfer_id"]: h["state"] for h in a.query("SELECT * FROM ledger_hold")}
    assert states == {h: ("posted" if i % 3 == 0 else "expired") for i, h in enumerate(holds)}
    closing = a.query("SELECT pending_id, count(*) AS n FROM ledger_transfer "
                      "WHERE caller = 'ledger.expiry' GROUP BY pending_id")
    assert sorted(c["pending_id"] for c in closing) == sorted(holds)
    assert all(c["n"] == 1 for c in closing), closing
    assert [r["name"] for r in a.query(
        "SELECT name FROM job_schedule WHERE name = 'ledger.hold_expiry'")] == \
        ["ledger.hold_expiry"]
    v = a.cli_run("ledger", "verify", check=False)
    assert v.returncode == 0, v.stdout + v.stderr


# ---- PostgreSQL restarts ------------------------------------------------------------


def pg_cluster(*args):
    return subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cluster_dir():
    """A PostgreSQL cluster for this module's restart tests alone (it is
    restarted): its directory and conninfo."""
    d = tempfile.mkdtemp(prefix="anfu-nodes-pg-")
    try:
        p = pg_cluster("start", d)
        assert p.returncode == 0, p.stderr
        env = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
        yield d, "host=%s port=%s user=anfu dbname=anfu" % (env["PGHOST"], env["PGPORT"])
    finally:
        pg_cluster("stop", d)
        subprocess.run(["rm", "-rf", d], check=False)


@pytest.fixture
def own_cluster(cluster_dir, monkeypatch):
    """cluster_dir's cluster, running, made the one conftest's servers use
    while the test runs; yields its directory."""
    d, dsn = cluster_dir
    if not os.path.exists(os.path.join(d, "data", "postmaster.pid")):
        p = pg_cluster("start", d)  # a test before stopped it and failed
        assert p.returncode == 0, p.stderr
    monkeypatch.setattr(conftest, "PG_DSN", dsn)
    made = len(conftest.PG_DATABASES)
    try:
        yield d
    finally:
        # Its databases go with the cluster, not with the session's.
        del conftest.PG_DATABASES[made:]


def wait_until(what, pred, timeout=120):
    """Waits for an event the test caused (not a timing assertion)."""
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def load_worker(node, led, out, tag, reserve, wallets, stop, seed):
    rng = random.Random(seed)
    http = http_session(node.cert)
    url = node.url("/test/v1/ledger/transfers")
    i = 0
    while not stop.is_set():
        key = "%s-%d" % (tag, i)
        i += 1
        post_one(http, url, led, out, key, transfer_body(rng, key, reserve, wallets))


def test_a_postgresql_restart_under_load_loses_nothing_and_anfud_recovers(
        make_server, own_cluster):
    """req: TX-ATOM-01 -- PostgreSQL stops (fast shutdown: every session
    is cut) and starts again in the middle of a load of transfers into
    one node: requests that fail meanwhile get 503 'unavailable' (none is
    acknowledged falsely, the connection is never dropped), every
    acknowledged transfer survives, the same anfud process (not
    restarted) and its ledger writer serve again, and the ledger and
    audit chains verify."""
    s = make_server(backend="postgresql")
    reserve, wallets = accounts(s)
    pid = s.proc.pid
    led, out = Ledger(), Outcomes()
    stop = threading.Event()
    seed = int(os.environ.get("ANFU_NODES_SEED", str(int(time.time()))))
    threads = [threading.Thread(target=load_worker,
                                args=(s, led, out, "l%d" % w, reserve, wallets, stop, seed + w))
               for w in range(3)]
    for t in threads:
        t.start()
    try:
        wait_until("transfers before the restart", lambda: len(led.acked) >= 20)
        p = pg_cluster("stop", own_cluster)
        assert p.returncode == 0, p.stderr
        wait_until("a request failing while PostgreSQL is down", lambda: len(out.failed) >= 3)
        acked_down = len(led.acked)
        p = pg_cluster("start", own_cluster)
        assert p.returncode == 0, p.stderr
        wait_until("transfers after the restart", lambda: len(led.acked) >= acked_down + 20)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert s.proc is not None and s.proc.poll() is None and s.proc.pid == pid
    assert not out.exceptions, out.exceptions[:5]
    print("restart: acked %d refused %d failed %d (seed %d)"
          % (len(led.acked), len(led.refused), len(out.failed), seed))
    # Every failure is a clean 503 and nothing else: `unavailable` (the
    # database is gone), or `audit_unavailable` when the stop lands on the
    # batch's audit append (docs/ledger.md §12: a failed audit append fails
    # the batch with ANFU_EAUDIT; nothing was changed). At least one is the
    # database's own.
    assert set(out.failed) <= {(503, "unavailable"), (503, "audit_unavailable")}, \
        set(out.failed)
    assert (503, "unavailable") in set(out.failed), set(out.failed)
    # Answers that failed may still have been committed (a commit whose
    # reply was lost): the retry with the same key finds it, never twice.
    retry_unknown(s, led)
    check(s, led)
    assert s.get("/readyz").status_code == 200
    v = s.cli_run("audit", "verify", check=False)
    assert v.returncode == 0 and "OK:" in v.stdout, v.stdout + v.stderr


def test_transfers_sent_after_a_restart_succeed_at_once(make_server, own_cluster):
    """req: TX-ATOM-01 -- PostgreSQL restarts while anfud is idle: its
    connections are dead, but a transfer sent once PostgreSQL is back is
    applied (the writer reconnects before its batch begins) rather than
    answered 503, and so is every one after it."""
    s = make_server(backend="postgresql")
    reserve, wallets = accounts(s)
    led, out = Ledger(), Outcomes()
    http = http_session(s.cert)
    url = s.url("/test/v1/ledger/transfers")
    assert post_one(http, url, led, out, "before", body_of("before", reserve, wallets[0], 5)) == 200
    for step in ("stop", "start"):
        p = pg_cluster(step, own_cluster)
        assert p.returncode == 0, p.stderr
    for i in range(5):
        key = "after-%d" % i
        assert post_one(http, url, led, out, key, body_of(key, reserve, wallets[0], 5)) == 200, \
            out.failed
    assert not out.failed and not out.exceptions
    assert sorted(led.acked) == ["after-%d" % i for i in range(5)] + ["before"]
    check(s, led)
