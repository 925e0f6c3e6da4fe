"""Merchants' payment profiles and orders, over HTTPS against a real anfud
(src/pay/merchant.c, order.c; handlers src/pay/api/; docs/payments.md).

One server for the module (tests/api/pay.py, make_desk): an operator
registers merchants, merchant users create and cancel orders, customers
read them. Each test makes merchants and orders of its own. "Nothing
changed" on a refusal is checked on pay's rows and its audit records.
"""
import json

import pytest

from iam import Client
from pay import (create_order, err, make_desk, merchant_staff, merchant_user, order_body,
                 register_merchant, row_counts, start_server)
from test_wallet_transfers import customer


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payorders", wallet=False)
    d = make_desk(s, "payord")
    yield d
    s.assert_stopped_cleanly()


def snapshot(s):
    return row_counts(s, "pay_merchant", "pay_order", "pay_order_line",
                      "audit_log WHERE action LIKE 'pay.%'")


# ---- merchants' profiles ---------------------------------------------------------

def test_operator_registers_a_merchant_with_its_account(d):
    """The profile, its merchant_pending account and the audit record; the
    same merchant again is refused. req: IAM-RBAC-01"""
    s = d.s
    m = register_merchant(d, "mch_reg1", fee_bps=60)
    assert m["merchant_id"] == "mch_reg1" and m["fee_bps"] == 60 and m["state"] == "active"
    assert m["escrow_days"] is None and m["escrow_days_effective"] == 10
    acc = s.query("SELECT kind, owner_type, owner_id FROM ledger_account WHERE id = ?",
                  m["account_id"])
    assert acc == [{"kind": "merchant_pending", "owner_type": "merchant",
                    "owner_id": "mch_reg1"}]
    rec = [json.loads(a["details"]) for a in s.audit("pay.merchant.created")
           if a["object_id"] == "mch_reg1"]
    assert len(rec) == 1 and rec[0]["profile"]["fee_bps"] == 60
    before = snapshot(s)
    r = d.op.post("/admin/v1/merchants", {"merchant_id": "mch_reg1", "name_zh": "另一家",
                                          "name_en": "Other"})
    assert r.status_code == 409 and err(r) == "merchant_exists", r.text
    assert snapshot(s) == before
    r = d.op.get("/admin/v1/merchants/mch_reg1")
    assert r.status_code == 200 and r.json()["name_en"] == "Tea Shop"


def test_a_fee_default_applies_and_escrow_days_stay_within_bounds(d):
    """Unset fee: [pay] fee_bps_default (0). escrow_days outside
    [escrow_days_min, escrow_days_max] (3..30 by default) is refused and
    writes nothing; the bounds themselves are taken. req: FUNC-PAY-03"""
    s = d.s
    m = register_merchant(d, "mch_esc0")
    assert m["fee_bps"] == 0
    before = snapshot(s)
    for days in (2, 31):
        r = d.op.post("/admin/v1/merchants", {"merchant_id": "mch_esc%d" % days,
                                              "name_zh": "店", "name_en": "Shop",
                                              "escrow_days": days})
        assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
        assert r.json()["error"]["field"] == "escrow_days"
    r = d.op.post("/admin/v1/merchants", {"merchant_id": "mch_escf", "name_zh": "店",
                                          "name_en": "Shop", "fee_bps": 10001})
    assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
    assert snapshot(s) == before
    assert register_merchant(d, "mch_esc3", escrow_days=3)["escrow_days_effective"] == 3
    assert register_merchant(d, "mch_esc30", escrow_days=30)["escrow_days"] == 30


def test_operator_changes_a_profile_and_the_change_is_audited(d):
    s = d.s
    register_merchant(d, "mch_patch", fee_bps=10)
    r = d.op.req("PATCH", "/admin/v1/merchants/mch_patch", {"fee_bps": 25, "state": "disabled"})
    assert r.status_code == 200, r.text
    assert r.json()["fee_bps"] == 25 and r.json()["state"] == "disabled"
    rec = [json.loads(a["details"]) for a in s.audit("pay.merchant.updated")
           if a["object_id"] == "mch_patch"]
    assert rec == [{"old": {"name_zh": "茶叶小铺", "name_en": "Tea Shop", "fee_bps": 10,
                            "escrow_days": 0, "state": "active"},
                    "new": {"name_zh": "茶叶小铺", "name_en": "Tea Shop", "fee_bps": 25,
                            "escrow_days": 0, "state": "disabled"}}]
    before = snapshot(s)
    r = d.op.req("PATCH", "/admin/v1/merchants/mch_nobody", {"fee_bps": 1})
    assert r.status_code == 404 and err(r) == "merchant_not_found"
    r = d.op.req("PATCH", "/admin/v1/merchants/mch_patch", {"state": "gone"})
    assert r.status_code == 400 and err(r) == "invalid_field"
    assert snapshot(s) == before


