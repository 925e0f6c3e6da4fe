"""Refunds to the payer's bound card when their wallet cannot take them
(issue 11: "to another account of the payer when the original cannot take
it"; src/pay/refund.c card_in / card_result, src/bank/withdraw.c
anfu_bank_refund_credit_in; docs/payments.md "Refunds to a bound card",
docs/bank.md "Refund credits"), over HTTPS against a real anfud and the
real simulator bank.

One anfud and one simulator for the module; bank.query and
bank.withdraw_send are held (driven by their test hooks). The merchant
mch_rc charges 60 bps; refund_auto_max is 9000 fen (the rules approve the
refunds up to it at once; one test goes through an operator). Each test has customers of its own,
with a bound card (the simulator's) and a wallet that is then closed
(emptied by the payment first) or frozen.
"""
import itertools
import uuid

import pytest

from banksim import BankSim
from conftest import Server
from iam import login_customer, register, sms_to
from pay import create_order, err, make_desk, merchant_user, register_merchant
from test_bank_topup import BANK_HOOK_JOBS, IDNO, NAME, bind, topup
from test_pay_general import pay
from test_pay_refund import ledger_move
from test_wallet_transfers import PIN, credit, step_up

SEQ = itertools.count(1)
AUTO_MAX = 9000  # every refund here up to it executes at once


def card_desk(tmp_path_factory, prefix, **pay):
    """The server of these tests (a generator for a module-scoped fixture;
    prefix: make_desk's, unique per test module that uses it; pay: [pay]
    options instead of these tests')."""
    sim = BankSim(tmp_path_factory.mktemp("rcbank"))
    # One withdrawal a day: a refund credit must not use it up.
    cfg = sim.config(query_after_s=60, callback_window_s=3600, withdraw_min=100,
                     withdraw_daily_count=1, withdraw_stepup_over=100000000)
    cfg.update({"lockout": {"ip_failures": "10000"},
                "pay": {"expire_interval_s": "86400", "refund_auto_max": str(AUTO_MAX),
                        "refund_four_eyes_min": "2000000", "refund_retry_interval_s": "600",
                        **pay},
                "wallet": {"sms_confirm_over": "100000000000"}})
    s = Server(tmp_path_factory.mktemp("payrc"), config=cfg,
               init_args=("--admin", "opsadmin")).start()
    sim.peer(s)
    s.hold_jobs(*BANK_HOOK_JOBS)
    d = make_desk(s, prefix)
    d.sim = sim
    register_merchant(d, "mch_rc", fee_bps=60)
    d.boss = merchant_user(d, "mch_rc")
    # The bank's reserve holds what customers topped up: one real top-up,
    # so that the credits the tests pay out are covered (as in production).
    funder = customer(d, funds=0)
    r = topup(funder.http, funder.card, 50000, "rc-reserve")
    assert r.status_code == 201, r.text
    ser = s.query("SELECT serial FROM bank_payment WHERE id = ?", r.json()["id"])[0]["serial"]
    assert [cb["status"] for cb in sim.settle(ser)] == [200]
    yield d
    s.stop()
    sim.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    yield from card_desk(tmp_path_factory, "payrc")


class Customer:
    pass


def customer(d, funds, card=True, lang=None):
    """A customer with a payment PIN, funds in the wallet and (card) a
    card bound through the simulator; lang: the account's language
    (register's)."""
    s = d.s
    _, phone = register(s, real_name=NAME, id_number=IDNO, lang=lang)
    c = Customer()
    c.phone = phone
    c.http = login_customer(s, phone, device="rc-%d" % next(SEQ))
    c.id = c.http.get("/api/v1/me").json()["user"]["id"]
    step_up(s, c)
    r = c.http.post("/api/v1/me/payment-password", {"pin": PIN})
    assert r.status_code == 204, r.text
    c.number = c.card = c.masked = None
    if card:
        c.number, c.card = bind(s, d.sim, c.http)
        c.masked = [k for k in c.http.get("/api/v1/me/cards").json()["cards"]
                    if k["id"] == c.card][0]["card"]
    if funds:
        credit(s, c, funds)
    return c


def paid_order(d, c, amount):
    o = create_order(d.boss, amount=amount)
    r = pay(c, o["id"])
    assert r.status_code == 201, r.text
    return o


def wallet_state(d, c, state):
    r = d.s.post("/test/v1/wallet/state", {"user_id": c.id, "state": state})
    assert r.status_code == 200 and r.json()["code"] is None, r.text


