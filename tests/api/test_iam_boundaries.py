"""Session and password-age limits at their exact boundaries for every role
class, and TOTP replay: sequential, at the edges of the drift window, and
concurrent.

The boundaries, read from the code: times are milliseconds of the injectable
clock, and every limit is reached at ">=" (src/iam/session.c
expiry_reason(), src/iam/user.c iam_required_actions()):

- a session is idle when now - last use >= session.<class>.idle_minutes;
- it is over when now >= created + session.<class>.absolute_minutes;
- a password has expired when now >= changed + password.<class>.max_age_days.

So the last instant that passes is the limit - 1 ms and the first one that
fails is the limit itself; each test checks both. The values are the
defaults (docs/iam.md): customer and merchant 15 min idle, 240 min
absolute, 180 days; operator 10 min, 480 min, 30 days; admin (every staff
role marked privileged) 4 min, 480 min, 30 days.

TOTP (src/iam/totp.c, src/iam/login.c verify_totp()): 30-second steps, one
step of drift either side, and a code is accepted only for a step later
than the last accepted one (totp_last_step, updated with a guard).

req: IAM-SESS-01, IAM-SESS-05, IAM-PWD-07, IAM-MFA-13
"""
import json
import re
import threading
import time
import uuid

import pytest

from iam import (GOOD_PASSWORD, OTHER_PASSWORD, Client, admin_password, deliver, login_customer,
                 mails_to, register, totp)

MIN = 60_000
DAY = 24 * 60 * MIN
STEP = 30_000

# Defaults per role class (src/config/options.c), and the class of each
# staff role (privileged roles are class admin, docs/iam.md §2).
IDLE = {"customer": 15 * MIN, "merchant": 15 * MIN, "operator": 10 * MIN, "admin": 4 * MIN}
ABSOLUTE = {"customer": 240 * MIN, "merchant": 240 * MIN, "operator": 480 * MIN,
            "admin": 480 * MIN}
MAX_AGE = {"customer": 180 * DAY, "merchant": 180 * DAY, "operator": 30 * DAY, "admin": 30 * DAY}
STAFF_ROLES = {"operator": "operator", "risk_officer": "operator", "finance": "operator",
               "third_party": "operator", "security_admin": "admin",
               "security_officer": "admin", "auditor": "admin", "sysadmin": "admin"}


def err(r):
    return r.json()["error"]["code"]


def job_runs(s):
    """How many scheduled job runs anfud has finished (its application log)."""
    try:
        text = (s.data / "log" / "anfud.log").read_text(errors="replace")
    except FileNotFoundError:
        return 0
    return len(re.findall(r'"event":"jobs\.run","msg":"job \S+ (?:done in|failed)', text))


def move_to(s, t):
    """Sets the (frozen) injectable clock to t ms, then waits until every
    scheduled job that fell due has finished. The hourly purge also ends
    idle and expired sessions: it must run at the instant it fell due, not
    at a later one the test moves to while it is still on its way."""
    before = job_runs(s)
    due = [r for r in s.query("SELECT next_run_ms FROM job_schedule") if r["next_run_ms"] <= t]
    assert s.clock(advance_ms=t - s.clock()) == t
    deadline = time.time() + 30
    while job_runs(s) < before + len(due):
        assert time.time() < deadline, "the jobs due at %d did not run" % t
        time.sleep(0.02)


def purge_due(s):
    return s.query("SELECT next_run_ms FROM job_schedule WHERE name = 'iam.purge'")[0][
        "next_run_ms"]


def unique_mail(tag):
    # The SMTP sink is shared by every server of the run.
    return "%s-%s@example.test" % (tag, uuid.uuid4().hex[:12])


def mail_bodies(s, address):
    deliver(s)
    return [body for _, body, _ in mails_to(address, wait=0.2)]


def wait_mail(s, address, pattern, seen=()):
    """The first match of pattern in a mail to address that is not in seen."""
    for _ in range(100):
        for body in mail_bodies(s, address):
            m = re.search(pattern, body)
            if m and m.group(1) not in seen:
                return m.group(1)
    raise AssertionError("no mail to %s matching %s" % (address, pattern))


# ---- accounts of each role class ------------------------------------------------------

