"""The documents stay true: docs/openapi.yaml is a valid OpenAPI 3.1
document (Redocly CLI's recommended rules, pinned in tools/openapi/) that
lists exactly the routes of the production build with their access classes
and permissions, the production build has no test hooks, and the option
reference of docs/configuration.md and etc/anfu.conf.example are what the
production build's option tables generate.
"""
import json
import os
import re
import subprocess

import pytest
import yaml

from conftest import PROD_BUILD, ROOT, ensure_prod_build, run_anfu, run_cli

OPENAPI = os.path.join(ROOT, "docs", "openapi.yaml")
LINTER_DIR = os.path.join(ROOT, "tools", "openapi")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def parse_routes(text):
    """Rows (METHOD, path, access, permission) of `anfu routes` output."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split()
        assert len(fields) == 4, "unexpected `anfu routes` line: %r" % line
        rows.append(tuple(fields))
    assert rows, "`anfu routes` printed no routes"
    return rows


def routes():
    return parse_routes(run_cli("routes").stdout)


def contract_routes():
    """The routes the contract covers: the production build's (a test build
    also has test hooks and the modules built for tests only, such as the
    example module), test hooks left out all the same."""
    prod = os.path.join(ensure_prod_build(), "anfu")
    return [r for r in parse_routes(run_anfu([prod, "routes"], check=True).stdout)
            if not r[1].startswith("/test/")]


def load_spec():
    with open(OPENAPI, encoding="utf-8") as f:
        return yaml.safe_load(f)


def operations(spec):
    """(METHOD, path, operation) of every operation in the document."""
    return [(m.upper(), p, op) for p, item in spec["paths"].items()
            for m, op in item.items() if m in METHODS]


def template(path):
    """A path with its template variables' names dropped: /a/{id} -> /a/{}."""
    return re.sub(r"\{[^}/]*\}", "{}", path)


def parity_problems(built, documented):
    """Lines naming every (METHOD, path) that is on one side only, or []."""
    b = {(m, template(p)): p for m, p in built}
    d = {(m, template(p)): p for m, p in documented}
    lines = []
    missing = sorted(set(b) - set(d))
    extra = sorted(set(d) - set(b))
    if missing:
        lines.append("routes of `anfu routes` missing from docs/openapi.yaml:")
        lines += ["  %s %s" % (m, b[(m, t)]) for m, t in missing]
    if extra:
        lines.append("operations in docs/openapi.yaml that `anfu routes` does not have:")
        lines += ["  %s %s" % (m, d[(m, t)]) for m, t in extra]
    return lines


def test_parity_report_names_both_sides():
    """The parity check itself: a route only in the build and an operation
    only in the document are both named, templates compare by shape."""
    built = [("GET", "/a/{id}"), ("POST", "/b"), ("DELETE", "/c/{x}")]
    documented = [("GET", "/a/{user}"), ("POST", "/fake"), ("DELETE", "/c/{x}")]
    assert parity_problems(built, documented) == [
        "routes of `anfu routes` missing from docs/openapi.yaml:",
        "  POST /b",
        "operations in docs/openapi.yaml that `anfu routes` does not have:",
        "  POST /fake",
    ]
    assert parity_problems(built, built) == []


def test_every_route_declares_access_and_permission():
    """req: IAM-RBAC-01"""
    for method, path, access, perm in routes():
        assert access in ("public", "session", "signed", "admin"), (method, path)
        assert perm and perm != "(null)", (method, path)


def test_openapi_documents_exactly_the_routes_of_the_build():
    """Every route of `anfu routes` (but the /test/ hooks) is an operation of
    docs/openapi.yaml and every operation there is a route."""
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    built = [(m, p) for m, p, _, _ in contract_routes()]
    documented = [(m, p) for m, p, _ in operations(spec)]
    problems = parity_problems(built, documented)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    assert not [p for p in spec["paths"] if p.startswith("/test/")]


def test_openapi_access_and_permission_match_the_route_table():
    """x-anfu-access and x-anfu-permission say what the route table says."""
    spec = load_spec()
    table = {(m, template(p)): (a, perm) for m, p, a, perm in contract_routes()}
    wrong = []
    for m, p, op in operations(spec):
        want = table.get((m, template(p)))
        got = (op.get("x-anfu-access"), op.get("x-anfu-permission"))
        if want is not None and got != want:
            wrong.append("  %s %s: document %s/%s, route table %s/%s" % (m, p, *got, *want))
    if wrong:
        pytest.fail("access/permission differ from `anfu routes`:\n" + "\n".join(wrong),
                    pytrace=False)


def expected_security(access, method, path):
    """The security requirement an operation of this access class declares
    (docs/openapi.yaml, info.description)."""
    admin = path.startswith("/admin/")
    scheme = "adminSession" if admin else "session"
    with_session = {scheme: [], "csrf": []} if method != "GET" else {scheme: []}
    if access == "public":
        # POST .../auth/codes: anonymous, or with a session for login,
        # step_up and bind codes (api/auth.c anfu_api_codes).
        return [{}, with_session] if path.endswith("/auth/codes") else []
    if access in ("session", "admin"):
        return [with_session]
    # "signed" (open platform) has no route and no security scheme yet:
    # describe its scheme in the document and here with its first route.
    return "no scheme for access class %r" % access


