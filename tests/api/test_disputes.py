"""Disputes (交易纠纷) over HTTPS against a real anfud (src/dispute/;
docs/disputes.md; FUNC-PAY-13).

One server for the module (the clock frozen, moved by the tests). The
subjects are the wallet's transfers (kind "transfer", registered from the
wallet) and the test hooks' kind "test" (a provider with a refund that
records each key it executes: the refund path before pay exists).
"Nothing changed" is checked on the dispute tables, the notices queued and
the audit records. The deadline test moves the clock by days and runs last.
"""
import itertools
import json
import uuid

import pytest

from conftest import BACKEND, Server
from iam import THIRD_PASSWORD, Client, login_customer, register, sms_code, sms_wait, tick, totp
from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, admin_password_from_mail,
                            approve_operator, create_operator_request, first_login,
                            merchant_first_login, now_s)

SEQ = itertools.count(1)
PIN = "583016"
HOUR_MS = 3600000
DAY_MS = 24 * HOUR_MS


def err(r):
    return r.json()["error"]["code"]


def make_staff(s, admin, officer, name, role, device):
    a = create_operator_request(admin, name, roles=(role,)).json()["approval"]
    r = approve_operator(officer, a["id"], name)
    assert r.json()["approval"]["status"] == "executed", r.text
    initial = admin_password_from_mail("%s@staff.example.test" % name)
    s.clock(advance_ms=30_000)  # a fresh TOTP step
    c, secret = first_login(s, name, initial, THIRD_PASSWORD, device=device)
    c.relogin = lambda: relogin(s, name, secret, device)
    return c


def relogin(s, name, secret, device):
    """A later login of a staff member (password, then TOTP): a session
    the clock moved past its end is renewed."""
    s.clock(advance_ms=30_000)  # a fresh TOTP step
    c = Client(s, admin=True, device=device)
    r = c.login(name, THIRD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
    r = c.mfa("totp", totp(secret, now_s(s)))
    assert r.status_code == 200, r.text
    return c


class Env:
    pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env()
    e.s = s = Server(tmp_path_factory.mktemp("disputes"), config={
        "lockout": {"ip_failures": "10000"},
        "wallet": {"sms_confirm_over": "100000000000"}},
        init_args=("--admin", "dspadmin")).start()
    s.clock(freeze=True)
    e.admin, _ = first_login(s, "dspadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "dspofficer", "--role",
                    "security_officer").stdout
    e.officer, _ = first_login(s, "dspofficer", admin_password(out), OFFICER_NEW,
                               device="console-2")
    e.op = make_staff(s, e.admin, e.officer, "dspop1", "operator", "console-3")
    e.fin = make_staff(s, e.admin, e.officer, "dspfin", "finance", "console-4")
    e.risk = make_staff(s, e.admin, e.officer, "dsprisk", "risk_officer", "console-5")
    r = e.admin.post("/admin/v1/users", {"kind": "merchant", "username": "dspshop",
                                         "merchant_id": "mch_dsp1", "role": "merchant_admin",
                                         "email": "dspshop@example.test"})
    assert r.status_code == 201, r.text
    tick(s)
    e.merchant = merchant_first_login(s, "dspshop", "dspshop@example.test", THIRD_PASSWORD,
                                      "shop-pc")
    yield e
    s.stop()
    s.assert_stopped_cleanly()


class Customer:
    pass


def customer(s, funds=0, name="李四", lang=None):
    """A customer with a real name (name; None: none) and a language
    (lang, the Accept-Language of the registration; None: English)."""
    _, phone = register(s, lang=lang, **({"real_name": name} if name else {}))
    c = Customer()
    c.phone = phone
    c.http = login_customer(s, phone, device="dsp-%d" % next(SEQ))
    c.id = c.http.get("/api/v1/me").json()["user"]["id"]
    if funds:
        s.clock(advance_ms=1)
        assert c.http.send_code("step_up", "sms").status_code == 202
        assert c.http.step_up("sms", sms_code(s, phone)).status_code == 200
        r = c.http.post("/api/v1/me/payment-password", {"pin": PIN})
        assert r.status_code == 204, r.text
        r = s.post("/test/v1/wallet/credit", {"user_id": c.id, "amount": funds,
                                              "key": uuid.uuid4().hex})
        assert r.status_code == 200 and r.json()["code"] is None, r.text
    s.clock(advance_ms=1)
    return c


def transfer(s, payer, payee, amount):
    r = payer.http.post("/api/v1/me/transfers/preview",
                        {"to": payee.phone, "amount": amount, "currency": "CNY"})
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    r = payer.http.post("/api/v1/me/transfers", {
        "confirmation_id": r.json()["confirmation_id"], "request_id": uuid.uuid4().hex,
        "amount": amount, "payment_pin": PIN})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_subject(s, c, amount=10000, merchant_id=None):
    ref = "tst-%d-%s" % (next(SEQ), uuid.uuid4().hex[:8])
    body = {"ref": ref, "customer_id": c.id, "amount": amount}
    if merchant_id:
        body["merchant_id"] = merchant_id
    r = s.post("/test/v1/dispute/subjects", body)
    assert r.status_code == 201, r.text
    return ref


test_subject.__test__ = False


def lodge(c, kind, ref, category="not_received", description="没有收到 / not received"):
    return c.http.post("/api/v1/me/disputes", {"kind": kind, "ref": ref, "category": category,
                                              "description": description})


def lodged(s, c, ref, kind="test"):
    r = lodge(c, kind, ref)
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    return r.json()["id"]


def state(s):
    """What a refusal must leave as it was."""
    return (s.query("SELECT * FROM dispute ORDER BY id"),
            s.query("SELECT COUNT(*) AS n FROM dispute_event")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM dispute_reminder")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'dispute'")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'dispute.%'")[0]["n"])


def refunds(s):
    r = s.get("/test/v1/dispute/refunds")
    assert r.status_code == 200, r.text
    return r.json()


def notices(s, user_id):
    return s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'dispute' "
                   "AND user_id = ?", user_id)[0]["n"]


# ---- lodging ----------------------------------------------------------------------

