"""Tamper-evident audit log through the real binaries.

req: AUD-STO-02, AUD-PROT-01, AUD-CNT-01, AUD-CNT-02, AUD-THR-01
"""
import json
import os
import subprocess
import time

import pytest

from conftest import BACKEND, ROOT

VERIFIER = os.path.join(ROOT, "tools", "verify_audit.py")


def export(s, tmp_path, name="audit.jsonl"):
    out = tmp_path / name
    s.cli_run("audit", "export", "--out", str(out))
    pub = tmp_path / "audit.pub"
    pub.write_text(s.cli_run("keys", "export-public").stdout)
    return out, pub


def py_verify(export_path, pub_path):
    return subprocess.run(["/usr/bin/python3", VERIFIER, str(export_path), str(pub_path)],
                          capture_output=True, text=True, timeout=120)


def test_records_carry_every_required_field(make_server):
    """req: AUD-CNT-01"""
    s = make_server()
    s.get("/test/v1/session-probe")
    rec = s.audit("http.refused")[-1]
    for f in ("seq", "ts_ms", "actor_id", "actor_type", "actor_role", "source_ip",
              "request_id", "action", "object_type", "object_id", "outcome", "details",
              "prev_hash", "hash"):
        assert f in rec
    assert rec["source_ip"] == "127.0.0.1"
    assert rec["request_id"].startswith("req_")
    assert rec["outcome"] == "denied"
    assert abs(rec["ts_ms"] / 1000 - time.time()) < 60
    assert json.loads(rec["details"])["status"] == 401


def test_401_refusals_are_audited(make_server):
    """req: AUD-CNT-02"""
    s = make_server()
    r = s.get("/test/v1/session-probe")
    assert r.status_code == 401
    recs = [x for x in s.audit("http.refused") if x["request_id"] == r.headers["X-Request-Id"]]
    assert len(recs) == 1


def test_init_audits_keys_and_migrations(make_server):
    """req: AUD-CNT-02"""
    s = make_server()
    acts = [r["action"] for r in s.audit()]
    assert acts.count("keys.generated") == 3
    assert "db.migration_applied" in acts


