"""Refunds (FUNC-SETL-08, FUNC-OPS-04), over HTTPS against a real anfud
(src/pay/refund.c; handlers src/pay/api/refunds.c; docs/payments.md,
"Refunds").

One server for the module (tests/api/pay.py, make_desk) with [pay]
refund_auto_max = 6000 fen (the rules approve up to it) and
refund_four_eyes_min = 20000 fen (two operators above it). Customers pay
general orders first (test_pay_general.py's helpers). "Nothing changed" on
a refusal is checked on balances, pay's and the ledger's rows and the
audit records.
"""
import threading
import time
import uuid

import pytest

from conftest import Server
from pay import create_order, err, make_desk, merchant_staff, merchant_user, register_merchant
from test_ledger_state import make_staff
from test_pay_general import account, fee_income, pay
from test_wallet_transfers import balance, customer

AUTO_MAX = 6000
FOUR_EYES = 20000


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("payrefund"), init_args=("--admin", "opsadmin"),
               config={"lockout": {"ip_failures": "10000"},
                       "pay": {"expire_interval_s": "86400",
                               "refund_auto_max": str(AUTO_MAX),
                               "refund_four_eyes_min": str(FOUR_EYES),
                               "refund_retry_interval_s": "600"},
                       "wallet": {"sms_confirm_over": "100000000000"}}).start()
    d = make_desk(s, "payrfd")
    d.op2 = make_staff(s, d.admin, d.officer, "payrfdop2", "operator", "console-5")
    register_merchant(d, "mch_rf", fee_bps=60)
    register_merchant(d, "mch_other", fee_bps=0)
    d.boss = merchant_user(d, "mch_rf")
    d.clerk = merchant_staff(d, d.boss)
    d.other = merchant_user(d, "mch_other")
    yield d
    s.stop()
    out = s.cli_run("ledger", "verify", check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


def paid_order(d, c, amount, merchant=None):
    o = create_order(merchant or d.boss, amount=amount)
    r = pay(c, o["id"])
    assert r.status_code == 201, r.text
    return o


def refund(m, order_id, amount, no=None, reason="七天无理由退货", **extra):
    body = {"out_refund_no": no or "R" + uuid.uuid4().hex[:20], "amount": amount,
            "currency": "CNY", "reason": reason}
    body.update(extra)
    return m.post("/api/v1/merchant/orders/%s/refunds" % order_id, body)


def state_of(d, order_id):
    return d.s.query("SELECT state FROM pay_order WHERE id = ?", order_id)[0]["state"]


def snapshot(d, c):
    s = d.s
    return (balance(c), account(s, "merchant_pending", "mch_rf"), fee_income(s),
            s.query("SELECT COUNT(*) AS n FROM pay_refund")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM ledger_transfer")[0]["n"],
            tuple(r["state"] for r in s.query("SELECT state FROM pay_order ORDER BY id")),
            tuple(r["state"] for r in s.query("SELECT state FROM pay_refund ORDER BY id")),
            len(s.audit("pay.refund.applied")), len(s.audit("pay.refund.succeeded")))


def test_a_refund_within_the_rules_moves_the_money_and_the_fee_back(d):
    """Up to refund_auto_max the rules approve and it executes at once: the
    fee back (rounded down on the cumulative share) and the money back as
    one linked chain; the order goes partially_refunded, then refunded;
    the same refund number answers the same refund; other content is a
    conflict. req: FUNC-SETL-08, FUNC-SETL-10, FUNC-OPS-04, FUNC-OPS-05"""
    s = d.s
    c = customer(s, funds=20000)
    o = paid_order(d, c, 10084)  # fee 61 at 60 bps
    c0, m0, f0 = balance(c), account(s, "merchant_pending", "mch_rf"), fee_income(s)
    no = "R-" + uuid.uuid4().hex[:16]
    r = refund(d.boss, o["id"], 5042, no=no)
    assert r.status_code == 201, r.text
    x = r.json()
    assert x["state"] == "succeeded" and x["amount"] == 5042 and x["fee_back"] == 30
    assert x["existed"] is False and x["reviewed_by"] == "rules" and x["id"].startswith("rfd_")
    assert balance(c) == c0 + 5042
    assert account(s, "merchant_pending", "mch_rf") == m0 - 5042 + 30
    assert fee_income(s) == f0 - 30
    assert state_of(d, o["id"]) == "partially_refunded"
    trf = s.query("SELECT idem_key, amount, code, flags FROM ledger_transfer WHERE ref = ? "
                  "AND code IN ('refund', 'fee_refund') ORDER BY seq", o["id"])
    assert [(t["idem_key"], t["amount"], t["code"]) for t in trf] == \
        [("refund.%s.fee" % x["id"], 30, "fee_refund"), ("refund.%s" % x["id"], 5042, "refund")]
    assert trf[0]["flags"] & 1 and not trf[1]["flags"] & 1  # linked chain
    acts = [a["action"] for a in s.audit() if a["object_id"] in (x["id"], o["id"])]
    for a in ("pay.refund.applied", "pay.refund.approved", "pay.refund.succeeded",
              "pay.order.refunded"):
        assert acts.count(a) == 1, (a, acts)
    # The same number with the same content: the same refund, nothing moves.
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 5042, no=no)
    assert r.status_code == 200 and r.json()["existed"] is True and r.json()["id"] == x["id"]
    # Other content under the same number: a conflict, nothing moves.
    for other in ({"amount": 5041}, {"reason": "换货"}):
        r = refund(d.boss, o["id"], other.get("amount", 5042), no=no,
                   reason=other.get("reason", "七天无理由退货"))
        assert r.status_code == 409 and err(r) == "refund_no_conflict", r.text
    assert snapshot(d, c) == before
    # The rest: the fee's other 31 fen back, the order refunded.
    r = refund(d.boss, o["id"], 5042)
    assert r.status_code == 201 and r.json()["fee_back"] == 31, r.text
    assert state_of(d, o["id"]) == "refunded"
    assert fee_income(s) == f0 - 61
    got = d.clerk.get("/api/v1/merchant/refunds/%s" % x["id"])
    assert got.status_code == 200 and got.json()["state"] == "succeeded", got.text
    # Nothing left: one more fen is refused, nothing moves.
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 1)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d, c) == before


