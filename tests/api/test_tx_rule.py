"""Nothing but the transaction executor begins a write transaction
(DESIGN.md rule 3, docs/architecture.md "The transaction executor").

Outside src/tx/ (the executor) and src/store/ (which implements the
transaction calls and runs the migrations), no C file under src/ may call
anfu_db_begin, anfu_db_commit or anfu_db_rollback, reach the store's
transaction operations through db->ops (begin, commit, rollback, savepoint,
release, rollback_to), or hold SQL text that begins, ends or marks a
transaction. Read-only snapshots stay with the store: anfu_db_begin_read
and anfu_db_end_read are allowed everywhere.
"""
import os
import re

from conftest import ROOT

SRC = os.path.join(ROOT, "src")
ALLOWED = ("tx", "store")

CALL = re.compile(r"\banfu_db_(begin|commit|rollback)\s*\(")
OPS = re.compile(r"->\s*ops\s*->\s*(begin|commit|rollback|savepoint|release|rollback_to)\b")
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
SQL = re.compile(r"^\s*(BEGIN|COMMIT|END\s+TRANSACTION|ROLLBACK|SAVEPOINT|RELEASE)\b", re.I)
COMMENT = re.compile(r"/\*.*?\*/", re.S)


def violations(text):
    """(line number, line) of every transaction control in C source text,
    comments left out (their line numbers kept)."""
    code = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found = []
    for no, line in enumerate(code.splitlines(), 1):
        hit = CALL.search(line) or OPS.search(line)
        if not hit:
            hit = any(SQL.match(s) for s in STRING.findall(line))
        if hit:
            found.append((no, line.strip()))
    return found


def c_files():
    for top, dirs, files in os.walk(SRC):
        dirs.sort()
        rel = os.path.relpath(top, SRC).split(os.sep)[0]
        if rel in ALLOWED:
            continue
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.join(top, name)


def test_no_transaction_control_outside_the_executor_and_the_store():
    bad = []
    for path in c_files():
        with open(path, encoding="utf-8") as f:
            for no, line in violations(f.read()):
                bad.append("%s:%d: %s" % (os.path.relpath(path, ROOT), no, line))
    assert not bad, "begin/commit/rollback outside src/tx and src/store " \
                    "(use anfu_tx_run):\n" + "\n".join(bad)


def test_the_rule_sees_every_shape_it_forbids():
    """The scanner itself: each forbidden shape is found, the allowed ones
    are not."""
    forbidden = [
        "r = anfu_db_begin(db);",
        "if (anfu_db_commit (db) < 0)",
        "(void)anfu_db_rollback(db);",
        "r = db->ops->begin(db, true);",
        "r = db->ops->savepoint(db, \"x\");",
        "r = d->ops -> rollback_to(db, \"x\");",
        "r = db->ops->release(db, \"x\");",
        "anfu_db_exec(db, \"BEGIN IMMEDIATE\", NULL, 0, NULL, NULL, NULL);",
        "run(d, \"commit\");",
        "run(d, \"  ROLLBACK TO SAVEPOINT x\");",
        "exec(db, \"SAVEPOINT a\");",
        "exec(db, \"END TRANSACTION\");",
    ]
    allowed = [
        "r = anfu_db_begin_read(db);",
        "(void)anfu_db_end_read(db);",
        "/* anfu_db_begin(db) in a comment */",
        "#define PEM \"-----BEGIN PRIVATE KEY-----\"",
        "\"# HELP anfu_db_commit_duration_seconds Database commit latency.\\n\"",
        "anfu_log_info(\"x\", \"the commit took %d ms\", ms);",
        "r = anfu_tx_run(ex, NULL, fn, ud);",
    ]
    for line in forbidden:
        assert violations(line), line
    for line in allowed:
        assert not violations(line), line
