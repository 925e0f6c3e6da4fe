"""pytest harness: a real anfud over TLS on 127.0.0.1 with a fresh data dir.

Every server is made by `anfu init`, configured through its anfu.conf, and
started as a subprocess. Tests talk HTTPS to it (verifying the development
certificate the data directory holds) and check the resulting state in its
database and the audit log: SQLite, or with ANFU_TEST_BACKEND=postgresql a
PostgreSQL database of its own (Server.query(), Server.rw(),
Server.db_bytes(): the same test on either backend; docs/testing.md).

Every process of ours a test starts goes through run_anfu() (the anfu CLI,
`anfud --help`) or Server (anfud): its stderr is scanned for sanitizer
reports, which fail the test whatever the exit status, and every anfud
still running at teardown is stopped with SIGTERM and must exit 0. A
failing test's report carries the tail of each server's stderr and logs
and the last HTTP exchanges (docs/testing.md).
"""
import collections
import contextlib
import glob
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

# The database backend of every test server: sqlite (the default) or, with
# ANFU_TEST_BACKEND=postgresql, the PostgreSQL server in ANFU_TEST_PG_DSN (a
# libpq conninfo, as scripts/test.sh exports it). Each Server then gets a
# database of its own, made before `anfu init` and dropped when the run ends.
BACKEND = os.environ.get("ANFU_TEST_BACKEND", "sqlite")
PG_DSN = os.environ.get("ANFU_TEST_PG_DSN", "")
PG_DATABASES = []


def pg_connect(dbname=None):
    import psycopg2  # Debian's python3-psycopg2, needed only for this backend
    return psycopg2.connect(PG_DSN + (" dbname=%s" % dbname if dbname else ""))


def pg_new_database():
    """Makes an empty database (name made here, never from input)."""
    assert PG_DSN, "ANFU_TEST_BACKEND=postgresql needs ANFU_TEST_PG_DSN"
    name = "anfu_api_%d_%d" % (os.getpid(), len(PG_DATABASES))
    c = pg_connect()
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
        cur.execute("CREATE DATABASE %s" % name)
    c.close()
    PG_DATABASES.append(name)
    return name


class SqliteDb:
    """Server.rw() on SQLite: the database file, opened read-write (never
    created: a missing file is an error, not an empty database)."""

    def __init__(self, path):
        assert os.path.exists(path), "no SQLite database at %s" % path
        self.Error = sqlite3.DatabaseError
        self.c = sqlite3.connect("file:%s?mode=rw" % path, uri=True, timeout=10)

    def execute(self, sql, *args):
        """Runs sql ("?" placeholders); returns its rows as tuples."""
        return [tuple(r) for r in self.c.execute(sql, args).fetchall()]

    def one(self, sql, *args):
        rows = self.execute(sql, *args)
        return rows[0] if rows else None

    def disable_triggers(self, *tables):
        """As the file's holder would: drops every trigger of tables."""
        for t in tables:
            for (name,) in self.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                        " AND tbl_name = ?", t):
                self.c.execute('DROP TRIGGER "%s"' % name)

    def finish(self, commit):
        if commit:
            self.c.commit()
        else:
            self.c.rollback()
        self.c.close()


