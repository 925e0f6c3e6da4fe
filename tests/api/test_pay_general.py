"""General payment (FUNC-PAY-01), over HTTPS against a real anfud
(src/pay/payment.c; handler src/pay/api/customer.c; docs/payments.md).

One server for the module (tests/api/pay.py, make_desk) with the default
[wallet] limits (PIN alone: 100000 fen a payment and a day) and [pay]
second_factor_fresh_s = 300. Customers come from the wallet tests' helper
(a step-up, the PIN, funds through the wallet's test hook); a test that
needs the PIN-only method moves the clock past the step-up's freshness.
"Nothing changed" on a refusal is checked on balances, pay's and the
ledger's rows and the audit records.
"""
import json
import uuid

import pytest

from iam import sms_code
from pay import (create_order, err, ledger_balance, make_desk, merchant_user,
                 order_state as state_of, pay_order as pay, register_merchant, row_counts,
                 start_server, stop_server)
from test_wallet_transfers import PIN, balance, customer, step_up

FRESH_MS = 300_000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "paygeneral")
    d = make_desk(s, "paygen")
    register_merchant(d, "mch_pay", fee_bps=60)
    register_merchant(d, "mch_free", fee_bps=0)
    d.boss = merchant_user(d, "mch_pay")
    d.free = merchant_user(d, "mch_free")
    yield d
    stop_server(s)


def account(s, kind, owner_id):
    return ledger_balance(s, kind, owner_id)[0]


def fee_income(s):
    return account(s, "platform_fee", "platform")


def snapshot(d, c):
    s = d.s
    return (balance(c), account(s, "merchant_pending", "mch_pay"), fee_income(s),
            *row_counts(s, "pay_payment", "ledger_transfer",
                        "pay_order WHERE state <> 'created'"),
            len(s.audit("pay.order.paid")))