def test_customer_lodges_about_own_transfer_and_the_payee_sees_it(env):
    """req: FUNC-PAY-13 — the payer of a wallet transfer lodges a dispute
    about it: open, recorded (event, audit) and notified; the payee
    (counterparty) reads it, read only; another customer does not see it."""
    s = env.s
    payer, payee, other = customer(s, funds=50000), customer(s), customer(s)
    tid = transfer(s, payer, payee, 1234)
    r = lodge(payer, "transfer", tid, "wrong_amount", "金额不对")
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["state"], d["kind"], d["ref"], d["amount"], d["currency"], d["role"]) == \
        ("open", "transfer", tid, 1234, "CNY", "complainant")
    assert d["description"].startswith("转账给 / transfer to ")
    assert payee.phone not in d["description"]
    rows = s.query("SELECT customer_id, counterparty_id, state FROM dispute WHERE id = ?",
                   d["id"])
    assert rows == [{"customer_id": payer.id, "counterparty_id": payee.id, "state": "open"}]
    assert [a["object_id"] for a in s.audit("dispute.lodged")][-1] == d["id"]
    assert notices(s, payer.id) == 1
    r = payer.http.get("/api/v1/me/disputes/%s" % d["id"])
    assert r.status_code == 200
    assert [(e["event"], e["from"], e["to"], e["note"]) for e in r.json()["events"]] == \
        [("lodge", "", "open", "金额不对")]
    r = payee.http.get("/api/v1/me/disputes/%s" % d["id"])
    assert r.status_code == 200 and r.json()["role"] == "counterparty"
    assert [x["id"] for x in payee.http.get("/api/v1/me/disputes").json()["items"]] == [d["id"]]
    # read only for the counterparty, invisible to anyone else
    before = state(s)
    for c in (payee, other):
        assert err(c.http.post("/api/v1/me/disputes/%s/withdraw" % d["id"])) == \
            "dispute_not_found"
    r = other.http.get("/api/v1/me/disputes/%s" % d["id"])
    assert r.status_code == 404 and err(r) == "dispute_not_found"
    assert other.http.get("/api/v1/me/disputes").json()["items"] == []
    assert state(s) == before


def test_the_history_of_a_dispute_cannot_be_changed_in_the_database(env):
    """A dispute's events are its record (who did what, when, with which
    note): the database refuses to update, delete, replace or (PostgreSQL)
    truncate them, even for the database's owner, and they stay as they
    were. req: DATA-INT-01"""
    s = env.s
    payer, payee = customer(s, funds=50000), customer(s)
    did = lodged(s, payer, transfer(s, payer, payee, 700), "transfer")
    before = s.query("SELECT * FROM dispute_event WHERE dispute_id = ? ORDER BY seq", did)
    assert [e["event"] for e in before] == ["lodge"]
    cols = [k for k in before[0] if k != "note"]
    verbs = ["UPDATE dispute_event SET note = 'x' WHERE dispute_id = ?",
             "DELETE FROM dispute_event WHERE dispute_id = ?"]
    if BACKEND == "sqlite":
        verbs += ["%s INTO dispute_event (note, %s) SELECT 'x', %s FROM dispute_event "
                  "WHERE dispute_id = ?" % (v, ", ".join(cols), ", ".join(cols))
                  for v in ("INSERT OR REPLACE", "REPLACE")]
    verbs.append("INSERT INTO dispute_event SELECT * FROM dispute_event WHERE dispute_id = ? "
                 "ON CONFLICT (dispute_id, seq) DO UPDATE SET note = 'x'")
    for sql in verbs:
        with s.rw() as c:
            with pytest.raises(c.Error, match="dispute_event is append-only"):
                c.execute(sql, did)
    if BACKEND == "postgresql":
        with s.rw() as c:
            with pytest.raises(c.Error, match="dispute_event is append-only"):
                c.execute("TRUNCATE dispute_event")
    assert s.query("SELECT * FROM dispute_event WHERE dispute_id = ? ORDER BY seq",
                   did) == before


def test_one_open_dispute_per_subject(env):
    """req: FUNC-PAY-13 — a second dispute about a transaction with one
    still open is refused (the payee's too); after it is withdrawn a new
    one may be lodged."""
    s = env.s
    payer, payee = customer(s, funds=50000), customer(s)
    tid = transfer(s, payer, payee, 500)
    did = lodged(s, payer, tid, "transfer")
    before = state(s)
    for c in (payer, payee):
        r = lodge(c, "transfer", tid)
        assert r.status_code == 409 and err(r) == "dispute_already_open", r.text
    assert state(s) == before
    r = payer.http.post("/api/v1/me/disputes/%s/withdraw" % did)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    s.clock(advance_ms=1)
    assert lodge(payee, "transfer", tid).status_code == 201


def test_lodge_refusals_change_nothing(env):
    """req: FUNC-PAY-13 — an unknown kind, a transaction that is not the
    customer's or does not exist, a bad category or description, a
    merchant user and no session are refused; nothing is written."""
    s = env.s
    payer, payee, other = customer(s, funds=50000), customer(s), customer(s)
    tid = transfer(s, payer, payee, 700)
    before = state(s)
    cases = [
        (other, "transfer", tid, "not_received", "x", 404, "dispute_subject_not_found"),
        (payer, "transfer", "wtr_nosuchtransfer", "not_received", "x", 404,
         "dispute_subject_not_found"),
        (payer, "payment", tid, "not_received", "x", 400, "dispute_kind_unknown"),
        (payer, "transfer", tid, "bored", "x", 400, "field_out_of_range"),
        (payer, "transfer", tid, "other", "", 400, None),
        (payer, "transfer", tid, "other", "长" * 501, 400, None),
    ]
    for c, kind, ref, cat, text, status, code in cases:
        r = lodge(c, kind, ref, cat, text)
        assert r.status_code == status, (kind, ref, cat, r.text)
        if code:
            assert err(r) == code
    r = payer.http.post("/api/v1/me/disputes", {"kind": "transfer", "ref": tid,
                                                "category": "other", "description": "x",
                                                "extra": 1})
    assert r.status_code == 400
    r = env.merchant.post("/api/v1/me/disputes", {"kind": "transfer", "ref": tid,
                                                  "category": "other", "description": "x"})
    assert r.status_code == 403
    r = Client(s).post("/api/v1/me/disputes", {"kind": "transfer", "ref": tid,
                                               "category": "other", "description": "x"})
    assert r.status_code == 401
    assert state(s) == before


