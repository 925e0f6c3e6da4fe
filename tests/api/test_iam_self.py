"""Self service: profile, login history, password change with its rules,
step-up, payment password and its lock, TOTP, trusted devices.

req: IAM-PWD-01, IAM-PWD-02, IAM-PWD-03, IAM-PWD-04, IAM-PWD-05, IAM-PWD-06,
req: IAM-PWD-07, IAM-PWD-08, IAM-PWD-09, IAM-PWD-10, IAM-PWD-11, IAM-PWD-14,
req: IAM-PWD-15, IAM-LOCK-03, IAM-LOCK-04, IAM-MFA-01, IAM-MFA-02, IAM-HIST-01,
req: DATA-MASK-01, DATA-MASK-04, DATA-MASK-06
"""
import json

import pytest

from iam import (GOOD_PASSWORD, OTHER_PASSWORD, THIRD_PASSWORD, Client, login_customer,
                 new_phone, register, sms_code, sms_to, sms_wait, totp)
from test_iam_auth import enrol_totp


def err(r):
    return r.json()["error"]["code"]


def stepped_up(server, phone, device):
    c = login_customer(server, phone, device=device)
    assert c.send_code("step_up", "sms").status_code == 202
    r = c.step_up("sms", sms_code(server, phone))
    assert r.status_code == 200, r.text
    return c


def test_me_masks_personal_data(server):
    """req: DATA-MASK-01, DATA-MASK-04, DATA-MASK-06"""
    _, phone = register(server, nickname="alice1", real_name="张三",
                        id_number="11010519491231002X")
    c = login_customer(server, phone, device="me-dev")
    u = c.get("/api/v1/me").json()["user"]
    assert u["login"] == "****" + phone[-4:]
    assert u["phone"] == "****" + phone[-4:]
    assert u["nickname"] == "a**1"
    assert u["real_name"] == "*三"
    assert u["id_number"] == "1****************X"
    assert phone not in c.last.text and "11010519491231002X" not in c.last.text


def test_login_history_lists_attempts(server):
    """req: IAM-HIST-01"""
    _, phone = register(server)
    Client(server, device="h").login(phone, "Wr0ng#Passw9x")
    c = login_customer(server, phone, device="h")
    logins = c.get("/api/v1/me/logins").json()["logins"]
    results = [x["result"] for x in logins]
    assert "success" in results and any(r != "success" for r in results)
    assert all(x["ip"] == "127.0.0.1" for x in logins)


def test_password_change_needs_a_recent_second_factor(make_server):
    """req: IAM-MFA-02"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = login_customer(s, phone, device="step-dev")  # MFA at login counts ...
    s.clock(advance_ms=301_000)                       # ... for 5 minutes only
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert c.send_code("step_up", "sms").status_code == 202
    assert c.step_up("sms", sms_code(s, phone)).status_code == 200
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200, r.text


RULES = [
    ("", "password_empty"),
    ("Tq7#vLm", "password_too_short"),
    ("Tq7#vLm9" + "x9#Q" * 31, "password_too_long"),
    ("8350271946", "password_digits_only"),
    ("Qwzrtkp9m", "password_too_few_classes"),
    ("Sunshine#72Kq", "password_dictionary_word"),
    ("P@ssw0rd#9Kz", "password_dictionary_word"),
    ("Kz#9abcTqX", "password_sequence"),
    ("Kz#9321TqX", "password_sequence"),
    ("Tq7#qweLmX", "password_keyboard_run"),
    ("Tq7#vvvLmX", "password_repeated_characters"),
    (GOOD_PASSWORD, "password_reused"),
]


@pytest.mark.parametrize("pw,code", RULES)
def test_each_password_rule_is_refused_with_its_reason(server, pw, code):
    """req: IAM-PWD-01, IAM-PWD-02, IAM-PWD-03, IAM-PWD-05, IAM-PWD-06"""
    _, phone = register(server)
    c = stepped_up(server, phone, "rules-" + code)
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": pw})
    assert r.status_code == 400, r.text
    assert err(r) == code
    assert r.json()["error"]["message"]


def test_password_with_personal_data_is_refused(server):
    """The nickname, and the phone number's last six digits. req: IAM-PWD-04"""
    phone = new_phone(last6="392846")
    _, phone = register(server, phone=phone, nickname="qorvix")
    c = stepped_up(server, phone, "personal")
    for pw in ("Tq#392846Lm", "Qorvix#72Kt"):
        r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                           "new_password": pw})
        assert r.status_code == 400 and err(r) == "password_personal_data", (pw, r.text)


