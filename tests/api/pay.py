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

from conftest import Server
from iam import Client, OTHER_PASSWORD, THIRD_PASSWORD, tick
from test_iam_admin import (ADMIN_NEW, OFFICER_NEW, admin_password, first_login,
                            merchant_first_login)
from test_ledger_state import make_staff
from test_wallet_transfers import PIN

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


def start_server(tmp_path_factory, name, pay=None, wallet=True):
    """A started server for a pay test module (its data under a fresh
    directory name; first administrator opsadmin for make_desk): many
    logins from one address allowed; [pay] options pay over the expiry job
    once at the start, then not within the module's clock moves (tests
    close orders with POST /test/v1/pay/expire, deterministically);
    wallet: transfers need no SMS confirmation."""
    config = {"lockout": {"ip_failures": "10000"},
              "pay": dict({"expire_interval_s": "86400"}, **(pay or {}))}
    if wallet:
        config["wallet"] = {"sms_confirm_over": "100000000000"}
    return Server(tmp_path_factory.mktemp(name), init_args=("--admin", "opsadmin"),
                  config=config).start()


def stop_server(s, verify=True):
    """Stops s at the end of its module: the ledger verifies (verify) and
    the server stopped cleanly."""
    s.stop()
    if verify:
        out = s.cli_run("ledger", "verify", check=False)
        assert out.returncode == 0, out.stdout + out.stderr
    s.assert_stopped_cleanly()


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


def merchant_order(m, path, key, value, amount, **kw):
    """POSTs to a merchant route that makes an order of its own kind (path):
    an order's fields with key: value instead of a kind."""
    body = order_body(amount=amount, **kw)
    del body["kind"]
    body[key] = value
    return m.post(path, body)


def pay_order(c, order_id, request_id=None, pin=PIN):
    """The customer c pays order_id with the payment PIN."""
    return c.http.post("/api/v1/me/orders/%s/pay" % order_id,
                       {"payment_password": pin, "request_id": request_id or uuid.uuid4().hex})


def order_state(d, order_id):
    return d.s.query("SELECT state FROM pay_order WHERE id = ?", order_id)[0]["state"]


def ledger_balance(s, kind, owner_id):
    """(posted, pending): credits less debits of owner_id's one ledger
    account of kind, from its row."""
    rows = s.query("SELECT credits_posted, debits_posted, credits_pending, debits_pending "
                   "FROM ledger_account WHERE kind = ? AND owner_id = ?", kind, owner_id)
    assert len(rows) == 1, rows
    r = rows[0]
    return (r["credits_posted"] - r["debits_posted"], r["credits_pending"] - r["debits_pending"])


def row_counts(s, *froms):
    """The number of rows of each "table [WHERE ...]" of froms, in order."""
    return tuple(s.query("SELECT COUNT(*) AS n FROM " + f)[0]["n"] for f in froms)
