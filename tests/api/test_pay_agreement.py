"""Agreement payments (协议支付; FUNC-PAY-04/05), over HTTPS against a real
anfud (src/pay/agreement.c; handlers src/pay/api/agreements.c;
docs/payments.md, "Agreement payment").

The customer signs an agreement with a merchant after the PIN and a fresh
second factor; the record is signed by the platform's receipt key. The
merchant then debits quoting it, without the customer. "Nothing changed"
on a refusal is checked on balances, pay's and the ledger's rows, the
period usage and the audit records.
"""
import datetime
import json
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pay import (err, ledger_balance, make_desk, merchant_order, merchant_staff, merchant_user,
                 order_body, register_merchant, row_counts, start_server, stop_server)
from test_wallet_transfers import PIN, balance, customer

DAY_MS = 86400000
FRESH_MS = 300_000
VERIFY_PY = Path(__file__).resolve().parents[2] / "tools" / "verify_receipt.py"


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    s = start_server(tmp_path_factory, "payagree")
    # 01:00 in Shanghai: the module's few minutes of clock stay in one day.
    s.clock(freeze=True)
    s.to_cn_hour(1)
    d = make_desk(s, "payagree")
    register_merchant(d, "mch_gym", fee_bps=0)
    register_merchant(d, "mch_other")
    d.boss = merchant_user(d, "mch_gym")
    d.other = merchant_user(d, "mch_other")
    # Made now: staff sessions end when the module's clock moves minutes.
    d.tills = [merchant_user(d, "mch_gym") for _ in range(4)]
    d.clerk = merchant_staff(d, d.boss)
    yield d
    stop_server(s)


def sign(c, merchant_id="mch_gym", pin=PIN, **kw):
    body = {"merchant_id": merchant_id, "scope": "健身房月费 gym membership",
            "per_debit_max": 5000, "period": "day", "period_max": 8000,
            "expires_ms": kw.pop("now") + 30 * DAY_MS, "payment_password": pin}
    body.update(kw)
    return c.http.post("/api/v1/me/agreements", body)


def debit(m, agreement_no, amount, **kw):
    return merchant_order(m, "/api/v1/merchant/agreement-debits", "agreement_no", agreement_no,
                          amount, **kw)


def wallet(s, c):
    """The customer's balance from the ledger's rows (sessions end when a
    test moves the clock by hours)."""
    return ledger_balance(s, "customer_wallet", c.id)[0]


def snapshot(d, c):
    s = d.s
    return (balance(c),
            *row_counts(s, "pay_order", "pay_payment", "ledger_transfer"),
            [(r["agreement_id"], r["period_key"], r["used"]) for r in
             s.query("SELECT * FROM pay_agreement_usage ORDER BY agreement_id, period_key")],
            len(s.audit("pay.order.paid")))