def test_refunds_add_up_to_the_amount_paid_and_not_a_fen_more(d):
    """Cumulative refunds = the amount paid passes; +1 fen is refused and
    changes nothing. req: FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=10000)
    o = paid_order(d, c, 3000)
    assert refund(d.boss, o["id"], 2000).status_code == 201
    before = snapshot(d, c)
    r = refund(d.boss, o["id"], 1001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert r.json()["error"].get("field") in (None, "amount")
    assert snapshot(d, c) == before
    r = refund(d.boss, o["id"], 1000)
    assert r.status_code == 201 and r.json()["state"] == "succeeded", r.text
    assert state_of(d, o["id"]) == "refunded"


def test_racing_refunds_cannot_both_pass(d):
    """Two refunds of 60% of one order at once: the writer orders them;
    exactly one succeeds, the other is refused. req: FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=10000)
    o = paid_order(d, c, 4000)
    c0 = balance(c)
    out = []

    def go():
        out.append(refund(d.boss, o["id"], 2400))

    ts = [threading.Thread(target=go) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in out)
    assert codes == [201, 409], [r.text for r in out]
    assert [err(r) for r in out if r.status_code == 409] == ["refund_amount_exceeded"]
    assert balance(c) == c0 + 2400
    assert s.query("SELECT COUNT(*) AS n FROM pay_refund WHERE order_id = ?",
                   o["id"])[0]["n"] == 1


