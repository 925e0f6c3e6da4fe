#!/usr/bin/python3
"""bench/paycode_users.py: makes the people of the payment-code benchmark
(bench/run.sh paycode, bench/bench_paycode.c; issue 11).

Runs against a test-hooks build of anfud whose admin listener is on
(--admin-port), with the anfu CLI of the same build on its data directory
(--anfu, --data). It makes:

  1. --users customers exactly as bench/wallet_users.py does (its
     make_user: registered with a real name, logged in from the
     benchmark's device, payment PIN set, --funds fen in the wallet), and
     writes them to --out in that script's format (mobile number, TAB,
     Cookie header, TAB, CSRF token);
  2. an operator and a security administrator with `anfu staff bootstrap`
     (no four-eyes approver exists yet), each through its first login on
     the admin listener (new password, TOTP enrolled);
  3. the merchant --merchant-id with a payment profile
     (POST /admin/v1/merchants by the operator, fee --fee-bps);
  4. one merchant administrator of it (POST /admin/v1/users by the
     security administrator, initial password by SMS), logged in on the
     main listener from the benchmark's device (SMS second factor, the
     forced password change), then --tills sessions of it in all (each a
     login with the SMS second factor), each checked with
     GET /api/v1/merchant/orders;
     written to --merchants-out, one session a line: Cookie header, TAB,
     CSRF token.

Not a test (STYLE.md: benchmarks live in bench/); it stops at the first
unexpected answer. Use the system interpreter (/usr/bin/python3).
"""
import base64
import hashlib
import hmac
import re
import struct
import subprocess
import sys
import time

from customers import API, Fail, Server, arguments, make_all, run
from wallet_users import make_user

STAFF_PASSWORD = "Ad9#kLw2!mQz"
MERCHANT_PASSWORD = "Gk5^rBn8%cJy"


