"""A payment-code collection without the PIN and an agreement debit make
their order AND pay it in ONE ledger writer command (src/pay/payment.c
pay_order_pay; docs/payments.md, "Payment code", "Agreement payment").

A refusal inside that command (the ledger's insufficient_funds or
account_frozen, the code used by a racing till) leaves nothing: no order
(the merchant's query by out_trade_no finds none), no line, no
"pay.order.created" record, the code still live, the agreement's usage
untouched, no transfer, balances unchanged. A retry with the same
out_trade_no then pays with exactly one order and one payment, and a retry
after that success answers the same order (existed) and changes nothing.
"""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from pay import (err, ledger_balance, make_desk, merchant_user, register_merchant,
                 row_counts, start_server, stop_server)
from test_pay_agreement import debit, sign
from test_pay_paycode import collect, issue
from test_wallet_transfers import balance, credit, customer

MERCHANT = "mch_one"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payonecmd")
    # 01:00 in Shanghai: the agreements' day periods stay in one day.
    s.clock(freeze=True)
    s.to_cn_hour(1)
    d = make_desk(s, "payonecmd")
    register_merchant(d, MERCHANT, fee_bps=60)
    d.boss = merchant_user(d, MERCHANT)
    yield d
    stop_server(s)


def state(d, c):
    """What a refused payment must leave as it was."""
    s = d.s
    return (balance(c), ledger_balance(s, "merchant_pending", MERCHANT),
            *row_counts(s, "pay_order", "pay_order_line", "pay_payment", "ledger_transfer",
                        "audit_log WHERE action = 'pay.order.created'",
                        "audit_log WHERE action = 'pay.order.paid'"),
            [(r["agreement_id"], r["period_key"], r["used"]) for r in
             s.query("SELECT * FROM pay_agreement_usage ORDER BY agreement_id, period_key")],
            s.query("SELECT COUNT(*) AS n FROM pay_agreement_debit")[0]["n"],
            [(r["state"], r["order_id"]) for r in
             s.query("SELECT state, order_id FROM pay_paycode WHERE customer_id = ?", c.id)])


def orders_of(d, otn):
    """The merchant's orders of out_trade_no otn: its query, and the rows."""
    r = d.boss.get("/api/v1/merchant/orders?out_trade_no=" + otn)
    assert r.status_code == 200, r.text
    rows = d.s.query("SELECT id, state FROM pay_order WHERE merchant_id = ? AND "
                     "out_trade_no = ?", MERCHANT, otn)
    assert [o["id"] for o in r.json()["orders"]] == [o["id"] for o in rows]
    return rows


def paid_once(d, otn, oid, payer_id):
    """Exactly one order of otn, oid, paid by payer_id with one payment and
    one creation record."""
    s = d.s
    assert orders_of(d, otn) == [{"id": oid, "state": "paid"}]
    assert s.query("SELECT payer_id FROM pay_payment WHERE order_id = ?", oid) == [
        {"payer_id": payer_id}]
    assert len([a for a in s.audit("pay.order.created") if a["object_id"] == oid]) == 1
    assert len([a for a in s.audit("pay.order.paid") if a["object_id"] == oid]) == 1


def freeze(s, c, st):
    r = s.post("/test/v1/wallet/state", {"user_id": c.id, "state": st})
    assert r.status_code == 200 and r.json()["code"] is None, r.text


