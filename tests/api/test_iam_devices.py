"""Trusted devices: the proof of a trusted device is a random secret the
server issued at MFA (the __Host-anfu_device cookie, or the X-Device-Token
header for API clients), never the X-Device-Id / User-Agent headers a client
chooses. Stored only as a keyed hash; runs out after mfa.device_trust_days;
removed by the device routes and by a password change or reset.

req: IAM-MFA-01, IAM-MFA-03, DATA-ENC-01
"""
import re

from iam import (GOOD_PASSWORD, OTHER_PASSWORD, Client, login_customer, register, sms_code,
                 totp)
from test_iam_admin import staffed  # noqa: F401  (fixture)

COOKIE = "__Host-anfu_device"
DAY_MS = 86_400_000


def err(r):
    return r.json()["error"]["code"]


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


def trust(s, phone, device="trusted-phone", ua="TrustedBrowser/1.0"):
    """A login that completes an SMS MFA with trust_device; returns (client,
    MFA response)."""
    c = Client(s, device=device, ua=ua)
    r = c.login(phone, GOOD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
    assert c.send_code("login", "sms").status_code == 202
    r = c.mfa("sms", sms_code(s, phone), trust_device=True)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    return c, r


def state_with(s, phone, token=None, cookie=None, device="elsewhere", ua="Other/2.0"):
    """The state a fresh client reaches with the right password, presenting
    token in X-Device-Token and/or cookie as the device cookie."""
    c = Client(s, device=device, ua=ua)
    if cookie is not None:
        c.http.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
    headers = {"X-Device-Token": token} if token is not None else {}
    body = {"login": phone, "password": GOOD_PASSWORD}
    body["captcha_id"], body["captcha_answer"] = c.captcha()
    r = c.post("/api/v1/auth/login", body, csrf=False, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["state"]


def test_trusting_a_device_issues_a_random_secret_stored_only_hashed(make_server):
    """req: IAM-MFA-01, DATA-ENC-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c, r = trust(s, phone)
    token = r.json()["device_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)  # 256 random bits
    now = s.clock()
    assert r.json()["device_expires_at_ms"] == now + 30 * DAY_MS
    cookie = [h for h in set_cookies(r) if h.startswith(COOKIE + "=")]
    assert cookie == ["%s=%s; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Strict"
                      % (COOKIE, token, 30 * 86_400)]
    rows = s.query("SELECT * FROM iam_device")
    assert len(rows) == 1 and rows[0]["expires_ms"] == now + 30 * DAY_MS
    assert all(token not in str(v) for v in rows[0].values())
    recs = s.audit("device.trusted")
    assert len(recs) == 1 and recs[0]["object_id"] == rows[0]["id"]
    assert token not in recs[0]["details"]
    # A second trust (another device) is a second secret.
    _, r2 = trust(s, phone, device="second-phone")
    assert r2.json()["device_token"] != token


def test_knowing_device_id_and_user_agent_no_longer_skips_mfa(server):
    """The attack of the finding: someone who has the password and learns
    the victim's X-Device-Id and User-Agent still needs the second factor.
    req: IAM-MFA-01, IAM-MFA-03"""
    _, phone = register(server)
    trust(server, phone, device="victim-phone-77", ua="VictimBrowser/9.1")
    # Another machine that sends the victim's headers, not its cookie.
    attacker = Client(server, device="attacker-laptop", ua="VictimBrowser/9.1")
    attacker.http.headers["X-Device-Id"] = "victim-phone-77"
    assert attacker.http.cookies.get(COOKIE) is None
    r = attacker.login(phone, GOOD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
    assert "device_token" not in r.json()
    assert attacker.get("/api/v1/me").status_code == 403


def test_the_issued_secret_skips_mfa_as_cookie_or_header(server):
    """Whatever the headers say, the secret is the possession factor.
    req: IAM-MFA-01, IAM-MFA-03"""
    _, phone = register(server)
    c, r = trust(server, phone)
    token = r.json()["device_token"]
    assert c.http.cookies.get(COOKIE) == token
    # The browser that holds the cookie.
    again = c.login(phone, GOOD_PASSWORD)
    assert again.json()["state"] == "active", again.text
    assert "device_token" not in again.json()
    # Another client presenting the cookie, or the header.
    assert state_with(server, phone, cookie=token) == "active"
    assert state_with(server, phone, token=token) == "active"
    uid = c.get("/api/v1/me").json()["user"]["id"]
    rows = server.query("SELECT trusted_ms, last_seen_ms FROM iam_device WHERE user_id = ?", uid)
    assert len(rows) == 1 and rows[0]["last_seen_ms"] >= rows[0]["trusted_ms"]


def test_a_forged_or_altered_secret_does_not_skip_mfa(server):
    """req: IAM-MFA-01"""
    _, phone = register(server)
    _, r = trust(server, phone)
    token = r.json()["device_token"]
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    seen = server.query("SELECT last_seen_ms FROM iam_device")
    for forged in (altered, "0" * 64, token.upper(), token[:-1], token + "0", ""):
        assert state_with(server, phone, token=forged) == "mfa_required", forged
        assert state_with(server, phone, cookie=forged) == "mfa_required", forged
    assert server.query("SELECT last_seen_ms FROM iam_device") == seen


def test_another_users_secret_does_not_skip_mfa(server):
    """req: IAM-MFA-01"""
    _, alice = register(server)
    _, bob = register(server)
    # Bob has logged in from here before (a usual network), so only the
    # device decides whether he is asked for a second factor.
    login_customer(server, bob, device="bob-laptop", trust=False)
    _, r = trust(server, alice)
    token = r.json()["device_token"]
    assert state_with(server, alice, token=token) == "active"
    assert state_with(server, bob, token=token) == "mfa_required"
    assert state_with(server, bob, cookie=token) == "mfa_required"


def test_trust_ends_after_device_trust_days(make_server):
    """Active with the secret at 30 days minus 1 ms, a factor again at 30
    days. req: IAM-MFA-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    _, r = trust(s, phone)
    token = r.json()["device_token"]
    s.clock(advance_ms=30 * DAY_MS - 1)
    assert state_with(s, phone, token=token) == "active"
    s.clock(advance_ms=1)
    assert state_with(s, phone, token=token) == "mfa_required"
    c = Client(s)
    c.http.cookies.set(COOKIE, token, domain="127.0.0.1", path="/")
    assert c.login(phone, GOOD_PASSWORD).json()["state"] == "mfa_required"
    assert c.send_code("login", "sms").status_code == 202
    assert c.get("/api/v1/me").status_code == 403


def test_removing_a_device_deletes_it_and_its_secret_stops_working(make_server):
    """req: IAM-MFA-01, IAM-MFA-02"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c, r = trust(s, phone)
    token = r.json()["device_token"]
    s.clock(advance_ms=1000)
    _, r2 = trust(s, phone, device="second")
    other = r2.json()["device_token"]
    devs = c.get("/api/v1/me/devices").json()["devices"]
    assert len(devs) == 2
    assert all(d["trusted_until_ms"] == d["trusted_ms"] + 30 * DAY_MS for d in devs)
    mine = s.query("SELECT id FROM iam_device ORDER BY created_ms, id")[0]["id"]
    assert c.delete("/api/v1/me/devices/" + mine).status_code == 204
    assert s.query("SELECT COUNT(*) AS n FROM iam_device WHERE id = ?", mine) == [{"n": 0}]
    assert state_with(s, phone, token=token) == "mfa_required"
    assert state_with(s, phone, token=other) == "active"
    assert c.delete("/api/v1/me/devices").status_code == 204
    assert s.query("SELECT COUNT(*) AS n FROM iam_device") == [{"n": 0}]
    assert state_with(s, phone, token=other) == "mfa_required"


def test_a_password_change_ends_trust(make_server):
    """Whoever had the old password may have trusted a device with it.
    req: IAM-MFA-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c, r = trust(s, phone)
    token = r.json()["device_token"]
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200, r.text
    assert s.query("SELECT COUNT(*) AS n FROM iam_device") == [{"n": 0}]
    c2 = Client(s)
    c2.http.cookies.set(COOKIE, token, domain="127.0.0.1", path="/")
    assert c2.login(phone, OTHER_PASSWORD).json()["state"] == "mfa_required"


def test_staff_never_get_a_trusted_device(staffed):
    """Staff always give a second factor (IAM-MFA-13): trust_device issues
    nothing on the admin listener. req: IAM-MFA-13"""
    s, admin, admin_secret, *_ = staffed
    s.clock(advance_ms=30_000)
    c = Client(s, admin=True, device="console")
    assert c.login("opsadmin", "Ad9#kLw2!mQz").json()["state"] == "mfa_required"
    r = c.mfa("totp", totp(admin_secret, s.clock() / 1000), trust_device=True)
    assert r.status_code == 200, r.text
    assert "device_token" not in r.json()
    assert not [h for h in set_cookies(r) if h.startswith(COOKIE)]
    assert s.query("SELECT COUNT(*) AS n FROM iam_device") == [{"n": 0}]
    s.clock(advance_ms=30_000)
    again = Client(s, admin=True, device="console")
    assert again.login("opsadmin", "Ad9#kLw2!mQz").json()["state"] == "mfa_required"
