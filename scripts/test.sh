#!/bin/sh
# `make test`: install what is missing, build the production binaries, then
# for a test-hooks build and an ASan+UBSan build run the cmocka unit tests,
# the fuzz corpus replays and the pytest API tests against a real anfud.
# Ends with the failing tests and their messages, one count line per build
# and one line "N passed, N failed" (", N skipped" when any were); exits
# non-zero on any failure. How the counts are made: docs/testing.md.
# The unit tests run on SQLite and, through a throwaway PostgreSQL cluster
# started here, on PostgreSQL too; in the test-hooks build the API suite
# runs a second time with every server on PostgreSQL (docs/testing.md).
#
# Every build folder gets logs/ (setup.log, ninja.log, meson-test.log) and
# logs/status, and its result files are deleted before it is built, so a
# build that fails counts 0 passed, 1 failed and never last run's results.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PY=/usr/bin/python3
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
# API tests started per build, in seconds (a hung run is killed and counted).
API_TIMEOUT=${ANFU_API_TIMEOUT:-2400}
stages=""

step() { printf '\n== %s ==\n' "$*"; }

step "dependencies"
scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

step "banned functions"
scripts/lint-banned.sh
stages="$stages --stage lint=$?"

# build DIR MESON_OPTION...: deletes DIR's result files, configures DIR on
# first use and builds it; records "build <status>" in DIR/logs/status.
build() {
  dir=$1; shift
  $PY scripts/test_summary.py --clean "$dir" || return 1
  mkdir -p "$dir/logs"
  rc=0
  if [ ! -f "$dir/build.ninja" ]; then
    wipe=""
    [ -d "$dir/meson-private" ] && wipe="--wipe"
    meson setup $wipe "$dir" "$@" >"$dir/logs/setup.log" 2>&1 \
      || { rc=$?; cat "$dir/logs/setup.log"; }
  fi
  if [ -f "$dir/build.ninja" ]; then
    # A folder configured before: the options of this run still apply.
    meson configure "$dir" "$@" >>"$dir/logs/setup.log" 2>&1 \
      || { rc=$?; cat "$dir/logs/setup.log"; }
  fi
  if [ $rc -eq 0 ]; then
    ninja -C "$dir" >"$dir/logs/ninja.log" 2>&1 || { rc=$?; tail -n 60 "$dir/logs/ninja.log"; }
  else
    echo "meson setup failed" >"$dir/logs/ninja.log"
  fi
  echo "build $rc" >>"$dir/logs/status"
  return $rc
}

# run_suite DIR NAME [pg]: unit tests and the API suite on SQLite; with
# "pg", the API suite once more on PostgreSQL (ANFU_TEST_BACKEND), its
# results in DIR/pytest-junit-pg.xml and the status line "api-pg"; not run
# (the summary then counts a failure) when the cluster did not start.
run_suite() {
  dir=$1; name=$2; pg=${3:-}
  mkdir -p "$dir/tests/unit/junit"
  step "$name: unit tests and fuzz corpus replay"
  meson test -C "$dir" --num-processes 2 --print-errorlogs >"$dir/logs/meson-test.log" 2>&1
  rc=$?
  echo "unit $rc" >>"$dir/logs/status"
  # On failure the whole log: meson prints each failing test's output.
  if [ $rc -ne 0 ]; then cat "$dir/logs/meson-test.log"; fi
  grep -E '^(Ok|Fail|Timeout|Skipped|Expected Fail|Unexpected Pass):' "$dir/logs/meson-test.log"
  # tests/api includes the browser tests (test_web_browser.py: headless
  # Chromium, screenshots in $dir/browser-screenshots/); they skip
  # themselves in the PostgreSQL pass below.
  step "$name: API tests (pytest, real anfud over TLS; browser tests included)"
  ANFU_BUILD_DIR="$top/$dir" ANFU_PROD_BUILD_DIR="$top/build" \
    timeout "$API_TIMEOUT" pytest-3 -q -p no:cacheprovider -rfEsX \
    --junitxml="$dir/pytest-junit.xml" tests/api
  echo "api $?" >>"$dir/logs/status"
  if [ "$pg" = pg ]; then
    step "$name: API tests on PostgreSQL (every server on the test cluster)"
    if [ -n "${ANFU_TEST_PG_DSN:-}" ]; then
      ANFU_TEST_BACKEND=postgresql ANFU_BUILD_DIR="$top/$dir" ANFU_PROD_BUILD_DIR="$top/build" \
        timeout "$API_TIMEOUT" pytest-3 -q -p no:cacheprovider -rfEsX \
        --junitxml="$dir/pytest-junit-pg.xml" tests/api
      echo "api-pg $?" >>"$dir/logs/status"
    else
      echo "no PostgreSQL cluster: not run"
    fi
  fi
}

# A throwaway PostgreSQL cluster of our own (scripts/pg-cluster.sh) for the
# PostgreSQL variants of the unit tests: they read ANFU_TEST_PG_DSN and
# skip, saying so, without it. Stopped and removed on any exit; a cluster
# that does not start is a failed stage, not a quiet skip.
step "PostgreSQL test cluster"
pgdir=$(mktemp -d /tmp/anfu-test-pg-XXXXXX)
pg_cleanup() {
  scripts/pg-cluster.sh stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap pg_cleanup EXIT
trap 'exit 130' INT TERM
if pgenv=$(scripts/pg-cluster.sh start "$pgdir"); then
  pgport=$(printf '%s\n' "$pgenv" | sed -n 's/^PGPORT=//p')
  export ANFU_TEST_PG_DSN="host=$pgdir port=$pgport user=anfu dbname=anfu"
  echo "PostgreSQL on $pgdir port $pgport"
  stages="$stages --stage pg-cluster=0"
else
  echo "the PostgreSQL cluster did not start: PostgreSQL variants will skip"
  stages="$stages --stage pg-cluster=1"
fi

step "production build (no test hooks): build/"
build build -Dtest_hooks=false -Dtests=false -Dexample_module=false

# The test builds carry the example module (src/example/), whose API test
# proves a service is added by its folder and one line; production builds
# do not.
step "test build (test hooks): build-test/"
if build build-test -Dtest_hooks=true -Dexample_module=true; then
  run_suite build-test normal pg
fi

step "sanitizer build (ASan + UBSan, test hooks): build-asan/"
if build build-asan -Dtest_hooks=true -Dexample_module=true -Db_sanitize=address,undefined \
     -Db_lundef=false -Dbuildtype=debug; then
  run_suite build-asan asan
fi

step "summary"
# shellcheck disable=SC2086
$PY scripts/test_summary.py $stages --build-only build --pg-api build-test build-test build-asan