def refund(d, order_id, amount, no=None):
    return d.boss.post("/api/v1/merchant/orders/%s/refunds" % order_id, {
        "out_refund_no": no or "R" + uuid.uuid4().hex[:20], "amount": amount,
        "currency": "CNY", "reason": "七天无理由退货"})


def acct(d, kind, owner):
    [a] = d.s.query("SELECT * FROM ledger_account WHERE kind = ? AND owner_id = ?", kind, owner)
    return a


def books(d):
    """The merchant's balance (posted, held), the bank's clearing account
    (posted, pending), the reserve, the platform's fee income."""
    m = acct(d, "merchant_pending", "mch_rc")
    k = acct(d, "bank_clearing", "sim")
    r = acct(d, "bank_reserve", "sim")
    f = acct(d, "platform_fee", "platform")
    return {"merchant": m["credits_posted"] - m["debits_posted"],
            "merchant_held": m["debits_pending"],
            "clearing": k["credits_posted"] - k["debits_posted"],
            "clearing_pending": k["credits_pending"],
            "reserve": r["debits_posted"] - r["credits_posted"],
            "fee": f["credits_posted"] - f["debits_posted"]}


def moved(b0, **delta):
    return {k: v + delta.get(k, 0) for k, v in b0.items()}


def credit_row(d, refund_id):
    return d.s.query("SELECT * FROM bank_withdrawal WHERE refund_id = ?", refund_id)


def serial(d, w):
    return d.s.query("SELECT serial FROM bank_payment WHERE id = ?",
                     w["payment_id"])[0]["serial"]


def refund_row(d, refund_id):
    return d.s.query("SELECT * FROM pay_refund WHERE id = ?", refund_id)[0]


def order_state(d, order_id):
    return d.s.query("SELECT state FROM pay_order WHERE id = ?", order_id)[0]["state"]


def actions(d, oid):
    return [a["action"] for a in d.s.audit() if a["object_id"] == oid]


def snapshot(d):
    """What a refusal must leave as it was."""
    s = d.s
    return (books(d),
            s.query("SELECT id, state FROM pay_refund ORDER BY id"),
            s.query("SELECT id, state FROM pay_order ORDER BY id"),
            s.query("SELECT count(*) AS n FROM bank_withdrawal")[0]["n"],
            s.query("SELECT count(*) AS n FROM bank_payment")[0]["n"],
            s.query("SELECT count(*) AS n FROM ledger_transfer")[0]["n"],
            s.query("SELECT count(*) AS n FROM audit_log WHERE action LIKE 'pay.refund.%' "
                    "OR action LIKE 'bank.withdrawal.%'")[0]["n"])


