#!/bin/sh
# `make fuzz`: build the fuzz targets with clang + libFuzzer + ASan/UBSan in
# build-fuzz/ and run each for $1 seconds (default 60) on a copy of its
# corpus, so new inputs do not land in the repository unasked.
set -eu
secs=${1:-60}
cd "$(dirname "$0")/.."
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz_engine=true -Dtests=false -Dtest_hooks=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz
for t in build-fuzz/fuzz/fuzz_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=$(basename "$t" | sed 's/^fuzz_//')
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  echo "== fuzzing $name for ${secs}s =="
  "$t" -max_total_time="$secs" -max_len=65536 "$work"
  echo "   new corpus size: $(ls "$work" | wc -l) (in $work; copy good finds into fuzz/corpus/$name)"
done
