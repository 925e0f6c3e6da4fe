"""Receipts of payments (kind "payment"; src/pay/receipt_payment.c, the
merchant route in src/pay/api/history.c; docs/payments.md "Receipts"):
both parties download the one stored receipt — the payer at
/api/v1/me/receipts/payment/{id}, the merchant's users at
/api/v1/merchant/receipts/payment/{id} — nobody else sees it, and the
offline verifiers accept it and refuse tampering."""
import json
import uuid

import pytest

from pay import (create_order, err, make_desk, merchant_staff, merchant_user, register_merchant,
                 start_server, stop_server)
from test_pay_history import refund_of
from test_receipts import check_verifiers
from test_wallet_transfers import PIN, customer


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payreceipts")
    d = make_desk(s, "payrct")
    register_merchant(d, "mch_rct", fee_bps=60)
    register_merchant(d, "mch_rct2", fee_bps=0)
    d.boss = merchant_user(d, "mch_rct")
    d.clerk = merchant_staff(d, d.boss)
    d.other = merchant_user(d, "mch_rct2")
    yield d
    stop_server(s, verify=False)


def paid(d, amount=10084, subject="龙井茶 250g"):
    c = customer(d.s, name="张三", funds=100000)
    o = create_order(d.boss, amount=amount, subject=subject)
    r = c.http.post("/api/v1/me/orders/%s/pay" % o["id"],
                    {"payment_password": PIN, "request_id": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    return c, o, r.json()


def counts(s):
    return (s.query("SELECT COUNT(*) AS n FROM receipt")[0]["n"],
            len(s.audit("receipt.issue")), len(s.audit("receipt.download")))


def test_payer_and_merchant_users_download_one_receipt(d):
    """The payer and both of the merchant's users get the same stored
    receipt; its body holds the masked payer, the merchant's name, the
    amount, the subject and both ledger transfers. req: FUNC-PAY-01,
    DATA-MASK-04"""
    s = d.s
    c, o, p = paid(d)
    r = c.http.get("/api/v1/me/receipts/payment/%s" % p["id"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.content
    body = json.loads(doc)["body"]
    assert body["kind"] == "payment" and body["ref"] == p["id"]
    assert body["amount"] == 10084 and body["currency"] == "CNY"
    assert body["payer"] == {"type": "customer", "name": "*三"}
    assert body["payee"] == {"type": "merchant", "name": "茶叶小铺"}
    assert body["memo"] == "龙井茶 250g" and body["state"] == "completed"
    trf = [t["id"] for t in s.query("SELECT id FROM ledger_transfer WHERE ref = ? ORDER BY seq",
                                    o["id"])]
    assert body["ledger_transfers"] == trf and len(trf) == 2
    assert c.id not in doc.decode()
    for m in (d.boss, d.clerk):
        r = m.get("/api/v1/merchant/receipts/payment/%s" % p["id"])
        assert r.status_code == 200, r.text
        assert r.content == doc
        assert r.headers["Content-Disposition"].startswith("attachment; filename=\"rct_")
    assert s.query("SELECT COUNT(*) AS n FROM receipt WHERE kind = 'payment' AND ref_id = ?",
                   p["id"])[0]["n"] == 1
    downloads = [a for a in s.audit("receipt.download") if p["id"] in a["details"]]
    assert len(downloads) == 3
    assert len({a["actor_id"] for a in downloads}) == 3


def test_others_get_404_and_nothing_is_issued(d):
    """Another customer, another merchant's user, an unknown payment and a
    customer on the merchant route: refused, no receipt issued or audited.
    req: FUNC-PAY-14"""
    s = d.s
    c, _, p = paid(d, amount=500)
    stranger = customer(s, name="王五")
    before = counts(s)
    r = stranger.http.get("/api/v1/me/receipts/payment/%s" % p["id"])
    assert r.status_code == 404 and err(r) == "not_found", r.text
    r = d.other.get("/api/v1/merchant/receipts/payment/%s" % p["id"])
    assert r.status_code == 404 and err(r) == "not_found", r.text
    r = d.boss.get("/api/v1/merchant/receipts/payment/pmt_nosuchpayment")
    assert r.status_code == 404 and err(r) == "not_found", r.text
    r = d.boss.get("/api/v1/merchant/receipts/payment/pmt-bad")
    assert r.status_code == 404 and err(r) == "not_found", r.text
    r = c.http.get("/api/v1/merchant/receipts/payment/%s" % p["id"])
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    assert counts(s) == before


def test_verifiers_accept_a_payment_receipt_and_refuse_tampering(d, tmp_path):
    """tools/verify_receipt.py and `anfu receipts verify` accept the
    merchant's copy and refuse a changed amount, subject, signature, key id
    or an added member. req: PKI-SIG-02, TX-VER-01"""
    _, _, p = paid(d, amount=777, subject='奶茶 "大杯" =1+1')
    r = d.boss.get("/api/v1/merchant/receipts/payment/%s" % p["id"])
    assert r.status_code == 200, r.text
    check_verifiers(d.s, tmp_path, r.content, "ed25519")


# ---- refunds' receipts on the merchant route (wave 4) ------------------------

def refunded(d, amount=3000):
    """A paid order and a refund of part of it that succeeds at once
    (within the rules)."""
    c, o, _ = paid(d)
    x = refund_of(d.boss, o["id"], amount)
    assert x["state"] == "succeeded", x
    return c, o, x


def test_merchant_users_download_a_refunds_receipt_the_customers_copy(d, tmp_path):
    """The order's merchant's users (merchant_admin, merchant_staff: both
    hold pay.order.read) download a succeeded refund's receipt at
    /api/v1/merchant/receipts/refund/{id}: the one stored receipt, the same
    bytes as the customer's copy, the merchant paying the customer back;
    each download audited; the verifiers accept it and refuse tampering.
    req: TX-NR-01, PKI-SIG-02, TX-VER-01"""
    s = d.s
    c, o, x = refunded(d)
    r = d.boss.get("/api/v1/merchant/receipts/refund/%s" % x["id"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Content-Disposition"].startswith("attachment; filename=\"rct_")
    doc = r.content
    body = json.loads(doc)["body"]
    assert body["kind"] == "refund" and body["ref"] == x["id"]
    assert body["amount"] == 3000 and body["currency"] == "CNY"
    assert body["state"] == "refunded" and body["memo"] == "退货"
    assert body["payer"] == {"type": "merchant", "name": "茶叶小铺"}
    assert body["payee"]["type"] == "customer"
    assert body["ledger_transfers"] == [x["ledger_transfer"]]
    assert c.id not in doc.decode()
    r = d.clerk.get("/api/v1/merchant/receipts/refund/%s" % x["id"])
    assert r.status_code == 200 and r.content == doc, r.text
    r = c.http.get("/api/v1/me/receipts/refund/%s" % x["id"])
    assert r.status_code == 200 and r.content == doc, r.text
    assert s.query("SELECT COUNT(*) AS n FROM receipt WHERE kind = 'refund' AND ref_id = ?",
                   x["id"])[0]["n"] == 1
    downloads = [a for a in s.audit("receipt.download") if x["id"] in a["details"]]
    assert len(downloads) == 3 and len({a["actor_id"] for a in downloads}) == 3
    check_verifiers(s, tmp_path, doc, "ed25519")


def test_refund_receipt_refusals_on_the_merchant_route_change_nothing(d):
    """Another merchant's user, a refund not yet succeeded (a customer's
    request waiting for the merchant), an unknown refund: 404 not_found; a
    customer (even the payee) is not a merchant user: 403 forbidden;
    operators' sessions (the admin listener) have no merchant route: 404.
    No receipt is issued, nothing is audited. req: IAM-RBAC-04"""
    s = d.s
    c, o, x = refunded(d, amount=1000)
    r = c.http.post("/api/v1/me/orders/%s/refund-requests" % o["id"],
                    {"amount": 500, "currency": "CNY", "reason": "不想要了"})
    assert r.status_code == 201 and r.json()["state"] == "requested", r.text
    rq = r.json()
    before = counts(s)
    r = d.other.get("/api/v1/merchant/receipts/refund/%s" % x["id"])
    assert r.status_code == 404 and err(r) == "not_found", r.text
    for m in (d.boss, d.clerk):
        r = m.get("/api/v1/merchant/receipts/refund/%s" % rq["id"])
        assert r.status_code == 404 and err(r) == "not_found", r.text
    r = d.boss.get("/api/v1/merchant/receipts/refund/rfd_nosuchrefund")
    assert r.status_code == 404 and err(r) == "not_found", r.text
    r = c.http.get("/api/v1/merchant/receipts/refund/%s" % x["id"])
    assert r.status_code == 403 and err(r) == "forbidden", r.text
    for staff in (d.op, d.risk):
        r = staff.get("/api/v1/merchant/receipts/refund/%s" % x["id"])
        assert r.status_code == 404 and err(r) == "not_found", r.text
    assert counts(s) == before
    # The refund is the merchant's all the same: the payee's own route.
    assert c.http.get("/api/v1/me/receipts/refund/%s" % x["id"]).status_code == 200
