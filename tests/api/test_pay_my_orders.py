"""A customer's orders, GET /api/v1/me/orders (pay-on-behalf's "visible to
both", FUNC-PAY-17), over HTTPS against a real anfud (src/pay/customer_orders.c;
handler src/pay/api/customer.c; docs/payments.md, "Pay-on-behalf").

The list holds the orders a customer paid and those they asked another
customer to pay through a share, each once and as the order's own read
shows it, newest first by creation with a MAC'd cursor; the query's rules
are the payments history's. Times come from the frozen test clock, moved by
hand: two orders are made in the same millisecond so the id breaks the tie.
The query plan's use of the indexes is in tests/unit/test_pay_history.c.
"""
import uuid

import pytest

from iam import Client
from pay import (create_order, err, make_desk, merchant_user, pay_order, register_merchant,
                 row_counts, start_server, stop_server)
from test_wallet_transfers import PIN, customer

PATH = "/api/v1/me/orders"
PAGE_MAX = 100  # ANFU_LIMIT_PAY_PAGE
MAX_PAGES = 20  # more than any walk here needs


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """mch_mine (茶叶小铺 / Tea Shop) and mch_other (书店 / Book Shop); the
    asker shares, the payer pays, the third customer only reads by id:

    o1 mch_mine   shared by asker, paid by payer through the link
    o2 mch_other  paid by payer, never shared
    o3 mch_mine   shared by asker, paid by asker
    o4 mch_mine   shared by asker, unpaid
    o5 mch_mine   read by id by payer and third, never shared nor paid
    o6 mch_mine   shared by asker, cancelled by asker (closed)
    o7, o8        shared by asker, made in the same millisecond
    """
    s = start_server(tmp_path_factory, "paymine")
    d = make_desk(s, "paymine")
    register_merchant(d, "mch_mine", fee_bps=0)
    r = d.op.post("/admin/v1/merchants", {"merchant_id": "mch_other", "name_zh": "书店",
                                          "name_en": "Book Shop", "fee_bps": 0})
    assert r.status_code == 201, r.text
    d.boss = merchant_user(d, "mch_mine")
    d.boss2 = merchant_user(d, "mch_other")
    d.asker = customer(s, name="张三", funds=100000)
    d.payer = customer(s, name="李四", funds=100000)
    d.third = customer(s, name="王五", funds=100000)
    o = {}

    def make(key, m=d.boss, amount=100):
        s.clock(advance_ms=1000)
        o[key] = create_order(m, amount=amount, subject="订单 " + key)

    make("o1", amount=300)
    link1 = share(d.asker, o["o1"]["id"])
    assert pay_link(d.payer, link1["token"]).status_code == 201
    make("o2", m=d.boss2, amount=200)
    assert pay_order(d.payer, o["o2"]["id"]).status_code == 201
    make("o3")
    share(d.asker, o["o3"]["id"])
    r = pay_order(d.asker, o["o3"]["id"])
    assert r.status_code == 201, r.text
    make("o4")
    share(d.asker, o["o4"]["id"])
    make("o5")
    for c in (d.payer, d.third):
        assert c.http.get("%s/%s" % (PATH, o["o5"]["id"])).status_code == 200
    make("o6")
    share(d.asker, o["o6"]["id"])
    r = d.asker.http.post("%s/%s/cancel" % (PATH, o["o6"]["id"]))
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    s.clock(advance_ms=1000)
    o["o7"] = create_order(d.boss, amount=100)
    o["o8"] = create_order(d.boss, amount=100)
    assert o["o7"]["created_ms"] == o["o8"]["created_ms"]
    for k in ("o7", "o8"):
        share(d.asker, o[k]["id"])
    d.o = {k: v["id"] for k, v in o.items()}
    d.created = {k: v["created_ms"] for k, v in o.items()}
    # The asker's orders newest first: o7 and o8 by id (descending) at the top.
    tie = sorted([d.o["o7"], d.o["o8"]], reverse=True)
    d.asker_ids = tie + [d.o[k] for k in ("o6", "o4", "o3", "o1")]
    d.payer_ids = [d.o["o2"], d.o["o1"]]
    yield d
    stop_server(s)


def share(c, order_id):
    r = c.http.post("%s/%s/share" % (PATH, order_id), {})
    assert r.status_code == 201, r.text
    return r.json()


def pay_link(c, token):
    return c.http.post("/api/v1/me/shared-orders/%s/pay" % token,
                       {"payment_password": PIN, "request_id": uuid.uuid4().hex})