def test_eight_characters_with_four_classes_are_enough(server):
    """The boundary of IAM-PWD-01: 7 refused (above), 8 accepted."""
    _, phone = register(server)
    c = stepped_up(server, phone, "eight")
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": "Tq7#vLm9"})
    assert r.status_code == 200, r.text


def test_the_last_five_passwords_are_refused_the_sixth_is_not(make_server):
    """History of 5, stored hashed; every change recorded with its reason.
    req: IAM-PWD-06, IAM-PWD-10, IAM-PWD-11"""
    s = make_server()
    _, phone = register(s)
    c = stepped_up(s, phone, "hist")
    pws = [GOOD_PASSWORD, "Hb4$kWz8@qNe", "Gk5^rBn8%cJy", "Rj9%sFw3!gLa", "Nc5*hQy7&mKe",
           "Vd8+tGx2=pWo"]
    current = pws[0]
    for nxt in pws[1:]:
        r = c.post("/api/v1/me/password", {"current_password": current, "new_password": nxt})
        assert r.status_code == 200, r.text
        current = nxt
    # pws[1..5] are the last five: pws[1] refused, pws[0] (sixth back) allowed.
    r = c.post("/api/v1/me/password", {"current_password": current, "new_password": pws[1]})
    assert r.status_code == 400 and err(r) == "password_reused"
    r = c.post("/api/v1/me/password", {"current_password": current, "new_password": pws[0]})
    assert r.status_code == 200, r.text
    hist = s.query("SELECT hash, reason, actor_id FROM iam_password_history "
                   "WHERE kind = 'login' ORDER BY changed_ms")
    assert all(h["hash"].startswith("$argon2id$") for h in hist)
    assert {h["reason"] for h in hist} == {"registration", "user_change"}
    assert all(pw not in str(hist) for pw in pws)


def test_password_change_ends_other_sessions_and_notifies(server):
    """The change is recorded for this account with time, reason and actor
    (the server is shared). req: IAM-PWD-11"""
    reg, phone = register(server)
    uid = reg.last.json()["user"]["id"]
    other = login_customer(server, phone, device="pc")
    c = stepped_up(server, phone, "pc")
    before = len(sms_to(server, phone))
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    assert c.get("/api/v1/me").status_code == 200
    assert len(sms_to(server, phone, min_count=before + 1)) > before
    recs = [x for x in server.audit("user.password_changed") if x["object_id"] == uid]
    assert len(recs) == 1 and recs[0]["actor_id"] == uid and recs[0]["outcome"] == "success"
    hist = server.query("SELECT reason, actor_id, changed_ms FROM iam_password_history"
                        " WHERE user_id = ? AND kind = 'login' ORDER BY changed_ms", uid)
    assert [(h["reason"], h["actor_id"]) for h in hist][-1] == ("user_change", uid)
    assert hist[-1]["changed_ms"] >= hist[0]["changed_ms"] > 0


def test_password_expires_after_180_days_for_customers(make_server):
    """An expired password must be changed before anything else.
    req: IAM-PWD-07"""
    s = make_server()
    _, phone = register(s)
    s.clock(advance_ms=181 * 86_400_000)
    c = Client(s, device="old")
    r = c.login(phone, GOOD_PASSWORD)
    if r.json()["state"] == "mfa_required":
        c.send_code("login", "sms")
        r = c.mfa("sms", sms_code(s, phone))
    assert r.json()["state"] == "required_actions"
    assert r.json()["required_actions"] == ["change_password"]
    assert c.get("/api/v1/me/sessions").status_code == 403
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200, r.text
    assert c.get("/api/v1/me/sessions").status_code == 200


