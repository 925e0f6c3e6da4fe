"""Reconciliation with the bank's statement file, and the query of a payment
a crash left `created`, through the real API with the real simulator bank
(anfu-banksim; docs/bank.md, "Reconciliation" and "The query job").

The day's payments are made, both clocks move to the next Shanghai day, and
the test hook runs the job (POST /test/v1/bank/reconcile: yesterday unless
done) or one day (?day=YYYYMMDD). Differences are made with the simulator's
behaviours (misreport, decline, a payment left pending) and, where no
behaviour can make one (a payment the bank has and we do not, another
amount or kind), by changing our own row behind anfud's back (Server.rw).
A reconciliation never changes money: every test compares the ledger
before and after.
"""
import hashlib
import os

import pytest

from banksim import banksim  # noqa: F401 (fixture)
from test_bank_topup import bind, customer, serial_of, start, topup, wallet

DAY_MS = 24 * 3600 * 1000


def next_day(s, sim):
    s.clock(advance_ms=DAY_MS)
    sim.clock(DAY_MS)


def reconcile(s, day=None):
    r = s.post("/test/v1/bank/reconcile" + ("?day=%s" % day if day else ""))
    assert r.status_code == 200, r.text
    return r.json()


def ledger(s):
    """Everything a reconciliation must leave as it was in the ledger."""
    return {
        "accounts": s.query("SELECT id, debits_pending, debits_posted, credits_pending, "
                            "credits_posted FROM ledger_account ORDER BY id"),
        "transfers": s.query("SELECT count(*) AS n FROM ledger_transfer")[0]["n"],
        "payments": s.query("SELECT id, state, amount FROM bank_payment ORDER BY id"),
    }


def diffs(s, day):
    return s.query("SELECT serial, kind, payment_id, our_kind, our_amount, our_state, "
                   "bank_kind, bank_amount, bank_status FROM bank_recon_diff WHERE day = ? "
                   "ORDER BY serial", int(day))


def recon_state(s):
    """The reconciliation's own rows and audit records (for idempotency)."""
    return {
        "recon": s.query("SELECT * FROM bank_recon ORDER BY day"),
        "lines": s.query("SELECT * FROM bank_recon_line ORDER BY day, line_no"),
        "diffs": s.query("SELECT * FROM bank_recon_diff ORDER BY day, serial"),
        "audit": s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE "
                         "'bank.recon.%'")[0]["n"],
    }


