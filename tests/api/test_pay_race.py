"""The one-command payment's races, made deterministic with a pause point
(docs/testing.md, "Pause points"; src/pay/payment.c pay_order_pay): the
first request stops at "pay.order_pay" after its pre-checks (no order of
its number yet, the payment code live) and before its writer command; the
competing request runs to completion; then the first goes on.

(a) the order's number made meanwhile by the other request: the first
    request's command sees the race (nothing committed), looks again and
    answers the other request's order (existed), or out_trade_no_conflict
    when that order has other contents, never a second order or payment;
(b) the payment code used meanwhile by another till: the command's re-check
    refuses paycode_used and nothing of the losing request commits (no
    order, no audit record, no transfer).

The racing tests of test_pay_onecmd.py and test_pay_paycode.py stay: they
show the same outcomes without the pause, when the timing happens to race.
"""
import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from pay import err, ledger_balance, make_desk, merchant_user, register_merchant, start_server, \
    stop_server
from test_pay_agreement import debit, sign
from test_pay_onecmd import orders_of, paid_once
from test_pay_paycode import collect, issue
from test_wallet_transfers import balance, customer

MERCHANT = "mch_one"
POINT = "pay.order_pay"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payrace")
    # 01:00 in Shanghai: the agreements' day periods stay in one day.
    s.clock(freeze=True)
    s.to_cn_hour(1)
    d = make_desk(s, "payrace")
    register_merchant(d, MERCHANT, fee_bps=60)
    d.boss = merchant_user(d, MERCHANT)
    yield d
    stop_server(s)


def fresh(*clients):
    """The clients' next requests go on new connections: a stopped request
    holds its worker thread, and with it every connection that thread
    serves (docs/testing.md, "Pause points"); a new one goes to another."""
    for x in clients:
        x.http.close()


def pause(s, action):
    fresh(s)
    r = s.post("/test/v1/pause/%s/%s" % (POINT, action))
    assert r.status_code == 200, r.text
    return r.json()


@contextlib.contextmanager
def stopped_first(s, first, send):
    """Sends send() (a request of client first) with the pause point armed,
    waits for the log line of its stop there (after its pre-checks, before
    its command), yields while it is stopped, then releases it; the yielded
    list gets its answer. The point is released however the block ends (a
    stopped request would otherwise wait for its bound)."""
    answer = []
    fresh(first)
    arm = pause(s, "arm")["arm"]
    with ThreadPoolExecutor(1) as ex:
        fut = ex.submit(send)
        try:
            s.wait_log("pause point %s stopped a request (arm %d)" % (POINT, arm))
            yield answer
            assert pause(s, "resume")["released"] is True
        finally:
            pause(s, "resume")
            answer.append(fut.result())


def world(d, c):
    """What the races may change, whole: the customer's and the merchant's
    balances, every order, payment, transfer and audit record (id and
    action), the customer's codes, the agreements' usage and debits."""
    s = d.s
    return {
        "balance": balance(c),
        "merchant": ledger_balance(s, "merchant_pending", MERCHANT),
        "orders": [(o["id"], o["out_trade_no"], o["state"]) for o in
                   s.query("SELECT id, out_trade_no, state FROM pay_order ORDER BY id")],
        "payments": [(p["order_id"], p["payer_id"], p["amount"]) for p in
                     s.query("SELECT order_id, payer_id, amount FROM pay_payment ORDER BY id")],
        "transfers": [(t["id"], t["ref"], t["code"]) for t in
                      s.query("SELECT id, ref, code FROM ledger_transfer ORDER BY id")],
        "audit": [(a["seq"], a["action"], a["object_id"]) for a in s.audit()],
        "codes": [(k["state"], k["order_id"]) for k in
                  s.query("SELECT state, order_id FROM pay_paycode WHERE customer_id = ? "
                          "ORDER BY created_ms", c.id)],
        "usage": [(u["agreement_id"], u["used"]) for u in
                  s.query("SELECT agreement_id, used FROM pay_agreement_usage "
                          "ORDER BY agreement_id, period_key")],
        "debits": [(g["order_id"], g["amount"]) for g in
                   s.query("SELECT order_id, amount FROM pay_agreement_debit ORDER BY order_id")],
    }


def added(before, after, key):
    """What after has of key that before had not; nothing of before gone."""
    assert all(x in after[key] for x in before[key]), key
    return [x for x in after[key] if x not in before[key]]


def only_the_winners(d, before, after, won):
    """Between before and after exactly one order (oid) was made and paid:
    its payment, its two transfers (payment and fee), and the records of
    that one command only (its creation, the transfers, its payment); the
    wallet paid the amount once, the merchant got it less the fee once."""
    oid, amount = won["id"], won["amount"]
    assert amount == 500 and won["fee"] == 3  # 60 bps of 500 fen, rounded
    assert added(before, after, "orders") == [(oid, after_otn(after, oid), "paid")]
    assert [p[0] for p in added(before, after, "payments")] == [oid]
    trfs = added(before, after, "transfers")
    assert sorted((t[1], t[2]) for t in trfs) == [(oid, "fee"), (oid, "payment")]
    new = [(a[1], a[2]) for a in added(before, after, "audit")]
    assert new[0] == ("pay.order.created", oid) and new[-1] == ("pay.order.paid", oid), new
    assert sorted(new[1:-1]) == sorted(("ledger.transfer", t[0]) for t in trfs), new
    assert after["balance"] == before["balance"] - amount
    assert after["merchant"] == (before["merchant"][0] + amount - won["fee"],
                                 before["merchant"][1])