def test_who_may_manage_merchants(d):
    """The risk officer reads profiles but may not change them; the
    security administrator (no business operations) neither; merchant
    users and customers are not operators. req: IAM-RBAC-01, IAM-LP-01"""
    s = d.s
    register_merchant(d, "mch_who")
    assert d.risk.get("/admin/v1/merchants/mch_who").status_code == 200
    lst = d.risk.get("/admin/v1/merchants?limit=100").json()["merchants"]
    assert "mch_who" in [m["merchant_id"] for m in lst]
    before = snapshot(s)
    r = d.risk.post("/admin/v1/merchants", {"merchant_id": "mch_who2", "name_zh": "店",
                                            "name_en": "Shop"})
    assert r.status_code == 403 and err(r) == "forbidden"
    r = d.admin.post("/admin/v1/merchants", {"merchant_id": "mch_who2", "name_zh": "店",
                                             "name_en": "Shop"})
    assert r.status_code == 403 and err(r) == "forbidden"
    assert d.admin.get("/admin/v1/merchants").status_code == 403
    r = Client(s, admin=True).get("/admin/v1/merchants")
    assert r.status_code == 401
    assert snapshot(s) == before


# ---- orders --------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop(d):
    """Merchant mch_tea (an administrator and a staff member) and mch_other
    (an administrator)."""
    register_merchant(d, "mch_tea", fee_bps=60)
    register_merchant(d, "mch_other")
    d.boss = merchant_user(d, "mch_tea")
    d.clerk = merchant_staff(d, d.boss)
    d.rival = merchant_user(d, "mch_other")
    return d


def test_an_order_keeps_its_lines_and_expires_after_the_default_ttl(shop):
    """req: FUNC-PAY-19"""
    d = shop
    s = d.s
    now = s.clock(advance_ms=0)
    body = order_body(amount=500, lines=[
        {"name": "龙井茶", "quantity": 2, "unit_amount": 150, "amount": 300},
        {"name": "茶杯", "quantity": 1, "unit_amount": 200, "amount": 200}])
    r = d.boss.post("/api/v1/merchant/orders", body)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["id"].startswith("ord_") and len(o["id"]) >= 26
    assert o["state"] == "created" and o["existed"] is False and o["merchant_id"] == "mch_tea"
    assert o["expires_ms"] == now + 900_000
    assert [x["name"] for x in o["lines"]] == ["龙井茶", "茶杯"]
    rows = s.query("SELECT seq, name, quantity, unit_amount, amount FROM pay_order_line "
                   "WHERE order_id = ? ORDER BY seq", o["id"])
    assert [(x["quantity"], x["unit_amount"], x["amount"]) for x in rows] == \
        [(2, 150, 300), (1, 200, 200)]
    rec = [json.loads(a["details"]) for a in s.audit("pay.order.created")
           if a["object_id"] == o["id"]]
    assert rec[0]["out_trade_no"] == body["out_trade_no"] and rec[0]["amount"] == 500
    r = d.boss.post("/api/v1/merchant/orders", order_body(ttl_s=60))
    assert r.json()["expires_ms"] == now + 60_000


def test_the_same_order_number_is_idempotent(shop):
    """Same number, same content: the same order (200, existed); other
    content: 409 out_trade_no_conflict; nothing written either time.
    req: FUNC-PAY-21"""
    d = shop
    s = d.s
    body = order_body(amount=700)
    first = d.boss.post("/api/v1/merchant/orders", body).json()
    before = snapshot(s)
    r = d.clerk.post("/api/v1/merchant/orders", body)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == first["id"] and r.json()["existed"] is True
    changed = dict(body, amount=701, lines=[{"name": "龙井茶", "quantity": 1,
                                             "unit_amount": 701, "amount": 701}])
    r = d.boss.post("/api/v1/merchant/orders", changed)
    assert r.status_code == 409 and err(r) == "out_trade_no_conflict", r.text
    r = d.boss.post("/api/v1/merchant/orders", dict(body, subject="另一件"))
    assert r.status_code == 409 and err(r) == "out_trade_no_conflict"
    assert snapshot(s) == before
    # Another merchant may use the same number for its own order.
    r = d.rival.post("/api/v1/merchant/orders", body)
    assert r.status_code == 201 and r.json()["id"] != first["id"]


