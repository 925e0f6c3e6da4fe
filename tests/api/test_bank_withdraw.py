"""Withdrawals (提现) through the real API with the real simulator bank
(src/bank/withdraw.c; docs/bank.md "Withdrawal"): the hold of amount + fee
made with the row, review by the rules, by one operator or by maker and
checker for a large amount, the credit sent once, the hold posted when the
bank confirms (and the money moved on to the reserve and the fee account)
or voided when it fails; every rule at its boundary; refusals change
nothing; the rules changed through four eyes; the roles on the admin routes.

One anfud and one simulator for the module, with staff made through iam's
four eyes: two operators, a risk officer, a finance officer (no withdrawal
permission) and the first administrator. Each test has customers of its
own, funded by a real top-up, so the daily rules of one test never see
another's. The rules of the module's server ([bank] options):

    min 100, max 300000, 3 a day, 400000 a day, fee 100 fen + 10 bp,
    review above 100000, two operators above 200000, a step-up above 50000
    (each customer steps up when made).
"""
import itertools

import pytest

from banksim import BankSim
from conftest import Server, merge, write_config
from iam import THIRD_PASSWORD, login_customer, register, sms_code
from test_bank_topup import BANK_HOOK_JOBS, IDNO, NAME, bind, new_card, topup
from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, admin_password_from_mail,
                            approve_operator, create_operator_request, first_login)

PIN = "583016"
SEQ = itertools.count(1)
RULES = {"withdraw_min": 100, "withdraw_max": 300000, "withdraw_daily_count": 3,
         "withdraw_daily_max": 400000, "withdraw_fee_fixed": 100, "withdraw_fee_bp": 10,
         "withdraw_auto_max": 100000, "withdraw_large_over": 200000,
         "withdraw_stepup_over": 50000}


def err(r):
    return r.json()["error"]["code"]


def make_staff(s, admin, officer, name, role, device):
    a = create_operator_request(admin, name, roles=(role,)).json()["approval"]
    r = approve_operator(officer, a["id"], name)
    assert r.json()["approval"]["status"] == "executed", r.text
    initial = admin_password_from_mail("%s@staff.example.test" % name)
    s.clock(advance_ms=30_000)  # a fresh TOTP step
    c, _ = first_login(s, name, initial, THIRD_PASSWORD, device=device)
    return c


class Env:
    def advance(self, ms):
        """Moves anfud's clock and the bank's together."""
        self.s.clock(advance_ms=ms)
        self.sim.clock(ms)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Env()
    e.sim = BankSim(tmp_path_factory.mktemp("wdbank"))
    cfg = e.sim.config(query_after_s=60, callback_window_s=3600, **RULES)
    cfg["lockout"] = {"ip_failures": "10000"}
    e.s = Server(tmp_path_factory.mktemp("wd"), config=cfg,
                 init_args=("--admin", "wdadmin")).start()
    e.sim.peer(e.s)
    e.s.hold_jobs(*BANK_HOOK_JOBS)
    s = e.s
    e.admin, _ = first_login(s, "wdadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "wdofficer", "--role",
                    "security_officer").stdout
    e.officer, _ = first_login(s, "wdofficer", admin_password(out), OFFICER_NEW,
                               device="console-2")
    e.op = make_staff(s, e.admin, e.officer, "wdop1", "operator", "console-3")
    e.op2 = make_staff(s, e.admin, e.officer, "wdop2", "operator", "console-4")
    e.risk = make_staff(s, e.admin, e.officer, "wdrisk", "risk_officer", "console-5")
    e.fin = make_staff(s, e.admin, e.officer, "wdfin", "finance", "console-6")
    e.op_id = e.op.get("/admin/v1/me").json()["user"]["id"]
    e.op2_id = e.op2.get("/admin/v1/me").json()["user"]["id"]
    yield e
    e.s.stop()
    e.sim.stop()
    e.s.assert_stopped_cleanly()


class Customer:
    pass


def customer(e, funds=0):
    """A customer with a payment PIN, a bound card and funds (a top-up the
    bank confirmed)."""
    s = e.s
    _, phone = register(s, real_name=NAME, id_number=IDNO)
    c = Customer()
    c.phone = phone
    c.http = login_customer(s, phone, device="wd-%d" % next(SEQ))
    c.id = c.http.get("/api/v1/me").json()["user"]["id"]
    s.clock(advance_ms=1)
    assert c.http.send_code("step_up", "sms").status_code == 202
    assert c.http.step_up("sms", sms_code(s, phone)).status_code == 200
    r = c.http.post("/api/v1/me/payment-password", {"pin": PIN})
    assert r.status_code == 204, r.text
    c.number, c.card = bind(s, e.sim, c.http)
    if funds:
        r = topup(c.http, c.card, funds, "fund-%d" % next(SEQ))
        assert r.status_code == 201, r.text
        serial = s.query("SELECT serial FROM bank_payment WHERE id = ?",
                         r.json()["id"])[0]["serial"]
        assert [cb["status"] for cb in e.sim.settle(serial)] == [200]
        assert wallet(e, c)["available"] == funds
    return c


def withdraw(c, amount, rid=None, card=None, pin=PIN):
    return c.http.post("/api/v1/me/withdrawals", {
        "card_id": card or c.card, "amount": amount, "currency": "CNY",
        "request_id": rid or "w-%d" % next(SEQ), "payment_pin": pin})


