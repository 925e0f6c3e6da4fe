"""Payment limits by the second factor used (RISK-LIM-01): PIN alone <
PIN + SMS/email code < PIN + TOTP, over HTTPS against a real anfud
(src/wallet/limits.c, transfer.c; iam records the step-up's method,
src/iam/session.c).

The server's limits differ per level (the defaults give TOTP the OTP
limits): PIN 1000/1000 yuan, OTP 2000/3000, TOTP 5000/8000 (single/day).
"""
import pytest

from conftest import Server
from iam import sms_code, totp
from test_wallet_transfers import confirm, customer, err, preview, previewed, state, step_up

PIN_MAX, OTP_SINGLE, OTP_DAILY, TOTP_SINGLE, TOTP_DAILY = 100000, 200000, 300000, 500000, 800000


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("wallet-factor"), config={
        "lockout": {"ip_failures": "10000"},
        "wallet": {"pin_single_max": str(PIN_MAX), "pin_daily_max": str(PIN_MAX),
                   "otp_single_max": str(OTP_SINGLE), "otp_daily_max": str(OTP_DAILY),
                   "totp_single_max": str(TOTP_SINGLE),
                   "totp_daily_max": str(TOTP_DAILY),
                   # The SMS code of large transfers off: test_wallet_txotp.py.
                   "sms_confirm_over": "100000000000"}}).start()
    yield srv
    srv.assert_stopped_cleanly()


def with_totp(s, c):
    """Enrols TOTP for c (after an SMS step-up); keeps the secret."""
    step_up(s, c)
    r = c.http.post("/api/v1/me/totp")
    assert r.status_code == 201, r.text
    c.totp = r.json()["secret"]
    r = c.http.post("/api/v1/me/totp/confirm", {"code": totp(c.totp, s.clock() / 1000)})
    assert r.status_code == 200, r.text
    # Past that code's step: the next one is a new code.
    s.clock(advance_ms=31000)
    return c


def step_up_totp(s, c):
    s.clock(advance_ms=31000)
    r = c.http.step_up("totp", totp(c.totp, s.clock() / 1000))
    assert r.status_code == 200, r.text
    s.clock(advance_ms=1)


def method_row(s, c):
    return s.query("SELECT mfa_method FROM iam_session WHERE user_id = ? AND revoked_ms IS NULL",
                   c.id)


def test_iam_records_the_step_up_method(s):
    """req: RISK-LIM-01"""
    a = with_totp(s, customer(s))
    # Enrolling TOTP proved it: the session's latest factor is TOTP.
    assert method_row(s, a) == [{"mfa_method": "totp"}]
    step_up(s, a)
    assert method_row(s, a) == [{"mfa_method": "sms"}]
    step_up_totp(s, a)
    assert method_row(s, a) == [{"mfa_method": "totp"}]


def test_sms_code_up_to_its_limit_then_totp(s):
    """Above the OTP single limit the preview asks for TOTP; an SMS code
    after it is not enough and changes nothing; TOTP is.
    req: RISK-LIM-01, RISK-LIM-02, IAM-MFA-04"""
    a = with_totp(s, customer(s, funds=2000000))
    b = customer(s)
    p = previewed(s, a, b.phone, OTP_SINGLE)
    assert p["second_factor_required"] is True and p["limits"]["method"] == "pin_otp"
    step_up(s, a)
    r = confirm(a, p["confirmation_id"], OTP_SINGLE)
    assert r.status_code == 201 and r.json()["auth"] == "pin_otp", r.text
    p = previewed(s, a, b.phone, OTP_SINGLE + 1)
    assert p["limits"]["method"] == "pin_totp" and p["limits"]["single_max"] == TOTP_SINGLE
    step_up(s, a)
    before = state(s, a, b)
    r = confirm(a, p["confirmation_id"], OTP_SINGLE + 1)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert r.json()["error"]["field"] == "totp"
    assert state(s, a, b) == before
    step_up_totp(s, a)
    r = confirm(a, p["confirmation_id"], OTP_SINGLE + 1)
    assert r.status_code == 201 and r.json()["auth"] == "pin_totp", r.text
    assert s.query("SELECT auth FROM wallet_transfer WHERE id = ?", r.json()["id"]) == [
        {"auth": "pin_totp"}]


def test_totp_single_limit_at_and_over(s):
    """req: RISK-LIM-01, RISK-LIM-02"""
    a = with_totp(s, customer(s, funds=2000000))
    b = customer(s)
    before = state(s, a, b)
    r = preview(a, b.phone, TOTP_SINGLE + 1)
    assert r.status_code == 409 and err(r) == "limit_single_exceeded", r.text
    assert r.json()["error"]["field"] == "totp_single_max"
    assert state(s, a, b) == before
    p = previewed(s, a, b.phone, TOTP_SINGLE)
    assert p["limits"]["method"] == "pin_totp"
    step_up_totp(s, a)
    assert confirm(a, p["confirmation_id"], TOTP_SINGLE).status_code == 201


def test_daily_totals_by_factor(s):
    """The day's total: SMS up to otp_daily_max, TOTP up to totp_daily_max.
    req: RISK-LIM-01, RISK-LIM-03"""
    # The steps below move the clock by minutes: start early in a day.
    s.to_cn_hour(1)
    a = with_totp(s, customer(s, funds=2000000))
    b = customer(s)
    for amount in (OTP_SINGLE, OTP_DAILY - OTP_SINGLE):
        p = previewed(s, a, b.phone, amount)
        step_up(s, a)
        r = confirm(a, p["confirmation_id"], amount)
        assert r.status_code == 201 and r.json()["auth"] == "pin_otp", r.text
    # The OTP day is full: the next fen needs TOTP.
    p = previewed(s, a, b.phone, 1)
    assert p["limits"]["method"] == "pin_totp"
    step_up(s, a)
    before = state(s, a, b)
    r = confirm(a, p["confirmation_id"], 1)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert state(s, a, b) == before
    step_up_totp(s, a)
    assert confirm(a, p["confirmation_id"], 1).status_code == 201
    # TOTP up to its day, not a fen more.
    left = TOTP_DAILY - OTP_DAILY - 1
    p = previewed(s, a, b.phone, left)
    step_up_totp(s, a)
    assert confirm(a, p["confirmation_id"], left).status_code == 201
    before = state(s, a, b)
    r = preview(a, b.phone, 1)
    assert r.status_code == 409 and err(r) == "limit_daily_exceeded", r.text
    assert r.json()["error"]["field"] == "totp_daily_max"
    assert state(s, a, b) == before


def test_limits_out_of_order_refuse_to_start(tmp_path):
    """TOTP limits below the OTP ones: the service does not start.
    req: RISK-LIM-01"""
    srv = Server(tmp_path, config={"wallet": {"otp_single_max": "200000",
                                              "totp_single_max": "199999"}})
    rc = srv.start(expect_fail=True)
    assert rc != 0
    assert "module wallet: cannot start: EINVAL" in srv.read_stderr()