def test_login_reminds_of_expiry_within_14_days(make_server):
    """req: IAM-PWD-08"""
    s = make_server()
    _, phone = register(s)
    s.clock(advance_ms=170 * 86_400_000)
    c = login_customer(s, phone, device="remind")
    assert c.last.json()["password_expires_at_ms"] is not None


# ---- payment password ------------------------------------------------------------

@pytest.mark.parametrize("pin,code", [
    ("12345", "pin_format"), ("12a456", "pin_format"), ("111111", "pin_repeated"),
    ("123456", "pin_sequence"), ("654321", "pin_sequence"), ("121212", "pin_pattern"),
    ("491231", "pin_birthday"),
])
def test_weak_payment_passwords_are_refused(server, pin, code):
    """req: IAM-PWD-14"""
    _, phone = register(server, id_number="11010519491231002X")
    c = stepped_up(server, phone, "pin-" + pin)
    r = c.post("/api/v1/me/payment-password", {"pin": pin})
    assert r.status_code == 400 and err(r) == code, r.text


def test_payment_password_locks_payments_after_five_failures(make_server):
    """Separate counter from the login password. req: IAM-LOCK-03, IAM-LOCK-04, IAM-PWD-14"""
    s = make_server()
    _, phone = register(s)
    c = stepped_up(s, phone, "paylock")
    assert c.post("/api/v1/me/payment-password", {"pin": "583016"}).status_code == 204
    assert c.post("/api/v1/me/payment-password/verify", {"pin": "583016"}).status_code == 200
    for _ in range(4):
        r = c.post("/api/v1/me/payment-password/verify", {"pin": "000001"})
        assert r.status_code == 403 and err(r) == "payment_password_invalid"
    assert c.post("/api/v1/me/payment-password/verify", {"pin": "583016"}).status_code == 200
    for _ in range(5):
        c.post("/api/v1/me/payment-password/verify", {"pin": "000001"})
    r = c.post("/api/v1/me/payment-password/verify", {"pin": "583016"})
    assert r.status_code == 423 and err(r) == "payment_locked"
    # The refusal during the lock is recorded too (req: AUD-CNT-02).
    refused = s.audit("payment.password_refused")
    assert [(x["outcome"], json.loads(x["details"])["reason"]) for x in refused] == [
        ("denied", "payment_locked")]
    # The login itself is not locked.
    assert c.get("/api/v1/me").status_code == 200
    sms_wait(s, phone, lambda texts: any(
        t.startswith("[anfu] Your payment password was entered wrongly") for t in texts))
    hashes = s.query("SELECT pay_hash FROM iam_user WHERE pay_hash IS NOT NULL")
    # A keyed MAC record since issue 10 (test_iam_pin.py), never the PIN.
    assert hashes and hashes[0]["pay_hash"].startswith("$anfu-pin$v=1$k=pin-")
    assert "583016" not in hashes[0]["pay_hash"]


def test_an_unrecorded_wrong_payment_password_answers_like_an_unrecorded_right_one(make_server):
    """While audit records cannot be written a wrong PIN is neither counted
    nor answered as wrong: 503 like the right one, or the six digits would
    have an oracle that no lock counts. req: AUD-THR-01, IAM-LOCK-03"""
    s = make_server()
    _, phone = register(s)
    c = stepped_up(s, phone, "fc-pin")
    assert c.post("/api/v1/me/payment-password", {"pin": "583016"}).status_code == 204
    s.fault(audit=True)
    wrong = c.post("/api/v1/me/payment-password/verify", {"pin": "000001"})
    right = c.post("/api/v1/me/payment-password/verify", {"pin": "583016"})
    s.fault(audit=False)
    assert wrong.status_code == right.status_code == 503, (wrong.text, right.text)
    assert err(wrong) == err(right) == "audit_unavailable"
    assert s.query("SELECT pay_failures FROM iam_user")[0]["pay_failures"] == 0
    assert s.audit("payment.password_failed") == []


# ---- TOTP, devices ------------------------------------------------------------------

