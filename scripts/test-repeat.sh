#!/bin/sh
# `make test-repeat N`: runs `make test` (scripts/test.sh) N times in a row,
# each with fresh result files, and ends with "K of N runs passed" and the
# failing tests of every run that failed. Each run's full output is kept in
# build-repeat/run-<i>.log. Exits non-zero unless every run passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
n=${1:-10}
case "$n" in
  ''|*[!0-9]*) echo "usage: $0 N (a number of runs)" >&2; exit 2 ;;
esac
[ "$n" -ge 1 ] || { echo "usage: $0 N (at least 1)" >&2; exit 2; }
out=build-repeat
rm -rf "$out"
mkdir -p "$out"
passed=0
i=1
while [ "$i" -le "$n" ]; do
  log="$out/run-$i.log"
  scripts/test.sh >"$log" 2>&1
  rc=$?
  counts=$(tail -n 1 "$log")
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $i of $n: passed: $counts"
  else
    echo "run $i of $n: FAILED (exit $rc): $counts; log: $log"
    # The summary's failure lines; a run that died before the summary
    # shows its last lines instead.
    if grep -q '^FAIL ' "$log"; then
      grep '^FAIL ' "$log" | sed 's/^/    /' >"$out/run-$i.failures"
    else
      tail -n 20 "$log" | sed 's/^/    /' >"$out/run-$i.failures"
    fi
    cat "$out/run-$i.failures"
  fi
  i=$((i + 1))
done
echo
if [ "$passed" -ne "$n" ]; then
  echo "failing tests per run:"
  for f in "$out"/run-*.failures; do
    [ -f "$f" ] || continue
    echo "  $(basename "$f" .failures):"
    cat "$f"
  done
fi
echo "$passed of $n runs passed"
[ "$passed" -eq "$n" ]
