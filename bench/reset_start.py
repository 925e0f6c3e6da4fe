#!/usr/bin/python3
"""bench/reset_start.py: server time of POST /api/v1/auth/password-reset for
an unknown login name and for an account that can reset (phone + TOTP).

Starts a test-hooks anfud (tests/api/conftest.py's Server, fresh data
directory; it reads captcha answers from the test hook), makes the eligible
account, then times N reset starts of each kind, interleaved, over one
keep-alive HTTPS connection per kind (the captcha is fetched before the
clock starts). Prints median, p10 and p90 per kind and the difference of
the medians. Not a test (STYLE.md): timings vary with the machine's load;
tests/api/test_iam_auth.py::test_reset_start_does_the_same_work_for_every_account
proves the equal work by counting instead.

  ANFU_BUILD_DIR=$PWD/build-test /usr/bin/python3 bench/reset_start.py [N]
"""
import os
import statistics
import sys
import tempfile
import time
import pathlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "api"))

from conftest import Server  # noqa: E402
from iam import Client, login_customer, new_phone, register  # noqa: E402
from test_iam_auth import enrol_totp  # noqa: E402


def one(c, login):
    cid, ans = c.captcha("reset")
    t0 = time.perf_counter()
    r = c.post("/api/v1/auth/password-reset", {"login": login, "captcha_id": cid,
                                               "captcha_answer": ans})
    dt = time.perf_counter() - t0
    assert r.status_code == 202, r.text
    return dt * 1000.0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    with tempfile.TemporaryDirectory() as d:
        s = Server(pathlib.Path(d), config={"log": {"level": "warn"}}).start()
        try:
            _, phone = register(s)
            enrol_totp(s, login_customer(s, phone, device="bench-dev"), phone)
            kinds = {"unknown": (Client(s), new_phone()), "eligible": (Client(s), phone)}
            times = {k: [] for k in kinds}
            for k, (c, login) in kinds.items():  # warm-up
                for _ in range(20):
                    one(c, login)
            for _ in range(n):
                for k, (c, login) in kinds.items():
                    times[k].append(one(c, login))
        finally:
            s.stop()
    for k, t in times.items():
        q = statistics.quantiles(t, n=10)
        print("%-9s n=%d median=%.3f ms p10=%.3f p90=%.3f" % (k, len(t), statistics.median(t),
                                                          q[0], q[-1]))
    print("median difference (eligible - unknown): %.3f ms"
          % (statistics.median(times["eligible"]) - statistics.median(times["unknown"])))


if __name__ == "__main__":
    main()
