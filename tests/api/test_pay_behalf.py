"""Pay-on-behalf (代付, FUNC-PAY-17) and the customer's cancel of a shared
order (FUNC-PAY-06), over HTTPS against a real anfud (src/pay/behalf.c;
handlers src/pay/api/behalf.c, src/pay/api/customer.c; docs/payments.md,
"Pay-on-behalf").

A requester shares an unpaid order; another customer opens the link and
pays with their own PIN and limits; the payment is the payer's and both see
the order. Link expiry is tested by moving the clock ([pay] share_ttl_s =
600 here), never by sleeping.
"""
import json
import uuid

import pytest

from pay import (create_order, err, make_desk, merchant_user, register_merchant, row_counts,
                 start_server, stop_server)
from test_wallet_transfers import PIN, balance, customer

TTL_MS = 600_000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "paybehalf", pay={"share_ttl_s": "600"})
    d = make_desk(s, "paybeh")
    register_merchant(d, "mch_beh", fee_bps=0)
    d.boss = merchant_user(d, "mch_beh")
    yield d
    stop_server(s)


def share(c, order_id):
    return c.http.post("/api/v1/me/orders/%s/share" % order_id, {})


def pay_shared(c, token, pin=PIN, request_id=None):
    return c.http.post("/api/v1/me/shared-orders/%s/pay" % token,
                       {"payment_password": pin, "request_id": request_id or uuid.uuid4().hex})


def snapshot(d):
    s = d.s
    return ([tuple(r.values()) for r in s.query("SELECT * FROM pay_share ORDER BY order_id")],
            [tuple(r.values()) for r in s.query(
                "SELECT id, state, payer_id FROM pay_order ORDER BY id")],
            *row_counts(s, "pay_payment", "ledger_transfer"),
            len(s.audit("pay.order.shared")), len(s.audit("pay.order.cancelled")))