def test_a_day_that_matches(make_server, banksim):
    """req: FUNC-SETL-06 — yesterday's statement is fetched, stored (its
    SHA-256 and lines) and matches every payment of the day, the declined
    one included; audited; the ledger untouched."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    a = topup(c, card_id, 12345, "m1").json()
    b = topup(c, card_id, 200, "m2").json()
    banksim.behaviour(number, "decline", once=True)
    d = topup(c, card_id, 900, "m3").json()
    assert d["state"] == "failed"
    assert len(banksim.settle()) == 2
    day = s.query("SELECT day_cn FROM bank_payment WHERE id = ?", a["id"])[0]["day_cn"]
    before = ledger(s)
    next_day(s, banksim)
    # The job may have run already on the day change: ask for the day.
    rc = reconcile(s, day)["reconciliation"]
    assert (rc["day"], rc["state"], rc["lines"], rc["matched"], rc["differences"]) == (
        str(day), "reconciled", 3, 3, 0)
    # The file as the simulator writes it: a line per settled payment, by serial.
    rows = sorted((serial_of(s, p["id"]), p["amount"], st) for p, st in
                  ((a, "succeeded"), (b, "succeeded"), (d, "failed")))
    text = "".join("%s,debit,%d,%s\n" % r for r in rows)
    assert rc["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert s.query("SELECT serial, kind, amount, status FROM bank_recon_line WHERE day = ? "
                   "ORDER BY line_no", day) == [
        {"serial": r[0], "kind": "debit", "amount": r[1], "status": r[2]} for r in rows]
    assert diffs(s, day) == []
    done = s.audit("bank.recon.completed")
    assert [(x["object_id"], x["outcome"]) for x in done] == [("sim:%d" % day, "success")]
    assert s.audit("bank.recon.difference") == []
    assert ledger(s) == before
    assert wallet(s, uid) == 12545


def test_every_kind_of_difference_is_recorded_and_audited_and_moves_no_money(
        make_server, banksim):
    """req: FUNC-SETL-06 — one exception item per mismatch: the bank
    misreports a success as failed (status_differs), a payment still pending
    at the bank (missing_at_bank), a payment the bank has and we do not
    (not_ours), another amount (amount_differs), another kind
    (kind_differs); each audited; no money moves, no payment changes."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "misreport", once=True)
    mis = topup(c, card_id, 1000, "mis").json()
    assert [cb["status"] for cb in banksim.settle(serial_of(s, mis["id"]))] == [200]
    pending = topup(c, card_id, 2000, "pending").json()  # never settled
    assert pending["state"] == "in_transit"
    declined = {}
    for rid in ("gone", "amount", "kind"):
        banksim.behaviour(number, "decline", once=True)
        declined[rid] = topup(c, card_id, 300, rid).json()
        assert declined[rid]["state"] == "failed"
    gone = serial_of(s, declined["gone"]["id"])
    with s.rw() as db:
        db.execute("DELETE FROM bank_payment WHERE id = ?", declined["gone"]["id"])
        db.execute("UPDATE bank_payment SET amount = 301 WHERE id = ?",
                   declined["amount"]["id"])
        db.execute("UPDATE bank_payment SET kind = 'credit' WHERE id = ?",
                   declined["kind"]["id"])
    day = s.query("SELECT day_cn FROM bank_payment WHERE id = ?", mis["id"])[0]["day_cn"]
    before = ledger(s)
    next_day(s, banksim)
    rc = reconcile(s, day)["reconciliation"]
    assert (rc["state"], rc["lines"], rc["matched"], rc["differences"]) == (
        "reconciled", 4, 0, 5)
    got = {d["kind"]: d for d in diffs(s, day)}
    assert set(got) == {"status_differs", "missing_at_bank", "not_ours", "amount_differs",
                        "kind_differs"}
    assert got["status_differs"] == {
        "serial": serial_of(s, mis["id"]), "kind": "status_differs", "payment_id": mis["id"],
        "our_kind": "debit", "our_amount": 1000, "our_state": "succeeded",
        "bank_kind": "debit", "bank_amount": 1000, "bank_status": "failed"}
    assert got["missing_at_bank"] == {
        "serial": serial_of(s, pending["id"]), "kind": "missing_at_bank",
        "payment_id": pending["id"], "our_kind": "debit", "our_amount": 2000,
        "our_state": "in_transit", "bank_kind": "", "bank_amount": 0, "bank_status": ""}
    assert got["not_ours"] == {
        "serial": gone, "kind": "not_ours", "payment_id": "", "our_kind": "",
        "our_amount": 0, "our_state": "", "bank_kind": "debit", "bank_amount": 300,
        "bank_status": "failed"}
    assert (got["amount_differs"]["our_amount"], got["amount_differs"]["bank_amount"]) == (
        301, 300)
    assert (got["kind_differs"]["our_kind"], got["kind_differs"]["bank_kind"]) == (
        "credit", "debit")
    audited = s.audit("bank.recon.difference")
    assert sorted(a["object_id"] for a in audited) == sorted(
        [mis["id"], pending["id"], gone, declined["amount"]["id"], declined["kind"]["id"]])
    assert {a["outcome"] for a in audited} == {"failure"}
    assert [a["outcome"] for a in s.audit("bank.recon.completed")] == ["failure"]
    assert len(s.query("SELECT seq FROM audit_log WHERE action LIKE 'bank.recon.%'")) == 6
    assert ledger(s) == before
    assert wallet(s, uid) == 1000


def test_re_running_a_day_is_idempotent_and_sees_what_changed(make_server, banksim):
    """req: FUNC-SETL-06 — the same file and the same payments: nothing
    written again (rows, audit); the job skips a day it has done; after the
    bank settles the pending payment, a re-run of the day replaces its
    outcome."""
    s = start(make_server, banksim)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    p = topup(c, card_id, 500, "late-settle").json()
    day = s.query("SELECT day_cn FROM bank_payment WHERE id = ?", p["id"])[0]["day_cn"]
    next_day(s, banksim)
    first = reconcile(s, day)["reconciliation"]
    assert (first["differences"], first["matched"]) == (1, 0)
    state = recon_state(s)
    again = reconcile(s, day)
    assert again["changed"] is False and again["reconciliation"]["differences"] == 1
    assert reconcile(s)["skipped"] is True
    assert recon_state(s) == state
    assert [cb["status"] for cb in banksim.settle()] == [200]
    before = ledger(s)
    rc = reconcile(s, day)
    assert rc["changed"] is True
    assert (rc["reconciliation"]["differences"], rc["reconciliation"]["matched"]) == (0, 1)
    assert diffs(s, day) == []
    assert s.query("SELECT count(*) AS n FROM bank_recon_line WHERE day = ?", day)[0]["n"] == 1
    assert [a["outcome"] for a in s.audit("bank.recon.completed")] == ["failure", "success"]
    assert ledger(s) == before