def test_update_and_delete_are_refused_by_the_database(make_server):
    """req: AUD-PROT-01"""
    s = make_server()
    before = s.query("SELECT * FROM audit_log WHERE seq = 1")
    cps = s.query("SELECT * FROM audit_checkpoint ORDER BY seq")
    assert before and cps
    with s.rw() as c:
        with pytest.raises(c.Error, match="audit_log is append-only"):
            c.execute("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        with pytest.raises(c.Error, match="audit_log is append-only"):
            c.execute("DELETE FROM audit_log WHERE seq = 1")
        with pytest.raises(c.Error, match="audit_checkpoint is append-only"):
            c.execute("DELETE FROM audit_checkpoint")
    assert s.query("SELECT * FROM audit_log WHERE seq = 1") == before
    assert s.query("SELECT * FROM audit_checkpoint ORDER BY seq") == cps


@pytest.mark.skipif(BACKEND != "postgresql", reason="TRUNCATE is PostgreSQL's (SQLite has none)")
def test_truncate_of_the_audit_log_is_refused_by_the_database(make_server):
    """req: AUD-PROT-01"""
    s = make_server()
    n = len(s.audit())
    with s.rw() as c:
        with pytest.raises(c.Error, match="audit_log is append-only"):
            c.execute("TRUNCATE audit_log")
    assert len(s.audit()) == n


@pytest.mark.skipif(BACKEND != "postgresql", reason="TRUNCATE is PostgreSQL's (SQLite has none)")
def test_truncate_of_the_checkpoints_is_refused_by_the_database(make_server):
    """req: AUD-PROT-01"""
    s = make_server()
    cps = s.query("SELECT * FROM audit_checkpoint ORDER BY seq")
    assert cps
    with s.rw() as c:
        with pytest.raises(c.Error, match="audit_checkpoint is append-only"):
            c.execute("TRUNCATE audit_checkpoint")
    assert s.query("SELECT * FROM audit_checkpoint ORDER BY seq") == cps


# SQLite's REPLACE verbs (SQLite only); the upsert (ON CONFLICT DO
# UPDATE), both backends'.
REPLACES = {"sqlite": ["INSERT OR REPLACE", "REPLACE", "ON CONFLICT"],
            "postgresql": ["ON CONFLICT"]}


@pytest.mark.parametrize("verb", [
    pytest.param(v, marks=pytest.mark.skipif(
        v not in REPLACES[BACKEND], reason="%s is not %s's syntax" % (v, BACKEND)))
    for v in REPLACES["sqlite"]])
def test_replace_of_an_audit_row_is_refused_by_the_database(make_server, verb):
    """SQLite's REPLACE deletes the old row without firing DELETE triggers;
    an upsert updates it in place: the database refuses either
    for records and checkpoints alike, and the rows stay as they were.
    req: AUD-PROT-01"""
    s = make_server()
    before = s.query("SELECT * FROM audit_log WHERE seq = 1")[0]
    cp = s.query("SELECT * FROM audit_checkpoint ORDER BY seq LIMIT 1")
    assert cp, "anfu init writes a first checkpoint"
    cols = [k for k in before if k != "action"]
    with s.rw() as c:
        if verb == "ON CONFLICT":
            log = ("INSERT INTO audit_log (action, %s) SELECT 'x', %s FROM audit_log "
                   "WHERE seq = 1 ON CONFLICT (seq) DO UPDATE SET action = excluded.action"
                   % (", ".join(cols), ", ".join(cols)))
            ckpt = ("INSERT INTO audit_checkpoint SELECT * FROM audit_checkpoint WHERE seq = ? "
                    "ON CONFLICT (seq) DO UPDATE SET seq = excluded.seq")
        else:
            log = ("%s INTO audit_log (action, %s) SELECT 'x', %s FROM audit_log "
                   "WHERE seq = 1" % (verb, ", ".join(cols), ", ".join(cols)))
            ckpt = "%s INTO audit_checkpoint SELECT * FROM audit_checkpoint WHERE seq = ?" % verb
        with pytest.raises(c.Error, match="audit_log is append-only"):
            c.execute(log)
        with pytest.raises(c.Error, match="audit_checkpoint is append-only"):
            c.execute(ckpt, cp[0]["seq"])
    assert s.query("SELECT * FROM audit_log WHERE seq = 1")[0] == before
    assert s.query("SELECT * FROM audit_checkpoint ORDER BY seq LIMIT 1") == cp
    assert s.cli_run("audit", "verify").returncode == 0


def test_verify_passes_on_an_untouched_log(make_server):
    """req: AUD-STO-02"""
    s = make_server()
    for _ in range(5):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    p = s.cli_run("audit", "verify")
    assert p.stdout.startswith("OK:")


@pytest.mark.parametrize("tamper", ["change", "delete", "insert", "swap", "truncate"])
def test_verify_names_the_first_bad_sequence(make_server, tamper):
    """Even with the triggers dropped (on PostgreSQL: disabled by the
    tables' owner), every kind of tampering is found.
    req: AUD-STO-02, AUD-PROT-01"""
    s = make_server()
    for _ in range(8):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    with s.rw() as c:
        n = c.one("SELECT max(seq) FROM audit_log")[0]
        c.disable_triggers("audit_log")
        target = 5
        if tamper == "change":
            c.execute("UPDATE audit_log SET outcome = 'tampered' WHERE seq = ?", target)
        elif tamper == "delete":
            c.execute("DELETE FROM audit_log WHERE seq = ?", target)
        elif tamper == "insert":
            c.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= ?", target)
            c.execute("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
            c.execute("INSERT INTO audit_log SELECT ?, ts_ms, actor_id, actor_type, actor_role,"
                      " source_ip, device, request_id, 'forged', object_type, object_id, outcome,"
                      " details, prev_hash, hash FROM audit_log WHERE seq = ?",
                      target, target + 1)
        elif tamper == "swap":
            a = c.one("SELECT * FROM audit_log WHERE seq = ?", target)
            b = c.one("SELECT * FROM audit_log WHERE seq = ?", target + 1)
            c.execute("DELETE FROM audit_log WHERE seq IN (?, ?)", target, target + 1)
            c.execute("INSERT INTO audit_log VALUES (%s)" % ",".join("?" * len(a)),
                      target, *b[1:])
            c.execute("INSERT INTO audit_log VALUES (%s)" % ",".join("?" * len(b)),
                      target + 1, *a[1:])
        elif tamper == "truncate":
            target = n
            c.execute("DELETE FROM audit_log WHERE seq >= ?", target)
            prev = c.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            c.execute("UPDATE audit_head SET seq = ?, hash = ?", *prev)
    p = s.cli_run("audit", "verify", check=False)
    assert p.returncode == 1, p.stdout
    assert p.stdout.startswith("FAILED at seq %d:" % target), p.stdout


def test_truncating_checkpoints_too_is_caught_by_the_checkpoint_file(make_server):
    """The attacker drops records AND their checkpoints from the database; the
    checkpoint file in the data directory still names them. req: AUD-STO-02"""
    s = make_server()
    for _ in range(60):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    with s.rw() as c:
        c.disable_triggers("audit_log", "audit_checkpoint")
        keep = 10
        c.execute("DELETE FROM audit_log WHERE seq > ?", keep)
        c.execute("DELETE FROM audit_checkpoint WHERE seq > ?", keep)
        prev = c.one("SELECT seq, hash FROM audit_log WHERE seq = ?", keep)
        c.execute("UPDATE audit_head SET seq = ?, hash = ?", *prev)
    p = s.cli_run("audit", "verify", check=False)
    assert p.returncode == 1
    assert p.stdout.startswith("FAILED at seq 11:"), p.stdout


def test_checkpoints_are_written_every_n_records(make_server):
    """req: AUD-STO-02"""
    s = make_server({"audit": {"checkpoint_records": "10", "checkpoint_seconds": "3600"}})
    for _ in range(25):
        s.get("/test/v1/session-probe")
    deadline = time.time() + 60  # a deadline: the loop ends when the checkpoint is there
    while time.time() < deadline:
        cps = s.query("SELECT seq FROM audit_checkpoint ORDER BY seq")
        if cps and cps[-1]["seq"] >= 20:
            break
        time.sleep(0.2)
    assert cps[-1]["seq"] >= 20
    lines = (s.data / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert len(lines) >= 2


def test_export_verifies_with_the_independent_python_verifier(make_server, tmp_path):
    """An auditor verifies the export with the public key alone. req: AUD-STO-02, AUD-TOOL-01"""
    s = make_server()
    for _ in range(12):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    out, pub = export(s, tmp_path)
    p = py_verify(out, pub)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("OK:")


def test_python_verifier_detects_a_changed_export(make_server, tmp_path):
    """req: AUD-STO-02"""
    s = make_server()
    for _ in range(5):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    out, pub = export(s, tmp_path)
    lines = out.read_text().splitlines(keepends=True)
    rec = json.loads(lines[3])
    rec["outcome"] = "success" if rec["outcome"] != "success" else "failure"
    lines[3] = json.dumps(rec, separators=(",", ":"), sort_keys=True) + "\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines))
    p = py_verify(bad, pub)
    assert p.returncode == 1
    assert "FAIL" in p.stdout


def test_python_verifier_refuses_another_key(make_server, tmp_path):
    s1 = make_server()
    s2 = make_server()
    assert s1.stop() == 0
    out, _ = export(s1, tmp_path, "one.jsonl")
    other = tmp_path / "other.pub"
    other.write_text(s2.cli_run("keys", "export-public").stdout)
    assert py_verify(out, other).returncode == 1


def test_gm_profile_chains_with_sm3_and_signs_with_sm2(make_server):
    """req: AUD-STO-02, DATA-TX-07"""
    s = make_server(crypto="gm")
    for _ in range(3):
        s.get("/test/v1/session-probe")
    assert s.stop() == 0
    assert s.cli_run("audit", "verify").stdout.startswith("OK:")
    assert s.query("SELECT DISTINCT hash_alg FROM audit_checkpoint") == [{"hash_alg": "sm3"}]
    assert "sm2" in s.cli_run("keys", "export-public").stdout


def test_readyz_fails_and_refusals_fail_closed_when_audit_cannot_be_written(make_server):
    """req: AUD-THR-01"""
    s = make_server()
    assert s.get("/readyz").status_code == 200
    s.fault(audit=True)
    r = s.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["audit"] == "unwritable"
    s.fault(audit=False)
    assert s.get("/readyz").status_code == 200


def _app_log_lines_from(s, offset):
    with open(s.data / "log" / "anfud.log", "rb") as f:
        f.seek(offset)
        return [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]


def test_one_failed_audit_append_is_logged_once(make_server):
    """A write whose audit record cannot be appended is refused 503
    audit_unavailable, and the failure is one line of the application log:
    the executor's, which rolled back, naming the request; neither the HTTP
    layer's 503 nor the service logs it again. req: AUD-THR-01"""
    from iam import GOOD_PASSWORD, Client, register
    s = make_server()
    _, phone = register(s)
    sessions = s.query("SELECT COUNT(*) AS n FROM iam_session")[0]["n"]
    s.fault(audit=True)
    mark = os.path.getsize(s.data / "log" / "anfud.log")
    r = Client(s, device="log-once").login(phone, GOOD_PASSWORD)
    lines = _app_log_lines_from(s, mark)
    s.fault(audit=False)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "audit_unavailable"
    rid = r.json()["error"]["request_id"]
    loud = [ln for ln in lines if ln["level"] in ("warn", "error")]
    assert len(loud) == 1, loud
    assert loud[0]["event"] == "tx.audit" and rid in loud[0]["msg"], loud
    assert s.query("SELECT COUNT(*) AS n FROM iam_session")[0]["n"] == sessions


def test_a_refusal_whose_record_cannot_be_appended_is_logged_once(make_server):
    """A 401 whose "http.refused" record cannot be appended: the executor's
    line is the only one (api/refusal.c does not log it again).
    req: AUD-THR-01"""
    s = make_server()
    s.fault(audit=True)
    mark = os.path.getsize(s.data / "log" / "anfud.log")
    r = s.get("/api/v1/me")
    lines = _app_log_lines_from(s, mark)
    s.fault(audit=False)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    rid = r.json()["error"]["request_id"]
    loud = [ln for ln in lines if ln["level"] in ("warn", "error")]
    assert len(loud) == 1, loud
    assert loud[0]["event"] == "tx.audit" and rid in loud[0]["msg"], loud
    assert s.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'http.refused'")[0]["n"] == 0
