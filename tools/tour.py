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

Captchas: by default the tour saves each captcha's PNG and asks you to type
what it shows. --captcha-hook solves them through the test-hooks build's
/test/v1/captcha/{id} (tests/api/test_tour.py runs the tour that way).
SMS codes: read from the SMS simulator's outbox file DATA/notify/
sms-outbox.jsonl, or without --data from the test hook /test/v1/sms-outbox.

Python 3 standard library only. Exit status 0 when every step went as it
should (a build without withdrawals says so and goes on), 1 otherwise.
"""
import argparse
import base64
import http.client
import json
import os
import re
import secrets
import ssl
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

    def __init__(self, base_url, cafile, label, device=None):
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

    def call(self, method, path, body=None, quiet=False, expect=None):
        """Sends one request; returns (status, JSON body or None). With
        expect (a status or a tuple of them), another status is an error."""
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
        out = None
        if raw and resp.getheader("Content-Type", "").startswith("application/json"):
            out = json.loads(raw.decode("utf-8"))
        if isinstance(out, dict) and isinstance(out.get("csrf_token"), str):
            self.csrf = out["csrf_token"]
        if not quiet:
            print("   %s: %s %s -> %d" % (self.label, method, path, resp.status))
            if out is not None:
                show(out)
        if expect is not None:
            ok = expect if isinstance(expect, tuple) else (expect,)
            if resp.status not in ok:
                raise TourError("%s %s answered %d, not %s: %s" % (
                    method, path, resp.status, "/".join(map(str, ok)),
                    raw.decode("utf-8", "replace")[:500]))
        return resp.status, out

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
        _, c = http.call("POST", "/api/v1/captcha", {"purpose": purpose}, expect=201)
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

    def sms_code(self, phone, mark):
        """The code of the first code SMS to phone after the outbox's mark
        (a code text says 验证码NNNNNN or "code ... is NNNNNN")."""
        deadline = time.time() + WAIT_S
        while True:
            if self.args.captcha_hook:
                # test-hooks build: deliver what is queued now, not on the
                # delivery thread's next pass
                self.anon.call("POST", "/test/v1/notify/deliver", quiet=True)
            for m in self.outbox_lines()[mark:]:
                if not m.get("to", "").endswith(phone):
                    continue
                found = re.search(r"验证码(\d{6})|code[^0-9]* is (\d{6})", m.get("text", ""))
                if found:
                    code = found.group(1) or found.group(2)
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
        for _ in range(50):
            password = "".join(secrets.choice(chars) for _ in range(14))
            _, out = self.anon.call("POST", "/api/v1/password-strength",
                                    {"password": password}, quiet=True, expect=200)
            if out.get("acceptable"):
                return password
        raise TourError("no random password passed the password policy")

    def login(self, who):
        http = Http(self.args.base_url, self.ca, "anfud (%s)" % who["label"],
                    device="tour-" + who["label"])
        out = self.with_captcha(http, "login", "POST", "/api/v1/auth/login",
                                {"login": who["phone"], "password": who["password"]}, 200)
        if out.get("state") == "mfa_required":
            mark = self.sms_mark()
            http.call("POST", "/api/v1/auth/codes", {"purpose": "login", "channel": "sms"},
                      expect=202)
            code = self.sms_code(who["phone"], mark)
            _, out = http.call("POST", "/api/v1/auth/mfa", {"method": "sms", "code": code},
                               expect=200)
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
        print("\nThe tour is done: A %s, B %s." % (yuan(self.summary["a"]["available"]),
                                                  yuan(self.summary["b"]["available"])))


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