def account(e, kind, owner_id):
    rows = e.s.query("SELECT * FROM ledger_account WHERE kind = ? AND owner_id = ?", kind,
                     owner_id)
    assert len(rows) == 1
    return rows[0]


def wallet(e, c):
    a = account(e, "customer_wallet", c.id)
    return {"posted": a["credits_posted"] - a["debits_posted"],
            "held": a["debits_pending"],
            "available": a["credits_posted"] - a["debits_posted"] - a["debits_pending"]}


def platform(e):
    """The reserve at the bank, the clearing account, the fee income."""
    r = account(e, "bank_reserve", "sim")
    k = account(e, "bank_clearing", "sim")
    f = account(e, "platform_fee", "platform")
    return {"reserve": r["debits_posted"] - r["credits_posted"],
            "clearing_posted": k["credits_posted"] - k["debits_posted"],
            "clearing_pending": k["credits_pending"],
            "fee": f["credits_posted"] - f["debits_posted"]}


def fee(amount):
    return 100 + amount * 10 // 10000


def most(balance):
    """The largest amount whose amount + fee fits balance."""
    a = balance
    while a + fee(a) > balance:
        a -= 1
    return a


def row(e, wid):
    return e.s.query("SELECT * FROM bank_withdrawal WHERE id = ?", wid)[0]


def actions(e, wid):
    return [a["action"] for a in e.s.audit() if a["object_id"] == wid]


def notices(e, c, kind):
    return e.s.query("SELECT count(*) AS n FROM notify_message WHERE kind = ? AND user_id = ?",
                     kind, c.id)[0]["n"]


def snapshot(e, c):
    """What a refusal must leave as it was: the customer's withdrawals and
    payments, the wallet, the ledger's transfers and holds, the bank's audit
    records."""
    s = e.s
    return (s.query("SELECT * FROM bank_withdrawal WHERE user_id = ? ORDER BY id", c.id),
            s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ?", c.id),
            wallet(e, c),
            s.query("SELECT count(*) AS n FROM ledger_transfer"),
            s.query("SELECT count(*) AS n FROM ledger_hold WHERE state = 'pending'"),
            s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'bank.%'"))


def serial_of(e, wid):
    return e.s.query("SELECT p.serial FROM bank_payment p JOIN bank_withdrawal w ON "
                     "w.payment_id = p.id WHERE w.id = ?", wid)[0]["serial"]


def queue(e, who=None, state="review"):
    r = (who or e.op).get("/admin/v1/bank/withdrawals?state=" + state)
    assert r.status_code == 200, r.text
    return [w["id"] for w in r.json()["withdrawals"]]


# ---- the paths ----------------------------------------------------------------


def test_automatic_path_holds_then_posts_when_the_bank_confirms(env):
    """req: FUNC-PAY-09, FUNC-OPS-03 — at or below the auto-review threshold
    the rules approve it and the credit is sent at once (sent); amount + fee
    is held on the wallet; the bank's confirmation posts the hold and moves
    the amount to the reserve and the fee to the platform's income, in the
    command that makes it succeeded; audited; the customer told twice."""
    e = env
    c = customer(e, funds=200000)
    before = platform(e)
    r = withdraw(c, 100000)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["state"], w["amount"], w["fee"], w["currency"], w["review"]) == \
        ("sent", 100000, 200, "CNY", "auto")
    assert w["card"] == c.number[:6] + "*" * (len(c.number) - 10) + c.number[-4:]
    assert c.number not in r.text
    assert wallet(e, c) == {"posted": 200000, "held": 100200, "available": 99800}
    assert platform(e)["clearing_pending"] == before["clearing_pending"] + 100200
    assert e.sim.payment(serial_of(e, w["id"]))["amount"] == 100000
    # req: FUNC-OPS-02 — without a cut-off it is due from its approval on,
    # and both the customer's and the operators' answers say so
    assert w["send_after_ms"] == row(e, w["id"])["send_after_ms"]
    assert row(e, w["id"])["created_ms"] <= w["send_after_ms"] <= e.s.clock()
    staff = e.op.get("/admin/v1/bank/withdrawals?state=sent").json()["withdrawals"]
    assert [x["send_after_ms"] for x in staff if x["id"] == w["id"]] == [w["send_after_ms"]]
    assert [cb["status"] for cb in e.sim.settle(serial_of(e, w["id"]))] == [200]
    got = c.http.get("/api/v1/me/withdrawals/" + w["id"]).json()
    assert got["state"] == "succeeded"
    assert got["send_after_ms"] == w["send_after_ms"]
    assert wallet(e, c) == {"posted": 99800, "held": 0, "available": 99800}
    after = platform(e)
    assert after["reserve"] == before["reserve"] - 100000
    assert after["fee"] == before["fee"] + 200
    assert after["clearing_posted"] == before["clearing_posted"]
    assert after["clearing_pending"] == before["clearing_pending"]
    t = e.s.query("SELECT code, amount, flags FROM ledger_transfer WHERE ref = ? ORDER BY seq",
                  w["id"])
    assert [(x["code"], x["amount"]) for x in t] == [
        ("withdrawal", 100200), ("withdrawal", 100200), ("withdrawal", 100000), ("fee", 200)]
    assert actions(e, w["id"]) == ["bank.withdrawal.submitted", "bank.withdrawal.approved",
                                   "bank.withdrawal.sent", "bank.withdrawal.succeeded"]
    assert notices(e, c, "bank.withdrawal_submitted") == 1
    assert notices(e, c, "bank.withdrawal_succeeded") == 1
    assert [x["id"] for x in c.http.get("/api/v1/me/withdrawals").json()["withdrawals"]] == \
        [w["id"]]


