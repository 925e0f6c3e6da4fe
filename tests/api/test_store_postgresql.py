"""anfud on PostgreSQL ([database] backend = postgresql, docs/deployment.md).

Needs the server in ANFU_TEST_PG_DSN (scripts/test.sh starts a throwaway
cluster and exports it); without it every test here skips and says why.
Each server gets a database of its own (conftest.pg_new_database).
"""
import os
import stat

import pytest

from conftest import PG_DSN, pg_connect, write_config

pytestmark = pytest.mark.skipif(not PG_DSN, reason="ANFU_TEST_PG_DSN is not set: "
                                "no PostgreSQL server for these tests")


def pg_server(make_server, **kw):
    return make_server(backend="postgresql", **kw)


def test_anfud_migrates_and_serves_on_postgresql(make_server):
    s = pg_server(make_server)
    r = s.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "schema": "ok", "audit": "ok"}
    # Every module's migrations ran there, each with its audit record.
    versions = {r["module"]: r["v"] for r in s.query(
        "SELECT module, max(version) AS v FROM schema_version GROUP BY module")}
    assert versions["core"] == 6 and versions["iam"] == 6 and versions["ledger"] == 4
    assert versions["web"] == 1
    assert versions["receipt"] == 1
    assert versions["dispute"] == 4
    assert versions["pay"] == 10
    assert len(s.audit("db.migration_applied")) == sum(versions.values())
    # Nothing went to a SQLite file.
    assert not (s.data / "anfu.db").exists()


def test_cli_reads_postgresql_and_never_prints_the_dsn(make_server):
    s = pg_server(make_server)
    s.get("/healthz")
    out = s.cli_run("db", "status").stdout
    assert "PostgreSQL server (postgresql)" in out
    assert "0 pending" in out
    assert s.pg_db not in out and "dbname" not in out
    assert "OK:" in s.cli_run("audit", "verify").stdout
    assert "OK:" in s.cli_run("ledger", "verify").stdout


def test_a_dsn_with_a_password_is_refused_and_not_echoed(make_server):
    s = pg_server(make_server)
    s.stop()
    cfg = dict(s.config)
    cfg["database"] = dict(cfg["database"], dsn=cfg["database"]["dsn"] + " password=hunter2")
    write_config(s.data / "anfu.conf", cfg)
    s.expected_exit = None
    assert s.start(expect_fail=True) != 0
    err = s.read_stderr()
    assert "database dsn contains a password" in err
    assert "hunter2" not in err
    p = s.cli_run("config", "check", check=False)
    assert p.returncode != 0
    assert "hunter2" not in p.stdout + p.stderr


def test_a_password_file_others_can_read_is_refused(make_server):
    s = pg_server(make_server)
    s.stop()
    pw = s.data / "db-password"
    pw.write_text("s3cret\n")
    os.chmod(pw, 0o644)
    s.expected_exit = None
    assert s.start(expect_fail=True) != 0
    assert "password_file" in s.read_stderr()
    os.chmod(pw, 0o600)
    # The trust authentication of the test cluster accepts any password:
    # this proves the file is read and accepted, not that it is sent.
    s.expected_exit = 0
    s.start()
    assert s.get("/readyz").status_code == 200
    assert stat.S_IMODE(pw.stat().st_mode) == 0o600


def test_anfud_recovers_by_itself_when_its_connections_are_killed(make_server):
    """PostgreSQL ends every session of anfud (a restart, a failover): the
    requests that hit a dead connection fail cleanly and the threads
    reconnect on their next use; anfud is never restarted."""
    s = pg_server(make_server)
    pid = s.proc.pid
    for _ in range(8):
        assert s.get("/readyz").status_code == 200
    c = pg_connect(s.pg_db)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'anfud'")
        assert cur.fetchone()[0] >= 1
    c.close()
    codes = [s.get("/readyz").status_code for _ in range(20)]
    assert set(codes) <= {200, 503}, codes
    # Every thread had at most one request fail before it reconnected.
    assert codes[-8:] == [200] * 8, codes
    assert s.proc is not None and s.proc.pid == pid and s.proc.poll() is None
