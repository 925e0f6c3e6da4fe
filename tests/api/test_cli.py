"""The anfu CLI: init, version, config check, db status, keys, help.

req: IAM-ACCT-10, DATA-ENC-04
"""
import hashlib
import os
import re
import stat

import pytest

from conftest import ANFUD, run_anfu, run_cli


def tree_digest(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if f.endswith(("-wal", "-shm")):
                continue
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_init_creates_everything_with_private_modes(tmp_path):
    """req: DATA-ENC-04, IAM-ACCT-10"""
    data = tmp_path / "d"
    p = run_cli("init", data=data)
    for word in ("config", "database", "tls cert", "audit key", "master key", "created"):
        assert word in p.stdout
    assert mode(data) == 0o700
    assert mode(data / "keys") == 0o700
    for f in ("keys/master.key", "keys/audit-signing.key", "tls/server.key", "anfu.conf"):
        assert mode(data / f) == 0o600, f
    master = (data / "keys" / "master.key").read_text().splitlines()
    assert master[0].startswith("# anfu-key id=mk-")
    assert "admin" not in (data / "anfu.conf").read_text().lower()


def test_init_twice_overwrites_nothing(tmp_path):
    data = tmp_path / "d"
    run_cli("init", data=data)
    before = tree_digest(data / "keys")
    before.update({"tls/" + k: v for k, v in tree_digest(data / "tls").items()})
    conf = (data / "anfu.conf").read_text()
    p = run_cli("init", data=data)
    assert "(created)" not in p.stdout
    for item in ("data directory", "config", "tls cert", "audit key", "master key"):
        line = next(x for x in p.stdout.splitlines() if item in x)
        assert line.endswith("(exists, kept)"), line
    assert "0 migration(s) applied" in p.stdout
    after = tree_digest(data / "keys")
    after.update({"tls/" + k: v for k, v in tree_digest(data / "tls").items()})
    assert before == after
    assert conf == (data / "anfu.conf").read_text()


def test_init_refuses_to_switch_crypto_profile(tmp_path):
    data = tmp_path / "d"
    run_cli("init", data=data)
    conf = (data / "anfu.conf").read_text()
    p = run_cli("init", "--crypto", "gm", data=data, check=False)
    assert p.returncode == 1
    assert "already sets another crypto profile" in p.stderr
    assert conf == (data / "anfu.conf").read_text()


def test_version_and_help_for_every_command():
    assert run_cli("version").stdout.startswith("anfu ")
    for cmd in (["init"], ["config", "check"], ["db", "status"], ["audit", "verify"],
                ["audit", "export"], ["keys", "export-public"], ["routes"],
                ["staff", "bootstrap"], ["staff", "unlock"], ["config", "example"],
                ["ledger", "verify"], ["ledger", "accounts"], ["ledger", "transfers"]):
        p = run_cli(*cmd, "--help")
        assert p.stdout.startswith("usage: anfu"), cmd
        # Every command works on a data directory except routes.
        assert ("--data" in p.stdout) == (cmd != ["routes"]), cmd
    assert run_anfu([ANFUD, "--help"]).returncode == 0


def test_unknown_command_and_option_are_usage_errors(tmp_path):
    p = run_cli("frobnicate", check=False)
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr and p.stdout == ""
    p = run_cli("db", "status", "--bogus", check=False)
    assert p.returncode == 2
    assert "unknown option" in p.stderr and "--bogus" in p.stderr and p.stdout == ""


def test_config_check_reports_the_line_of_an_error(tmp_path):
    data = tmp_path / "d"
    run_cli("init", data=data)
    assert run_cli("config", "check", data=data).stdout.startswith("OK:")
    bad = tmp_path / "bad.conf"
    bad.write_text("[server]\nlevel = enhanced\n\n[http]\nport = 99999\n")
    p = run_cli("config", "check", "--config", str(bad), data=data, check=False)
    assert p.returncode == 1
    assert "bad.conf:5" in p.stderr
    bad.write_text("[http]\nbogus_key = 1\n")
    p = run_cli("config", "check", "--config", str(bad), data=data, check=False)
    assert p.returncode == 1 and "bad.conf:2" in p.stderr and "bogus_key" in p.stderr


def test_config_check_show_prints_effective_values(tmp_path):
    data = tmp_path / "d"
    run_cli("init", data=data)
    p = run_cli("config", "check", "--show", data=data)
    assert "http.port = 8443" in p.stdout
    assert "server.level = enhanced" in p.stdout


def test_db_status(tmp_path):
    data = tmp_path / "d"
    run_cli("init", data=data)
    p = run_cli("db", "status", data=data)
    assert "schema version:" in p.stdout and "0 pending" in p.stdout
    assert "audit records:" in p.stdout


def test_db_status_shows_each_modules_version(tmp_path):
    """Versions are per module (store/migrate.c): one line each, with the
    latest this anfu knows and what is pending."""
    import sqlite3
    data = tmp_path / "d"
    run_cli("init", data=data)
    out = run_cli("db", "status", data=data).stdout
    lines = dict(re.findall(r"^  (\w+) +(\d+ \(this anfu knows \d+\))$", out, re.M))
    assert lines["core"] == "6 (this anfu knows 6)", out
    assert lines["notify"] == "1 (this anfu knows 1)", out
    assert lines["iam"] == "6 (this anfu knows 6)", out
    assert lines["web"] == "1 (this anfu knows 1)", out
    assert lines["ledger"] == "4 (this anfu knows 4)", out
    assert lines["receipt"] == "1 (this anfu knows 1)", out
    assert lines["wallet"] == "4 (this anfu knows 4)", out
    assert lines["bank"] == "5 (this anfu knows 5)", out
    assert lines["dispute"] == "4 (this anfu knows 4)", out

    assert lines["pay"] == "10 (this anfu knows 10)", out
    with sqlite3.connect(str(data / "anfu.db")) as c:
        c.execute("DELETE FROM schema_version WHERE module = 'iam' AND version = 6")
    out = run_cli("db", "status", data=data).stdout
    assert "(1 pending)" in out and "  iam            5 (this anfu knows 6)" in out, out


def test_keys_export_public_prints_only_public_keys(tmp_path):
    """req: DATA-ENC-04"""
    data = tmp_path / "d"
    run_cli("init", data=data)
    out = run_cli("keys", "export-public", data=data).stdout
    assert "-----BEGIN PUBLIC KEY-----" in out
    assert "PRIVATE" not in out
    assert "# anfu-key id=ed25519-" in out


def test_anfud_refuses_a_database_newer_than_it_knows(make_server):
    s = make_server(start=False)
    # Versions are per module (store/migrate.c): the core's here.
    with s.rw() as c:
        c.execute("INSERT INTO schema_version (module, version, name, applied_ms) "
                  "VALUES ('core', 999, 'future', 0)")
    rc = s.start(expect_fail=True)
    assert rc != 0
    assert "database schema version 999 is newer than this binary" in s.read_stderr()


def test_anfud_refuses_a_world_readable_key(make_server):
    """req: DATA-ENC-04"""
    s = make_server(start=False)
    os.chmod(s.data / "keys" / "master.key", 0o644)
    rc = s.start(expect_fail=True)
    assert rc != 0
    assert "0600" in s.read_stderr()


def test_anfud_refuses_a_bad_config_naming_the_line(make_server):
    s = make_server(start=False)
    with open(s.data / "anfu.conf", "a") as f:
        f.write("[limits]\nbody_bytes = lots\n")
    rc = s.start(expect_fail=True)
    assert rc != 0
    assert "anfu.conf:" in s.read_stderr() and "body_bytes" in s.read_stderr()