class Customer:
    """A registered customer; the clock must be frozen."""
    cls = "customer"
    probe = "/api/v1/me"
    guarded = "/api/v1/me/sessions"  # not open in state required_actions

    def __init__(self, s):
        self.s = s
        _, self.phone = register(s)
        self.changed_ms = s.clock()
        self.c = login_customer(s, self.phone, device="boundary-dev")
        self.id = self.c.get("/api/v1/me").json()["user"]["id"]

    def login(self):
        """A new session, second factor included when asked; the response."""
        self.c = Client(self.s, device="boundary-dev")
        r = self.c.login(self.phone, GOOD_PASSWORD)
        assert r.status_code == 200, r.text
        if r.json()["state"] == "mfa_required":
            from iam import sms_code
            assert self.c.send_code("login", "sms").status_code == 202
            r = self.c.mfa("sms", sms_code(self.s, self.phone), trust_device=True)
            assert r.status_code == 200, r.text
        return r

    def change_password(self, current, new):
        return self.c.post("/api/v1/me/password", {"current_password": current,
                                                  "new_password": new})


class Staff:
    """A staff account made by `anfu staff bootstrap`, past its first login
    (password changed, TOTP enrolled); the clock must be frozen."""
    probe = "/admin/v1/me"
    guarded = "/admin/v1/me/sessions"

    def __init__(self, s, role, device="console"):
        self.s = s
        self.cls = STAFF_ROLES[role]
        self.name = "u" + role.replace("_", "")
        self.device = device
        out = s.cli_run("staff", "bootstrap", "--name", self.name, "--role", role).stdout
        initial = admin_password(out)
        self.c = Client(s, admin=True, device=device)
        r = self.c.login(self.name, initial)
        assert r.status_code == 200 and r.json()["state"] == "required_actions", r.text
        r = self.change_password(initial, GOOD_PASSWORD)
        assert r.status_code == 200, r.text
        self.changed_ms = s.clock()
        r = self.c.post("/admin/v1/me/totp")
        assert r.status_code == 201, r.text
        self.secret = r.json()["secret"]
        r = self.c.post("/admin/v1/me/totp/confirm", {"code": self.code()})
        assert r.status_code == 200 and r.json()["state"] == "active", r.text
        self.id = self.c.get("/admin/v1/me").json()["user"]["id"]

    def code(self, step_offset=0):
        """The TOTP code of the clock's step + step_offset."""
        return totp(self.secret, self.s.clock() / 1000 + step_offset * 30)

    def login(self, code=None):
        """Password, then TOTP; the MFA response."""
        self.c = Client(self.s, admin=True, device=self.device)
        r = self.c.login(self.name, GOOD_PASSWORD)
        assert r.status_code == 200 and r.json()["state"] == "mfa_required", r.text
        r = self.c.mfa("totp", code or self.code())
        assert r.status_code == 200, r.text
        return r

    def change_password(self, current, new):
        return self.c.post("/admin/v1/me/password", {"current_password": current,
                                                    "new_password": new})


class Merchant:
    """A merchant user created by a security administrator, past its first
    login (email second factor, forced password change)."""
    cls = "merchant"
    probe = "/api/v1/me"
    guarded = "/api/v1/me/sessions"

    def __init__(self, s):
        self.s = s
        self.admin = Staff(s, "security_admin")
        self.name = "mshop"
        self.mail = unique_mail("mshop")
        self.codes = set()
        # The TOTP confirmation just now counts as the step-up this needs.
        r = self.admin.c.post("/admin/v1/users", {
            "kind": "merchant", "username": self.name, "merchant_id": "mch_1",
            "role": "merchant_admin", "email": self.mail})
        assert r.status_code == 201, r.text
        initial = wait_mail(s, self.mail, r"initial password is (\S+)\. You must")
        r = self.login(initial)
        assert r.json()["state"] == "required_actions", r.text
        r = self.change_password(initial, GOOD_PASSWORD)
        assert r.status_code == 200 and r.json()["state"] == "active", r.text
        self.changed_ms = s.clock()
        self.id = self.c.get("/api/v1/me").json()["user"]["id"]

    def login(self, password=GOOD_PASSWORD):
        self.c = Client(self.s, device="shop-pc")
        r = self.c.login(self.name, password)
        assert r.status_code == 200, r.text
        if r.json()["state"] == "mfa_required":
            assert self.c.send_code("login", "email").status_code == 202
            code = wait_mail(self.s, self.mail, r"Your code to log in to anfu is (\d{6}),",
                             self.codes)
            self.codes.add(code)
            r = self.c.mfa("email", code, trust_device=True)
            assert r.status_code == 200, r.text
        return r

    def change_password(self, current, new):
        return self.c.post("/api/v1/me/password", {"current_password": current,
                                                  "new_password": new})


