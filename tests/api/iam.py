"""Helpers for the IAM API tests: captchas, codes from the SMS outbox and the
SMTP sink, TOTP, and the registration / login / MFA flows.

Messages are delivered by a thread of the server, so before reading the
outbox or the SMTP sink the helpers settle(): deliver what is due and wait
until every queued message has had its first delivery attempt. A code is
read from the newest message of a code kind (notify_message.kind, found by
the message id the outbox line and the Message-ID carry), never from a
notice such as a new-device sign-in that happens to arrive in between.
"""
import base64
import email
import email.header
import email.utils
import hashlib
import hmac
import mailbox
import os
import re
import struct
import time

from conftest import SMTP, http_session

GOOD_PASSWORD = "Tq7#vLm9!zRw"
OTHER_PASSWORD = "Hb4$kWz8@qNe"
THIRD_PASSWORD = "Gk5^rBn8%cJy"
# The trusted-device secret's cookie (docs/iam.md, Trusted devices).
DEVICE_COOKIE = "__Host-anfu_device"


def pfx(admin):
    return "/admin/v1" if admin else "/api/v1"


def captcha(s, admin=False, purpose="login"):
    """Solves a captcha made for purpose ("login", "register", "reset") on
    the listener through the test hook: (captcha_id, answer)."""
    r = s.post(pfx(admin) + "/captcha", {"purpose": purpose}, admin=admin)
    assert r.status_code == 201, r.text
    cid = r.json()["captcha_id"]
    assert r.json()["image"].startswith("data:image/png;base64,")
    a = s.get("/test/v1/captcha/" + cid, admin=admin)
    assert a.status_code == 200, a.text
    return cid, a.json()["answer"]


def deliver(s):
    r = s.post("/test/v1/notify/deliver")
    assert r.status_code == 200, r.text
    return r.json()["sent"]


def outbox(s):
    return s.get("/test/v1/sms-outbox").json()["messages"]


def settle(s, wait=60.0):
    """Delivers what is due and waits until no queued message of s is
    waiting for its first delivery attempt (the delivery thread may hold
    one): then the outbox and the SMTP sink hold every message queued so
    far. A message whose attempt failed waits for its retry, not here."""
    deadline = time.time() + wait
    while True:
        deliver(s)
        rows = s.query("SELECT id, kind, channel FROM notify_message "
                       "WHERE status = 'pending' AND attempts = 0")
        if not rows:
            return
        if time.time() > deadline:
            raise AssertionError("messages still undelivered after %d s: %r" % (wait, rows))
        time.sleep(0.02)


def message_kinds(s):
    """{message id: (kind, queue order)} of every message s queued. On
    PostgreSQL, which has no rowid, the order is the queueing time, and
    messages queued in the same millisecond tie (newest_code then goes by
    the outbox order)."""
    order = "created_ms" if getattr(s, "pg_db", None) else "rowid"
    return {r["id"]: (r["kind"], r["n"])
            for r in s.query("SELECT id, kind, %s AS n FROM notify_message" % order)}


def is_code_kind(kind):
    """The kinds of the messages that carry a one-time code
    (src/iam/notices.c): code, code.<purpose>, reset_code."""
    return kind in ("code", "reset_code") or kind.startswith("code.")


def sms_mark(s):
    """The outbox position after every message queued so far."""
    settle(s)
    return len(outbox(s))


def sms_to(s, phone, min_count=0, since=0, wait=30.0):
    """Texts of the SMS simulator's outbox sent to phone (from outbox index
    since), oldest first; waits up to `wait` seconds for at least min_count
    of them (a job of the server may queue one a moment later)."""
    deadline = time.time() + wait
    while True:
        settle(s)
        msgs = outbox(s)[since:]
        texts = [m["text"] for m in msgs if m["to"].endswith(phone[-11:])]
        if len(texts) >= min_count or time.time() > deadline:
            return texts
        time.sleep(0.05)


def sms_wait(s, phone, pred, wait=30.0):
    """Waits until pred(texts) holds for the texts sent to phone."""
    deadline = time.time() + wait
    texts = []
    while time.time() < deadline:
        texts = sms_to(s, phone, wait=0)
        if pred(texts):
            return texts
        time.sleep(0.05)
    raise AssertionError("no matching SMS to %s: %r" % (phone, texts))


def _maildir_order(key):
    # Python's Maildir names a message <time>.M<usec>P<pid>Q<count>.<host>;
    # Q counts the messages of the one sink process, in arrival order.
    m = re.search(r"Q(\d+)", key)
    return int(m.group(1)) if m else 0


