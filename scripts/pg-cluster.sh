#!/bin/sh
# A throwaway PostgreSQL cluster for tests and benchmarks: no system-wide
# service is used or assumed.
#
#   scripts/pg-cluster.sh start DIR [PORT]   initdb DIR/data (once), start it
#                                            (a restart keeps the first port)
#   scripts/pg-cluster.sh stop DIR           fast shutdown
#   scripts/pg-cluster.sh env DIR            prints PGHOST, PGPORT, PGUSER, PGDATABASE
#
# PostgreSQL refuses to run as root; as root the cluster runs as the
# unprivileged user `nobody` (ANFU_PG_OS_USER overrides) and DIR is made
# theirs. It listens on 127.0.0.1:PORT (default: a free port) and on a unix
# socket in DIR, trusts local connections (the cluster lives only as long as
# the run; tests that need passwords and TLS configure their own roles),
# and has one superuser `anfu` and one database `anfu`. Durability is
# PostgreSQL's default (fsync on, synchronous_commit on). `start` prints the
# env lines; a failed start prints the server log.
set -eu

die() { echo "pg-cluster: $*" >&2; exit 1; }

bindir() {
  [ -n "${ANFU_PG_BINDIR:-}" ] && { echo "$ANFU_PG_BINDIR"; return; }
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "no PostgreSQL server (scripts/deps.sh test installs postgresql-15)"
  echo "$d"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "${ANFU_PG_OS_USER:-nobody}" -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|env DIR [PORT]"

case "$cmd" in
start)
  bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown "${ANFU_PG_OS_USER:-nobody}" "$dir"
    chmod 700 "$dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$dir/data" -U anfu --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  # A restart keeps its port, so clients reconnect to the same address.
  if [ -n "${3:-}" ]; then port=$3
  elif [ -f "$dir/port" ]; then port=$(cat "$dir/port")
  else port=$(free_port); fi
  echo "$port" >"$dir/port"
  [ "$(id -u)" -eq 0 ] && chown "${ANFU_PG_OS_USER:-nobody}" "$dir/port"
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start \
      >/dev/null 2>&1; then
    tail -n 30 "$dir/server.log" >&2 || true
    die "postgres did not start"
  fi
  as_owner "$bin/psql" -h "$dir" -p "$port" -U anfu -d postgres -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname = 'anfu'" | grep -q 1 ||
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U anfu anfu
  exec "$0" env "$dir"
  ;;
stop)
  bin=$(bindir)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  ;;
env)
  dir=$(cd "$dir" && pwd)
  [ -f "$dir/port" ] || die "$dir: no cluster started"
  echo "PGHOST=$dir"
  echo "PGPORT=$(cat "$dir/port")"
  echo "PGUSER=anfu"
  echo "PGDATABASE=anfu"
  ;;
*)
  die "usage: $0 start|stop|env DIR [PORT]"
  ;;
esac
