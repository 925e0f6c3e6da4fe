"""scripts/test_summary.py, the counter behind `make test`'s closing line,
on fabricated build folders: a count can come only from this run's result
files, and anything that did not visibly pass is a failure.

The rules are listed in docs/testing.md and in the script's docstring.
"""
import json
import os
import subprocess
import sys

from conftest import ROOT

SUMMARY = os.path.join(ROOT, "scripts", "test_summary.py")

PASSING_CASES = """<?xml version="1.0" encoding="UTF-8" ?>
<testsuites>
  <testsuite name="clock" tests="3" failures="0" errors="0" skipped="0" >
    <testcase name="test_a" time="0.000" ></testcase>
    <testcase name="test_b" time="0.000" ></testcase>
    <testcase name="test_c" time="0.000" ></testcase>
  </testsuite>
</testsuites>
"""


def pytest_xml(passed=0, failed=0, skipped=0, xfailed=0):
    cases = []
    for i in range(passed):
        cases.append('<testcase classname="tests.api.test_x" name="test_ok%d"/>' % i)
    for i in range(failed):
        cases.append('<testcase classname="tests.api.test_x" name="test_bad%d">'
                     '<failure message="AssertionError: boom %d">trace</failure></testcase>'
                     % (i, i))
    for i in range(skipped):
        cases.append('<testcase classname="tests.api.test_x" name="test_skip%d">'
                     '<skipped type="pytest.skip" message="why"/></testcase>' % i)
    for i in range(xfailed):
        cases.append('<testcase classname="tests.api.test_x" name="test_xf%d">'
                     '<skipped type="pytest.xfail" message="known"/></testcase>' % i)
    return ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">%s'
            '</testsuite></testsuites>' % "".join(cases))


def fabricate(build, status=None, unit=(("unit / clock", "OK"),), junit=None, api=None,
              api_pg=None):
    """A build folder as scripts/test.sh leaves it. status: {step: rc};
    unit: (meson name, result) entries of testlog.json; junit: {short
    name: XML text}; api, api_pg: pytest JUnit text of the API suite on
    SQLite and on PostgreSQL (None: no file)."""
    os.makedirs(os.path.join(build, "logs"), exist_ok=True)
    os.makedirs(os.path.join(build, "meson-logs"), exist_ok=True)
    os.makedirs(os.path.join(build, "tests", "unit", "junit"), exist_ok=True)
    if status is not None:
        with open(os.path.join(build, "logs", "status"), "w") as f:
            for step, rc in status.items():
                f.write("%s %d\n" % (step, rc))
    with open(os.path.join(build, "logs", "ninja.log"), "w") as f:
        f.write("src/base/str.c:1:1: error: expected ';'\nninja: build stopped\n")
    with open(os.path.join(build, "meson-logs", "testlog.json"), "w") as f:
        for name, result in unit:
            f.write(json.dumps({"name": "anfu:" + name, "result": result,
                                "returncode": 0 if result == "OK" else 1,
                                "stdout": "output of %s\n" % name}) + "\n")
    if junit is None:
        junit = {"clock": PASSING_CASES}
    for short, text in junit.items():
        with open(os.path.join(build, "tests", "unit", "junit", short + ".xml"), "w") as f:
            f.write(text)
    if api is not None:
        with open(os.path.join(build, "pytest-junit.xml"), "w") as f:
            f.write(api)
    if api_pg is not None:
        with open(os.path.join(build, "pytest-junit-pg.xml"), "w") as f:
            f.write(api_pg)


def summary(cwd, *args):
    p = subprocess.run([sys.executable, SUMMARY, *args], cwd=str(cwd), capture_output=True,
                       text=True, timeout=60)
    assert p.stderr == "", p.stderr
    lines = p.stdout.splitlines()
    return p.returncode, lines, p.stdout


OK_STATUS = {"build": 0, "unit": 0, "api": 0}


def test_a_clean_run_counts_cases_and_tests(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=4))
    rc, lines, _ = summary(tmp_path, "b")
    assert lines == ["b: 7 passed, 0 failed", "7 passed, 0 failed"]
    assert rc == 0


def test_a_failed_build_counts_zero_passed_one_failed_whatever_lies_there(tmp_path):
    """A compile error: last run's passing result files are still in the
    folder, and count for nothing."""
    fabricate(str(tmp_path / "b"), {"build": 1}, api=pytest_xml(passed=665))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-2:] == ["b: 0 passed, 1 failed", "0 passed, 1 failed"]
    assert "FAIL b build" in lines and "expected ';'" in out
    assert rc == 1