# ---- handling ---------------------------------------------------------------------

def test_operator_takes_resolves_with_refund_and_customer_confirms(env):
    """req: FUNC-PAY-13 — open -> in_progress (the operator takes it) ->
    resolved (with a refund the provider executes once) -> confirmed (the
    customer); every change an event with actor and time, an audit record
    and a notice to the customer."""
    s = env.s
    c = customer(s)
    ref = test_subject(s, c, amount=8000)
    did = lodged(s, c, ref)
    op_id = env.op.get("/admin/v1/me").json()["user"]["id"]
    r = env.op.post("/admin/v1/disputes/%s/take" % did)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["operator_id"]) == ("in_progress", op_id)
    s.clock(advance_ms=1)
    r = env.op.post("/admin/v1/disputes/%s/messages" % did, {"text": "请提供截图"})
    assert r.status_code == 201, r.text
    r = c.http.post("/api/v1/me/disputes/%s/messages" % did, {"text": "截图已上传"})
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "退款 30 元", "refund_amount": 3000})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["state"], d["resolution"], d["refund"]) == \
        ("resolved", "退款 30 元", {"amount": 3000, "state": "done"})
    rf = [x for x in refunds(s)["refunds"] if x["ref"] == ref]
    assert rf == [{"key": "dispute.%s.refund" % did, "ref": ref, "id": d["refund_ref"],
                   "amount": 3000, "calls": 1}]
    s.clock(advance_ms=1)
    r = c.http.post("/api/v1/me/disputes/%s/confirm" % did)
    assert r.status_code == 200 and r.json()["state"] == "confirmed", r.text
    assert r.json()["closed_ms"] > 0
    ev = c.http.get("/api/v1/me/disputes/%s" % did).json()["events"]
    assert [(e["event"], e["from"], e["to"], e["actor_type"]) for e in ev] == [
        ("lodge", "", "open", "customer"),
        ("take", "open", "in_progress", "staff"),
        ("message", "in_progress", "in_progress", "staff"),
        ("message", "in_progress", "in_progress", "customer"),
        ("resolve", "in_progress", "resolved", "staff"),
        ("refund", "resolved", "resolved", "staff"),
        ("confirm", "resolved", "confirmed", "customer")]
    assert [e["seq"] for e in ev] == list(range(1, 8))
    assert all(ev[i]["at_ms"] <= ev[i + 1]["at_ms"] for i in range(len(ev) - 1))
    assert "actor_id" not in ev[1]
    adm = env.op.get("/admin/v1/disputes/%s" % did).json()["events"]
    assert adm[1]["actor_id"] == op_id
    for action in ("dispute.lodged", "dispute.take", "dispute.resolve", "dispute.refunded",
                   "dispute.confirm", "dispute.message"):
        assert did in [a["object_id"] for a in s.audit(action)], action
    assert notices(s, c.id) == 4  # open, in_progress, resolved, confirmed


def test_retried_resolve_executes_the_refund_once(env):
    """req: FUNC-PAY-13 — the same resolution sent again answers the
    dispute as it is and executes nothing; another resolution is refused."""
    s = env.s
    c = customer(s)
    ref = test_subject(s, c, amount=5000)
    did = lodged(s, c, ref)
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    body = {"resolution": "全额退款", "refund_amount": 5000}
    first = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert first.status_code == 200, first.text
    before = state(s)
    again = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert again.status_code == 200 and again.json() == first.json()
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "全额退款", "refund_amount": 4000})
    assert r.status_code == 409 and err(r) == "dispute_resolution_differs"
    assert state(s) == before
    assert [x["calls"] for x in refunds(s)["refunds"] if x["ref"] == ref] == [1]


def test_failed_refund_stays_pending_and_is_executed_once_on_retry(env):
    """req: FUNC-PAY-13 — the provider failing leaves the resolution with
    its refund pending; the retried resolve executes it once, and the
    deadline job then has nothing to retry."""
    s = env.s
    c = customer(s)
    ref = test_subject(s, c, amount=5000)
    did = lodged(s, c, ref)
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert s.post("/test/v1/dispute/refund-fail", {"fail": True}).status_code == 200
    try:
        body = {"resolution": "退款 10 元", "refund_amount": 1000}
        r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
        assert r.status_code == 200 and r.json()["refund"]["state"] == "pending", r.text
        r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
        assert r.json()["refund"]["state"] == "pending"
        assert [x for x in refunds(s)["refunds"] if x["ref"] == ref] == []
    finally:
        assert s.post("/test/v1/dispute/refund-fail", {"fail": False}).status_code == 200
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.status_code == 200 and r.json()["refund"]["state"] == "done", r.text
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.json()["refund"]["state"] == "done"
    assert [x["calls"] for x in refunds(s)["refunds"] if x["ref"] == ref] == [1]
    assert s.query("SELECT COUNT(*) AS n FROM dispute_event WHERE dispute_id = ? AND "
                   "event = 'refund'", did)[0]["n"] == 1


def test_refund_refusals_change_nothing(env):
    """req: FUNC-PAY-13 — a refund above the transaction's amount, or of a
    kind without a refund (a transfer), is refused; nothing changed."""
    s = env.s
    c = customer(s)
    ref = test_subject(s, c, amount=2000)
    did = lodged(s, c, ref)
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    payer, payee = customer(s, funds=50000), customer(s)
    tdid = lodged(s, payer, transfer(s, payer, payee, 900), "transfer")
    assert env.op.post("/admin/v1/disputes/%s/take" % tdid).status_code == 200
    before, calls = state(s), refunds(s)
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "x", "refund_amount": 2001})
    assert r.status_code == 409 and err(r) == "dispute_refund_too_large"
    r = env.op.post("/admin/v1/disputes/%s/resolve" % tdid,
                    {"resolution": "x", "refund_amount": 1})
    assert r.status_code == 409 and err(r) == "dispute_refund_unsupported"
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "x", "refund_amount": -1})
    assert r.status_code == 400
    assert state(s) == before and refunds(s) == calls
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "x", "refund_amount": 2000})
    assert r.status_code == 200 and r.json()["refund"] == {"amount": 2000, "state": "done"}
    r = env.op.post("/admin/v1/disputes/%s/resolve" % tdid, {"resolution": "已核实，转账无误"})
    assert r.status_code == 200 and r.json()["refund"] == {"amount": 0, "state": "none"}


