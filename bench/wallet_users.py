#!/usr/bin/python3
"""bench/wallet_users.py: makes the customers of the wallet transfer
benchmark (bench/run.sh wallet, bench/bench_wallet.c).

Runs against a test-hooks build of anfud (captcha answers from
GET /test/v1/captcha/{id}, SMS codes from the simulator's outbox after
POST /test/v1/notify/deliver, money from POST /test/v1/wallet/credit, as
tests/api/iam.py and tests/api/test_wallet_transfers.py do). For each of
--users customers it:

  1. registers by SMS code, with a real name (the payer sees the payee's
     masked real name);
  2. logs in from the benchmark's device (the X-Device-Id and User-Agent
     that bench_wallet sends) and completes the SMS second factor: an
     active session;
  3. steps up by SMS code and sets the payment PIN (--pin);
  4. gets --funds fen into its wallet through the wallet's test hook;
  5. checks the session with GET /api/v1/me/balance (200, the funds).

Writes one line per customer to --out for bench_wallet: the mobile number
(the payee identifier), a TAB, the Cookie header of the session, a TAB,
its CSRF token. Not a test (STYLE.md: benchmarks live in bench/); it stops
at the first unexpected answer. Use the system interpreter
(/usr/bin/python3, which has python3-requests).
"""
import argparse
import concurrent.futures
import re
import sys
import threading
import time
import uuid

import requests

PASSWORD = "Tq7#vLm9!zRw"   # the password of tests/api/iam.py
API = "/api/v1"
NAMES = ["张三", "李四", "王五", "赵六", "陈静", "刘洋", "杨帆", "黄磊"]


class Fail(Exception):
    pass


class Server:
    def __init__(self, port, cert):
        self.base = "https://127.0.0.1:%d" % port
        self.cert = cert
        self.hooks = self.session("bench-setup", "anfu-bench-setup/1.0")
        self.lock = threading.Lock()

    def session(self, device, ua):
        s = requests.Session()
        s.verify = self.cert
        s.trust_env = False
        s.headers.update({"X-Device-Id": device, "User-Agent": ua})
        return s

    def call(self, s, method, path, body=None, want=200, headers=None):
        r = s.request(method, self.base + path, json=body, headers=headers or {}, timeout=60)
        if r.status_code != want:
            raise Fail("%s %s: %d %s" % (method, path, r.status_code, r.text[:300]))
        return r

    def captcha(self, s, purpose):
        cid = self.call(s, "POST", API + "/captcha", {"purpose": purpose},
                        want=201).json()["captcha_id"]
        with self.lock:
            ans = self.call(self.hooks, "GET", "/test/v1/captcha/" + cid).json()["answer"]
        return cid, ans

    def sms_texts(self, phone):
        with self.lock:
            self.call(self.hooks, "POST", "/test/v1/notify/deliver")
            msgs = self.call(self.hooks, "GET", "/test/v1/sms-outbox").json()["messages"]
        return [m["text"] for m in msgs if m["to"].endswith(phone[-11:])]

    def code_after(self, phone, before, wait=20.0):
        """The newest 6-digit code in the SMS to phone beyond the first
        `before` of them (delivery runs on anfud's own thread)."""
        deadline = time.time() + wait
        while time.time() < deadline:
            texts = self.sms_texts(phone)[before:]
            for t in reversed(texts):
                m = re.search(r"(?<!\d)(\d{6})(?!\d)", t)
                if m:
                    return m.group(1)
            time.sleep(0.05)
        raise Fail("no code by SMS to %s" % phone)


def make_user(srv, i, phone, a):
    # 1. registration
    reg = srv.session("bench-registration", a.ua)
    cid, ans = srv.captcha(reg, "register")
    n = len(srv.sms_texts(phone))
    srv.call(reg, "POST", API + "/auth/codes",
             {"purpose": "register", "channel": "sms", "target": phone,
              "captcha_id": cid, "captcha_answer": ans}, want=202)
    code = srv.code_after(phone, n)
    srv.call(reg, "POST", API + "/auth/register",
             {"login": phone, "code": code, "password": PASSWORD,
              "real_name": NAMES[i % len(NAMES)]}, want=201)
    # 2. login from the benchmark's device, second factor
    s = srv.session(a.device, a.ua)
    r = srv.call(s, "POST", API + "/auth/login", {"login": phone, "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    if r.json().get("state") == "mfa_required":
        n = len(srv.sms_texts(phone))
        srv.call(s, "POST", API + "/auth/codes", {"purpose": "login", "channel": "sms"},
                 want=202, headers={"X-CSRF-Token": csrf})
        code = srv.code_after(phone, n)
        r = srv.call(s, "POST", API + "/auth/mfa", {"method": "sms", "code": code},
                     headers={"X-CSRF-Token": csrf})
        csrf = r.json()["csrf_token"]
    if r.json().get("state") != "active":
        raise Fail("%s: state %r after the second factor" % (phone, r.json().get("state")))
    # 3. step-up, payment PIN
    n = len(srv.sms_texts(phone))
    srv.call(s, "POST", API + "/auth/codes", {"purpose": "step_up", "channel": "sms"},
             want=202, headers={"X-CSRF-Token": csrf})
    code = srv.code_after(phone, n)
    r = srv.call(s, "POST", API + "/auth/step-up", {"method": "sms", "code": code},
                 headers={"X-CSRF-Token": csrf})
    csrf = r.json()["csrf_token"]
    srv.call(s, "POST", API + "/me/payment-password", {"pin": a.pin}, want=204,
             headers={"X-CSRF-Token": csrf})
    # 4. funds
    uid = srv.call(s, "GET", API + "/me").json()["user"]["id"]
    r = srv.call(srv.hooks, "POST", "/test/v1/wallet/credit",
                 {"user_id": uid, "amount": a.funds, "key": uuid.uuid4().hex})
    if r.json().get("code") is not None:
        raise Fail("%s: credit refused: %s" % (phone, r.text[:200]))
    # 5. the session as bench_wallet will use it
    bal = srv.call(s, "GET", API + "/me/balance").json()
    if bal.get("available") != a.funds:
        raise Fail("%s: balance %r after a credit of %d" % (phone, bal, a.funds))
    cookie = "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies)
    return phone, cookie, csrf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True, help="the data directory's tls/server.crt")
    ap.add_argument("--users", type=int, default=256)
    ap.add_argument("--pin", required=True)
    ap.add_argument("--funds", type=int, default=10000000, help="fen credited to each wallet")
    ap.add_argument("--device", default="bench-wallet")
    ap.add_argument("--ua", default="anfu-bench/1.0")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    srv = Server(a.port, a.cert)
    # Distinct valid mainland mobile numbers for this run.
    base = int(time.time()) % 10000
    phones = ["138%04d%04d" % (base, i) for i in range(a.users)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as ex:
        done = list(ex.map(lambda ip: make_user(srv, ip[0], ip[1], a), enumerate(phones)))
    with open(a.out, "w", encoding="utf-8") as f:
        for phone, cookie, csrf in done:
            f.write("%s\t%s\t%s\n" % (phone, cookie, csrf))
    print("wallet_users: %d customers registered, PIN set, %d fen each, checked in %.1f s"
          % (len(done), a.funds, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("wallet_users: %s" % e, file=sys.stderr)
        sys.exit(1)