def test_refusals_change_nothing(d):
    """An unpaid order, another merchant's order, an unpaid escrow order, bad
    fields, and callers without the permission: refused with their codes,
    nothing written. req: FUNC-SETL-08, IAM-RBAC-01"""
    s = d.s
    c = customer(s, funds=10000)
    o = paid_order(d, c, 1000)
    unpaid = create_order(d.boss, amount=500)
    escrow = create_order(d.boss, amount=500, kind="escrow")
    theirs = paid_order(d, c, 700, merchant=d.other)
    before = snapshot(d, c)
    r = refund(d.boss, unpaid["id"], 100)
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    r = refund(d.boss, theirs["id"], 100)
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = refund(d.boss, "ord_" + "x" * 20, 100)
    assert r.status_code == 404, r.text
    # An escrow order is refundable once paid (test_pay_refund_escrow.py);
    # unpaid, it is refused as any unpaid order.
    r = refund(d.boss, escrow["id"], 100)
    assert r.status_code == 409 and err(r) == "order_state_invalid", r.text
    for bad, code in (({"amount": 0}, "field_out_of_range"),
                      ({"currency": "USD"}, "invalid_field"),
                      ({"out_refund_no": "no spaces"}, "invalid_field"),
                      ({"extra": 1}, "unknown_field")):
        body = {"out_refund_no": "Rbad", "amount": 100, "currency": "CNY", "reason": "x"}
        body.update(bad)
        r = d.boss.post("/api/v1/merchant/orders/%s/refunds" % o["id"], body)
        assert r.status_code == 400 and err(r) == code, (bad, r.text)
    # Staff read but do not refund; customers and operators are no merchants.
    r = refund(d.clerk, o["id"], 100)
    assert r.status_code == 403, r.text
    r = c.http.post("/api/v1/merchant/orders/%s/refunds" % o["id"],
                    {"out_refund_no": "Rc", "amount": 1, "currency": "CNY", "reason": "x"})
    assert r.status_code in (401, 403), r.text
    assert snapshot(d, c) == before
    # Another merchant's user does not see this merchant's refund.
    x = refund(d.boss, o["id"], 100).json()
    r = d.other.get("/api/v1/merchant/refunds/%s" % x["id"])
    assert r.status_code == 404 and err(r) == "refund_not_found", r.text


def review(op, refund_id, what):
    return op.post("/admin/v1/refunds/%s/%s" % (refund_id, what), {})


def test_above_the_rules_an_operator_reviews(d):
    """Above refund_auto_max the refund waits in review with nothing moved;
    its amount counts against the order meanwhile; an operator rejects
    (the amount is free again) or approves (it executes); a risk officer
    may not review. req: FUNC-OPS-04, FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=30000)
    o = paid_order(d, c, 12000)
    c0 = balance(c)
    r = refund(d.boss, o["id"], AUTO_MAX + 1)
    assert r.status_code == 201 and r.json()["state"] == "reviewing", r.text
    x = r.json()
    assert balance(c) == c0 and state_of(d, o["id"]) == "paid"
    assert x["ledger_transfer"] is None
    # Held in review, it counts: 12000 - 6001 left.
    r = refund(d.boss, o["id"], 12000 - AUTO_MAX)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    before = snapshot(d, c)
    r = review(d.risk, x["id"], "approve")
    assert r.status_code == 403, r.text
    assert snapshot(d, c) == before
    r = review(d.op, x["id"], "reject")
    assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
    assert balance(c) == c0 and state_of(d, o["id"]) == "paid"
    r = review(d.op, x["id"], "approve")
    assert r.status_code == 409 and err(r) == "refund_state_invalid", r.text
    r = review(d.op, "rfd_" + "y" * 20, "approve")
    assert r.status_code == 404, r.text
    # Rejected, its amount is free: a new one in review, approved.
    y = refund(d.boss, o["id"], 12000).json()
    assert y["state"] == "reviewing"
    r = review(d.op2, y["id"], "approve")
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    assert balance(c) == c0 + 12000 and state_of(d, o["id"]) == "refunded"
    assert [a["actor_id"] for a in s.audit("pay.refund.approved")
            if a["object_id"] == y["id"]] != []


def test_a_large_refund_needs_two_different_operators(d):
    """Above refund_four_eyes_min: the first approval is recorded and the
    refund stays in review; the same operator again is refused; another
    operator's approval executes it. req: FUNC-OPS-04"""
    s = d.s
    c = customer(s, funds=60000)
    o = paid_order(d, c, FOUR_EYES + 5000)
    c0 = balance(c)
    x = refund(d.boss, o["id"], FOUR_EYES + 1).json()
    assert x["state"] == "reviewing"
    r = review(d.op, x["id"], "approve")
    assert r.status_code == 200 and r.json()["state"] == "reviewing", r.text
    assert balance(c) == c0
    before = snapshot(d, c)
    r = review(d.op, x["id"], "approve")
    assert r.status_code == 409 and err(r) == "refund_checker_is_maker", r.text
    assert snapshot(d, c) == before
    r = review(d.op2, x["id"], "approve")
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    assert balance(c) == c0 + FOUR_EYES + 1
    assert state_of(d, o["id"]) == "partially_refunded"