def test_clean_deletes_every_result_file_so_nothing_stale_is_counted(tmp_path):
    """test.sh cleans a build folder before building it: afterwards the
    folder counts as not built, however much passed in it before."""
    b = tmp_path / "b"
    fabricate(str(b), OK_STATUS, api=pytest_xml(passed=9), api_pg=pytest_xml(passed=9))
    rc, _, _ = summary(tmp_path, "--clean", "b")
    assert rc == 0
    for rel in ("logs/status", "meson-logs/testlog.json", "tests/unit/junit",
                "pytest-junit.xml", "pytest-junit-pg.xml"):
        assert not (b / rel).exists(), rel
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-2:] == ["b: 0 passed, 1 failed", "0 passed, 1 failed"]
    assert rc == 1


def test_a_missing_pytest_result_file_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=None)
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-1] == "3 passed, 1 failed" and "FAIL b api" in lines
    assert rc == 1


def test_an_unreadable_pytest_result_file_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=3)[:60])
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-1] == "3 passed, 1 failed"
    assert rc == 1


def test_a_step_that_did_not_run_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 0}, api=pytest_xml(passed=2))
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-1] == "3 passed, 1 failed" and "FAIL b api" in lines
    assert rc == 1


def test_a_step_that_failed_without_a_failed_test_is_a_failure(tmp_path):
    """pytest killed by the timeout (124) after writing a passing file."""
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 0, "api": 124},
              api=pytest_xml(passed=2))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "5 passed, 1 failed" and "pytest exited 124" in out
    assert rc == 1


def test_a_crashing_unit_executable_with_partial_junit_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, unit=[("unit / clock", "FAIL")],
              junit={"clock": PASSING_CASES[:150]}, api=pytest_xml(passed=1))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "1 passed, 1 failed"
    assert "FAIL b anfu:unit / clock" in lines
    assert rc == 1


def test_a_unit_executable_failing_after_its_cases_passed_is_a_failure(tmp_path):
    """Cases passed, then LeakSanitizer failed the process at exit."""
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 1, "api": 0},
              unit=[("unit / clock", "FAIL")], api=pytest_xml(passed=1))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "4 passed, 1 failed"
    assert "output of unit / clock" in out
    assert rc == 1


def test_a_unit_executable_without_its_junit_file_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, junit={}, api=pytest_xml(passed=1))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "1 passed, 1 failed" and "without writing its JUnit file" in out
    assert rc == 1


def test_failing_cases_are_named_with_their_messages_before_the_counts(tmp_path):
    bad_unit = PASSING_CASES.replace(
        '<testcase name="test_b" time="0.000" ></testcase>',
        '<testcase name="test_b" time="0.000" ><failure><![CDATA[0x1 != 0x2 at '
        'test_clock.c:40]]></failure></testcase>')
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 1, "api": 1},
              unit=[("unit / clock", "FAIL")], junit={"clock": bad_unit},
              api=pytest_xml(passed=1, failed=1))
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "3 passed, 2 failed"
    assert "FAIL b unit/clock test_b" in lines
    assert "FAIL b api tests/api/test_x.py::test_bad0" in lines
    assert "0x1 != 0x2 at test_clock.c:40" in out and "AssertionError: boom 0" in out
    assert out.index("FAIL b api") < out.index("3 passed, 2 failed")
    assert rc == 1


def test_meson_unexpected_pass_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 1, "api": 0},
              unit=[("unit / clock", "OK"), ("fuzz / fuzz_json", "UNEXPECTEDPASS")],
              api=pytest_xml(passed=1))
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-1] == "4 passed, 1 failed" and "FAIL b anfu:fuzz / fuzz_json" in lines
    assert rc == 1


def test_skips_and_expected_failures_are_shown_and_not_passes(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=1, skipped=2, xfailed=1))
    rc, lines, _ = summary(tmp_path, "b")
    assert lines[-1] == "4 passed, 0 failed, 2 skipped, 1 xfailed"
    assert rc == 0


def test_a_failed_stage_and_a_failed_production_build_are_failures(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=1))
    fabricate(str(tmp_path / "prod"), {"build": 2})
    rc, lines, _ = summary(tmp_path, "--stage", "lint=1", "--stage", "deps=0",
                           "--build-only", "prod", "b")
    assert lines[-1] == "4 passed, 2 failed"
    assert "FAIL lint" in lines and "FAIL prod build" in lines
    assert rc == 1


