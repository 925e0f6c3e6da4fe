"""No file circle inside a service (issue 7; docs/architecture.md, "The
identity module").

Each service is a library of files whose roles can be told from their
names: the entry object (service.c), the shared helpers (common.c), and
files that each own one subject. A file may call into files below it,
never back up: the graph "file A calls a function defined in file B",
read from the symbols of the built static library (nm), has no cycle.
A cycle would mean two files that cannot be understood, tested or
replaced one without the other — what service.c and its 13 users were
before.
"""
import collections
import os
import subprocess

import pytest

from conftest import BUILD

# Libraries checked: (library path in the build, name). Not checked, with
# the reason: base (a failed ANFU_ASSERT logs, and the log formats into a
# buffer that asserts: assert.c -> log.c -> buf.c -> assert.c, by design),
# store (db.c dispatches to the SQLite driver through the ops table and the
# driver uses db.c's helpers: the PostgreSQL driver joins the same pattern),
# app (the generated module list and modules.c name each other).
LIBRARIES = [
    ("src/iam/libanfu_iam.a", "iam"),
    ("src/iam/api/libanfu_iam_api.a", "iam/api"),
    ("src/notify/libanfu_notify.a", "notify"),
    ("src/ledger/libanfu_ledger.a", "ledger"),
    ("src/tx/libanfu_tx.a", "tx"),
    ("src/audit/libanfu_audit.a", "audit"),
    ("src/http/libanfu_http.a", "http"),
    ("src/api/libanfu_api.a", "api"),
    ("src/crypto/libanfu_crypto.a", "crypto"),
    ("src/keys/libanfu_keys.a", "keys"),
    ("src/config/libanfu_config.a", "config"),
]


def call_graph(lib):
    """{object file: set of object files whose functions or data it uses}
    inside one static library."""
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined, used = {}, collections.defaultdict(set)
    for line in out.splitlines():
        head, _, rest = line.rpartition(":")
        obj = head.split(":")[1].split("/")[-1]
        parts = rest.split()
        if len(parts) < 2:
            continue
        kind, sym = parts[-2], parts[-1]
        if kind in "TDBR":
            defined[sym] = obj
        elif kind == "U":
            used[obj].add(sym)
    graph = collections.defaultdict(set)
    for obj, syms in used.items():
        for s in syms:
            if s in defined and defined[s] != obj:
                graph[obj].add(defined[s])
    return graph


def cycles(graph):
    """The strongly connected components with more than one node."""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    nodes = set(graph) | {w for ws in graph.values() for w in ws}
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("rel,name", LIBRARIES)
def test_no_file_circle_in_a_module(rel, name):
    lib = os.path.join(BUILD, rel)
    assert os.path.isfile(lib), "not built: %s" % lib
    graph = call_graph(lib)
    assert graph, "%s: no calls between files found; is nm reading %s?" % (name, lib)
    found = cycles(graph)
    detail = "; ".join(
        "%s (%s)" % (" <-> ".join(c), ", ".join(
            "%s -> %s" % (a, sorted(b for b in graph[a] if b in c)) for a in c))
        for c in found)
    assert found == [], "%s: files that call each other: %s" % (name, detail)


def test_the_check_finds_a_circle():
    """The cycle finder is not vacuous: a -> b -> c -> a is found, a DAG is not."""
    assert cycles({"a.o": {"b.o"}, "b.o": {"c.o"}, "c.o": {"a.o"}, "d.o": {"a.o"}}) == [
        ["a.o", "b.o", "c.o"]]
    assert cycles({"a.o": {"b.o", "c.o"}, "b.o": {"c.o"}}) == []
