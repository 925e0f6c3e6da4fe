"""Registration, captcha, codes, login, lockout, MFA and password reset
through the real API, with the injectable clock for every time rule.

req: IAM-ACCT-02, IAM-ACCT-13, IAM-CAP-01, IAM-CAP-02, IAM-LOCK-01,
req: IAM-LOCK-02, IAM-LOCK-04, IAM-LOCK-05, IAM-MFA-07, IAM-MFA-08, IAM-HIST-02,
req: IAM-HIST-03, IAM-ANOM-01, IAM-ANOM-02, IAM-RST-01, IAM-RST-02, IAM-RST-03,
req: FUNC-ACCT-01, RISK-RN-03, WEB-ERR-02
"""
import pytest

from iam import (GOOD_PASSWORD, in_time_order, tick, OTHER_PASSWORD, Client, login_customer, mail_code, new_phone,
                 register, sms_code, sms_to, sms_wait, totp)

WRONG = "Wr0ng#Passw9x"


def err(r):
    return r.json()["error"]["code"]


# ---- registration -------------------------------------------------------------

def test_register_with_sms_code(server):
    """The row, role and audit record of this registration (the server is
    shared: others registered before). req: FUNC-ACCT-01, IAM-MFA-08, IAM-ACCT-13"""
    c, phone = register(server)
    user = c.last.json()["user"]
    assert c.last.status_code == 201 and user["login"] == "****" + phone[-4:]
    uid = user["id"]
    rows = server.query("SELECT kind, status, login_enc FROM iam_user WHERE id = ?", uid)
    assert len(rows) == 1 and rows[0]["kind"] == "customer" and rows[0]["status"] == "active"
    assert phone not in rows[0]["login_enc"]
    roles = server.query("SELECT role FROM iam_user_role WHERE user_id = ?", uid)
    assert roles == [{"role": "customer"}]
    recs = [x for x in server.audit("user.registered") if x["object_id"] == uid]
    assert len(recs) == 1 and recs[0]["outcome"] == "success" and recs[0]["actor_id"] == uid


def test_register_code_needs_a_captcha(server):
    """req: IAM-CAP-01, RISK-RN-03"""
    c = Client(server)
    r = c.send_code("register", "sms", new_phone())
    assert r.status_code == 400 and err(r) == "captcha_required"
    cid, _ = c.captcha("register")
    r = c.post("/api/v1/auth/codes", {"purpose": "register", "channel": "sms",
                                      "target": new_phone(), "captcha_id": cid,
                                      "captcha_answer": "XXXXX"})
    assert r.status_code == 400 and err(r) == "captcha_invalid"


def test_captcha_is_single_use(server):
    """req: IAM-CAP-02"""
    c = Client(server)
    cid, ans = c.captcha("register")
    body = {"purpose": "register", "channel": "sms", "target": new_phone(),
            "captcha_id": cid, "captcha_answer": ans}
    assert c.post("/api/v1/auth/codes", body).status_code == 202
    body["target"] = new_phone()
    r = c.post("/api/v1/auth/codes", body)
    assert r.status_code == 400 and err(r) == "captcha_invalid"