def test_the_hook_refuses_a_bad_day_and_a_bank_without_connector(make_server):
    s = make_server()
    r = s.post("/test/v1/bank/reconcile?day=20261301")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_field"
    r = s.post("/test/v1/bank/reconcile?day=20261201")
    assert r.status_code == 503 and r.json()["error"]["code"] == "bank_unavailable"
    assert s.query("SELECT count(*) AS n FROM bank_recon")[0]["n"] == 0


# ---- operators -------------------------------------------------------------


def test_finance_and_risk_officers_read_reconciliations_others_do_not(make_server, banksim):
    """req: FUNC-SETL-06, IAM-SOD-02 — finance and risk officers read the
    reconciliations and their differences; an operator and the
    administrator are refused (403), no session 401; a malformed or
    unknown day 404."""
    from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, first_login)
    from test_ledger_state import make_staff
    cfg = banksim.config()
    s = make_server(config=cfg, init_args=("--admin", "reconadmin"))
    banksim.peer(s)
    s.clock(freeze=True)
    admin, _ = first_login(s, "reconadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "reconsec", "--role",
                    "security_officer").stdout
    officer, _ = first_login(s, "reconsec", admin_password(out), OFFICER_NEW,
                             device="console-2")
    fin = make_staff(s, admin, officer, "reconfin", "finance", "console-3")
    risk = make_staff(s, admin, officer, "reconrisk", "risk_officer", "console-4")
    op = make_staff(s, admin, officer, "reconop", "operator", "console-5")
    c, _ = customer(s)
    _, card_id = bind(s, banksim, c)
    p = topup(c, card_id, 700, "ops").json()  # pending at the bank: one difference
    day = s.query("SELECT day_cn FROM bank_payment WHERE id = ?", p["id"])[0]["day_cn"]
    assert reconcile(s, day)["reconciliation"]["differences"] >= 1
    for who in (fin, risk):
        r = who.get("/admin/v1/bank/reconciliations")
        assert r.status_code == 200, r.text
        # (the job may have reconciled yesterday too: the clock moved)
        assert [(x["day"], x["state"]) for x in r.json()["reconciliations"]
                if x["day"] == str(day)] == [(str(day), "reconciled")]
        r = who.get("/admin/v1/bank/reconciliations/%d" % day)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["reconciliation"]["day"] == str(day) and body["truncated"] is False
        mine = [d for d in body["differences"] if d["payment_id"] == p["id"]]
        assert [(d["kind"], d["ours"]["amount"], d["ours"]["state"]) for d in mine] == [
            ("missing_at_bank", 700, "in_transit")]
        for bad in ("20261301", "2026120", "abcdefgh", "19000101"):
            r = who.get("/admin/v1/bank/reconciliations/" + bad)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = who.get("/admin/v1/bank/reconciliations/20000101")  # a day never reconciled
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    for who in (op, admin, officer):
        for path in ("/admin/v1/bank/reconciliations",
                     "/admin/v1/bank/reconciliations/%d" % day):
            r = who.get(path)
            assert r.status_code == 403, (path, r.text)
    r = s.request("GET", "/admin/v1/bank/reconciliations", admin=True)
    assert r.status_code == 401, r.text


# ---- the payment a crash left created -------------------------------------------


def crash_row(s, like_id, rid):
    """A payment written `created` whose send never happened (anfud crashed
    between the row and the request): a copy of payment like_id with a new
    id, serial and request id, written as the top-up writes it."""
    import time
    tag = "%x" % time.monotonic_ns()
    pid, serial = "bpy_crash%s" % tag, "bsn_crash%s" % tag
    now = s.clock()
    with s.rw() as db:
        db.execute("INSERT INTO bank_payment (id, serial, bank_id, kind, user_id, card_id, "
                   "amount, currency, state, client_request_id, day_cn, created_ms, "
                   "updated_ms) SELECT ?, ?, bank_id, kind, user_id, card_id, 4400, "
                   "currency, 'created', ?, day_cn, ?, ? FROM bank_payment WHERE id = ?",
                   pid, serial, rid, now, now, like_id)
    return pid, serial


