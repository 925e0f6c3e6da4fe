#!/bin/sh
# `make lint`: banned functions, clang-format layout, cppcheck.
set -eu
cd "$(dirname "$0")/.."
scripts/lint-banned.sh
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/unit/*.c' 'fuzz/*.c' 'bench/*.c')
if command -v clang-format >/dev/null; then
  # Not "cmd && echo": set -e does not stop at a failure left of &&.
  clang-format --dry-run -Werror $files
  echo "clang-format: OK"
fi
if command -v cppcheck >/dev/null; then
  cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
    --suppress=missingIncludeSystem -I src -I build src
  echo "cppcheck: OK"
fi
