"""Sessions: cookies, CSRF, idle and absolute lifetime, per-user limit,
binding to IP and device, logout, listing and ending one's own sessions.

req: IAM-SESS-01, IAM-SESS-02, IAM-SESS-03, IAM-SESS-04, IAM-SESS-05,
req: IAM-SESS-06, IAM-SESS-07, WEB-SESS-01, WEB-SESS-02, WEB-CSRF-01,
req: WEB-CONC-02, IAM-RBAC-04, IAM-MFA-02, WEB-BACK-01
"""
import re

from iam import (GOOD_PASSWORD, OTHER_PASSWORD, Client, login_customer, register, sms_code,
                 totp)


def err(r):
    return r.json()["error"]["code"]


def test_session_cookie_is_httponly_secure_samesite_strict(server):
    """req: WEB-SESS-01, WEB-SESS-02"""
    _, phone = register(server)
    c = Client(server)
    r = c.login(phone, GOOD_PASSWORD)
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"^anfu_session=[0-9a-f]{64}; ", cookie), cookie
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert "Max-Age" not in cookie and "Expires" not in cookie
    # The id never appears in a body or in the database in clear.
    sid = c.session_cookie()
    assert sid not in r.text
    assert not server.query("SELECT 1 FROM iam_session WHERE id_hash = ?", sid)


def test_session_secrets_are_stored_only_as_keyed_hashes(make_server):
    """The session id and CSRF token are in no database file (WAL included),
    neither in clear nor as their plain SHA-256; the rows hold HMACs under a
    key derived from the master key, which lives in keys/ and not in the
    database. Session secrets only: API signing keys do not exist yet.
    req: DATA-ENC-01"""
    import base64
    import hashlib
    s = make_server()
    _, phone = register(s)
    c = login_customer(s, phone, device="at-rest")
    sid, token = c.session_cookie(), c.csrf
    assert re.match(r"^[0-9a-f]{64}$", sid) and re.match(r"^[0-9a-f]{64}$", token)
    rows = s.query("SELECT id_hash, csrf_hash FROM iam_session WHERE revoked_ms IS NULL")
    assert len(rows) == 1 and re.match(r"^[0-9a-f]{64}$", rows[0]["id_hash"])
    assert s.stop() == 0
    blob = s.db_bytes()
    for secret in (sid, token):
        for form in (secret, hashlib.sha256(secret.encode()).hexdigest(),
                     hashlib.sha256(bytes.fromhex(secret)).hexdigest()):
            assert form.encode() not in blob, form
    master = (s.data / "keys" / "master.key").read_text().splitlines()[-1].strip()
    assert base64.b64decode(master) not in blob and master.encode() not in blob


def test_protected_routes_refuse_without_a_session(server):
    """req: IAM-SESS-03"""
    c = Client(server)
    for path in ("/api/v1/me", "/api/v1/me/sessions", "/api/v1/me/logins"):
        r = c.get(path)
        assert r.status_code == 401 and err(r) == "unauthorized"
        assert r.headers["Cache-Control"] == "no-store"


