#!/usr/bin/python3
"""`make mutate`: the mutation suite.

Reads every tests/mutants/*.toml. Each [[mutant]] is one small deliberate
breakage of a rule that matters (a threshold, a timeout, a limit, a check):

    name    unique, kebab-case
    rule    the rule it breaks, in words (with requirement IDs)
    file    source file, relative to the repository root
    find    text that occurs exactly once in that file
    replace the broken text
    tests   the tests that must catch it: "unit:<meson test name>",
            "api:<pytest path or node id>" or "api-pg:<the same>" (the API
            test with every server on PostgreSQL, ANFU_TEST_BACKEND)

The runner copies the working tree (tracked and untracked, not ignored
files) to build-mutate/tree, builds it there with test hooks (and the
production build the API tests use), runs every named test once on the
unbroken tree (they must pass: a red baseline proves nothing), then, one
mutant at a time: writes the broken file, rebuilds what its tests need
(the unit test executables it names; both builds when it names an API
test, so a file only the daemon or CLI is built from needs an API test),
runs the mutant's tests until one fails (killed) or all pass (survived),
and restores the file. A mutant that does not compile, or whose `find`
text is missing or not unique, is an error. The run ends with one line

    mutants: N killed, N survived, N errors (kill rate P %)

and exits non-zero unless every mutant was killed. The working tree is
never modified.

Usage: scripts/mutate.py [--only GLOB[,GLOB...]] [--list] [--keep-going]
"""
import argparse
import fnmatch
import glob
import os
import shutil
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build-mutate")
TREE = os.path.join(WORK, "tree")
KEYS = ("name", "rule", "file", "find", "replace", "tests")
TEST_TIMEOUT_S = 1800


class ManifestError(Exception):
    pass


def load(root=ROOT):
    """Every mutant of tests/mutants/*.toml, checked against the tree at root
    (each key present, names unique, `find` exactly once in its file,
    `replace` different, tests well-formed). Raises ManifestError."""
    mutants = []
    names = set()
    files = sorted(glob.glob(os.path.join(root, "tests", "mutants", "*.toml")))
    if not files:
        raise ManifestError("no tests/mutants/*.toml")
    for path in files:
        with open(path, "rb") as f:
            try:
                doc = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise ManifestError("%s: %s" % (path, e)) from e
        extra = set(doc) - {"mutant"}
        if extra:
            raise ManifestError("%s: unknown top-level keys %s" % (path, sorted(extra)))
        for m in doc.get("mutant", []):
            where = "%s: mutant %r" % (os.path.relpath(path, root), m.get("name"))
            missing = [k for k in KEYS if k not in m]
            unknown = sorted(set(m) - set(KEYS))
            if missing or unknown:
                raise ManifestError("%s: missing %s, unknown %s" % (where, missing, unknown))
            if m["name"] in names:
                raise ManifestError("%s: duplicate name" % where)
            names.add(m["name"])
            if m["find"] == m["replace"]:
                raise ManifestError("%s: replace equals find" % where)
            src = os.path.join(root, m["file"])
            if not os.path.isfile(src):
                raise ManifestError("%s: no file %s" % (where, m["file"]))
            with open(src, encoding="utf-8") as f:
                n = f.read().count(m["find"])
            if n != 1:
                raise ManifestError("%s: `find` occurs %d times in %s (must be once)"
                                    % (where, n, m["file"]))
            if not m["tests"] or not all(isinstance(t, str) and t.split(":", 1)[0]
                                         in ("unit", "api", "api-pg") and ":" in t
                                         for t in m["tests"]):
                raise ManifestError("%s: tests must be unit:NAME or api[-pg]:PATH[::NODE]"
                                    % where)
            m["manifest"] = os.path.relpath(path, root)
            mutants.append(m)
    return mutants


