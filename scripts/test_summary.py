#!/usr/bin/python3
"""Counts test results of scripts/test.sh and prints "N passed, N failed".

Sources, per build directory: meson's testlog.json (one entry per test
executable), the cmocka JUnit files in tests/unit/junit/ (one entry per
test case; they replace their executable's single meson entry), and
pytest's pytest-junit.xml. A test executable that failed without a failing
case in its JUnit file (a crash, a sanitizer report) counts as one failure.
Exit status: 0 when nothing failed.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET


def junit_counts(path):
    """(passed, failed, skipped) of one JUnit XML file."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return 0, 1, 0
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def build_counts(build):
    passed = failed = 0
    log = os.path.join(build, "meson-logs", "testlog.json")
    junit_dir = os.path.join(build, "tests", "unit", "junit")
    if not os.path.exists(log):
        return 0, 1  # the suite did not run at all
    with open(log, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            ok = t.get("result") in ("OK", "EXPECTEDFAIL")
            skip = t.get("result") == "SKIP"
            short = t["name"].split(" / ")[-1]
            xml = os.path.join(junit_dir, short + ".xml")
            if os.path.exists(xml):
                p, fl, _ = junit_counts(xml)
                passed += p
                failed += fl
                if not ok and fl == 0:
                    failed += 1
            elif ok:
                passed += 1
            elif not skip:
                failed += 1
    py = os.path.join(build, "pytest-junit.xml")
    if os.path.exists(py):
        p, fl, _ = junit_counts(py)
        passed += p
        failed += fl
    else:
        failed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builds", nargs="+")
    ap.add_argument("--extra-failures", type=int, default=0)
    a = ap.parse_args()
    passed = failed = 0
    for b in a.builds:
        p, f = build_counts(b)
        print("%s: %d passed, %d failed" % (b, p, f))
        passed += p
        failed += f
    # A stage that failed without a counted test failure (a build break).
    if failed == 0 and a.extra_failures:
        failed = a.extra_failures
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