def test_manual_review_approved_by_one_operator(env):
    """req: FUNC-OPS-02 — above the auto-review threshold it waits in the
    operators' queue (held, nothing sent); one operator approves: sent;
    the decision audited as the operator's."""
    e = env
    c = customer(e, funds=200000)
    w = withdraw(c, 100001).json()
    assert (w["state"], w["review"]) == ("review", "single")
    assert w["id"] in queue(e)
    assert e.s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ? AND kind = "
                     "'credit'", c.id)[0]["n"] == 0
    assert wallet(e, c)["held"] == 100001 + fee(100001)
    r = e.op.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["checker_id"]) == ("sent", e.op_id)
    assert w["id"] not in queue(e)
    approved = [a for a in e.s.audit("bank.withdrawal.approved") if a["object_id"] == w["id"]]
    assert [a["actor_id"] for a in approved] == [e.op_id]
    e.sim.settle(serial_of(e, w["id"]))
    assert row(e, w["id"])["state"] == "succeeded"
    assert wallet(e, c) == {"posted": 200000 - 100001 - fee(100001), "held": 0,
                            "available": 200000 - 100001 - fee(100001)}


def test_manual_review_rejected_voids_the_hold_and_tells_the_customer(env):
    e = env
    c = customer(e, funds=200000)
    w = withdraw(c, 150000).json()
    assert w["state"] == "review"
    r = e.op.post("/admin/v1/bank/withdrawals/%s/reject" % w["id"],
                  {"reason": "card holder unreachable"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["reason"]) == ("rejected", "card holder unreachable")
    assert wallet(e, c) == {"posted": 200000, "held": 0, "available": 200000}
    assert e.s.query("SELECT state FROM ledger_hold WHERE transfer_id = ?",
                     row(e, w["id"])["hold_id"])[0]["state"] == "voided"
    assert notices(e, c, "bank.withdrawal_failed") == 1
    assert "bank.withdrawal.rejected" in actions(e, w["id"])
    # Decided: neither decision applies again.
    before = snapshot(e, c)
    r = e.op2.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {})
    assert (r.status_code, err(r)) == (409, "withdraw_not_in_review")
    r = e.op2.post("/admin/v1/bank/withdrawals/%s/reject" % w["id"], {"reason": "again"})
    assert (r.status_code, err(r)) == (409, "withdraw_not_in_review")
    assert snapshot(e, c) == before


def test_history_shows_a_held_withdrawal_once_and_a_voided_one_not_at_all(env):
    """req: FUNC-PAY-15 — while a withdrawal waits, the customer's history
    shows its hold as one pending row (the posted balance unchanged); once
    the bank confirms, the posting is the one row, with the balance after
    it; a rejected withdrawal (hold voided) leaves no row: no money moved."""
    e = env
    c = customer(e, funds=400000)

    def rows():
        r = c.http.get("/api/v1/me/transactions")
        assert r.status_code == 200, r.text
        return [(x["type"], x["direction"], x["amount"], x["balance"], x["pending"])
                for x in r.json()["items"]]

    top = [("top_up", "in", 400000, 400000, False)]
    w = withdraw(c, 150000).json()
    assert w["state"] == "review"
    held = 150000 + fee(150000)
    assert rows() == [("withdrawal", "out", held, 400000, True)] + top
    assert e.op.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {}).status_code == 200
    e.sim.settle(serial_of(e, w["id"]))
    assert row(e, w["id"])["state"] == "succeeded"
    assert rows() == [("withdrawal", "out", held, 400000 - held, False)] + top
    v = withdraw(c, 120000).json()
    assert v["state"] == "review"
    assert e.op.post("/admin/v1/bank/withdrawals/%s/reject" % v["id"],
                     {"reason": "not today"}).status_code == 200
    assert rows() == [("withdrawal", "out", held, 400000 - held, False)] + top


def test_large_amount_needs_maker_and_checker(env):
    """req: FUNC-OPS-02, IAM-SOD-03 — above the large-amount threshold the
    first approval only records the maker; the same operator cannot give
    the second (403 withdraw_checker_is_maker, nothing changed); another
    operator's approval sends it."""
    e = env
    c = customer(e, funds=300000)
    w = withdraw(c, 200001).json()
    assert (w["state"], w["review"]) == ("review", "dual")
    r = e.op.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["maker_id"]) == ("review", e.op_id)
    assert e.s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ? AND kind = "
                     "'credit'", c.id)[0]["n"] == 0
    before = snapshot(e, c)
    r = e.op.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {})
    assert (r.status_code, err(r)) == (403, "withdraw_checker_is_maker")
    assert snapshot(e, c) == before
    r = e.op2.post("/admin/v1/bank/withdrawals/%s/approve" % w["id"], {})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["state"], got["maker_id"], got["checker_id"]) == ("sent", e.op_id, e.op2_id)
    assert actions(e, w["id"])[:4] == ["bank.withdrawal.submitted", "bank.withdrawal.review",
                                       "bank.withdrawal.maker_approved",
                                       "bank.withdrawal.approved"]
    e.sim.settle(serial_of(e, w["id"]))
    assert row(e, w["id"])["state"] == "succeeded"


