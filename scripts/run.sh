#!/bin/sh
# `make run`: initialise the data directory on first use, start the
# simulator bank (anfu-banksim, DATA/banksim, port 8643; docs/bank.md),
# then run anfud in the foreground on its embedded SQLite default; the
# simulator stops with anfud.
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
if ! grep -q '^\[bank\]' "$data/anfu.conf"; then
  cat >>"$data/anfu.conf" <<CONF

[bank]
# Development only: the simulator bank (anfu-banksim) that scripts/run.sh
# starts on 127.0.0.1:8643 with its data in DATA/banksim.
connector = simulator
url = https://127.0.0.1:8643
CONF
fi
"$top/build/src/banksim/anfu-banksim" --data "$data/banksim" --port 8643 --delay-ms 2000 \
  --peer-url https://127.0.0.1:8443 --peer-ca "$data/tls/server.crt" \
  --peer-key "$data/keys/bank-client.pub" &
sim=$!
trap 'kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null' EXIT INT TERM
while [ ! -f "$data/banksim/run/banksim.json" ]; do
  kill -0 "$sim" 2>/dev/null || { echo "anfu: anfu-banksim did not start" >&2; exit 1; }
  sleep 0.1
done
if [ ! -f "$data/anfu.db" ]; then
  "$top/build/anfu" init --data "$data" --admin "$admin"
fi
echo "anfu: simulator bank on https://127.0.0.1:8643 (cards: POST /sim/v1/cards)"
echo "anfu: starting anfud on $data (Ctrl-C stops it)"
"$top/build/anfud" --data "$data"