def mails_to(address, wait=30.0):
    """(subject, body, message) of the messages the SMTP sink got for
    address, oldest first; waits up to `wait` seconds for one."""
    deadline = time.time() + wait
    out = []
    while True:
        out = []
        box = mailbox.Maildir(SMTP["dir"], create=False)
        for key in sorted(box.iterkeys(), key=_maildir_order):
            msg = email.message_from_bytes(box.get_bytes(key))
            to = [a.lower() for _, a in email.utils.getaddresses(msg.get_all("To", []))]
            if address.lower() in to:
                subject = str(email.header.make_header(email.header.decode_header(
                    msg.get("Subject", ""))))
                payload = msg.get_payload(decode=True) or b""
                out.append((subject, payload.decode("utf-8", "replace"), msg))
        if out or time.time() > deadline:
            return out
        time.sleep(0.1)


def last_code(texts):
    """The newest 6-digit code in a list of message texts."""
    for t in reversed(texts):
        m = re.search(r"(?<!\d)(\d{6})(?!\d)", t)
        if m:
            return m.group(1)
    raise AssertionError("no code in %r" % texts)


def newest_code(kinds, items, what, kind=None):
    """The code in the newest of items ((message id, text) pairs) whose
    message is of a code kind (or exactly of kind)."""
    def wanted(k):
        return k == kind if kind else is_code_kind(k)
    codes = [(kinds[i][1], pos, t) for pos, (i, t) in enumerate(items)
             if i in kinds and wanted(kinds[i][0])]
    if not codes:
        raise AssertionError("no %s message %s; got: %r" % (
            kind or "code", what, [(kinds.get(i, ("?",))[0], t) for i, t in items]))
    return last_code([max(codes)[2]])


def sms_code(s, phone, kind=None):
    """The code of the newest code message (of kind, when given) sent to
    phone since the last send_code mark."""
    settle(s)
    kinds = message_kinds(s)
    items = [(m.get("id"), m["text"]) for m in outbox(s)[getattr(s, "sms_mark", 0):]
             if m["to"].endswith(phone[-11:])]
    return newest_code(kinds, items, "to %s since the mark" % phone, kind)


def _message_id(msg):
    m = re.match(r"\s*<([^@>]+)@", msg.get("Message-ID") or "")
    return m.group(1) if m else None


def mail_code(s, address, count_before=0, kind=None):
    """The code of the newest code mail (of kind, when given) to address,
    once the sink holds more than count_before mails for it."""
    settle(s)
    mails = mails_to(address, wait=0)
    assert len(mails) > count_before, "no new mail for %s (%d before): %r" % (
        address, count_before, [subj for subj, _, _ in mails])
    items = [(_message_id(msg), body) for _, body, msg in mails[count_before:]]
    return newest_code(message_kinds(s), items, "to %s" % address, kind)