# ---- the bank's failures -------------------------------------------------------


def test_bank_decline_fails_it_and_voids_the_hold(env):
    """req: FUNC-OPS-03 — the bank refuses the credit at once: failed, the
    hold voided, the wallet as before, the customer told."""
    e = env
    c = customer(e, funds=50000)
    e.sim.behaviour(c.number, "decline")
    w = withdraw(c, 10000).json()
    assert w["state"] == "failed"
    assert wallet(e, c) == {"posted": 50000, "held": 0, "available": 50000}
    assert e.sim.settle(serial_of(e, w["id"])) == []
    assert notices(e, c, "bank.withdrawal_failed") == 1
    assert e.s.query("SELECT state FROM bank_payment WHERE id = ?",
                     row(e, w["id"])["payment_id"])[0]["state"] == "failed"


def test_a_failure_reported_later_returns_the_money(env):
    """The bank takes the credit, then reports it failed: returned, the hold
    voided."""
    e = env
    c = customer(e, funds=50000)
    e.sim.behaviour(c.number, "fail")
    w = withdraw(c, 10000).json()
    assert w["state"] == "sent"
    assert [cb["status"] for cb in e.sim.settle(serial_of(e, w["id"]))] == [200]
    assert row(e, w["id"])["state"] == "returned"
    assert wallet(e, c) == {"posted": 50000, "held": 0, "available": 50000}
    assert notices(e, c, "bank.withdrawal_failed") == 1


def test_duplicate_callbacks_post_once(env):
    e = env
    c = customer(e, funds=50000)
    e.sim.behaviour(c.number, "twice")
    before = platform(e)
    w = withdraw(c, 20000).json()
    assert [cb["status"] for cb in e.sim.settle(serial_of(e, w["id"]))] == [200, 200]
    assert row(e, w["id"])["state"] == "succeeded"
    assert wallet(e, c)["posted"] == 50000 - 20000 - fee(20000)
    assert platform(e)["reserve"] == before["reserve"] - 20000
    assert e.s.query("SELECT count(*) AS n FROM ledger_transfer WHERE ref = ?",
                     w["id"])[0]["n"] == 4
    assert actions(e, w["id"]).count("bank.withdrawal.succeeded") == 1


def test_a_timeout_is_resolved_by_the_query_never_by_sending_again(env):
    """No answer within timeout_ms: sent, its payment unknown; the query job
    finds it at the bank; the bank's confirmation posts the hold; the bank
    saw one request."""
    e = env
    c = customer(e, funds=50000)
    e.sim.behaviour(c.number, "timeout", once=True)
    w = withdraw(c, 30000).json()
    assert w["state"] == "sent"
    serial = serial_of(e, w["id"])
    assert e.s.query("SELECT state FROM bank_payment WHERE serial = ?",
                     serial)[0]["state"] == "unknown"
    assert e.sim.payment(serial)["status"] == "pending"
    e.advance(61000)
    assert e.s.post("/test/v1/bank/query").json()["queried"] >= 1
    assert e.s.query("SELECT state FROM bank_payment WHERE serial = ?",
                     serial)[0]["state"] == "in_transit"
    assert row(e, w["id"])["state"] == "sent"
    e.sim.settle(serial)
    assert row(e, w["id"])["state"] == "succeeded"
    assert wallet(e, c)["posted"] == 50000 - 30000 - fee(30000)
    assert e.s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ? AND kind = "
                     "'credit'", c.id)[0]["n"] == 1


def test_a_late_confirmation_found_by_the_query_then_its_callback_changes_nothing(env):
    e = env
    c = customer(e, funds=50000)
    e.sim.behaviour(c.number, "late")
    w = withdraw(c, 40000).json()
    assert e.sim.settle(serial_of(e, w["id"])) == []
    assert row(e, w["id"])["state"] == "sent"
    e.advance(61000)
    assert e.s.post("/test/v1/bank/query").json()["resolved"] >= 1
    assert row(e, w["id"])["state"] == "succeeded"
    posted = wallet(e, c)
    assert [cb["status"] for cb in e.sim.settle(serial_of(e, w["id"]), late=True)] == [200]
    assert wallet(e, c) == posted == {"posted": 50000 - 40000 - fee(40000), "held": 0,
                                      "available": 50000 - 40000 - fee(40000)}
    assert e.s.query("SELECT count(*) AS n FROM ledger_transfer WHERE ref = ?",
                     w["id"])[0]["n"] == 4


# ---- the rules at their boundaries -------------------------------------------------


def refused(e, c, amount, code, **kw):
    before = snapshot(e, c)
    r = withdraw(c, amount, **kw)
    assert r.status_code == 409, r.text
    assert err(r) == code
    assert snapshot(e, c) == before


def test_minimum_at_the_limit_passes_one_fen_below_is_refused(env):
    """req: FUNC-OPS-02"""
    e = env
    c = customer(e, funds=10000)
    refused(e, c, 99, "withdraw_below_min")
    assert withdraw(c, 100).status_code == 201


