"""Payment codes (付款码), over HTTPS against a real anfud (src/pay/paycode.c;
handlers src/pay/api/paycode.c; docs/payments.md, "Payment code").

The customer's wallet shows a one-time 18-digit code valid 60 s on the
clock; the merchant collects an order with it. Up to [pay]
paycode_nopin_max (default 20000 fen) it pays at once without the PIN;
above, the order waits (paying) for the customer's confirmation with the
PIN. "Nothing changed" on a refusal is checked on balances, pay's and the
ledger's rows and the codes' states.
"""
import base64
import uuid

import pytest

from pay import (err, make_desk, merchant_order, merchant_staff, merchant_user, order_body,
                 register_merchant, row_counts, start_server, stop_server)
from test_wallet_transfers import PIN, balance, customer

NOPIN_MAX = 20000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "paycode")
    d = make_desk(s, "paycode")
    register_merchant(d, "mch_code", fee_bps=60)
    d.boss = merchant_user(d, "mch_code")
    yield d
    stop_server(s)


def issue(c):
    r = c.http.post("/api/v1/me/paycode", {})
    assert r.status_code == 201, r.text
    return r.json()


def collect(m, code, amount, **kw):
    return merchant_order(m, "/api/v1/merchant/paycode-payments", "auth_code", code, amount,
                          **kw)


def snapshot(d, c):
    s = d.s
    return (balance(c),
            *row_counts(s, "pay_order", "pay_payment", "ledger_transfer"),
            [(r["state"], r["order_id"]) for r in
             s.query("SELECT state, order_id FROM pay_paycode ORDER BY created_ms, hash")])


def test_a_small_amount_pays_at_once_without_the_pin_and_the_code_once(d):
    """At paycode_nopin_max exactly: paid at once, auth paycode, the money
    and the fee moved; the code is stored as a keyed hash only; the same
    code and order number again answers the same order; the code for
    another order: paycode_used, nothing changed. req: FUNC-PAY-01"""
    s = d.s
    c = customer(s, funds=50000)
    pc = issue(c)
    code = pc["code"]
    assert len(code) == 18 and code.isdigit() and code.startswith("66")
    assert pc["expires_ms"] - pc["created_ms"] == 60000
    png = base64.b64decode(pc["qr_png"].split(",", 1)[1])
    assert pc["qr_png"].startswith("data:image/png;base64,") and png[:8] == b"\x89PNG\r\n\x1a\n"
    rows = s.query("SELECT hash, customer_id, state FROM pay_paycode WHERE customer_id = ?", c.id)
    assert len(rows) == 1 and rows[0]["state"] == "live"
    assert code not in rows[0]["hash"] and len(rows[0]["hash"]) == 64
    otn = "PC" + uuid.uuid4().hex[:16]
    r = collect(d.boss, code, NOPIN_MAX, out_trade_no=otn)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "paid" and o["fee"] == 120 and o["existed"] is False
    assert balance(c) == 50000 - NOPIN_MAX
    pmt = s.query("SELECT auth, payer_id, amount FROM pay_payment WHERE order_id = ?", o["id"])
    assert pmt == [{"auth": "paycode", "payer_id": c.id, "amount": NOPIN_MAX}]
    assert s.query("SELECT state, order_id FROM pay_paycode WHERE customer_id = ?",
                   c.id) == [{"state": "used", "order_id": o["id"]}]
    before = snapshot(d, c)
    r = collect(d.boss, code, NOPIN_MAX, out_trade_no=otn)
    assert r.status_code == 200 and r.json()["existed"] is True and r.json()["id"] == o["id"]
    r = collect(d.boss, code, 100)
    assert r.status_code == 409 and err(r) == "paycode_used", r.text
    assert snapshot(d, c) == before


