"""The mutation suite's manifests (tests/mutants/*.toml) stay runnable.

`make mutate` is not part of `make test` (it rebuilds once per mutant), so
this checks on every run what would otherwise rot unnoticed: each mutant's
`find` text still occurs exactly once in its file, and every test it names
exists (a meson test of this build, a pytest file and test function).
docs/testing.md describes the suite.
"""
import importlib.util
import os
import re
import subprocess

from conftest import BUILD, ROOT

_spec = importlib.util.spec_from_file_location("mutate", os.path.join(ROOT, "scripts",
                                                                      "mutate.py"))
mutate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutate)

# The issue that created the suite asks for at least this many.
MIN_MUTANTS = 40


def meson_tests():
    p = subprocess.run(["meson", "test", "-C", BUILD, "--list", "--no-rebuild"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    # Lines look like "anfu:unit / iam" (project:suite / name).
    return {line.rsplit(" / ", 1)[-1].strip() for line in p.stdout.splitlines() if line}


def api_test_exists(spec):
    path, _, node = spec.partition("::")
    full = os.path.join(ROOT, path)
    if not os.path.isfile(full):
        return False
    if not node:
        return True
    func = node.split("::")[-1].split("[")[0]
    with open(full, encoding="utf-8") as f:
        return re.search(r"^\s*def %s\(" % re.escape(func), f.read(), re.M) is not None


def test_every_mutant_applies_and_names_existing_tests():
    mutants = mutate.load(ROOT)  # raises on a missing or non-unique `find`
    assert len(mutants) >= MIN_MUTANTS, len(mutants)
    units = meson_tests()
    bad = []
    for m in mutants:
        for t in m["tests"]:
            kind, what = t.split(":", 1)
            # api-pg: the same API test, run with every server on PostgreSQL.
            ok = what in units if kind == "unit" else api_test_exists(what)
            if not ok:
                bad.append("%s (%s): no test %s" % (m["name"], m["manifest"], t))
    assert not bad, "\n".join(bad)


def test_manifest_errors_are_reported(tmp_path):
    """The loader refuses a mutant whose text is not found exactly once, so
    a manifest cannot silently stop breaking anything."""
    (tmp_path / "tests" / "mutants").mkdir(parents=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.c").write_text("x >= 1;\nx >= 1;\ny > 2;\n")
    entry = ('[[mutant]]\nname = "m"\nrule = "r"\nfile = "src/a.c"\nfind = "%s"\n'
             'replace = "z"\ntests = ["unit:a"]\n')
    for find, message in (("x >= 1;", "occurs 2 times"), ("q", "occurs 0 times")):
        (tmp_path / "tests" / "mutants" / "a.toml").write_text(entry % find)
        try:
            mutate.load(str(tmp_path))
        except mutate.ManifestError as e:
            assert message in str(e), str(e)
        else:
            raise AssertionError("load() accepted a find text that %s" % message)
    (tmp_path / "tests" / "mutants" / "a.toml").write_text(entry % "y > 2;")
    assert [m["name"] for m in mutate.load(str(tmp_path))] == ["m"]