def test_maximum_at_the_limit_passes_one_fen_over_is_refused(env):
    """req: FUNC-OPS-02"""
    e = env
    c = customer(e, funds=400000)
    refused(e, c, 300001, "withdraw_above_max")
    assert withdraw(c, 300000).json()["state"] == "review"



def test_daily_amount_at_the_limit_passes_one_fen_over_is_refused(env):
    """req: FUNC-OPS-02"""
    e = env
    c = customer(e, funds=500000)
    assert withdraw(c, 300000).status_code == 201
    assert withdraw(c, 99900).status_code == 201
    refused(e, c, 101, "withdraw_limit_daily_amount")
    assert withdraw(c, 100).status_code == 201  # exactly the day's 400000


# ---- refusals change nothing ---------------------------------------------------------


def test_refusals_change_nothing(env):
    """req: FUNC-PAY-09, FUNC-ACCT-09 — another's card, an unbound card,
    above the available balance, a wrong PIN, a reused request id with
    another amount: each refused with its code, nothing written."""
    e = env
    c = customer(e, funds=10000)
    other = customer(e)
    before = snapshot(e, c)
    r = withdraw(c, 1000, card=other.card)
    assert (r.status_code, err(r)) == (404, "not_found")
    assert snapshot(e, c) == before
    assert most(10000) == 9891
    refused(e, c, 9892, "insufficient_funds")
    assert withdraw(c, 9891).status_code == 201  # amount + fee: exactly the balance
    c2 = customer(e, funds=10000)
    before = snapshot(e, c2)
    r = withdraw(c2, 1000, pin="000000")
    assert (r.status_code, err(r)) == (403, "payment_password_invalid"), r.text
    assert snapshot(e, c2) == before
    ok = withdraw(c2, 1000, rid="same-id")
    assert ok.status_code == 201
    again = withdraw(c2, 1000, rid="same-id")
    assert (again.status_code, again.json()["id"]) == (200, ok.json()["id"])
    refused(e, c2, 1001, "idempotency_conflict", rid="same-id")
    assert c2.http.delete("/api/v1/me/cards/" + c2.card).status_code == 200
    refused(e, c2, 1000, "card_not_bound")


def malformed_card_ids(card):
    """Card ids that cannot name a card: a character short, one over, a
    character outside base62, another kind's prefix, no underscore."""
    return (card[:-1], card + "0", card[:-1] + "-", "usr" + card[3:], "bcd-" + card[4:])


def pin_state(e, c):
    return e.s.query("SELECT pay_failures, pay_locked_until_ms FROM iam_user WHERE id = ?",
                     c.id)


def test_a_malformed_card_id_is_refused_before_the_pin(env):
    """req: WEB-SQL-01, FUNC-PAY-09 — a card id that is not a card id's
    shape answers 404 not_found (field card_id) before anything else runs:
    with a wrong payment PIN no PIN failure is counted (nor a lock set),
    and nothing is written (no withdrawal, no hold, no bank record); the
    right card afterwards still withdraws with the right PIN."""
    e = env
    c = customer(e, funds=10000)
    before, pins = snapshot(e, c), pin_state(e, c)
    for card in malformed_card_ids(c.card):
        for pin in ("000000", PIN):
            r = withdraw(c, 1000, card=card, pin=pin)
            assert r.status_code == 404, (card, pin, r.text)
            assert r.json()["error"]["code"] == "not_found"
            assert r.json()["error"]["field"] == "card_id", r.text
    assert pin_state(e, c) == pins
    assert snapshot(e, c) == before
    r = withdraw(c, 1000)
    assert r.status_code == 201, r.text
    e.sim.settle(serial_of(e, r.json()["id"]))


def test_a_frozen_wallet_is_refused(env):
    """req: FUNC-ACCT-09 — a wallet frozen for debits (through the ledger's
    four eyes) cannot be withdrawn from."""
    e = env
    c = customer(e, funds=10000)
    acc = account(e, "customer_wallet", c.id)["id"]
    a = e.op.post("/admin/v1/ledger/accounts/%s/state" % acc,
                  {"state": "frozen_debit", "reason": "fraud report"}).json()["approval"]
    r = e.risk.post("/admin/v1/ledger/approvals/%s/approve" % a["id"],
                    {"confirm_account_id": acc, "confirm_state": "frozen_debit"})
    assert r.json()["approval"]["status"] == "executed", r.text
    refused(e, c, 1000, "account_frozen")


# ---- the rules through four eyes, the roles --------------------------------------------


