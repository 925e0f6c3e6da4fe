"""Binding a phone number or an email address to one's own account, and the
two-factor password reset that a second channel opens up.

req: IAM-MFA-02, IAM-MFA-08, IAM-MFA-09, IAM-ACCT-02, IAM-RST-01, IAM-RST-02,
req: DATA-ENC-03, DATA-MASK-01, DATA-MASK-03
"""
import time

from iam import (GOOD_PASSWORD, OTHER_PASSWORD, Client, deliver, last_code, login_customer,
                 mail_code, mails_to, new_phone, outbox, register, sms_code, sms_to, sms_wait)
from test_iam_auth import start_reset


def err(r):
    return r.json()["error"]["code"]


def masked_email(address):
    local, domain = address.split("@")
    return "%s**@%s**%s" % (local[:3], domain[0], domain[domain.rindex("."):])


def reset_mail_code(s, address):
    """The code of the one password-reset mail to address."""
    deadline = time.time() + 30
    while time.time() < deadline:
        deliver(s)
        bodies = [b for _, b, _ in mails_to(address, wait=0.5) if "reset" in b]
        if bodies:
            assert len(bodies) == 1, bodies
            return last_code(bodies)
    raise AssertionError("no reset mail for %s" % address)


def test_customer_binds_an_email_then_resets_with_sms_and_email_codes(make_server):
    """A phone-registered customer binds an email with the code sent to it,
    then resets the password with an SMS code and an email code.
    req: IAM-MFA-09, IAM-RST-01, IAM-RST-02, DATA-MASK-03, DATA-ENC-03"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = login_customer(s, phone, device="bind-dev")
    address = "bind-%s@example.test" % phone
    r = c.send_code("bind", "email", address)
    assert r.status_code == 202, r.text
    assert r.json()["sent_to"] == masked_email(address)
    code = mail_code(s, address)
    r = c.post("/api/v1/me/email", {"email": address.upper(), "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == masked_email(address)
    assert address not in r.text.lower()
    rec = s.audit("user.email_bound")
    assert len(rec) == 1 and rec[0]["outcome"] == "success"
    assert masked_email(address) in rec[0]["details"] and address not in rec[0]["details"]
    row = s.query("SELECT email_enc, email_index FROM iam_user WHERE email_enc IS NOT NULL")
    assert len(row) == 1 and address not in row[0]["email_enc"] and row[0]["email_index"]
    # A second factor on a second channel: the reset takes both codes.
    s.sms_mark = len(outbox(s))
    rc, rid = start_reset(s, phone)
    sms = sms_code(s, phone)
    mail = reset_mail_code(s, address)
    r = rc.post("/api/v1/auth/password-reset/confirm",
                {"reset_id": rid, "sms_code": sms, "new_password": OTHER_PASSWORD})
    assert r.status_code == 400 and err(r) == "reset_invalid"  # one factor is not enough
    r = rc.post("/api/v1/auth/password-reset/confirm",
                {"reset_id": rid, "sms_code": sms, "email_code": mail,
                 "new_password": OTHER_PASSWORD})
    assert r.status_code == 204, r.text
    assert Client(s, device="bind-dev").login(phone, OTHER_PASSWORD).status_code == 200
    assert Client(s, device="bind-dev").login(phone, GOOD_PASSWORD).status_code == 401
    # Told on both channels.
    sms_wait(s, phone, lambda texts: any("was reset" in t for t in texts))
    deadline = time.time() + 30
    while not any("was reset" in b for _, b, _ in mails_to(address, wait=0.5)):
        assert time.time() < deadline, "no reset notice by email"
        deliver(s)


def test_binding_a_phone_needs_a_step_up_and_its_code_and_tells_the_old_one(make_server):
    """Without a recent second factor neither a bind code nor the binding is
    given; a wrong code is refused; the old number is told; the login name
    stays. req: IAM-MFA-02, IAM-MFA-09, DATA-MASK-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    c = login_customer(s, phone, device="bind-phone")
    s.clock(advance_ms=301_000)
    fresh = new_phone()
    r = c.send_code("bind", "sms", fresh)
    assert r.status_code == 403 and err(r) == "step_up_required"
    r = c.post("/api/v1/me/phone", {"phone": fresh, "code": "123456"})
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert [x["outcome"] for x in s.audit("user.phone_bound")] == ["denied"]
    assert c.send_code("step_up", "sms").status_code == 202
    assert c.step_up("sms", sms_code(s, phone)).status_code == 200
    assert c.send_code("bind", "sms", fresh).status_code == 202
    code = sms_code(s, fresh)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = c.post("/api/v1/me/phone", {"phone": fresh, "code": wrong})
    assert r.status_code == 400 and err(r) == "code_invalid"
    assert s.audit("user.phone_bind_failed")
    before = len(sms_to(s, phone))
    r = c.post("/api/v1/me/phone", {"phone": "+86" + fresh, "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["phone"] == "****" + fresh[-4:]
    assert r.json()["user"]["login"] == "****" + phone[-4:]  # the login name stays
    told = sms_wait(s, phone, lambda texts: len(texts) > before)[before:]
    assert any("****" + fresh[-4:] in t for t in told), told
    rec = [x for x in s.audit("user.phone_bound") if x["outcome"] == "success"]
    assert len(rec) == 1 and fresh not in rec[0]["details"] and phone not in rec[0]["details"]
    # Codes now go to the new number.
    s.clock(advance_ms=61_000)
    assert c.send_code("step_up", "sms").status_code == 202
    assert sms_code(s, fresh)


def test_a_number_of_another_account_is_refused_only_with_its_code(make_server):
    """Asking a bind code tells nothing; only the holder of the number's code
    learns that it is taken. req: IAM-ACCT-02, IAM-MFA-09"""
    s = make_server()
    s.clock(freeze=True)
    _, mine = register(s)
    _, theirs = register(s)
    c = login_customer(s, mine, device="bind-taken")
    r = c.send_code("bind", "sms", theirs)
    assert r.status_code == 202, r.text
    code = sms_code(s, theirs)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = c.post("/api/v1/me/phone", {"phone": theirs, "code": wrong})
    assert r.status_code == 400 and err(r) == "code_invalid"
    r = c.post("/api/v1/me/phone", {"phone": theirs, "code": code})
    assert r.status_code == 409 and err(r) == "already_exists"
    r = c.post("/api/v1/me/phone", {"phone": "12345", "code": code})
    assert r.status_code == 400 and err(r) == "invalid_field"
    assert c.get("/api/v1/me").json()["user"]["phone"] == "****" + mine[-4:]
    # The account's own number again: nothing to change.
    assert c.send_code("bind", "sms", mine).status_code == 202
    r = c.post("/api/v1/me/phone", {"phone": mine, "code": sms_code(s, mine)})
    assert r.status_code == 409 and err(r) == "conflict"
    assert not [x for x in s.audit("user.phone_bound") if x["outcome"] == "success"]
