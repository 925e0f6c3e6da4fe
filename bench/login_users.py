#!/usr/bin/python3
"""bench/login_users.py: makes the customers the login benchmark logs in.

Runs against a test-hooks build of anfud (it reads captcha answers from
GET /test/v1/captcha/{id} and SMS codes from the simulator's outbox after
POST /test/v1/notify/deliver, as tests/api/iam.py does). For each of
--users customers it:

  1. registers by SMS code (a captcha for the code request, then
     POST /api/v1/auth/register);
  2. logs in once from the benchmark's device (X-Device-Id and User-Agent
     given here, the ones bench/login.lua sends) and completes the SMS second
     factor with trust_device, keeping the trusted-device secret the server
     issues, so that the benchmark's logins are those of a returning
     customer on a trusted device from a usual network: the password check,
     then state "active", with no new-device notice;
  3. checks that one more password login presenting that secret
     (X-Device-Token) answers 200 with state "active".

Writes one line per customer to --out for bench/login.lua: the JSON login
body ({"login": ..., "password": ...}), a TAB, and the device secret. Not a test (STYLE.md: benchmarks live in bench/);
it stops at the first unexpected answer. Use the system interpreter
(/usr/bin/python3, which has python3-requests).
"""
import argparse
import concurrent.futures
import json
import re
import sys
import threading
import time

import requests

PASSWORD = "Tq7#vLm9!zRw"   # the password of tests/api/iam.py
API = "/api/v1"


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

    def captcha(self, s):
        cid = self.call(s, "POST", API + "/captcha", {"purpose": "login"},
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


def make_user(srv, phone, device, ua):
    # 1. registration
    reg = srv.session("bench-registration", ua)
    cid, ans = srv.captcha(reg)
    n = len(srv.sms_texts(phone))
    srv.call(reg, "POST", API + "/auth/codes",
             {"purpose": "register", "channel": "sms", "target": phone,
              "captcha_id": cid, "captcha_answer": ans}, want=202)
    code = srv.code_after(phone, n)
    srv.call(reg, "POST", API + "/auth/register",
             {"login": phone, "code": code, "password": PASSWORD}, want=201)
    # 2. first login from the benchmark's device, second factor, trust it
    s = srv.session(device, ua)
    r = srv.call(s, "POST", API + "/auth/login", {"login": phone, "password": PASSWORD})
    if r.json().get("state") == "mfa_required":
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        n = len(srv.sms_texts(phone))
        srv.call(s, "POST", API + "/auth/codes", {"purpose": "login", "channel": "sms"},
                 want=202, headers=csrf)
        code = srv.code_after(phone, n)
        r = srv.call(s, "POST", API + "/auth/mfa",
                     {"method": "sms", "code": code, "trust_device": True}, headers=csrf)
    if r.json().get("state") != "active":
        raise Fail("%s: state %r after the second factor" % (phone, r.json().get("state")))
    token = r.json().get("device_token")
    if not token:
        raise Fail("%s: no device secret after the second factor" % phone)
    # 3. what the benchmark will do
    s = srv.session(device, ua)
    r = srv.call(s, "POST", API + "/auth/login", {"login": phone, "password": PASSWORD},
                 headers={"X-Device-Token": token})
    if r.json().get("state") != "active":
        raise Fail("%s: a trusted-device login gave state %r" % (phone, r.json().get("state")))
    return phone, token


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True, help="the data directory's tls/server.crt")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--device", default="bench-device")
    ap.add_argument("--ua", default="anfu-bench/1.0")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    srv = Server(a.port, a.cert)
    # Distinct valid mainland mobile numbers for this run.
    base = int(time.time()) % 10000
    phones = ["139%04d%04d" % (base, i) for i in range(a.users)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as ex:
        done = list(ex.map(lambda p: make_user(srv, p, a.device, a.ua), phones))
    with open(a.out, "w", encoding="utf-8") as f:
        for p, token in done:
            f.write(json.dumps({"login": p, "password": PASSWORD}, separators=(",", ":")) +
                    "\t" + token + "\n")
    print("login_users: %d customers registered, device trusted, checked in %.1f s"
          % (len(done), time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except Fail as e:
        print("login_users: %s" % e, file=sys.stderr)
        sys.exit(1)
