"""bench/customers.py: what bench/login_users.py and bench/wallet_users.py
share: making benchmark customers through a test-hooks build of anfud.

A client of anfud (captcha answers from GET /test/v1/captcha/{id}, SMS
codes from the simulator's outbox after POST /test/v1/notify/deliver, as
tests/api/iam.py does), registration by SMS code, a password login
completed with the SMS second factor, and the frame of a script that makes
--users customers on --workers threads. Not a test (STYLE.md: benchmarks
live in bench/); it stops at the first unexpected answer (Fail). Use the
system interpreter (/usr/bin/python3, which has python3-requests).
"""
import argparse
import concurrent.futures
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


def register(srv, phone, ua, real_name=None):
    """Registers phone by SMS code (a captcha for the code request, then
    POST /api/v1/auth/register) with PASSWORD and, when given, a real name."""
    reg = srv.session("bench-registration", ua)
    cid, ans = srv.captcha(reg, "register")
    n = len(srv.sms_texts(phone))
    srv.call(reg, "POST", API + "/auth/codes",
             {"purpose": "register", "channel": "sms", "target": phone,
              "captcha_id": cid, "captcha_answer": ans}, want=202)
    code = srv.code_after(phone, n)
    body = {"login": phone, "code": code, "password": PASSWORD}
    if real_name is not None:
        body["real_name"] = real_name
    srv.call(reg, "POST", API + "/auth/register", body, want=201)


def login(srv, s, phone, trust_device=False):
    """Logs phone in on session s with PASSWORD and, when anfud asks for
    it, the SMS second factor (trusting s's device when trust_device).
    Returns the last answer, whose state is "active" (its csrf_token is
    the session's)."""
    r = srv.call(s, "POST", API + "/auth/login", {"login": phone, "password": PASSWORD})
    if r.json().get("state") == "mfa_required":
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        n = len(srv.sms_texts(phone))
        srv.call(s, "POST", API + "/auth/codes", {"purpose": "login", "channel": "sms"},
                 want=202, headers=csrf)
        code = srv.code_after(phone, n)
        body = {"method": "sms", "code": code}
        if trust_device:
            body["trust_device"] = True
        r = srv.call(s, "POST", API + "/auth/mfa", body, headers=csrf)
    if r.json().get("state") != "active":
        raise Fail("%s: state %r after the second factor" % (phone, r.json().get("state")))
    return r


def arguments(doc, users, device):
    """The command line every such script takes; the caller may add its own."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True, help="the data directory's tls/server.crt")
    ap.add_argument("--users", type=int, default=users)
    ap.add_argument("--device", default=device)
    ap.add_argument("--ua", default="anfu-bench/1.0")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--out", required=True)
    return ap


def make_all(a, prefix, make):
    """make(srv, i, phone) for a.users distinct valid mainland mobile
    numbers of this run (prefix: three digits) on a.workers threads.
    Returns their results in order and the seconds it took."""
    srv = Server(a.port, a.cert)
    base = int(time.time()) % 10000
    phones = ["%s%04d%04d" % (prefix, base, i) for i in range(a.users)]
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.workers) as ex:
        done = list(ex.map(lambda ip: make(srv, ip[0], ip[1]), enumerate(phones)))
    return done, time.time() - t0


def run(name, main):
    """Runs main; a Fail ends the script with status 1, saying why."""
    try:
        main()
    except Fail as e:
        print("%s: %s" % (name, e), file=sys.stderr)
        sys.exit(1)