def account(s, kind):
    """An account of the class `kind` names (a staff role, or customer /
    merchant), with an active session made at the current instant."""
    if kind == "customer":
        return Customer(s)
    if kind == "merchant":
        return Merchant(s)
    return Staff(s, kind)


def current_session(a):
    sessions = a.c.get(a.guarded).json()["sessions"]
    return next(x["id"] for x in sessions if x["current"])


def assert_ended(s, a, sid, reason):
    """The session was ended on the server for reason, audited, and the
    cookie opens nothing any more."""
    row = s.query("SELECT revoked_ms, revoke_reason FROM iam_session WHERE public_id = ?", sid)
    assert row and row[0]["revoked_ms"] == s.clock() and row[0]["revoke_reason"] == reason
    recs = [x for x in s.audit("session.ended") if x["object_id"] == sid]
    assert len(recs) == 1, recs
    assert recs[0]["outcome"] == "success" and json.loads(recs[0]["details"]) == {"reason": reason}
    assert recs[0]["actor_id"] == a.id
    r = a.c.get(a.probe)
    assert r.status_code == 401 and err(r) == "session_expired"


SESSION_KINDS = ["customer", "merchant"] + sorted(STAFF_ROLES)


# ---- idle timeout (IAM-SESS-01) -------------------------------------------------------

@pytest.mark.parametrize("kind", SESSION_KINDS)
def test_idle_session_lives_until_the_limit_and_ends_at_it(make_server, kind):
    """Idle timeout per role class: a request idle_minutes - 1 ms after the
    last one passes, a request exactly idle_minutes after it is refused
    401 session_expired, and the session is ended and audited (reason
    idle). req: IAM-SESS-01"""
    s = make_server()
    s.clock(freeze=True)
    a = account(s, kind)
    idle = IDLE[a.cls]
    sid = current_session(a)
    t0 = s.clock()
    move_to(s, t0 + idle - 1)
    assert a.c.get(a.probe).status_code == 200
    # That request was the last use.
    last = s.query("SELECT last_seen_ms FROM iam_session WHERE public_id = ?", sid)
    assert last == [{"last_seen_ms": t0 + idle - 1}]
    assert purge_due(s) > t0 + idle - 1 + idle
    move_to(s, t0 + idle - 1 + idle)
    r = a.c.get(a.probe)
    assert r.status_code == 401 and err(r) == "session_expired"
    assert_ended(s, a, sid, "idle")


# ---- absolute lifetime (IAM-SESS-05) --------------------------------------------------

@pytest.mark.parametrize("kind", ["customer", "merchant", "operator", "auditor"])
def test_session_in_use_ends_exactly_at_its_absolute_lifetime(make_server, kind):
    """A session used all the time still ends absolute_minutes after it was
    created (4 h customers and merchant users, 8 h staff): it passes at
    created + lifetime - 1 ms and is refused at created + lifetime.
    req: IAM-SESS-05"""
    s = make_server()
    s.clock(freeze=True)
    a = account(s, kind)
    sid = current_session(a)
    t0 = s.clock()
    row = s.query("SELECT created_ms FROM iam_session WHERE public_id = ?", sid)
    assert row == [{"created_ms": t0}]
    end = t0 + ABSOLUTE[a.cls]
    keep_alive = IDLE[a.cls] - 1000
    while s.clock() + keep_alive < end - 1:
        move_to(s, s.clock() + keep_alive)
        assert a.c.get(a.probe).status_code == 200
    move_to(s, end - 1)
    assert a.c.get(a.probe).status_code == 200
    # The request below, not the purge job, finds the session over.
    assert purge_due(s) > end
    move_to(s, end)
    r = a.c.get(a.probe)
    assert r.status_code == 401 and err(r) == "session_expired"
    assert_ended(s, a, sid, "absolute")


# ---- maximum password age (IAM-PWD-07) ------------------------------------------------

