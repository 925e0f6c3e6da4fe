"""pytest harness: a real anfud over TLS on 127.0.0.1 with a fresh data dir.

Every server is made by `anfu init`, configured through its anfu.conf, and
started as a subprocess. Tests talk HTTPS to it (verifying the development
certificate the data directory holds) and check the resulting state in the
SQLite database and the audit log. Under the ASan build, stopping a server
also fails the test if the sanitizer reported anything.
"""
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ANFU_BUILD_DIR", os.path.join(ROOT, "build-test"))
PROD_BUILD = os.environ.get("ANFU_PROD_BUILD_DIR", os.path.join(ROOT, "build"))
ANFU = os.path.join(BUILD, "anfu")
ANFUD = os.path.join(BUILD, "anfud")

# Settings every test server gets unless a test overrides them: ports picked
# by the kernel, limits loose enough not to disturb unrelated tests.
BASE_CONFIG = {
    "http": {"port": "0", "threads": "4"},
    "admin": {"port": "0"},
    "limits": {"rate_per_ip": "100000", "rate_burst": "100000"},
    "audit": {"checkpoint_records": "50", "checkpoint_seconds": "1"},
    "log": {"level": "debug"},
    # Small Argon2id parameters keep the suite fast; production defaults are
    # in docs/configuration.md (bench/ measures them).
    "argon2": {"opslimit": "1", "memlimit_kib": "8192"},
}

# Set by the smtp_sink fixture: every server sends mail to it.
SMTP = {"url": None, "dir": None}

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def run_cli(*args, data=None, check=True, input=None, env=None):
    """Runs `anfu ARGS` (with --data when given); returns CompletedProcess."""
    cmd = [ANFU, *args]
    if data is not None:
        cmd += ["--data", str(data)]
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, text=True, input=input, env=e, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (cmd, p.returncode, p.stdout, p.stderr))
    return p


def write_config(path, sections):
    """Writes an anfu.conf from {section: {key: value}}."""
    with open(path, "w", encoding="utf-8") as f:
        for sec, kv in sections.items():
            f.write("[%s]\n" % sec)
            for k, v in kv.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")


def merge(base, over):
    out = {s: dict(kv) for s, kv in base.items()}
    for s, kv in (over or {}).items():
        out.setdefault(s, {}).update(kv)
    return out


class Server:
    """One anfud process on its own data directory."""

    def __init__(self, tmp_path, config=None, crypto="intl", binary=ANFUD, cli=ANFU,
                 init_args=()):
        self.dir = tmp_path
        self.data = tmp_path / "data"
        self.binary = binary
        self.cli = cli
        self.crypto = crypto
        self.proc = None
        self.stderr_path = tmp_path / "anfud.stderr"
        self.init_out = self._init(init_args)
        base = merge(BASE_CONFIG, {"server": {"crypto": crypto}})
        if SMTP["url"]:
            base = merge(base, {"mail": {"smtp_url": SMTP["url"]}})
        self.config = merge(base, config)
        write_config(self.data / "anfu.conf", self.config)
        self.cert = str(self.data / "tls" / "server.crt")
        self.http = requests.Session()
        self.http.verify = self.cert
        # Ignore REQUESTS_CA_BUNDLE and proxies from the environment.
        self.http.trust_env = False

    def _init(self, init_args):
        p = subprocess.run([self.cli, "init", "--data", str(self.data), "--crypto", self.crypto,
                            *init_args], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def start(self, expect_fail=False):
        run_file = self.data / "run" / "anfud.json"
        if run_file.exists():
            run_file.unlink()
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--data", str(self.data)],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if expect_fail:
                    return self.proc.returncode
                raise AssertionError("anfud exited %d:\n%s" % (self.proc.returncode,
                                                              self.read_stderr()))
            if run_file.exists():
                try:
                    info = json.loads(run_file.read_text())
                except ValueError:
                    time.sleep(0.02)
                    continue
                self.port = info["port"]
                self.admin_port = info["admin_port"]
                return self
            time.sleep(0.02)
        raise AssertionError("anfud did not start:\n" + self.read_stderr())

    def read_stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def url(self, path, admin=False):
        return "https://127.0.0.1:%d%s" % (self.admin_port if admin else self.port, path)

    def get(self, path, **kw):
        return self.http.get(self.url(path, kw.pop("admin", False)), timeout=30, **kw)

    def post(self, path, body=None, **kw):
        admin = kw.pop("admin", False)
        if body is not None and "data" not in kw:
            kw["json"] = body
        return self.http.post(self.url(path, admin), timeout=30, **kw)

    def request(self, method, path, **kw):
        admin = kw.pop("admin", False)
        return self.http.request(method, self.url(path, admin), timeout=30, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server; returns its exit status."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("anfud did not stop within %ds" % timeout)
        self.stderr.close()
        rc = self.proc.returncode
        self.proc = None
        self.assert_no_sanitizer_report()
        return rc

    def assert_no_sanitizer_report(self):
        err = self.read_stderr()
        for m in SANITIZER_MARKERS:
            assert m not in err, "sanitizer report from anfud:\n" + err

    # ---- state -------------------------------------------------------------
    def db(self):
        c = sqlite3.connect("file:%s?mode=ro" % (self.data / "anfu.db"), uri=True, timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def query(self, sql, *args):
        with self.db() as c:
            return [dict(r) for r in c.execute(sql, args)]

    def audit(self, action=None):
        if action:
            return self.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", action)
        return self.query("SELECT * FROM audit_log ORDER BY seq")

    def cli_run(self, *args, check=True):
        return run_cli(*args, data=self.data, check=check)

    # ---- test hooks ----------------------------------------------------------
    def clock(self, **body):
        r = self.post("/test/v1/clock", body)
        assert r.status_code == 200, r.text
        return r.json()["now_ms"]

    def fault(self, **body):
        r = self.post("/test/v1/faults", body)
        assert r.status_code == 200, r.text


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def smtp_sink(tmp_path_factory):
    """A real SMTP server (Debian's aiosmtpd) writing every message into a
    maildir; every anfud of the run relays mail to it."""
    d = tmp_path_factory.mktemp("smtp") / "maildir"
    port = free_port()
    p = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                          "127.0.0.1:%d" % port, "-c", "aiosmtpd.handlers.Mailbox", str(d)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    SMTP.update(url="smtp://127.0.0.1:%d" % port, dir=str(d))
    yield SMTP
    p.terminate()
    p.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A shared server for tests that do not change its configuration."""
    s = Server(tmp_path_factory.mktemp("shared")).start()
    yield s
    rc = s.stop()
    assert rc == 0, s.read_stderr()


@pytest.fixture
def make_server(tmp_path):
    """Factory for a server of the test's own, stopped at teardown."""
    made = []

    def make(config=None, crypto="intl", start=True, **kw):
        sub = tmp_path / ("s%d" % len(made))
        sub.mkdir()
        s = Server(sub, config=config, crypto=crypto, **kw)
        made.append(s)
        return s.start() if start else s

    yield make
    for s in made:
        if s.proc is not None:
            s.stop()
        s.assert_no_sanitizer_report()


def pytest_configure(config):
    config.addinivalue_line("markers", "req(*ids): requirement IDs the test proves")