def test_a_refund_to_a_closed_wallet_is_paid_to_the_bound_card(d):
    """The payer's wallet closed, a bound card: the fee back and a hold of
    the amount on the merchant's balance into the bank's clearing account
    (as a withdrawal holds the wallet) and the refund is `sending`,
    destination card, the card masked; not the customer's withdrawal (not
    in their list); its amount counts against the amount paid. The bank
    pays: the hold posted, clearing -> reserve,
    the refund succeeded, the order partially_refunded, the receipt names the
    card. The same refund number answers the same refund at every step.
    req: FUNC-SETL-08, FUNC-SETL-10"""
    s = d.s
    c = customer(d, funds=10000)
    o = paid_order(d, c, 10000)  # fee 60 at 60 bps
    wallet_state(d, c, "closed")
    b0 = books(d)
    no = "RC-" + uuid.uuid4().hex[:12]
    r = refund(d, o["id"], 4000, no=no)
    assert r.status_code == 201, r.text
    x = r.json()
    assert x["state"] == "sending" and x["destination"] == "card", x
    assert x["card"] == c.masked and x["fee_back"] == 24
    [w] = credit_row(d, x["id"])
    assert (w["state"], w["amount"], w["fee"], w["review"], w["user_id"], w["card_id"]) == \
        ("sent", 4000, 0, "auto", c.id, c.card)
    assert w["hold_account"] == acct(d, "merchant_pending", "mch_rc")["id"]
    assert x["ledger_transfer"] == w["hold_id"]
    # The fee back and the hold as one chain: the hold may use the fee back.
    assert books(d) == moved(b0, merchant=24, merchant_held=4000, clearing_pending=4000,
                             fee=-24)
    assert d.sim.payment(serial(d, w))["amount"] == 4000
    r = c.http.get("/api/v1/me/withdrawals")
    assert r.status_code == 200 and r.json()["withdrawals"] == [], r.text
    assert c.http.get("/api/v1/me/withdrawals/" + w["id"]).status_code == 404
    assert order_state(d, o["id"]) == "paid"
    # While it is sending its amount counts: one fen over the rest is refused.
    before = snapshot(d)
    r = refund(d, o["id"], 6001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d) == before
    # The same number while the bank pays: the same refund, nothing new.
    again = refund(d, o["id"], 4000, no=no)
    assert again.status_code == 200 and again.json()["id"] == x["id"], again.text
    assert again.json()["existed"] is True and len(credit_row(d, x["id"])) == 1
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    got = d.boss.get("/api/v1/merchant/refunds/" + x["id"]).json()
    assert got["state"] == "succeeded" and got["fee_back"] == 24, got
    assert got["destination"] == "card" and got["card"] == c.masked
    assert credit_row(d, x["id"])[0]["state"] == "succeeded"
    assert books(d) == moved(b0, merchant=-4000 + 24, reserve=-4000, fee=-24)
    assert order_state(d, o["id"]) == "partially_refunded"
    acts = actions(d, x["id"])
    for a in ("pay.refund.applied", "pay.refund.approved", "pay.refund.sending",
              "pay.refund.succeeded"):
        assert acts.count(a) == 1, (a, acts)
    # After the round trip: still the same refund, nothing moves.
    before = snapshot(d)
    again = refund(d, o["id"], 4000, no=no)
    assert again.status_code == 200 and again.json()["state"] == "succeeded", again.text
    assert snapshot(d) == before
    r = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"])
    assert r.status_code == 200, r.text
    body = r.json()["body"]
    assert body["amount"] == 4000 and body["ledger_transfers"] == [w["hold_id"]]
    assert body["payee"]["type"] == "customer" and c.masked in body["payee"].values(), body


def test_a_wallet_frozen_for_credits_sends_the_refund_to_the_card(d):
    """A frozen wallet refuses credits: the refund goes to the bound card
    the same way and succeeds when the bank pays; the wallet never moves.
    req: FUNC-SETL-08"""
    s = d.s
    c = customer(d, funds=6000)
    o = paid_order(d, c, 5000)
    wallet_state(d, c, "frozen")
    wal = acct(d, "customer_wallet", c.id)
    x = refund(d, o["id"], 5000).json()
    assert x["state"] == "sending" and x["destination"] == "card", x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "refunded"
    assert acct(d, "customer_wallet", c.id) == wal


