#!/usr/bin/python3
"""The wallet tour: the whole path of money in and out of an anfu wallet,
walked against a running anfud and its simulator bank (anfu-banksim), each
step printed with the JSON the server answered.

    make run                                    # in one terminal
    /usr/bin/python3 tools/tour.py --data var   # in another

Steps: register customer A (real name and resident ID, so a card can be
bound) and a friend B; log A in (captcha, password, SMS second factor); set
A's payment PIN (after a step-up); give the simulator bank a card holder
with A's identity and bind the card with the bank's code; top up and wait
for the bank's confirmation; transfer to B (preview: B's masked name and
the amount in words; confirm with the PIN); withdraw to the card; show A's
and B's history and balance. README.md "The wallet tour" and docs/wallet.md
"Tour" describe it; the curl commands there do the same by hand.

Then the payments tour (README.md "The payments tour", docs/payments.md):
the staff a merchant needs (the first administrator's first login with
TOTP, a security officer made with `anfu staff bootstrap`, an operator made
by the two of them), the merchant's payment profile, its first user (first
login, forced password change); the merchant user creates an order, A pays
it through the API the cashier page /pay/{order} uses (the page's shuffled
keypad: the positions of the PIN's digits), the merchant refunds part of
it, A downloads both receipts (payment and refund) and they are verified
with tools/verify_receipt.py against GET /api/v1/receipts/keys, and
`anfu ledger verify` says the books balance. The first run needs the
administrator's initial password (--admin-password: `anfu init` printed
it); the staff's new passwords and TOTP secrets are kept in
DATA/tour-staff.json (development data) so that later runs log them in.
Without either the payments tour is skipped (said so).

Captchas: by default the tour saves each captcha's PNG and asks you to type
what it shows. --captcha-hook solves them through the test-hooks build's
/test/v1/captcha/{id} (tests/api/test_tour.py runs the tour that way); in
that build the tour also moves the server's test clock to the next TOTP
step (30 s) instead of waiting for it.
SMS codes: read from the SMS simulator's outbox file DATA/notify/
sms-outbox.jsonl, or without --data from the test hook /test/v1/sms-outbox.

Python 3 standard library only, but for the receipts step, which imports
tools/verify_receipt.py (python3-cryptography for Ed25519). Exit status 0 when every step went as it
should (a build without withdrawals says so and goes on), 1 otherwise.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

WAIT_S = 60  # how long to wait for an SMS, the bank's confirmation, ...


class TourError(Exception):
    pass


def show(obj):
    """Prints a JSON answer, long strings (a captcha's PNG) cut short."""
    def cut(v):
        if isinstance(v, str) and len(v) > 120:
            return v[:60] + "...(%d characters)" % len(v)
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v]
        return v
    print("   " + json.dumps(cut(obj), ensure_ascii=False, indent=2).replace("\n", "\n   "))


def step(n, text):
    print("\n== %s. %s" % (n, text), flush=True)