def test_rules_change_through_four_eyes(env):
    """req: FUNC-OPS-02, FUNC-OPS-06, IAM-SOD-03 — an operator files new
    rules; nothing changes until a risk officer approves; then they are in
    force (a new minimum refuses what passed before); audited."""
    e = env
    new = {"min": 500, "max": 300000, "daily_count": 3, "daily_max": 400000,
           "fee_fixed": 0, "fee_bp": 0, "auto_max": 100000, "large_over": 200000}
    old = e.op.get("/admin/v1/bank/withdraw-rules").json()["rules"]
    assert (old["min"], old["approval_id"]) == (100, None)
    bad = dict(new, large_over=99999)
    r = e.op.post("/admin/v1/bank/withdraw-rules", bad)
    assert (r.status_code, err(r)) == (400, "invalid_field")
    r = e.op.post("/admin/v1/bank/withdraw-rules", new)
    assert r.status_code == 202, r.text
    a = r.json()["approval"]
    assert e.op.get("/admin/v1/bank/withdraw-rules").json()["rules"]["min"] == 100
    r = e.op.post("/admin/v1/bank/approvals/%s/approve" % a["id"], {})
    assert r.status_code == 403, r.text
    r = e.risk.post("/admin/v1/bank/approvals/%s/approve" % a["id"], {})
    assert r.status_code == 200 and r.json()["approval"]["status"] == "executed", r.text
    rules = e.op.get("/admin/v1/bank/withdraw-rules").json()["rules"]
    assert (rules["min"], rules["fee_fixed"], rules["approval_id"]) == (500, 0, a["id"])
    assert len(e.s.audit("bank.withdraw_rules.changed")) == 1
    c = customer(e, funds=10000)
    refused(e, c, 499, "withdraw_below_min")
    w = withdraw(c, 500).json()
    assert (w["state"], w["fee"]) == ("sent", 0)
    e.sim.settle(serial_of(e, w["id"]))
    # Back to the module's rules, the same way.
    back = {"min": 100, "max": 300000, "daily_count": 3, "daily_max": 400000,
            "fee_fixed": 100, "fee_bp": 10, "auto_max": 100000, "large_over": 200000}
    a = e.op.post("/admin/v1/bank/withdraw-rules", back).json()["approval"]
    r = e.risk.post("/admin/v1/bank/approvals/%s/reject" % a["id"], {"note": "not now"})
    assert r.json()["approval"]["status"] == "rejected"
    assert e.op.get("/admin/v1/bank/withdraw-rules").json()["rules"]["min"] == 500
    a = e.op.post("/admin/v1/bank/withdraw-rules", back).json()["approval"]
    assert e.risk.post("/admin/v1/bank/approvals/%s/approve" % a["id"],
                       {}).json()["approval"]["status"] == "executed"
    assert e.op.get("/admin/v1/bank/withdraw-rules").json()["rules"]["min"] == 100


def test_every_role_class_on_the_admin_routes(env):
    """req: IAM-SOD-02 — operators and risk officers read and review;
    only operators file rules, only risk officers approve them; finance and
    the administrator get 403 on every one."""
    e = env
    c = customer(e, funds=200000)
    w = withdraw(c, 150000).json()
    rules = {"min": 100, "max": 300000, "daily_count": 3, "daily_max": 400000,
             "fee_fixed": 100, "fee_bp": 10, "auto_max": 100000, "large_over": 200000}
    routes = [("GET", "/admin/v1/bank/withdrawals?state=review", None),
              ("GET", "/admin/v1/bank/withdraw-rules", None),
              ("POST", "/admin/v1/bank/withdrawals/%s/reject" % w["id"], {"reason": "x"}),
              ("POST", "/admin/v1/bank/withdraw-rules", rules),
              ("POST", "/admin/v1/bank/approvals/apr_00000000000000000000000000/approve", {})]
    before = snapshot(e, c)
    for who in (e.fin, e.admin):
        for method, path, body in routes:
            r = who.req(method, path, body)
            assert r.status_code == 403, (path, r.text)
    assert snapshot(e, c) == before
    assert e.risk.get("/admin/v1/bank/withdrawals?state=review").status_code == 200
    assert e.risk.post("/admin/v1/bank/withdraw-rules", rules).status_code == 403
    assert e.risk.post("/admin/v1/bank/withdrawals/%s/reject" % w["id"],
                       {"reason": "risk"}).json()["state"] == "rejected"


def test_a_customer_sees_only_their_own(env):
    e = env
    c = customer(e, funds=10000)
    other = customer(e, funds=10000)
    w = withdraw(c, 1000).json()
    r = other.http.get("/api/v1/me/withdrawals/" + w["id"])
    assert (r.status_code, err(r)) == (404, "not_found")
    assert other.http.get("/api/v1/me/withdrawals").json()["withdrawals"] == []

def test_daily_count_at_the_limit_passes_the_next_is_refused(env):
    """req: FUNC-OPS-02 — three a Shanghai day (a rejected one not counted);
    the next day starts again."""
    e = env
    c = customer(e, funds=200000)
    first = withdraw(c, 150000).json()
    assert first["state"] == "review"
    r = e.op.post("/admin/v1/bank/withdrawals/%s/reject" % first["id"], {"reason": "test"})
    assert r.json()["state"] == "rejected"
    for _ in range(3):
        assert withdraw(c, 1000).status_code == 201
    refused(e, c, 1000, "withdraw_limit_daily_count")
    e.advance(24 * 3600 * 1000)
    c.http = login_customer(e.s, c.phone, device="wd-next-%d" % next(SEQ))
    assert withdraw(c, 1000).status_code == 201



# ---- crash recovery: the send job (these move the clock: after the staff's tests) ---------------------------------------------------


def crashed_after_approval(e, c, amount):
    """A withdrawal whose approval committed but whose send never ran (anfud
    crashed between the two): made in review (nothing sent), then written
    approved and due as the approval's command writes it, with no payment."""
    w = withdraw(c, amount).json()
    assert w["state"] == "review"
    now = e.s.clock()
    with e.s.rw() as db:
        db.execute("UPDATE bank_withdrawal SET state = 'approved', send_after_ms = ?, "
                   "updated_ms = ? WHERE id = ?", now, now, w["id"])
    return w