def signed(d, c, **kw):
    r = sign(c, now=d.s.clock(advance_ms=0), **kw)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_signed_agreement_is_verifiable_and_debits_within_its_limits(d, tmp_path):
    """The agreement's document verifies offline with the receipt key and
    says what was agreed; the merchant debits the per-debit limit exactly
    without the customer (auth agreement); one fen over it and over the
    day's limit are refused with nothing changed; the usage is kept per
    Shanghai day. req: FUNC-PAY-04, FUNC-PAY-05"""
    s = d.s
    c = customer(s, funds=100000)
    a = signed(d, c)
    assert a["id"].startswith("agr_") and a["state"] == "active" and a["kid"]
    doc = json.loads(a["document"])
    body = json.loads(doc["body"]) if isinstance(doc["body"], str) else doc["body"]
    assert body["merchant"] == "mch_gym" and body["customer"] == c.id
    assert body["per_debit_max"] == 5000 and body["period_max"] == 8000 and body["id"] == a["id"]
    assert doc["kid"] == a["kid"]
    keys = s.get("/api/v1/receipts/keys")
    assert keys.status_code == 200, keys.text
    kp, dp = tmp_path / "keys.json", tmp_path / "agreement.json"
    kp.write_text(keys.text)
    dp.write_text(a["document"])
    out = subprocess.run([sys.executable, str(VERIFY_PY), str(dp), "--key", str(kp)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert len([x for x in s.audit("pay.agreement.signed") if x["object_id"] == a["id"]]) == 1
    r = debit(d.boss, a["id"], 5000)
    assert r.status_code == 201 and r.json()["state"] == "paid" and r.json()["kind"] == "agreement", r.text
    assert balance(c) == 95000
    assert s.query("SELECT auth, payer_id FROM pay_payment WHERE order_id = ?",
                   r.json()["id"]) == [{"auth": "agreement", "payer_id": c.id}]
    before = snapshot(d, c)
    r = debit(d.boss, a["id"], 5001)
    assert r.status_code == 409 and err(r) == "agreement_debit_limit", r.text
    r = debit(d.boss, a["id"], 3001)
    assert r.status_code == 409 and err(r) == "agreement_period_limit", r.text
    assert snapshot(d, c) == before
    assert debit(d.boss, a["id"], 3000).status_code == 201  # 8000 the day, exactly
    r = debit(d.boss, a["id"], 1)
    assert r.status_code == 409 and err(r) == "agreement_period_limit", r.text
    assert wallet(s, c) == 100000 - 8000
    day = s.query("SELECT period_key, used FROM pay_agreement_usage WHERE agreement_id = ?",
                  a["id"])
    assert len(day) == 1 and day[0]["used"] == 8000 and len(day[0]["period_key"]) == 10


def test_missing_other_merchants_revoked_and_expired_agreements_debit_nothing(d):
    """req: FUNC-PAY-05"""
    s = d.s
    c = customer(s, funds=10000)
    a = signed(d, c)
    before = snapshot(d, c)
    r = debit(d.boss, "agr_nosuchagreement0000000", 10)
    assert r.status_code == 404 and err(r) == "agreement_not_found", r.text
    r = debit(d.other, a["id"], 10)
    assert r.status_code == 404 and err(r) == "agreement_not_found", r.text
    assert snapshot(d, c) == before
    # Expired at expires_ms exactly; a millisecond before it debits.
    b = signed(d, c, expires_ms=s.clock(advance_ms=0) + 60000)
    s.clock(advance_ms=60000 - 1)
    assert debit(d.boss, b["id"], 10).status_code == 201
    s.clock(advance_ms=1)
    before = snapshot(d, c)
    r = debit(d.boss, b["id"], 10)
    assert r.status_code == 409 and err(r) == "agreement_expired", r.text
    assert snapshot(d, c) == before
    # Revoked: at once, audited; a debit after it is refused.
    r = c.http.post("/api/v1/me/agreements/%s/revoke" % a["id"], {})
    assert r.status_code == 200 and r.json()["state"] == "revoked", r.text
    rec = [x for x in s.audit("pay.agreement.revoked") if x["object_id"] == a["id"]]
    assert len(rec) == 1 and rec[0]["actor_id"] == c.id
    r = debit(d.boss, a["id"], 10)
    assert r.status_code == 409 and err(r) == "agreement_revoked", r.text
    r = c.http.post("/api/v1/me/agreements/%s/revoke" % a["id"], {})
    assert r.status_code == 409 and err(r) == "agreement_revoked", r.text
    assert snapshot(d, c) == before



def test_customers_list_their_own_agreements_only(d):
    s = d.s
    c = customer(s, funds=0)
    other = customer(s, funds=0)
    a = signed(d, c)
    r = c.http.get("/api/v1/me/agreements")
    assert r.status_code == 200 and [x["id"] for x in r.json()["agreements"]] == [a["id"]]
    assert other.http.get("/api/v1/me/agreements").json()["agreements"] == []
    assert c.http.get("/api/v1/me/agreements/%s" % a["id"]).json()["document"] == a["document"]
    r = other.http.get("/api/v1/me/agreements/%s" % a["id"])
    assert r.status_code == 404 and err(r) == "agreement_not_found"
    r = other.http.post("/api/v1/me/agreements/%s/revoke" % a["id"], {})
    assert r.status_code == 404 and err(r) == "agreement_not_found"
    assert s.query("SELECT state FROM pay_agreement WHERE id = ?", a["id"])[0]["state"] == "active"


def test_racing_debits_cannot_both_pass_the_period_limit(d):
    """Four debits of 5000 at once under a day limit of 8000: the usage is
    recorded inside the payment's writer command, so exactly one passes.
    req: FUNC-PAY-05"""
    s = d.s
    c = customer(s, funds=100000)
    a = signed(d, c)
    tills = d.tills
    with ThreadPoolExecutor(len(tills)) as ex:
        rs = list(ex.map(lambda m: debit(m, a["id"], 5000), tills))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409], [r.text for r in rs]
    assert all(err(r) == "agreement_period_limit" for r in rs if r.status_code == 409)
    assert balance(c) == 95000
    assert [u["used"] for u in s.query("SELECT used FROM pay_agreement_usage "
                                       "WHERE agreement_id = ?", a["id"])] == [5000]


def test_who_may_sign_and_debit(d):
    """Only customers sign; only the merchant's administrator debits (staff
    and customers: 403). req: IAM-RBAC-01"""
    s = d.s
    c = customer(s, funds=1000)
    a = signed(d, c)
    r = d.boss.post("/api/v1/me/agreements", {
        "merchant_id": "mch_gym", "scope": "x", "per_debit_max": 1, "period": "day",
        "period_max": 1, "expires_ms": s.clock(advance_ms=0) + DAY_MS, "payment_password": PIN})
    assert r.status_code == 403
    assert debit(d.clerk, a["id"], 10).status_code == 403
    r = c.http.post("/api/v1/merchant/agreement-debits",
                    dict(order_body(amount=10), agreement_no=a["id"]))
    assert r.status_code == 403
    assert balance(c) == 1000

def test_an_agreement_order_is_not_paid_on_the_general_route(d):
    """The payment function's kind switch pays an agreement order only for
    a debit of its agreement: with the PIN on the general route,
    payment_kind_unsupported and nothing changed."""
    s = d.s
    c = customer(s, funds=1000)
    r = d.boss.post("/api/v1/merchant/orders", order_body(amount=10, kind="agreement"))
    assert r.status_code == 201, r.text
    before = snapshot(d, c)
    r = c.http.post("/api/v1/me/orders/%s/pay" % r.json()["id"],
                    {"payment_password": PIN, "request_id": uuid.uuid4().hex})
    assert r.status_code == 409 and err(r) == "payment_kind_unsupported", r.text
    assert snapshot(d, c) == before


def test_signing_needs_the_pin_and_a_fresh_second_factor(d):
    """Without a second factor within second_factor_fresh_s:
    step_up_required; a wrong PIN: payment_password_invalid; a period limit
    below the per-debit one, an unknown merchant: refused; nothing
    written."""
    s = d.s
    c = customer(s, funds=0)
    n0 = s.query("SELECT COUNT(*) AS n FROM pay_agreement")[0]["n"]
    r = sign(c, now=s.clock(advance_ms=0), pin="000000")
    assert r.status_code == 403 and err(r) == "payment_password_invalid", r.text
    r = sign(c, now=s.clock(advance_ms=0), period_max=4999)
    assert r.status_code == 400 and err(r) == "field_out_of_range", r.text
    r = sign(c, now=s.clock(advance_ms=0), merchant_id="mch_nobody")
    assert r.status_code == 404 and err(r) == "merchant_not_found", r.text
    r = sign(c, now=s.clock(advance_ms=0), period="week")
    assert r.status_code == 400, r.text
    s.clock(advance_ms=FRESH_MS + 1)
    r = sign(c, now=s.clock(advance_ms=0))
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert s.query("SELECT COUNT(*) AS n FROM pay_agreement")[0]["n"] == n0
    assert s.audit("pay.agreement.signed") == [] or all(
        x["actor_id"] != c.id for x in s.audit("pay.agreement.signed"))


# ---- the period limit's calendar in China time (issue 11 wave 3) ----

CN = datetime.timezone(datetime.timedelta(hours=8))


def cn_midnight_after(ms):
    """The next 00:00 in Asia/Shanghai after ms, in ms."""
    t = datetime.datetime.fromtimestamp(ms / 1000, CN)
    day = (t + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp() * 1000)


def cn_month_after(ms):
    """The first day of the next month 00:00 in Asia/Shanghai after ms, in ms."""
    t = datetime.datetime.fromtimestamp(ms / 1000, CN)
    first = (t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
             + datetime.timedelta(days=32)).replace(day=1)
    return int(first.timestamp() * 1000)


def cn_key(ms, fmt):
    return datetime.datetime.fromtimestamp(ms / 1000, CN).strftime(fmt)


def clock_to(s, ms):
    return s.clock(advance_ms=ms - s.clock(advance_ms=0))


class Till:
    """One of the module's merchant administrators (d.tills), signing in
    again after the clock moved past its session's life (same device, the
    e-mail code when asked; its username is its mail's local part)."""

    def __init__(self, d, i):
        self.d = d
        self.m = d.tills[i]
        self.name = self.m.email.split("@")[0]

    def again(self):
        from iam import Client, THIRD_PASSWORD, mails_to
        from iam import mail_code
        s = self.d.s
        now = s.clock(advance_ms=0)
        c = Client(s, device=self.m.device_key[1])
        n = len(mails_to(self.m.email, wait=0))
        r = c.login(self.name, THIRD_PASSWORD)
        assert r.status_code == 200, r.text
        if r.json()["state"] == "mfa_required":
            assert c.send_code("login", "email").status_code == 202
            r = c.mfa("email", mail_code(s, self.m.email, n), trust_device=True)
            assert r.status_code == 200, r.text
        assert r.json()["state"] == "active", r.text
        assert s.clock(advance_ms=0) == now
        c.email = self.m.email
        self.m = c
        return c


def again(s, c):
    """Customer c signed in again (the clock moved past its session)."""
    from iam import login_customer
    now = s.clock(advance_ms=0)
    c.http = login_customer(s, c.phone, device=c.http.device_key[1])
    assert s.clock(advance_ms=0) == now
    return c


def usage(s, agreement_id):
    return [(u["period_key"], u["used"]) for u in s.query(
        "SELECT period_key, used FROM pay_agreement_usage WHERE agreement_id = ? "
        "ORDER BY period_key", agreement_id)]


def period_refuses(d, m, c, a, amount):
    """A debit of amount over a's period limit: refused, nothing changed."""
    before = snapshot(d, c)
    r = debit(m, a["id"], amount)
    assert r.status_code == 409 and err(r) == "agreement_period_limit", r.text
    assert snapshot(d, c) == before


def resets_at(d, m, c, a, boundary, fmt):
    """At boundary - 1 ms (now), with 8000 of a's 8000 used from a wallet of
    100000: one fen more is refused; at boundary exactly 5000 pass, kept
    under the new period's key (fmt of the Shanghai time)."""
    s = d.s
    assert s.clock(advance_ms=0) == boundary - 1 and wallet(s, c) == 100000 - 8000
    period_refuses(d, m, c, a, 1)
    s.clock(advance_ms=1)
    r = debit(m, a["id"], 5000)
    assert r.status_code == 201, r.text
    assert wallet(s, c) == 100000 - 13000
    assert usage(s, a["id"]) == [(cn_key(boundary - 1, fmt), 8000),
                                 (cn_key(boundary, fmt), 5000)]


def test_the_day_period_resets_at_midnight_china_time(d):
    """A day period's usage is the Shanghai calendar day's: a millisecond
    before 00:00 (China time, 16:00 UTC) the day's debits still count
    (over the limit: refused, nothing changed), at 00:00 exactly the usage
    starts again. req: FUNC-PAY-05"""
    s = d.s
    till = Till(d, 0)
    midnight = cn_midnight_after(s.clock(advance_ms=0) + 3_600_000)
    clock_to(s, midnight - 600_000)  # 23:50 in Shanghai
    m = till.again()
    c = customer(s, funds=100000)
    a = signed(d, c, period="day", period_max=8000)
    assert debit(m, a["id"], 5000).status_code == 201
    assert debit(m, a["id"], 3000).status_code == 201
    clock_to(s, midnight - 1)
    resets_at(d, m, c, a, midnight, "%Y-%m-%d")


def test_the_month_period_resets_at_the_calendar_month_in_china_time(d):
    """A month period's usage is the Shanghai calendar month's: it is kept
    across a day boundary inside the month, still counts a millisecond
    before the 1st 00:00 (China time) and starts again at it exactly.
    req: FUNC-PAY-05"""
    s = d.s
    till = Till(d, 1)
    now = s.clock(advance_ms=0)
    first = cn_month_after(now)
    if first - 86_400_000 - 600_000 <= now:  # already in the month's last day
        first = cn_month_after(first)
    last_day = first - 86_400_000
    clock_to(s, last_day - 600_000)  # the day before the last, 23:50
    m = till.again()
    c = customer(s, funds=100000)
    a = signed(d, c, period="month", period_max=8000)
    assert debit(m, a["id"], 5000).status_code == 201
    # A day boundary inside the month: the month's usage stays.
    clock_to(s, last_day)
    period_refuses(d, m, c, a, 3001)
    assert debit(m, a["id"], 3000).status_code == 201
    # The month's end.
    clock_to(s, first - 1)
    m = till.again()
    c = again(s, c)
    resets_at(d, m, c, a, first, "%Y-%m")