def yuan(fen):
    return "%d.%02d yuan" % (fen // 100, fen % 100)


class Http:
    """One user agent against one HTTPS origin: its cookies (the session)
    and CSRF token, the server's certificate as the only trusted one."""

    def __init__(self, base_url, cafile, label, device=None, prefix="/api/v1"):
        self.prefix = prefix  # /api/v1, or /admin/v1 on the admin listener
        u = urllib.parse.urlsplit(base_url)
        if u.scheme != "https" or not u.hostname:
            raise TourError("%s: an https:// URL is needed" % base_url)
        self.host, self.port = u.hostname, u.port or 443
        if not os.path.exists(cafile):
            raise TourError("no certificate %s (is the server running? --data, --bank-ca)"
                            % cafile)
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.label = label
        self.cookies = {}
        self.csrf = None
        self.headers = {"User-Agent": "anfu-tour/1.0"}
        if device:
            self.headers["X-Device-Id"] = device

    def call(self, method, path, body=None, quiet=False, expect=None, want_bytes=False):
        """Sends one request; returns (status, JSON body or None); with
        want_bytes, (status, the body's bytes). With expect (a status or a tuple of
        them), another status is an error."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = self.csrf
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie":
                    self._cookie(value)
        except (OSError, http.client.HTTPException) as e:
            raise TourError("%s %s %s: %s" % (self.label, method, path, e)) from None
        finally:
            conn.close()
        body_bytes = raw
        out = None
        if raw and resp.getheader("Content-Type", "").startswith("application/json"):
            out = json.loads(raw.decode("utf-8"))
        if isinstance(out, dict) and isinstance(out.get("csrf_token"), str):
            self.csrf = out["csrf_token"]
        if not quiet:
            print("   %s: %s %s -> %d" % (self.label, method, path, resp.status))
            if out is not None and not want_bytes:
                show(out)
        if expect is not None:
            ok = expect if isinstance(expect, tuple) else (expect,)
            if resp.status not in ok:
                raise TourError("%s %s answered %d, not %s: %s" % (
                    method, path, resp.status, "/".join(map(str, ok)),
                    raw.decode("utf-8", "replace")[:500]))
        return resp.status, (body_bytes if want_bytes else out)

    def _cookie(self, header):
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        attrs = rest.lower()
        if not value or "max-age=0" in attrs:
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value


class Tour:
    def __init__(self, args):
        self.args = args
        data = args.data
        ca = args.ca or (os.path.join(data, "tls", "server.crt") if data else None)
        bank_ca = args.bank_ca or (os.path.join(data, "banksim", "tls", "server.crt")
                                   if data else None)
        if not ca or not bank_ca:
            raise TourError("give --data DIR (or --ca and --bank-ca): the servers' certificates")
        self.ca = ca
        self.outbox = os.path.join(data, "notify", "sms-outbox.jsonl") if data else None
        if not self.outbox and not args.captcha_hook:
            raise TourError("give --data DIR: the SMS codes are read from its outbox file")
        self.anon = Http(args.base_url, ca, "anfud")
        self.admin = Http(args.admin_url, ca, "anfud admin")
        self.bank = Http(args.bank_url, bank_ca, "bank")
        self.pin = args.pin
        self.summary = {"withdrawal": None}

    # ---- captchas and codes ---------------------------------------------------

    def captcha(self, http, purpose):
        """A captcha for purpose, solved: (captcha_id, answer)."""
        _, c = http.call("POST", http.prefix + "/captcha", {"purpose": purpose}, expect=201)
        cid = c["captcha_id"]
        if self.args.captcha_hook:
            _, a = http.call("GET", "/test/v1/captcha/" + cid, quiet=True, expect=200)
            print("   (captcha solved through the test hook)")
            return cid, a["answer"]
        png = base64.b64decode(c["image"].split(",", 1)[1])
        fd, path = tempfile.mkstemp(prefix="anfu-captcha-", suffix=".png")
        with os.fdopen(fd, "wb") as f:
            f.write(png)
        if not sys.stdin.isatty():
            raise TourError("the captcha needs a person at a terminal (or --captcha-hook "
                            "with a test-hooks build); its image: " + path)
        try:
            answer = input("   Open %s and type the letters and digits it shows "
                           "(case does not matter): " % path).strip()
        finally:
            os.unlink(path)
        return cid, answer

    def with_captcha(self, http, purpose, method, path, body, expect):
        """Sends a request that carries a captcha; a person who misread the
        captcha gets a new one (five tries)."""
        for _ in range(5):
            b = dict(body)
            b["captcha_id"], b["captcha_answer"] = self.captcha(http, purpose)
            st, out = http.call(method, path, b)
            code = (out or {}).get("error", {}).get("code", "") if isinstance(out, dict) else ""
            if st == expect:
                return out
            if self.args.captcha_hook or "captcha" not in code:
                break
            print("   That was not it; a new captcha.")
        raise TourError("%s %s answered %d" % (method, path, st))

    def outbox_lines(self):
        if self.outbox:
            try:
                with open(self.outbox, encoding="utf-8") as f:
                    return [json.loads(line) for line in f if line.strip()]
            except FileNotFoundError:
                return []
        _, out = self.anon.call("GET", "/test/v1/sms-outbox", quiet=True, expect=200)
        return out["messages"]

    def sms_mark(self):
        return len(self.outbox_lines())

    def sms_code(self, phone, mark,
                 pattern=r"验证码(\d{6})|code[^0-9]* is (\d{6})"):
        """The code of the first code SMS to phone after the outbox's mark
        (a code text says 验证码NNNNNN or "code ... is NNNNNN"; another
        pattern: its first group that matched)."""
        deadline = time.time() + WAIT_S
        while True:
            if self.args.captcha_hook:
                # test-hooks build: deliver what is queued now, not on the
                # delivery thread's next pass
                self.anon.call("POST", "/test/v1/notify/deliver", quiet=True)
            for m in self.outbox_lines()[mark:]:
                if not m.get("to", "").endswith(phone):
                    continue
                found = re.search(pattern, m.get("text", ""))
                if found:
                    code = next(g for g in found.groups() if g)
                    print("   SMS to %s: %s" % (phone, m["text"]))
                    return code
            if time.time() > deadline:
                raise TourError("no code SMS to %s within %d s (outbox: %s)" % (
                    phone, WAIT_S, self.outbox or "/test/v1/sms-outbox"))
            time.sleep(0.2)

    # ---- customers --------------------------------------------------------------

    def new_customer(self, label, real_name, id_number=None):
        phone = "139%08d" % secrets.randbelow(100000000)
        password = self.new_password()
        http = Http(self.args.base_url, self.ca, "anfud (%s)" % label, device="tour-" + label)
        mark = self.sms_mark()
        self.with_captcha(http, "register", "POST", "/api/v1/auth/codes",
                          {"purpose": "register", "channel": "sms", "target": phone}, 202)
        code = self.sms_code(phone, mark)
        body = {"login": phone, "code": code, "password": password, "real_name": real_name}
        if id_number:
            body["id_number"] = id_number
        _, out = http.call("POST", "/api/v1/auth/register", body, expect=201)
        print("   %s: mobile %s, password %s" % (label, phone, password))
        return {"label": label, "phone": phone, "password": password, "name": real_name,
                "id_number": id_number, "user_id": out["user"]["id"]}

    def new_password(self):
        """A random password the server's policy takes (it refuses, e.g.,
        sequences such as abc or 123): asked of /api/v1/password-strength."""
        chars = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789#%+=@"
        classes = ("abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "#%+=@")
        for _ in range(50):
            # 16 characters of all four classes: the staff's policy takes it too
            password = "".join(secrets.choice(chars) for _ in range(16))
            if not all(any(ch in cls for ch in password) for cls in classes):
                continue
            _, out = self.anon.call("POST", "/api/v1/password-strength",
                                    {"password": password}, quiet=True, expect=200)
            if out.get("acceptable"):
                return password
        raise TourError("no random password passed the password policy")

    def password_login(self, http, login, password, phone):
        """Captcha + password on the main listener, then the SMS second
        factor to phone when asked; returns the last answer."""
        out = self.with_captcha(http, "login", "POST", "/api/v1/auth/login",
                                {"login": login, "password": password}, 200)
        if out.get("state") == "mfa_required":
            mark = self.sms_mark()
            http.call("POST", "/api/v1/auth/codes", {"purpose": "login", "channel": "sms"},
                      expect=202)
            code = self.sms_code(phone, mark)
            _, out = http.call("POST", "/api/v1/auth/mfa", {"method": "sms", "code": code},
                               expect=200)
        return out

    def login(self, who):
        http = Http(self.args.base_url, self.ca, "anfud (%s)" % who["label"],
                    device="tour-" + who["label"])
        out = self.password_login(http, who["phone"], who["password"], who["phone"])
        if out.get("state") != "active":
            raise TourError("login of %s ended in state %r" % (who["label"], out.get("state")))
        who["http"] = http
        return http

    def step_up(self, who):
        http = who["http"]
        mark = self.sms_mark()
        http.call("POST", "/api/v1/auth/codes", {"purpose": "step_up", "channel": "sms"},
                  expect=202)
        code = self.sms_code(who["phone"], mark)
        http.call("POST", "/api/v1/auth/step-up", {"method": "sms", "code": code}, expect=200)

    # ---- staff and the merchant (the payments tour) ----------------------------

    def server_now_s(self):
        """The server's time for TOTP: its test clock in a test-hooks build
        (--captcha-hook), else this machine's."""
        if self.args.captcha_hook:
            _, out = self.anon.call("POST", "/test/v1/clock", {}, quiet=True, expect=200)
            return out["now_ms"] / 1000
        return time.time()

    def totp_code(self, who):
        """A TOTP code of who's secret in a step who has not used yet (a code
        is taken once per step): the next step is awaited (30 s at most), or
        in a test-hooks build the test clock is moved to it."""
        now = self.server_now_s()
        if int(now // 30) <= who.get("totp_step", -1):
            wait = 30 - now % 30 + 0.05
            if self.args.captcha_hook:
                self.anon.call("POST", "/test/v1/clock", {"advance_ms": int(wait * 1000)},
                               quiet=True, expect=200)
            else:
                print("   (waiting %.0f s for a fresh TOTP step)" % wait, flush=True)
                time.sleep(wait)
            now = self.server_now_s()
        who["totp_step"] = int(now // 30)
        return totp(who["totp_secret"], now)

    def staff_login(self, who, initial=None):
        """A staff member on the admin listener: the first login (initial
        password: change it, enrol TOTP) or a later one (password + TOTP)."""
        http = Http(self.args.admin_url, self.ca, "anfud admin (%s)" % who["name"],
                    device="tour-" + who["name"], prefix="/admin/v1")
        out = self.with_captcha(http, "login", "POST", "/admin/v1/auth/login",
                                {"login": who["name"],
                                 "password": initial or who["password"]}, 200)
        if initial:
            if out.get("state") != "required_actions":
                raise TourError("%s: the first login ended in state %r" % (
                    who["name"], out.get("state")))
            who["password"] = self.new_password()
            http.call("POST", "/admin/v1/me/password", {"current_password": initial,
                                                       "new_password": who["password"]},
                      expect=200)
            _, t = http.call("POST", "/admin/v1/me/totp", expect=201)
            who["totp_secret"] = t["secret"]
            _, out = http.call("POST", "/admin/v1/me/totp/confirm",
                               {"code": self.totp_code(who)}, expect=200)
            self.save_staff()
        elif out.get("state") == "mfa_required":
            _, out = http.call("POST", "/admin/v1/auth/mfa",
                               {"method": "totp", "code": self.totp_code(who)}, expect=200)
            self.save_staff()
        http.call("GET", "/admin/v1/me", quiet=True, expect=200)
        who["http"] = http
        return http

    def staff_path(self):
        return os.path.join(self.args.data, "tour-staff.json") if self.args.data else None

    def load_staff(self):
        path = self.staff_path()
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.staff = json.load(f)
        else:
            self.staff = {}

    def save_staff(self):
        """Keeps the staff's passwords and TOTP secrets for the next run
        (DATA/tour-staff.json, mode 0600: development data only)."""
        path = self.staff_path()
        if not path:
            return
        keep = {k: {f: v for f, v in w.items() if f != "http"} for k, w in self.staff.items()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(keep, f, ensure_ascii=False, indent=2)

    def anfu(self, *args):
        """Runs the anfu command line on the data directory (--anfu)."""
        cmd = [self.args.anfu, *args, "--data", self.args.data]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        print("   $ %s -> exit %d" % (" ".join(cmd), p.returncode))
        for line in (p.stdout + p.stderr).splitlines()[:20]:
            if "password" not in line:
                print("     " + line)
        return p

    def staff_desk(self):
        """The administrator, a security officer and an operator, logged in
        on the admin listener (made on the first run, kept in
        DATA/tour-staff.json)."""
        self.load_staff()
        first = "admin" not in self.staff
        if first:
            self.staff["admin"] = {"name": self.args.admin_name}
        admin = self.staff_login(self.staff["admin"],
                                 self.args.admin_password if first else None)
        if "officer" not in self.staff:
            name = "tourofficer%s" % secrets.token_hex(3)
            p = self.anfu("staff", "bootstrap", "--name", name, "--role", "security_officer")
            m = re.search(r"initial password: (\S+)", p.stdout)
            if p.returncode != 0 or not m:
                raise TourError("anfu staff bootstrap failed: %s" % p.stderr.strip())
            self.staff["officer"] = {"name": name}
            officer = self.staff_login(self.staff["officer"], m.group(1))
        else:
            officer = self.staff_login(self.staff["officer"])
        if "operator" not in self.staff:
            name = "tourop%s" % secrets.token_hex(3)
            phone = "139%08d" % secrets.randbelow(100000000)
            _, a = admin.call("POST", "/admin/v1/approvals", {
                "type": "create_operator",
                "payload": {"username": name, "roles": ["operator"], "phone": phone}},
                expect=201)
            mark = self.sms_mark()
            print("   the officer approves, typing the phone again (four eyes)")
            _, out = officer.call("POST", "/admin/v1/approvals/%s/approve" % a["approval"]["id"],
                                  {"confirm_phone": phone}, expect=200)
            if out["approval"]["status"] != "executed":
                raise TourError("the operator's approval is %s" % out["approval"]["status"])
            initial = self.sms_code(phone, mark, INITIAL_PASSWORD_RE)
            self.staff["operator"] = {"name": name}
            op = self.staff_login(self.staff["operator"], initial)
        else:
            op = self.staff_login(self.staff["operator"])
        return admin, op

    def merchant_user(self, admin, merchant_id):
        """The merchant's first user (merchant_admin), made by the
        administrator; its first login on the main listener: the SMS'd
        initial password, captcha, the SMS second factor, the forced change."""
        name = "teaboss%s" % secrets.token_hex(3)
        phone = "139%08d" % secrets.randbelow(100000000)
        mark = self.sms_mark()
        admin.call("POST", "/admin/v1/users", {"kind": "merchant", "username": name,
                                               "merchant_id": merchant_id,
                                               "role": "merchant_admin", "phone": phone},
                   expect=201)
        initial = self.sms_code(phone, mark, INITIAL_PASSWORD_RE)
        m = {"label": "merchant " + name, "phone": phone, "name": name}
        http = Http(self.args.base_url, self.ca, "anfud (%s)" % name, device="tour-" + name)
        out = self.password_login(http, name, initial, phone)
        if out.get("state") != "required_actions":
            raise TourError("%s: the first login ended in state %r" % (name, out.get("state")))
        m["password"] = self.new_password()
        _, out = http.call("POST", "/api/v1/me/password", {"current_password": initial,
                                                           "new_password": m["password"]},
                           expect=200)
        if out.get("state") != "active":
            raise TourError("%s: after the password change, state %r" % (name,
                                                                          out.get("state")))
        m["http"] = http
        return m

    # ---- paying in the cashier page, receipts --------------------------------

    def pay_in_cashier(self, who, order_id):
        """Pays order_id as the cashier page does: GET /pay/{id} (the page
        with its shuffled keypad), then the positions of the PIN's digits on
        that keypad to POST /api/v1/me/orders/{id}/pay."""
        http = who["http"]
        _, page = http.call("GET", "/pay/%s?lang=en" % order_id, expect=200, want_bytes=True)
        html = page.decode("utf-8")
        kid = re.search(r'data-keypad="(kpd_[0-9A-Za-z]+)"', html)
        keys = dict((d, p) for p, d in re.findall(r'data-pos="(\d)"[^>]*>(\d)</button>', html))
        if not kid or len(keys) != 10:
            raise TourError("the cashier page of %s shows no keypad" % order_id)
        print("   the keypad %s shows the digits in the order %s" % (
            kid.group(1), "".join(sorted(keys, key=lambda d: keys[d]))))
        positions = "".join(keys[d] for d in self.pin)
        print("   pressing %s: positions %s" % (self.pin, positions))
        _, out = http.call("POST", "/api/v1/me/orders/%s/pay" % order_id, {
            "keypad_id": kid.group(1), "positions": positions,
            "request_id": "tour-" + secrets.token_hex(8)}, expect=(200, 201))
        return out

    def receipt(self, who, kind, ref, keys_file):
        """Downloads who's receipt of kind/ref and verifies it with
        tools/verify_receipt.py's logic against the keys of keys_file."""
        _, data = who["http"].call("GET", "/api/v1/me/receipts/%s/%s" % (kind, ref),
                                   expect=200, want_bytes=True)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import verify_receipt  # needs python3-cryptography (Ed25519) or openssl (SM2)
        try:
            kid, body = verify_receipt.verify(data, verify_receipt.load_keys(keys_file))
        except verify_receipt.Bad as e:
            raise TourError("the %s receipt of %s does NOT verify: %s" % (kind, ref, e))
        print("   receipt verified: signed by %s" % kid)
        show(body)
        return {"kid": kid, "body": body}

    # ---- the bank -------------------------------------------------------------

    def settle_now(self):
        """--settle-now: the simulator settles its pending payments at once
        instead of after its delay (the tests' simulator has none)."""
        if self.args.settle_now:
            self.bank.call("POST", "/sim/v1/settle", {}, expect=200)

    def wait_state(self, http, path, done, what):
        """Polls path until its state is in done; returns the last answer."""
        deadline = time.time() + WAIT_S
        last = None
        while True:
            _, out = http.call("GET", path, quiet=True, expect=200)
            if out["state"] != last:
                print("   %s: %s" % (what, out["state"]))
                last = out["state"]
            if out["state"] in done:
                show(out)
                return out
            if time.time() > deadline:
                raise TourError("%s still %s after %d s" % (what, out["state"], WAIT_S))
            self.settle_now()
            if self.args.captcha_hook:
                # test-hooks build: run the due jobs (a withdrawal's sending) now
                http.call("POST", "/test/v1/jobs/run", quiet=True)
            time.sleep(0.3)

    # ---- the path -------------------------------------------------------------

    def run(self):
        a_amount, t_amount, w_amount = (self.args.topup, self.args.transfer,
                                        self.args.withdraw)

        step(0, "The server and the simulator bank answer")
        self.anon.call("GET", "/healthz", expect=200)
        self.admin.call("GET", "/readyz", expect=200)
        # the simulator has no health route: its control API's SMS list answers
        self.bank.call("GET", "/sim/v1/sms?phone=13900000000", expect=200)

        step(1, "Register customer A with a real name and resident ID (needed to bind a card)")
        a = self.new_customer("A", self.args.name_a, self.args.id_a)
        step(2, "Register the friend B")
        b = self.new_customer("B", self.args.name_b)
        self.summary.update(a={k: a[k] for k in ("phone", "password", "user_id")},
                            b={k: b[k] for k in ("phone", "password", "user_id")})

        step(3, "A logs in: captcha + password, then the SMS second factor")
        ha = self.login(a)

        step(4, "A sets a payment PIN (it needs a fresh second factor: a step-up)")
        self.step_up(a)
        ha.call("POST", "/api/v1/me/payment-password", {"pin": self.pin}, expect=204)
        print("   payment PIN %s set" % self.pin)

        step(5, "The simulator bank gets a card holder with A's name and resident ID")
        card = luhn("622202" + "%09d" % secrets.randbelow(10 ** 9), 19)
        self.bank.call("POST", "/sim/v1/cards", {
            "card_number": card, "holder_name": a["name"], "id_number": a["id_number"],
            "phone": a["phone"], "balance": 10000000}, expect=201)

        step(6, "A binds the card; the bank sends its code to the phone it holds")
        _, c = ha.call("POST", "/api/v1/me/cards", {"card_number": card,
                                                    "holder_name": a["name"],
                                                    "id_number": a["id_number"]}, expect=201)
        card_id = c["id"]
        _, sms = self.bank.call("GET", "/sim/v1/sms?phone=" + a["phone"], expect=200)
        if not sms["messages"]:
            raise TourError("the bank sent no code to " + a["phone"])
        code = sms["messages"][-1]["text"].rsplit(" ", 1)[1]
        ha.call("POST", "/api/v1/me/cards/%s/confirm" % card_id, {"code": code}, expect=200)
        self.summary["card_id"] = card_id

        step(7, "A tops up %s from the card; the wallet is credited when the bank confirms"
             % yuan(a_amount))
        _, t = ha.call("POST", "/api/v1/me/topups", {
            "card_id": card_id, "amount": a_amount, "currency": "CNY",
            "client_request_id": "tour-" + secrets.token_hex(8)}, expect=201)
        t = self.wait_state(ha, "/api/v1/me/topups/" + t["id"], ("succeeded", "failed"),
                            "top-up")
        if t["state"] != "succeeded":
            raise TourError("the top-up failed: %s" % t.get("reason"))
        self.summary["topup_id"] = t["id"]
        ha.call("GET", "/api/v1/me/balance", expect=200)

        step(8, "A transfers %s to B: the preview shows B's masked name and the amount in "
             "words" % yuan(t_amount))
        _, p = ha.call("POST", "/api/v1/me/transfers/preview", {
            "to": b["phone"], "amount": t_amount, "currency": "CNY", "memo": "tour"},
            expect=201)
        print("   A confirms: to %s (%s), %s (%s)" % (p["payee"]["name"], p["payee"]["login"],
                                                      p["amount_words"], p["amount_text"]))
        if p.get("second_factor_required"):
            self.step_up(a)
        _, tr = ha.call("POST", "/api/v1/me/transfers", {
            "confirmation_id": p["confirmation_id"], "request_id": "tour-" + secrets.token_hex(8),
            "amount": t_amount, "payment_pin": self.pin}, expect=201)
        self.summary["transfer_id"] = tr["id"]

        step(9, "A withdraws %s to the card" % yuan(w_amount))
        st, w = ha.call("POST", "/api/v1/me/withdrawals", {
            "card_id": card_id, "amount": w_amount, "currency": "CNY",
            "request_id": "tour-" + secrets.token_hex(8), "payment_pin": self.pin})
        if st == 404 and (w or {}).get("error", {}).get("code") == "not_found":
            print("   withdrawal not available in this build")
        elif st != 201:
            raise TourError("POST /api/v1/me/withdrawals answered %d" % st)
        else:
            w = self.wait_state(ha, "/api/v1/me/withdrawals/" + w["id"],
                                ("succeeded", "failed", "returned", "rejected", "review"),
                                "withdrawal")
            if w["state"] == "review":
                print("   above the automatic-review amount: it waits for an operator")
            elif w["state"] != "succeeded":
                raise TourError("the withdrawal ended %s" % w["state"])
            self.summary["withdrawal"] = {"id": w["id"], "state": w["state"]}

        step(10, "A's history and balance")
        ha.call("GET", "/api/v1/me/transactions", expect=200)
        _, bal = ha.call("GET", "/api/v1/me/balance", expect=200)
        self.summary["a"]["available"] = bal["available"]

        step(11, "B logs in and sees the transfer")
        hb = self.login(b)
        hb.call("GET", "/api/v1/me/transactions", expect=200)
        _, bal = hb.call("GET", "/api/v1/me/balance", expect=200)
        self.summary["b"]["available"] = bal["available"]
        print("\nThe wallet tour is done: A %s, B %s." % (yuan(self.summary["a"]["available"]),
                                                         yuan(self.summary["b"]["available"])))
        self.payments(a)

    def payments(self, a):
        """The payments tour: README.md "The payments tour"."""
        self.load_staff()
        if "admin" not in self.staff and not self.args.admin_password:
            print("\nThe payments tour is skipped: give --admin-password (the initial "
                  "password `anfu init` printed) on its first run.")
            return
        amount, part = self.args.order, self.args.refund

        step(12, "Staff: the administrator, a security officer (anfu staff bootstrap) and an "
             "operator (made by the two: four eyes), each with a password and TOTP")
        admin, op = self.staff_desk()

        step(13, "The operator registers the merchant's payment profile (fee 0.6 %)")
        merchant_id = "mch_tour%s" % secrets.token_hex(4)
        op.call("POST", "/admin/v1/merchants", {"merchant_id": merchant_id,
                                                "name_zh": "茶叶小铺", "name_en": "Tea Shop",
                                                "fee_bps": 60}, expect=201)

        step(14, "The administrator creates the merchant's first user; it logs in (captcha, "
             "the SMS'd initial password, SMS code) and changes its password")
        m = self.merchant_user(admin, merchant_id)

        step(15, "The merchant user creates an order of %s with its bill lines" % yuan(amount))
        lines = [{"name": "龙井茶", "quantity": 2, "unit_amount": 5000, "amount": 10000},
                 {"name": "茶杯", "quantity": 3, "unit_amount": 781, "amount": 2343},
                 {"name": "运费", "quantity": 1, "unit_amount": 2, "amount": 2}]
        if amount != 12345:
            lines = [{"name": "龙井茶", "quantity": 1, "unit_amount": amount, "amount": amount}]
        _, o = m["http"].call("POST", "/api/v1/merchant/orders", {
            "out_trade_no": "T" + secrets.token_hex(8), "amount": amount, "currency": "CNY",
            "subject": "龙井茶 250g", "kind": "general", "lines": lines,
            "return_url": self.args.base_url.rstrip("/") + "/account",
            "notify_url": "https://shop.example/notify"}, expect=201)
        order_id = o["id"]
        print("   the customer pays at %s/pay/%s" % (self.args.base_url.rstrip("/"), order_id))

        step(16, "A pays it through the cashier page's API: the shuffled keypad, the PIN")
        self.pay_in_cashier(a, order_id)
        _, o = m["http"].call("GET", "/api/v1/merchant/orders/" + order_id, expect=200)
        if o["state"] != "paid":
            raise TourError("the order is %s after the payment" % o["state"])
        payment_id = o["payment_id"]

        step(17, "The merchant refunds %s of it (up to [pay] refund_auto_max the rules "
             "approve at once)" % yuan(part))
        _, r = m["http"].call("POST", "/api/v1/merchant/orders/%s/refunds" % order_id, {
            "amount": part, "currency": "CNY", "out_refund_no": "R" + secrets.token_hex(8),
            "reason": "茶杯缺货"}, expect=201)
        if r["state"] != "succeeded":
            raise TourError("the refund is %s" % r["state"])
        _, o = m["http"].call("GET", "/api/v1/merchant/orders/" + order_id, expect=200)
        _, bal = a["http"].call("GET", "/api/v1/me/balance", expect=200)

        step(18, "A downloads both receipts; they are verified offline against the platform's "
             "receipt key (tools/verify_receipt.py)")
        _, keys = self.anon.call("GET", "/api/v1/receipts/keys", expect=200, want_bytes=True)
        fd, keys_file = tempfile.mkstemp(prefix="anfu-receipt-keys-", suffix=".json")
        with os.fdopen(fd, "wb") as f:
            f.write(keys)
        try:
            pay_r = self.receipt(a, "payment", payment_id, keys_file)
            ref_r = self.receipt(a, "refund", r["id"], keys_file)
        finally:
            os.unlink(keys_file)

        step(19, "anfu ledger verify: the books balance")
        p = self.anfu("ledger", "verify")
        if p.returncode != 0 or not p.stdout.startswith("OK"):
            raise TourError("anfu ledger verify: %s" % (p.stdout + p.stderr).strip())
        self.summary["payments"] = {
            "merchant_id": merchant_id, "merchant_user": m["name"], "order_id": order_id,
            "order_state": o["state"], "payment_id": payment_id, "refund_id": r["id"],
            "a_available": bal["available"],
            "receipts": {"payment": pay_r, "refund": ref_r}}
        print("\nThe payments tour is done: order %s paid (%s) and %s refunded; A has %s." % (
            order_id, yuan(amount), yuan(part), yuan(bal["available"])))


INITIAL_PASSWORD_RE = r"initial password is (\S+)\. You must|初始密码(\S+?)。"


def totp(secret_b32, at):
    """RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as an authenticator app."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def luhn(prefix, length):
    """A Luhn-valid card number of length digits starting with prefix."""
    digits = [int(c) for c in prefix[:length - 1]]
    while len(digits) < length - 1:
        digits.append(secrets.randbelow(10))
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def main(argv=None):
    ap = argparse.ArgumentParser(description="The wallet tour against a running anfud and "
                                 "its simulator bank (README.md, docs/wallet.md).")
    ap.add_argument("--base-url", default="https://127.0.0.1:8443", help="anfud's API listener")
    ap.add_argument("--admin-url", default="https://127.0.0.1:9443",
                    help="anfud's admin listener (the tour asks its /readyz)")
    ap.add_argument("--bank-url", default="https://127.0.0.1:8643",
                    help="the simulator bank (anfu-banksim)")
    ap.add_argument("--data", help="anfud's data directory (make run: var): the SMS outbox "
                    "DATA/notify/sms-outbox.jsonl, DATA/tls/server.crt and the simulator's "
                    "DATA/banksim/tls/server.crt")
    ap.add_argument("--ca", help="anfud's certificate (default DATA/tls/server.crt)")
    ap.add_argument("--bank-ca", help="the simulator's certificate "
                    "(default DATA/banksim/tls/server.crt)")
    ap.add_argument("--captcha-hook", action="store_true",
                    help="solve captchas through /test/v1/captcha/{id} (test-hooks build)")
    ap.add_argument("--settle-now", action="store_true",
                    help="ask the simulator to settle payments at once (POST /sim/v1/settle) "
                    "instead of waiting for its delay")
    ap.add_argument("--summary", help="write the ids and balances the tour ended with "
                    "(JSON) to this file")
    ap.add_argument("--pin", default="583016", help="A's payment PIN (six digits)")
    ap.add_argument("--name-a", default="张三丰")
    ap.add_argument("--id-a", default="11010519491231002X", help="A's resident ID")
    ap.add_argument("--name-b", default="李小龙")
    ap.add_argument("--topup", type=int, default=100000, help="fen (default 1000 yuan)")
    ap.add_argument("--transfer", type=int, default=20000, help="fen (default 200 yuan)")
    ap.add_argument("--withdraw", type=int, default=30000, help="fen (default 300 yuan)")
    ap.add_argument("--admin-name", default="opsadmin",
                    help="the first administrator (make run's ADMIN)")
    ap.add_argument("--admin-password", help="its initial password, printed by `anfu init`: "
                    "needed on the payments tour's first run (later runs use "
                    "DATA/tour-staff.json); write --admin-password=VALUE, as "
                    "a generated password may begin with '-'")
    ap.add_argument("--anfu", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "build", "anfu"),
        help="the anfu command line (staff bootstrap, ledger verify; default build/anfu)")
    ap.add_argument("--order", type=int, default=12345, help="the order, fen (default 123.45 "
                    "yuan)")
    ap.add_argument("--refund", type=int, default=2343, help="the part refunded, fen "
                    "(default 23.43 yuan)")
    args = ap.parse_args(argv)
    try:
        tour = Tour(args)
        try:
            tour.run()
        finally:
            if args.summary:
                with open(args.summary, "w", encoding="utf-8") as f:
                    json.dump(tour.summary, f, ensure_ascii=False, indent=2)
    except TourError as e:
        print("\ntour: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