def after_otn(after, oid):
    return [o[1] for o in after["orders"] if o[0] == oid][0]


def lost_number(d, c, code, amount, prefix):
    """Two tills collect code with one new order number: the first (amount)
    stops after its pre-checks while the second (500) pays. Returns the
    first's answer, the second's, the number and world() before."""
    s = d.s
    tills = [merchant_user(d, MERCHANT) for _ in range(2)]
    otn = prefix + uuid.uuid4().hex[:16]
    before = world(d, c)
    send = lambda: collect(tills[0], code, amount, out_trade_no=otn)  # noqa: E731
    with stopped_first(s, tills[0], send) as first:
        fresh(tills[1])
        second = collect(tills[1], code, 500, out_trade_no=otn)
        assert second.status_code == 201, second.text
    return first[0], second, otn, before


def test_a_code_collection_that_lost_its_number_answers_the_winners_order(d):
    """(a) Two tills collect one code with one order number; the first
    stops after its pre-checks (no order of the number), the second pays;
    the first's command finds the number taken, nothing of it commits, and
    it answers the second's order as existed: one order, one payment, one
    pair of transfers, one creation and one payment record, the code used
    by that order, the wallet paid once. req: FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=1000)
    code = issue(c)["code"]
    first, second, otn, before = lost_number(d, c, code, 500, "RA")
    won = second.json()
    assert won["existed"] is False and won["state"] == "paid"
    assert first.status_code == 200, first.text
    assert first.json()["existed"] is True and first.json()["id"] == won["id"]
    assert first.json()["state"] == "paid"
    paid_once(d, otn, won["id"], c.id)
    after = world(d, c)
    only_the_winners(d, before, after, won)
    assert before["codes"] == [("live", None)] and after["codes"] == [("used", won["id"])]


def test_a_code_collection_that_lost_its_number_to_other_contents_is_refused(d):
    """(a) As above, but the second till's order of the number has another
    amount: the first's command finds the number taken, nothing of it
    commits, and its second look refuses it: 409 out_trade_no_conflict
    (field out_trade_no); only the second's order exists, paid once.
    req: FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=1000)
    code = issue(c)["code"]
    first, second, otn, before = lost_number(d, c, code, 400, "RC")
    assert first.status_code == 409 and err(first) == "out_trade_no_conflict", first.text
    assert first.json()["error"]["field"] == "out_trade_no"
    won = second.json()
    paid_once(d, otn, won["id"], c.id)
    after = world(d, c)
    only_the_winners(d, before, after, won)
    assert before["codes"] == [("live", None)] and after["codes"] == [("used", won["id"])]


def test_a_code_used_by_another_till_meanwhile_refuses_and_leaves_nothing(d):
    """(b) Two tills collect one code, each its own order number; the
    first stops after its pre-checks (the code live), the second pays with
    the code; the first's command re-checks the code: 409 paycode_used
    (field auth_code), and nothing of it commits: no order of its number,
    no record of it, no transfer; the second's order paid once. req:
    FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=1000)
    code = issue(c)["code"]
    tills = [merchant_user(d, MERCHANT) for _ in range(2)]
    lost, won_otn = ("RB" + uuid.uuid4().hex[:16] for _ in range(2))
    before = world(d, c)
    send = lambda: collect(tills[0], code, 500, out_trade_no=lost)  # noqa: E731
    with stopped_first(s, tills[0], send) as first:
        fresh(tills[1])
        second = collect(tills[1], code, 500, out_trade_no=won_otn)
        assert second.status_code == 201, second.text
    first = first[0]
    assert first.status_code == 409 and err(first) == "paycode_used", first.text
    assert first.json()["error"]["field"] == "auth_code"
    assert orders_of(d, lost) == []
    won = second.json()
    paid_once(d, won_otn, won["id"], c.id)
    after = world(d, c)
    only_the_winners(d, before, after, won)
    assert before["codes"] == [("live", None)] and after["codes"] == [("used", won["id"])]
    assert not [a for a in s.audit() if lost in (a["details"] or "")]


def test_an_agreement_debit_that_lost_its_number_answers_the_winners_order(d):
    """(a) Two debits of one agreement with one order number; the first
    stops after its pre-checks (no order of the number, within the
    agreement's limits), the second debits; the first's command finds the
    number taken, nothing of it commits, and it answers the second's order
    as existed: one order, one payment, one pair of transfers, one usage
    and one debit row of the amount, one creation and one payment record.
    req: FUNC-PAY-05, FUNC-PAY-21"""
    s = d.s
    c = customer(s, funds=1000)
    r = sign(c, merchant_id=MERCHANT, now=s.clock(advance_ms=0))
    assert r.status_code == 201, r.text
    a = r.json()
    otn = "RD" + uuid.uuid4().hex[:16]
    users = [merchant_user(d, MERCHANT) for _ in range(2)]
    before = world(d, c)
    send = lambda: debit(users[0], a["id"], 500, out_trade_no=otn)  # noqa: E731
    with stopped_first(s, users[0], send) as first:
        fresh(users[1])
        second = debit(users[1], a["id"], 500, out_trade_no=otn)
        assert second.status_code == 201, second.text
    first = first[0]
    won = second.json()
    assert won["existed"] is False and won["state"] == "paid" and won["kind"] == "agreement"
    assert first.status_code == 200, first.text
    assert first.json()["existed"] is True and first.json()["id"] == won["id"]
    paid_once(d, otn, won["id"], c.id)
    after = world(d, c)
    only_the_winners(d, before, after, won)
    assert added(before, after, "usage") == [(a["id"], 500)]
    assert added(before, after, "debits") == [(won["id"], 500)]
