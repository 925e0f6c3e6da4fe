#!/usr/bin/python3
"""Counts the results of scripts/test.sh; prints the failures, then
"N passed, N failed" (", N skipped" and ", N xfailed" when there are any).

Usage:
  test_summary.py --clean BUILD...      delete BUILD's result files (test.sh
                                        does this before building BUILD)
  test_summary.py [--stage NAME=RC]... [--build-only BUILD]... [--pg-api BUILD]...
                  BUILD...

Sources, per test build directory BUILD, all written by this run of
scripts/test.sh (see RESULT_FILES; --clean deletes exactly those):
  logs/status                one "<step> <exit status>" line per step run:
                             build (meson setup + ninja), unit (meson test),
                             api (pytest), api-pg (pytest on PostgreSQL)
  meson-logs/testlog.json    one entry per test executable (meson test)
  tests/unit/junit/<t>.xml   one entry per cmocka test case; replaces its
                             executable's single meson entry
  pytest-junit.xml           one entry per pytest test
  pytest-junit-pg.xml        the same for the API suite run a second time
                             on PostgreSQL (ANFU_TEST_BACKEND=postgresql),
                             for each BUILD named by --pg-api

Rules (docs/testing.md):
  - a build whose status file is missing or whose build step failed counts
    0 passed, 1 failed, whatever else lies in its folder;
  - a step that did not run, or whose result file is missing or unreadable,
    is one failure; so is a step that exited non-zero without a counted
    failure (a crash after the last result, a killed run);
  - a unit test executable that failed (crash, sanitizer report, timeout)
    without a failing case in its JUnit file is one more failure; a unit
    executable that passed without writing its JUnit file is a failure;
  - meson "Unexpected Pass" and pytest XPASS (strict) are failures;
  - skipped tests and expected failures are neither passed nor failed;
  - a build named by --pg-api has a fourth step, api-pg, counted like api
    (and likewise a failure when it did not run); its counts are part of
    the build's line and are also shown on a line of their own;
  - --stage NAME=RC with RC != 0 (lint, dependencies) is one failure;
    --build-only BUILD (the production build) is one failure when its
    build step did not succeed.
Exit status: 0 when nothing failed.
"""
import argparse
import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

# Every file a count is made from, relative to a build directory. --clean
# removes these, and nothing counted comes from elsewhere.
STATUS = "logs/status"
TESTLOG = "meson-logs/testlog.json"
JUNIT_DIR = "tests/unit/junit"
PYTEST_XML = "pytest-junit.xml"
PYTEST_PG_XML = "pytest-junit-pg.xml"
RESULT_FILES = (STATUS, TESTLOG, JUNIT_DIR, PYTEST_XML, PYTEST_PG_XML)

# Lines of a failure message printed per failure.
MESSAGE_LINES = 25


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = self.xfailed = 0
        self.failures = []  # (name, message)

    def fail(self, name, message):
        self.failed += 1
        self.failures.append((name, message))

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.xfailed += other.xfailed
        self.failures += other.failures

    def line(self):
        s = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            s += ", %d skipped" % self.skipped
        if self.xfailed:
            s += ", %d xfailed" % self.xfailed
        return s


def clean(build):
    """Deletes the result files of build (before it is built and tested)."""
    for rel in RESULT_FILES:
        p = os.path.join(build, rel)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)


