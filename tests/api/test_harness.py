"""The harness itself (conftest.py, iam.py): the helpers read the message
they are asked for, and nothing a test starts can fail unseen.

A helper that reads the wrong message, or a teardown that accepts a crash,
makes tests fail at random or pass wrongly; these pin the helpers down.
"""
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from conftest import run_anfu
from iam import (GOOD_PASSWORD, Client, mail_code, mails_to, new_phone, register, settle,
                 sms_code)

HERE = os.path.dirname(os.path.abspath(__file__))


def err(r):
    return r.json()["error"]["code"]


def test_sms_code_never_takes_a_notice_for_the_code(make_server):
    """A sign-in from a new device tells the user by SMS; the notice names
    the browser, digits and all. Arriving after the code, it must not be
    read as the code."""
    s = make_server()
    _, phone = register(s)
    c = Client(s, device="notice-a")
    assert c.login(phone, GOOD_PASSWORD).json()["state"] == "mfa_required"
    assert c.send_code("login", "sms").status_code == 202
    other = Client(s, device="notice-b", ua="Browser/482913")
    r = other.login(phone, GOOD_PASSWORD)
    assert r.json()["new_device"] is True, r.text
    code = sms_code(s, phone)
    assert code != "482913"
    r = c.mfa("sms", code)
    assert r.status_code == 200 and r.json()["state"] == "active", r.text


def test_mail_code_reads_the_newest_code_mail(make_server):
    """Each new code voids the older ones: the helper must read the newest
    mail, whatever order the sink's maildir lists them in."""
    s = make_server()
    s.clock(freeze=True)
    c = Client(s)
    addr = "newest-%s@example.test" % new_phone()
    codes = []
    for _ in range(4):
        r = c.send_code("register", "email", addr, captcha=True)
        assert r.status_code == 202, r.text
        codes.append(mail_code(s, addr))
        s.clock(advance_ms=61_000)  # past mfa.code_resend (60 s)
    assert len(set(codes)) == 4, codes
    r = c.post("/api/v1/auth/register", {"login": addr, "code": codes[-1],
                                         "password": GOOD_PASSWORD}, csrf=False)
    assert r.status_code == 201, r.text


def test_mails_to_matches_the_whole_address(make_server):
    s = make_server()
    c = Client(s)
    tail = "%s@example.test" % new_phone()
    for addr in ("bo" + tail, "jumbo" + tail):
        assert c.send_code("register", "email", addr, captcha=True).status_code == 202
    settle(s)
    mails = mails_to("bo" + tail, wait=0)
    assert len(mails) == 1 and mails[0][2]["To"] == "bo" + tail


def test_wrong_passwords_of_earlier_tests_never_throttle_the_shared_server(server):
    """Twenty failures from 127.0.0.1 (the default lockout.ip_failures)
    spread over many tests must not make a later test's login fail."""
    for _ in range(4):
        _, phone = register(server)
        for _ in range(5):
            r = Client(server, device="many-tests").login(phone, "Wr0ng#Passw9x")
            assert r.status_code == 401 and err(r) == "invalid_credentials", r.text
    _, phone = register(server)
    r = Client(server, device="a-later-test").login(phone, GOOD_PASSWORD)
    assert r.status_code == 200, r.text


def test_new_phone_never_repeats_a_number():
    phones = [new_phone() for _ in range(2000)]
    phones.append(new_phone(last6=phones[0][-6:]))
    assert len(set(phones)) == len(phones)
    assert all(len(p) == 11 and p.startswith("139") for p in phones)


def fake_binary(path, body):
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_sanitizer_report_fails_a_run_that_was_expected_to_exit_1(tmp_path):
    """A leak on a refusal path exits 1 like the refusal itself: the report
    in stderr fails the run anyway."""
    leaky = fake_binary(tmp_path / "anfu", """
        echo 'anfu: refused' >&2
        echo '=================================================================' >&2
        echo '==4242==ERROR: LeakSanitizer: detected memory leaks' >&2
        echo 'Direct leak of 24 byte(s) in 1 object(s) allocated from:' >&2
        exit 1
        """)
    with pytest.raises(AssertionError, match="LeakSanitizer: detected memory leaks"):
        run_anfu([leaky, "config", "check"])
    quiet = fake_binary(tmp_path / "anfu-ok", "echo 'anfu: refused' >&2; exit 1\n")
    assert run_anfu([quiet, "config", "check"]).returncode == 1


def test_expecting_anfud_to_refuse_fails_when_it_starts(make_server):
    s = make_server(start=False)
    with pytest.raises(AssertionError, match="should have refused"):
        s.start(expect_fail=True)
    assert s.proc is not None and s.get("/healthz").status_code == 200


def run_pytest(tmp_path, source):
    """Runs source as a test file with this suite's conftest.py as a plugin;
    returns (exit status, output)."""
    (tmp_path / "test_fab.py").write_text(textwrap.dedent(source))
    env = dict(os.environ, PYTHONPATH=HERE)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-c", os.devnull, "--rootdir", str(tmp_path), "-p", "conftest",
                        str(tmp_path / "test_fab.py")],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout + p.stderr


def test_teardown_fails_when_anfud_does_not_exit_0_after_sigterm(tmp_path):
    """A server that crashes, or exits 3, on SIGTERM fails the test that
    started it, unless the test said it expects that."""
    fake = fake_binary(tmp_path / "anfud", """
        trap 'exit 3' TERM
        mkdir -p "$2/run"
        echo '{"port": 1, "admin_port": 2}' > "$2/run/anfud.json"
        while :; do sleep 0.05; done
        """)
    rc, out = run_pytest(tmp_path, """
        def test_stops_badly(make_server):
            make_server(binary=%r)

        def test_says_it_expects_it(make_server):
            s = make_server(binary=%r)
            s.expected_exit = 3
        """ % (str(fake), str(fake)))
    assert rc == 1, out
    assert "anfud exited 3 after SIGTERM, not 0" in out
    assert "ERROR test_fab.py::test_stops_badly" in out
    assert "2 passed, 1 error" in out  # the error is test_stops_badly's teardown


def test_a_failing_test_shows_the_server_logs_and_last_exchange(tmp_path):
    rc, out = run_pytest(tmp_path, """
        def test_fails(server):
            r = server.get("/api/v1/no-such-route")
            assert r.status_code == 200
        """)
    assert rc == 1, out
    assert "last HTTP exchanges" in out
    assert "GET https://127.0.0.1:" in out and "/api/v1/no-such-route" in out
    assert "< 404" in out and '"not_found"' in out
    assert "anfud stderr" in out and "anfud: listening on" in out
