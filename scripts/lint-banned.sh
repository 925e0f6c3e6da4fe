#!/bin/sh
# Rejects banned C functions in src/ (STYLE.md; curl's list): they either
# cannot bound their output or have hidden global state.
set -eu
cd "$(dirname "$0")/.."
pattern='\b(gets|strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|alloca|rand|system)[[:space:]]*\('
if hits=$(grep -rnE "$pattern" src bench fuzz tests/unit --include='*.c' --include='*.h' \
          | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)'); then
  echo "banned functions used:"
  echo "$hits"
  exit 1
fi
echo "banned-function check: OK"