def read_status(build):
    """{step: exit status} from logs/status, or None when it is missing."""
    try:
        with open(os.path.join(build, STATUS), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and re.fullmatch(r"-?\d+", parts[1]):
            out[parts[0]] = int(parts[1])
    return out


def tail(text, n=MESSAGE_LINES):
    lines = (text or "").rstrip("\n").splitlines()
    if len(lines) > n:
        lines = ["[... %d lines before]" % (len(lines) - n)] + lines[-n:]
    return "\n".join(lines)


def head(text, n=MESSAGE_LINES):
    lines = (text or "").rstrip("\n").splitlines()
    if len(lines) > n:
        lines = lines[:n] + ["[... %d more lines]" % (len(lines) - n)]
    return "\n".join(lines)


def file_tail(path, n=MESSAGE_LINES):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return tail(f.read(), n)
    except OSError:
        return "(%s: missing)" % path


def pytest_case_name(case):
    """tests/api/test_x.py::test_y[param] from a pytest JUnit testcase."""
    parts = case.get("classname", "").split(".")
    name = case.get("name", "")
    # classname is the dotted module path, then any test class names.
    for i in range(len(parts), 0, -1):
        path = "/".join(parts[:i]) + ".py"
        if os.path.exists(path):
            return "::".join([path] + parts[i:] + [name])
    return "/".join(parts) + ".py::" + name


def junit_counts(path, label, namer):
    """Counts of one JUnit XML file; a missing or unreadable file is one
    failure named label."""
    c = Counts()
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        c.fail(label, "result file %s missing or unreadable: %s" % (path, e))
        return c
    for case in root.iter("testcase"):
        bad = [e for e in case if e.tag in ("failure", "error")]
        skip = case.find("skipped")
        if bad:
            msg = "\n".join(filter(None, [(b.get("message") or "") + "\n" + (b.text or "")
                                          for b in bad]))
            c.fail(namer(case), msg.strip())
        elif skip is not None and skip.get("type") == "pytest.xfail":
            c.xfailed += 1
        elif skip is not None:
            c.skipped += 1
        else:
            c.passed += 1
    return c


def unit_counts(build, rc):
    """Counts of meson test: testlog.json plus the cmocka JUnit files."""
    c = Counts()
    log = os.path.join(build, TESTLOG)
    junit_dir = os.path.join(build, JUNIT_DIR)
    try:
        with open(log, encoding="utf-8") as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        c.fail("%s unit" % build, "meson test left no readable %s (%s); exit status %s; "
               "see %s/logs/meson-test.log" % (log, e, rc, build))
        return c
    for t in entries:
        name = t.get("name", "?")
        short = name.split(" / ")[-1]
        result = t.get("result")
        ok = result in ("OK", "EXPECTEDFAIL")
        label = "%s %s" % (build, name)
        why = "meson result %s, exit status %s; output:\n%s" % (
            result, t.get("returncode"), tail(t.get("stdout", "")))
        xml = os.path.join(junit_dir, short + ".xml")
        is_unit = name.split(" / ")[0].endswith(":unit")
        if os.path.exists(xml):
            cases = junit_counts(xml, label, lambda case, s=short: "%s unit/%s %s" % (
                build, s, case.get("name", "?")))
            c.add(cases)
            if not ok and cases.failed == 0:
                c.fail(label, "the executable failed after its cases passed: " + why)
        elif result == "SKIP":
            c.skipped += 1
        elif ok and is_unit:
            c.fail(label, "passed without writing its JUnit file %s" % xml)
        elif ok:
            c.passed += 1
        else:
            c.fail(label, why)
    if rc != 0 and c.failed == 0:
        c.fail("%s unit" % build, "meson test exited %s without a failed test; see "
               "%s/logs/meson-test.log" % (rc, build))
    return c


def api_counts(build, rc, step="api", xml=PYTEST_XML):
    path = os.path.join(build, xml)
    c = junit_counts(path, "%s %s" % (build, step),
                     lambda case: "%s %s %s" % (build, step, pytest_case_name(case)))
    if rc != 0 and c.failed == 0:
        c.fail("%s %s" % (build, step), "pytest exited %s without a failed test (5: nothing "
               "collected; 124: killed by timeout)" % rc)
    return c


def api_pg_counts(build, rc):
    return api_counts(build, rc, "api-pg", PYTEST_PG_XML)


def build_counts(build, pg_api=False, parts=None):
    """Counts of one test build: a failed build is 0 passed, 1 failed.
    pg_api: the build has the api-pg step too; its own counts then go
    into parts["api-pg"] as well."""
    c = Counts()
    status = read_status(build)
    if status is None:
        c.fail("%s build" % build, "no %s/%s: this run did not build it" % (build, STATUS))
        return c
    if status.get("build") != 0:
        c.fail("%s build" % build, "the build failed (exit status %s); last lines of "
               "%s/logs/ninja.log:\n%s" % (status.get("build"), build,
                                           file_tail(os.path.join(build, "logs", "ninja.log"))))
        return c
    steps = [("unit", unit_counts), ("api", api_counts)]
    if pg_api:
        steps.append(("api-pg", api_pg_counts))
    for step, counter in steps:
        if step not in status:
            one = Counts()
            one.fail("%s %s" % (build, step), "the %s step did not run" % step)
        else:
            one = counter(build, status[step])
        if parts is not None:
            parts[step] = one
        c.add(one)
    return c


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("builds", nargs="*")
    ap.add_argument("--clean", action="store_true")
    ap.add_argument("--stage", action="append", default=[], metavar="NAME=RC")
    ap.add_argument("--build-only", action="append", default=[], metavar="BUILD")
    ap.add_argument("--pg-api", action="append", default=[], metavar="BUILD")
    a = ap.parse_args(argv)
    if a.clean:
        for b in a.builds:
            clean(b)
        return 0
    total = Counts()
    per_build = []
    for st in a.stage:
        name, _, rc = st.partition("=")
        if rc != "0":
            total.fail(name, "stage %s failed (exit status %s)" % (name, rc or "?"))
    for b in a.build_only:
        status = read_status(b) or {}
        if status.get("build") != 0:
            total.fail("%s build" % b, "the build failed or did not run; last lines of "
                       "%s/logs/ninja.log:\n%s" % (b, file_tail(os.path.join(b, "logs",
                                                                             "ninja.log"))))
    for b in a.builds:
        parts = {}
        c = build_counts(b, b in a.pg_api, parts)
        per_build.append((b, c))
        if "api-pg" in parts:
            per_build.append(("%s, API on PostgreSQL (included above)" % b, parts["api-pg"]))
        total.add(c)
    if total.failures:
        print("failures (%d):" % len(total.failures))
        for name, msg in total.failures:
            print("FAIL %s" % name)
            for line in head(msg).splitlines():
                print("    " + line)
    for b, c in per_build:
        print("%s: %s" % (b, c.line()))
    print(total.line())
    return 0 if total.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