def test_captcha_expires_after_two_minutes(make_server):
    """Valid at 1:59.999, refused at 2:00. req: IAM-CAP-02"""
    s = make_server()
    s.clock(freeze=True)
    c = Client(s)
    cid, ans = c.captcha("register")
    s.clock(advance_ms=119_999)
    ok = c.post("/api/v1/auth/codes", {"purpose": "register", "channel": "sms",
                                       "target": new_phone(), "captcha_id": cid,
                                       "captcha_answer": ans})
    assert ok.status_code == 202, ok.text
    cid, ans = c.captcha("register")
    s.clock(advance_ms=120_000)
    r = c.post("/api/v1/auth/codes", {"purpose": "register", "channel": "sms",
                                      "target": new_phone(), "captcha_id": cid,
                                      "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid"


@pytest.mark.parametrize("admin", [False, True], ids=["main", "admin"])
@pytest.mark.parametrize("body,code,field", [
    ({}, "missing_field", "purpose"),
    ({"purpose": "login", "extra": 1}, "unknown_field", "extra"),
    ({"purpose": 1}, "invalid_field", "purpose"),
    ({"purpose": ["login"]}, "invalid_field", "purpose"),
    ({"purpose": "payment"}, "invalid_field", "purpose"),
    ({"purpose": "LOGIN"}, "invalid_field", "purpose"),
    ({"purpose": "x" * 17}, "field_out_of_range", "purpose"),
    ({"purpose": "x" * 4000}, "field_out_of_range", "purpose"),
    ({"purpose": "x" * 8000}, "field_out_of_range", "purpose"),
])
def test_captcha_body_is_decoded_from_an_allowlist(server, admin, body, code, field):
    """Unknown fields, wrong types, unknown purposes and oversized values
    are refused with a stable code, and no captcha is made. req: IAM-CAP-01,
    req: WEB-SQL-01"""
    before = server.query("SELECT COUNT(*) AS n FROM iam_captcha")[0]["n"]
    c = Client(server, admin=admin)
    r = c.post(c.p("/captcha"), body, csrf=False)
    assert r.status_code == 400, r.text
    assert err(r) == code and r.json()["error"]["field"] == field
    assert server.query("SELECT COUNT(*) AS n FROM iam_captcha")[0]["n"] == before


def test_admin_listener_offers_login_captchas_only(server):
    """Registration and reset exist on the main listener only.
    req: IAM-CAP-01"""
    c = Client(server, admin=True)
    for purpose in ("register", "reset"):
        r = c.post(c.p("/captcha"), {"purpose": purpose}, csrf=False)
        assert r.status_code == 400 and err(r) == "invalid_field", r.text
    r = c.post(c.p("/captcha"), {"purpose": "login"}, csrf=False)
    assert r.status_code == 201
    row = server.query("SELECT purpose, admin FROM iam_captcha WHERE id = ?",
                       r.json()["captcha_id"])
    assert row == [{"purpose": "login", "admin": 1}]


def captcha_used(server, cid):
    return server.query("SELECT used_ms FROM iam_captcha WHERE id = ?", cid)[0]["used_ms"]


def test_a_captcha_is_refused_for_another_purpose_and_used_up(server):
    """A login captcha does not pass a registration code or a reset, a
    reset captcha does not pass a login; the attempt uses it up.
    req: IAM-CAP-01, IAM-CAP-02"""
    _, phone = register(server)
    c = Client(server)
    target = new_phone()
    cid, ans = c.captcha("login")
    r = c.post("/api/v1/auth/codes", {"purpose": "register", "channel": "sms",
                                      "target": target, "captcha_id": cid,
                                      "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert sms_to(server, target, wait=0) == []
    assert captcha_used(server, cid) is not None
    r = c.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                      "captcha_id": cid, "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid"
    resets = server.query("SELECT COUNT(*) AS n FROM iam_reset")[0]["n"]
    cid, ans = c.captcha("login")
    r = c.post("/api/v1/auth/password-reset", {"login": phone, "captcha_id": cid,
                                               "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert server.query("SELECT COUNT(*) AS n FROM iam_reset")[0]["n"] == resets
    cid, ans = c.captcha("reset")
    r = c.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                      "captcha_id": cid, "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert captcha_used(server, cid) is not None


def test_a_captcha_is_refused_on_the_other_listener_and_used_up(staffed_server):
    """A login captcha made on the admin listener does not pass a login on
    the main one, nor the other way round. req: IAM-CAP-01, IAM-CAP-02"""
    s = staffed_server
    _, phone = register(s)
    staff = Client(s, admin=True)
    cid, ans = staff.captcha("login")
    web = Client(s)
    r = web.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                        "captcha_id": cid, "captcha_answer": ans})
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert captcha_used(s, cid) is not None
    cid, ans = web.captcha("login")
    r = staff.post("/admin/v1/auth/login", {"login": "opsadmin", "password": WRONG,
                                            "captcha_id": cid, "captcha_answer": ans},
                   csrf=False)
    assert r.status_code == 400 and err(r) == "captcha_invalid", r.text
    assert captcha_used(s, cid) is not None
    # Made where it is used, each works.
    cid, ans = web.captcha("login")
    r = web.post("/api/v1/auth/login", {"login": phone, "password": GOOD_PASSWORD,
                                        "captcha_id": cid, "captcha_answer": ans})
    assert r.status_code == 200, r.text


@pytest.fixture
def staffed_server(make_server):
    return make_server(init_args=("--admin", "opsadmin"))


def test_register_code_valid_at_4_59_refused_at_5_00(make_server):
    """req: IAM-MFA-07"""
    s = make_server()
    s.clock(freeze=True)
    c = Client(s)
    phone = new_phone()
    assert c.send_code("register", "sms", phone, captcha=True).status_code == 202
    code = sms_code(s, phone)
    s.clock(advance_ms=299_000)
    r = c.post("/api/v1/auth/register", {"login": phone, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 201, r.text

    phone2 = new_phone()
    assert c.send_code("register", "sms", phone2, captcha=True).status_code == 202
    code2 = sms_code(s, phone2)
    s.clock(advance_ms=300_000)
    r = c.post("/api/v1/auth/register", {"login": phone2, "code": code2,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 400 and err(r) == "code_expired"
    assert s.query("SELECT COUNT(*) AS n FROM iam_user")[0]["n"] == 1


def test_code_is_single_use_and_bound_to_its_target(server):
    """req: IAM-MFA-07, IAM-MFA-08"""
    c = Client(server)
    phone, other = new_phone(), new_phone()
    assert c.send_code("register", "sms", phone, captcha=True).status_code == 202
    code = sms_code(server, phone)
    r = c.post("/api/v1/auth/register", {"login": other, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 400 and err(r) == "code_invalid"
    r = c.post("/api/v1/auth/register", {"login": phone, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 201
    r = c.post("/api/v1/auth/register", {"login": phone, "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 400 and err(r) == "code_invalid"


def test_codes_are_six_random_digits(server):
    """req: IAM-MFA-07"""
    codes = set()
    for _ in range(3):
        phone = new_phone()
        c = Client(server)
        assert c.send_code("register", "sms", phone, captcha=True).status_code == 202
        code = sms_code(server, phone)
        assert len(code) == 6 and code.isdigit()
        codes.add(code)
    assert len(codes) >= 2


def test_duplicate_login_is_refused_case_and_format_insensitively(server):
    """+86 prefix and the bare number are the same login. req: IAM-ACCT-02"""
    _, phone = register(server)
    c = Client(server)
    assert c.send_code("register", "sms", "+86" + phone, captcha=True).status_code == 202
    # The owner is told someone tried (in the account's language, English
    # here); no usable code leaks to the caller.
    sms_wait(server, phone, lambda texts: any(
        t.startswith("[anfu] Someone tried to register") for t in texts))


# ---- login, lockout --------------------------------------------------------------

def test_unknown_user_and_wrong_password_get_the_same_answer(server):
    """req: WEB-ERR-02, IAM-ANOM-02"""
    _, phone = register(server)
    a = Client(server).login(phone, WRONG)
    b = Client(server).login(new_phone(), WRONG)
    assert a.status_code == b.status_code == 401
    assert a.json()["error"]["code"] == b.json()["error"]["code"] == "invalid_credentials"
    assert a.json()["error"]["message"] == b.json()["error"]["message"]


def test_login_needs_a_captcha_by_default(server):
    """The refusal is an attempt in the account's login history too.
    req: IAM-CAP-01, IAM-HIST-03"""
    reg, phone = register(server)
    uid = reg.last.json()["user"]["id"]
    r = Client(server).login(phone, GOOD_PASSWORD, captcha=False)
    assert r.status_code == 400 and err(r) == "captcha_required"
    last = server.query("SELECT a.result, a.reason, u.kind FROM iam_login_attempt a "
                        "LEFT JOIN iam_user u ON u.id = a.user_id WHERE a.user_id = ?", uid)
    assert last == [{"result": "captcha_failed", "reason": "captcha_missing",
                     "kind": "customer"}]


def test_customer_locked_on_fifth_failure_not_fourth(make_server):
    """req: IAM-LOCK-01, IAM-LOCK-04, IAM-LOCK-05"""
    s = make_server()
    _, phone = register(s)
    c = Client(s)
    for _ in range(4):
        assert c.login(phone, WRONG).status_code == 401
    assert c.login(phone, GOOD_PASSWORD).status_code == 200  # 4 failures: not locked
    for _ in range(5):
        assert c.login(phone, WRONG).status_code == 401
    r = c.login(phone, GOOD_PASSWORD)
    assert r.status_code == 401 and err(r) == "invalid_credentials"
    assert len(s.audit("auth.locked")) == 1
    sms_wait(s, phone, lambda texts: any(
        t.startswith("[anfu] Your account has been locked for 30 minutes") for t in texts))


def test_lock_lifts_at_30_00_not_29_59(make_server):
    """req: IAM-LOCK-02"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = Client(s)
    for _ in range(5):
        assert c.login(phone, WRONG).status_code == 401
    s.clock(advance_ms=29 * 60_000 + 59_000)
    assert c.login(phone, GOOD_PASSWORD).status_code == 401
    s.clock(advance_ms=1_000)
    assert c.login(phone, GOOD_PASSWORD).status_code == 200


def test_a_lock_that_ran_out_starts_a_fresh_count(make_server):
    """After a timed lock ends, a right password that still owes its second
    factor must not leave the old count behind: the next wrong attempt is
    the first of five, not the sixth. req: IAM-LOCK-01, IAM-LOCK-02"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = Client(s, device="fresh-count")
    for _ in range(5):
        assert c.login(phone, WRONG).status_code == 401
    s.clock(advance_ms=30 * 60_000)
    r = Client(s, device="fresh-count-new").login(phone, GOOD_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
    assert c.login(phone, WRONG).status_code == 401
    r = c.login(phone, GOOD_PASSWORD)
    assert r.status_code == 200, r.text
    assert len(s.audit("auth.locked")) == 1
    assert s.query("SELECT status FROM iam_user")[0]["status"] == "active"


@pytest.mark.parametrize("device", ["d" * 600, "caf\xe9-\xff-device"],
                         ids=["too-long", "not-utf8"])
def test_a_device_id_the_audit_cannot_take_does_not_hide_failures(make_server, device):
    """X-Device-Id is the client's to choose. One too long or not UTF-8 for
    an audit record must not make the record fail, or wrong passwords would
    be neither audited nor counted toward the lock. req: IAM-HIST-03,
    req: IAM-LOCK-01, AUD-CNT-02"""
    s = make_server()
    _, phone = register(s)
    c = Client(s, device=device)
    for _ in range(5):
        r = c.login(phone, WRONG)
        assert r.status_code == 401 and err(r) == "invalid_credentials", r.text
    assert Client(s, device="plain").login(phone, GOOD_PASSWORD).status_code == 401
    assert len(s.audit("auth.login_failed")) == 6 and s.audit("auth.locked")
    rows = s.query("SELECT result FROM iam_login_attempt WHERE result = 'failure'")
    assert len(rows) == 5


def test_every_attempt_is_recorded(server):
    """This account's attempts, on the shared server. req: IAM-HIST-03"""
    reg, phone = register(server)
    uid = reg.last.json()["user"]["id"]
    c = Client(server, device="hist-dev")
    assert c.login(phone, WRONG).status_code == 401
    tick(server)
    assert c.login(phone, GOOD_PASSWORD).status_code == 200
    rows = in_time_order(server.query("SELECT result, reason, ip, ts_ms FROM iam_login_attempt"
                                      " WHERE user_id = ? ORDER BY ts_ms, id", uid), "ts_ms")
    assert [(r["result"], r["reason"]) for r in rows] == [("failure", "bad_password"),
                                                         ("success", "mfa_pending")]
    assert all(r["ip"] == "127.0.0.1" and r["ts_ms"] > 0 for r in rows)
    assert [x["outcome"] for x in server.audit("auth.login_failed")
            if x["object_id"] == uid] == ["failure"]


def test_success_reports_previous_login_and_failures_since(server):
    """req: IAM-HIST-02"""
    _, phone = register(server)
    login_customer(server, phone, device="prev-dev")
    c = Client(server, device="prev-dev")
    c.login(phone, WRONG)
    c.login(phone, WRONG)
    r = c.login(phone, GOOD_PASSWORD)
    body = r.json()
    assert body["previous_login"] is not None
    assert body["previous_login"]["ip"] == "127.0.0.1"
    assert body["failures_since_last_login"] == 2


def test_credential_stuffing_is_throttled_and_recorded(make_server):
    """Many failures from one address across accounts. req: IAM-ANOM-02"""
    s = make_server({"lockout": {"ip_failures": "6"}})
    phones = [register(s)[1] for _ in range(3)]
    c = Client(s)
    codes = []
    for i in range(9):
        codes.append(c.login(phones[i % 3], WRONG).status_code)
    assert 429 in codes
    r = c.login(phones[0], GOOD_PASSWORD)
    assert r.status_code == 429 and err(r) == "too_many_failures"
    assert s.audit("security.credential_stuffing")
    # Each throttled attempt is in the history of the account it named
    # (req: IAM-HIST-03); one for an unknown name has no account.
    throttled = s.query("SELECT user_id FROM iam_login_attempt WHERE result = 'throttled'")
    assert throttled and all(t["user_id"] for t in throttled)
    r = c.login("nobody@example.test", WRONG)
    assert r.status_code == 429
    nameless = s.query("SELECT user_id FROM iam_login_attempt WHERE result = 'throttled' "
                       "AND user_id IS NULL")
    assert nameless == [{"user_id": None}]


# ---- second factor ------------------------------------------------------------------

def test_unknown_device_needs_sms_then_trusted_device_does_not(server):
    """req: IAM-MFA-01, IAM-MFA-03, IAM-ANOM-01"""
    _, phone = register(server)
    c = Client(server, device="phone-A")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["state"] == "mfa_required"
    assert "sms" in r.json()["mfa_methods"]
    # Nothing but the second factor is open to a pending session.
    assert c.get("/api/v1/me").status_code == 403
    assert c.send_code("login", "sms").status_code == 202
    r = c.mfa("sms", sms_code(server, phone), trust_device=True)
    assert r.status_code == 200 and r.json()["state"] == "active"
    # The browser that got the device secret (its cookie) skips the factor;
    # another one does not, even one sending the same X-Device-Id.
    again = c.login(phone, GOOD_PASSWORD)
    assert again.json()["state"] == "active"
    other = Client(server, device="phone-B")
    other.http.headers["X-Device-Id"] = "phone-A"
    assert other.login(phone, GOOD_PASSWORD).json()["state"] == "mfa_required"


def test_new_device_login_notifies_the_user(server):
    """req: IAM-ANOM-01"""
    _, phone = register(server)
    before = len(sms_to(server, phone))
    c = Client(server, device="brand-new-device")
    r = c.login(phone, GOOD_PASSWORD)
    assert r.json()["new_device"] is True
    assert len(sms_to(server, phone, min_count=before + 1)) > before


def test_wrong_mfa_code_is_refused(server):
    _, phone = register(server)
    c = Client(server, device="mfa-wrong")
    c.login(phone, GOOD_PASSWORD)
    c.send_code("login", "sms")
    code = sms_code(server, phone)
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = c.mfa("sms", wrong)
    assert r.status_code == 400 and err(r) == "code_invalid"


def test_session_id_changes_at_mfa(server):
    """req: IAM-SESS-07"""
    _, phone = register(server)
    c = Client(server, device="fixation")
    c.login(phone, GOOD_PASSWORD)
    before = c.session_cookie()
    c.send_code("login", "sms")
    c.mfa("sms", sms_code(server, phone))
    assert c.session_cookie() and c.session_cookie() != before


# ---- password reset ---------------------------------------------------------------------

def test_reset_answers_the_same_for_unknown_accounts(server):
    """req: IAM-RST-03, WEB-ERR-02"""
    _, phone = register(server)
    c = Client(server)
    cid, ans = c.captcha("reset")
    a = c.post("/api/v1/auth/password-reset", {"login": phone, "captcha_id": cid,
                                               "captcha_answer": ans})
    cid, ans = c.captcha("reset")
    b = c.post("/api/v1/auth/password-reset", {"login": new_phone(), "captcha_id": cid,
                                               "captcha_answer": ans})
    assert a.status_code == b.status_code == 202
    assert set(a.json()) == set(b.json()) == {"reset_id", "expires_at_ms"}


def enrol_totp(server, c, phone):
    """Step-up by SMS, then enrol and confirm TOTP; returns the secret."""
    assert c.send_code("step_up", "sms").status_code == 202
    r = c.step_up("sms", sms_code(server, phone))
    assert r.status_code == 200, r.text
    r = c.post("/api/v1/me/totp")
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert r.json()["qr_png"].startswith("data:image/png;base64,")
    now = server.clock() / 1000
    r = c.post("/api/v1/me/totp/confirm", {"code": totp(secret, now)})
    assert r.status_code == 200, r.text
    return secret


def start_reset(server, login):
    c = Client(server)
    cid, ans = c.captcha("reset")
    r = c.post("/api/v1/auth/password-reset", {"login": login, "captcha_id": cid,
                                               "captcha_answer": ans})
    assert r.status_code == 202
    return c, r.json()["reset_id"]


def reset_work(s, login):
    """What one password-reset start for login did, counted from the
    database and the server's Argon2 counter (no timing): rows written per
    table, codes bound to the reset, messages queued or decoyed, audit
    records; and the shape of the answer."""
    tables = ("iam_reset", "iam_code", "notify_message", "iam_reset_decoy", "audit_log")

    def counts():
        return {t: s.query("SELECT COUNT(*) AS n FROM %s" % t)[0]["n"] for t in tables}

    c = Client(s)
    cid, ans = c.captcha("reset")
    before = counts()
    hashes = s.get("/test/v1/pwhash-total").json()["total"]
    r = c.post("/api/v1/auth/password-reset", {"login": login, "captcha_id": cid,
                                               "captcha_answer": ans})
    assert r.status_code == 202, r.text
    after = counts()
    rid = r.json()["reset_id"]
    body = r.json()
    return {
        "rows": {t: after[t] - before[t] for t in tables},
        "codes": s.query("SELECT channel FROM iam_code WHERE context = ? ORDER BY channel",
                         rid),
        "argon2": s.get("/test/v1/pwhash-total").json()["total"] - hashes,
        "status": r.status_code,
        "shape": {k: (type(v).__name__, len(str(v))) for k, v in body.items()},
        "headers": sorted(h for h in r.headers if h.lower() not in ("date", "x-request-id")),
    }


def test_reset_start_does_the_same_work_for_every_account(make_server):
    """An unknown name, an account that cannot reset (one factor) and one
    that can (phone + TOTP: one real code, one decoy) write the same rows,
    issue two codes bound to the reset, queue or decoy two messages, run no
    Argon2 and answer alike. req: IAM-RST-03"""
    s = make_server()
    s.clock(freeze=True)
    _, single = register(s)
    _, eligible = register(s)
    enrol_totp(s, login_customer(s, eligible, device="work-dev"), eligible)
    work = {name: reset_work(s, login) for name, login in
            (("unknown", new_phone()), ("single", single), ("eligible", eligible))}
    assert work["eligible"]["rows"] == {"iam_reset": 1, "iam_code": 2, "notify_message": 1,
                                        "iam_reset_decoy": 1, "audit_log": 1}
    for name in ("unknown", "single"):
        w = work[name]
        assert w["rows"]["iam_reset"] == 1 and w["rows"]["iam_code"] == 2
        assert w["rows"]["notify_message"] + w["rows"]["iam_reset_decoy"] == 2
        assert w["rows"]["notify_message"] == 0  # nothing goes to anyone
        assert w["rows"]["audit_log"] == 1
    for key in ("codes", "argon2", "status", "shape", "headers"):
        assert work["unknown"][key] == work["single"][key] == work["eligible"][key], key
    assert [c["channel"] for c in work["unknown"]["codes"]] == ["email", "sms"]
    assert work["unknown"]["argon2"] == 0


def test_reset_needs_two_factors_is_single_use_and_tells_the_user(make_server):
    """SMS code + TOTP; one factor alone is refused; the reset id works once;
    the user is told on the bound phone. req: IAM-RST-01, IAM-RST-02, IAM-RST-03"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    user = login_customer(s, phone, device="reset-dev")
    secret = enrol_totp(s, user, phone)

    c, rid = start_reset(s, phone)
    code = sms_code(s, phone)
    r = c.post("/api/v1/auth/password-reset/confirm", {"reset_id": rid, "sms_code": code,
                                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 400 and err(r) == "reset_invalid"

    c, rid = start_reset(s, phone)
    code = sms_code(s, phone)
    s.clock(advance_ms=30_000)
    body = {"reset_id": rid, "sms_code": code, "totp_code": totp(secret, s.clock() / 1000),
            "new_password": OTHER_PASSWORD}
    before = len(sms_to(s, phone))
    r = c.post("/api/v1/auth/password-reset/confirm", body)
    assert r.status_code == 204, r.text
    assert c.post("/api/v1/auth/password-reset/confirm", body).status_code == 400
    assert len(sms_to(s, phone, min_count=before + 1)) > before
    assert Client(s, device="reset-dev").login(phone, OTHER_PASSWORD).status_code == 200
    assert Client(s, device="reset-dev").login(phone, GOOD_PASSWORD).status_code == 401
    # The reset ended every session of the account.
    assert user.get("/api/v1/me").status_code == 401
    assert s.audit("user.password_reset")


def test_reset_refuses_a_recent_password_after_the_factors(make_server):
    """The history rule still holds for a reset, answered only once both
    factors are right, and it uses nothing up. req: IAM-PWD-06, IAM-RST-01"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    user = login_customer(s, phone, device="reuse-dev")
    secret = enrol_totp(s, user, phone)
    c, rid = start_reset(s, phone)
    code = sms_code(s, phone)
    s.clock(advance_ms=30_000)
    body = {"reset_id": rid, "sms_code": code, "totp_code": totp(secret, s.clock() / 1000),
            "new_password": GOOD_PASSWORD}
    r = c.post("/api/v1/auth/password-reset/confirm", body)
    assert r.status_code == 400 and err(r) == "password_reused", r.text
    body["new_password"] = OTHER_PASSWORD
    r = c.post("/api/v1/auth/password-reset/confirm", body)
    assert r.status_code == 204, r.text


def test_reset_expires_after_ten_minutes(make_server):
    """req: IAM-RST-03"""
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s)
    user = login_customer(s, phone, device="exp-dev")
    secret = enrol_totp(s, user, phone)
    c, rid = start_reset(s, phone)
    code = sms_code(s, phone)
    s.clock(advance_ms=600_000)
    r = c.post("/api/v1/auth/password-reset/confirm", {
        "reset_id": rid, "sms_code": code, "totp_code": totp(secret, s.clock() / 1000),
        "new_password": OTHER_PASSWORD})
    assert r.status_code == 400 and err(r) == "reset_invalid"


def test_register_by_email_code_over_smtp(server):
    """The code travels through a real SMTP relay. req: IAM-MFA-08"""
    addr = "new-%s@example.test" % new_phone()
    c = Client(server)
    assert c.send_code("register", "email", addr, captcha=True).status_code == 202
    code = mail_code(server, addr)
    r = c.post("/api/v1/auth/register", {"login": addr.upper(), "code": code,
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 201, r.text
    assert r.json()["user"]["login"] != addr


def test_bind_codes_need_a_recent_second_factor(make_server):
    """A bind code goes to a number the caller names, with no captcha in
    front: only a session that proved a second factor within
    mfa.stepup_window may ask for one; a password alone may not.
    req: IAM-MFA-02, IAM-MFA-08"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    target = new_phone()
    pending = Client(s, device="bind-unknown")
    assert pending.login(phone, GOOD_PASSWORD).json()["state"] == "mfa_required"
    r = pending.send_code("bind", "sms", target)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    c = login_customer(s, phone, device="bind-dev")
    s.clock(advance_ms=301_000)
    r = c.send_code("bind", "sms", target)
    assert r.status_code == 403 and err(r) == "step_up_required", r.text
    assert sms_to(s, target, wait=0) == []
    assert c.send_code("step_up", "sms").status_code == 202
    assert c.step_up("sms", sms_code(s, phone)).status_code == 200
    r = c.send_code("bind", "sms", target)
    assert r.status_code == 202, r.text
    assert len(sms_to(s, target, min_count=1)) == 1


def confirm_hashes(server, login):
    """Argon2id runs of one reset confirm with wrong codes for login (counted
    by the server, so the comparison does not depend on timing)."""
    c, rid = start_reset(server, login)
    before = server.get("/test/v1/pwhash-total").json()["total"]
    r = c.post("/api/v1/auth/password-reset/confirm", {
        "reset_id": rid, "sms_code": "000000", "email_code": "000000",
        "totp_code": "000000", "new_password": OTHER_PASSWORD})
    assert r.status_code == 400 and err(r) == "reset_invalid", r.text
    return server.get("/test/v1/pwhash-total").json()["total"] - before


def test_reset_confirm_costs_the_same_for_an_unknown_account(make_server):
    """The password history (one Argon2 per old password) is checked only
    for someone who holds both factors; a confirm with wrong codes does the
    same Argon2 work whether or not the account exists. req: IAM-RST-03,
    req: WEB-ERR-02"""
    s = make_server()
    _, phone = register(s)
    enrol_totp(s, login_customer(s, phone, device="cost-dev"), phone)  # two factors
    known = confirm_hashes(s, phone)
    unknown = confirm_hashes(s, new_phone())
    assert known == unknown
