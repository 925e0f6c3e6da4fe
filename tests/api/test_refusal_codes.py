"""Refusal codes are constants declared once and checked against the error
table (docs/architecture.md, "Refusal codes").

src/base/refusal.h declares every stable refusal code a service hands its
caller; the JSON decoder (base/json.h, ANFU_JERR_*) and the HTTP layer
(http/internal.h, ANFU_HTTP_CODE_*) declare theirs. These tests read the
sources: every declared code has its row in http/errors.c's table, every
row's code is declared, and no C file spells a declared code as a bare
string literal (a typo there would be a code the table does not know,
answered with the generic message of its status).
"""
import os
import re

from conftest import ROOT

SRC = os.path.join(ROOT, "src")
DECL = re.compile(r'^#define\s+(ANFU_[A-Z0-9_]+)\s+"([a-z0-9_]+)"', re.M)
HEADERS = {
    "base/refusal.h": None,  # every define in it is a refusal code
    "base/json.h": "ANFU_JERR_",
    "http/internal.h": "ANFU_HTTP_CODE_",
}
# Words that are a code and, in one file, something else: (file, word,
# why). Keep this short; a code is never allowed here.
ALLOWED = {
    ("src/iam/status.c", "locked"): "the account state stored in iam_user.status",
    ("src/iam/status.c", "expired"): "the account state stored in iam_user.status",
    ("src/ledger/states.c", "expired"): "the hold state stored in ledger_hold.state",
    ("src/iam/review.c", "expired"): "the account review report's key for expired accounts",
    ("src/wallet/api/transfers.c", "replayed"): "the transfer answer's flag for an idempotent replay",
}
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
COMMENT = re.compile(r"/\*.*?\*/", re.S)


def declared():
    """{constant name: code} of every declared refusal code."""
    out = {}
    for rel, prefix in HEADERS.items():
        with open(os.path.join(SRC, rel), encoding="utf-8") as f:
            for name, code in DECL.findall(f.read()):
                if prefix is None or name.startswith(prefix):
                    out[name] = code
    return out


def table_codes():
    """The code of every row of http/errors.c's table, constants resolved."""
    with open(os.path.join(SRC, "http", "errors.c"), encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("static const struct err_row table[]"):]
    body = body[: body.index("};")]
    names = declared()
    rows = []
    for first in re.findall(r"^\t\{\s*([A-Z0-9_]+|\"[a-z0-9_]+\")\s*,", body, re.M):
        rows.append(first.strip('"') if first.startswith('"') else names.get(first, first))
    return rows


def test_every_declared_code_has_a_row():
    rows = set(table_codes())
    missing = sorted(c for c in declared().values() if c not in rows)
    assert missing == [], f"declared without a row in http/errors.c: {missing}"


def test_every_row_code_is_declared_and_the_table_names_constants():
    codes = set(declared().values())
    rows = table_codes()
    assert len(rows) >= 60
    assert len(rows) == len(set(rows)), "a code has two rows"
    undeclared = sorted(r for r in rows if r not in codes)
    assert undeclared == [], f"rows whose code no header declares: {undeclared}"
    with open(os.path.join(SRC, "http", "errors.c"), encoding="utf-8") as f:
        text = f.read()
    bare = re.findall(r'^\s*\{\s*"([a-z0-9_]+)"\s*,', text, re.M)
    assert bare == [], f"rows spelling their code instead of its constant: {bare}"


def bare_literals(text, codes):
    """(line number, code) of every string literal in C text (comments
    left out) equal to a declared code."""
    code = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found = []
    for no, line in enumerate(code.splitlines(), 1):
        for s in STRING.findall(line):
            if s in codes:
                found.append((no, s))
    return found


def test_no_source_file_spells_a_code():
    codes = set(declared().values())
    decl_files = {os.path.join(SRC, rel) for rel in HEADERS}
    found = []
    for top, dirs, files in os.walk(SRC):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            if not name.endswith((".c", ".h")) or path in decl_files:
                continue
            rel = os.path.relpath(path, ROOT)
            with open(path, encoding="utf-8") as f:
                for no, s in bare_literals(f.read(), codes):
                    if (rel, s) in ALLOWED:
                        continue
                    found.append(f"{rel}:{no}: \"{s}\"")
    assert found == [], "codes spelled as strings:\n" + "\n".join(found)


def test_the_scan_finds_a_bare_code():
    """The scan above is not vacuous: it finds a spelled code, and not one
    in a comment."""
    codes = set(declared().values())
    assert "step_up_required" in codes
    text = 'a();\n/* "step_up_required" */\niam_err_set(err, "step_up_required", NULL);\n'
    assert bare_literals(text, codes) == [(3, "step_up_required")]
