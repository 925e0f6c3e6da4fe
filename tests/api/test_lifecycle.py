"""Start, graceful stop, log reopening, and secrets never reaching a log.

req: AUD-CNT-02, DATA-TX-05
"""
import os
import signal
import socket
import threading
import time

import pytest

SECRET = "Zebra-Quartz-91!pw"


def test_sigterm_lets_in_flight_requests_finish(make_server):
    """Graceful stop: the in-flight request completes, the process exits 0 and
    audits the stop. req: AUD-CNT-02"""
    s = make_server()
    got = {}

    def slow():
        got["r"] = s.get("/test/v1/sleep?ms=1500")

    t = threading.Thread(target=slow)
    t.start()
    s.wait_log('"event":"test.sleep"')  # in flight
    rc = s.stop(signal.SIGTERM)
    t.join()
    assert rc == 0
    assert got["r"].status_code == 200
    assert [r["action"] for r in s.audit("server.stop")] == ["server.stop"]


def test_sigint_stops_too(make_server):
    s = make_server()
    assert s.stop(signal.SIGINT) == 0


def test_new_connections_are_refused_after_stop(make_server):
    """Nothing listens any more: the connection is refused (a timeout would
    be a failure)."""
    s = make_server()
    ports = (s.port, s.admin_port)
    assert s.stop() == 0
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=3).close()


def test_sighup_reopens_log_files(make_server):
    """Log rotation: after SIGHUP the server writes to a fresh file."""
    s = make_server()
    log = s.data / "log" / "access.log"
    s.get("/healthz")
    rotated = s.data / "log" / "access.log.1"
    os.rename(log, rotated)
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 60
    while time.time() < deadline and not log.exists():
        s.get("/healthz?after=rotate")
        time.sleep(0.05)
    assert log.exists()
    rid = s.get("/healthz").headers["X-Request-Id"]
    # The line is written once the answer is out: wait for it.
    assert '"path":"/healthz"' in s.wait_log(rid, log="access")
    assert rid not in rotated.read_text()


def test_access_log_has_one_line_per_request_without_query(make_server):
    s = make_server()
    r = s.get("/healthz?token=abc123")
    rid = r.headers["X-Request-Id"]
    s.wait_log(rid, log="access")  # written once the answer is out
    lines = (s.data / "log" / "access.log").read_text().splitlines()
    mine = [l for l in lines if rid in l]
    assert len(mine) == 1
    line = mine[0]
    for field in ('"method":"GET"', '"path":"/healthz"', '"status":200', '"ip":"127.0.0.1"',
                  '"duration_us":', '"bytes":', '"ts":'):
        assert field in line, (field, line)
    assert "abc123" not in line and "token" not in line


def test_no_secret_reaches_any_log(make_server):
    """A password-like value posted in a body, a query string, a header and a
    cookie is found in no file of the data directory and not on stderr."""
    s = make_server()
    s.post("/test/v1/clock", {"password": SECRET})
    s.post("/test/v1/clock", data='{"advance_ms": "%s"}' % SECRET,
           headers={"Content-Type": "application/json"})
    s.get("/api/v1/login?password=" + SECRET)
    s.get("/healthz", headers={"Authorization": "Bearer " + SECRET, "Cookie": "sid=" + SECRET})
    s.get("/test/v1/session-probe", headers={"Cookie": "anfu_session=" + SECRET})
    assert s.stop() == 0
    found = []
    for root, _, files in os.walk(s.data):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                if SECRET.encode() in fh.read():
                    found.append(p)
    if SECRET in s.read_stderr():
        found.append("stderr")
    assert found == []


def files_holding(s, needles):
    """{needle: [paths]} of the files of the data directory (database, WAL,
    logs, audit checkpoints, SMS outbox) and anfud's stderr holding it."""
    found = {n: [] for n in needles}
    for root, _, files in os.walk(s.data):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                data = fh.read()
            for n in needles:
                if n.encode() in data:
                    found[n].append(p)
    err = s.read_stderr()
    for n in needles:
        if n in err:
            found[n].append("stderr")
    return {n: ps for n, ps in found.items() if ps}


def test_passwords_are_in_no_log_record_or_file_in_clear(make_server):
    """Login passwords sent to the real routes (registration, a wrong and a
    right login, the strength indicator, a refused and an accepted change)
    are found in clear in no file of the data directory (database and WAL,
    access and application logs at level debug, audit checkpoints, SMS
    outbox), in no audit record, on no stderr line and in no response.
    This is the "no plaintext in logs" half of DATA-TX-05; the encryption
    at the point of entry is not implemented (docs/security.md).
    req: DATA-TX-05"""
    from iam import Client, login_customer, register
    first, wrong, probe, refused, second = ("Kv8#Wq3!Zr7@Lp", "Xm4$Tn9%Qb2&Hd",
                                            "Jc6^Fy1*Rw5+Gs", "Pa$$word1234", "Ne3@Vh8#Ku6!Mz")
    s = make_server()
    s.clock(freeze=True)
    _, phone = register(s, password=first)
    answers = [Client(s, device="tx5").login(phone, wrong)]
    assert answers[-1].status_code == 401
    c = login_customer(s, phone, password=first, device="tx5")
    answers.append(c.post("/api/v1/password-strength", {"password": probe}))
    assert answers[-1].status_code == 200
    answers.append(c.post("/api/v1/me/password", {"current_password": first,
                                                  "new_password": refused}))
    assert answers[-1].status_code == 400
    answers.append(c.post("/api/v1/me/password", {"current_password": first,
                                                  "new_password": second}))
    assert answers[-1].status_code == 200, answers[-1].text
    assert Client(s, device="tx5").login(phone, second).status_code == 200
    s.post("/test/v1/notify/deliver")
    needles = (first, wrong, probe, refused, second)
    for r in answers:
        assert not [n for n in needles if n in r.text], r.text
    recs = s.audit()
    assert {"user.registered", "auth.login_failed", "user.password_changed"} <= {
        x["action"] for x in recs}
    assert not [x for x in recs for n in needles if n in (x["details"] or "")]
    assert s.stop() == 0
    assert files_holding(s, needles) == {}


def test_start_writes_config_and_start_events(make_server):
    """req: AUD-CNT-02"""
    s = make_server()
    actions = [r["action"] for r in s.audit()]
    assert "config.loaded" in actions
    assert "server.start" in actions
    start = s.audit("server.start")[-1]
    assert start["actor_type"] == "system" and start["outcome"] == "success"


def test_second_daemon_on_same_data_dir_is_refused(make_server):
    s = make_server()
    from conftest import Server  # noqa: E402
    other = Server.__new__(Server)
    other.__dict__.update(s.__dict__)
    other.stderr_path = s.dir / "second.stderr"
    rc = other.start(expect_fail=True)
    assert rc != 0
    assert "another anfud" in other.read_stderr()
