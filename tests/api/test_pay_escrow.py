"""Escrow payment (担保支付, FUNC-PAY-02/03), over HTTPS against a real anfud
(src/pay/escrow.c, src/pay/payment.c; handler src/pay/api/escrow.c;
docs/payments.md, "Escrow payment").

Paying an escrow order holds the money (customer_wallet -> platform_escrow,
PENDING); confirming receipt or the deadline (the merchant's escrow days on
the clock) releases what is left of it to the merchant less the fee; a
refund during escrow gives part of the hold back (the merchant's refund
route; tests/api/test_pay_refund_escrow.py tests every refund path). The release job runs only through
POST /test/v1/pay/escrow-release here (its interval is a day), so the
deadline is tested by moving the clock, never by sleeping.
"""
import json
import uuid

import pytest

from pay import (create_order, err, ledger_balance as account, make_desk, merchant_user,
                 order_state as state_of, pay_order as pay, register_merchant, start_server,
                 stop_server)
from test_wallet_transfers import PIN, balance, customer

DAY_MS = 86400 * 1000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payescrow")
    d = make_desk(s, "payesc")
    register_merchant(d, "mch_esc", fee_bps=100)
    register_merchant(d, "mch_esc3", fee_bps=0, escrow_days=3)
    d.boss = merchant_user(d, "mch_esc")
    d.boss3 = merchant_user(d, "mch_esc3")
    yield d
    stop_server(s)


def confirm(c, order_id, pin=PIN):
    return c.http.post("/api/v1/me/orders/%s/confirm-receipt" % order_id,
                       {"payment_password": pin})


def escrow_row(d, order_id):
    rows = d.s.query("SELECT * FROM pay_escrow WHERE order_id = ?", order_id)
    return rows[0] if rows else None


def snapshot(d, c, merchant="mch_esc"):
    s = d.s
    return (account(s, "customer_wallet", c.id),
            account(s, "merchant_pending", merchant), account(s, "platform_escrow", "platform"),
            account(s, "platform_fee", "platform"),
            s.query("SELECT COUNT(*) AS n FROM ledger_transfer")[0]["n"],
            [tuple(r.values()) for r in s.query("SELECT * FROM pay_escrow ORDER BY order_id")],
            # Not created/closed ones: the expiry job may close orders
            # whenever the clock moves.
            [tuple(r.values()) for r in s.query(
                "SELECT id, state FROM pay_order WHERE state NOT IN ('created', 'closed')"
                " ORDER BY id")],
            len(s.audit("pay.escrow.released")))


def release_job(d):
    r = d.s.post("/test/v1/pay/escrow-release", {})
    assert r.status_code == 200, r.text
    return r.json()["released"]


def escrow_refund(d, order_id, amount):
    """The merchant's refund (the rules approve it: refund_auto_max is the
    default 50 000 fen here), executed out of the escrow while held."""
    return d.boss.post("/api/v1/merchant/orders/%s/refunds" % order_id,
                       {"out_refund_no": "R" + uuid.uuid4().hex[:20], "amount": amount,
                        "currency": "CNY", "reason": "escrow refund"})


def held_left(d, order_id):
    row = escrow_row(d, order_id)
    return row["amount"] - row["refunded"]