def test_above_the_limit_the_payment_waits_for_the_customers_pin(d):
    """One fen above paycode_nopin_max: the order waits in paying for the
    code's customer, listed as pending; the merchant polls it; another
    customer cannot pay it; the customer confirms with the PIN and it is
    paid."""
    s = d.s
    c = customer(s, funds=50000)
    other = customer(s, funds=50000)
    before_c = balance(c)
    r = collect(d.boss, issue(c)["code"], NOPIN_MAX + 1)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "paying" and o["payment_id"] is None
    assert balance(c) == before_c
    pend = c.http.get("/api/v1/me/paycode/pending")
    assert pend.status_code == 200, pend.text
    assert [p["id"] for p in pend.json()["orders"]] == [o["id"]]
    assert pend.json()["orders"][0]["merchant_name"]["zh"] == "茶叶小铺"
    assert other.http.get("/api/v1/me/paycode/pending").json()["orders"] == []
    assert d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()["state"] == "paying"
    r = other.http.post("/api/v1/me/orders/%s/pay" % o["id"],
                        {"payment_password": PIN, "request_id": uuid.uuid4().hex})
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = c.http.post("/api/v1/me/orders/%s/pay" % o["id"],
                    {"payment_password": PIN, "request_id": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    assert balance(c) == before_c - NOPIN_MAX - 1
    assert d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()["state"] == "paid"
    assert c.http.get("/api/v1/me/paycode/pending").json()["orders"] == []


def test_a_code_is_valid_for_60_seconds_exactly(d):
    """A millisecond before issue + 60 s it pays; at issue + 60 s exactly:
    paycode_expired, nothing changed (no order made)."""
    s = d.s
    c = customer(s, funds=1000)
    early = issue(c)
    s.clock(advance_ms=60000 - 1)
    assert collect(d.boss, early["code"], 10).status_code == 201
    late = issue(c)
    s.clock(advance_ms=60000)
    before = snapshot(d, c)
    r = collect(d.boss, late["code"], 10)
    assert r.status_code == 409 and err(r) == "paycode_expired", r.text
    assert snapshot(d, c) == before


def test_unknown_malformed_and_replaced_codes_are_refused(d):
    """An unknown or malformed code: paycode_invalid; a code replaced by a
    newer one: paycode_used; a missing one: missing_field; nothing
    changed."""
    s = d.s
    c = customer(s, funds=1000)
    old = issue(c)["code"]
    new = issue(c)["code"]
    before = snapshot(d, c)
    unknown = "66" + ("0" * 16 if new[2:] != "0" * 16 else "1" * 16)
    for bad, code in ((unknown, "paycode_invalid"), ("77" + new[2:], "paycode_invalid"),
                      (new[:-1], "paycode_invalid"), (new[:-1] + "x", "paycode_invalid"),
                      (old, "paycode_used")):
        r = collect(d.boss, bad, 10)
        assert r.status_code == 409 and err(r) == code, (bad, r.text)
    body = order_body(amount=10)
    del body["kind"]
    r = d.boss.post("/api/v1/merchant/paycode-payments", body)
    assert r.status_code == 400 and err(r) == "missing_field", r.text
    body["auth_code"] = new
    body["kind"] = "escrow"
    r = d.boss.post("/api/v1/merchant/paycode-payments", body)
    assert r.status_code == 400 and err(r) == "unknown_field", r.text
    assert snapshot(d, c) == before
    assert collect(d.boss, new, 10).status_code == 201


def test_a_refused_payment_leaves_the_code_live(d):
    """Insufficient funds: refused, the code stays live, no money moves and
    no order is left (made and refused in one writer command; more in
    test_pay_onecmd.py)."""
    s = d.s
    c = customer(s, funds=5)
    code = issue(c)["code"]
    orders = row_counts(s, "pay_order")
    r = collect(d.boss, code, 6)
    assert r.status_code == 409 and err(r) == "insufficient_funds", r.text
    assert balance(c) == 5
    assert row_counts(s, "pay_order") == orders
    assert s.query("SELECT state FROM pay_paycode WHERE customer_id = ?",
                   c.id) == [{"state": "live"}]
    assert collect(d.boss, code, 5).status_code == 201
    assert balance(c) == 0


def test_who_may_issue_and_collect(d):
    """A merchant user has no payment code; a customer collects nothing;
    merchant staff collect (cashiers). req: IAM-RBAC-01"""
    s = d.s
    c = customer(s, funds=100)
    assert d.boss.post("/api/v1/me/paycode", {}).status_code == 403
    assert d.boss.get("/api/v1/me/paycode/pending").status_code == 403
    code = issue(c)["code"]
    r = c.http.post("/api/v1/merchant/paycode-payments",
                    dict(order_body(amount=10), auth_code=code))
    assert r.status_code == 403
    clerk = merchant_staff(d, d.boss)
    r = collect(clerk, code, 10)
    assert r.status_code == 201 and r.json()["state"] == "paid", r.text


def test_racing_collections_of_one_code_pay_once(d):
    """Six tills collect one code at once (different orders): the code's
    use inside the writer command lets exactly one pay; the others are
    refused paycode_used and the money moved once."""
    from concurrent.futures import ThreadPoolExecutor
    s = d.s
    c = customer(s, funds=1000)
    code = issue(c)["code"]
    tills = [merchant_user(d, "mch_code") for _ in range(6)]
    with ThreadPoolExecutor(len(tills)) as ex:
        rs = list(ex.map(lambda m: collect(m, code, 100), tills))
    assert sorted(r.status_code for r in rs) == [201] + [409] * 5, [r.text for r in rs]
    assert all(err(r) == "paycode_used" for r in rs if r.status_code == 409)
    assert balance(c) == 900
    assert s.query("SELECT COUNT(*) AS n FROM pay_payment WHERE payer_id = ?", c.id)[0]["n"] == 1


def committed_batches(s):
    from test_ledger_module import sample
    return sample(s.get("/metrics", admin=True).text,
                  'anfu_ledger_batches_total{outcome="committed"}')


def test_a_code_and_an_order_commit_in_the_ledger_writers_batches(d):
    """Issuing a code and making an order move no money but run through the
    ledger writer, so they commit with the other commands of its batch (one
    fsync for many; docs/benchmarks.md §9): each adds a committed writer
    batch (the module's clock is frozen: no job's pass runs meanwhile), and
    each still writes its row and its audit record; a collection without
    the PIN makes its order and pays it in ONE writer command: exactly one
    committed batch. No requirement ID: a performance property (the
    payment-code benchmark, issue 11)."""
    s = d.s
    c = customer(s, funds=100)
    before = committed_batches(s)
    pc = issue(c)
    assert committed_batches(s) >= before + 1
    assert s.query("SELECT state FROM pay_paycode WHERE customer_id = ?", c.id) == [
        {"state": "live"}]
    assert s.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'pay.paycode.issued' "
                   "AND object_id = ?", c.id)[0]["n"] == 1
    before = committed_batches(s)
    r = d.boss.post("/api/v1/merchant/orders", order_body(amount=10))
    assert r.status_code == 201, r.text
    assert committed_batches(s) >= before + 1
    assert s.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'pay.order.created' "
                   "AND object_id = ?", r.json()["id"])[0]["n"] == 1
    # The code is still the customer's to pay with.
    before = committed_batches(s)
    r = collect(d.boss, pc["code"], 10)
    assert r.status_code == 201 and r.json()["state"] == "paid", r.text
    assert committed_batches(s) == before + 1