@pytest.mark.parametrize("kind", ["customer", "merchant", "operator", "auditor"])
def test_password_expires_exactly_at_its_maximum_age(make_server, kind):
    """A password changed at P expires at P + max_age_days (180 customers
    and merchant users, 30 staff): a login at P + age - 1 ms is active and
    announces the expiry instant; 1 ms later the same session is in the
    required action change_password, a new login starts in it, and the
    change is recorded with reason expiry. req: IAM-PWD-07, IAM-PWD-11"""
    s = make_server()
    s.clock(freeze=True)
    a = account(s, kind)
    row = s.query("SELECT pwd_changed_ms FROM iam_user WHERE id = ?", a.id)
    assert row == [{"pwd_changed_ms": a.changed_ms}]
    expires = a.changed_ms + MAX_AGE[a.cls]
    move_to(s, expires - 1)
    r = a.login()
    body = r.json()
    assert body["state"] == "active" and body["required_actions"] == [], r.text
    assert body["password_expires_at_ms"] == expires
    assert a.c.get(a.guarded).status_code == 200
    move_to(s, expires)
    r = a.c.get(a.guarded)
    assert r.status_code == 403 and err(r) == "password_change_required"
    assert a.c.get(a.probe).status_code == 200  # still a session: only the action is due
    move_to(s, expires + STEP)  # a fresh TOTP step for staff
    r = a.login()
    assert r.json()["state"] == "required_actions", r.text
    assert r.json()["required_actions"] == ["change_password"]
    r = a.change_password(GOOD_PASSWORD, OTHER_PASSWORD)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    assert a.c.get(a.guarded).status_code == 200
    hist = s.query("SELECT reason, changed_ms FROM iam_password_history WHERE user_id = ?"
                   " AND kind = 'login' ORDER BY changed_ms DESC LIMIT 1", a.id)
    assert hist == [{"reason": "expiry", "changed_ms": expires + STEP}]


# ---- TOTP replay (IAM-MFA-01, IAM-MFA-13) ---------------------------------------------

def mfa_failures(s, uid):
    return [x for x in s.audit("auth.mfa_failed") if x["object_id"] == uid]


def totp_state(s, uid):
    return s.query("SELECT totp_last_step, failures FROM iam_user WHERE id = ?", uid)[0]


