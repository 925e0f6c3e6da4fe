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
body ({"login": ..., "password": ...}), a TAB, and the device secret. The
client and the steps it shares with bench/wallet_users.py are in
bench/customers.py. Not a test (STYLE.md: benchmarks live in bench/); it
stops at the first unexpected answer. Use the system interpreter
(/usr/bin/python3, which has python3-requests).
"""
import json
import sys

from customers import API, PASSWORD, Fail, arguments, login, make_all, register, run


def make_user(srv, phone, device, ua):
    # 1. registration
    register(srv, phone, ua)
    # 2. first login from the benchmark's device, second factor, trust it
    s = srv.session(device, ua)
    r = login(srv, s, phone, trust_device=True)
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
    a = arguments(__doc__, users=32, device="bench-device").parse_args()
    done, secs = make_all(a, "139", lambda srv, i, p: make_user(srv, p, a.device, a.ua))
    with open(a.out, "w", encoding="utf-8") as f:
        for p, token in done:
            f.write(json.dumps({"login": p, "password": PASSWORD}, separators=(",", ":")) +
                    "\t" + token + "\n")
    print("login_users: %d customers registered, device trusted, checked in %.1f s"
          % (len(done), secs), file=sys.stderr)


if __name__ == "__main__":
    run("login_users", main)