def test_an_escrow_payment_holds_and_confirming_releases_less_the_fee(d):
    """Paying holds the amount (PENDING wallet -> escrow, no fee yet), the
    order is escrow_held with its deadline at paid + 10 days (the default);
    the payer's confirmation with the PIN posts the hold and moves it to the
    merchant, the fee (1%) to the platform, linked, audited, noticed.
    req: FUNC-PAY-02"""
    s = d.s
    c = customer(s, funds=50000)
    o = create_order(d.boss, amount=20050, kind="escrow")
    m0, e0, f0 = (account(s, "merchant_pending", "mch_esc"),
                  account(s, "platform_escrow", "platform"), account(s, "platform_fee", "platform"))
    r = pay(c, o["id"])
    assert r.status_code == 201 and r.json()["fee"] == 0, r.text
    paid_ms = r.json()["created_ms"]
    assert state_of(d, o["id"]) == "escrow_held"
    assert balance(c) == 50000 - 20050
    assert account(s, "customer_wallet", c.id) == (50000, -20050)  # held, not posted
    assert account(s, "platform_escrow", "platform") == (e0[0], e0[1] + 20050)
    assert account(s, "merchant_pending", "mch_esc") == m0
    row = escrow_row(d, o["id"])
    assert row["release_ms"] == paid_ms + 10 * DAY_MS and row["posted"] == 0
    hold = s.query("SELECT idem_key, flags, code FROM ledger_transfer WHERE ref = ?", o["id"])
    assert [(h["idem_key"], h["flags"], h["code"]) for h in hold] == \
        [("pay.%s" % o["id"], 2, "escrow_hold")]
    # The merchant's user is no payer; another customer sees no such order.
    other = customer(s, funds=10)
    r = confirm(other, o["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = confirm(c, o["id"], pin="000000")
    assert r.status_code == 403 and err(r) == "payment_password_invalid", r.text
    assert state_of(d, o["id"]) == "escrow_held"
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["state"] == "escrow_released"
    assert got["escrow"]["fee"] == 201 and got["escrow"]["left"] == 20050
    assert got["escrow"]["released_by"] == "customer"
    assert account(s, "customer_wallet", c.id) == (50000 - 20050, 0)
    assert account(s, "merchant_pending", "mch_esc") == (m0[0] + 20050 - 201, m0[1])
    assert account(s, "platform_fee", "platform") == (f0[0] + 201, f0[1])
    assert account(s, "platform_escrow", "platform") == e0
    trf = s.query("SELECT idem_key, amount, code, flags FROM ledger_transfer WHERE ref = ? "
                  "ORDER BY seq", o["id"])
    assert [(t["idem_key"], t["amount"], t["code"]) for t in trf] == [
        ("pay.%s" % o["id"], 20050, "escrow_hold"),
        ("pay.%s.escrow.post" % o["id"], 20050, "escrow_post"),
        ("pay.%s.release" % o["id"], 20050, "escrow_release"),
        ("pay.%s.release.fee" % o["id"], 201, "fee")]
    assert trf[1]["flags"] & 1 and trf[2]["flags"] & 1 and not trf[3]["flags"] & 1
    rec = [json.loads(a["details"]) for a in s.audit("pay.escrow.released")
           if a["object_id"] == o["id"]]
    assert len(rec) == 1 and rec[0]["by"] == "customer" and rec[0]["released"] == 20050
    assert s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = "
                   "'pay.escrow_released' AND user_id = ?", c.id)[0]["n"] >= 1
    # Twice: refused, nothing moves.
    before = snapshot(d, c)
    r = confirm(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    assert snapshot(d, c) == before


def test_confirming_refusals_change_nothing(d):
    """A general order, an unpaid escrow order, no order, a merchant user:
    refused with their codes; nothing moves."""
    s = d.s
    c = customer(s, funds=5000)
    general = create_order(d.boss, amount=100)
    assert pay(c, general["id"]).status_code == 201
    unpaid = create_order(d.boss, amount=100, kind="escrow")
    before = snapshot(d, c)
    r = confirm(c, general["id"])
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    r = confirm(c, unpaid["id"])
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = confirm(c, "ord_nosuchorder00000000000")
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = d.boss.post("/api/v1/me/orders/%s/confirm-receipt" % general["id"],
                    {"payment_password": PIN})
    assert r.status_code == 403
    r = c.http.post("/api/v1/me/orders/%s/confirm-receipt" % general["id"], {})
    assert r.status_code == 400
    assert snapshot(d, c) == before
    assert state_of(d, general["id"]) == "paid" and state_of(d, unpaid["id"]) == "created"


def test_refunds_during_escrow_void_part_of_the_hold(d):
    """A partial refund posts what stays held and gives the rest back at
    once; a second refund comes out of the escrow; the release moves what
    is left (amount - refunds) and its fee to the merchant.
    req: FUNC-PAY-02"""
    s = d.s
    c = customer(s, funds=10000)
    o = create_order(d.boss, amount=10000, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    assert balance(c) == 0
    e0 = account(s, "platform_escrow", "platform")
    m0 = account(s, "merchant_pending", "mch_esc")
    r = escrow_refund(d, o["id"], 3000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert held_left(d, o["id"]) == 7000 and state_of(d, o["id"]) == "escrow_held"
    assert balance(c) == 3000
    assert account(s, "customer_wallet", c.id) == (3000, 0)
    assert account(s, "platform_escrow", "platform") == (e0[0] + 7000, e0[1] - 10000)
    r = escrow_refund(d, o["id"], 2000)
    assert r.status_code == 201 and held_left(d, o["id"]) == 5000, r.text
    assert balance(c) == 5000
    # More than is held (the refunds' bound): refused, nothing moves.
    before = snapshot(d, c)
    r = escrow_refund(d, o["id"], 5001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d, c) == before
    r = confirm(c, o["id"])
    assert r.status_code == 200, r.text
    assert r.json()["escrow"]["left"] == 5000 and r.json()["escrow"]["fee"] == 50
    assert account(s, "merchant_pending", "mch_esc") == (m0[0] + 5000 - 50, m0[1])
    assert account(s, "platform_escrow", "platform") == (e0[0], e0[1] - 10000)
    assert balance(c) == 5000
    # Released: a refund no longer comes out of the escrow but from the
    # merchant's balance (the release's fee back: floor(50 * 1 / 5000) = 0).
    r = escrow_refund(d, o["id"], 1)
    assert r.status_code == 201 and r.json()["fee_back"] == 0, r.text
    assert account(s, "platform_escrow", "platform") == (e0[0], e0[1] - 10000)
    assert account(s, "merchant_pending", "mch_esc") == (m0[0] + 5000 - 50 - 1, m0[1])
    assert escrow_row(d, o["id"])["refunded"] == 5000 and balance(c) == 5001


def test_a_full_refund_during_escrow_voids_the_hold(d):
    """All of it: the hold is voided, the order refunded, nothing is left
    for the release. req: FUNC-PAY-02"""
    s = d.s
    c = customer(s, funds=800)
    o = create_order(d.boss, amount=800, kind="escrow")
    assert pay(c, o["id"]).status_code == 201
    e0 = account(s, "platform_escrow", "platform")
    r = escrow_refund(d, o["id"], 800)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert held_left(d, o["id"]) == 0 and state_of(d, o["id"]) == "refunded"
    assert balance(c) == 800
    assert account(s, "customer_wallet", c.id) == (800, 0)
    assert account(s, "platform_escrow", "platform") == (e0[0], e0[1] - 800)
    trf = s.query("SELECT idem_key, code FROM ledger_transfer WHERE ref = ? ORDER BY seq",
                  o["id"])
    assert [t["code"] for t in trf] == ["escrow_hold", "escrow_void"]
    before = snapshot(d, c)
    r = confirm(c, o["id"])
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    assert snapshot(d, c) == before
    d.refunded = o["id"]


def test_an_escrow_payment_is_refused_as_a_general_one(d):
    """Insufficient funds and an expired escrow order: refused with their
    codes, no hold, no escrow row."""
    s = d.s
    c = customer(s, funds=100)
    big = create_order(d.boss, amount=101, kind="escrow")
    late = create_order(d.boss, amount=10, kind="escrow", ttl_s=60)
    s.clock(advance_ms=61_000)
    before = snapshot(d, c)
    r = pay(c, big["id"])
    assert r.status_code == 409 and err(r) == "insufficient_funds", r.text
    r = pay(c, late["id"])
    assert r.status_code == 409 and err(r) == "order_expired", r.text
    assert snapshot(d, c) == before
    assert escrow_row(d, big["id"]) is None


def test_the_deadline_releases_at_the_deadline_not_a_millisecond_before(d):
    """The merchant's override (3 days) sets the deadline; the job a
    millisecond before releases nothing, at the deadline it releases (by
    the system, released_by deadline). Last in the module: the days it
    moves the clock end every session. req: FUNC-PAY-03"""
    s = d.s
    c = customer(s, funds=5000)
    o = create_order(d.boss3, amount=700, kind="escrow")
    r = pay(c, o["id"])
    assert r.status_code == 201, r.text
    due = escrow_row(d, o["id"])["release_ms"]
    assert due == r.json()["created_ms"] + 3 * DAY_MS
    now = s.clock(advance_ms=0)
    s.clock(advance_ms=due - 1 - now)
    before = snapshot(d, c, "mch_esc3")
    assert release_job(d) == 0
    assert snapshot(d, c, "mch_esc3") == before
    assert state_of(d, o["id"]) == "escrow_held"
    m0 = account(s, "merchant_pending", "mch_esc3")
    s.clock(advance_ms=1)
    # The hook's run releases it (or the job's own run on the clock's move
    # did: released_ms says when).
    release_job(d)
    assert state_of(d, o["id"]) == "escrow_released"
    assert account(s, "merchant_pending", "mch_esc3") == (m0[0] + 700, m0[1])
    row = escrow_row(d, o["id"])
    assert row["released_by"] == "deadline" and row["released_ms"] == due
    rec = [a for a in s.audit("pay.escrow.released") if a["object_id"] == o["id"]]
    assert len(rec) == 1 and rec[0]["actor_id"] == "system"
    # Released once: the job finds nothing more (the order refunded in
    # full earlier is passed over: not escrow_held).
    before = snapshot(d, c, "mch_esc3")
    assert release_job(d) == 0
    assert snapshot(d, c, "mch_esc3") == before
    assert state_of(d, d.refunded) == "refunded"
    assert escrow_row(d, d.refunded)["released_ms"] is None
