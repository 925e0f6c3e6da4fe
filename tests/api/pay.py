"""Helpers of the pay module's API tests (src/pay/; docs/payments.md):
one server with the people a payment involves.

Desk: the first administrator (security_admin: creates merchant users), a
security officer, an operator (pay.merchant.manage, made through four
eyes), two merchants with a profile each, and for the first an
administrator and a staff member; customers come from the wallet tests'
helper (registered, PIN set, funded through the wallet's test hook).
"""
import itertools
import uuid

from iam import Client, OTHER_PASSWORD, THIRD_PASSWORD, tick
from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, first_login,
                            merchant_first_login)
from test_ledger_state import make_staff

SEQ = itertools.count(1)


def err(r):
    return r.json()["error"]["code"]


class Desk:
    pass


def merchant_user(d, merchant_id, role="merchant_admin"):
    """A merchant administrator of merchant_id (made by the security admin),
    signed in on the main listener."""
    n = next(SEQ)
    name = "pay%s%d" % (merchant_id.replace("_", ""), n)
    email = "%s@shop.example.test" % name
    r = d.admin.post("/admin/v1/users", {"kind": "merchant", "username": name,
                                         "merchant_id": merchant_id, "role": role,
                                         "email": email})
    assert r.status_code == 201, r.text
    tick(d.s)
    c = merchant_first_login(d.s, name, email, THIRD_PASSWORD, "shop-%d" % n)
    c.email = email
    return c


def merchant_staff(d, boss):
    n = next(SEQ)
    name = "payclerk%d" % n
    email = "%s@shop.example.test" % name
    r = boss.post("/api/v1/merchant/users", {"username": name, "email": email})
    assert r.status_code == 201, r.text
    tick(d.s)
    c = merchant_first_login(d.s, name, email, OTHER_PASSWORD, "till-%d" % n)
    c.email = email
    return c


def register_merchant(d, merchant_id, **extra):
    body = {"merchant_id": merchant_id, "name_zh": "茶叶小铺", "name_en": "Tea Shop"}
    body.update(extra)
    r = d.op.post("/admin/v1/merchants", body)
    assert r.status_code == 201, r.text
    return r.json()


def make_desk(s, prefix):
    """prefix: unique per test module (staff names are mail addresses of
    the session-wide mail sink)."""
    s.clock(freeze=True)
    d = Desk()
    d.s = s
    d.admin, _ = first_login(s, "opsadmin", admin_password(s.init_out), ADMIN_NEW)
    out = s.cli_run("staff", "bootstrap", "--name", "secofficer", "--role",
                    "security_officer").stdout
    d.officer, _ = first_login(s, "secofficer", admin_password(out), OFFICER_NEW,
                               device="console-2")
    d.op = make_staff(s, d.admin, d.officer, prefix + "op", "operator", "console-3")
    d.risk = make_staff(s, d.admin, d.officer, prefix + "risk", "risk_officer", "console-4")
    return d


def order_body(out_trade_no=None, amount=1000, **extra):
    body = {"out_trade_no": out_trade_no or "T" + uuid.uuid4().hex[:20], "amount": amount,
            "currency": "CNY", "subject": "龙井茶 250g", "kind": "general",
            "lines": [{"name": "龙井茶", "quantity": 1, "unit_amount": amount,
                       "amount": amount}],
            "return_url": "https://shop.example/return",
            "notify_url": "https://shop.example/notify"}
    body.update(extra)
    return body


def create_order(m, **kw):
    r = m.post("/api/v1/merchant/orders", order_body(**kw))
    assert r.status_code == 201, r.text
    return r.json()