def batch(m, items):
    return m.post("/api/v1/merchant/refund-batches", {"items": items})


def item(order_id, amount, no=None, **extra):
    it = {"order_id": order_id, "out_refund_no": no or "B" + uuid.uuid4().hex[:20],
          "amount": amount, "currency": "CNY", "reason": "批量退款"}
    it.update(extra)
    return it


def test_a_batch_refunds_item_by_item(d):
    """Each item goes the single refund's way and gets its own result:
    the good ones apply, the bad ones are refused alone; the same batch
    again answers the same refunds. req: FUNC-SETL-09, FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=20000)
    a, b = paid_order(d, c, 1000), paid_order(d, c, 2000)
    unpaid = create_order(d.boss, amount=300)
    c0 = balance(c)
    items = [item(a["id"], 1000), item(b["id"], 2001), item(unpaid["id"], 100),
             item(b["id"], 500), item(b["id"], AUTO_MAX + 1)]
    r = batch(d.boss, items)
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["index"] for x in res] == [0, 1, 2, 3, 4]
    assert [x["status"] for x in res] == ["applied", "refused", "refused", "applied", "refused"]
    assert res[0]["refund"]["state"] == "succeeded" and res[3]["refund"]["state"] == "succeeded"
    assert [res[i]["error"]["code"] for i in (1, 2, 4)] == \
        ["refund_amount_exceeded", "order_state_invalid", "refund_amount_exceeded"]
    assert r.json()["accepted"] == 2 and r.json()["refused"] == 3
    assert balance(c) == c0 + 1500
    assert state_of(d, a["id"]) == "refunded" and state_of(d, b["id"]) == "partially_refunded"
    before = snapshot(d, c)
    r = batch(d.boss, [items[0], items[3]])
    assert [x["status"] for x in r.json()["results"]] == ["existed", "existed"], r.text
    assert snapshot(d, c) == before


def test_a_malformed_or_oversized_batch_is_refused_whole(d):
    """A malformed item, no items, or more than the limit (50): 400, not
    one item applied. req: FUNC-SETL-09"""
    s = d.s
    c = customer(s, funds=5000)
    a = paid_order(d, c, 1000)
    before = snapshot(d, c)
    for items, code, field in (
            ([item(a["id"], 100), item(a["id"], 0)], "invalid_field", "amount"),
            ([item(a["id"], 100), item("usr_" + "z" * 22, 1)], "invalid_field", "order_id"),
            ([item(a["id"], 100), item(a["id"], 1, currency="USD")], "invalid_field",
             "currency"),
            ([item(a["id"], 100), dict(item(a["id"], 1), x=1)], "invalid_field", "items"),
            ([], "field_out_of_range", "items"),
            ([item(a["id"], 1) for _ in range(51)], "field_out_of_range", "items")):
        r = batch(d.boss, items)
        assert r.status_code == 400 and err(r) == code, r.text
        assert r.json()["error"].get("field") == field, r.text
    r = d.boss.post("/api/v1/merchant/refund-batches", {"items": [], "more": 1})
    assert r.status_code == 400 and err(r) == "unknown_field", r.text
    r = batch(d.clerk, [item(a["id"], 1)])
    assert r.status_code == 403, r.text
    assert snapshot(d, c) == before
    # 50 items: the limit itself passes.
    r = batch(d.boss, [item(a["id"], 1) for _ in range(50)])
    assert r.status_code == 200 and r.json()["accepted"] == 50, r.text


def test_a_dispute_about_an_order_refunds_through_the_refund_flow(d):
    """Kind "order" (src/pay/dispute.c): the payer lodges about a paid
    order (another customer may not), the merchant is a party; the
    operator's resolution refunds through the single refund's command
    (origin dispute, reviewed by that operator, above refund_auto_max
    too), once: the refund number comes from the dispute.
    req: FUNC-PAY-13, FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=30000)
    stranger = customer(s)
    o = paid_order(d, c, 12000)
    r = stranger.http.post("/api/v1/me/disputes", {"kind": "order", "ref": o["id"],
                                                   "category": "not_received",
                                                   "description": "没有收到"})
    assert r.status_code == 404, r.text
    r = c.http.post("/api/v1/me/disputes", {"kind": "order", "ref": o["id"],
                                            "category": "not_received",
                                            "description": "没有收到 / not received"})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    s.clock(advance_ms=1)
    assert d.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    c0 = balance(c)
    body = {"resolution": "退款 70 元", "refund_amount": AUTO_MAX + 1000}
    r = d.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert r.status_code == 200, r.text
    assert r.json()["refund"] == {"amount": AUTO_MAX + 1000, "state": "done"}, r.text
    rows = s.query("SELECT id, out_refund_no, origin, state, reviewed_by, amount FROM pay_refund"
                   " WHERE order_id = ?", o["id"])
    assert len(rows) == 1 and rows[0]["origin"] == "dispute", rows
    assert rows[0]["out_refund_no"] == "dispute-%s-refund" % did
    assert rows[0]["state"] == "succeeded" and rows[0]["reviewed_by"] != "rules"
    assert r.json()["refund_ref"] == rows[0]["id"]
    assert balance(c) == c0 + AUTO_MAX + 1000
    assert state_of(d, o["id"]) == "partially_refunded"
    before = snapshot(d, c)
    again = d.op.post("/admin/v1/disputes/%s/resolve" % did, body)
    assert again.status_code == 200, again.text
    assert snapshot(d, c) == before
    # Merchants may not use the disputes' refund numbers.
    r = refund(d.boss, o["id"], 1, no="dispute-%s-refund" % did)
    assert r.status_code == 400 and err(r) == "invalid_field", r.text
    assert snapshot(d, c) == before