# Each refusal only the writer command sees (the ledger's, at the
# transfer), and how the customer's wallet then pays.
REFUSALS = {
    "insufficient_funds": (lambda s, c: None, lambda s, c: credit(s, c, 1000)),
    "account_frozen": (lambda s, c: freeze(s, c, "frozen"),
                       lambda s, c: freeze(s, c, "normal")),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_refused_code_payment_leaves_nothing_and_the_retry_pays_once(d, refusal):
    """The code's payment refused inside the command: 409 with the
    ledger's code, no order of the number, no creation record, the code
    live, nothing else changed; the wallet fixed, the same code and number
    pay: one order, one payment, the code used by it; again: the same order
    (existed), nothing changed. req: FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=5 if refusal == "insufficient_funds" else 1000)
    breaks, mends = REFUSALS[refusal]
    breaks(s, c)
    code = issue(c)["code"]
    otn = "OC" + uuid.uuid4().hex[:16]
    before = state(d, c)
    assert before[-1] == [("live", None)]
    r = collect(d.boss, code, 6, out_trade_no=otn)
    assert r.status_code == 409 and err(r) == refusal, r.text
    assert orders_of(d, otn) == []
    assert state(d, c) == before
    mends(s, c)
    funds = balance(c)
    r = collect(d.boss, code, 6, out_trade_no=otn)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "paid" and o["existed"] is False and o["out_trade_no"] == otn
    paid_once(d, otn, o["id"], c.id)
    assert balance(c) == funds - 6
    assert s.query("SELECT state, order_id FROM pay_paycode WHERE customer_id = ?",
                   c.id) == [{"state": "used", "order_id": o["id"]}]
    after = state(d, c)
    r = collect(d.boss, code, 6, out_trade_no=otn)
    assert r.status_code == 200 and r.json()["existed"] is True, r.text
    assert r.json()["id"] == o["id"] and r.json()["state"] == "paid"
    assert state(d, c) == after


def test_racing_tills_leave_one_order_only(d):
    """Four tills collect one code at once, each its own order number: the
    code's use inside the command lets one pay; the others are refused
    paycode_used and none of their orders exists (made and refused in the
    same command, or refused before it)."""
    s = d.s
    c = customer(s, funds=1000)
    code = issue(c)["code"]
    tills = [merchant_user(d, MERCHANT) for _ in range(4)]
    otns = ["OR" + uuid.uuid4().hex[:16] for _ in tills]
    with ThreadPoolExecutor(len(tills)) as ex:
        rs = list(ex.map(lambda i: collect(tills[i], code, 100, out_trade_no=otns[i]),
                         range(len(tills))))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409], [r.text for r in rs]
    assert all(err(r) == "paycode_used" for r in rs if r.status_code == 409)
    for r, otn in zip(rs, otns):
        if r.status_code == 201:
            paid_once(d, otn, r.json()["id"], c.id)
        else:
            assert orders_of(d, otn) == []
    assert balance(c) == 900


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_a_refused_agreement_debit_leaves_nothing_and_the_retry_pays_once(d, refusal):
    """The debit refused inside the command: 409 with the ledger's code, no
    order of the number, no creation record, the agreement's usage and
    debits untouched, nothing else changed; the wallet fixed, the same
    number debits: one order, one payment, the usage once; again: the same
    order (existed), nothing changed. req: FUNC-PAY-05, FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=5 if refusal == "insufficient_funds" else 1000)
    r = sign(c, merchant_id=MERCHANT, now=s.clock(advance_ms=0))
    assert r.status_code == 201, r.text
    a = r.json()
    breaks, mends = REFUSALS[refusal]
    breaks(s, c)
    otn = "OA" + uuid.uuid4().hex[:16]
    before = state(d, c)
    r = debit(d.boss, a["id"], 6, out_trade_no=otn)
    assert r.status_code == 409 and err(r) == refusal, r.text
    assert orders_of(d, otn) == []
    assert state(d, c) == before
    mends(s, c)
    funds = balance(c)
    r = debit(d.boss, a["id"], 6, out_trade_no=otn)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "paid" and o["existed"] is False and o["kind"] == "agreement"
    paid_once(d, otn, o["id"], c.id)
    assert balance(c) == funds - 6
    assert [u["used"] for u in s.query("SELECT used FROM pay_agreement_usage WHERE "
                                       "agreement_id = ?", a["id"])] == [6]
    after = state(d, c)
    r = debit(d.boss, a["id"], 6, out_trade_no=otn)
    assert r.status_code == 200 and r.json()["existed"] is True, r.text
    assert r.json()["id"] == o["id"] and r.json()["state"] == "paid"
    assert state(d, c) == after
