#!/bin/sh
# `make run`: initialise the data directory on first use, then run anfud in
# the foreground on its embedded SQLite default.
#
# The data directory is for development: its configuration allows the SMS
# simulator (which writes codes and phone numbers in clear to
# DATA/notify/sms-outbox.jsonl), which the production build used here
# refuses otherwise. `anfu init` keeps a configuration that exists.
set -eu
data=$1
admin=${2:-opsadmin}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$data/anfu.conf" ]; then
  mkdir -p "$data"
  chmod 0700 "$data"
  umask 077
  cat >"$data/anfu.conf" <<CONF
# anfu configuration of a development data directory, written by
# \`make run\` (scripts/run.sh). Every option and its default:
# docs/configuration.md and etc/anfu.conf.example.

[server]
# Development only: the SMS simulator writes every code and phone number
# in clear to its outbox file; production builds refuse it without this.
allow_simulators = true
CONF
fi
if [ ! -f "$data/anfu.db" ]; then
  "$top/build/anfu" init --data "$data" --admin "$admin"
fi
echo "anfu: starting anfud on $data (Ctrl-C stops it)"
exec "$top/build/anfud" --data "$data"