def credits(e, c):
    return e.s.query("SELECT id, serial, state FROM bank_payment WHERE user_id = ? AND kind = "
                     "'credit'", c.id)


def test_an_approved_withdrawal_a_crash_left_unsent_is_sent_once_by_the_job(env):
    """req: FUNC-OPS-03 — an approved withdrawal without a bank payment (a
    crash between its approval and its send) is sent by the
    bank.withdraw_send job: one payment, one serial, one request at the
    bank; the next runs send nothing; the bank's confirmation posts the
    hold."""
    e = env
    c = customer(e, funds=200000)
    w = crashed_after_approval(e, c, 150000)
    assert credits(e, c) == []
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 1, "sent": 1}
    [p] = credits(e, c)
    assert p["state"] == "in_transit"
    assert row(e, w["id"])["payment_id"] == p["id"]
    assert row(e, w["id"])["state"] == "sent"
    assert e.sim.payment(p["serial"])["amount"] == 150000
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    assert [x["id"] for x in credits(e, c)] == [p["id"]]
    assert [cb["status"] for cb in e.sim.settle(p["serial"])] == [200]
    assert row(e, w["id"])["state"] == "succeeded"
    assert wallet(e, c) == {"posted": 200000 - 150000 - fee(150000), "held": 0,
                            "available": 200000 - 150000 - fee(150000)}
    assert actions(e, w["id"]) == ["bank.withdrawal.submitted", "bank.withdrawal.review",
                                   "bank.withdrawal.sent", "bank.withdrawal.succeeded"]


def test_a_withdrawal_payment_a_crash_left_created_is_queried_never_sent_again(env):
    """req: FUNC-OPS-03 — the payment written, its send lost to a crash
    (created): the send job leaves it alone; the query job asks the bank,
    which never had it: failed (not_at_bank), the hold voided, the bank
    never asked to pay it."""
    e = env
    c = customer(e, funds=200000)
    w = crashed_after_approval(e, c, 150000)
    pid, serial = "bpy_crash" + w["id"][4:], "bsn_crash" + w["id"][4:]
    now = e.s.clock()
    with e.s.rw() as db:  # as the send's claim writes it (a copy of the top-up's row)
        db.execute("INSERT INTO bank_payment (id, serial, bank_id, kind, user_id, card_id, "
                   "amount, currency, state, client_request_id, day_cn, created_ms, "
                   "updated_ms) SELECT ?, ?, bank_id, 'credit', user_id, card_id, 150000, "
                   "currency, 'created', ?, day_cn, ?, ? FROM bank_payment WHERE user_id = ? "
                   "AND kind = 'debit'", pid, serial, w["id"], now, now, c.id)
        db.execute("UPDATE bank_withdrawal SET payment_id = ? WHERE id = ?", pid, w["id"])
    held = wallet(e, c)["held"]
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    assert e.sim.payment(serial)["status"] == "unknown"
    e.advance(61000)
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    e.s.post("/test/v1/bank/query")
    assert e.s.query("SELECT state, reason FROM bank_payment WHERE id = ?", pid) == \
        [{"state": "failed", "reason": "not_at_bank"}]
    assert (row(e, w["id"])["state"], row(e, w["id"])["reason"]) == ("failed", "not_at_bank")
    assert e.sim.payment(serial)["status"] == "unknown"  # never sent
    assert held == 150000 + fee(150000)
    assert wallet(e, c) == {"posted": 200000, "held": 0, "available": 200000}
    assert [x["id"] for x in credits(e, c)] == [pid]
    assert notices(e, c, "bank.withdrawal_failed") == 1


# ---- the second factor (moves the clock past the step-up window) -----------------


def test_above_stepup_over_a_withdrawal_needs_a_recent_step_up(env):
    """req: IAM-MFA-04 — know + have: above [bank] withdraw_stepup_over
    (50000 here) the payment PIN alone is not enough once the step-up
    window ([mfa] stepup_window, 300 s) has passed: 403 step_up_required,
    nothing changed and no PIN attempt counted (a wrong PIN gives the same
    answer); at the threshold the PIN suffices; after a fresh step-up one
    fen over passes."""
    e = env
    c = customer(e, funds=200000)
    e.advance(301000)
    before = snapshot(e, c)
    pin_rows = e.s.query("SELECT pay_failures, pay_locked_until_ms FROM iam_user WHERE id = ?", c.id)
    for pin in (PIN, "000000"):
        r = withdraw(c, 50001, pin=pin)
        assert r.status_code == 403, r.text
        assert err(r) == "step_up_required"
    assert snapshot(e, c) == before
    assert e.s.query("SELECT pay_failures, pay_locked_until_ms FROM iam_user WHERE id = ?", c.id) == pin_rows
    r = withdraw(c, 50000)
    assert r.status_code == 201, r.text
    e.s.clock(advance_ms=1)
    assert c.http.send_code("step_up", "sms").status_code == 202
    assert c.http.step_up("sms", sms_code(e.s, c.phone)).status_code == 200
    e.s.clock(advance_ms=1)
    r = withdraw(c, 50001)
    assert r.status_code == 201, r.text
    for w in c.http.get("/api/v1/me/withdrawals").json()["withdrawals"]:
        e.sim.settle(serial_of(e, w["id"]))