def totp(secret_b32, at=None, step=30):
    """RFC 6238 TOTP (SHA-1, 6 digits)."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    v = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % v


def csrf(s, token, admin=False):
    """Headers for a state-changing request of the current session."""
    return {"X-CSRF-Token": token}


class Client:
    """One user agent: its own cookie jar, device id and CSRF token."""

    def __init__(self, server, device="dev-1", admin=False, ua="anfu-tests/1.0"):
        self.s = server
        self.admin = admin
        self.http = http_session(server.cert)
        self.http.headers.update({"X-Device-Id": device, "User-Agent": ua})
        self.csrf = None
        self.last = None
        # A device name stands for one device of the tests, which keeps the
        # trusted-device secret the server issued to it (as a browser keeps
        # its cookie): a new Client of the same device presents it again.
        self.device_key = (admin, device)
        token = getattr(server, "device_tokens", {}).get(self.device_key)
        if token:
            self.http.cookies.set(DEVICE_COOKIE, token, domain="127.0.0.1", path="/")

    def url(self, path):
        return self.s.url(path, self.admin)

    def req(self, method, path, body=None, csrf=True, **kw):
        headers = kw.pop("headers", {})
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        if body is not None:
            kw["json"] = body
        r = self.http.request(method, self.url(path), headers=headers, timeout=30, **kw)
        self.last = r
        self._renewed(r)
        return r

    def _renewed(self, r):
        # Login, MFA, step-up, password change and TOTP confirmation hand out
        # a new CSRF token with the (new) session cookie (IAM-SESS-07); the
        # cookie jar takes the cookie, this takes the token.
        if r.status_code != 200 or not r.headers.get("Content-Type", "").startswith(
                "application/json"):
            return
        try:
            body = r.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("csrf_token"), str):
            self.csrf = body["csrf_token"]

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def p(self, tail):
        return pfx(self.admin) + tail

    def captcha(self, purpose="login"):
        """A captcha made for purpose on this client's listener, solved
        through the test hook: (captcha_id, answer)."""
        r = self.post(self.p("/captcha"), {"purpose": purpose}, csrf=False)
        assert r.status_code == 201, r.text
        cid = r.json()["captcha_id"]
        return cid, self.s.get("/test/v1/captcha/" + cid).json()["answer"]

    def login(self, login, password, captcha=True):
        body = {"login": login, "password": password}
        if captcha:
            body["captcha_id"], body["captcha_answer"] = self.captcha()
        r = self.post(self.p("/auth/login"), body, csrf=False)
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r

    def session_cookie(self):
        name = "anfu_admin_session" if self.admin else "anfu_session"
        return self.http.cookies.get(name)

    def mfa(self, method, code, trust_device=False):
        r = self.post(self.p("/auth/mfa"), {"method": method, "code": code,
                                            "trust_device": trust_device})
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
            if r.json().get("device_token"):
                if not hasattr(self.s, "device_tokens"):
                    self.s.device_tokens = {}
                self.s.device_tokens[self.device_key] = r.json()["device_token"]
        return r

    def step_up(self, method, code):
        r = self.post(self.p("/auth/step-up"), {"method": method, "code": code})
        if r.status_code == 200:
            self.csrf = r.json()["csrf_token"]
        return r

    def send_code(self, purpose, channel, target=None, captcha=False):
        # Codes sent from here on are the ones sms_code() reads.
        self.s.sms_mark = sms_mark(self.s)
        body = {"purpose": purpose, "channel": channel}
        if target:
            body["target"] = target
        if captcha:
            body["captcha_id"], body["captcha_answer"] = self.captcha(purpose)
        return self.post(self.p("/auth/codes"), body)


# Numbers handed out in this process: a random start, then one after the
# other, never one twice (the shared server keeps every registration).
_phones = {"next": int.from_bytes(os.urandom(4), "big") % 100000000, "used": set()}


def new_phone(last6=None):
    """A fresh valid mainland mobile number for this run (ending in last6
    when given)."""
    while True:
        _phones["next"] = (_phones["next"] + 1) % 100000000
        n = _phones["next"]
        phone = "139%08d" % n if last6 is None else "139%02d%s" % (n % 100, last6)
        if phone not in _phones["used"]:
            _phones["used"].add(phone)
            return phone


def register(server, phone=None, password=GOOD_PASSWORD, lang=None, **extra):
    """Registers a customer by SMS code; returns (client, phone). lang: the
    request's Accept-Language (the account's language), else none (en)."""
    phone = phone or new_phone()
    c = Client(server, device="registration-device")
    if lang:
        c.http.headers["Accept-Language"] = lang
    r = c.send_code("register", "sms", phone, captcha=True)
    assert r.status_code == 202, r.text
    code = sms_code(server, phone)
    body = {"login": phone, "code": code, "password": password}
    body.update(extra)
    r = c.post("/api/v1/auth/register", body, csrf=False)
    assert r.status_code == 201, r.text
    return c, phone


def tick(s):
    """Moves the server's injectable clock 1 ms forward: the next event it
    records has a later time than the last, so rows ordered by their time
    never tie (neither backend's tables have an insertion-order column:
    SQLite's rowid is no column, PostgreSQL has none)."""
    s.clock(advance_ms=1)


def in_time_order(rows, key):
    """rows, after checking that their key times strictly increase: their
    order is the order of the events, not a tie-break's."""
    times = [r[key] for r in rows]
    assert times == sorted(set(times)), "times tie or go back: %r" % times
    return rows


def login_customer(server, phone, password=GOOD_PASSWORD, device="dev-1", trust=True):
    """Logs a customer in, doing the SMS second factor when asked; returns
    the client with an active session."""
    c = Client(server, device=device)
    r = c.login(phone, password)
    assert r.status_code == 200, r.text
    if r.json()["state"] == "mfa_required":
        r = c.send_code("login", "sms")
        assert r.status_code == 202, r.text
        r = c.mfa("sms", sms_code(server, phone), trust_device=trust)
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "active", r.text
    return c


def admin_password(init_out):
    m = re.search(r"initial password: (\S+)", init_out)
    assert m, init_out
    return m.group(1)