def test_totp_enrolment_and_login_with_totp(make_server):
    """req: IAM-MFA-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = login_customer(s, phone, device="totp-a")
    secret = enrol_totp(s, c, phone)
    d = Client(s, device="totp-b")
    r = d.login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "mfa_required"
    assert "totp" in r.json()["mfa_methods"]
    s.clock(advance_ms=30_000)
    r = d.mfa("totp", totp(secret, s.clock() / 1000))
    assert r.status_code == 200 and r.json()["state"] == "active"


def test_a_totp_code_is_never_accepted_twice(make_server):
    """req: IAM-MFA-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = login_customer(s, phone, device="replay-a")
    secret = enrol_totp(s, c, phone)
    s.clock(advance_ms=30_000)
    code = totp(secret, s.clock() / 1000)
    d = Client(s, device="replay-b")
    d.login(phone, GOOD_PASSWORD)
    assert d.mfa("totp", code).status_code == 200
    e = Client(s, device="replay-c")
    e.login(phone, GOOD_PASSWORD)
    r = e.mfa("totp", code)
    assert r.status_code == 400 and err(r) == "code_invalid"


def test_wrong_totp_enrolment_codes_count_toward_the_lock(make_server):
    """A right enrolment code counts as a step-up, so wrong ones are failed
    authentications: audited, and the fifth locks the account.
    req: IAM-LOCK-01, IAM-MFA-02, AUD-CNT-02"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = stepped_up(s, phone, "totp-guess")
    r = c.post("/api/v1/me/totp")
    assert r.status_code == 201, r.text
    right = totp(r.json()["secret"], s.clock() / 1000)
    wrong = "%06d" % ((int(right) + 1) % 1000000)
    for _ in range(5):
        r = c.post("/api/v1/me/totp/confirm", {"code": wrong})
        assert r.status_code == 400 and err(r) == "code_invalid", r.text
    assert len(s.audit("mfa.totp_confirm_failed")) == 5 and s.audit("auth.locked")
    assert c.post("/api/v1/me/totp/confirm", {"code": right}).status_code == 401
    assert s.query("SELECT totp_confirmed FROM iam_user")[0]["totp_confirmed"] == 0


def test_trusted_devices_are_listed_and_removed(server):
    """req: IAM-MFA-01"""
    _, phone = register(server)
    c = login_customer(server, phone, device="trusted-1", trust=True)
    devs = c.get("/api/v1/me/devices").json()["devices"]
    assert len(devs) == 1
    # The trust lasts mfa.device_trust_days (30 by default).
    assert devs[0]["trusted_until_ms"] == devs[0]["trusted_ms"] + 30 * 86_400_000
    assert c.delete("/api/v1/me/devices/" + devs[0]["id"]).status_code == 204
    assert c.get("/api/v1/me/devices").json()["devices"] == []
    # The same browser, still holding its device cookie, is asked again.
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "mfa_required"


def test_all_trusted_devices_are_removed_at_once(server):
    """DELETE /api/v1/me/devices. req: IAM-MFA-01"""
    reg, phone = register(server)
    uid = reg.last.json()["user"]["id"]
    b = login_customer(server, phone, device="all-1", trust=True)
    c = login_customer(server, phone, device="all-2", trust=True)
    assert len(c.get("/api/v1/me/devices").json()["devices"]) == 2
    assert c.delete("/api/v1/me/devices").status_code == 204
    assert c.get("/api/v1/me/devices").json()["devices"] == []
    # Both browsers still hold their device cookies; neither is trusted.
    for browser in (b, c):
        r = browser.login(phone, GOOD_PASSWORD)
        assert r.json()["state"] == "mfa_required"
    assert [x["outcome"] for x in server.audit("device.removed")
            if x["actor_id"] == uid] == ["success"]


def test_removing_a_trusted_device_needs_a_recent_second_factor(make_server):
    """req: IAM-MFA-02, IAM-MFA-01"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = login_customer(s, phone, device="trusted-2", trust=True)
    s.clock(advance_ms=301_000)
    devs = c.get("/api/v1/me/devices").json()["devices"]
    r = c.delete("/api/v1/me/devices/" + devs[0]["id"])
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert len(c.get("/api/v1/me/devices").json()["devices"]) == 1
    assert [x["outcome"] for x in s.audit("device.removed")] == ["denied"]
    assert c.send_code("step_up", "sms").status_code == 202
    assert c.step_up("sms", sms_code(s, phone)).status_code == 200
    assert c.delete("/api/v1/me/devices/" + devs[0]["id"]).status_code == 204
    assert c.get("/api/v1/me/devices").json()["devices"] == []