def test_another_customer_pays_a_shared_order_and_both_see_it(d):
    """The requester shares; the payer opens the link and pays with their
    own PIN; the money leaves the payer's wallet; the order's payer is the
    payer; both read it, a third customer does not. req: FUNC-PAY-17"""
    s = d.s
    asker = customer(s, funds=0)
    payer = customer(s, funds=1000)
    o = create_order(d.boss, amount=300)
    r = share(asker, o["id"])
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["token"].startswith("shr_") and link["order_id"] == o["id"]
    assert link["link"] == "/pay/%s?share=%s" % (o["id"], link["token"])
    row = s.query("SELECT * FROM pay_share WHERE order_id = ?", o["id"])[0]
    assert row["requester_id"] == asker.id and link["token"] not in json.dumps(row)
    assert link["expires_ms"] == row["created_ms"] + TTL_MS
    rec = [json.loads(a["details"]) for a in s.audit("pay.order.shared")
           if a["object_id"] == o["id"]]
    assert len(rec) == 1 and rec[0]["requester"] == asker.id
    r = payer.http.get("/api/v1/me/shared-orders/%s" % link["token"])
    assert r.status_code == 200 and r.json() == {
        "order_id": o["id"], "expires_ms": link["expires_ms"], "requested_by_me": False}
    r = pay_shared(payer, link["token"])
    assert r.status_code == 201, r.text
    assert balance(payer) == 700 and balance(asker) == 0
    assert s.query("SELECT payer_id FROM pay_order WHERE id = ?", o["id"])[0]["payer_id"] == \
        payer.id
    got = payer.http.get("/api/v1/me/orders/%s" % o["id"]).json()
    assert got["state"] == "paid" and got["paid_by_me"] is True
    assert got["requested_by_me"] is False
    got = asker.http.get("/api/v1/me/orders/%s" % o["id"])
    assert got.status_code == 200, got.text
    assert got.json()["paid_by_me"] is False and got.json()["requested_by_me"] is True
    third = customer(s, pin=False)
    r = third.http.get("/api/v1/me/orders/%s" % o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found"
    # Paid already: another payment through the link, or a new share, refused.
    before = snapshot(d)
    r = pay_shared(payer, link["token"])
    assert r.status_code == 409 and err(r) == "order_paid", r.text
    r = pay_shared(asker, link["token"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = share(asker, o["id"])
    assert r.status_code == 409 and err(r) == "order_paid", r.text
    assert snapshot(d) == before


def test_link_refusals_change_nothing(d):
    """A wrong token, a malformed one, an expired link (at its expiry, not
    a millisecond later), another customer sharing: refused, nothing
    changes. req: FUNC-PAY-17"""
    s = d.s
    asker = customer(s, funds=0)
    payer = customer(s, funds=1000)
    o = create_order(d.boss, amount=100, ttl_s=3600)
    link = share(asker, o["id"]).json()
    before = snapshot(d)
    r = pay_shared(payer, "shr_" + "A" * 22)
    assert r.status_code == 404 and err(r) == "share_not_found", r.text
    r = payer.http.get("/api/v1/me/shared-orders/%s" % ("shr_" + "B" * 22))
    assert r.status_code == 404 and err(r) == "share_not_found", r.text
    r = payer.http.get("/api/v1/me/shared-orders/not-a-token")
    assert r.status_code == 404
    # Someone else cannot take the order over.
    r = share(payer, o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = d.boss.post("/api/v1/me/orders/%s/share" % o["id"], {})
    assert r.status_code == 403
    assert snapshot(d) == before
    now = s.clock(advance_ms=0)
    s.clock(advance_ms=link["expires_ms"] - now)
    r = pay_shared(payer, link["token"])
    assert r.status_code == 409 and err(r) == "share_expired", r.text
    r = payer.http.get("/api/v1/me/shared-orders/%s" % link["token"])
    assert r.status_code == 409 and err(r) == "share_expired", r.text
    assert balance(payer) == 1000
    assert snapshot(d) == before
    # Shared again (a new token replaces the old), it pays.
    again = share(asker, o["id"]).json()
    assert again["token"] != link["token"]
    r = pay_shared(payer, link["token"])
    assert r.status_code == 404 and err(r) == "share_not_found", r.text
    r = pay_shared(payer, again["token"])
    assert r.status_code == 201, r.text


def test_a_link_never_outlives_its_order(d):
    """An order expiring before share_ttl_s: the link expires with it.
    req: FUNC-PAY-17"""
    s = d.s
    asker = customer(s, pin=False)
    o = create_order(d.boss, amount=100, ttl_s=60)
    link = share(asker, o["id"]).json()
    assert link["expires_ms"] == o["expires_ms"]


def test_only_the_requester_cancels_a_shared_order(d):
    """Before sharing any customer holding the id may cancel; once shared,
    another customer is refused (order_not_found) and nothing changes; the
    requester cancels; the link then pays nothing. req: FUNC-PAY-06,
    FUNC-PAY-17"""
    s = d.s
    asker = customer(s, pin=False)
    payer = customer(s, funds=500)
    o = create_order(d.boss, amount=100)
    link = share(asker, o["id"]).json()
    before = snapshot(d)
    r = payer.http.post("/api/v1/me/orders/%s/cancel" % o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    assert snapshot(d) == before
    r = asker.http.post("/api/v1/me/orders/%s/cancel" % o["id"])
    assert r.status_code == 200 and r.json()["state"] == "closed", r.text
    before = snapshot(d)
    r = pay_shared(payer, link["token"])
    assert r.status_code == 409 and err(r) == "order_closed", r.text
    assert balance(payer) == 500
    assert snapshot(d) == before
    # An order nobody shared: any customer holding its id cancels it.
    o2 = create_order(d.boss, amount=100)
    r = payer.http.post("/api/v1/me/orders/%s/cancel" % o2["id"])
    assert r.status_code == 200, r.text