def sh(cmd, cwd, env=None, timeout=None):
    """Runs cmd; returns (returncode, combined output)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        return 124, out + "\n(timed out after %ds)" % timeout


def copy_tree():
    """Copies the working tree's files (tracked and untracked, not ignored)
    into TREE, replacing what was there, keeping TREE's build folders."""
    rc, out = sh(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    if rc != 0:
        raise SystemExit("git ls-files failed:\n" + out)
    want = {p for p in out.split("\0") if p and os.path.isfile(os.path.join(ROOT, p))}
    os.makedirs(TREE, exist_ok=True)
    for p in want:
        src, dst = os.path.join(ROOT, p), os.path.join(TREE, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if (not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src)
                or os.path.getsize(dst) != os.path.getsize(src)):
            # A fresh mtime, not the source's: a source edited before the
            # copy's last build would otherwise look older than its
            # objects, and ninja would keep the stale ones.
            shutil.copyfile(src, dst)
            shutil.copymode(src, dst)
    # Files the working tree no longer has must not linger in the copy.
    for dirpath, dirnames, filenames in os.walk(TREE):
        rel = os.path.relpath(dirpath, TREE)
        dirnames[:] = [d for d in dirnames
                       if not (rel == "." and (d.startswith("build") or d in ("var", ".git")))
                       and d not in ("__pycache__", "node_modules")]
        for fn in filenames:
            p = os.path.normpath(os.path.join(rel, fn))
            if p not in want:
                os.unlink(os.path.join(dirpath, fn))


def targets_for(tests):
    """The ninja targets of build-test that tests need, or None for
    everything (API tests run the daemon and CLI of both builds)."""
    if any(t.startswith(("api:", "api-pg:")) for t in tests):
        return None
    return ["tests/unit/test_" + t.split(":", 1)[1] for t in tests]


def build(log, targets=None):
    """Configures (once) and builds the test-hooks and production builds in
    TREE; with targets, only those targets of the test-hooks build (a unit
    test's executable: relinking every binary of both builds would triple
    the time per mutant). Returns True when everything asked for built."""
    for d, opts in (("build-test", ["-Dtest_hooks=true"]),
                    ("build", ["-Dtest_hooks=false", "-Dtests=false"])):
        bd = os.path.join(TREE, d)
        if targets is not None and d != "build-test":
            continue
        if not os.path.exists(os.path.join(bd, "build.ninja")):
            rc, out = sh(["meson", "setup", d, *opts], TREE)
            if rc != 0:
                log.write(out)
                return False
        rc, out = sh(["ninja", "-C", d, *(targets or [])], TREE)
        if rc != 0:
            log.write(out)
            return False
    return True


def run_test(t, log):
    """Runs one test entry in TREE; True when it passed."""
    kind, what = t.split(":", 1)
    env = dict(os.environ)
    env["ANFU_BUILD_DIR"] = os.path.join(TREE, "build-test")
    env["ANFU_PROD_BUILD_DIR"] = os.path.join(TREE, "build")
    if kind == "api-pg":
        env["ANFU_TEST_BACKEND"] = "postgresql"
    if kind == "unit":
        cmd = ["meson", "test", "-C", "build-test", "--no-rebuild", "--print-errorlogs", what]
    else:
        cmd = ["pytest-3", "-q", "-x", "-p", "no:cacheprovider", what]
    rc, out = sh(cmd, TREE, env=env, timeout=TEST_TIMEOUT_S)
    log.write("$ %s\n%s\n" % (" ".join(cmd), out))
    return rc == 0


def start_pg_cluster():
    """The PostgreSQL variants of the unit tests need a server (they skip,
    and a mutant of a PostgreSQL rule would survive, without one): unless
    ANFU_TEST_PG_DSN names one, start a throwaway cluster as scripts/test.sh
    does. Returns the function that stops it."""
    if os.environ.get("ANFU_TEST_PG_DSN"):
        return lambda: None
    d = os.path.join(WORK, "pg")
    script = os.path.join(ROOT, "scripts", "pg-cluster.sh")
    p = subprocess.run([script, "start", d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if p.returncode != 0:
        print("mutate: no PostgreSQL cluster (%s): PostgreSQL cases will skip"
              % p.stdout.strip().splitlines()[-1:])
        return lambda: None
    port = [ln.split("=", 1)[1] for ln in p.stdout.splitlines() if ln.startswith("PGPORT=")][0]
    os.environ["ANFU_TEST_PG_DSN"] = "host=%s port=%s user=anfu dbname=anfu" % (d, port)
    return lambda: subprocess.run([script, "stop", d], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="run only mutants whose name matches this glob (several: "
                    "comma-separated)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every test of a mutant even after one failed")
    a = ap.parse_args()
    try:
        mutants = load()
    except ManifestError as e:
        print("mutate: " + str(e), file=sys.stderr)
        return 2
    if a.only:
        globs = [g.strip() for g in a.only.split(",") if g.strip()]
        mutants = [m for m in mutants if any(fnmatch.fnmatch(m["name"], g) for g in globs)]
    if a.list:
        for m in mutants:
            print("%-40s %s" % (m["name"], m["rule"]))
        print("%d mutants" % len(mutants))
        return 0
    if not mutants:
        print("mutate: no mutant matches", file=sys.stderr)
        return 2

    os.makedirs(WORK, exist_ok=True)
    stop_pg = start_pg_cluster()
    try:
        return run_all(a, mutants)
    finally:
        stop_pg()


def run_all(a, mutants):
    """Builds the copy, checks the baseline and runs every mutant."""
    log_path = os.path.join(WORK, "mutate.log")
    log = open(log_path, "w", encoding="utf-8")
    copy_tree()
    print("mutate: %d mutants; log in %s" % (len(mutants), os.path.relpath(log_path, ROOT)))
    if not build(log):
        print("mutate: the unbroken tree does not build (see the log)")
        return 2
    tests = []
    for m in mutants:
        for t in m["tests"]:
            if t not in tests:
                tests.append(t)
    print("baseline: %d tests on the unbroken tree" % len(tests))
    red = [t for t in tests if not run_test(t, log)]
    if red:
        print("mutate: these tests fail on the unbroken tree:\n  " + "\n  ".join(red))
        return 2

    killed, survived, errors = [], [], []
    for i, m in enumerate(mutants, 1):
        path = os.path.join(TREE, m["file"])
        with open(path, encoding="utf-8") as f:
            orig = f.read()
        t0 = time.time()
        log.write("\n==== mutant %s (%s)\n" % (m["name"], m["file"]))
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(orig.replace(m["find"], m["replace"], 1))
            if not build(log, targets_for(m["tests"])):
                verdict, by = "ERROR", "does not compile"
                errors.append(m["name"])
            else:
                failed = []
                for t in m["tests"]:
                    if not run_test(t, log):
                        failed.append(t)
                        if not a.keep_going:
                            break
                if failed:
                    verdict, by = "killed", "by " + failed[0]
                    killed.append(m["name"])
                else:
                    verdict, by = "SURVIVED", "all of %s passed" % ", ".join(m["tests"])
                    survived.append(m["name"])
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(orig)
            # The restored file must be older than nothing ninja has built
            # from the broken one, or the next build would skip it.
            os.utime(path, None)
        print("[%d/%d] %-8s %-40s %s (%.0fs)" % (i, len(mutants), verdict, m["name"], by,
                                                 time.time() - t0))
        sys.stdout.flush()
    build(log)
    log.close()
    n = len(mutants)
    print("\nmutants: %d killed, %d survived, %d errors (kill rate %.1f %%)"
          % (len(killed), len(survived), len(errors), 100.0 * len(killed) / n))
    for name in survived:
        print("  survived: " + name)
    for name in errors:
        print("  error: " + name)
    return 0 if len(killed) == n else 1


if __name__ == "__main__":
    sys.exit(main())