def test_transitions_outside_the_table_are_refused(env):
    """req: FUNC-PAY-13 — every event the table has no row for is
    refused (dispute_state_invalid) and changes nothing; withdrawal from
    in_progress is allowed; nothing leaves a final state."""
    s = env.s
    c = customer(s)
    did = lodged(s, c, test_subject(s, c))
    path = "/api/v1/me/disputes/%s/" % did
    adm = "/admin/v1/disputes/%s/" % did

    def refused(calls):
        before = state(s)
        for fn in calls:
            r = fn()
            assert r.status_code == 409 and err(r) == "dispute_state_invalid", r.text
        assert state(s) == before

    # open: no confirm, no resolve
    refused([lambda: c.http.post(path + "confirm"),
             lambda: env.op.post(adm + "resolve", {"resolution": "x"})])
    assert env.op.post(adm + "take").status_code == 200
    # in_progress: no take, no confirm
    refused([lambda: env.op.post(adm + "take"), lambda: c.http.post(path + "confirm")])
    assert env.op.post(adm + "resolve", {"resolution": "说明"}).status_code == 200
    # resolved: no take, no withdraw
    refused([lambda: env.op.post(adm + "take"), lambda: c.http.post(path + "withdraw")])
    assert c.http.post(path + "confirm").status_code == 200
    # confirmed: nothing, not even a message
    refused([lambda: env.op.post(adm + "take"), lambda: c.http.post(path + "confirm"),
             lambda: c.http.post(path + "withdraw"),
             lambda: env.op.post(adm + "resolve", {"resolution": "说明"}),
             lambda: c.http.post(path + "messages", {"text": "x"})])
    # in_progress -> withdrawn, then final
    did2 = lodged(s, c, test_subject(s, c))
    assert env.op.post("/admin/v1/disputes/%s/take" % did2).status_code == 200
    r = c.http.post("/api/v1/me/disputes/%s/withdraw" % did2)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    refused([lambda: env.op.post("/admin/v1/disputes/%s/take" % did2),
             lambda: c.http.post("/api/v1/me/disputes/%s/withdraw" % did2)])


# ---- who may do what --------------------------------------------------------------

def test_roles(env):
    """req: FUNC-PAY-13 — operators read and handle; a risk officer reads
    only; finance neither; another customer cannot act on or see the
    dispute; a merchant user reads its own merchant's disputes only; no
    session is 401. Refusals change nothing."""
    s = env.s
    c, other = customer(s), customer(s)
    mine = lodged(s, c, test_subject(s, c, merchant_id="mch_dsp1"))
    theirs = lodged(s, c, test_subject(s, c, merchant_id="mch_other"))
    before = state(s)
    assert env.fin.get("/admin/v1/disputes").status_code == 403
    assert env.fin.get("/admin/v1/disputes/%s" % mine).status_code == 403
    assert env.fin.post("/admin/v1/disputes/%s/take" % mine).status_code == 403
    assert env.risk.get("/admin/v1/disputes/%s" % mine).status_code == 200
    assert env.risk.post("/admin/v1/disputes/%s/take" % mine).status_code == 403
    assert env.risk.post("/admin/v1/disputes/%s/resolve" % mine,
                         {"resolution": "x"}).status_code == 403
    for path in ("confirm", "withdraw"):
        r = other.http.post("/api/v1/me/disputes/%s/%s" % (mine, path))
        assert r.status_code == 404 and err(r) == "dispute_not_found"
    r = other.http.post("/api/v1/me/disputes/%s/messages" % mine, {"text": "x"})
    assert r.status_code == 404 and err(r) == "dispute_not_found"
    r = env.merchant.get("/api/v1/merchant/disputes")
    assert r.status_code == 200
    ids = [x["id"] for x in r.json()["items"]]
    assert mine in ids and theirs not in ids
    assert "customer_id" not in r.json()["items"][0]
    assert env.merchant.get("/api/v1/merchant/disputes/%s" % mine).status_code == 200
    r = env.merchant.get("/api/v1/merchant/disputes/%s" % theirs)
    assert r.status_code == 404 and err(r) == "dispute_not_found"
    assert env.merchant.post("/api/v1/me/disputes/%s/withdraw" % mine).status_code == 403
    assert c.http.get("/api/v1/merchant/disputes").status_code == 403
    anon = Client(s)
    assert anon.get("/api/v1/me/disputes").status_code == 401
    assert anon.get("/api/v1/merchant/disputes").status_code == 401
    assert Client(s, admin=True).get("/admin/v1/disputes").status_code == 401
    assert state(s)[:4] == before[:4]


def test_operators_list_by_state_with_a_cursor(env):
    """req: FUNC-PAY-13 — operators list disputes by state, oldest first,
    page by page; an unknown state or a bad cursor is refused."""
    s = env.s
    c = customer(s)
    made = [lodged(s, c, test_subject(s, c)) for _ in range(52)]
    seen, cursor = [], None
    while True:
        q = "/admin/v1/disputes?state=open" + ("&cursor=%s" % cursor if cursor else "")
        r = env.op.get(q)
        assert r.status_code == 200, r.text
        assert all(x["state"] == "open" for x in r.json()["items"])
        seen += [x["id"] for x in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in made] == made
    assert env.op.get("/admin/v1/disputes?state=closed").status_code == 400
    assert env.op.get("/admin/v1/disputes?cursor=abc").status_code == 400
    for did in made:  # out of the way of the deadline test
        assert c.http.post("/api/v1/me/disputes/%s/withdraw" % did).status_code == 200


# ---- reopening a resolution -------------------------------------------------------

def reopen(c, did, reason="不同意处理结果 / I disagree"):
    return c.http.post("/api/v1/me/disputes/%s/reopen" % did, {"reason": reason})