class PgDb:
    """Server.rw() on PostgreSQL: one transaction in the server's database
    as the test cluster's role (which owns the tables). Each statement runs
    in a savepoint, so a refused one (pytest.raises) leaves the transaction
    usable, as on SQLite."""

    def __init__(self, dbname):
        import psycopg2
        self.Error = psycopg2.Error
        self.c = pg_connect(dbname)
        self.disabled = []

    def execute(self, sql, *args):
        """Runs sql ("?" placeholders become "%s"); returns its rows as
        tuples (bytea as bytes)."""
        with self.c.cursor() as cur:
            cur.execute("SAVEPOINT rw_step")
            try:
                if args:
                    cur.execute(sql.replace("%", "%%").replace("?", "%s"), args)
                else:
                    cur.execute(sql)
            except BaseException:
                cur.execute("ROLLBACK TO SAVEPOINT rw_step")
                raise
            rows = cur.fetchall() if cur.description else []
            cur.execute("RELEASE SAVEPOINT rw_step")
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]

    def one(self, sql, *args):
        rows = self.execute(sql, *args)
        return rows[0] if rows else None

    def disable_triggers(self, *tables):
        """As the tables' owner would: ALTER TABLE ... DISABLE TRIGGER USER
        (the append-only triggers; not the foreign keys), enabled again
        before the transaction commits, so only the rows show the change."""
        for t in tables:
            self.execute('ALTER TABLE "%s" DISABLE TRIGGER USER' % t)
            self.disabled.append(t)

    def finish(self, commit):
        try:
            if commit:
                for t in self.disabled:
                    self.execute('ALTER TABLE "%s" ENABLE TRIGGER USER' % t)
                self.c.commit()
            else:
                self.c.rollback()
        finally:
            self.c.close()


def pg_database_bytes(dbname):
    """Server.db_bytes() on PostgreSQL."""
    import psycopg2
    c = pg_connect(dbname)
    out = []
    try:
        c.set_session(readonly=True, autocommit=True)
        with c.cursor() as cur:
            cur.execute("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)"
                        " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                        " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                        " ORDER BY 1")
            tables = [r[0] for r in cur.fetchall()]
            assert tables, "no table in database %s" % dbname
            for t in tables:
                cur.execute("SELECT * FROM %s" % t)
                for r in cur.fetchall():
                    for v in r:
                        if isinstance(v, memoryview):
                            out.append(bytes(v))
                        elif v is not None:
                            out.append(str(v).encode())
        # The files too, where this process can read them: the dead row
        # versions an UPDATE or DELETE left are there until VACUUM.
        c2 = pg_connect(dbname)
        c2.autocommit = True
        try:
            with c2.cursor() as cur:
                cur.execute("CHECKPOINT")
                cur.execute("SELECT current_setting('data_directory'), oid FROM pg_database"
                            " WHERE datname = current_database()")
                ddir, oid = cur.fetchone()
        except psycopg2.Error:
            ddir = None
        finally:
            c2.close()
        if ddir and os.access(os.path.join(ddir, "base", str(oid)), os.R_OK):
            base = os.path.join(ddir, "base", str(oid))
            for name in sorted(os.listdir(base)):
                # The server removes and rewrites some files on its own
                # (pg_internal.init, its relation cache): one gone between
                # the listing and the read held no row of this database.
                try:
                    with open(os.path.join(base, name), "rb") as f:
                        out.append(f.read())
                except FileNotFoundError:
                    if not name.startswith("pg_internal.init"):
                        raise
    finally:
        c.close()
    return b"\n".join(out)


def pytest_sessionfinish(session, exitstatus):
    if not PG_DATABASES:
        return
    c = pg_connect()
    c.autocommit = True
    with c.cursor() as cur:
        for name in PG_DATABASES:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
    c.close()
    PG_DATABASES.clear()


# Set by the smtp_sink fixture: every server sends mail to it.
SMTP = {"url": None, "dir": None}

# What ASan, LSan and UBSan print when they report (UBSan's "runtime error:"
# also without halt_on_error).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "Sanitizer:DEADLYSIGNAL", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer",
                     "WARNING: ThreadSanitizer")


def sanitizer_report(text):
    """The sanitizer report in text (from the line before the first marker's
    line, which holds ASan's "=====" rule), or None."""
    at = [text.find(m) for m in SANITIZER_MARKERS if m in text]
    if not at:
        return None
    lines = text[:min(at)].split("\n")
    return "\n".join(lines[-2:]) + text[min(at):]


def assert_no_sanitizer_report(what, text):
    rep = sanitizer_report(text or "")
    if rep is not None:
        raise AssertionError("sanitizer report from %s:\n%s" % (what, rep))