def merchant_dispute_notices(s, merchant_id):
    return s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'dispute' AND "
                   "user_id IN (SELECT id FROM iam_user WHERE merchant_id = ?)",
                   merchant_id)[0]["n"]


def test_a_reopened_order_dispute_refunds_the_rest_and_the_merchant_is_told(d):
    """Kind "order" after a reopen: the first resolution's refund stays,
    the second refunds at most the rest of the order (one fen more is
    refused, nothing changed) under its own refund number
    dispute-<id>-refund-2; the merchant's users are told of the lodging,
    each resolution and the reopen through pay's merchant notice (not of
    the take). req: FUNC-PAY-13"""
    s = d.s
    c = customer(s, funds=30000)
    o = paid_order(d, c, 12000)
    m0 = merchant_dispute_notices(s, "mch_rf")
    r = c.http.post("/api/v1/me/disputes", {"kind": "order", "ref": o["id"],
                                            "category": "not_as_described",
                                            "description": "货不对板"})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    per = merchant_dispute_notices(s, "mch_rf") - m0  # one per merchant user and channel
    assert per >= 1
    s.clock(advance_ms=1)
    assert d.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    assert merchant_dispute_notices(s, "mch_rf") == m0 + per
    r = d.op.post("/admin/v1/disputes/%s/resolve" % did,
                  {"resolution": "部分退款", "refund_amount": 4000})
    assert r.status_code == 200 and r.json()["refund"]["state"] == "done", r.text
    assert merchant_dispute_notices(s, "mch_rf") == m0 + 2 * per
    r = c.http.post("/api/v1/me/disputes/%s/reopen" % did, {"reason": "还有问题"})
    assert r.status_code == 200 and r.json()["state"] == "open", r.text
    assert merchant_dispute_notices(s, "mch_rf") == m0 + 3 * per
    assert d.op.post("/admin/v1/disputes/%s/take" % did).status_code == 200
    before = snapshot(d, c)
    r = d.op.post("/admin/v1/disputes/%s/resolve" % did,
                  {"resolution": "全部退款", "refund_amount": 8001})
    assert r.status_code == 409 and err(r) == "dispute_refund_too_large", r.text
    assert snapshot(d, c) == before
    assert merchant_dispute_notices(s, "mch_rf") == m0 + 3 * per
    c0 = balance(c)
    r = d.op.post("/admin/v1/disputes/%s/resolve" % did,
                  {"resolution": "全部退款", "refund_amount": 8000})
    assert r.status_code == 200 and r.json()["refund"]["state"] == "done", r.text
    rows = s.query("SELECT out_refund_no, amount FROM pay_refund WHERE order_id = ? "
                   "ORDER BY created_ms", o["id"])
    assert rows == [{"out_refund_no": "dispute-%s-refund" % did, "amount": 4000},
                    {"out_refund_no": "dispute-%s-refund-2" % did, "amount": 8000}]
    assert balance(c) == c0 + 8000
    assert state_of(d, o["id"]) == "refunded"
    assert merchant_dispute_notices(s, "mch_rf") == m0 + 4 * per


