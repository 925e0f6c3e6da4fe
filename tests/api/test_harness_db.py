"""The harness's way into a server's database (conftest.py Server.rw() and
Server.db_bytes()), on whichever backend the suite runs (BACKEND).

Tampering tests and at-rest tests rest on these: a rw() that changed
nothing, or a db_bytes() that read nothing, would let them pass without
having tested anything.
"""
import os

import pytest

from conftest import BACKEND

NEEDLE = "harness-needle-7f3a9c"


def test_rw_commits_and_db_bytes_sees_what_it_wrote(make_server):
    s = make_server(start=False)
    assert NEEDLE.encode() not in s.db_bytes()
    with s.rw() as c:
        c.execute("CREATE TABLE harness_probe (v TEXT NOT NULL)")
        c.execute("INSERT INTO harness_probe (v) VALUES (?)", NEEDLE)
        assert c.one("SELECT v FROM harness_probe") == (NEEDLE,)
    assert s.query("SELECT v FROM harness_probe") == [{"v": NEEDLE}]
    assert NEEDLE.encode() in s.db_bytes()


def test_rw_rolls_back_when_the_block_raises(make_server):
    s = make_server(start=False)
    n = len(s.audit())
    with pytest.raises(RuntimeError):
        with s.rw() as c:
            c.execute("INSERT INTO schema_version (module, version, name, applied_ms) "
                      "VALUES ('harness', 1, 'probe', 0)")
            raise RuntimeError("the test's own failure")
    assert s.query("SELECT * FROM schema_version WHERE module = 'harness'") == []
    assert len(s.audit()) == n


def test_a_refused_statement_leaves_the_connection_usable(make_server):
    """As on SQLite, a statement the database refuses (pytest.raises) is
    undone alone: the block goes on and commits the rest."""
    s = make_server(start=False)
    with s.rw() as c:
        with pytest.raises(c.Error, match="audit_log is append-only"):
            c.execute("DELETE FROM audit_log")
        c.execute("INSERT INTO schema_version (module, version, name, applied_ms) "
                  "VALUES ('harness', 1, 'probe', 0)")
    assert len(s.query("SELECT * FROM schema_version WHERE module = 'harness'")) == 1
    assert s.audit()


def test_disabled_triggers_apply_to_the_block_only(make_server):
    """disable_triggers() lets the block change an append-only table; on
    PostgreSQL the triggers are on again once it committed (on SQLite the
    holder of the file dropped them for good)."""
    s = make_server(start=False)
    first = s.audit()[0]
    with s.rw() as c:
        c.disable_triggers("audit_log")
        c.execute("UPDATE audit_log SET outcome = 'tampered' WHERE seq = ?", first["seq"])
    assert s.query("SELECT outcome FROM audit_log WHERE seq = ?",
                   first["seq"]) == [{"outcome": "tampered"}]
    if BACKEND == "postgresql":
        with s.rw() as c:
            with pytest.raises(c.Error, match="audit_log is append-only"):
                c.execute("UPDATE audit_log SET outcome = 'again' WHERE seq = ?", first["seq"])
        assert s.query("SELECT outcome FROM audit_log WHERE seq = ?",
                       first["seq"]) == [{"outcome": "tampered"}]


@pytest.mark.skipif(BACKEND != "sqlite", reason="a SQLite database file: none on PostgreSQL")
def test_rw_never_makes_a_sqlite_database(make_server):
    """A test pointed at a missing file fails; it never gets an empty
    database in which every refusal "passes"."""
    s = make_server(start=False)
    db = s.data / "anfu.db"
    os.rename(db, s.data / "moved.db")
    with pytest.raises(AssertionError, match="no SQLite database"):
        with s.rw():
            pass
    assert not db.exists()
    with pytest.raises(AssertionError, match="no database file"):
        s.db_bytes()