@pytest.mark.parametrize("change, code, field", [
    ({"lines": [{"name": "a", "quantity": 2, "unit_amount": 100, "amount": 201}],
      "amount": 201}, "order_lines_mismatch", "lines"),
    ({"amount": 999, "lines": [{"name": "a", "quantity": 1, "unit_amount": 1000,
                                "amount": 1000}]}, "order_lines_mismatch", "lines"),
    ({"lines": []}, "field_out_of_range", "lines"),
    ({"out_trade_no": "bad no"}, "invalid_field", "out_trade_no"),
    ({"out_trade_no": "x" * 65}, "field_out_of_range", "out_trade_no"),
    ({"currency": "USD"}, "invalid_field", "currency"),
    ({"kind": "credit"}, "invalid_field", "kind"),
    ({"return_url": "http://shop.example/r"}, "invalid_field", "return_url"),
    ({"notify_url": "https://shop.example/" + "x" * 300}, "field_out_of_range",
     "notify_url"),
    ({"ttl_s": 7 * 86400 + 1}, "field_out_of_range", "ttl_s"),
    ({"ttl_s": 0}, "field_out_of_range", "ttl_s"),
    ({"amount": 0}, "field_out_of_range", "amount"),
    ({"memo": "x"}, "unknown_field", "body"),
])
def test_a_bad_order_is_refused_and_writes_nothing(shop, change, code, field):
    d = shop
    before = snapshot(d.s)
    r = d.boss.post("/api/v1/merchant/orders", order_body(**change))
    assert r.status_code == 400 and err(r) == code, r.text
    assert r.json()["error"].get("field") == field
    assert snapshot(d.s) == before


def test_a_disabled_or_unregistered_merchant_creates_no_order(shop):
    d = shop
    register_merchant(d, "mch_off")
    off = merchant_user(d, "mch_off")
    r = d.op.req("PATCH", "/admin/v1/merchants/mch_off", {"state": "disabled"})
    assert r.status_code == 200
    nobody = merchant_user(d, "mch_unregistered")
    before = snapshot(d.s)
    r = off.post("/api/v1/merchant/orders", order_body())
    assert r.status_code == 409 and err(r) == "merchant_disabled", r.text
    r = nobody.post("/api/v1/merchant/orders", order_body())
    assert r.status_code == 404 and err(r) == "merchant_not_found", r.text
    assert snapshot(d.s) == before