def test_a_succeeded_refund_has_a_receipt_for_its_customer(d):
    """Kind "refund" (src/pay/receipt_refund.c): the customer downloads the
    signed receipt of a succeeded refund (the merchant pays, the money
    back's ledger transfer, the reason as memo); another customer and a
    refund still in review get 404 and nothing is issued.
    req: PKI-SIG-01, FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=20000)
    other = customer(s)
    o = paid_order(d, c, 9000)
    x = refund(d.boss, o["id"], 1000, reason="尺码不合适").json()
    held = refund(d.boss, o["id"], AUTO_MAX + 1).json()
    assert x["state"] == "succeeded" and held["state"] == "reviewing"
    issued = len(s.audit("receipt.issue"))
    r = other.http.get("/api/v1/me/receipts/refund/%s" % x["id"])
    assert r.status_code == 404, r.text
    r = c.http.get("/api/v1/me/receipts/refund/%s" % held["id"])
    assert r.status_code == 404, r.text
    assert len(s.audit("receipt.issue")) == issued
    r = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"])
    assert r.status_code == 200, r.text
    body = r.json()["body"]
    assert body["kind"] == "refund" and body["ref"] == x["id"]
    assert body["amount"] == 1000 and body["currency"] == "CNY" and body["state"] == "refunded"
    assert body["memo"] == "尺码不合适"
    assert body["ledger_transfers"] == [x["ledger_transfer"]]
    assert body["payer"] == {"type": "merchant", "name": "茶叶小铺"}
    assert body["payee"]["type"] == "customer"
    assert len(s.audit("receipt.issue")) == issued + 1


def request(c, order_id, amount, reason="不想要了"):
    return c.http.post("/api/v1/me/orders/%s/refund-requests" % order_id,
                       {"amount": amount, "currency": "CNY", "reason": reason})


def test_a_customer_requests_and_the_merchant_answers(d):
    """The payer asks (requested: nothing moves, one open request per
    order); another customer cannot; the merchant declines (declined) or
    accepts (then the rules: executed at once); the bound holds at the
    request and at the acceptance. req: FUNC-SETL-08, FUNC-SETL-10"""
    s = d.s
    c = customer(s, funds=20000)
    stranger = customer(s)
    o = paid_order(d, c, 3000)
    c0 = balance(c)
    r = request(stranger, o["id"], 100)
    assert r.status_code == 404 and err(r) == "order_not_found", r.text
    r = request(c, o["id"], 3001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    r = request(c, o["id"], 1200)
    assert r.status_code == 201 and r.json()["state"] == "requested", r.text
    first = r.json()["id"]
    before = snapshot(d, c)
    r = request(c, o["id"], 100)
    assert r.status_code == 409 and err(r) == "refund_state_invalid", r.text
    r = d.other.post("/api/v1/merchant/refunds/%s/accept" % first, {})
    assert r.status_code == 404 and err(r) == "refund_not_found", r.text
    r = d.clerk.post("/api/v1/merchant/refunds/%s/accept" % first, {})
    assert r.status_code == 403, r.text
    assert snapshot(d, c) == before and balance(c) == c0
    r = d.boss.post("/api/v1/merchant/refunds/%s/decline" % first, {})
    assert r.status_code == 200 and r.json()["state"] == "declined", r.text
    r = d.boss.post("/api/v1/merchant/refunds/%s/accept" % first, {})
    assert r.status_code == 409 and err(r) == "refund_state_invalid", r.text
    assert balance(c) == c0 and state_of(d, o["id"]) == "paid"
    r = request(c, o["id"], 1200)
    assert r.status_code == 201, r.text
    second = r.json()["id"]
    # Meanwhile the merchant refunds 2000 itself: the request no longer fits.
    assert refund(d.boss, o["id"], 2000).status_code == 201
    before = snapshot(d, c)
    r = d.boss.post("/api/v1/merchant/refunds/%s/accept" % second, {})
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    assert snapshot(d, c) == before
    r = d.boss.post("/api/v1/merchant/refunds/%s/decline" % second, {})
    assert r.status_code == 200, r.text
    third = request(c, o["id"], 1000).json()["id"]
    r = d.boss.post("/api/v1/merchant/refunds/%s/accept" % third, {})
    assert r.status_code == 200 and r.json()["state"] == "succeeded", r.text
    assert r.json()["origin"] == "customer"
    assert balance(c) == c0 + 3000 and state_of(d, o["id"]) == "refunded"
    acts = [a["action"] for a in s.audit() if a["object_id"] == third]
    assert acts == ["pay.refund.requested", "pay.refund.accepted", "pay.refund.approved",
                    "pay.refund.succeeded"], acts


def test_a_customers_request_with_a_request_id_is_made_once(d):
    """A retried request with the same request_id (same amount and reason)
    answers the request it made, as it is now (200; the first answer was
    201), writes nothing and needs no open-request check; another amount
    or reason under that id is 409 idempotency_conflict (field request_id)
    and changes nothing; the id is the payer's for that order: on another
    order it makes a new request. The boundary of the id's length: 64
    bytes pass, 65 are 400. Without request_id a request is as before.
    req: FUNC-SETL-08"""
    s = d.s
    c = customer(s, funds=20000)
    o = paid_order(d, c, 3000)
    o2 = paid_order(d, c, 2000)
    key = "k" * 64

    def ask(order_id, amount, reason="不想要了", request_id=key):
        return c.http.post("/api/v1/me/orders/%s/refund-requests" % order_id,
                           {"amount": amount, "currency": "CNY", "reason": reason,
                            "request_id": request_id})

    before = snapshot(d, c)
    r = ask(o["id"], 500, request_id="k" * 65)
    assert r.status_code == 400, r.text
    assert snapshot(d, c) == before
    r = ask(o["id"], 500)
    assert r.status_code == 201 and r.json()["state"] == "requested", r.text
    first = r.json()
    assert s.query("SELECT out_refund_no FROM pay_refund WHERE id = ?",
                   first["id"])[0]["out_refund_no"].startswith("customer-k")
    before = snapshot(d, c)
    audits = len(s.audit())
    r = ask(o["id"], 500)
    assert r.status_code == 200, r.text
    assert r.json() == first
    for amount, reason in ((501, "不想要了"), (500, "other reason")):
        r = ask(o["id"], amount, reason)
        assert r.status_code == 409 and err(r) == "idempotency_conflict", r.text
        assert r.json()["error"].get("field") == "request_id", r.text
    assert snapshot(d, c) == before and len(s.audit()) == audits
    # Another request of the same order under a new id: one open request.
    r = ask(o["id"], 500, request_id="another")
    assert r.status_code == 409 and err(r) == "refund_state_invalid", r.text
    # The same id on another order of the payer: a request of its own.
    r = ask(o2["id"], 500)
    assert r.status_code == 201 and r.json()["id"] != first["id"], r.text
    # Declined: the same id still answers that request, declined.
    r = d.boss.post("/api/v1/merchant/refunds/%s/decline" % first["id"], {})
    assert r.status_code == 200, r.text
    r = ask(o["id"], 500)
    assert r.status_code == 200 and r.json()["id"] == first["id"], r.text
    assert r.json()["state"] == "declined", r.text
    # Without request_id: a new request, numbered by its own id.
    r = request(c, o["id"], 500)
    assert r.status_code == 201 and r.json()["id"] != first["id"], r.text
    assert s.query("SELECT out_refund_no FROM pay_refund WHERE id = ?",
                   r.json()["id"])[0]["out_refund_no"] == "customer-" + r.json()["id"]


def ledger_move(s, key, dr, cr, amount):
    r = s.post("/test/v1/ledger/transfers", {
        "caller": "test", "idem_key": key, "debit_account": dr, "credit_account": cr,
        "amount": amount, "asset": "CNY", "code": "payment"})
    assert r.status_code == 200, r.text
    assert r.json()["code"] is None, r.text


def account_id(s, kind, owner):
    return s.query("SELECT id FROM ledger_account WHERE kind = ? AND owner_id = ?",
                   kind, owner)[0]["id"]


def test_a_short_merchant_balance_waits_and_the_job_retries(d):
    """Last in the module: it moves the clock past staff sessions' idle time.
    The merchant's balance is short: the refund waits (waiting_funds),
    nothing moves, its amount still counts; once the balance is back the
    job pay.refund_retry (on the clock) executes it. req: FUNC-OPS-05"""
    s = d.s
    c = customer(s, funds=10000)
    sink = customer(s)
    o = paid_order(d, c, 4000, merchant=d.other)  # mch_other: no fee
    mch = account_id(s, "merchant_pending", "mch_other")
    wal = account_id(s, "customer_wallet", sink.id)
    held = account(s, "merchant_pending", "mch_other")
    ledger_move(s, "drain-" + o["id"], mch, wal, held)
    c0 = balance(c)
    r = refund(d.other, o["id"], 3000)
    assert r.status_code == 201 and r.json()["state"] == "waiting_funds", r.text
    x = r.json()
    assert balance(c) == c0 and state_of(d, o["id"]) == "paid"
    assert len([a for a in s.audit("pay.refund.waiting_funds") if a["object_id"] == x["id"]]) == 1
    # Still short: the retry changes nothing.
    r = s.post("/test/v1/pay/refund-retry")
    assert r.status_code == 200 and r.json()["succeeded"] == 0, r.text
    assert s.query("SELECT state FROM pay_refund WHERE id = ?", x["id"])[0]["state"] == \
        "waiting_funds"
    r = refund(d.other, o["id"], 1001)
    assert r.status_code == 409 and err(r) == "refund_amount_exceeded", r.text
    ledger_move(s, "back-" + o["id"], wal, mch, held)
    s.clock(advance_ms=601_000)
    s.post("/test/v1/jobs/run")
    deadline = time.time() + 60  # a deadline: the loop ends when the job ran
    st = None
    while time.time() < deadline:
        st = s.query("SELECT state FROM pay_refund WHERE id = ?", x["id"])[0]["state"]
        if st == "succeeded":
            break
        time.sleep(0.2)
    assert st == "succeeded"
    assert balance(c) == c0 + 3000 and state_of(d, o["id"]) == "partially_refunded"
