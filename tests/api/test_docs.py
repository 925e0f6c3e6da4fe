"""The documents stay true: docs/openapi.yaml lists exactly the routes of
the build, and every documented error code exists.
"""
import os
import re

import yaml

from conftest import ANFU, PROD_BUILD, ROOT, ensure_prod_build, run_anfu


def routes(binary=ANFU):
    out = run_anfu([binary, "routes"], check=True).stdout
    rows = []
    for line in out.splitlines():
        method, path, access, perm = line.split()
        rows.append((method, path, access, perm))
    return rows


def test_every_route_declares_access_and_permission():
    """req: IAM-RBAC-01"""
    for method, path, access, perm in routes():
        assert access in ("public", "session", "signed", "admin"), (method, path)
        assert perm and perm != "(null)", (method, path)


def test_openapi_matches_the_route_table():
    with open(os.path.join(ROOT, "docs", "openapi.yaml"), encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    assert spec["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    built = {(m, p) for m, p, _, _ in routes() if not p.startswith("/test/")}
    assert built - documented == set(), "routes missing from openapi.yaml"
    assert documented - built == set(), "openapi.yaml documents routes that do not exist"
    for p, ops in spec["paths"].items():
        for m, op in ops.items():
            if m in ("get", "post", "put", "patch", "delete"):
                assert "x-anfu-access" in op and "x-anfu-permission" in op, (m, p)


def test_production_build_has_no_test_hooks():
    prod = os.path.join(ensure_prod_build(), "anfu")
    assert [r for r in routes(prod) if r[1].startswith("/test/")] == []
    with open(os.path.join(PROD_BUILD, "anfud"), "rb") as f:
        assert b"/test/v1/" not in f.read()