def resolved_dispute(env, c, amount=10000, refund=0, resolution="说明", op=None):
    """A dispute of c about a new test subject, taken and resolved (by op,
    the operator env.op by default)."""
    s, op = env.s, op or env.op
    ref = test_subject(s, c, amount=amount)
    did = lodged(s, c, ref)
    assert op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    body = {"resolution": resolution}
    if refund:
        body["refund_amount"] = refund
    r = op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.status_code == 200 and r.json()["state"] == "resolved", r.text
    s.clock(advance_ms=1)
    return ref, did


def test_the_complainant_reopens_a_resolution_and_it_is_resolved_again(env):
    """req: FUNC-PAY-13 — the complainant who disagrees reopens a resolved
    dispute with a reason: resolved -> open (an event with actor and time,
    an audit record, the customer's notice), back in the operators' queue;
    an operator takes and resolves it again and the customer confirms."""
    s = env.s
    c = customer(s)
    _, did = resolved_dispute(env, c)
    n0, audits = notices(s, c.id), len(s.audit("dispute.reopen"))
    r = reopen(c, did, "没有解决问题")
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["state"], d["reopens"], d["role"]) == ("open", 1, "complainant")
    assert env.op.get("/admin/v1/disputes/%s" % did).json()["state"] == "open"
    assert s.query("SELECT state, reopens, active_key IS NOT NULL AS active FROM dispute "
                   "WHERE id = ?", did) == [{"state": "open", "reopens": 1, "active": 1}]
    ev = c.http.get("/api/v1/me/disputes/%s" % did).json()["events"]
    assert (ev[-1]["event"], ev[-1]["from"], ev[-1]["to"], ev[-1]["note"],
            ev[-1]["actor_type"]) == ("reopen", "resolved", "open", "没有解决问题", "customer")
    assert env.op.get("/admin/v1/disputes/%s" % did).json()["events"][-1]["actor_id"] == c.id
    assert len(s.audit("dispute.reopen")) == audits + 1
    assert s.audit("dispute.reopen")[-1]["object_id"] == did
    assert notices(s, c.id) == n0 + 1
    # still one dispute at a time about the subject
    ref = s.query("SELECT ref FROM dispute WHERE id = ?", did)[0]["ref"]
    r = lodge(c, "test", ref)
    assert r.status_code == 409 and err(r) == "dispute_already_open"
    # an operator takes and resolves it again; the customer confirms
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    s.clock(advance_ms=1)
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did, {"resolution": "再次核实"})
    assert r.status_code == 200 and r.json()["resolution"] == "再次核实", r.text
    r = c.http.post("/api/v1/me/disputes/%s/confirm" % did)
    assert r.status_code == 200 and r.json()["state"] == "confirmed", r.text
    assert [e["event"] for e in c.http.get("/api/v1/me/disputes/%s" % did).json()["events"]] \
        == ["lodge", "take", "resolve", "reopen", "take", "resolve", "confirm"]


def test_a_second_resolution_refunds_at_most_the_rest(env):
    """req: FUNC-PAY-13 — the first resolution's refund stays made; after a
    reopen the second resolution refunds at most amount - that refund:
    the rest passes, one fen more is refused with nothing changed; each
    resolution's refund has its own key (the first's unchanged), so each
    is executed once however often the resolve is retried."""
    s = env.s
    c = customer(s)
    ref, did = resolved_dispute(env, c, amount=8000, refund=3000)
    assert reopen(c, did).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    before, calls = state(s), refunds(s)
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did,
                    {"resolution": "再退", "refund_amount": 5001})
    assert r.status_code == 409 and err(r) == "dispute_refund_too_large", r.text
    assert state(s) == before and refunds(s) == calls
    body = {"resolution": "再退", "refund_amount": 5000}
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.status_code == 200, r.text
    assert r.json()["refund"] == {"amount": 5000, "state": "done"}
    again = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert again.status_code == 200 and again.json() == r.json()
    rf = sorted([(x["key"], x["amount"], x["calls"]) for x in refunds(s)["refunds"]
                 if x["ref"] == ref])
    assert rf == [("dispute.%s.refund" % did, 3000, 1), ("dispute.%s.refund.2" % did, 5000, 1)]
    assert s.query("SELECT refunded, refund_amount FROM dispute WHERE id = ?", did) == \
        [{"refunded": 3000, "refund_amount": 5000}]
    assert s.query("SELECT COUNT(*) AS n FROM dispute_event WHERE dispute_id = ? AND "
                   "event = 'refund'", did)[0]["n"] == 2


def test_a_dispute_is_reopened_at_most_once(env):
    """req: FUNC-PAY-13 — ANFU_LIMIT_DISPUTE_REOPENS (1): the first reopen
    (with a reason of 500 characters, the bound) passes, the second is
    refused (dispute_reopen_limit) with nothing changed; the customer can
    still confirm."""
    s = env.s
    c = customer(s)
    _, did = resolved_dispute(env, c)
    assert reopen(c, did, "理" * 500).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "维持原结果"}).status_code == 200
    s.clock(advance_ms=1)
    before = state(s)
    r = reopen(c, did)
    assert r.status_code == 409 and err(r) == "dispute_reopen_limit", r.text
    assert state(s) == before
    r = c.http.post("/api/v1/me/disputes/%s/confirm" % did)
    assert r.status_code == 200 and r.json()["state"] == "confirmed"


