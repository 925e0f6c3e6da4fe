#!/bin/sh
# `make test`: install what is missing, build the production binaries, then
# for a test-hooks build and an ASan+UBSan build run the cmocka unit tests,
# the fuzz corpus replays and the pytest API tests against a real anfud.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PY=/usr/bin/python3
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed_stage=""

step() { printf '\n== %s ==\n' "$*"; }
stage_fail() { failed_stage="$failed_stage $1"; }

step "dependencies"
scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

step "banned functions"
scripts/lint-banned.sh || stage_fail lint

setup() {
  dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -n 60 "$dir.ninja.log"; return 1; }
}

step "production build (no test hooks): build/"
setup build -Dtest_hooks=false -Dtests=false || stage_fail build

run_suite() {
  dir=$1; name=$2
  rm -rf "$dir/tests/unit/junit" "$dir/pytest-junit.xml"
  mkdir -p "$dir/tests/unit/junit"
  step "$name: unit tests and fuzz corpus replay"
  meson test -C "$dir" --num-processes 2 --print-errorlogs >"$dir.meson-test.log" 2>&1 \
    || { grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT|ERROR)' "$dir.meson-test.log"; tail -n 40 "$dir.meson-test.log"; stage_fail "$name-unit"; }
  grep -E '^(Ok|Fail|Timeout|Skipped|Expected Fail|Unexpected Pass):' "$dir.meson-test.log"
  step "$name: API tests (pytest, real anfud over TLS)"
  ANFU_BUILD_DIR="$top/$dir" ANFU_PROD_BUILD_DIR="$top/build" \
    timeout 2400 pytest-3 -q -p no:cacheprovider --junitxml="$dir/pytest-junit.xml" tests/api \
    || stage_fail "$name-api"
}

step "test build (test hooks): build-test/"
if setup build-test -Dtest_hooks=true; then
  run_suite build-test normal
else
  stage_fail build-test
fi

step "sanitizer build (ASan + UBSan, test hooks): build-asan/"
if setup build-asan -Dtest_hooks=true -Db_sanitize=address,undefined -Db_lundef=false \
     -Dbuildtype=debug; then
  run_suite build-asan asan
else
  stage_fail build-asan
fi

step "summary"
[ -n "$failed_stage" ] && echo "failed stages:$failed_stage"
$PY scripts/test_summary.py build-test build-asan --extra-failures "$(echo $failed_stage | wc -w)"