def test_openapi_security_follows_the_access_class():
    """Public operations declare security: []; session and admin ones the
    listener's session cookie, plus the CSRF header unless they are GETs
    (api/authn.c: every method but GET and HEAD is state-changing)."""
    spec = load_spec()
    schemes = spec["components"].get("securitySchemes", {})
    for name, where, key in (("session", "cookie", "anfu_session"),
                             ("adminSession", "cookie", "anfu_admin_session"),
                             ("csrf", "header", "X-CSRF-Token")):
        s = schemes.get(name, {})
        assert (s.get("type"), s.get("in"), s.get("name")) == ("apiKey", where, key), name
    assert "security" not in spec, "security is declared per operation"
    wrong = []
    for m, p, op in operations(spec):
        want = expected_security(op.get("x-anfu-access"), m, p)
        if op.get("security") != want:
            wrong.append("  %s %s: %r, expected %r" % (m, p, op.get("security"), want))
    if wrong:
        pytest.fail("security requirements:\n" + "\n".join(wrong), pytrace=False)


def redocly_lint():
    """Installs the pinned linter if needed and lints docs/openapi.yaml;
    returns (parsed JSON report, stderr)."""
    inst = subprocess.run([os.path.join(LINTER_DIR, "install.sh")], capture_output=True,
                          text=True, timeout=600)
    assert inst.returncode == 0, "cannot install the OpenAPI linter:\n" + inst.stderr
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_COLOR="1")
    cmd = [os.path.join(LINTER_DIR, "node_modules", ".bin", "redocly"), "lint",
           "--config", "redocly.yaml"]
    doc = os.path.relpath(OPENAPI, LINTER_DIR)
    p = subprocess.run(cmd + ["--format=json", doc], cwd=LINTER_DIR, capture_output=True,
                       text=True, env=env, timeout=300)
    try:
        report = json.loads(p.stdout)
    except ValueError:
        pytest.fail("redocly lint gave no JSON report (exit %d):\n%s\n%s"
                    % (p.returncode, p.stdout, p.stderr))
    if report["totals"] != {"errors": 0, "warnings": 0, "ignored": 0}:
        # The readable form of the same problems for the failure message.
        human = subprocess.run(cmd + ["--format=stylish", doc], cwd=LINTER_DIR,
                               capture_output=True, text=True, env=env, timeout=300)
        pytest.fail("redocly lint of docs/openapi.yaml: %s\n%s"
                    % (report["totals"], human.stdout), pytrace=False)
    return report, p.stderr


def test_openapi_passes_redocly_recommended_rules():
    """Redocly CLI (the version pinned in tools/openapi/package-lock.json)
    finds no error, no warning and nothing ignored with the recommended
    ruleset of tools/openapi/redocly.yaml."""
    report, _ = redocly_lint()
    with open(os.path.join(LINTER_DIR, "package-lock.json"), encoding="utf-8") as f:
        lock = json.load(f)
    assert report["version"] == lock["packages"]["node_modules/@redocly/cli"]["version"]
    with open(os.path.join(LINTER_DIR, "redocly.yaml"), encoding="utf-8") as f:
        assert "recommended" in yaml.safe_load(f)["extends"]


def test_configuration_docs_are_what_the_production_build_generates():
    """docs/configuration.md holds the reference table, and
    etc/anfu.conf.example is the example file, that the production build's
    option tables (the platform's and every module's of its list) generate
    (scripts/gen-config-docs.py BUILD_DIR regenerates both)."""
    prod = os.path.join(ensure_prod_build(), "anfu")
    table = run_anfu([prod, "config", "describe"], check=True).stdout
    example = run_anfu([prod, "config", "example"], check=True).stdout
    with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as f:
        assert table in f.read(), "docs/configuration.md: run scripts/gen-config-docs.py build"
    with open(os.path.join(ROOT, "etc", "anfu.conf.example"), encoding="utf-8") as f:
        assert f.read() == example, "etc/anfu.conf.example: run scripts/gen-config-docs.py build"


def test_production_build_has_no_test_hooks():
    prod = os.path.join(ensure_prod_build(), "anfu")
    out = run_anfu([prod, "routes"], check=True).stdout
    assert [r for r in parse_routes(out) if r[1].startswith("/test/")] == []
    with open(os.path.join(PROD_BUILD, "anfud"), "rb") as f:
        assert b"/test/v1/" not in f.read()


def test_no_file_keeps_a_merge_conflict_marker():
    """No tracked file holds a line of a merge conflict (a marker left in
    docs/configuration.md after the reference table survived a merge once:
    the table test only looks for the generated table inside the file)."""
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True,
                           check=True).stdout.decode().split("\0")
    markers = ("<" * 7 + " ", ">" * 7 + " ", "=" * 7 + "\n")
    found = []
    for name in filter(None, files):
        path = os.path.join(ROOT, name)
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(True), 1):
            if line.startswith(markers[:2]) or line == markers[2]:
                found.append("%s:%d" % (name, n))
    assert not found, "merge conflict markers: %s" % ", ".join(found[:20])
