"""The example module (src/example/): a service added by its folder and one
line of the module list. Through the real anfud of a test build
(-Dexample_module=true, which scripts/test.sh sets): its migration, its
option, its route (POST with an audit record, GET), its job and its metric;
and, over the source tree, that nothing outside src/example/ names it but
that line, the build option that turns it on and these tests.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import ROOT, run_cli
from iam import login_customer, register

NOTES = "/api/v1/example/notes"


def built():
    return "/api/v1/example/notes" in run_cli("routes").stdout


@pytest.fixture(autouse=True)
def needs_the_module():
    # Not a skip: a test build without the module would hide its failure.
    assert built(), ("this build has no example module: configure it with "
                     "-Dexample_module=true (scripts/test.sh does)")


@pytest.fixture(scope="module")
def ex(tmp_path_factory):
    """A server whose [example] max_chars is 5, and a signed-in customer."""
    from conftest import Server
    s = Server(tmp_path_factory.mktemp("example"), {"example": {"max_chars": "5"}})
    s.start()
    _, phone = register(s)
    c = login_customer(s, phone)
    uid = c.get("/api/v1/me").json()["user"]["id"]
    yield s, c, uid
    s.stop()


def note_rows(s):
    return s.query("SELECT id, user_id, text FROM example_note ORDER BY created_ms, id")


def test_its_migration_ran_in_its_own_sequence(ex):
    s, _, _ = ex
    assert s.query("SELECT module, version, name FROM schema_version WHERE module = 'example'") \
        == [{"module": "example", "version": 1, "name": "notes"}]
    assert s.query("SELECT count(*) AS n FROM example_note")[0]["n"] >= 0


def test_a_note_is_stored_with_its_audit_record_and_read_back(ex):
    s, c, uid = ex
    before = len(s.audit("example.note_created"))
    r = c.post(NOTES, {"text": "hello"})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["text"] == "hello" and note["id"].startswith("exn_")
    assert {"id": note["id"], "user_id": uid, "text": "hello"} in note_rows(s)
    recs = [a for a in s.audit("example.note_created") if a["object_id"] == note["id"]]
    assert len(s.audit("example.note_created")) == before + 1
    assert [(a["actor_id"], a["object_type"], a["outcome"]) for a in recs] == \
        [(uid, "note", "success")]
    r = c.get(NOTES)
    assert r.status_code == 200
    assert note in r.json()["notes"]


def test_its_option_limits_a_note_and_a_refusal_writes_nothing(ex):
    """max_chars = 5 from the [example] section: 5 code points pass, 6 are
    refused with 400 field_out_of_range; nothing is written then."""
    s, c, _ = ex
    assert c.post(NOTES, {"text": "五个汉字吗"}).status_code == 201
    rows, audits = note_rows(s), len(s.audit("example.note_created"))
    r = c.post(NOTES, {"text": "123456"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "field_out_of_range"
    assert note_rows(s) == rows
    assert len(s.audit("example.note_created")) == audits


def test_it_needs_a_session(ex):
    s, _, _ = ex
    rows = note_rows(s)
    r = s.post(NOTES, {"text": "anon"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert s.get(NOTES).status_code == 401
    assert note_rows(s) == rows


def test_its_job_counts_the_notes_and_its_metric_shows_them(ex):
    """The job runs on the injectable clock (first run a minute after the
    start); /metrics (admin listener) then shows the count."""
    s, c, _ = ex
    assert c.post(NOTES, {"text": "tally"}).status_code == 201
    want = len(note_rows(s))
    s.clock(advance_ms=2 * 60 * 1000)
    s.post("/test/v1/jobs/run")
    deadline = time.time() + 60  # a deadline: the loop ends when the job ran
    done = []
    while time.time() < deadline:
        done = s.query("SELECT last_result FROM job_schedule WHERE name = 'example.tally' "
                       "AND last_result IS NOT NULL")
        if done:
            break
        time.sleep(0.2)
    assert done == [{"last_result": "ok"}], "example.tally did not run"
    metrics = s.get("/metrics", admin=True).text
    assert "# TYPE anfu_example_notes gauge" in metrics
    assert re.search(r"^anfu_example_notes %d$" % want, metrics, re.M), metrics


# ---- nothing outside src/example/ names it but one line --------------------

# What names the module: its symbols, tables, path, section, routes, option.
NAMES = re.compile(r"anfu_example|example_note|src/example|example_module|/example/"
                   r"|\[example\]|\['example'|example\.tally|example\.max_chars|exn_")

# Outside src/example/, the only files allowed to name it, and how many
# lines of each may: the list line, the build option that turns it on, the
# builds of `make test` that set it, this test, and the prose of the
# checklist that uses it as its example.
ALLOWED = {
    "meson.build": 1,
    "meson_options.txt": 1,
    "scripts/test.sh": None,
    "tests/api/test_example_module.py": None,
    "docs/architecture.md": None,
}


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [f for f in out.decode().split("\0") if f]


def test_nothing_outside_its_folder_names_it_but_the_list_line():
    found = {}
    for rel in tracked_files():
        if rel.startswith("src/example/") or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
            lines = [l for l in f if NAMES.search(l)]
        if lines:
            found[rel] = lines
    extra = {f: l for f, l in found.items() if f not in ALLOWED}
    assert not extra, "files outside src/example/ that name the example module: %s" % extra
    for f, cap in ALLOWED.items():
        if cap is not None:
            assert len(found.get(f, [])) == cap, (f, found.get(f))
    # The one line of the module list.
    assert [l.strip() for l in found["meson.build"]] == \
        ["['example', get_option('example_module')],"]
    # And the check sees what it looks for: the folder itself names it.
    assert any(NAMES.search(open(os.path.join(ROOT, "src/example", f), encoding="utf-8").read())
               for f in os.listdir(os.path.join(ROOT, "src/example")) if f.endswith(".c"))