def test_a_general_payment_moves_the_money_and_the_fee(d):
    """Wallet -> merchant (amount), merchant -> platform fee (0.6%, half up)
    as one linked chain; the order is paid, audited, the payer noticed;
    the same request id answers the same payment. req: FUNC-PAY-01, FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=20000)
    o = create_order(d.boss, amount=10084)
    merchant0, fee0 = account(s, "merchant_pending", "mch_pay"), fee_income(s)
    rid = uuid.uuid4().hex
    r = pay(c, o["id"], rid)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["amount"] == 10084 and p["fee"] == 61 and p["existed"] is False
    assert p["auth"] == "pin_otp"  # the customer's step-up is fresh
    assert balance(c) == 20000 - 10084
    assert account(s, "merchant_pending", "mch_pay") == merchant0 + 10084 - 61
    assert fee_income(s) == fee0 + 61
    trf = s.query("SELECT idem_key, amount, code, flags FROM ledger_transfer WHERE ref = ? "
                  "ORDER BY seq", o["id"])
    assert [(t["idem_key"], t["amount"], t["code"]) for t in trf] == \
        [("pay.%s" % o["id"], 10084, "payment"), ("pay.%s.fee" % o["id"], 61, "fee")]
    assert trf[0]["flags"] & 1 and not trf[1]["flags"] & 1  # linked chain
    got = d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()
    assert got["state"] == "paid" and got["fee"] == 61 and got["payment_id"] == p["id"]
    rec = [json.loads(a["details"]) for a in s.audit("pay.order.paid")
           if a["object_id"] == o["id"]]
    assert len(rec) == 1 and rec[0]["amount"] == 10084 and rec[0]["fee"] == 61
    assert rec[0]["payer"] == c.id
    n = s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'pay.paid' AND user_id = ?", c.id)[0]["n"]
    assert n >= 1
    before = snapshot(d, c)
    r = pay(c, o["id"], rid)
    assert r.status_code == 200 and r.json()["existed"] is True and r.json()["id"] == p["id"]
    assert snapshot(d, c) == before
    # Another request for the paid order: refused, nothing moves.
    r = pay(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_paid", r.text
    # The same request id for another order: a conflict.
    o2 = create_order(d.boss, amount=5)
    r = pay(c, o2["id"], rid)
    assert r.status_code == 409 and err(r) == "idempotency_conflict", r.text
    assert snapshot(d, c) == before


def test_a_zero_fee_posts_no_fee_transfer_and_one_fen_pays(d):
    """0 bps: no fee transfer; 1 fen at 60 bps: 0.006 fen rounds to none."""
    s = d.s
    c = customer(s, funds=100)
    o = create_order(d.free, amount=50)
    r = pay(c, o["id"])
    assert r.status_code == 201 and r.json()["fee"] == 0 and \
        r.json()["fee_ledger_transfer"] is None, r.text
    assert s.query("SELECT COUNT(*) AS n FROM ledger_transfer WHERE ref = ?",
                   o["id"])[0]["n"] == 1
    o = create_order(d.boss, amount=1)
    r = pay(c, o["id"])
    assert r.status_code == 201 and r.json()["fee"] == 0, r.text
    assert balance(c) == 49


def test_a_paid_order_cannot_be_cancelled_and_others_do_not_see_it(d):
    """req: FUNC-PAY-06"""
    s = d.s
    c = customer(s, funds=1000)
    o = create_order(d.boss, amount=100)
    assert pay(c, o["id"]).status_code == 201
    r = d.boss.post("/api/v1/merchant/orders/%s/cancel" % o["id"])
    assert r.status_code == 409 and err(r) == "order_paid", r.text
    assert state_of(d, o["id"]) == "paid"
    got = c.http.get("/api/v1/me/orders/%s" % o["id"]).json()
    assert got["state"] == "paid" and got["paid_by_me"] is True
    other = customer(s, funds=1000)
    r = other.http.get("/api/v1/me/orders/%s" % o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found"
    before = snapshot(d, other)
    r = pay(other, o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    assert snapshot(d, other) == before


def test_refusals_change_nothing(d):
    """Insufficient funds, a wrong PIN, a closed order, an agreement order, a
    disabled merchant: each refused with its code; no balance, row or
    record changes."""
    s = d.s
    c = customer(s, funds=100)
    big = create_order(d.boss, amount=101)
    closed = create_order(d.boss, amount=10)
    assert d.boss.post("/api/v1/merchant/orders/%s/cancel" % closed["id"]).status_code == 200
    escrow = create_order(d.boss, amount=10, kind="agreement")
    before = snapshot(d, c)
    r = pay(c, big["id"])
    assert r.status_code == 409 and err(r) == "insufficient_funds", r.text
    r = pay(c, big["id"], pin="000000")
    assert r.status_code == 403 and err(r) == "payment_password_invalid", r.text
    r = pay(c, closed["id"])
    assert r.status_code == 409 and err(r) == "order_closed", r.text
    r = pay(c, escrow["id"])
    assert r.status_code == 409 and err(r) == "payment_kind_unsupported", r.text
    r = c.http.post("/api/v1/me/orders/ord_nosuchorder00000000000/pay",
                    {"payment_password": PIN, "request_id": "x1"})
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = c.http.post("/api/v1/me/orders/%s/pay" % big["id"],
                    {"payment_password": PIN, "request_id": "x2", "amount": 1})
    assert r.status_code == 400 and err(r) == "unknown_field"
    assert snapshot(d, c) == before
    assert state_of(d, big["id"]) == "created"
    register_merchant(d, "mch_paused")
    paused = merchant_user(d, "mch_paused")
    o = create_order(paused, amount=10)
    assert d.op.req("PATCH", "/admin/v1/merchants/mch_paused",
                    {"state": "disabled"}).status_code == 200
    r = pay(c, o["id"])
    assert r.status_code == 409 and err(r) == "merchant_disabled", r.text
    assert snapshot(d, c) == before
    # A merchant user is no payer.
    r = d.boss.post("/api/v1/me/orders/%s/pay" % big["id"],
                    {"payment_password": PIN, "request_id": "x3"})
    assert r.status_code == 403


def test_an_order_is_unpayable_from_its_expiry_even_before_the_job(d):
    """A millisecond before expires_ms it pays; at expires_ms it is refused
    (order_expired) though the expiry job has not closed it."""
    s = d.s
    c = customer(s, funds=1000)
    early = create_order(d.boss, amount=10, ttl_s=60)
    late = create_order(d.boss, amount=10, ttl_s=60)
    now = s.clock(advance_ms=0)
    s.clock(advance_ms=early["expires_ms"] - 1 - now)
    assert pay(c, early["id"]).status_code == 201
    s.clock(advance_ms=late["expires_ms"] - early["expires_ms"] + 1)
    before = snapshot(d, c)
    r = pay(c, late["id"])
    assert r.status_code == 409 and err(r) == "order_expired", r.text
    assert state_of(d, late["id"]) == "created"
    assert snapshot(d, c) == before


def test_above_the_pin_only_limit_a_fresh_second_factor_is_needed(d):
    """The PIN alone pays up to pin_single_max (100000 fen); above it,
    without a second factor within second_factor_fresh_s: step_up_required
    and nothing moves; after a step-up it pays, recorded as pin_otp.
    req: RISK-LIM-01, RISK-LIM-02"""
    s = d.s
    c = customer(s, funds=300000)
    small = create_order(d.boss, amount=100000)
    large = create_order(d.boss, amount=100001, ttl_s=3600)
    s.clock(advance_ms=FRESH_MS + 1)
    r = pay(c, small["id"])
    assert r.status_code == 201 and r.json()["auth"] == "pin", r.text
    before = snapshot(d, c)
    r = pay(c, large["id"])
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert snapshot(d, c) == before
    step_up(s, c)
    r = pay(c, large["id"])
    assert r.status_code == 201 and r.json()["auth"] == "pin_otp", r.text
    assert balance(c) == 300000 - 200001


def test_a_customer_cancels_an_unpaid_order_but_not_a_paid_one(d):
    """req: FUNC-PAY-06"""
    s = d.s
    c = customer(s, funds=1000)
    o = create_order(d.boss, amount=100)
    r = c.http.post("/api/v1/me/orders/%s/cancel" % o["id"])
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    rec = [json.loads(a["details"]) for a in s.audit("pay.order.cancelled")
           if a["object_id"] == o["id"]]
    assert rec == [{"merchant": "mch_pay", "from": "created", "to": "closed"}]
    before = snapshot(d, c)
    r = pay(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_closed", r.text
    assert snapshot(d, c) == before
    paid = create_order(d.boss, amount=100)
    assert pay(c, paid["id"]).status_code == 201
    before = snapshot(d, c)
    r = c.http.post("/api/v1/me/orders/%s/cancel" % paid["id"])
    assert r.status_code == 409 and err(r) == "order_paid", r.text
    other = customer(s, pin=False)
    r = other.http.post("/api/v1/me/orders/%s/cancel" % paid["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    assert state_of(d, paid["id"]) == "paid"
    assert snapshot(d, c) == before
    r = d.boss.post("/api/v1/me/orders/%s/cancel" % o["id"])
    assert r.status_code == 403


def test_a_frozen_wallet_pays_nothing_and_the_limit_usage_stays(d):
    """The ledger's refusal inside the command undoes the command: no
    transfer, no payment row, the order still payable, the day's limit
    usage not taken (the wallet's row written in the same command)."""
    s = d.s
    c = customer(s, funds=1000)
    o = create_order(d.boss, amount=100)
    used = s.query("SELECT COALESCE(SUM(used), 0) AS n FROM wallet_limit_usage "
                   "WHERE user_id = ?", c.id)[0]["n"]
    assert s.post("/test/v1/wallet/state", {"user_id": c.id, "state": "frozen"}).json()[
        "code"] is None
    before = snapshot(d, c)
    r = pay(c, o["id"])
    assert r.status_code == 409 and err(r) == "account_frozen", r.text
    assert snapshot(d, c) == before
    assert state_of(d, o["id"]) == "created"
    assert s.query("SELECT COALESCE(SUM(used), 0) AS n FROM wallet_limit_usage "
                   "WHERE user_id = ?", c.id)[0]["n"] == used
