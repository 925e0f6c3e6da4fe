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
its CSRF token. The client and the steps it shares with
bench/login_users.py are in bench/customers.py. Not a test (STYLE.md:
benchmarks live in bench/); it stops at the first unexpected answer. Use
the system interpreter (/usr/bin/python3, which has python3-requests).
"""
import sys
import uuid

from customers import API, Fail, arguments, login, make_all, register, run

NAMES = ["张三", "李四", "王五", "赵六", "陈静", "刘洋", "杨帆", "黄磊"]


def make_user(srv, i, phone, a):
    # 1. registration
    register(srv, phone, a.ua, real_name=NAMES[i % len(NAMES)])
    # 2. login from the benchmark's device, second factor
    s = srv.session(a.device, a.ua)
    csrf = login(srv, s, phone).json()["csrf_token"]
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
    ap = arguments(__doc__, users=256, device="bench-wallet")
    ap.add_argument("--pin", required=True)
    ap.add_argument("--funds", type=int, default=10000000, help="fen credited to each wallet")
    a = ap.parse_args()
    done, secs = make_all(a, "138", lambda srv, i, p: make_user(srv, i, p, a))
    with open(a.out, "w", encoding="utf-8") as f:
        for phone, cookie, csrf in done:
            f.write("%s\t%s\t%s\n" % (phone, cookie, csrf))
    print("wallet_users: %d customers registered, PIN set, %d fen each, checked in %.1f s"
          % (len(done), a.funds, secs), file=sys.stderr)


if __name__ == "__main__":
    run("wallet_users", main)