def test_reopen_refusals_change_nothing(env):
    """req: FUNC-PAY-13 — a reopen outside `resolved` (open, in_progress,
    confirmed, withdrawn) is dispute_state_invalid; a reason missing,
    empty or of 501 characters is refused; while the resolution's refund
    is pending it is dispute_refund_pending. Nothing changes."""
    s = env.s
    c = customer(s)

    def refused(did, code, status=409, **kw):
        before, calls = state(s), refunds(s)
        r = reopen(c, did, **kw) if kw else reopen(c, did)
        assert r.status_code == status and err(r) == code, r.text
        assert state(s) == before and refunds(s) == calls

    did = lodged(s, c, test_subject(s, c))
    refused(did, "dispute_state_invalid")  # open
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    refused(did, "dispute_state_invalid")  # in_progress
    assert c.http.post("/api/v1/me/disputes/%s/withdraw" % did).status_code == 200
    refused(did, "dispute_state_invalid")  # withdrawn
    _, did = resolved_dispute(env, c)
    before = state(s)
    for body in ({}, {"reason": ""}, {"reason": "理" * 501}, {"reason": 5},
                 {"reason": "x", "more": 1}):
        r = c.http.post("/api/v1/me/disputes/%s/reopen" % did, body)
        assert r.status_code == 400, (body, r.text)
    assert state(s) == before
    assert c.http.post("/api/v1/me/disputes/%s/confirm" % did).status_code == 200
    refused(did, "dispute_state_invalid")  # confirmed
    # the resolution's refund still pending: made first, then reopened
    ref = test_subject(s, c, amount=5000)
    did = lodged(s, c, ref)
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert s.post("/test/v1/dispute/refund-fail", {"fail": True}).status_code == 200
    body = {"resolution": "退款 10 元", "refund_amount": 1000}
    try:
        r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
        assert r.status_code == 200 and r.json()["refund"]["state"] == "pending", r.text
        refused(did, "dispute_refund_pending")
    finally:
        assert s.post("/test/v1/dispute/refund-fail", {"fail": False}).status_code == 200
    r = env.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.json()["refund"]["state"] == "done", r.text
    r = reopen(c, did)
    assert r.status_code == 200 and r.json()["state"] == "open", r.text
    assert s.query("SELECT refunded FROM dispute WHERE id = ?", did)[0]["refunded"] == 1000


def test_only_the_complainant_reopens(env):
    """req: FUNC-PAY-13 — another customer and the counterparty get
    dispute_not_found, a merchant user and staff (an operator, a risk
    officer, finance) are refused as for the other customer events
    (withdraw), no session is 401; nothing changes."""
    s = env.s
    c, other = customer(s), customer(s)
    _, did = resolved_dispute(env, c)
    payer, payee = customer(s, funds=50000), customer(s)
    tdid = lodged(s, payer, transfer(s, payer, payee, 700), "transfer")
    assert env.op.post("/admin/v1/disputes/%s/take" % tdid).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/resolve" % tdid,
                       {"resolution": "说明"}).status_code == 200
    before = state(s)
    r = reopen(other, did)
    assert r.status_code == 404 and err(r) == "dispute_not_found"
    r = reopen(payee, tdid)
    assert r.status_code == 404 and err(r) == "dispute_not_found"
    path = "/api/v1/me/disputes/%s/%s"
    for staff in (env.merchant, env.op, env.risk, env.fin):
        w = staff.post(path % (did, "withdraw"))
        r = staff.post(path % (did, "reopen"), {"reason": "x"})
        # a merchant session: 403; staff (the admin listener has no such route): 404
        assert r.status_code == w.status_code and r.status_code in (403, 404), r.text
        assert r.status_code == 404 or err(r) == err(w)
    assert Client(s).post(path % (did, "reopen"), {"reason": "x"}).status_code == 401
    assert state(s) == before
    r = reopen(payer, tdid)
    assert r.status_code == 200 and r.json()["state"] == "open", r.text


# ---- the other party's notices ----------------------------------------------------

def test_the_counterparty_is_told_of_each_change(env):
    """req: FUNC-PAY-13 — the other party of a transfer is told when the
    dispute is lodged, resolved, reopened, withdrawn or confirmed, not when
    it is taken; the notice (the SMS in the payee's language) shows the
    dispute id and the amount, not the complainant's phone, name or id."""
    s = env.s
    payer, payee = customer(s, funds=50000, name="王五"), customer(s)
    tid = transfer(s, payer, payee, 1234)
    n0, p0 = notices(s, payee.id), notices(s, payer.id)
    did = lodged(s, payer, tid, "transfer")
    assert notices(s, payee.id) == n0 + 1
    texts = sms_wait(s, payee.phone, lambda t: any(did in x for x in t))
    text = [x for x in texts if did in x][0]
    assert "12.34" in text
    for secret in (payer.phone, payer.phone[-4:], "王", payer.id):
        assert secret not in text, text
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert notices(s, payee.id) == n0 + 1  # not told of the take
    assert env.op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "说明"}).status_code == 200
    assert notices(s, payee.id) == n0 + 2
    assert reopen(payer, did).status_code == 200
    assert notices(s, payee.id) == n0 + 3
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "再说明"}).status_code == 200
    assert payer.http.post("/api/v1/me/disputes/%s/confirm" % did).status_code == 200
    assert notices(s, payee.id) == n0 + 5
    # the complainant's own notices: lodge, take, resolve, reopen, take, resolve, confirm
    assert notices(s, payer.id) == p0 + 7
    tid2 = transfer(s, payer, payee, 500)
    did2 = lodged(s, payer, tid2, "transfer")
    assert payer.http.post("/api/v1/me/disputes/%s/withdraw" % did2).status_code == 200
    assert notices(s, payee.id) == n0 + 7


def test_notices(s, ref):
    """The merchant party's notices of test subject ref (test hooks)."""
    r = s.get("/test/v1/dispute/notices")
    assert r.status_code == 200, r.text
    return [(n["merchant_id"], n["zh"], n["en"]) for n in r.json()["notices"] if n["ref"] == ref]


test_notices.__test__ = False