def test_merchant_users_see_only_their_merchants_orders(shop):
    """Both roles of the merchant read its orders; another merchant's user
    gets 404; customers, operators and anonymous callers are refused.
    req: IAM-RBAC-05, IAM-LP-01"""
    d = shop
    s = d.s
    o = create_order(d.clerk)
    assert d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).status_code == 200
    assert d.clerk.get("/api/v1/merchant/orders/%s" % o["id"]).json()["state"] == "created"
    r = d.rival.get("/api/v1/merchant/orders/%s" % o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found"
    r = d.rival.get("/api/v1/merchant/orders?out_trade_no=%s" % o["out_trade_no"])
    assert r.status_code == 200 and r.json()["orders"] == []
    c = customer(s, pin=False)
    r = c.http.get("/api/v1/merchant/orders/%s" % o["id"])
    assert r.status_code == 403
    r = c.http.post("/api/v1/merchant/orders", order_body())
    assert r.status_code == 403
    assert Client(s).get("/api/v1/merchant/orders/%s" % o["id"]).status_code == 401
    # An operator's session is the admin listener's: none on this one.
    r = d.op.http.get(s.url("/api/v1/merchant/orders/%s" % o["id"]), timeout=30)
    assert r.status_code == 401
    assert d.boss.get("/api/v1/merchant/orders/ord_nosuchorder00000000000").status_code == 404


def test_orders_are_listed_newest_first_by_cursor_and_found_by_number(shop):
    d = shop
    register_merchant(d, "mch_list")
    m = merchant_user(d, "mch_list")
    ids = []
    for i in range(5):
        ids.append(create_order(m, out_trade_no="L%d" % i)["id"])
        d.s.clock(advance_ms=1)
    r = m.get("/api/v1/merchant/orders?limit=2")
    page = r.json()
    assert [o["id"] for o in page["orders"]] == ids[::-1][:2]
    seen = [o["id"] for o in page["orders"]]
    while page["next_cursor"]:
        page = m.get("/api/v1/merchant/orders?limit=2&cursor=%s" % page["next_cursor"]).json()
        seen += [o["id"] for o in page["orders"]]
    assert seen == ids[::-1]
    r = m.get("/api/v1/merchant/orders?out_trade_no=L3")
    assert [o["id"] for o in r.json()["orders"]] == [ids[3]]
    assert r.json()["orders"][0]["lines"][0]["amount"] == 1000
    r = m.get("/api/v1/merchant/orders?limit=101")
    assert r.status_code == 400 and err(r) == "field_out_of_range"
    # Another merchant's order id is no cursor here.
    other = create_order(d.boss)["id"]
    r = m.get("/api/v1/merchant/orders?cursor=%s" % other)
    assert r.status_code == 400 and err(r) == "invalid_field"


def test_cancel_closes_an_unpaid_order_once(shop):
    """Only the merchant's administrator cancels; a closed order cannot be
    cancelled again; another merchant's is not found. req: FUNC-PAY-06"""
    d = shop
    s = d.s
    o = create_order(d.boss)
    before = snapshot(s)
    r = d.clerk.post("/api/v1/merchant/orders/%s/cancel" % o["id"])
    assert r.status_code == 403 and err(r) == "forbidden"
    r = d.rival.post("/api/v1/merchant/orders/%s/cancel" % o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found"
    assert snapshot(s) == before
    r = d.boss.post("/api/v1/merchant/orders/%s/cancel" % o["id"])
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    assert s.query("SELECT state, closed_ms FROM pay_order WHERE id = ?", o["id"])[0][
        "closed_ms"] > 0
    rec = [json.loads(a["details"]) for a in s.audit("pay.order.cancelled")
           if a["object_id"] == o["id"]]
    assert rec == [{"merchant": "mch_tea", "from": "created", "to": "closed"}]
    before = snapshot(s)
    r = d.boss.post("/api/v1/merchant/orders/%s/cancel" % o["id"])
    assert r.status_code == 409 and err(r) == "order_closed"
    assert snapshot(s) == before


def test_an_order_closes_exactly_at_its_expiry(shop):
    """The expiry job closes a created order when the clock reaches
    expires_ms, not a millisecond before; audited."""
    d = shop
    s = d.s
    o = create_order(d.boss, ttl_s=120)
    now = s.clock(advance_ms=0)
    s.clock(advance_ms=o["expires_ms"] - 1 - now)
    assert s.post("/test/v1/pay/expire").status_code == 200
    assert d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()["state"] == "created"
    assert not [a for a in s.audit("pay.order.expired") if a["object_id"] == o["id"]]
    s.clock(advance_ms=1)
    r = s.post("/test/v1/pay/expire")
    assert r.status_code == 200 and r.json()["closed"] >= 1
    got = d.boss.get("/api/v1/merchant/orders/%s" % o["id"]).json()
    assert got["state"] == "closed"
    assert s.query("SELECT closed_ms FROM pay_order WHERE id = ?", o["id"])[0]["closed_ms"] \
        == o["expires_ms"]
    rec = [a for a in s.audit("pay.order.expired") if a["object_id"] == o["id"]]
    assert len(rec) == 1 and rec[0]["actor_id"] == "system"


def test_a_customer_sees_what_they_are_asked_to_pay(shop):
    """The merchant's display names, subject, bill lines, amount, state and
    expiry, before paying. req: FUNC-PAY-19"""
    d = shop
    o = create_order(d.boss, amount=300, lines=[
        {"name": "茶", "quantity": 3, "unit_amount": 100, "amount": 300}])
    c = customer(d.s, pin=False)
    r = c.http.get("/api/v1/me/orders/%s" % o["id"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["merchant"] == {"name_zh": "茶叶小铺", "name_en": "Tea Shop"}
    assert got["amount"] == 300 and got["currency"] == "CNY" and got["state"] == "created"
    assert got["lines"] == [{"name": "茶", "quantity": 3, "unit_amount": 100, "amount": 300}]
    assert got["expires_ms"] == o["expires_ms"] and got["paid_by_me"] is False
    r = c.http.get("/api/v1/me/orders/ord_nosuchorder00000000000")
    assert r.status_code == 404
    assert d.boss.get("/api/v1/me/orders/%s" % o["id"]).status_code == 403
    assert Client(d.s).get("/api/v1/me/orders/%s" % o["id"]).status_code == 401