def test_ledger_verifies_at_the_end(env):
    """Every hold posted or voided balanced: `anfu ledger verify` passes."""
    e = env
    e.sim.settle()
    e.s.stop()
    out = e.s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# ---- the cut-off ([bank] withdraw_cutoff; a server of its own) -------------------

DAY_MS = 86400 * 1000
CN_MS = 8 * 3600 * 1000
CUTOFF_MS = 16 * 3600 * 1000  # "16:00" Asia/Shanghai


@pytest.fixture(scope="module")
def cut_env(tmp_path_factory):
    e = Env()
    e.sim = BankSim(tmp_path_factory.mktemp("cutbank"))
    cfg = e.sim.config(query_after_s=60, callback_window_s=3600, withdraw_cutoff="16:00",
                       **RULES)
    cfg["lockout"] = {"ip_failures": "10000"}
    e.s = Server(tmp_path_factory.mktemp("cut"), config=cfg).start()
    e.sim.peer(e.s)
    e.s.hold_jobs(*BANK_HOOK_JOBS)
    e.s.clock(freeze=True)  # only the tests move it: times to the millisecond
    yield e
    e.s.stop()
    e.sim.stop()
    e.s.assert_stopped_cleanly()


def move_to_cn(e, tod_ms):
    """Moves both clocks forward to the next tod_ms (ms after midnight,
    Asia/Shanghai); returns the time reached."""
    now = e.s.clock()
    delta = (tod_ms - (now + CN_MS) % DAY_MS) % DAY_MS
    if delta:
        e.advance(delta)
    now = e.s.clock()
    assert (now + CN_MS) % DAY_MS == tod_ms
    return now


def next_midnight_cn(now):
    return now - (now + CN_MS) % DAY_MS + DAY_MS


def test_before_the_cut_off_a_withdrawal_is_sent_at_once(cut_env):
    """req: FUNC-OPS-02 — approved one millisecond before the day's cut-off
    (16:00 Shanghai) the credit goes to the bank at once; its answer shows
    send_after_ms, the approval's time."""
    e = cut_env
    move_to_cn(e, CUTOFF_MS - 60 * 1000)
    c = customer(e, funds=20000)
    now = move_to_cn(e, CUTOFF_MS - 1)
    r = withdraw(c, 1000)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["state"], w["send_after_ms"]) == ("sent", now)
    assert e.sim.payment(serial_of(e, w["id"]))["amount"] == 1000
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}


def test_after_the_cut_off_it_waits_for_midnight_then_is_sent_once(cut_env):
    """req: FUNC-OPS-02, FUNC-OPS-03 — approved at the cut-off (16:00
    Shanghai) it stays approved, no payment, send_after_ms the next Shanghai
    midnight (shown to the customer); the send job leaves it alone until
    then, sends it once from midnight on; the bank's confirmation posts the
    hold."""
    e = cut_env
    move_to_cn(e, CUTOFF_MS - 60 * 1000)
    c = customer(e, funds=20000)
    now = move_to_cn(e, CUTOFF_MS)
    midnight = next_midnight_cn(now)
    r = withdraw(c, 1000)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["state"], w["send_after_ms"]) == ("approved", midnight)
    got = c.http.get("/api/v1/me/withdrawals/" + w["id"]).json()
    assert (got["state"], got["send_after_ms"]) == ("approved", midnight)
    assert (row(e, w["id"])["send_after_ms"], row(e, w["id"])["payment_id"]) == (midnight, "")
    assert credits(e, c) == []
    assert wallet(e, c)["held"] == 1000 + fee(1000)
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    e.advance(midnight - 1 - e.s.clock())  # 23:59:59.999
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    assert credits(e, c) == [] and row(e, w["id"])["state"] == "approved"
    e.advance(1)  # midnight
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 1, "sent": 1}
    assert e.s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    [p] = credits(e, c)
    assert row(e, w["id"])["state"] == "sent"
    assert e.sim.payment(p["serial"])["amount"] == 1000
    assert [cb["status"] for cb in e.sim.settle(p["serial"])] == [200]
    assert row(e, w["id"])["state"] == "succeeded"
    assert wallet(e, c) == {"posted": 20000 - 1000 - fee(1000), "held": 0,
                            "available": 20000 - 1000 - fee(1000)}
    assert actions(e, w["id"]) == ["bank.withdrawal.submitted", "bank.withdrawal.approved",
                                   "bank.withdrawal.sent", "bank.withdrawal.succeeded"]


@pytest.mark.parametrize("value", ["24:00", "16:60", "4:00", "16:00:00", "1600", ""])
def test_a_bad_cut_off_refuses_to_start(tmp_path, value):
    """req: FUNC-OPS-02 — [bank] withdraw_cutoff neither HH:MM (00:00..23:59)
    nor none: anfud refuses to start and says why."""
    # The value goes in after `anfu init` (on PostgreSQL init reads the
    # configuration it finds): the refusal to check is anfud's.
    s = Server(tmp_path)
    s.config = merge(s.config, {"bank": {"withdraw_cutoff": value}})
    write_config(s.data / "anfu.conf", s.config)
    rc = s.start(expect_fail=True)
    err = s.read_stderr()
    log = s.data / "log" / "anfud.log"
    err += log.read_text() if log.exists() else ""
    assert rc == 1, err
    assert "withdraw_cutoff" in err, err
    assert not (s.data / "run" / "anfud.json").exists()