def test_state_changing_requests_need_the_csrf_token(server):
    """req: WEB-CSRF-01"""
    _, phone = register(server)
    c = login_customer(server, phone, device="csrf-dev")
    r = c.delete("/api/v1/me/sessions", csrf=False)
    assert r.status_code == 403 and err(r) == "csrf_failed"
    r = c.delete("/api/v1/me/sessions", csrf=False, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403 and err(r) == "csrf_failed"
    r = c.delete("/api/v1/me/sessions", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and err(r) == "csrf_failed"
    assert c.delete("/api/v1/me/sessions").status_code == 204


def test_logout_ends_the_session_on_the_server(server):
    """The old cookie no longer works anywhere; what the session showed was
    never cacheable, so Back shows nothing either. req: IAM-SESS-02,
    req: IAM-SESS-04, WEB-BACK-01"""
    _, phone = register(server)
    c = login_customer(server, phone, device="logout-dev")
    me = c.get("/api/v1/me")
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    sid = c.session_cookie()
    r = c.post("/api/v1/auth/logout")
    assert r.status_code == 204
    assert "Max-Age=0" in r.headers["Set-Cookie"]
    c.http.cookies.set("anfu_session", sid)
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and err(r) == "session_expired"
    assert r.headers["Cache-Control"] == "no-store"


def test_idle_session_ends_at_15_minutes(make_server):
    """Default customer idle timeout 15 min (<= 30). req: IAM-SESS-01"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = login_customer(s, phone, device="idle-dev")
    s.clock(advance_ms=14 * 60_000 + 59_000)
    assert c.get("/api/v1/me").status_code == 200
    s.clock(advance_ms=15 * 60_000)
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and err(r) == "session_expired"


def test_session_has_an_absolute_lifetime(make_server):
    """Customers: 4 h even when used all the time. req: IAM-SESS-05"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = login_customer(s, phone, device="abs-dev")
    for _ in range(23):
        s.clock(advance_ms=10 * 60_000)
        assert c.get("/api/v1/me").status_code == 200
    s.clock(advance_ms=10 * 60_000)
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and err(r) == "session_expired"


def test_fourth_session_ends_the_oldest(make_server):
    """Customers: at most 3 sessions; the oldest ends, the user is told.
    req: WEB-CONC-02"""
    s = make_server()
    _, phone = register(s)
    clients = [login_customer(s, phone, device="limit-dev") for _ in range(3)]
    oldest = next(x["id"] for x in clients[0].get("/api/v1/me/sessions").json()["sessions"]
                  if x["current"])
    fourth = login_customer(s, phone, device="limit-dev")
    assert fourth.last.json()["ended_session"] == oldest
    assert clients[0].get("/api/v1/me").status_code == 401
    recs = [x for x in s.audit("session.ended") if x["object_id"] == oldest]
    assert len(recs) == 1 and "session_limit" in recs[0]["details"]
    assert s.query("SELECT COUNT(*) AS n FROM notify_message WHERE kind = 'session_ended'"
                   ) == [{"n": 1}]
    for c in clients[1:] + [fourth]:
        assert c.get("/api/v1/me").status_code == 200
    assert len(fourth.get("/api/v1/me/sessions").json()["sessions"]) == 3


def test_session_limit_can_refuse_instead(make_server):
    """req: WEB-CONC-02"""
    s = make_server({"session": {"on_limit": "refuse"},
                     "session.customer": {"max_sessions": "1"}})
    _, phone = register(s)
    login_customer(s, phone, device="one")
    r = Client(s, device="one").login(phone, GOOD_PASSWORD)
    assert r.status_code == 409 and err(r) == "session_limit"


def test_session_is_bound_to_the_device(server):
    """A changed device fingerprint ends the session (level enhanced).
    req: IAM-SESS-06"""
    _, phone = register(server)
    c = login_customer(server, phone, device="bound-dev")
    assert c.get("/api/v1/me").status_code == 200
    sid = next(x["id"] for x in c.get("/api/v1/me/sessions").json()["sessions"] if x["current"])
    c.http.headers["X-Device-Id"] = "stolen-cookie-elsewhere"
    r = c.get("/api/v1/me")
    assert r.status_code == 401 and err(r) == "session_expired"
    c.http.headers["X-Device-Id"] = "bound-dev"
    assert c.get("/api/v1/me").status_code == 401  # ended for good
    recs = [x for x in server.audit("session.binding_changed") if x["object_id"] == sid]
    assert len(recs) == 1 and "binding" in recs[0]["details"]


def test_session_binding_is_off_at_level_basic(make_server):
    """req: IAM-SESS-06"""
    s = make_server({"server": {"level": "basic"}})
    _, phone = register(s)
    c = login_customer(s, phone, device="basic-dev")
    c.http.headers["X-Device-Id"] = "other"
    assert c.get("/api/v1/me").status_code == 200


def test_users_list_and_end_their_own_sessions(server):
    """req: IAM-SESS-02, WEB-CONC-02"""
    _, phone = register(server)
    a = login_customer(server, phone, device="list-dev")
    b = login_customer(server, phone, device="list-dev")
    sessions = a.get("/api/v1/me/sessions").json()["sessions"]
    assert len(sessions) == 2
    assert sum(1 for x in sessions if x["current"]) == 1
    other = next(x for x in sessions if not x["current"])
    assert a.delete("/api/v1/me/sessions/" + other["id"]).status_code == 204
    assert b.get("/api/v1/me").status_code == 401
    assert a.get("/api/v1/me").status_code == 200


def test_another_users_session_cannot_be_ended(server):
    """Object-level access: someone else's session id is not found.
    req: IAM-RBAC-04, WEB-ERR-02"""
    _, p1 = register(server)
    _, p2 = register(server)
    a = login_customer(server, p1, device="obj-a")
    b = login_customer(server, p2, device="obj-b")
    bid = next(x["id"] for x in b.get("/api/v1/me/sessions").json()["sessions"])
    r = a.delete("/api/v1/me/sessions/" + bid)
    assert r.status_code == 404 and err(r) == "not_found"
    assert b.get("/api/v1/me").status_code == 200
    # The same answer as for a session that does not exist.
    missing = a.delete("/api/v1/me/sessions/ses_" + "Q" * 22)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == r.json()["error"]["message"]


def test_customer_session_is_useless_on_the_admin_listener(server):
    """req: IAM-ADM-02, IAM-RBAC-01"""
    _, phone = register(server)
    c = login_customer(server, phone, device="cross")
    c.admin = True
    c.http.cookies.set("anfu_admin_session", c.http.cookies.get("anfu_session"))
    assert c.get("/admin/v1/users").status_code == 401
    c.admin = False
    assert c.get("/admin/v1/users").status_code == 404


def test_ending_other_sessions_needs_a_recent_second_factor(make_server):
    """Ending another session, or all others, needs a second factor within
    mfa.stepup_window; refused ones are audited as denied and end nothing.
    Ending one's own session (a logout) needs none. req: IAM-MFA-02, IAM-SESS-02"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    a = login_customer(s, phone, device="su-dev")  # new device: MFA, then trusted
    b = login_customer(s, phone, device="su-dev")  # trusted device: no second factor
    c = login_customer(s, phone, device="su-dev")
    s.clock(advance_ms=301_000)
    own = next(x["id"] for x in b.get("/api/v1/me/sessions").json()["sessions"] if x["current"])
    r = b.delete("/api/v1/me/sessions/" + own)
    assert r.status_code == 204 and "Max-Age=0" in r.headers["Set-Cookie"]
    cid = next(x["id"] for x in c.get("/api/v1/me/sessions").json()["sessions"] if x["current"])
    r = a.delete("/api/v1/me/sessions/" + cid)
    assert r.status_code == 403 and err(r) == "step_up_required"
    r = a.delete("/api/v1/me/sessions")
    assert r.status_code == 403 and err(r) == "step_up_required"
    assert c.get("/api/v1/me").status_code == 200
    denied = [x for x in s.audit("session.ended") if x["outcome"] == "denied"]
    assert len(denied) == 2 and all("step_up_required" in x["details"] for x in denied)
    assert a.send_code("step_up", "sms").status_code == 202
    assert a.step_up("sms", sms_code(s, phone)).status_code == 200
    assert a.delete("/api/v1/me/sessions").status_code == 204
    assert c.get("/api/v1/me").status_code == 401
    assert a.get("/api/v1/me").status_code == 200


def test_password_change_and_totp_confirmation_renew_the_session(make_server):
    """Leaving a required action or changing the credentials gives the
    session a new id (cookie) and CSRF token; the old ones stop working.
    req: IAM-SESS-07, WEB-SESS-01, WEB-CSRF-01"""
    s = make_server()
    _, phone = register(s)
    s.clock(freeze=True)
    c = login_customer(s, phone, device="renew-dev")
    old_cookie, old_csrf = c.session_cookie(), c.csrf
    r = c.post("/api/v1/me/password", {"current_password": GOOD_PASSWORD,
                                       "new_password": OTHER_PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "active" and body["required_actions"] == []
    assert re.match(r"^[0-9a-f]{64}$", body["csrf_token"]) and body["csrf_token"] != old_csrf
    cookie = r.headers["Set-Cookie"]
    assert re.match(r"^anfu_session=[0-9a-f]{64}; ", cookie), cookie
    for attr in ("Secure", "HttpOnly", "SameSite=Strict"):
        assert attr in cookie
    assert c.session_cookie() != old_cookie and old_cookie not in r.text
    stale = Client(s, device="renew-dev")
    stale.http.cookies.set("anfu_session", old_cookie)
    assert stale.get("/api/v1/me").status_code == 401
    r = c.delete("/api/v1/me/sessions", headers={"X-CSRF-Token": old_csrf})
    assert r.status_code == 403 and err(r) == "csrf_failed"
    assert c.get("/api/v1/me").status_code == 200
    # TOTP confirmation renews it again.
    r = c.post("/api/v1/me/totp")
    assert r.status_code == 201, r.text
    before, before_csrf = c.session_cookie(), c.csrf
    r = c.post("/api/v1/me/totp/confirm", {"code": totp(r.json()["secret"], s.clock() / 1000)})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "active" and r.json()["csrf_token"] != before_csrf
    assert c.session_cookie() != before
    assert c.delete("/api/v1/me/sessions").status_code == 204  # the new token works
    stale.http.cookies.set("anfu_session", before)
    assert stale.get("/api/v1/me").status_code == 401
