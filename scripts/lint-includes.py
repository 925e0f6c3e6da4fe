#!/usr/bin/env python3
"""The include rules of DESIGN.md, checked on every build (a build-by-default
step of the top meson.build): a violation fails the build with one line per
offending include, naming the file, the line and the rule.

  crypto   only src/crypto/ includes OpenSSL, libsodium, libgcrypt, liboath
  store    only src/store/ includes sqlite3.h or libpq-fe.h
  http     only src/http/ includes microhttpd.h or GnuTLS
  image    only src/image/ includes an image library (libgd, libqrencode)
  layers   a service (src/<svc>/) never includes http/, api/ or app/ headers;
           its own src/<svc>/api/ may include http/http.h, api/api.h,
           api/handlers.h and api/module.h; the platform below the HTTP
           layer includes none of them either
  app      only src/app/, src/daemon/ and src/cli/ include app/ headers
  svc-api  a service's api/ headers are included only by that service and
           src/app/ (which lists the descriptors)

TEXT_RULES is the place for rules about what a file says rather than what
it includes (a regular expression, where it may appear, why): e.g. "no
anfu_db_begin/commit/rollback outside src/tx/ and src/store/".

Only src/ is checked (tests, fuzz targets and benchmarks may include what
they test). Today's tree has no exceptions, and there is no allow-list.

Usage: lint-includes.py [--root DIR] [--stamp FILE]
Exit status 0 when every rule holds, 1 otherwise.
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

# Top folders of src/ that are the platform or the entry points (banksim:
# the simulator bank's executable, docs/bank.md); every
# other folder is a service (a module of the list).
PLATFORM = {"base", "crypto", "image", "keys", "store", "audit", "config", "vault", "jobs",
            "notify", "tx", "http", "api", "app", "daemon", "cli", "banksim"}
# Platform folders that may include http/, api/ headers (above the HTTP
# layer), in the order of the layers.
ABOVE_HTTP = {"http", "api", "app", "daemon", "cli", "banksim"}
# Headers a service's api/ subfolder may take from the shared layers.
SVC_API_MAY = {"http/http.h", "api/api.h", "api/handlers.h", "api/module.h"}

LIBRARY_RULES = [
    ("crypto", re.compile(r"^(openssl/|sodium\.h$|sodium/|gcrypt\.h$|liboath/|oath\.h$)"),
     {"crypto"}, "only src/crypto/ includes OpenSSL, libsodium, libgcrypt or liboath"),
    ("store", re.compile(r"^(sqlite3\.h$|libpq-fe\.h$|postgresql/)"),
     {"store"}, "only src/store/ includes sqlite3.h or libpq-fe.h"),
    ("http", re.compile(r"^(microhttpd\.h$|gnutls/)"),
     {"http"}, "only src/http/ includes microhttpd.h or GnuTLS"),
    ("image", re.compile(r"^(gd\.h$|gd[a-z0-9_]*\.h$|qrencode\.h$)"),
     {"image"}, "only src/image/ includes an image library (libgd, libqrencode)"),
]

# (name, regular expression over a line, top folders of src/ where it may
# appear, reason). Empty today.
TEXT_RULES = []


def where(rel):
    """(top folder, True when the file is in that folder's api/ subfolder)."""
    parts = rel.split("/")
    top = parts[1] if len(parts) > 2 else ""
    in_api = len(parts) > 3 and parts[2] == "api"
    return top, in_api


def check_include(rel, kind, name):
    """The (rule, message) the include breaks, or None."""
    top, in_api = where(rel)
    service = top not in PLATFORM
    if kind == "<":
        for rule, pattern, allowed, why in LIBRARY_RULES:
            if pattern.search(name) and top not in allowed:
                return rule, why
        return None
    head = name.split("/")[0] if "/" in name else ""
    if head == "app" and top not in {"app", "daemon", "cli"}:
        return "app", "only src/app/, src/daemon/ and src/cli/ include app/ headers"
    if head in ("http", "api"):
        if service and in_api:
            if name not in SVC_API_MAY:
                return ("layers", "a service's api/ may include only %s"
                        % ", ".join(sorted(SVC_API_MAY)))
        elif service:
            return ("layers", "a service never includes http/, api/ or app/ headers "
                    "(its handlers in src/%s/api/ may)" % top)
        elif top not in ABOVE_HTTP or (head == "api" and top == "http"):
            return "layers", "src/%s/ is below the HTTP layer: no %s/ headers" % (top, head)
    if head and head not in PLATFORM and name.split("/")[1:2] == ["api"]:
        if top not in (head, "app"):
            return ("svc-api", "src/%s/api/ headers are for src/%s/ and src/app/ only"
                    % (head, head))
    return None


def lint_file(root, rel):
    """Problem lines ("file:line: <include>: rule: why") of one file."""
    problems = []
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                bad = check_include(rel, m.group(1), m.group(2))
                if bad:
                    shown = "<%s>" % m.group(2) if m.group(1) == "<" else '"%s"' % m.group(2)
                    problems.append("%s:%d: %s: %s: %s" % (rel, n, shown, bad[0], bad[1]))
            top, _ = where(rel)
            for name, pattern, allowed, why in TEXT_RULES:
                if pattern.search(line) and top not in allowed:
                    problems.append("%s:%d: %s: %s" % (rel, n, name, why))
    return problems


def sources(root):
    for base, dirs, files in os.walk(os.path.join(root, "src")):
        dirs.sort()
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(base, f), root).replace(os.sep, "/")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--stamp")
    args = ap.parse_args()
    problems = []
    for rel in sources(args.root):
        problems += lint_file(args.root, rel)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print("lint-includes: %d include rule violation(s) (DESIGN.md, scripts/lint-includes.py)"
              % len(problems), file=sys.stderr)
        return 1
    if args.stamp:
        with open(args.stamp, "w", encoding="utf-8") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
