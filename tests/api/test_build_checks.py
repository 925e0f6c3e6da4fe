"""The checks the build runs on the source (they fail ninja): the include
rules of DESIGN.md (scripts/lint-includes.py) and each module's migration
sequence (scripts/embed_migrations.py), each seen refusing a scratch file
that breaks it, and the module list generator. The build wires them in:
the lint is a build-by-default target, the migration tables are generated
by the embed script.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import BUILD, ROOT

LINT = os.path.join(ROOT, "scripts", "lint-includes.py")
EMBED = os.path.join(ROOT, "scripts", "embed_migrations.py")
GEN_MODULES = os.path.join(ROOT, "scripts", "gen_modules.py")


def lint(root):
    return subprocess.run([sys.executable, LINT, "--root", str(root)], capture_output=True,
                          text=True, timeout=120)


def scratch(tmp_path, rel, text):
    """A source tree holding one file rel with text."""
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return tmp_path


def test_the_tree_keeps_every_include_rule():
    p = lint(ROOT)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


# (file, include, rule): each breaks one rule of DESIGN.md.
REFUSED = [
    ("src/iam/x.c", "<openssl/evp.h>", "crypto"),
    ("src/api/x.c", "<sodium.h>", "crypto"),
    ("src/keys/x.c", "<gcrypt.h>", "crypto"),
    ("src/iam/x.c", "<liboath/oath.h>", "crypto"),
    ("src/iam/x.c", "<sqlite3.h>", "store"),
    ("src/audit/x.c", "<libpq-fe.h>", "store"),
    ("src/api/x.c", "<microhttpd.h>", "http"),
    ("src/iam/api/x.c", "<gnutls/gnutls.h>", "http"),
    ("src/iam/x.c", "<gd.h>", "image"),
    ("src/iam/x.c", "<qrencode.h>", "image"),
    ("src/iam/x.c", '"http/http.h"', "layers"),
    ("src/iam/x.c", '"api/api.h"', "layers"),
    ("src/iam/api/x.c", '"http/internal.h"', "layers"),
    ("src/audit/x.c", '"http/http.h"', "layers"),
    ("src/http/x.c", '"api/api.h"', "layers"),
    ("src/iam/x.c", '"app/app.h"', "app"),
    ("src/api/x.c", '"app/app.h"', "app"),
    ("src/iam/api/x.c", '"app/app.h"', "app"),
    ("src/wallet/api/x.c", '"iam/api/handlers.h"', "svc-api"),
]


@pytest.mark.parametrize("rel,include,rule", REFUSED)
def test_the_lint_refuses_an_include_naming_file_line_and_rule(tmp_path, rel, include, rule):
    root = scratch(tmp_path, rel, "/* scratch */\n#include %s\n" % include)
    p = lint(root)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].startswith("%s:2: %s: %s: " % (rel, include, rule)), p.stderr
    assert lines[-1].startswith("lint-includes: 1 include rule violation(s)")


# (file, include): where each of those includes belongs.
ACCEPTED = [
    ("src/crypto/x.c", "<openssl/evp.h>"),
    ("src/crypto/x.c", "<liboath/oath.h>"),
    ("src/store/x.c", "<sqlite3.h>"),
    ("src/http/x.c", "<microhttpd.h>"),
    ("src/http/x.c", "<gnutls/gnutls.h>"),
    ("src/image/x.c", "<gd.h>"),
    ("src/iam/api/x.c", '"http/http.h"'),
    ("src/iam/api/x.c", '"api/api.h"'),
    ("src/iam/api/x.c", '"api/module.h"'),
    ("src/api/x.c", '"http/http.h"'),
    ("src/daemon/x.c", '"app/app.h"'),
    ("src/cli/x.c", '"app/app.h"'),
    ("src/app/x.c", '"iam/api/module.h"'),
    ("src/iam/x.c", '"iam/internal.h"'),
]


@pytest.mark.parametrize("rel,include", ACCEPTED)
def test_the_lint_accepts_an_include_where_it_belongs(tmp_path, rel, include):
    p = lint(scratch(tmp_path, rel, "#include %s\n" % include))
    assert p.returncode == 0, p.stderr


def test_the_lint_has_a_place_for_text_rules(tmp_path):
    """TEXT_RULES: a regular expression, where it may appear, why (e.g. no
    begin/commit outside src/tx/ and src/store/)."""
    spec = importlib.util.spec_from_file_location("lint_includes", LINT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.TEXT_RULES.append(("no-begin", re.compile(r"\banfu_db_begin\("), {"store", "tx"},
                           "only src/tx/ and src/store/ begin transactions"))
    scratch(tmp_path, "src/iam/x.c", "int f(void)\n{\n\treturn anfu_db_begin(db);\n}\n")
    scratch(tmp_path, "src/tx/y.c", "int g(void)\n{\n\treturn anfu_db_begin(db);\n}\n")
    assert mod.lint_file(str(tmp_path), "src/iam/x.c") == [
        "src/iam/x.c:3: no-begin: only src/tx/ and src/store/ begin transactions"]
    assert mod.lint_file(str(tmp_path), "src/tx/y.c") == []


def test_the_lint_is_a_build_by_default_step_of_the_build():
    targets = json.loads(subprocess.run(["meson", "introspect", "--targets", BUILD],
                                        capture_output=True, text=True, check=True).stdout)
    lint_targets = [t for t in targets if t["name"] == "lint_includes"]
    assert len(lint_targets) == 1
    assert lint_targets[0]["build_by_default"] is True
    assert LINT in lint_targets[0]["target_sources"][0]["parameters"] + \
        lint_targets[0]["target_sources"][0]["sources"]


# ---- each module's migration sequence ---------------------------------------

def embed(folder, *names, module="m"):
    out = folder / "out.c"
    return subprocess.run([sys.executable, EMBED, module, str(folder), str(out)]
                          + [str(folder / n) for n in names],
                          capture_output=True, text=True, timeout=60), out


def migrations(tmp_path, *names):
    for n in names:
        (tmp_path / n).write_text("CREATE TABLE t_%s (x INTEGER);\n" % n.split("_")[0])
    return tmp_path


def test_a_contiguous_sequence_compiles_into_the_modules_table(tmp_path):
    folder = migrations(tmp_path, "0001_a.sql", "0002_b.sql", "0002_b.sqlite.sql")
    p, out = embed(folder, "0001_a.sql", "0002_b.sql", "0002_b.sqlite.sql")
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "const struct anfu_migration_set anfu_m_migrations = {" in text
    assert '{ "m", 1, "a",' in text and '{ "m", 2, "b",' in text
    assert '"m", migrations, 2,' in text


def test_a_gap_in_a_modules_sequence_fails_the_build(tmp_path):
    folder = migrations(tmp_path, "0001_a.sql", "0003_c.sql")
    p, out = embed(folder, "0001_a.sql", "0003_c.sql")
    assert p.returncode == 1
    assert "module m: migration versions must be contiguous from 1: [1, 3]" in p.stderr
    assert not out.exists()


def test_a_sequence_not_starting_at_1_fails_the_build(tmp_path):
    folder = migrations(tmp_path, "0002_b.sql")
    p, _ = embed(folder, "0002_b.sql")
    assert p.returncode == 1
    assert "contiguous from 1: [2]" in p.stderr


def test_a_migration_file_left_out_of_the_list_fails_the_build(tmp_path):
    folder = migrations(tmp_path, "0001_a.sql", "0002_b.sql")
    p, _ = embed(folder, "0001_a.sql")
    assert p.returncode == 1
    assert "module m: 0002_b.sql not listed in its meson.build" in p.stderr


def test_a_version_with_two_names_fails_the_build(tmp_path):
    folder = migrations(tmp_path, "0001_a.sql", "0001_b.sqlite.sql")
    p, _ = embed(folder, "0001_a.sql", "0001_b.sqlite.sql")
    assert p.returncode == 1 and "module m: migration 1 has two names: a, b" in p.stderr


def test_a_version_without_a_portable_part_fails_the_build(tmp_path):
    folder = migrations(tmp_path, "0001_a.sqlite.sql")
    p, _ = embed(folder, "0001_a.sqlite.sql")
    assert p.returncode == 1 and "module m: migration 1 has no portable part" in p.stderr


def test_the_module_list_generator_refuses_a_module_listed_twice(tmp_path):
    out = tmp_path / "m.c"
    p = subprocess.run([sys.executable, GEN_MODULES, str(out), "iam", "iam"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "listed twice" in p.stderr
    p = subprocess.run([sys.executable, GEN_MODULES, str(out), "iam", "ledger"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "&anfu_core_module,\n\t&anfu_notify_module,\n\t&anfu_iam_module,\n" \
           "\t&anfu_ledger_module," in text
    assert "anfu_app_nmodules = 4;" in text
