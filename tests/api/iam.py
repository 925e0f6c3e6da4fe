"""Helpers for the IAM API tests: captchas, codes from the SMS outbox and the
SMTP sink, TOTP, and the registration / login / MFA flows.
"""
import base64
import email
import hashlib
import hmac
import mailbox
import re
import struct
import time

from conftest import SMTP

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


def sms_to(s, phone, min_count=0, since=0, wait=10.0):
    """Texts of the SMS simulator's outbox sent to phone (from outbox index
    since), oldest first; waits up to `wait` seconds for at least min_count
    of them, since delivery runs on its own thread."""
    deadline = time.time() + wait
    while True:
        deliver(s)
        msgs = outbox(s)[since:]
        texts = [m["text"] for m in msgs if m["to"].endswith(phone[-11:])]
        if len(texts) >= min_count or time.time() > deadline:
            return texts
        time.sleep(0.05)


def sms_wait(s, phone, pred, wait=10.0):
    """Waits until pred(texts) holds for the texts sent to phone."""
    deadline = time.time() + wait
    texts = []
    while time.time() < deadline:
        texts = sms_to(s, phone, wait=0)
        if pred(texts):
            return texts
        time.sleep(0.05)
    raise AssertionError("no matching SMS to %s: %r" % (phone, texts))


def mails_to(address, wait=10.0):
    """(subject, body) of the messages the SMTP sink got for address."""
    deadline = time.time() + wait
    out = []
    while time.time() < deadline:
        out = []
        box = mailbox.Maildir(SMTP["dir"], create=False)
        for key in box.iterkeys():
            msg = email.message_from_bytes(box.get_bytes(key))
            if address in (msg.get("To") or ""):
                subject = str(email.header.make_header(email.header.decode_header(
                    msg.get("Subject", ""))))
                payload = msg.get_payload(decode=True) or b""
                out.append((subject, payload.decode("utf-8", "replace"), msg))
        if out:
            return out
        time.sleep(0.1)
    return out


def last_code(texts):
    """The newest 6-digit code in a list of message texts."""
    for t in reversed(texts):
        m = re.search(r"(?<!\d)(\d{6})(?!\d)", t)
        if m:
            return m.group(1)
    raise AssertionError("no code in %r" % texts)


def sms_code(s, phone):
    """The code of the first SMS to phone after the last send_code mark."""
    return last_code(sms_to(s, phone, min_count=1, since=getattr(s, "sms_mark", 0)))


def mail_code(s, address, count_before=0):
    deliver(s)
    deadline = time.time() + 10
    while time.time() < deadline:
        mails = mails_to(address, wait=0.5)
        if len(mails) > count_before:
            return last_code([b for _, b, _ in mails])
        deliver(s)
    raise AssertionError("no mail for %s" % address)


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
        import requests
        self.s = server
        self.admin = admin
        self.http = requests.Session()
        self.http.verify = server.cert
        self.http.trust_env = False
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
        self.s.sms_mark = len(outbox(self.s))
        body = {"purpose": purpose, "channel": channel}
        if target:
            body["target"] = target
        if captcha:
            body["captcha_id"], body["captcha_answer"] = self.captcha(purpose)
        return self.post(self.p("/auth/codes"), body)


_phone_seq = [0]


def new_phone():
    """A fresh valid mainland mobile number for this run."""
    _phone_seq[0] += 1
    return "139%08d" % ((int(time.time() * 1000) + _phone_seq[0] * 7919) % 100000000)


def register(server, phone=None, password=GOOD_PASSWORD, **extra):
    """Registers a customer by SMS code; returns (client, phone)."""
    phone = phone or new_phone()
    c = Client(server, device="registration-device")
    r = c.send_code("register", "sms", phone, captcha=True)
    assert r.status_code == 202, r.text
    code = sms_code(server, phone)
    body = {"login": phone, "code": code, "password": password}
    body.update(extra)
    r = c.post("/api/v1/auth/register", body, csrf=False)
    assert r.status_code == 201, r.text
    return c, phone


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
