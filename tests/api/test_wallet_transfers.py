"""Transfers between customers, their limits and the history, over HTTPS
against a real anfud (src/wallet/; docs/wallet.md).

One server for the module with the default [wallet] limits (PIN alone:
100000 fen a transfer and a day; PIN + second factor: 500000). Each test
registers customers of its own and funds them through the wallet's test
hook (bank_reserve -> customer_wallet); "nothing changed" is checked on
the wallet's rows, both balances, the ledger's rows and the audit records.
"""
import itertools
import threading
import uuid

import pytest

from conftest import Server
from iam import login_customer, register, sms_code

SEQ = itertools.count(1)
PIN = "583016"
DAY_MS = 86400000


def err(r):
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("wallet"), config={
        "lockout": {"ip_failures": "10000"},
        # The SMS code of large transfers off: test_wallet_txotp.py.
        "wallet": {"sms_confirm_over": "100000000000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


class Customer:
    pass


def customer(s, name="张三", funds=0, pin=True):
    """A registered customer with a session, a payment PIN and funds."""
    _, phone = register(s, real_name=name)
    c = Customer()
    c.phone = phone
    c.http = login_customer(s, phone, device="wallet-%d" % next(SEQ))
    c.id = c.http.get("/api/v1/me").json()["user"]["id"]
    if pin:
        step_up(s, c)
        r = c.http.post("/api/v1/me/payment-password", {"pin": PIN})
        assert r.status_code == 204, r.text
    if funds:
        credit(s, c, funds)
    s.clock(advance_ms=1)
    return c


def credit(s, c, amount):
    r = s.post("/test/v1/wallet/credit", {"user_id": c.id, "amount": amount,
                                          "key": uuid.uuid4().hex})
    assert r.status_code == 200 and r.json()["code"] is None, r.text


def step_up(s, c):
    s.clock(advance_ms=1)
    assert c.http.send_code("step_up", "sms").status_code == 202
    r = c.http.step_up("sms", sms_code(s, c.phone))
    assert r.status_code == 200, r.text
    s.clock(advance_ms=1)


def balance(c):
    r = c.http.get("/api/v1/me/balance")
    assert r.status_code == 200, r.text
    return r.json()["available"]


def preview(c, to, amount, **extra):
    body = {"to": to, "amount": amount, "currency": "CNY"}
    body.update(extra)
    return c.http.post("/api/v1/me/transfers/preview", body)


def confirm(c, conf_id, amount, request_id=None, pin=PIN):
    return c.http.post("/api/v1/me/transfers", {
        "confirmation_id": conf_id, "request_id": request_id or uuid.uuid4().hex,
        "amount": amount, "payment_pin": pin})


def to_shanghai_midnight(s, before_ms=0):
    """Moves the clock forward to before_ms before the next Asia/Shanghai
    midnight (16:00 UTC). Customers are made after it (a long move would
    end their sessions)."""
    now = s.clock(advance_ms=0)
    left = DAY_MS - (now + 8 * 3600000) % DAY_MS
    if left > before_ms:
        s.clock(advance_ms=left - before_ms)


def previewed(s, c, to, amount):
    r = preview(c, to, amount)
    assert r.status_code == 201, r.text
    s.clock(advance_ms=1)
    return r.json()


def state(s, *cs):
    """What a refusal must leave as it was: balances, the wallet's and the
    ledger's rows, the wallet's audit records."""
    return (tuple(balance(c) for c in cs),
            s.query("SELECT COUNT(*) AS n FROM wallet_transfer")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM wallet_limit_usage WHERE used > 0")[0]["n"],
            s.query("SELECT COUNT(*) AS n FROM ledger_transfer")[0]["n"],
            len(s.audit("wallet.transfer")))


# ---- the preview ----------------------------------------------------------------

def test_preview_shows_masked_payee_amount_in_words_and_limits(s):
    """req: TX-CONFIRM-01, DATA-MASK-01"""
    a = customer(s, funds=50000)
    b = customer(s, name="李四")
    before = state(s, a, b)
    r = preview(a, b.phone, 10000, memo="午饭")
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["payee"] == {"name": "*四", "login": "****" + b.phone[-4:]}
    assert p["amount"] == 10000 and p["currency"] == "CNY"
    assert p["amount_words"] == "壹佰元整" and p["amount_text"] == "100.00"
    assert p["second_factor_required"] is False
    assert p["limits"]["method"] == "pin" and p["limits"]["single_max"] == 100000
    assert p["expires_ms"] - p["created_ms"] == 300000
    row = s.query("SELECT payer_id, payee_id, amount, memo, transfer_id FROM wallet_confirmation"
                  " WHERE id = ?", p["confirmation_id"])
    assert row == [{"payer_id": a.id, "payee_id": b.id, "amount": 10000, "memo": "午饭",
                    "transfer_id": None}]
    # A preview moves no money.
    assert state(s, a, b) == before


# ---- confirmation ---------------------------------------------------------------

def test_confirmed_transfer_moves_money_once_with_audit_and_notices(s):
    """req: FUNC-PAY-07, TX-CONFIRM-01, AUD-CNT-02"""
    a = customer(s, funds=50000)
    b = customer(s, name="王五")
    p = previewed(s, a, b.phone, 12345)
    rid = uuid.uuid4().hex
    r = confirm(a, p["confirmation_id"], 12345, rid)
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["status"] == "succeeded" and t["amount"] == 12345 and t["auth"] == "pin"
    assert t["balance"] == 50000 - 12345 and t["replayed"] is False
    assert balance(a) == 50000 - 12345 and balance(b) == 12345
    led = s.query("SELECT caller, idem_key, code, amount FROM ledger_transfer WHERE id = ?",
                  t["ledger_transfer"])
    assert led == [{"caller": "wallet", "idem_key": "trf." + t["id"], "code": "transfer",
                    "amount": 12345}]
    rec = [x for x in s.audit("wallet.transfer") if x["object_id"] == t["id"]]
    assert len(rec) == 1 and rec[0]["outcome"] == "success" and rec[0]["actor_id"] == a.id
    kinds = {r["kind"] for r in s.query("SELECT kind FROM notify_message WHERE user_id IN (?, ?)",
                                        a.id, b.id)}
    assert {"wallet.transfer_out", "wallet.transfer_in"} <= kinds
    # The same request again: the same transfer, nothing moves twice.
    r = confirm(a, p["confirmation_id"], 12345, rid)
    assert r.status_code == 200 and r.json()["id"] == t["id"] and r.json()["replayed"] is True
    assert balance(a) == 50000 - 12345 and balance(b) == 12345


def test_same_request_id_with_other_content_is_refused(s):
    """req: FUNC-PAY-07"""
    a = customer(s, funds=50000)
    b = customer(s)
    p1 = previewed(s, a, b.phone, 100)
    p2 = previewed(s, a, b.phone, 200)
    rid = uuid.uuid4().hex
    assert confirm(a, p1["confirmation_id"], 100, rid).status_code == 201
    before = state(s, a, b)
    r = confirm(a, p2["confirmation_id"], 200, rid)
    assert r.status_code == 409 and err(r) == "idempotency_conflict", r.text
    assert state(s, a, b) == before
    # The used confirmation under another request id: refused too.
    r = confirm(a, p1["confirmation_id"], 100)
    assert r.status_code == 409 and err(r) == "confirmation_used", r.text
    assert state(s, a, b) == before


# ---- refusals that change nothing ------------------------------------------------

def _self(s, a, b):
    return preview(a, a.phone, 100)


def _unknown(s, a, b):
    return preview(a, "13900000000" if a.phone != "13900000000" else "13900000001", 100)


def _above_balance(s, a, b):
    return preview(a, b.phone, 50001)


def _payer_frozen(s, a, b):
    assert s.post("/test/v1/wallet/state", {"user_id": a.id, "state": "frozen"}).json()[
        "code"] is None
    return preview(a, b.phone, 100)


def _payee_frozen(s, a, b):
    assert s.post("/test/v1/wallet/state", {"user_id": b.id, "state": "frozen_credit"}).json()[
        "code"] is None
    return preview(a, b.phone, 100)


def _payee_closed(s, a, b):
    assert s.post("/test/v1/wallet/state", {"user_id": b.id, "state": "closed"}).json()[
        "code"] is None
    return preview(a, b.phone, 100)


def _payee_frozen_after_preview(s, a, b):
    p = previewed(s, a, b.phone, 100)
    assert s.post("/test/v1/wallet/state", {"user_id": b.id, "state": "frozen"}).json()[
        "code"] is None
    return confirm(a, p["confirmation_id"], 100)


def _wrong_pin(s, a, b):
    p = previewed(s, a, b.phone, 100)
    return confirm(a, p["confirmation_id"], 100, pin="000001")


def _expired(s, a, b):
    p = previewed(s, a, b.phone, 100)
    s.clock(advance_ms=300000)
    return confirm(a, p["confirmation_id"], 100)


def _foreign(s, a, b):
    p = previewed(s, b, a.phone, 5)  # b's confirmation, confirmed by a
    return confirm(a, p["confirmation_id"], 5)


def _changed_amount(s, a, b):
    p = previewed(s, a, b.phone, 100)
    return confirm(a, p["confirmation_id"], 101)


def _spent_after_preview(s, a, b):
    p1 = previewed(s, a, b.phone, 40000)
    p2 = previewed(s, a, b.phone, 40000)
    assert confirm(a, p1["confirmation_id"], 40000).status_code == 201
    s.state_before = state(s, a, b)
    return confirm(a, p2["confirmation_id"], 40000)


@pytest.mark.parametrize("make,status,code", [
    (_self, 400, "transfer_to_self"),
    (_unknown, 404, "payee_not_found"),
    (_above_balance, 409, "insufficient_funds"),
    (_payer_frozen, 409, "account_frozen"),
    (_payee_frozen, 409, "account_frozen"),
    (_payee_closed, 409, "account_closed"),
    (_payee_frozen_after_preview, 409, "account_frozen"),
    (_wrong_pin, 403, "payment_password_invalid"),
    (_expired, 409, "confirmation_expired"),
    (_foreign, 404, "confirmation_not_found"),
    (_changed_amount, 409, "confirmation_mismatch"),
    (_spent_after_preview, 409, "insufficient_funds"),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_refused_transfer_changes_nothing(s, make, status, code):
    """req: FUNC-PAY-07, TX-CONFIRM-01"""
    a = customer(s, funds=50000)
    b = customer(s, funds=0 if make is _payee_closed else 10)
    s.state_before = None
    before = state(s, a, b)
    r = make(s, a, b)
    assert r.status_code == status and err(r) == code, r.text
    assert state(s, a, b) == (s.state_before or before)


# ---- limits -----------------------------------------------------------------------

def test_pin_alone_up_to_its_limit_then_a_second_factor(s):
    """At the PIN-only limit the PIN suffices; one fen over needs a second
    factor presented after the preview. req: RISK-LIM-01, RISK-LIM-02, IAM-MFA-04"""
    a = customer(s, funds=1000000)
    b = customer(s)
    p = previewed(s, a, b.phone, 100000)
    assert p["second_factor_required"] is False
    r = confirm(a, p["confirmation_id"], 100000)
    assert r.status_code == 201 and r.json()["auth"] == "pin", r.text
    # The day's PIN-only total is reached: the next fen needs the factor.
    p = previewed(s, a, b.phone, 1)
    assert p["second_factor_required"] is True and p["limits"]["method"] == "pin_otp"
    before = state(s, a, b)
    r = confirm(a, p["confirmation_id"], 1)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert state(s, a, b) == before
    step_up(s, a)
    r = confirm(a, p["confirmation_id"], 1)
    assert r.status_code == 201 and r.json()["auth"] == "pin_otp", r.text


def test_single_limit_with_second_factor_at_and_over(s):
    """req: RISK-LIM-02"""
    a = customer(s, funds=1000000)
    b = customer(s)
    before = state(s, a, b)
    r = preview(a, b.phone, 500001)
    assert r.status_code == 409 and err(r) == "limit_single_exceeded", r.text
    assert r.json()["error"]["field"] == "otp_single_max"
    assert state(s, a, b) == before
    p = previewed(s, a, b.phone, 500000)
    assert p["second_factor_required"] is True
    step_up(s, a)
    assert confirm(a, p["confirmation_id"], 500000).status_code == 201


def test_daily_limit_and_the_next_shanghai_day(s):
    """The day's total counts every outgoing transfer; at Asia/Shanghai
    midnight (16:00 UTC) it starts again. req: RISK-LIM-03"""
    to_shanghai_midnight(s, before_ms=120000)
    a = customer(s, funds=2000000)
    b = customer(s)
    for amount in (300000, 200000):
        p = previewed(s, a, b.phone, amount)
        step_up(s, a)
        assert confirm(a, p["confirmation_id"], amount).status_code == 201
    before = state(s, a, b)
    r = preview(a, b.phone, 1)
    assert r.status_code == 409 and err(r) == "limit_daily_exceeded", r.text
    assert r.json()["error"]["field"] == "otp_daily_max"
    assert state(s, a, b) == before
    # Still the same day one millisecond before midnight (the clock held
    # still across the boundary) ...
    s.clock(freeze=True)
    to_shanghai_midnight(s, before_ms=1)
    r = preview(a, b.phone, 1)
    assert r.status_code == 409 and err(r) == "limit_daily_exceeded", r.text
    # ... and a new day at midnight.
    s.clock(advance_ms=1)
    r = preview(a, b.phone, 1)
    s.clock(freeze=False)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["second_factor_required"] is False and p["limits"]["used_today"] == 0
    assert confirm(a, p["confirmation_id"], 1).status_code == 201


def test_two_concurrent_transfers_cannot_both_pass_the_daily_cap(s):
    """Each fits alone; together they exceed the day: exactly one runs.
    req: RISK-LIM-03"""
    to_shanghai_midnight(s)
    a = customer(s, funds=2000000)
    b = customer(s)
    p1 = previewed(s, a, b.phone, 300000)
    p2 = previewed(s, a, b.phone, 300000)
    step_up(s, a)
    out = {}

    def go(k, p):
        out[k] = confirm(a, p["confirmation_id"], 300000)

    ts = [threading.Thread(target=go, args=(k, p)) for k, p in (("1", p1), ("2", p2))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = sorted(r.status_code for r in out.values())
    assert codes == [201, 409], [r.text for r in out.values()]
    refused = [r for r in out.values() if r.status_code == 409][0]
    assert err(refused) == "limit_daily_exceeded"
    assert balance(a) == 2000000 - 300000 and balance(b) == 300000
    assert s.query("SELECT used FROM wallet_limit_usage WHERE user_id = ?", a.id) == [
        {"used": 300000}]


# ---- history ----------------------------------------------------------------------

def test_history_rows_balances_counterparty_and_paging(s):
    """req: FUNC-PAY-15"""
    a = customer(s, name="赵六", funds=50000)
    b = customer(s, name="钱七", funds=1000)
    for amount in (100, 200):
        p = previewed(s, a, b.phone, amount)
        assert confirm(a, p["confirmation_id"], amount).status_code == 201
        s.clock(advance_ms=1)
    p = previewed(s, b, a.phone, 50)
    assert confirm(b, p["confirmation_id"], 50).status_code == 201
    r = a.http.get("/api/v1/me/transactions")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["type"], i["direction"], i["amount"], i["balance"]) for i in items] == [
        ("transfer_in", "in", 50, 49750), ("transfer_out", "out", 200, 49700),
        ("transfer_out", "out", 100, 49900), ("test_credit", "in", 50000, 50000)]
    assert items[0]["counterparty"] == "*七" and items[1]["counterparty"] == "*七"
    assert r.json()["next_cursor"] is None
    # Paging: one row a page, the same rows and balances.
    got, cursor = [], None
    while True:
        q = "/api/v1/me/transactions?limit=1" + ("&cursor=" + cursor if cursor else "")
        page = a.http.get(q).json()
        got += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [(i["id"], i["balance"]) for i in got] == [(i["id"], i["balance"]) for i in items]
    # Filters.
    outs = a.http.get("/api/v1/me/transactions?type=transfer_out").json()["items"]
    assert [i["amount"] for i in outs] == [200, 100]
    t = items[1]["time_ms"]
    win = a.http.get("/api/v1/me/transactions?from=%d&to=%d" % (t, t + 1)).json()["items"]
    assert [i["id"] for i in win] == [items[1]["id"]]
    # A cursor the server did not make is refused.
    page = a.http.get("/api/v1/me/transactions?limit=1").json()
    bad = page["next_cursor"][:-1] + ("0" if page["next_cursor"][-1] != "0" else "1")
    r = a.http.get("/api/v1/me/transactions?limit=1&cursor=" + bad)
    assert r.status_code == 400 and r.json()["error"]["field"] == "cursor", r.text
    # Another customer's cursor is not valid for b.
    r = b.http.get("/api/v1/me/transactions?limit=1&cursor=" + page["next_cursor"])
    assert r.status_code == 400, r.text


def test_balance_shows_available_and_held(s):
    """req: FUNC-PAY-15"""
    a = customer(s, funds=777)
    r = a.http.get("/api/v1/me/balance")
    assert r.json() == {"currency": "CNY", "available": 777, "held": 0, "posted": 777,
                        "incoming": 0, "state": "normal"}