def test_the_other_party_is_told_who_lodged_it_masked(env):
    """req: FUNC-PAY-13, DATA-MASK-01 — the other party's notice names who
    lodged the dispute, masked as a transfer's parties see each other: the
    masked real name ("*" for all but the last character), else the
    masked login ("****" and its last 4 digits). In zh-CN (a Chinese
    payee's SMS) and English (an English payee's SMS), and to a merchant
    party (the texts its users are sent, both languages). Never the full
    name, its surname, the phone (the login) or the user id."""
    s = env.s
    # a payer with a real name, the payee reading Chinese
    payer, payee = customer(s, funds=50000, name="王小明"), customer(s, lang="zh-CN")
    did = lodged(s, payer, transfer(s, payer, payee, 1234), "transfer")
    text = [x for x in sms_wait(s, payee.phone, lambda t: any(did in x for x in t))
            if did in x][0]
    assert "**明 就与您有关的一笔交易（12.34 元）提出的交易纠纷 %s：等待客服处理。" % did in text, text
    for secret in ("王小明", "王", "小明", payer.phone, payer.phone[-4:], payer.id):
        assert secret not in text, (secret, text)
    # a payer without a real name: the masked login; the payee reading English
    payer, payee = customer(s, funds=50000, name=None), customer(s)
    did = lodged(s, payer, transfer(s, payer, payee, 500), "transfer")
    text = [x for x in sms_wait(s, payee.phone, lambda t: any(did in x for x in t))
            if did in x][0]
    assert ("The dispute %s that ****%s lodged about a transaction with you (CNY 5.00): "
            "waiting for an operator." % (did, payer.phone[-4:])) in text, text
    for secret in (payer.phone, payer.phone[-5:], payer.id):
        assert secret not in text, (secret, text)
    # a merchant party: both languages, at each change it is told of
    c = customer(s, name="赵六一")
    ref = test_subject(s, c, amount=10000, merchant_id="mch_dsp1")
    did = lodged(s, c, ref)
    assert env.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "说明"}).status_code == 200
    assert test_notices(s, ref) == [
        ("mch_dsp1", "**一 就与您有关的一笔交易（100.00 元）提出的交易纠纷 %s：等待客服处理。" % did,
         "The dispute %s that **一 lodged about a transaction with you (CNY 100.00): "
         "waiting for an operator." % did),
        ("mch_dsp1", "**一 就与您有关的一笔交易（100.00 元）提出的交易纠纷 %s：客服已给出处理结果。" % did,
         "The dispute %s that **一 lodged about a transaction with you (CNY 100.00): "
         "resolved by an operator." % did)]
    for _, zh, en in test_notices(s, ref):
        for secret in ("赵六一", "赵", "六一", c.phone, c.phone[-4:], c.id):
            assert secret not in zh and secret not in en, (secret, zh, en)


# ---- deadlines (moves the clock by days: last) ------------------------------------

def job(s):
    r = s.post("/test/v1/dispute/deadlines")
    assert r.status_code == 200, r.text
    return r.json()


def test_deadlines_remind_once_and_auto_confirm_at_the_deadline(env):
    """req: FUNC-PAY-13 — with the defaults (take within 24 h, handle within
    7 days, confirm within 7 days): one reminder each at the deadline, not a
    millisecond before, never twice; a resolution unconfirmed for 7 days is
    confirmed by the job (a system event, the customer told)."""
    s = env.s
    # The test runs the job through its hook and counts what each run did;
    # moving the clock would wake the scheduler to race it for the work.
    s.hold_jobs("dispute.deadlines")
    try:
        deadlines_at_the_deadline(env, s)
    finally:
        s.release_jobs("dispute.deadlines")


def deadlines_at_the_deadline(env, s):
    c = customer(s)
    open_id = lodged(s, c, test_subject(s, c))
    res_id = lodged(s, c, test_subject(s, c))
    assert env.op.post("/admin/v1/disputes/%s/take" % res_id).status_code == 200
    assert env.op.post("/admin/v1/disputes/%s/resolve" % res_id,
                       {"resolution": "说明"}).status_code == 200
    t_open = s.query("SELECT created_ms FROM dispute WHERE id = ?", open_id)[0]["created_ms"]
    t_res = s.query("SELECT resolved_ms FROM dispute WHERE id = ?", res_id)[0]["resolved_ms"]
    now = s.clock(advance_ms=0)
    zero = {"take_reminders": 0, "handle_reminders": 0, "auto_confirmed": 0,
            "refunds_retried": 0}

    def reminders():
        return s.query("SELECT dispute_id, kind FROM dispute_reminder WHERE dispute_id IN "
                       "(?, ?) ORDER BY kind", open_id, res_id)

    # (earlier tests' disputes are due too: the counts are checked on ours)
    now = s.clock(advance_ms=t_open + 24 * HOUR_MS - 1 - now)
    job(s)
    assert reminders() == []
    now = s.clock(advance_ms=1)
    assert job(s)["take_reminders"] >= 1
    assert reminders() == [{"dispute_id": open_id, "kind": "take"}]
    assert job(s) == zero
    assert reminders() == [{"dispute_id": open_id, "kind": "take"}]
    assert [a["object_id"] for a in s.audit("dispute.reminder")][-1] == open_id

    before = notices(s, c.id)
    now = s.clock(advance_ms=t_open + 7 * DAY_MS - 1 - now)
    job(s)
    assert reminders() == [{"dispute_id": open_id, "kind": "take"}]
    now = s.clock(advance_ms=1)
    job(s)
    assert reminders() == [{"dispute_id": open_id, "kind": "handle"},
                           {"dispute_id": open_id, "kind": "take"}]
    now = s.clock(advance_ms=t_res + 7 * DAY_MS - 1 - now)
    job(s)
    assert s.query("SELECT state FROM dispute WHERE id = ?", res_id)[0]["state"] == "resolved"
    now = s.clock(advance_ms=1)
    assert job(s)["auto_confirmed"] >= 1
    assert s.query("SELECT state FROM dispute WHERE id = ?", res_id)[0]["state"] == "confirmed"
    ev = s.query("SELECT event, actor_id, from_state, to_state FROM dispute_event WHERE "
                 "dispute_id = ? ORDER BY seq DESC LIMIT 1", res_id)
    assert ev == [{"event": "auto_confirm", "actor_id": "system", "from_state": "resolved",
                   "to_state": "confirmed"}]
    assert notices(s, c.id) == before + 1
    assert job(s) == zero
    assert len(reminders()) == 2