def listing(c, **q):
    r = c.http.get(PATH, params=q)
    assert r.status_code == 200, r.text
    return r.json()


def ids(j):
    return [o["id"] for o in j["orders"]]


def walk(c, limit, **q):
    """Every order, page by page; the pages' sizes. A cursor that does not
    move on (a row again) fails at once rather than loop."""
    rows, sizes, cursor = [], [], None
    for _ in range(MAX_PAGES):
        args = dict(q, limit=limit)
        if cursor:
            args["cursor"] = cursor
        j = listing(c, **args)
        seen = {o["id"] for o in rows}
        assert not [o["id"] for o in j["orders"] if o["id"] in seen], (rows, j)
        rows += j["orders"]
        sizes.append(len(j["orders"]))
        cursor = j.get("next_cursor")
        if not cursor:
            return rows, sizes
    raise AssertionError("more than %d pages: %r" % (MAX_PAGES, sizes))


def test_requester_and_payer_each_see_the_order_once_with_their_flags(d):
    """The order paid through a link is in the requester's list and the
    payer's, once each, with their own paid_by_me / requested_by_me; an
    order the requester shared and paid themselves is there once with
    both; every row is exactly what the order's own read shows that
    customer, so nothing of the other customer. req: FUNC-PAY-17"""
    a = listing(d.asker)
    assert ids(a) == d.asker_ids and a.get("next_cursor") is None
    p = listing(d.payer)
    assert ids(p) == d.payer_ids and p.get("next_cursor") is None
    flags = {o["id"]: (o["paid_by_me"], o["requested_by_me"]) for o in a["orders"]}
    assert flags[d.o["o1"]] == (False, True)
    assert flags[d.o["o3"]] == (True, True)
    assert flags[d.o["o4"]] == (False, True) and flags[d.o["o6"]] == (False, True)
    flags = {o["id"]: (o["paid_by_me"], o["requested_by_me"]) for o in p["orders"]}
    assert flags == {d.o["o1"]: (True, False), d.o["o2"]: (True, False)}
    for c, j in ((d.asker, a), (d.payer, p)):
        for row in j["orders"]:
            single = c.http.get("%s/%s" % (PATH, row["id"]))
            assert single.status_code == 200, single.text
            assert row == single.json()
    o1 = next(o for o in a["orders"] if o["id"] == d.o["o1"])
    assert o1["state"] == "paid" and o1["amount"] == 300 and o1["currency"] == "CNY"
    assert o1["merchant"] == {"name_zh": "茶叶小铺", "name_en": "Tea Shop"}
    assert o1["subject"] == "订单 o1" and o1["created_ms"] == d.created["o1"]
    assert o1["lines"] == [{"name": "龙井茶", "quantity": 1, "unit_amount": 300, "amount": 300}]
    assert p["orders"][0]["merchant"] == {"name_zh": "书店", "name_en": "Book Shop"}
    states = {o["id"]: o["state"] for o in a["orders"]}
    assert states[d.o["o4"]] == "created" and states[d.o["o6"]] == "closed"
    # Neither side's rows name the other customer.
    for text, other in ((d.asker.http.get(PATH).text, d.payer),
                        (d.payer.http.get(PATH).text, d.asker)):
        assert other.id not in text and other.phone not in text
        assert "payer" not in text.replace("paid_by_me", "")


def test_a_customer_who_neither_paid_nor_shared_sees_nothing(d):
    """The third customer read o5 (and may read any unpaid order) by id:
    their list is empty; o5, read by the payer too, is in nobody's list.
    req: FUNC-PAY-17"""
    assert listing(d.third) == {"orders": [], "next_cursor": None}
    for c in (d.asker, d.payer, d.third):
        assert d.o["o5"] not in ids(listing(c, limit=PAGE_MAX))
    # Another customer's order read by id does not make it theirs.
    assert d.third.http.get("%s/%s" % (PATH, d.o["o4"])).status_code == 200
    assert listing(d.third) == {"orders": [], "next_cursor": None}


def test_pages_return_each_order_once_in_order(d):
    """Pages of 1, 2, 4 and 6 give every order once in the list's order
    (across the tie of o7 and o8); a page of exactly the rest has no next
    cursor. req: FUNC-PAY-17"""
    for limit, want in ((1, [1] * 6), (2, [2, 2, 2]), (4, [4, 2]), (6, [6]), (7, [6])):
        rows, sizes = walk(d.asker, limit)
        assert [o["id"] for o in rows] == d.asker_ids
        assert sizes == want
    j = listing(d.asker, limit=1)
    assert ids(j) == d.asker_ids[:1] and j["next_cursor"]
    j = listing(d.asker, limit=1, cursor=j["next_cursor"])
    assert ids(j) == d.asker_ids[1:2]
    rows, _ = walk(d.payer, 1)
    assert [o["id"] for o in rows] == d.payer_ids


