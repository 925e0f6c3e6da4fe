"""Personal data encrypted at rest and masked on output; every IAM event in
the audit log; fail closed when the audit log cannot be written.

req: DATA-ENC-03, DATA-MASK-01, DATA-MASK-03, DATA-MASK-08, IAM-PWD-09,
req: AUD-CNT-02, AUD-THR-01, IAM-HIST-03
"""
import os

from iam import (GOOD_PASSWORD, Client, in_time_order, login_customer, mail_code, new_phone,
                 register, sms_code, tick)


def err(r):
    return r.json()["error"]["code"]


def all_bytes(s):
    return s.db_bytes()


def test_database_never_holds_personal_data_in_clear(make_server):
    """Phone, email, real name, ID number and passwords: none in the database
    files (the WAL included). req: DATA-ENC-03, IAM-PWD-09"""
    s = make_server()
    idno = "11010519491231002X"
    _, phone = register(s, real_name="张三丰", id_number=idno, nickname="wudang")
    addr = "secret-%s@example.test" % new_phone()
    c = Client(s)
    assert c.send_code("register", "email", addr, captcha=True).status_code == 202
    code = mail_code(s, addr)
    assert c.post("/api/v1/auth/register", {"login": addr, "code": code,
                                            "password": GOOD_PASSWORD},
                  csrf=False).status_code == 201
    login_customer(s, phone, device="enc")
    s.post("/test/v1/notify/deliver")
    blob = all_bytes(s)
    for secret in (phone, phone[3:], idno, "张三丰".encode("utf-8"), addr, GOOD_PASSWORD):
        needle = secret if isinstance(secret, bytes) else secret.encode("utf-8")
        assert needle not in blob, secret
    rows = s.query("SELECT phone_enc, name_enc, idno_enc, login_enc FROM iam_user "
                   "WHERE phone_enc IS NOT NULL")
    assert rows and all(v.startswith("v1.") for r in rows for v in r.values() if v)


def test_login_and_codes_mask_personal_data(server):
    """req: DATA-MASK-01, DATA-MASK-08"""
    _, phone = register(server)
    c = Client(server, device="mask")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["user"]["login"] == "****" + phone[-4:]
    assert phone not in r.text
    r = c.send_code("login", "sms")
    assert r.json()["sent_to"] == "****" + phone[-4:]


def test_email_is_masked_by_the_catalog_rule(server):
    """req: DATA-MASK-03"""
    addr = "conrad-%s@163.com" % new_phone()
    c = Client(server)
    r = c.send_code("register", "email", addr, captcha=True)
    assert r.json()["sent_to"] == "con**@1**.com"


def test_registration_fails_closed_when_audit_cannot_be_written(make_server):
    """503, and no user is created. req: AUD-THR-01"""
    s = make_server()
    phone = new_phone()
    c = Client(s)
    assert c.send_code("register", "sms", phone, captcha=True).status_code == 202
    code = sms_code(s, phone)
    s.fault(audit=True)
    r = c.post("/api/v1/auth/register", {"login": phone, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 503 and err(r) == "audit_unavailable"
    assert s.query("SELECT COUNT(*) AS n FROM iam_user")[0]["n"] == 0
    s.fault(audit=False)
    r = c.post("/api/v1/auth/register", {"login": phone, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 201, r.text


def test_login_fails_closed_when_audit_cannot_be_written(make_server):
    """No session without its audit record. req: AUD-THR-01"""
    s = make_server()
    _, phone = register(s)
    s.fault(audit=True)
    r = Client(s, device="fc").login(phone, GOOD_PASSWORD)
    assert r.status_code == 503 and err(r) == "audit_unavailable"
    s.fault(audit=False)
    assert s.query("SELECT COUNT(*) AS n FROM iam_session")[0]["n"] == 0


def test_an_unrecorded_wrong_password_answers_like_an_unrecorded_right_one(make_server):
    """While audit records cannot be written a wrong password is neither
    recorded nor counted; answering it 401 while the right one gets 503
    would be a password oracle with no lockout. req: AUD-THR-01"""
    s = make_server()
    _, phone = register(s)
    s.fault(audit=True)
    wrong = Client(s, device="fc-pw").login(phone, "Wr0ng#Passw9x")
    right = Client(s, device="fc-pw").login(phone, GOOD_PASSWORD)
    s.fault(audit=False)
    assert wrong.status_code == right.status_code == 503, (wrong.text, right.text)
    assert err(wrong) == err(right) == "audit_unavailable"
    assert s.query("SELECT failures FROM iam_user")[0]["failures"] == 0


def test_an_unrecorded_wrong_code_answers_like_an_unrecorded_right_one(make_server):
    """The same for the second factor: a code oracle without attempt limits
    would make six digits guessable. req: AUD-THR-01"""
    s = make_server()
    _, phone = register(s)
    c = Client(s, device="fc-code")
    assert c.login(phone, GOOD_PASSWORD).json()["state"] == "mfa_required"
    assert c.send_code("login", "sms").status_code == 202
    code = sms_code(s, phone)
    s.fault(audit=True)
    wrong = c.mfa("sms", "%06d" % ((int(code) + 1) % 1000000))
    right = c.mfa("sms", code)
    s.fault(audit=False)
    assert wrong.status_code == right.status_code == 503, (wrong.text, right.text)
    assert err(wrong) == err(right) == "audit_unavailable"


def test_every_iam_event_is_in_the_audit_log(make_server):
    """req: AUD-CNT-02, IAM-HIST-03"""
    s = make_server()
    _, phone = register(s)
    Client(s, device="ev").login(phone, "Wr0ng#Passw9x")
    tick(s)
    # login_customer's steps, the clock moved between the attempts.
    c = Client(s, device="ev")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
    tick(s)
    assert c.send_code("login", "sms").status_code == 202
    r = c.mfa("sms", sms_code(s, phone), trust_device=True)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    c.delete("/api/v1/me/sessions")
    c.post("/api/v1/auth/logout")
    actions = {r["action"] for r in s.audit()}
    for a in ("code.sent", "user.registered", "auth.login_failed", "auth.login", "auth.mfa",
              "device.trusted", "auth.logout"):
        assert a in actions, a
    for r in s.audit():
        assert GOOD_PASSWORD not in r["details"]
        assert phone not in r["details"]
    assert s.cli_run("audit", "verify").stdout.startswith("OK:")
    # Every login attempt is in the login history with time, address and
    # result: the wrong password, the password step, the second factor.
    uid = s.query("SELECT id FROM iam_user")[0]["id"]
    rows = in_time_order(s.query("SELECT ts_ms, ip, result, reason FROM iam_login_attempt"
                                 " WHERE user_id = ? ORDER BY ts_ms, id", uid), "ts_ms")
    assert [(x["result"], x["reason"]) for x in rows] == [
        ("failure", "bad_password"), ("success", "mfa_pending"), ("success", "sms")]
    assert all(x["ip"] == "127.0.0.1" and x["ts_ms"] > 0 for x in rows)