def totp(secret_b32, at=None, step=30):
    """RFC 6238 TOTP (SHA-1, 6 digits): what anfud's staff enrolment uses."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((at if at is not None else time.time()) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class Agent:
    """A session on one listener that keeps its CSRF token."""

    def __init__(self, srv, base, device, ua):
        self.srv, self.base = srv, base
        self.http = srv.session(device, ua)
        self.csrf = None

    def call(self, method, path, body=None, want=200):
        headers = {"X-CSRF-Token": self.csrf} if self.csrf and method != "GET" else {}
        r = self.http.request(method, self.base + path, json=body, headers=headers, timeout=60)
        if r.status_code != want:
            raise Fail("%s %s: %d %s" % (method, path, r.status_code, r.text[:300]))
        if r.text and r.headers.get("Content-Type", "").startswith("application/json"):
            tok = r.json().get("csrf_token")
            if isinstance(tok, str):
                self.csrf = tok
        return r


def staff(srv, a, name, role):
    """A bootstrapped staff account after its first login: an Agent."""
    p = subprocess.run([a.anfu, "staff", "bootstrap", "--data", a.data, "--name", name,
                        "--role", role], capture_output=True, text=True, timeout=120)
    m = re.search(r"initial password: (\S+)", p.stdout)
    if p.returncode != 0 or not m:
        raise Fail("anfu staff bootstrap %s: %s%s" % (name, p.stdout, p.stderr))
    ag = Agent(srv, "https://127.0.0.1:%d" % a.admin_port, "bench-console-" + name, a.ua)
    r = ag.call("POST", "/admin/v1/auth/login", {"login": name, "password": m.group(1)})
    if set(r.json().get("required_actions", ())) != {"change_password", "enrol_totp"}:
        raise Fail("%s: first login answered %s" % (name, r.text[:300]))
    ag.call("POST", "/admin/v1/me/password",
            {"current_password": m.group(1), "new_password": STAFF_PASSWORD})
    secret = ag.call("POST", "/admin/v1/me/totp", want=201).json()["secret"]
    ag.call("POST", "/admin/v1/me/totp/confirm", {"code": totp(secret)})
    ag.call("GET", "/admin/v1/me")
    return ag


def till_login(srv, a, phone, password):
    """A session of the merchant administrator from the benchmark's device:
    the password, then the SMS second factor when anfud asks for it."""
    ag = Agent(srv, srv.base, a.device, a.ua)
    r = ag.call("POST", API + "/auth/login", {"login": a.merchant_user, "password": password})
    if r.json().get("state") == "mfa_required":
        n = len(srv.sms_texts(phone))
        ag.call("POST", API + "/auth/codes", {"purpose": "login", "channel": "sms"}, want=202)
        r = ag.call("POST", API + "/auth/mfa", {"method": "sms", "code": srv.code_after(phone, n)})
    return ag, r


def make_merchant(srv, a):
    """Steps 2-4: the merchant's sessions, [(cookie, csrf)]."""
    op = staff(srv, a, "benchop", "operator")
    admin = staff(srv, a, "benchadmin", "security_admin")
    op.call("POST", "/admin/v1/merchants", {"merchant_id": a.merchant_id, "name_zh": "茶叶小铺",
                                            "name_en": "Tea Shop", "fee_bps": a.fee_bps},
            want=201)
    phone = "139%08d" % (int(time.time()) % 100000000)
    n = len(srv.sms_texts(phone))
    admin.call("POST", "/admin/v1/users", {"kind": "merchant", "username": a.merchant_user,
                                           "merchant_id": a.merchant_id,
                                           "role": "merchant_admin", "phone": phone}, want=201)
    initial = None
    deadline = time.time() + 20
    while not initial and time.time() < deadline:
        for t in srv.sms_texts(phone)[n:]:
            m = re.search(r"initial password is (\S+)\. You must|初始密码(\S+?)。首次登录", t)
            if m:
                initial = m.group(1) or m.group(2)
        time.sleep(0.05)
    if not initial:
        raise Fail("no initial password by SMS to the merchant user")
    ag, r = till_login(srv, a, phone, initial)
    if r.json().get("state") != "required_actions":
        raise Fail("merchant first login: %s" % r.text[:300])
    r = ag.call("POST", API + "/me/password", {"current_password": initial,
                                               "new_password": MERCHANT_PASSWORD})
    if r.json().get("state") != "active":
        raise Fail("merchant password change: %s" % r.text[:300])
    tills = [ag]
    for _ in range(a.tills - 1):
        t, r = till_login(srv, a, phone, MERCHANT_PASSWORD)
        if r.json().get("state") != "active":
            raise Fail("merchant login: %s" % r.text[:300])
        tills.append(t)
    out = []
    for t in tills:
        # The session as bench_paycode will use it: the merchant's own orders.
        t.call("GET", API + "/merchant/orders")
        out.append(("; ".join("%s=%s" % (c.name, c.value) for c in t.http.cookies), t.csrf))
    return out


def main():
    ap = arguments(__doc__, users=256, device="bench-paycode")
    ap.add_argument("--pin", required=True)
    ap.add_argument("--funds", type=int, default=10000000, help="fen credited to each wallet")
    ap.add_argument("--admin-port", type=int, required=True)
    ap.add_argument("--anfu", required=True, help="the anfu CLI of anfud's build")
    ap.add_argument("--data", required=True, help="anfud's data directory")
    ap.add_argument("--merchant-id", default="mch_bench")
    ap.add_argument("--merchant-user", default="benchtill")
    ap.add_argument("--fee-bps", type=int, default=60)
    ap.add_argument("--tills", type=int, default=1, help="sessions of the merchant user")
    ap.add_argument("--merchants-out", required=True)
    a = ap.parse_args()
    done, secs = make_all(a, "138", lambda srv, i, p: make_user(srv, i, p, a))
    with open(a.out, "w", encoding="utf-8") as f:
        for phone, cookie, csrf in done:
            f.write("%s\t%s\t%s\n" % (phone, cookie, csrf))
    t0 = time.time()
    tills = make_merchant(Server(a.port, a.cert), a)
    with open(a.merchants_out, "w", encoding="utf-8") as f:
        for cookie, csrf in tills:
            f.write("%s\t%s\n" % (cookie, csrf))
    print("paycode_users: %d customers (%d fen each) in %.1f s; merchant %s (fee %d bps) with "
          "%d till session(s) in %.1f s" % (len(done), a.funds, secs, a.merchant_id, a.fee_bps,
                                            len(tills), time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    run("paycode_users", main)