def test_filters_by_state_and_creation_time(d):
    """status is an order state; from is inclusive and to exclusive, ms of
    the order's creation; the cursor pages within the filter.
    req: FUNC-PAY-17"""
    assert ids(listing(d.asker, status="paid")) == [d.o["o3"], d.o["o1"]]
    assert ids(listing(d.asker, status="closed")) == [d.o["o6"]]
    assert ids(listing(d.asker, status="created")) == d.asker_ids[:2] + [d.o["o4"]]
    assert listing(d.asker, status="refunded") == {"orders": [], "next_cursor": None}
    assert ids(listing(d.payer, status="paid")) == d.payer_ids
    t4 = d.created["o4"]
    assert ids(listing(d.asker, **{"from": t4})) == d.asker_ids[:4]
    assert ids(listing(d.asker, **{"from": t4 + 1})) == d.asker_ids[:3]
    assert ids(listing(d.asker, to=t4)) == [d.o["o3"], d.o["o1"]]
    assert ids(listing(d.asker, to=t4 + 1)) == [d.o["o4"], d.o["o3"], d.o["o1"]]
    assert ids(listing(d.asker, **{"from": t4, "to": t4 + 1})) == [d.o["o4"]]
    rows, sizes = walk(d.asker, 1, status="created")
    assert [o["id"] for o in rows] == d.asker_ids[:2] + [d.o["o4"]] and sizes == [1, 1, 1]


def test_refusals_name_the_parameter_and_change_nothing(d):
    """limit 1..100 (at 100 passes, 0 and 101 fail: field_out_of_range),
    a bad from, to or status (invalid_field), a cursor changed, forged,
    another customer's or another list's (invalid_field cursor): 400, and
    nothing is written. req: FUNC-PAY-17"""
    s = d.s
    before = (row_counts(s, "pay_order", "pay_share", "pay_payment", "audit_log"))
    assert len(listing(d.asker, limit=PAGE_MAX)["orders"]) == 6
    cases = [({"limit": v}, "field_out_of_range", "limit")
             for v in ("0", str(PAGE_MAX + 1), "-1", "x", "")]
    cases += [({"from": v}, "invalid_field", "from") for v in ("-1", "x", "1.5")]
    cases += [({"to": v}, "invalid_field", "to") for v in ("-1", "x")]
    cases += [({"status": v}, "invalid_field", "status")
              for v in ("PAID", "succeeded", "payment", "", "paid ")]
    cur = listing(d.asker, limit=1)["next_cursor"]
    ms, oid, mac = cur.split(".")
    bad = ["garbage", cur + "0", cur[:-1] + ("0" if cur[-1] != "0" else "1"),
           "%d.%s.%s" % (int(ms) + 1, oid, mac), "%s.%s.%s" % (ms, d.o["o1"], mac),
           listing(d.payer, limit=1)["next_cursor"]]
    cases += [({"cursor": c}, "invalid_field", "cursor") for c in bad]
    for q, code, field in cases:
        r = d.asker.http.get(PATH, params=q)
        assert r.status_code == 400, (q, r.text)
        assert err(r) == code and r.json()["error"]["field"] == field, (q, r.text)
    # The payments history's cursor of the same customer is not this list's.
    hist = d.payer.http.get("/api/v1/me/payments", params={"limit": 1}).json()
    r = d.payer.http.get(PATH, params={"cursor": hist["next_cursor"]})
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    # The payer's cursor is good for the payer.
    pc = listing(d.payer, limit=1)["next_cursor"]
    assert ids(listing(d.payer, cursor=pc)) == d.payer_ids[1:]
    assert row_counts(s, "pay_order", "pay_share", "pay_payment", "audit_log") == before


def test_only_a_customer_session_lists(d):
    """A merchant user: 403 forbidden; an operator (whose session is the
    admin listener's) and no session: 401. req: FUNC-PAY-17, IAM-RBAC-01"""
    s = d.s
    r = d.boss.get(PATH)
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    r = d.op.http.get(s.url(PATH), timeout=30)
    assert r.status_code == 401, r.text
    r = Client(s).get(PATH)
    assert r.status_code == 401, r.text