def test_the_bank_declines_the_money_is_the_merchants_again_and_the_refund_failed(d):
    """The bank refuses the credit at once: the hold voided and the fee back
    returned (merchant, clearing, reserve, fee as before), the refund failed, the order as it
    was; the amount counts no more, so a new refund number for it passes
    (here the bank pays the second). req: FUNC-SETL-08, FUNC-SETL-10"""
    s = d.s
    c = customer(d, funds=8000)
    o = paid_order(d, c, 8000)
    wallet_state(d, c, "closed")
    d.sim.behaviour(c.number, "decline", once=True)
    b0 = books(d)
    r = refund(d, o["id"], 8000)
    assert r.status_code == 201, r.text
    x = r.json()
    assert x["state"] == "failed" and x["destination"] == "card", x
    assert credit_row(d, x["id"])[0]["state"] == "failed"
    assert books(d) == b0
    assert order_state(d, o["id"]) == "paid"
    assert actions(d, x["id"]).count("pay.refund.failed") == 1
    # A new number for the whole amount: the failed one reserves nothing.
    y = refund(d, o["id"], 8000).json()
    assert y["state"] == "sending", y
    [w] = credit_row(d, y["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, y["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "refunded"
    assert books(d) == moved(b0, merchant=-8000 + 48, reserve=-8000, fee=-48)


def test_a_failure_reported_later_returns_the_money_to_the_merchant(d):
    """The bank takes the credit, then reports it failed: the hold voided,
    the fee back returned, the refund failed. req: FUNC-SETL-08"""
    c = customer(d, funds=3000)
    o = paid_order(d, c, 3000)
    wallet_state(d, c, "closed")
    d.sim.behaviour(c.number, "fail", once=True)
    b0 = books(d)
    x = refund(d, o["id"], 1000).json()
    assert x["state"] == "sending", x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert credit_row(d, x["id"])[0]["state"] == "returned"
    assert refund_row(d, x["id"])["state"] == "failed"
    assert books(d) == b0 and order_state(d, o["id"]) == "paid"


FAILED = "pay.refund_card_failed"


def failed_notices(d, c):
    """The payer's notices that a refund's card credit failed."""
    return d.s.query("SELECT id FROM notify_message WHERE kind = ? AND user_id = ?",
                     FAILED, c.id)


def failed_texts(d, c, words):
    """The SMS texts to c naming the masked card and words (waits for one)."""
    return [t for t in sms_to(d.s, c.phone, min_count=1) if c.masked in t and words in t]


def test_a_failed_card_credit_tells_the_payer_once_in_their_language(d):
    """The bank declines the credit at once (a payer whose account is in
    Chinese) or reports it failed later (one in English): one notice
    pay.refund_card_failed each to the payer, in their language, naming
    the amount, the order and the masked card (never the full number),
    saying the money went back to the merchant. req: FUNC-OPS-05,
    TX-NOTIF-01"""
    c = customer(d, funds=8000, lang="zh-CN")
    o = paid_order(d, c, 8000)
    wallet_state(d, c, "closed")
    d.sim.behaviour(c.number, "decline", once=True)
    x = refund(d, o["id"], 8000).json()
    assert x["state"] == "failed", x
    assert len(failed_notices(d, c)) == 1
    texts = failed_texts(d, c, "未成功")
    assert len(texts) == 1, sms_to(d.s, c.phone)
    t = texts[0]
    assert "80.00 元" in t and o["id"] in t and "款项已退回商户" in t, t
    assert c.number not in t, t
    e = customer(d, funds=3000)
    p = paid_order(d, e, 3000)
    wallet_state(d, e, "frozen")
    d.sim.behaviour(e.number, "fail", once=True)
    y = refund(d, p["id"], 1500).json()
    assert y["state"] == "sending", y
    assert failed_notices(d, e) == []
    [w] = credit_row(d, y["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, y["id"])["state"] == "failed"
    assert len(failed_notices(d, e)) == 1
    texts = failed_texts(d, e, "did not go through")
    assert len(texts) == 1, sms_to(d.s, e.phone)
    t = texts[0]
    assert "CNY 15.00" in t and p["id"] in t and "went back to the merchant" in t, t
    assert e.number not in t and "escrow" not in t, t


def test_a_paid_card_credit_sends_no_failure_notice(d):
    """The bank pays the credit: the refund succeeded and the payer gets the
    one notice of the refund to the card, none of a failure.
    req: FUNC-OPS-05"""
    c = customer(d, funds=2000)
    o = paid_order(d, c, 2000)
    wallet_state(d, c, "closed")
    x = refund(d, o["id"], 2000).json()
    assert x["state"] == "sending", x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert failed_notices(d, c) == []
    assert len(d.s.query("SELECT id FROM notify_message WHERE user_id = ? AND kind LIKE "
                         "'pay.refund%'", c.id)) == 1


def test_a_failure_the_bank_reports_twice_tells_the_payer_once(d):
    """The bank fails the credit (the card cannot take it) and sends its
    answer twice: the refund failed once, one pay.refund_card_failed
    notice; settling again sends nothing and changes nothing.
    req: FUNC-OPS-05"""
    c = customer(d, funds=4000)
    o = paid_order(d, c, 4000)
    wallet_state(d, c, "closed")
    # The card's balance so low that the bank's credit fails; its answers twice.
    d.sim.add_card(c.number, NAME, IDNO, "13900001111", balance=-10**12)
    d.sim.behaviour(c.number, "twice", once=True)
    x = refund(d, o["id"], 4000).json()
    assert x["state"] == "sending", x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200, 200]
    assert refund_row(d, x["id"])["state"] == "failed"
    assert actions(d, x["id"]).count("pay.refund.failed") == 1
    assert len(failed_notices(d, c)) == 1
    assert d.sim.settle(serial(d, w)) == []
    assert len(failed_notices(d, c)) == 1
    assert len(failed_texts(d, c, "did not go through")) == 1


def test_no_bound_card_keeps_the_refusal_and_changes_nothing(d):
    """No bound card (never bound, or unbound): a closed wallet refuses with
    account_closed, a frozen one with account_frozen, as before; nothing is
    written (refunds, credits, payments, transfers, records).
    req: FUNC-SETL-08"""
    c = customer(d, funds=2000, card=False)
    o = paid_order(d, c, 2000)
    wallet_state(d, c, "frozen")
    before = snapshot(d)
    r = refund(d, o["id"], 500)
    assert r.status_code == 409 and err(r) == "account_frozen", r.text
    assert snapshot(d) == before
    wallet_state(d, c, "closed")
    before = snapshot(d)
    r = refund(d, o["id"], 500)
    assert r.status_code == 409 and err(r) == "account_closed", r.text
    assert snapshot(d) == before
    # A card bound, then unbound: the same refusal.
    u = customer(d, funds=2000)
    o = paid_order(d, u, 2000)
    assert u.http.delete("/api/v1/me/cards/" + u.card).status_code in (200, 204)
    wallet_state(d, u, "closed")
    before = snapshot(d)
    r = refund(d, o["id"], 500)
    assert r.status_code == 409 and err(r) == "account_closed", r.text
    assert snapshot(d) == before


def test_an_operator_approves_a_refund_the_wallet_cannot_take_and_it_goes_to_the_card(d):
    """Above refund_auto_max the refund waits for an operator; the payer's
    wallet closed meanwhile: the approval sends it to the bound card
    (sending), the bank pays, it succeeds. req: FUNC-SETL-08, FUNC-OPS-04"""
    c = customer(d, funds=9500)
    o = paid_order(d, c, 9500)
    x = refund(d, o["id"], AUTO_MAX + 1).json()
    assert x["state"] == "reviewing", x
    wallet_state(d, c, "closed")
    r = d.op.post("/admin/v1/refunds/%s/approve" % x["id"], {})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "sending" and r.json()["card"] == c.masked, r.text
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "partially_refunded"


def test_a_customers_request_the_merchant_accepts_goes_to_the_card(d):
    """The payer asks for a refund, then their wallet is closed; the
    merchant accepts (within the rules: executed at once): to the bound
    card, paid by the bank. req: FUNC-SETL-08"""
    c = customer(d, funds=2500)
    o = paid_order(d, c, 2500)
    r = c.http.post("/api/v1/me/orders/%s/refund-requests" % o["id"],
                    {"amount": 2500, "currency": "CNY", "reason": "不想要了"})
    assert r.status_code == 201, r.text
    wallet_state(d, c, "closed")
    r = d.boss.post("/api/v1/merchant/refunds/%s/accept" % r.json()["id"], {})
    assert r.status_code == 200, r.text
    x = r.json()
    assert x["state"] == "sending" and x["destination"] == "card", x
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert order_state(d, o["id"]) == "refunded"


def test_a_refund_credit_is_not_the_customers_withdrawal(d):
    """A card refund paid, the wallet unfrozen: the customer's one
    withdrawal of the day ([bank] withdraw_daily_count = 1) still passes,
    and their list shows that withdrawal only. req: FUNC-PAY-09"""
    c = customer(d, funds=6000)
    o = paid_order(d, c, 3000)
    wallet_state(d, c, "frozen")
    x = refund(d, o["id"], 3000).json()
    [w] = credit_row(d, x["id"])
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    wallet_state(d, c, "normal")
    r = c.http.post("/api/v1/me/withdrawals", {
        "card_id": c.card, "amount": 1000, "currency": "CNY", "request_id": "rc-wd-1",
        "payment_pin": PIN})
    assert r.status_code == 201, r.text
    got = c.http.get("/api/v1/me/withdrawals").json()["withdrawals"]
    assert [g["id"] for g in got] == [r.json()["id"]]


def test_a_lost_answer_is_resolved_by_the_query_never_sent_twice(d):
    """The bank's answer lost (a timeout: as if anfud crashed after the
    send): the credit's payment unknown, the refund sending; the send job
    sends nothing again; the query finds it at the bank, its confirmation
    ends the refund once; the bank saw one request. Moves the clock: last.
    req: FUNC-SETL-08"""
    s = d.s
    c = customer(d, funds=7000)
    o = paid_order(d, c, 7000)
    wallet_state(d, c, "closed")
    d.sim.behaviour(c.number, "timeout", once=True)
    b0 = books(d)
    x = refund(d, o["id"], 7000).json()
    assert x["state"] == "sending", x
    [w] = credit_row(d, x["id"])
    ser = serial(d, w)
    assert s.query("SELECT state FROM bank_payment WHERE serial = ?",
                   ser)[0]["state"] == "unknown"
    assert s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    s.clock(advance_ms=61000)
    d.sim.clock(61000)
    assert s.post("/test/v1/bank/withdraw-send").json() == {"due": 0, "sent": 0}
    assert s.post("/test/v1/bank/query").json()["queried"] >= 1
    assert [cb["status"] for cb in d.sim.settle(ser)] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert books(d) == moved(b0, merchant=-7000 + 42, reserve=-7000, fee=-42)
    assert s.query("SELECT count(*) AS n FROM bank_payment WHERE user_id = ? AND kind = "
                   "'credit'", c.id)[0]["n"] == 1
    assert actions(d, x["id"]).count("pay.refund.succeeded") == 1


def test_a_refund_waiting_for_funds_goes_to_the_card_when_the_wallet_closed_meanwhile(d):
    """The merchant's balance short: the refund waits (waiting_funds),
    nothing moves. The payer's wallet is closed meanwhile. While the balance
    is still short the job leaves it waiting (the card's hold is short too:
    no credit, nothing moves). Once the merchant has the money again the job
    pay.refund_retry (held; run through its hook) sends it to the bound card
    (waiting_funds -> sending, the fee back and the hold as one chain), the
    bank pays, it succeeds; the wallet never moves.
    req: FUNC-OPS-05, FUNC-SETL-08"""
    s = d.s
    s.hold_jobs("pay.refund_retry")
    c = customer(d, funds=5000)
    sink = customer(d, funds=0, card=False)
    o = paid_order(d, c, 5000)  # fee 30 at 60 bps
    b = books(d)
    short = b["merchant"] - b["merchant_held"]  # all the merchant may spend
    mch = acct(d, "merchant_pending", "mch_rc")["id"]
    out = acct(d, "customer_wallet", sink.id)["id"]
    ledger_move(s, "rc-drain-" + o["id"], mch, out, short)
    b0 = books(d)
    r = refund(d, o["id"], 3000)
    assert r.status_code == 201, r.text
    x = r.json()
    assert x["state"] == "waiting_funds" and x["fee_back"] == 0, x
    assert books(d) == b0 and credit_row(d, x["id"]) == []
    wallet_state(d, c, "closed")
    wal = acct(d, "customer_wallet", c.id)
    # Still short: the card's hold is short as well; nothing moves.
    before = snapshot(d)
    r = s.post("/test/v1/pay/refund-retry")
    assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
    assert snapshot(d) == before
    assert refund_row(d, x["id"])["state"] == "waiting_funds"
    # The merchant has its money again: the job sends the refund to the card.
    ledger_move(s, "rc-back-" + o["id"], out, mch, short)
    b1 = books(d)
    r = s.post("/test/v1/pay/refund-retry")
    assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text  # sending, not yet paid
    y = refund_row(d, x["id"])
    assert (y["state"], y["destination"], y["card"], y["fee_back"]) == \
        ("sending", "card", c.masked, 18), y
    [w] = credit_row(d, x["id"])
    assert (w["state"], w["amount"], w["user_id"], w["card_id"], w["id"]) == \
        ("sent", 3000, c.id, c.card, y["withdrawal_id"])
    assert y["ledger_id"] == w["hold_id"]
    assert books(d) == moved(b1, merchant=18, merchant_held=3000, clearing_pending=3000,
                             fee=-18)
    assert order_state(d, o["id"]) == "paid"
    # Another run finds nothing waiting: it sends nothing twice.
    r = s.post("/test/v1/pay/refund-retry")
    assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
    assert len(credit_row(d, x["id"])) == 1
    assert [cb["status"] for cb in d.sim.settle(serial(d, w))] == [200]
    assert refund_row(d, x["id"])["state"] == "succeeded"
    assert credit_row(d, x["id"])[0]["state"] == "succeeded"
    assert books(d) == moved(b1, merchant=-3000 + 18, reserve=-3000, fee=-18)
    assert order_state(d, o["id"]) == "partially_refunded"
    assert acct(d, "customer_wallet", c.id) == wal
    acts = actions(d, x["id"])
    for a in ("pay.refund.waiting_funds", "pay.refund.sending", "pay.refund.succeeded"):
        assert acts.count(a) == 1, (a, acts)
    s.release_jobs("pay.refund_retry")

