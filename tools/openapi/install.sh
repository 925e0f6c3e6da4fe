#!/bin/sh
# Installs the OpenAPI linter pinned in tools/openapi/package-lock.json
# (`npm ci`), idempotently: silent and without npm when node_modules already
# holds exactly that lock file's packages. Called by scripts/deps.sh and by
# tests/api/test_docs.py; exits non-zero with one explanation on stderr when
# Node.js or npm is missing, too old, or the npm registry cannot be reached.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir"
stamp=node_modules/.anfu-lock-sha256
bin=node_modules/.bin/redocly

want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "anfu: $tool not found; the OpenAPI linter needs Node.js and npm (scripts/deps.sh test installs them)" >&2
    exit 1
  fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# engine-strict: refuse a Node.js older than @redocly/cli supports instead
# of installing a linter that cannot run. Few, short retries so that an
# unreachable registry is reported in seconds, not minutes.
if ! npm ci --engine-strict --no-audit --no-fund --loglevel=error \
     --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 \
     --fetch-timeout=60000 >"$log" 2>&1; then
  echo "anfu: could not install the OpenAPI linter (npm ci in tools/openapi failed)." >&2
  if grep -q EBADENGINE "$log"; then
    echo "anfu: Node.js $(node --version) is too old for the pinned @redocly/cli (see" \
         "engines in tools/openapi/package-lock.json)." >&2
  elif grep -qE 'ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|network' "$log"; then
    echo "anfu: the npm registry is not reachable; run tools/openapi/install.sh again" \
         "when it is." >&2
  fi
  tail -n 15 "$log" >&2
  exit 1
fi
echo "$want" >"$stamp"