def test_the_job_does_not_confirm_a_reopened_dispute_and_times_the_new_resolution(env):
    """req: FUNC-PAY-13 — a dispute reopened a millisecond before its
    confirmation deadline is not confirmed by the job at or after that
    deadline (it is no longer resolved); after the second resolution the
    deadline is counted from it: not confirmed a millisecond before
    confirm_days, confirmed at it (the counterparty told too)."""
    s = env.s
    s.hold_jobs("dispute.deadlines")
    try:
        op = env.op.relogin()  # the deadline test before moved the clock by days
        c = customer(s)
        _, did = resolved_dispute(env, c, op=op)
        t1 = s.query("SELECT resolved_ms FROM dispute WHERE id = ?", did)[0]["resolved_ms"]
        now = s.clock(advance_ms=0)
        now = s.clock(advance_ms=t1 + 7 * DAY_MS - 1 - now)
        c.http = login_customer(s, c.phone, device="dsp-%d" % next(SEQ))  # a week later
        now = s.clock(advance_ms=t1 + 7 * DAY_MS - 1 - s.clock(advance_ms=0))
        assert reopen(c, did).status_code == 200
        now = s.clock(advance_ms=1)
        job(s)
        now = s.clock(advance_ms=DAY_MS)
        job(s)
        assert s.query("SELECT state FROM dispute WHERE id = ?", did)[0]["state"] == "open"
        op = env.op.relogin()  # a week later: the session ended
        now = s.clock(advance_ms=0)
        assert op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
        assert op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "再说明"}).status_code == 200
        t2 = s.query("SELECT resolved_ms FROM dispute WHERE id = ?", did)[0]["resolved_ms"]
        assert t2 > t1 + 7 * DAY_MS
        now = s.clock(advance_ms=t2 + 7 * DAY_MS - 1 - now)
        job(s)
        assert s.query("SELECT state FROM dispute WHERE id = ?", did)[0]["state"] == "resolved"
        now = s.clock(advance_ms=1)
        assert job(s)["auto_confirmed"] >= 1
        assert s.query("SELECT state FROM dispute WHERE id = ?", did)[0]["state"] == "confirmed"
        ev = s.query("SELECT event FROM dispute_event WHERE dispute_id = ? ORDER BY seq", did)
        assert [e["event"] for e in ev] == ["lodge", "take", "resolve", "reopen", "take",
                                             "resolve", "auto_confirm"]
        c.http = login_customer(s, c.phone, device="dsp-%d" % next(SEQ))
        r = reopen(c, did)
        assert r.status_code == 409 and err(r) == "dispute_state_invalid", r.text
    finally:
        s.release_jobs("dispute.deadlines")


def test_a_reopened_dispute_is_reminded_again_from_the_reopen(env):
    """req: FUNC-PAY-13 — a reopen begins a new round of handling: its take
    and handle deadlines count from the reopen (not from lodging), at the
    deadline itself and not a millisecond before, and the reminders of the
    first round do not stand for the second's: exactly one reminder per
    kind and round however often the job runs (an audit record and an
    alert line naming the round). A dispute taken in the new round gets
    no take reminder of it, but its handle reminder."""
    s = env.s
    s.hold_jobs("dispute.deadlines")
    try:
        reminded_again_from_the_reopen(env, s)
    finally:
        s.release_jobs("dispute.deadlines")


def reminded_again_from_the_reopen(env, s):
    c = customer(s)
    a = lodged(s, c, test_subject(s, c))
    b = lodged(s, c, test_subject(s, c))

    def reminders():
        """Ours, by round."""
        return sorted([(x["dispute_id"], x["kind"], x["round"]) for x in s.query(
            "SELECT dispute_id, kind, round FROM dispute_reminder WHERE dispute_id IN (?, ?)",
            a, b)], key=lambda t: (t[2], t[0], t[1]))

    def past(ms):
        """Moves the clock to ms and runs the job."""
        s.clock(advance_ms=ms - s.clock(advance_ms=0))
        job(s)

    first = sorted([(a, "handle", 1), (a, "take", 1), (b, "handle", 1), (b, "take", 1)])
    # the first round: both reminders of both disputes
    past(s.query("SELECT created_ms FROM dispute WHERE id = ?", b)[0]["created_ms"] + 7 * DAY_MS)
    assert reminders() == first
    # handled and resolved, then reopened by the complainant (the same instant)
    op = env.op.relogin()
    for did in (a, b):
        assert op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
        assert op.post("/admin/v1/disputes/%s/resolve" % did,
                       {"resolution": "说明"}).status_code == 200
    c.http = login_customer(s, c.phone, device="dsp-%d" % next(SEQ))
    s.clock(advance_ms=1)
    assert reopen(c, a).status_code == 200 and reopen(c, b).status_code == 200
    t2 = s.query("SELECT at_ms FROM dispute_event WHERE dispute_id = ? AND event = 'reopen'",
                 a)[0]["at_ms"]
    assert s.query("SELECT id, round_ms FROM dispute WHERE id IN (?, ?) ORDER BY id", a, b) == \
        [{"id": x, "round_ms": t2} for x in sorted((a, b))]
    job(s)
    assert reminders() == first  # the first round's deadlines passed long ago: nothing
    s.clock(advance_ms=HOUR_MS)
    op = env.op.relogin()  # an hour later: the session ended
    assert op.post("/admin/v1/disputes/%s/take" % b).status_code == 200  # b taken again
    # the second round's take deadline: take_hours after the reopen
    past(t2 + 24 * HOUR_MS - 1)
    assert reminders() == first
    past(t2 + 24 * HOUR_MS)
    assert reminders() == first + [(a, "take", 2)]
    job(s)
    assert reminders() == first + [(a, "take", 2)]
    audit = s.audit("dispute.reminder")[-1]
    assert (audit["object_id"], json.loads(audit["details"])) == \
        (a, {"deadline": "take", "round": 2})
    log = (s.data / "log" / "anfud.log").read_text(encoding="utf-8")
    assert "dispute %s is past its take deadline (round 2)" % a in log
    # the second round's handle deadline: handle_days after the reopen
    past(t2 + 7 * DAY_MS - 1)
    assert reminders() == first + [(a, "take", 2)]
    past(t2 + 7 * DAY_MS)
    second = sorted([(a, "take", 2), (a, "handle", 2), (b, "handle", 2)])
    assert reminders() == first + second
    job(s)
    assert reminders() == first + second
    assert len([x for x in s.audit("dispute.reminder") if x["object_id"] in (a, b)]) == 7