def test_a_payment_a_crash_left_created_is_queried_and_fails_when_the_bank_never_had_it(
        make_server, banksim):
    """A `created` payment is queried once older than query_after_s and
    twice timeout_ms (never while its send may still run); the bank never
    had it: failed (not_at_bank), nothing credited; and the day's
    reconciliation does not expect it on the statement."""
    s = start(make_server, banksim, query_after_s=1, timeout_ms=5000)
    c, uid = customer(s)
    _, card_id = bind(s, banksim, c)
    first = topup(c, card_id, 100, "real").json()
    assert [cb["status"] for cb in banksim.settle()] == [200]
    pid, serial = crash_row(s, first["id"], "crashed")
    before = ledger(s)
    s.clock(advance_ms=2000)  # past query_after_s, not past 2 x timeout_ms
    banksim.clock(2000)
    assert s.post("/test/v1/bank/query").json()["queried"] == 0
    s.clock(advance_ms=8500)  # 10.5 s: past both
    banksim.clock(8500)
    assert s.post("/test/v1/bank/query").json() == {"queried": 1, "resolved": 1,
                                                    "unanswered": 0}
    row = s.query("SELECT state, reason, transfer_id FROM bank_payment WHERE id = ?", pid)
    assert row == [{"state": "failed", "reason": "not_at_bank", "transfer_id": ""}]
    assert banksim.payment(serial)["status"] == "unknown"  # never sent
    assert wallet(s, uid) == 100
    after = ledger(s)
    assert after["accounts"] == before["accounts"]
    assert after["transfers"] == before["transfers"]
    assert [a["object_id"] for a in s.audit("bank.payment.failed")] == [pid]
    day = s.query("SELECT day_cn FROM bank_payment WHERE id = ?", pid)[0]["day_cn"]
    next_day(s, banksim)
    rc = reconcile(s, day)["reconciliation"]
    assert (rc["lines"], rc["matched"], rc["differences"]) == (1, 1, 0)


def test_a_payment_a_crash_left_created_that_the_bank_took_is_credited_once(
        make_server, banksim):
    """The bank got the debit and settled it, but the crash lost its answer
    (the row still `created`, the callback held back): the query confirms
    it and credits once; the late callback then changes nothing."""
    s = start(make_server, banksim, query_after_s=60)
    c, uid = customer(s)
    number, card_id = bind(s, banksim, c)
    banksim.behaviour(number, "late", once=True)
    p = topup(c, card_id, 3300, "crash-late").json()
    with s.rw() as db:
        db.execute("UPDATE bank_payment SET state = 'created' WHERE id = ?", p["id"])
    assert banksim.settle() == []  # settled at the bank, its callback held
    assert s.post("/test/v1/bank/query").json()["queried"] == 0
    s.clock(advance_ms=61000)
    banksim.clock(61000)
    assert s.post("/test/v1/bank/query").json() == {"queried": 1, "resolved": 1,
                                                    "unanswered": 0}
    assert c.get("/api/v1/me/topups/" + p["id"]).json()["state"] == "succeeded"
    assert wallet(s, uid) == 3300
    assert [cb["status"] for cb in banksim.settle(late=True)] == [200]
    assert wallet(s, uid) == 3300
    assert s.query("SELECT count(*) AS n FROM ledger_transfer WHERE ref = ?",
                   p["id"])[0]["n"] == 1


# ---- production ---------------------------------------------------------------------


def test_production_build_refuses_the_simulator_bank_without_allow_simulators(
        make_server, banksim):
    """req: SDLC-04 — a production anfud configured with [bank] connector =
    simulator and without [server] allow_simulators refuses to start and
    says how to allow it. (The SMS gateway is a simulator too, so the core
    check refuses first; the bank module's own check stands behind it.)"""
    from conftest import PROD_BUILD
    prod = os.path.join(PROD_BUILD, "anfud")
    if not os.path.exists(prod):
        pytest.skip("no production build")
    s = make_server(config=banksim.config(), binary=prod, start=False)
    rc = s.start(expect_fail=True)
    assert rc != 0
    err = s.read_stderr()
    assert "refusing to start" in err and "allow_simulators = true" in err, err