STRENGTH = [
    # password, language, rule, acceptable, scores allowed, advice contains
    ("", "en", "password_empty", False, {0}, "enter a password"),
    ("Tq7#vLm", "en", "password_too_short", False, {0, 1}, "at least 8 characters"),
    ("Tq7#vLm", "zh-CN", "password_too_short", False, {0, 1}, "至少需要8个字符"),
    ("password", "en", "password_too_few_classes", False, {0, 1}, "mix upper"),
    ("P@ssw0rd#9Kz", "en", "password_dictionary_word", False, {0, 1, 2}, "common words"),
    ("Kz#9abcTqX", "zh", "password_sequence", False, {0, 1, 2}, "连续字符"),
    (GOOD_PASSWORD, "en", None, True, {3, 4}, ""),
    ("Kx9#mQ2$vLp7Zr4!tWj8", "en", None, True, {4}, "strong password"),
]


@pytest.mark.parametrize("pw,lang,rule,ok,scores,advice", STRENGTH)
def test_password_strength_indicator(server, pw, lang, rule, ok, scores, advice):
    """Public, on the main listener: score 0..4, the first failing rule of
    the customer policy, advice in the request's language. req: IAM-PWD-13"""
    r = server.post("/api/v1/password-strength", {"password": pw},
                    headers={"Accept-Language": lang})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["max"] == 4 and body["score"] in scores, body
    assert body["rule"] == rule and body["acceptable"] is ok
    assert advice in body["advice"] and body["advice"]


def test_password_strength_is_neither_logged_nor_audited(make_server):
    """The body carries a password: no audit record, no log line, no row;
    main listener only; rate limited like every route. req: IAM-PWD-13, WEB-DOS-01"""
    s = make_server({"limits": {"rate_per_ip": "1", "rate_burst": "10"}})  # 1/s: 429 under any load
    secret = "Qv8#Strength!Probe"
    before = len(s.audit())
    assert s.post("/api/v1/password-strength", {"password": secret},
                  admin=True).status_code == 404
    codes = [s.post("/api/v1/password-strength", {"password": secret}).status_code
             for _ in range(30)]
    assert codes[0] == 200 and 429 in codes
    assert len(s.audit()) == before
    s.stop()
    assert secret not in s.read_stderr()
    assert secret.encode() not in s.db_bytes()


def test_totp_is_removed_after_a_step_up_and_the_user_is_told(make_server):
    """Removing the authenticator needs a recent second factor; the user is
    told by SMS; logins then offer no TOTP until a new one is enrolled.
    req: IAM-MFA-02, IAM-MFA-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = login_customer(s, phone, device="rm-a")
    secret = enrol_totp(s, c, phone)
    s.clock(advance_ms=301_000)  # past mfa.stepup_window (300 s)
    r = c.delete("/api/v1/me/totp")
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert s.query("SELECT totp_confirmed FROM iam_user")[0]["totp_confirmed"] == 1
    s.clock(advance_ms=30_000)
    assert c.step_up("totp", totp(secret, s.clock() / 1000)).status_code == 200
    r = c.delete("/api/v1/me/totp")
    assert r.status_code == 204, r.text
    row = s.query("SELECT totp_enc, totp_confirmed FROM iam_user")[0]
    assert row == {"totp_enc": None, "totp_confirmed": 0}
    sms_wait(s, phone, lambda texts: any("authenticator app" in t and "removed" in t
                                         for t in texts))
    assert [x["outcome"] for x in s.audit("mfa.totp_removed")] == ["denied", "success"]
    r = c.delete("/api/v1/me/totp")
    assert r.status_code == 409 and err(r) == "conflict"
    r = Client(s, device="rm-b").login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "mfa_required" and "totp" not in r.json()["mfa_methods"]
    assert c.post("/api/v1/me/totp").status_code == 201