def test_a_totp_code_is_accepted_once_within_its_step(make_server):
    """The code that confirmed the authenticator, and a code that completed
    a login, are refused when given again in the same step (400
    code_invalid, counted as a failure, audited); the refused session stays
    waiting for its second factor and the last accepted step does not
    move. req: IAM-MFA-13, IAM-LOCK-03"""
    s = make_server()
    s.clock(freeze=True)
    op = Staff(s, "operator")
    confirmed = op.code()
    c = Client(s, admin=True, device="console")
    assert c.login(op.name, GOOD_PASSWORD).json()["state"] == "mfa_required"
    before = totp_state(s, op.id)
    assert before["totp_last_step"] == s.clock() // STEP
    r = c.mfa("totp", confirmed)
    assert r.status_code == 400 and err(r) == "code_invalid"
    assert totp_state(s, op.id) == {"totp_last_step": before["totp_last_step"], "failures": 1}
    assert len(mfa_failures(s, op.id)) == 1
    r = c.get("/admin/v1/me/sessions")
    assert r.status_code == 403 and err(r) == "mfa_required"
    # The next step's code logs in; given again at once it is refused.
    s.clock(advance_ms=STEP)
    code = op.code()
    r = c.mfa("totp", code)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text
    assert totp_state(s, op.id) == {"totp_last_step": s.clock() // STEP, "failures": 0}
    d = Client(s, admin=True, device="console")
    assert d.login(op.name, GOOD_PASSWORD).json()["state"] == "mfa_required"
    r = d.mfa("totp", code)
    assert r.status_code == 400 and err(r) == "code_invalid"
    assert totp_state(s, op.id) == {"totp_last_step": s.clock() // STEP, "failures": 1}
    assert len(mfa_failures(s, op.id)) == 2
    # Nor does it serve as a step-up in the session it opened.
    r = c.step_up("totp", code)
    assert r.status_code == 400 and err(r) == "code_invalid"
    assert [x["outcome"] for x in s.audit("auth.step_up_failed")] == ["failure"]


def test_totp_drift_window_is_one_step_either_side_to_the_millisecond(make_server):
    """At the last millisecond of step k the codes of k-1 and k+1 are
    accepted and those of k-2 and k+2 refused; one millisecond later (step
    k+1) the code of k+2 is accepted, and the code of k, though inside the
    window now, is refused because a later step was accepted already.
    req: IAM-MFA-13"""
    s = make_server()
    s.clock(freeze=True)
    op = Staff(s, "operator")
    s.clock(advance_ms=10 * MIN)  # the confirmation's step is far behind
    k = s.clock() // STEP
    move_to(s, (k + 1) * STEP - 1)  # the last millisecond of step k

    def mfa(offset):
        c = Client(s, admin=True, device="console")
        assert c.login(op.name, GOOD_PASSWORD).json()["state"] == "mfa_required"
        return c.mfa("totp", op.code(offset))

    for offset in (-2, 2):
        r = mfa(offset)
        assert r.status_code == 400 and err(r) == "code_invalid", offset
    assert totp_state(s, op.id)["failures"] == 2
    assert mfa(-1).status_code == 200
    assert totp_state(s, op.id) == {"totp_last_step": k - 1, "failures": 0}
    s.clock(advance_ms=1)  # the first millisecond of step k + 1
    assert mfa(1).status_code == 200  # the code of k + 2
    assert totp_state(s, op.id)["totp_last_step"] == k + 2
    r = mfa(-1)  # the code of k: inside the window, behind the last accepted step
    assert r.status_code == 400 and err(r) == "code_invalid"
    assert totp_state(s, op.id) == {"totp_last_step": k + 2, "failures": 1}


def race(clients, send):
    """Runs send(client) for every client at once; the responses in order."""
    out = [None] * len(clients)
    go = threading.Barrier(len(clients))

    def run(i):
        go.wait()
        out[i] = send(clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(not t.is_alive() for t in threads)
    return out


def test_one_totp_code_sent_to_three_logins_at_once_opens_one(make_server):
    """Three sessions of one staff account waiting for their second factor
    (the most a user may hold) send the same valid code at the same time:
    exactly one login completes, the others get 400 code_invalid and stay
    waiting. req: IAM-MFA-13, IAM-SESS-03"""
    s = make_server()
    s.clock(freeze=True)
    op = Staff(s, "operator")
    s.clock(advance_ms=STEP)
    clients = []
    for _ in range(3):
        c = Client(s, admin=True, device="console")
        assert c.login(op.name, GOOD_PASSWORD).json()["state"] == "mfa_required"
        clients.append(c)
    code = op.code()
    out = race(clients, lambda c: c.mfa("totp", code))
    ok = [i for i, r in enumerate(out) if r.status_code == 200]
    assert len(ok) == 1, [r.text for r in out]
    for i, r in enumerate(out):
        if i not in ok:
            assert r.status_code == 400 and err(r) == "code_invalid", r.text
            r = clients[i].get("/admin/v1/me/sessions")
            assert r.status_code == 403 and err(r) == "mfa_required"
    assert clients[ok[0]].get("/admin/v1/me/sessions").status_code == 200
    assert len([x for x in s.audit("auth.mfa") if x["actor_id"] == op.id]) == 1
    assert len(mfa_failures(s, op.id)) == 2
    assert totp_state(s, op.id)["totp_last_step"] == s.clock() // STEP


def test_one_totp_code_sent_as_step_up_from_three_sessions_at_once_counts_once(make_server):
    """Three active sessions of one staff account send the same valid code
    as a step-up at the same time: exactly one step-up succeeds, the others
    get 400 code_invalid. req: IAM-MFA-13, IAM-MFA-02"""
    s = make_server({"session.operator": {"max_sessions": "3"}})
    s.clock(freeze=True)
    op = Staff(s, "operator")
    clients = []
    for _ in range(3):
        s.clock(advance_ms=STEP)
        op.login()
        clients.append(op.c)
    s.clock(advance_ms=STEP)
    code = op.code()
    out = race(clients, lambda c: c.step_up("totp", code))
    assert sorted(r.status_code for r in out) == [200, 400, 400], [r.text for r in out]
    assert sorted(err(r) for r in out if r.status_code != 200) == ["code_invalid"] * 2
    assert len([x for x in s.audit("auth.step_up") if x["actor_id"] == op.id]) == 1
    assert len([x for x in s.audit("auth.step_up_failed") if x["object_id"] == op.id]) == 2
    assert totp_state(s, op.id)["totp_last_step"] == s.clock() // STEP
