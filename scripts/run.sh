#!/bin/sh
# `make run`: initialise the data directory on first use, then run anfud in
# the foreground on its embedded SQLite default.
set -eu
data=$1
admin=${2:-opsadmin}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$data/anfu.conf" ] || [ ! -f "$data/anfu.db" ]; then
  "$top/build/anfu" init --data "$data" --admin "$admin"
fi
echo "anfu: starting anfud on $data (Ctrl-C stops it)"
exec "$top/build/anfud" --data "$data"
