"""The limits a customer sets for themselves (RISK-LIM-04), over HTTPS
against a real anfud (src/wallet/limits.c; docs/wallet.md "Limits").

GET/PUT /api/v1/me/limits: a customer lowers their per-transfer and daily
limits (never above the system's strongest method); the change needs a
recent step-up and is audited; every transfer is held to the lower of the
customer's and the method's limits, at preview and again at commit.
"""
import json

import pytest

from conftest import Server
from test_wallet_transfers import (confirm, customer, err, preview, previewed,
                                   state, step_up)


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("wallet-own"), config={
        "lockout": {"ip_failures": "10000"},
        # The SMS code of large transfers off: test_wallet_txotp.py.
        "wallet": {"sms_confirm_over": "100000000000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def put_limits(c, single_max, daily_max):
    return c.http.req("PUT", "/api/v1/me/limits",
                      {"single_max": single_max, "daily_max": daily_max})


def own_state(s, c):
    """What a refused change must leave as it was."""
    return (s.query("SELECT single_max, daily_max, updated_ms FROM wallet_customer_limit"
                    " WHERE user_id = ?", c.id),
            len(s.audit("wallet.limits.changed")))


def test_get_shows_system_limits_and_no_own(s):
    """req: RISK-LIM-01, RISK-LIM-04"""
    a = customer(s)
    r = a.http.get("/api/v1/me/limits")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["currency"] == "CNY" and body["own"] is None
    assert [m["method"] for m in body["methods"]] == ["pin", "pin_otp", "pin_totp"]
    assert body["methods"][0]["system"]["single_max"] == 100000
    assert body["methods"][1]["effective"] == body["methods"][1]["system"]


def test_set_own_limits_is_audited_and_lowers_every_method(s):
    """req: RISK-LIM-04"""
    a = customer(s)
    step_up(s, a)
    r = put_limits(a, 20000, 300000)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["own"]["single_max"] == 20000 and body["own"]["daily_max"] == 300000
    pin, otp, _ = body["methods"]
    # The lower of the customer's and the method's, named by its source.
    assert pin["effective"] == {"single_max": 20000, "daily_max": 100000,
                                "single_name": "customer_single_max",
                                "daily_name": "pin_daily_max"}
    assert otp["effective"] == {"single_max": 20000, "daily_max": 300000,
                                "single_name": "customer_single_max",
                                "daily_name": "customer_daily_max"}
    rec = [x for x in s.audit("wallet.limits.changed") if x["object_id"] == a.id]
    assert len(rec) == 1 and rec[0]["outcome"] == "success"
    d = json.loads(rec[0]["details"])
    assert (d["old_single_max"], d["single_max"], d["daily_max"]) == (0, 20000, 300000)
    assert a.http.get("/api/v1/me/limits").json()["own"]["single_max"] == 20000


def test_own_single_and_daily_limit_at_and_one_fen_over(s):
    """req: RISK-LIM-04, RISK-LIM-02, RISK-LIM-03"""
    a = customer(s, funds=1000000)
    b = customer(s)
    step_up(s, a)
    assert put_limits(a, 20000, 50000).status_code == 200
    # At the customer's single limit: fine; one fen over: refused, named.
    p = previewed(s, a, b.phone, 20000)
    assert p["limits"]["single_max"] == 20000
    assert confirm(a, p["confirmation_id"], 20000).status_code == 201
    before = state(s, a, b)
    r = preview(a, b.phone, 20001)
    assert r.status_code == 409 and err(r) == "limit_single_exceeded", r.text
    assert r.json()["error"]["field"] == "customer_single_max"
    assert state(s, a, b) == before
    # The day: 20000 + 20000 + 10000 = 50000 fits, one fen more does not.
    p = previewed(s, a, b.phone, 20000)
    assert confirm(a, p["confirmation_id"], 20000).status_code == 201
    before = state(s, a, b)
    r = preview(a, b.phone, 10001)
    assert r.status_code == 409 and err(r) == "limit_daily_exceeded", r.text
    assert r.json()["error"]["field"] == "customer_daily_max"
    assert state(s, a, b) == before
    p = previewed(s, a, b.phone, 10000)
    assert confirm(a, p["confirmation_id"], 10000).status_code == 201


def test_lowered_after_the_preview_holds_at_commit(s):
    """The check inside the writer command takes the customer's limit too.
    req: RISK-LIM-04, RISK-LIM-02"""
    a = customer(s, funds=1000000)
    b = customer(s)
    p = previewed(s, a, b.phone, 30000)
    step_up(s, a)
    assert put_limits(a, 20000, 50000).status_code == 200
    before = state(s, a, b)
    r = confirm(a, p["confirmation_id"], 30000)
    assert r.status_code == 409 and err(r) == "limit_single_exceeded", r.text
    assert r.json()["error"]["field"] == "customer_single_max"
    assert state(s, a, b) == before


@pytest.mark.parametrize("single,daily,code,field", [
    (500001, 500001, "field_out_of_range", "single_max"),
    (100000, 500001, "field_out_of_range", "daily_max"),
    (30000, 20000, "invalid_request", "single_max"),
])
def test_above_the_system_or_inverted_is_refused_and_changes_nothing(s, single, daily, code,
                                                                     field):
    """req: RISK-LIM-04"""
    a = customer(s)
    step_up(s, a)
    assert put_limits(a, 10000, 10000).status_code == 200
    before = own_state(s, a)
    r = put_limits(a, single, daily)
    assert r.status_code == 400 and err(r) == code, r.text
    assert r.json()["error"]["field"] == field
    assert own_state(s, a) == before


def test_change_without_a_recent_step_up_is_refused(s):
    """A sensitive-parameter change: a second factor within the step-up
    window (300 s) first. req: RISK-LIM-04, IAM-MFA-02"""
    a = customer(s)
    step_up(s, a)
    assert put_limits(a, 10000, 10000).status_code == 200
    s.clock(advance_ms=301000)
    before = own_state(s, a)
    r = put_limits(a, 5000, 5000)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert own_state(s, a) == before
    step_up(s, a)
    assert put_limits(a, 5000, 5000).status_code == 200
    assert own_state(s, a) != before