def test_totals_add_up_over_builds(tmp_path):
    fabricate(str(tmp_path / "b1"), OK_STATUS, api=pytest_xml(passed=2))
    fabricate(str(tmp_path / "b2"), {"build": 1})
    rc, lines, _ = summary(tmp_path, "b1", "b2")
    assert lines[-3:] == ["b1: 5 passed, 0 failed", "b2: 0 passed, 1 failed",
                          "5 passed, 1 failed"]
    assert rc == 1


PG_STATUS = {"build": 0, "unit": 0, "api": 0, "api-pg": 0}


def test_the_api_suite_on_postgresql_adds_its_counts_and_shows_them(tmp_path):
    """--pg-api: the second API run's results are part of the build's and
    the total's counts, its skips included, and have a line of their own."""
    fabricate(str(tmp_path / "b"), PG_STATUS, api=pytest_xml(passed=4),
              api_pg=pytest_xml(passed=2, skipped=1))
    rc, lines, _ = summary(tmp_path, "--pg-api", "b", "b")
    assert lines == ["b: 9 passed, 0 failed, 1 skipped",
                     "b, API on PostgreSQL (included above): 2 passed, 0 failed, 1 skipped",
                     "9 passed, 0 failed, 1 skipped"]
    assert rc == 0


def test_a_failure_on_postgresql_is_named_as_such(tmp_path):
    fabricate(str(tmp_path / "b"), dict(PG_STATUS, **{"api-pg": 1}), api=pytest_xml(passed=4),
              api_pg=pytest_xml(passed=1, failed=1))
    rc, lines, out = summary(tmp_path, "--pg-api", "b", "b")
    assert "FAIL b api-pg tests/api/test_x.py::test_bad0" in lines and "boom 0" in out
    assert lines[-1] == "8 passed, 1 failed"
    assert rc == 1


def test_an_api_run_on_postgresql_that_did_not_run_or_left_no_file_is_a_failure(tmp_path):
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=4),
              api_pg=pytest_xml(passed=5))
    rc, lines, out = summary(tmp_path, "--pg-api", "b", "b")
    assert lines[-1] == "7 passed, 1 failed" and "FAIL b api-pg" in lines
    assert "the api-pg step did not run" in out
    assert rc == 1
    fabricate(str(tmp_path / "c"), PG_STATUS, api=pytest_xml(passed=4))
    rc, lines, _ = summary(tmp_path, "--pg-api", "c", "c")
    assert lines[-1] == "7 passed, 1 failed" and "FAIL c api-pg" in lines
    assert rc == 1


def test_without_pg_api_a_build_has_no_postgresql_step(tmp_path):
    """The sanitizer build runs the API suite on SQLite only: no api-pg
    step is asked of it, and a stray result file counts for nothing."""
    fabricate(str(tmp_path / "b"), OK_STATUS, api=pytest_xml(passed=4),
              api_pg=pytest_xml(failed=3))
    rc, lines, _ = summary(tmp_path, "b")
    assert lines == ["b: 7 passed, 0 failed", "7 passed, 0 failed"]
    assert rc == 0


XPASS_TESTS = '''
import pytest

@pytest.mark.xfail(reason="known bug", strict=False)
def test_passes_unexpectedly():
    assert True

@pytest.mark.xfail(reason="known bug")
def test_fails_as_expected():
    assert False
'''


def test_an_unexpected_pass_of_an_expected_failure_is_a_failure(tmp_path):
    """With this suite's conftest.py (loaded as a plugin), a non-strict
    XPASS is written to the JUnit file as a failure."""
    (tmp_path / "test_fab.py").write_text(XPASS_TESTS)
    xml = tmp_path / "b" / "pytest-junit.xml"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-c", os.devnull, "--rootdir", str(tmp_path), "-p", "conftest",
                        "--junitxml", str(xml), str(tmp_path / "test_fab.py")],
                       cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    fabricate(str(tmp_path / "b"), {"build": 0, "unit": 0, "api": p.returncode})
    rc, lines, out = summary(tmp_path, "b")
    assert lines[-1] == "3 passed, 1 failed, 1 xfailed", out
    assert "[XPASS] expected to fail but passed: known bug" in out
    assert rc == 1