def run_anfu(cmd, check=False, timeout=120, **kw):
    """Runs one of our binaries (cmd[0] is anfu or anfud) to completion and
    returns the CompletedProcess (text mode). Fails on a sanitizer report
    in its stderr whatever the exit status, so a refusal that leaks still
    fails a test that expects exit 1; with check, also on a non-zero exit."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       timeout=timeout, **kw)
    assert_no_sanitizer_report(" ".join(str(c) for c in cmd), p.stderr)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (cmd, p.returncode, p.stdout, p.stderr))
    return p


def run_cli(*args, data=None, check=True, input=None, env=None, cli=None):
    """Runs `anfu ARGS` (with --data when given); returns CompletedProcess."""
    cmd = [cli or ANFU, *args]
    if data is not None:
        cmd += ["--data", str(data)]
    e = dict(os.environ)
    if env:
        e.update(env)
    return run_anfu(cmd, check=check, input=input, env=e)


def ensure_prod_build():
    """PROD_BUILD, configured (test_hooks=false, tests=false) if it is not
    yet and brought up to date with ninja: a test that needs the production
    binaries builds them rather than skipping."""
    def run(cmd):
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        assert p.returncode == 0, "%s failed:\n%s%s" % (" ".join(cmd), p.stdout[-4000:],
                                                        p.stderr[-4000:])
    if not os.path.exists(os.path.join(PROD_BUILD, "build.ninja")):
        run(["meson", "setup", PROD_BUILD, "-Dtest_hooks=false", "-Dtests=false"])
    run(["ninja", "-C", PROD_BUILD])
    return PROD_BUILD


# ---- what a failing test prints ----------------------------------------------

# The last HTTP exchanges of the running test (every session the helpers
# make records into it); the servers that may be running; those the
# running test used (the ones running when it began, and its own).
EXCHANGES = collections.deque(maxlen=6)
ALL_SERVERS = []
TEST_SERVERS = []
BODY_SHOWN = 800


def _shorten(b):
    if b is None:
        return ""
    if not isinstance(b, (str, bytes)):
        return "<%s body>" % type(b).__name__
    if isinstance(b, bytes):
        b = b.decode("utf-8", "replace")
    return b if len(b) <= BODY_SHOWN else b[:BODY_SHOWN] + "...[%d bytes]" % len(b)


def _record_exchange(r, *args, **kwargs):
    q = r.request
    EXCHANGES.append("%s %s\n> %s\n< %d %s" % (q.method, q.url, _shorten(q.body),
                                                r.status_code, _shorten(r.content)))


def http_session(cert):
    """A requests session for the server whose certificate is cert: verifies
    it, ignores proxies and CA bundles from the environment, and records its
    exchanges for the failure report."""
    s = requests.Session()
    s.verify = cert
    s.trust_env = False
    s.hooks["response"].append(_record_exchange)
    return s


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _text_from(path, offset, lines=60):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    out = text.splitlines()
    if len(out) > lines:
        out = ["[... %d lines before]" % (len(out) - lines)] + out[-lines:]
    return "\n".join(out)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    EXCHANGES.clear()
    ALL_SERVERS[:] = [s for s in ALL_SERVERS if s.proc is not None]
    TEST_SERVERS[:] = ALL_SERVERS
    for s in TEST_SERVERS:
        s.mark_logs()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    # An unexpected pass of an expected failure is a failure, strict or not.
    if rep.when == "call" and rep.passed and hasattr(rep, "wasxfail"):
        rep.outcome = "failed"
        rep.longrepr = "[XPASS] expected to fail but passed: %s" % rep.wasxfail
        del rep.wasxfail
    if not rep.failed:
        return
    if EXCHANGES:
        rep.sections.append(("last HTTP exchanges (oldest first)", "\n\n".join(EXCHANGES)))
    for s in TEST_SERVERS:
        for title, text in s.log_tails():
            if text.strip():
                rep.sections.append((title, text))


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
                 init_args=(), backend=None):
        self.dir = tmp_path
        self.data = tmp_path / "data"
        self.binary = binary
        self.cli = cli
        self.crypto = crypto
        self.proc = None
        self.stderr = None
        self.stderr_path = tmp_path / "anfud.stderr"
        # The exit status stop() must see; None for a test that kills on
        # purpose (it says so by setting this).
        self.expected_exit = 0
        self.exit_status = None
        self.marks = {}
        self.pg_db = None
        base = merge(BASE_CONFIG, {"server": {"crypto": crypto}})
        if SMTP["url"]:
            base = merge(base, {"mail": {"smtp_url": SMTP["url"]}})
        if (backend or BACKEND) == "postgresql":
            # `anfu init` keeps a configuration it finds, so it migrates
            # and writes its first audit records on PostgreSQL already.
            self.pg_db = pg_new_database()
            base = merge(base, {"database": {"backend": "postgresql",
                                             "dsn": "%s dbname=%s" % (PG_DSN, self.pg_db)}})
            self.data.mkdir(mode=0o700)
            write_config(self.data / "anfu.conf", merge(base, config))
        self.init_out = self._init(init_args)
        self.config = merge(base, config)
        write_config(self.data / "anfu.conf", self.config)
        self.cert = str(self.data / "tls" / "server.crt")
        self.http = http_session(self.cert)
        ALL_SERVERS.append(self)
        TEST_SERVERS.append(self)

    def another_node(self, tmp_path):
        """A second anfud node on this server's PostgreSQL database (several
        nodes: docs/architecture.md): a data directory of its own holding a
        copy of this one's keys, TLS certificate, configuration and audit
        checkpoint file (as an operator deploys a node), no `anfu init`.
        Not started; stopped and checked at teardown like any server."""
        import copy
        import shutil
        assert self.pg_db, "several nodes share a PostgreSQL database"
        node = copy.copy(self)
        node.dir = tmp_path
        node.data = tmp_path / "data"
        node.data.mkdir(mode=0o700)
        for part in ("keys", "tls", "audit"):
            shutil.copytree(self.data / part, node.data / part)
        shutil.copy2(self.data / "anfu.conf", node.data / "anfu.conf")
        node.stderr_path = tmp_path / "anfud.stderr"
        node.proc = node.stderr = node.exit_status = None
        node.expected_exit = 0
        node.marks = {}
        node.cert = str(node.data / "tls" / "server.crt")
        node.http = http_session(node.cert)
        ALL_SERVERS.append(node)
        TEST_SERVERS.append(node)
        return node

    def _init(self, init_args):
        p = run_cli("init", *init_args, "--crypto", self.crypto, data=self.data, cli=self.cli)
        return p.stdout

    def log_files(self):
        return [("anfud stderr", self.stderr_path),
                ("anfud log", self.data / "log" / "anfud.log"),
                ("access log", self.data / "log" / "access.log")]

    def mark_logs(self):
        """Remembers where the logs end: a failure report shows what follows."""
        self.marks = {str(p): _size(p) for _, p in self.log_files()}

    def log_tails(self):
        """(title, text) of what each log got since mark_logs()."""
        return [("%s (%s)" % (title, p), _text_from(p, self.marks.get(str(p), 0)))
                for title, p in self.log_files()]

    def start(self, expect_fail=False):
        run_file = self.data / "run" / "anfud.json"
        if run_file.exists():
            run_file.unlink()
        self.stderr = open(self.stderr_path, "ab")
        self.exit_status = None
        self.proc = subprocess.Popen([self.binary, "--data", str(self.data)],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                # It ended by itself: its status is the test's to check,
                # not a stop's for teardown to.
                rc = self._reap()
                self.exit_status = None
                if expect_fail:
                    return rc
                raise AssertionError("anfud exited %d:\n%s" % (rc, self.read_stderr()))
            if run_file.exists():
                try:
                    info = json.loads(run_file.read_text())
                except ValueError:
                    time.sleep(0.02)
                    continue
                self.port = info["port"]
                self.admin_port = info["admin_port"]
                if expect_fail:
                    raise AssertionError("anfud started, but should have refused to:\n"
                                         + self.read_stderr())
                return self
            time.sleep(0.02)
        raise AssertionError("anfud did not start within 60 s:\n" + self.read_stderr())

    def _reap(self):
        """Records the exit status of the ended process, checks its stderr."""
        rc = self.proc.wait()
        self.stderr.close()
        self.proc = None
        self.exit_status = rc
        self.assert_no_sanitizer_report()
        return rc

    def read_stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_log(self, text, log="anfud", timeout=60):
        """Waits until log/<log>.log (anfud: the application log, access:
        the access log) has a line containing text, and returns it: for
        things the server writes after it answered, or on another thread."""
        path = self.data / "log" / (log + ".log")
        deadline = time.time() + timeout
        while True:
            try:
                lines = path.read_text(errors="replace").splitlines()
            except OSError:
                lines = []
            found = [line for line in lines if text in line]
            if found:
                return found[-1]
            if time.time() > deadline:
                raise AssertionError("no line with %r in %s within %d s" % (text, path, timeout))
            time.sleep(0.02)

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

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the server; returns its exit status (also kept in
        exit_status, which teardown compares with expected_exit)."""
        if not self.proc:
            return self.exit_status
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self._reap()
                raise AssertionError("anfud did not stop within %ds:\n%s"
                                     % (timeout, self.read_stderr()))
        return self._reap()

    def assert_no_sanitizer_report(self):
        assert_no_sanitizer_report("anfud (%s)" % self.stderr_path, self.read_stderr())

    def assert_stopped_cleanly(self):
        """Stops the server if it runs; its last exit must be expected_exit."""
        if self.proc is not None:
            self.stop()
        self.assert_no_sanitizer_report()
        if self.expected_exit is not None and self.exit_status is not None:
            assert self.exit_status == self.expected_exit, (
                "anfud exited %d after SIGTERM, not %d:\n%s"
                % (self.exit_status, self.expected_exit, self.read_stderr()))

    # ---- state -------------------------------------------------------------
    def db(self):
        c = sqlite3.connect("file:%s?mode=ro" % (self.data / "anfu.db"), uri=True, timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def query(self, sql, *args):
        if self.pg_db:
            return self._pg_query(sql, args)
        with self.db() as c:
            return [dict(r) for r in c.execute(sql, args)]

    def _pg_query(self, sql, args):
        """query() on PostgreSQL: "?" placeholders become "%s"."""
        import psycopg2.extras
        c = pg_connect(self.pg_db)
        try:
            c.set_session(readonly=True, autocommit=True)
            with c.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                if args:
                    cur.execute(sql.replace("%", "%%").replace("?", "%s"), args)
                else:
                    cur.execute(sql)
                return [dict(r) for r in cur.fetchall()] if cur.description else []
        finally:
            c.close()

    @contextlib.contextmanager
    def rw(self):
        """A read-write connection to the server's database whatever the
        backend, as the database's owner (what someone holding the SQLite
        file, or the owner role on PostgreSQL, can do): a Db. Commits when
        the block ends, rolls back when it raises. For tests that change
        the database behind anfud's back (tampering, a future schema)."""
        db = PgDb(self.pg_db) if self.pg_db else SqliteDb(self.data / "anfu.db")
        try:
            yield db
            db.finish(commit=True)
        except BaseException:
            db.finish(commit=False)
            raise

    def db_bytes(self):
        """Everything the database holds, as bytes, for tests that a secret
        is not stored in clear. SQLite: the database files (the WAL and
        free pages included). PostgreSQL: every value of every row of every
        table (bytea as its raw bytes, the rest as text) and, when the
        cluster's files are readable here (the throwaway test cluster),
        this database's files after a CHECKPOINT (dead row versions
        included)."""
        if not self.pg_db:
            data = b""
            for path in sorted(glob.glob(str(self.data / "anfu.db*"))):
                with open(path, "rb") as f:
                    data += f.read()
            assert data, "no database file in %s" % self.data
            return data
        return pg_database_bytes(self.pg_db)

    def audit(self, action=None):
        if action:
            return self.query("SELECT * FROM audit_log WHERE action = ? ORDER BY seq", action)
        return self.query("SELECT * FROM audit_log ORDER BY seq")

    def cli_run(self, *args, check=True):
        return run_cli(*args, data=self.data, check=check, cli=self.cli)

    # ---- test hooks ----------------------------------------------------------
    def clock(self, **body):
        r = self.post("/test/v1/clock", body)
        assert r.status_code == 200, r.text
        return r.json()["now_ms"]

    def hold_jobs(self, *names):
        """The scheduler leaves these jobs alone (POST /test/v1/jobs/hold):
        for tests that run a job's work through its own hook and count what
        that run did; moving the clock would otherwise wake the scheduler
        to race the hook for the same work."""
        for name in names:
            r = self.post("/test/v1/jobs/hold", {"name": name, "hold": True})
            assert r.status_code == 200, r.text
        return self

    def release_jobs(self, *names):
        """Undoes hold_jobs: the scheduler runs these jobs again when due."""
        for name in names:
            r = self.post("/test/v1/jobs/hold", {"name": name, "hold": False})
            assert r.status_code == 200, r.text
        return self

    def to_cn_hour(self, hour):
        """Moves the clock forward to the next hour:00 of a calendar day in
        Asia/Shanghai (UTC+8), so a test that spends several of its days'
        minutes (daily limits) cannot cross midnight there, whatever the
        real time it runs at. Returns the new now_ms."""
        day, cn = 86400000, 8 * 3600000
        now = self.clock(advance_ms=0)
        into = (now + cn) % day
        return self.clock(advance_ms=(hour * 3600000 - into) % day or day)

    def fault(self, **body):
        r = self.post("/test/v1/faults", body)
        assert r.status_code == 200, r.text


def free_port():
    """A port that was free a moment ago (racy: prefer binding port 0)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The SMTP sink: aiosmtpd's Mailbox handler on a port the kernel picks,
# printed once it listens (no port guessed beforehand, no readiness poll).
SMTP_SINK = """
import asyncio, os, sys
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
handler = Mailbox(sys.argv[1])
srv = loop.run_until_complete(loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0))
print(srv.sockets[0].getsockname()[1], flush=True)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nobody reads the pipe any more
loop.run_forever()
"""


@pytest.fixture(scope="session", autouse=True)
def smtp_sink(tmp_path_factory):
    """A real SMTP server (Debian's aiosmtpd) writing every message into a
    maildir; every anfud of the run relays mail to it."""
    d = tmp_path_factory.mktemp("smtp") / "maildir"
    log = open(d.parent / "smtp.stderr", "wb")
    p = subprocess.Popen(["/usr/bin/python3", "-c", SMTP_SINK, str(d)],
                         stdout=subprocess.PIPE, stderr=log, text=True)
    port = p.stdout.readline().strip()
    assert port.isdigit(), "SMTP sink did not start: %s" % (d.parent / "smtp.stderr")
    SMTP.update(url="smtp://127.0.0.1:%s" % port, dir=str(d))
    yield SMTP
    p.terminate()
    p.wait(timeout=10)
    log.close()


# The shared server counts every test's wrong passwords from 127.0.0.1:
# with the default lockout.ip_failures (20 in 10 min) a suite that grows
# would start refusing logins in whichever test came after the twentieth.
# Tests of the IP throttle make a server of their own.
SHARED_CONFIG = {"lockout": {"ip_failures": "10000"}}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A shared server for tests that do not change its configuration (and
    depend on no other test's state: filter by your own user, phone, ...)."""
    s = Server(tmp_path_factory.mktemp("shared"), config=SHARED_CONFIG).start()
    yield s
    s.assert_stopped_cleanly()


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
    errors = []
    for s in made:
        try:
            s.assert_stopped_cleanly()
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n\n".join(errors)


def pytest_configure(config):
    config.addinivalue_line("markers", "req(*ids): requirement IDs the test proves")
