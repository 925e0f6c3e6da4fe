#!/usr/bin/env bash
# bench/run.sh: the benchmarks behind `make bench`.
#
#   bench/run.sh [all|bare|anfud|audit|ledger|pg|login|pin|wallet|paycode]  (default: all)
#
# Measures, on this machine:
#   - wrk against GET /healthz on the bare libmicrohttpd TLS server
#     (bench/bare_server.c, the baseline) and on anfud, with the same
#     certificate, thread count and daemon settings; the goal is
#     anfud >= 80 % of bare;
#   - in-process audit appends per second (bench/bench_audit.c), intl and gm;
#   - ledger: in-process transfers/s through the real writer
#     (bench/bench_ledger.c, anfu_ledger_submit) and the raw ceiling
#     (bench/bench_ledger_raw.c: the same double-entry work with SQLite
#     alone), batches of 1, 10, 100 and 1000 transfers, uniform and
#     hot-account workloads, in alternating pairs; then the ratios
#     writer / raw (goal >= 50 %) and hot / uniform (goal >= 90 %), and the
#     p50/p99 latency of anfu_ledger_submit at 64 callers;
#   - pg: the same uniform and hot transfers on PostgreSQL with row locks
#     (pgbench, 32 clients) and pgbench's TPC-B on the same throwaway cluster
#     (bench/pg_ledger.sh, its PG_* variables; the ratio hot / uniform);
#   - login: password logins per second over HTTPS (wrk with
#     bench/login.lua against a test-hooks anfud, customers made by
#     bench/login_users.py) against raw Argon2id verifications per second
#     with the same [argon2] parameters and max_concurrent threads
#     (bench/bench_argon2.c), in alternating pairs; the goal is >= 90 %.
#     Then the peak memory of a fresh anfud under 200 concurrent logins
#     (VmHWM, sampled by bench/proc_watch.py) against the configured cap
#     max_concurrent x memlimit_kib plus a stated slack.
#   - pin: payment PIN verifications per second in process, the old
#     Argon2id record against the keyed MAC (bench/bench_pin.c, both
#     through iam_pin_check, same run), intl and gm; PIN_SECONDS [5] per
#     path, the default [argon2] parameters and max_concurrent threads.
#   - wallet: PIN-confirmed transfers per second over HTTPS (issue 10):
#     bench/bench_wallet.c keeps WALLET_CONNS keep-alive connections busy
#     with preview + confirm pairs, each connection the session of its own
#     payer (customers made by bench/wallet_users.py on a test-hooks anfud
#     on SQLite), against pgbench's TPC-B on a throwaway PostgreSQL cluster
#     in the same run, in alternating pairs; the goal is transfers/s >=
#     3 x TPC-B tps with p99 < 25 ms. Also anfud's /metrics per run (ledger
#     batches, commits) and a check that the server's wallet_transfer rows
#     equal the 201s the client saw, then `anfu ledger verify`.
#   - paycode: payment-code payments per second over HTTPS (issue 11):
#     bench/bench_paycode.c keeps PAYCODE_CONNS keep-alive connections
#     busy, each issuing a customer's code then collecting it as a till of
#     the merchant (people made by bench/paycode_users.py on a test-hooks
#     anfud on SQLite; only the collection is timed), against pgbench's
#     TPC-B in the same run, in alternating pairs, as the wallet mode; the
#     goal is payments/s >= 3 x TPC-B tps with p99 < 25 ms. Then the books
#     (bench/paycode_check.sql: one paid order and one ledger chain per
#     201) and `anfu ledger verify`.
#
# The report (Markdown, with the conditions of every number) goes to stdout,
# ready to append to docs/benchmarks.md (`bench/run.sh >> docs/benchmarks.md`);
# progress goes to stderr. Before every run the script waits until the machine
# is idle (< IDLE_PCT % busy over a 2 s window, at most IDLE_WAIT s) because
# other tenants share it, and it reports the CPU used by anything other than
# the benchmark during each wrk run ("foreign CPU").
#
# Environment (defaults in brackets):
#   BUILD [build]  THREADS [4]  WRK_THREADS [2]  WRK_CONNS [64]
#   WRK_DURATION [10s]  AUDIT_SECONDS [5]  IDLE_PCT [10]  IDLE_WAIT [60]
#   LEDGER_SECONDS [5] (per mode)  LEDGER_ACCOUNTS [10000] (customer wallets)
#   LEDGER_THREADS [64]  LEDGER_PER_REQUEST [32] (bench_ledger's submitters; 64 x 32 in flight
#     fill batches of 1000: 64 x 16 gave about 510 per batch, §6.10)
#   LEDGER_ROUNDS [3]: alternating rounds of (writer, raw, raw without
#   checkpoint); the goal's ratios are the medians of the rounds' ratios
#   REPEAT [3]: alternating bare/anfud pairs; medians are reported
#   BENCH_DIR [/var/tmp]: where the throw-away data directory goes (a disk,
#   not tmpfs: the audit numbers include fsync).
# Login mode (defaults in brackets):
#   BUILD_TEST [build-test]: the test-hooks build (-Dtest_hooks=true) whose
#   anfud, anfu and bench_argon2 are used (the hooks are needed to register
#   the customers; they add routes but change nothing on the login path)
#   LOGIN_USERS [32]  LOGIN_CONNS [2 x max_concurrent]  LOGIN_DURATION [20s]
#   LOGIN_REPEAT [3]: alternating bench_argon2 / wrk pairs; medians reported
#   ARGON2_OPSLIMIT [2]  ARGON2_MEMLIMIT_KIB [65536]  ARGON2_MAX_CONCURRENT [4]
#   (written to the anfu.conf that both anfud and bench_argon2 read)
#   LOGIN_MEM_CONNS [200]  LOGIN_MEM_DURATION [10s]
#   LOGIN_MEM_THREADS ["$THREADS 16"]: [http] threads of the memory runs (one
#   run each; more threads than max_concurrent leave the pool as the only cap)
#   LOGIN_MEM_SLACK_KIB [32768]: allowance for TLS sessions, MHD connection
#   pools and SQLite caches of the open connections on top of the cap
# Wallet mode (defaults in brackets; BUILD_TEST as for login):
#   WALLET_USERS [256] customers; the first WALLET_CONNS [64] are the payers
#   WALLET_DURATION [20s] per run (TPC-B and transfers)  WALLET_WARMUP [3]
#   seconds before bench_wallet measures  WALLET_REPEAT [3] pairs
#   WALLET_MAX_AMOUNT [10] fen  WALLET_FUNDS [10000000] fen per customer
#   WALLET_PIN [583016]  WALLET_HTTP_THREADS [anfud's default]: [http] threads
#   WALLET_TPCB_CLIENTS [WALLET_CONNS]  WALLET_TPCB_JOBS [2]
#   WALLET_TPCB_SCALE [WALLET_TPCB_CLIENTS] (pgbench: scale >= clients)
#   WALLET_BATCH_WAIT_US [unset]: [ledger] batch_wait_us of the wallet and
#   paycode runs' anfud (unset: anfud's default, 1000)
#   WALLET_PERF [unset]: when set, `perf record -e cpu-clock` samples anfud
#   during each transfer run into WALLET_PERF.<pair> (linux-perf);
#   WALLET_PERF_FREQ [499] Hz, WALLET_PERF_CALLGRAPH [dwarf,16384]
# Paycode mode (defaults in brackets; BUILD_TEST as for login; the TPC-B,
# duration, warm-up, repeat, HTTP threads, funds and perf knobs are the
# wallet mode's WALLET_* above):
#   PAYCODE_USERS [256] customers  PAYCODE_CONNS [64] connections
#   PAYCODE_TILLS [2] sessions of the merchant user (connection i uses
#   till i mod PAYCODE_TILLS)  PAYCODE_MAX_AMOUNT [200] fen (at most
#   [pay] paycode_nopin_max)  PAYCODE_FEE_BPS [60]: the merchant's fee (at
#   60 bps payments of 84 fen and more carry a 1 fen fee, so both chain
#   shapes occur)
#
# The functions can also be used on their own: `source bench/run.sh`.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
THREADS=${THREADS:-4}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
AUDIT_SECONDS=${AUDIT_SECONDS:-5}
LEDGER_SECONDS=${LEDGER_SECONDS:-5}
LEDGER_ACCOUNTS=${LEDGER_ACCOUNTS:-10000}
LEDGER_THREADS=${LEDGER_THREADS:-64}
LEDGER_PER_REQUEST=${LEDGER_PER_REQUEST:-32}
LEDGER_ROUNDS=${LEDGER_ROUNDS:-3}
IDLE_PCT=${IDLE_PCT:-10}
IDLE_WAIT=${IDLE_WAIT:-60}
REPEAT=${REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
BUILD_TEST=${BUILD_TEST:-$ROOT/build-test}
case $BUILD_TEST in /*) ;; *) BUILD_TEST=$ROOT/$BUILD_TEST ;; esac
ARGON2_OPSLIMIT=${ARGON2_OPSLIMIT:-2}
ARGON2_MEMLIMIT_KIB=${ARGON2_MEMLIMIT_KIB:-65536}
ARGON2_MAX_CONCURRENT=${ARGON2_MAX_CONCURRENT:-4}
LOGIN_USERS=${LOGIN_USERS:-32}
LOGIN_CONNS=${LOGIN_CONNS:-$((2 * ARGON2_MAX_CONCURRENT))}
LOGIN_DURATION=${LOGIN_DURATION:-20s}
LOGIN_REPEAT=${LOGIN_REPEAT:-3}
LOGIN_MEM_CONNS=${LOGIN_MEM_CONNS:-200}
LOGIN_MEM_DURATION=${LOGIN_MEM_DURATION:-10s}
LOGIN_MEM_THREADS=${LOGIN_MEM_THREADS:-"$THREADS 16"}
LOGIN_MEM_SLACK_KIB=${LOGIN_MEM_SLACK_KIB:-32768}
WALLET_USERS=${WALLET_USERS:-256}
WALLET_CONNS=${WALLET_CONNS:-64}
WALLET_DURATION=${WALLET_DURATION:-20s}
WALLET_WARMUP=${WALLET_WARMUP:-3}
WALLET_REPEAT=${WALLET_REPEAT:-3}
WALLET_MAX_AMOUNT=${WALLET_MAX_AMOUNT:-10}
WALLET_FUNDS=${WALLET_FUNDS:-10000000}
WALLET_PIN=${WALLET_PIN:-583016}
WALLET_HTTP_THREADS=${WALLET_HTTP_THREADS:-}
WALLET_PERF=${WALLET_PERF:-}
WALLET_BATCH_WAIT_US=${WALLET_BATCH_WAIT_US:-}
WALLET_PERF_FREQ=${WALLET_PERF_FREQ:-499}
WALLET_PERF_CALLGRAPH=${WALLET_PERF_CALLGRAPH:-dwarf,16384}
WALLET_TPCB_CLIENTS=${WALLET_TPCB_CLIENTS:-$WALLET_CONNS}
WALLET_TPCB_JOBS=${WALLET_TPCB_JOBS:-2}
WALLET_TPCB_SCALE=${WALLET_TPCB_SCALE:-$WALLET_TPCB_CLIENTS}
PAYCODE_USERS=${PAYCODE_USERS:-256}
PAYCODE_CONNS=${PAYCODE_CONNS:-64}
PAYCODE_TILLS=${PAYCODE_TILLS:-2}
PAYCODE_MAX_AMOUNT=${PAYCODE_MAX_AMOUNT:-200}
PAYCODE_FEE_BPS=${PAYCODE_FEE_BPS:-60}
PYTHON=/usr/bin/python3 # Debian's: it has python3-requests (see the stack probe notes)

WRK_ARGS="-t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- machine state ---------------------------------------------------------

# Prints "busy total" jiffies summed over all CPUs (iowait counts as idle).
cpu_jiffies() {
	local _cpu user nice sys idle iowait irq softirq steal _rest
	read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) \
$((user + nice + sys + idle + iowait + irq + softirq + steal))"
}

# Prints the CPU busy percentage over a 2 s window.
cpu_busy_pct() {
	local b0 t0 b1 t1
	read -r b0 t0 < <(cpu_jiffies)
	sleep 2
	read -r b1 t1 < <(cpu_jiffies)
	echo $(((b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1)))
}

# Waits until the machine is idle-ish. Sets IDLE_BEFORE to the last measured
# busy percentage (a number, or "N (gave up after IDLE_WAIT s)").
wait_idle() {
	local start=$SECONDS pct
	while :; do
		pct=$(cpu_busy_pct)
		if [ "$pct" -lt "$IDLE_PCT" ]; then
			IDLE_BEFORE="$pct %"
			return 0
		fi
		if [ $((SECONDS - start)) -ge "$IDLE_WAIT" ]; then
			log "machine still ${pct}% busy after ${IDLE_WAIT}s; running anyway"
			IDLE_BEFORE="$pct % (busy: gave up waiting after ${IDLE_WAIT} s)"
			return 0
		fi
		log "machine ${pct}% busy; waiting for < ${IDLE_PCT}%"
	done
}

# CPU jiffies (user + system) used so far by process $1.
proc_jiffies() {
	local f fields
	f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	f=${f##*) }   # drop "pid (comm) ": fields[0] is field 3 of the line
	read -ra fields <<<"$f"
	echo $((fields[11] + fields[12]))   # utime, stime (fields 14 and 15)
}

# "buildtype=... b_sanitize=... test_hooks=..." of build directory $1 [BUILD].
build_options() {
	/usr/bin/python3 - "${1:-$BUILD}/meson-info/intro-buildoptions.json" <<'PY' 2>/dev/null || echo '?'
import json, sys
opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
print(" ".join("%s=%s" % (k, opts.get(k)) for k in ("buildtype", "b_sanitize", "test_hooks")))
PY
}

conditions() {
	local model cores kernel
	model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	cores=$(nproc)
	kernel=$(uname -sr)
	cat <<EOF
- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ); host OS: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"); kernel: $kernel
- CPU: $model, $cores cores online; memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
- libmicrohttpd $(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?'), GnuTLS $(pkg-config --modversion gnutls 2>/dev/null || echo '?'), SQLite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
- Build (healthz, audit, ledger): $BUILD ($(build_options)); the login section names its own
- Idle gate before every measurement: < $IDLE_PCT % busy over 2 s, waiting at most $IDLE_WAIT s; "foreign CPU" is the share of all CPUs used during a measurement by anything other than the benchmark's own processes
EOF
}

http_conditions() {
	cat <<EOF
- wrk: \`wrk $WRK_ARGS https://127.0.0.1:PORT/healthz\` (keep-alive, TLS, client and server on the same machine)
- Server threads: $THREADS (MHD thread pool); $REPEAT alternating bare/anfud pairs
EOF
}

# ---- helpers ---------------------------------------------------------------

# Waits up to 15 s until 127.0.0.1:$1 accepts TCP connections.
wait_port() {
	for _ in $(seq 1 150); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Stops process $1 with SIGTERM (then SIGKILL after 15 s) and reaps it.
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM; killing"; kill -KILL "$pid"; }
	wait "$pid" 2>/dev/null
	return 0
}

# Prints "protocol cipher" negotiated with 127.0.0.1:$1.
tls_params() {
	openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
		awk '/^ *Protocol *:/ {p=$3} /^ *Cipher *:/ {c=$3} /^New, / {gsub(/,/, ""); p=p?p:$2; c=c?c:$NF}
		     END {print (p?p:"?") " " (c?c:"?")}'
}

# Runs wrk against https://127.0.0.1:$1/healthz while measuring the CPU of
# the server (pid $2). Sets WRK_RPS, WRK_P50, WRK_P99, WRK_NON2XX,
# WRK_ERRORS, WRK_FOREIGN (percentage of all CPUs used by anything other
# than the server and wrk), WRK_SERVER_CPU and WRK_CLIENT_CPU (% of one
# core), WRK_SERVER_CPU_S (the server's CPU seconds) and WRK_OUT (the raw
# output file). RUN_WRK_ARGS and RUN_WRK_PATH, when set, replace WRK_ARGS
# and /healthz.
run_wrk() {
	local port=$1 pid=$2 out b0 t0 b1 t1 s0 s1 wrk_cpu timing
	local args=${RUN_WRK_ARGS:-$WRK_ARGS} path=${RUN_WRK_PATH:-/healthz}
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-wrk-XXXXXX")
	timing=$(mktemp "${TMPDIR:-/tmp}/anfu-wrk-time-XXXXXX")
	read -r b0 t0 < <(cpu_jiffies)
	s0=$(proc_jiffies "$pid")
	# bash's `time` gives wrk's own user + system CPU.
	# shellcheck disable=SC2086 # args is a list of words
	{ TIMEFORMAT='%U %S'; time wrk $args "https://127.0.0.1:$port$path" >"$out" 2>&1; } 2>"$timing"
	s1=$(proc_jiffies "$pid")
	read -r b1 t1 < <(cpu_jiffies)
	wrk_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($1 + $2) * hz}' "$timing")
	WRK_FOREIGN=$(( (b1 - b0 - (s1 - s0) - wrk_cpu) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
	[ "$WRK_FOREIGN" -lt 0 ] && WRK_FOREIGN=0
	WRK_SERVER_CPU=$(( (s1 - s0) * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
	WRK_CLIENT_CPU=$(( wrk_cpu * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
	WRK_SERVER_CPU_S=$(awk -v j="$((s1 - s0))" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", j / hz}')
	WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	WRK_P50=$(awk '$1 == "50%" {print $2}' "$out")
	WRK_P99=$(awk '$1 == "99%" {print $2}' "$out")
	WRK_NON2XX=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	WRK_NON2XX=${WRK_NON2XX:-0}
	WRK_ERRORS=$(awk -F': ' '/Socket errors:/ {print $2}' "$out")
	WRK_ERRORS=${WRK_ERRORS:-none}
	WRK_OUT=$out
	rm -f "$timing"
	[ -n "$WRK_RPS" ] || { cat "$out" >&2; return 1; }
	return 0
}

# One Markdown table row for the last run_wrk (label prefixed by ROW_PREFIX).
wrk_row() {
	printf '| %s%s | %s | %s | %s | %s | %s | %s %% | %s %% | %s | %s |\n' "${ROW_PREFIX:-}" "$1" "$WRK_RPS" \
		"$WRK_P50" "$WRK_P99" "$WRK_NON2XX" "$WRK_ERRORS" "$WRK_SERVER_CPU" \
		"$WRK_FOREIGN" "$IDLE_BEFORE" "$2"
}

# Makes a data directory for anfud and the bare server: a config with the
# settings both servers share, then `anfu init` for keys, the development
# certificate and the database. $1: the anfu CLI; $2: the directory;
# $3 (optional): more INI text appended to the config (further sections).
# The per-IP limits are raised so that wrk's 64 connections from 127.0.0.1
# measure the server, not the rate limiter (which still runs on every
# request); the admin listener is off so it needs no port.
prepare_data() {
	local anfu=$1 dir=$2 extra=${3:-}
	mkdir -p "$dir" && chmod 0700 "$dir" || return 1
	cat >"$dir/anfu.conf" <<EOF
# Written by bench/run.sh for benchmarking only.
[server]
crypto = intl
# The production build refuses the SMS simulator (the only gateway) otherwise.
allow_simulators = true

[http]
listen = 127.0.0.1
port = 0
threads = $THREADS

[admin]
enabled = false

[limits]
connections = 1024
connections_per_ip = 1024
rate_per_ip = 1000000
rate_burst = 1000000
EOF
	[ -z "$extra" ] || printf '\n%s\n' "$extra" >>"$dir/anfu.conf"
	chmod 0600 "$dir/anfu.conf"
	"$anfu" init --data "$dir" >&2
}

# A self-signed P-256 certificate (what `anfu init` makes) when there is no
# anfu CLI to make one. $1: directory; writes tls/server.{crt,key}.
make_cert() {
	mkdir -p "$1/tls" && chmod 0700 "$1" "$1/tls" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$1/tls/server.key" -out "$1/tls/server.crt" 2>/dev/null &&
		chmod 0600 "$1/tls/server.key"
}

# ---- the benchmarks --------------------------------------------------------

# bench_bare DATA_DIR: wrk against bare_server with DATA_DIR's certificate.
# Sets BARE_RPS and prints a table row.
bench_bare() {
	local dir=$1 bin=$BUILD/bench/bare_server out pid port
	[ -x "$bin" ] || die "$bin not built (ninja -C $BUILD bench/bare_server)"
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-bare-XXXXXX")
	"$bin" --cert "$dir/tls/server.crt" --key "$dir/tls/server.key" --port 0 \
		--threads "$THREADS" --per-ip 1024 >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		grep -q '^listening on' "$out" && break
		sleep 0.1
	done
	port=$(sed -n 's/^listening on [0-9.]*:\([0-9]*\).*/\1/p' "$out")
	if [ -z "$port" ] || ! wait_port "$port"; then
		cat "$out" >&2
		stop_pid "$pid"
		die "bare_server did not start"
	fi
	TLS_PARAMS=$(tls_params "$port")
	wait_idle
	log "bare_server: wrk $WRK_ARGS on port $port"
	if ! run_wrk "$port" "$pid"; then
		stop_pid "$pid"
		die "wrk failed against bare_server"
	fi
	stop_pid "$pid"
	BARE_RPS=$WRK_RPS
	wrk_row "bare libmicrohttpd (bench/bare_server)" "$TLS_PARAMS"
	rm -f "$out" "$WRK_OUT"
}

# ---------------------------------------------------------------------------
# bench_anfud ANFUD_BINARY DATA_DIR: the same wrk run against anfud.
# `ANFUD --data DIR` serves HTTPS
# on 127.0.0.1 at [http] port of DIR/anfu.conf, or, when that port is 0 or
# unset, at the "port" of DIR/run/anfud.json, which anfud writes once it
# listens. The data directory should come from prepare_data (raised per-IP
# limits); any non-2xx answer makes the run invalid.
# Sets ANFUD_RPS and prints a table row.
# ---------------------------------------------------------------------------
bench_anfud() {
	local anfud=$1 dir=$2
	start_anfud "$anfud" "$dir" || die "anfud did not start"
	TLS_PARAMS=$(tls_params "$ANFUD_PORT")
	wait_idle
	log "anfud: wrk $WRK_ARGS on port $ANFUD_PORT"
	if ! run_wrk "$ANFUD_PORT" "$ANFUD_PID"; then
		stop_anfud
		die "wrk failed against anfud"
	fi
	stop_anfud
	ANFUD_RPS=$WRK_RPS
	[ "$WRK_NON2XX" = 0 ] || log "anfud answered $WRK_NON2XX non-2xx responses: run not valid"
	wrk_row "anfud" "$TLS_PARAMS"
	rm -f "$WRK_OUT"
}

# start_anfud ANFUD_BINARY DATA_DIR: starts anfud in the background (see
# bench_anfud for how the port is found). Sets ANFUD_PID, ANFUD_PORT and
# ANFUD_LOG (its stdout and stderr); on failure prints the log, stops it
# and returns 1.
start_anfud() {
	local anfud=$1 dir=$2 port
	[ -x "$anfud" ] || die "$anfud not built"
	port=$(awk -F= '
		/^[ \t]*\[/ { sect = $0; gsub(/[][ \t]/, "", sect); next }
		sect == "http" && $1 ~ /^[ \t]*port[ \t]*$/ { gsub(/[ \t]/, "", $2); print $2 }
	' "$dir/anfu.conf" 2>/dev/null | tail -1)
	ANFUD_LOG=$(mktemp "${TMPDIR:-/tmp}/anfu-anfud-XXXXXX")
	rm -f "$dir/run/anfud.json"
	"$anfud" --data "$dir" >"$ANFUD_LOG" 2>&1 &
	ANFUD_PID=$!
	if [ -z "$port" ] || [ "$port" = 0 ]; then
		port=
		for _ in $(seq 1 150); do
			if [ -s "$dir/run/anfud.json" ]; then
				port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$dir/run/anfud.json")
				break
			fi
			kill -0 "$ANFUD_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -z "$port" ] || ! wait_port "$port"; then
		cat "$ANFUD_LOG" >&2
		stop_anfud
		return 1
	fi
	ANFUD_PORT=$port
	return 0
}

# Stops the anfud of the last start_anfud and removes its log.
stop_anfud() {
	[ -n "${ANFUD_PID:-}" ] && stop_pid "$ANFUD_PID"
	[ -n "${ANFUD_LOG:-}" ] && rm -f "$ANFUD_LOG"
	ANFUD_PID=
	ANFUD_LOG=
}

# bench_audit [ARGS...]: the in-process audit benchmark (intl and gm unless
# ARGS say otherwise). Prints its output as a code block.
bench_audit() {
	local bin=$BUILD/bench/bench_audit crypto
	[ -x "$bin" ] || die "$bin not built (ninja -C $BUILD bench/bench_audit)"
	echo '```'
	if [ $# -gt 0 ]; then
		wait_idle
		echo "# idle before: $IDLE_BEFORE"
		"$bin" --dir "$BENCH_DIR" --seconds "$AUDIT_SECONDS" "$@" || return 1
	else
		for crypto in intl gm; do
			wait_idle
			echo "# idle before: $IDLE_BEFORE"
			"$bin" --dir "$BENCH_DIR" --seconds "$AUDIT_SECONDS" --crypto "$crypto" ||
				return 1
		done
	fi
	echo '```'
}

# bench_pin: PIN verifications per second, the Argon2id record and the
# keyed MAC in the same run (bench/bench_pin.c), intl and gm, each after the
# idle gate. Prints its output as a code block.
bench_pin() {
	local bin=$BUILD/bench/bench_pin crypto
	[ -x "$bin" ] || die "$bin not built (ninja -C $BUILD bench/bench_pin)"
	echo '```'
	for crypto in intl gm; do
		wait_idle
		echo "# idle before: $IDLE_BEFORE"
		"$bin" --dir "$BENCH_DIR" --seconds "${PIN_SECONDS:-5}" --crypto "$crypto" || return 1
	done
	echo '```'
}

# bench_ledger: the writer (bench_ledger) and the raw ceiling
# (bench_ledger_raw, once with SQLite's automatic checkpoint and once with
# none during a mode), LEDGER_ROUNDS alternating rounds of the three, each
# after the idle gate; their outputs as code blocks, then per round a table
# of the ratios writer / raw ceiling (the better of the round's two raw
# runs) per batch size and workload, and hot / uniform for each; last the
# medians of the rounds' ratios (the goal's verdict).
bench_ledger() {
	local bin=$BUILD/bench/bench_ledger raw=$BUILD/bench/bench_ledger_raw round ratios
	local wout rout nout
	[ -x "$bin" ] || die "$bin not built (ninja -C $BUILD bench/bench_ledger)"
	[ -x "$raw" ] || die "$raw not built (ninja -C $BUILD bench/bench_ledger_raw)"
	ratios=$(mktemp "${TMPDIR:-/tmp}/anfu-ledger-ratios-XXXXXX")
	for round in $(seq 1 "$LEDGER_ROUNDS"); do
		wout=$(mktemp "${TMPDIR:-/tmp}/anfu-ledger-XXXXXX")
		rout=$(mktemp "${TMPDIR:-/tmp}/anfu-ledger-raw-XXXXXX")
		nout=$(mktemp "${TMPDIR:-/tmp}/anfu-ledger-raw-XXXXXX")
		wait_idle
		echo "# idle before: $IDLE_BEFORE" >"$wout"
		"$bin" --dir "$BENCH_DIR" --seconds "$LEDGER_SECONDS" --accounts "$LEDGER_ACCOUNTS" \
			--threads "$LEDGER_THREADS" --per-request "$LEDGER_PER_REQUEST" 2>/dev/null >>"$wout" ||
			{ cat "$wout" >&2; rm -f "$wout" "$rout" "$nout" "$ratios"; return 1; }
		wait_idle
		echo "# idle before: $IDLE_BEFORE" >"$rout"
		"$raw" --dir "$BENCH_DIR" --seconds "$LEDGER_SECONDS" --accounts "$LEDGER_ACCOUNTS" \
			>>"$rout" || { cat "$rout" >&2; rm -f "$wout" "$rout" "$nout" "$ratios"; return 1; }
		wait_idle
		echo "# idle before: $IDLE_BEFORE" >"$nout"
		"$raw" --dir "$BENCH_DIR" --seconds "$LEDGER_SECONDS" --accounts "$LEDGER_ACCOUNTS" \
			--no-checkpoint >>"$nout" ||
			{ cat "$nout" >&2; rm -f "$wout" "$rout" "$nout" "$ratios"; return 1; }
		echo "#### Round $round"
		echo
		printf '```\n'; cat "$wout"; printf '```\n\n```\n'; cat "$rout"; printf '```\n\n```\n'
		cat "$nout"; printf '```\n\n'
		awk -v round="$round" -v ratios="$ratios" '
			FNR == 1 { file++ }
			file == 1 && ($1 == "uniform" || $1 == "hot") { w[$1 " " $2] = $7; wc[$1 " " $2] = $9 }
			file >= 2 && ($1 == "uniform" || $1 == "hot") && $6 > r[$1 " " $2] {
				r[$1 " " $2] = $6; rc[$1 " " $2] = $8
			}
			END {
				print "| batch | uniform: writer / raw | hot: writer / raw | writer: hot / uniform | raw: hot / uniform | CPU per transfer, raw / writer (uniform, hot) |"
				print "|---|---|---|---|---|---|"
				split("1 10 100 1000", b, " ")
				for (i = 1; i <= 4; i++) {
					u = "uniform " b[i]; h = "hot " b[i]
					printf "| %s | %s | %s | %s | %s | %s, %s |\n", b[i], pct(w[u], r[u]), pct(w[h], r[h]),
						pct(w[h], w[u]), pct(r[h], r[u]), pct(rc[u], wc[u]), pct(rc[h], wc[h])
					if (r[u] > 0 && r[h] > 0)
						printf "%s %s %.4f %.4f\n", round, b[i], w[u] / r[u], w[h] / r[h] >> ratios
				}
			}
			function pct(a, d) { return d > 0 ? sprintf("%.1f %%", 100 * a / d) : "?" }
		' "$wout" "$rout" "$nout"
		echo
		rm -f "$wout" "$rout" "$nout"
	done
	echo "#### Medians of $LEDGER_ROUNDS round(s)"
	echo
	awk '
		{ u[$2] = u[$2] " " $3; h[$2] = h[$2] " " $4 }
		function med(list,    a, n, i, j, t) {
			n = split(list, a, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function each(list,    a, n, i, s) {
			n = split(list, a, " "); s = ""
			for (i = 1; i <= n; i++) s = s sprintf("%s%.1f", i > 1 ? " / " : "", 100 * a[i])
			return s
		}
		END {
			print "| batch | uniform: writer / raw (rounds) | median | hot: writer / raw (rounds) | median |"
			print "|---|---|---|---|---|"
			split("1 10 100 1000", b, " ")
			for (i = 1; i <= 4; i++)
				printf "| %s | %s %% | **%.1f %%** | %s %% | %.1f %% |\n", b[i], each(u[b[i]]), 100 * med(u[b[i]]), each(h[b[i]]), 100 * med(h[b[i]])
		}
	' "$ratios"
	rm -f "$ratios"
}

# ---- the login benchmark ---------------------------------------------------

# INI text appended to prepare_data's config for the login runs. anfud and
# bench_argon2 both read [argon2] from the resulting anfu.conf.
login_config() {
	cat <<EOF
# Login benchmark. [argon2]: the defaults, written out; bench_argon2 reads
# the same file.
[argon2]
opslimit = $ARGON2_OPSLIMIT
memlimit_kib = $ARGON2_MEMLIMIT_KIB
max_concurrent = $ARGON2_MAX_CONCURRENT

# Only correct passwords are sent: logins that do not fail need no captcha.
[captcha]
mode = after_failures
after_failures = 1

# Every login opens a session; beyond 10 a user's oldest one ends.
[session]
on_limit = end_oldest

[session.customer]
max_sessions = 10

# No failures are expected; the per-IP throttle must not shape the result.
[lockout]
ip_failures = 10000
EOF
}

# run_argon2 BINARY CONFIG SECONDS: bench_argon2 with the config's [argon2],
# timed like run_wrk. Sets RAW_VPS, RAW_LAT (mean ms per verify), RAW_CPU
# (% of one core), RAW_OPS (verifications), RAW_CPU_S (its CPU seconds),
# RAW_FOREIGN (% of all CPUs used by anything else) and RAW_OUT (its output
# file).
run_argon2() {
	local bin=$1 conf=$2 secs=$3 out timing b0 t0 b1 t1 cpu rc
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-argon2-XXXXXX")
	timing=$(mktemp "${TMPDIR:-/tmp}/anfu-argon2-time-XXXXXX")
	read -r b0 t0 < <(cpu_jiffies)
	{ TIMEFORMAT='%U %S'; time "$bin" --config "$conf" --seconds "$secs" >"$out" 2>&1; } 2>"$timing"
	rc=$?
	read -r b1 t1 < <(cpu_jiffies)
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($1 + $2) * hz}' "$timing")
	rm -f "$timing"
	RAW_FOREIGN=$(( (b1 - b0 - cpu) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
	[ "$RAW_FOREIGN" -lt 0 ] && RAW_FOREIGN=0
	RAW_CPU=$(( cpu * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
	RAW_VPS=$(sed -n 's/^verifies_per_s=\([0-9.]*\).*/\1/p' "$out")
	RAW_LAT=$(sed -n 's/.*mean latency \([0-9.]*\) ms.*/\1/p' "$out")
	RAW_OPS=$(sed -n 's/^# \([0-9]*\) verifies in .*/\1/p' "$out")
	RAW_CPU_S=$(awk -v j="$cpu" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", j / hz}')
	RAW_OUT=$out
	[ "$rc" = 0 ] && [ -n "$RAW_VPS" ] || { cat "$out" >&2; return 1; }
	return 0
}

# "N" from a "key=N" word in file $2 ($1: the key).
kv() {
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | tail -1
}

# Connections per MHD worker thread of process $1, e.g. "3+1+1+3": the
# descriptors in each worker's epoll set less its listening socket and its
# inter-thread channel (libmicrohttpd 0.9.75 with MHD_USE_EPOLL and a thread
# pool; anfud has no other epoll sets). A connection stays on the worker
# that accepted it for its whole life, but while its request waits for or
# runs on the offload pool it is suspended and out of the epoll set.
worker_conns() {
	local fd n out=
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd" 2>/dev/null) in
		*eventpoll*)
			n=$(grep -c '^tfd:' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null)
			out=${out:+$out+}$((n - 2))
			;;
		esac
	done
	echo "${out:-?}"
}

# Runs worker_conns $1 after $2 seconds, in the background, into file $3.
worker_conns_later() {
	(sleep "$2" && worker_conns "$1" >"$3") &
	LATER_PID=$!
}

# A field of /proc/$1/status in KiB ($2: VmRSS, VmHWM).
status_kib() {
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null
}

login_conditions() {
	local dir=$1
	cat <<EOF
- anfud: \`$BUILD_TEST/anfud\` ($(build_options "$BUILD_TEST")); [http] threads = $THREADS; TLS $TLS_PARAMS
- [argon2] opslimit = $ARGON2_OPSLIMIT, memlimit_kib = $ARGON2_MEMLIMIT_KIB, max_concurrent = $ARGON2_MAX_CONCURRENT: one anfu.conf, read by anfud and by bench_argon2 (config/config.h)
- Raw baseline: \`bench_argon2 --config DATA/anfu.conf --seconds $LOGIN_SECS\` ($BUILD_TEST/bench): $ARGON2_MAX_CONCURRENT threads (= max_concurrent) verifying a correct password against an Argon2id hash in a loop (crypto/crypto.h, libsodium $(pkg-config --modversion libsodium 2>/dev/null || echo '?')); no pool, HTTP, TLS or database
- Logins: \`wrk -t$WRK_THREADS -c$LOGIN_CONNS -d$LOGIN_DURATION --latency -s bench/login.lua https://127.0.0.1:PORT/api/v1/auth/login\` (keep-alive TLS, client and server on the same 2 cores), rotating over $LOGIN_USERS customers. Each request is a fresh password login (no cookies kept) of a customer on a trusted device from a usual network: one Argon2id verification through anfud's capped pool, then a new session in state "active", a login-attempt row and an audit record in one durable SQLite commit. Every 200 counts as one login.
- Customers: registered by SMS code, then logged in once from the benchmark's device with the SMS second factor and trust_device (bench/login_users.py, through the test hooks)
- Config beyond prepare_data's: [captcha] mode = after_failures, after_failures = 1 (no captcha for logins that do not fail); [session] on_limit = end_oldest, [session.customer] max_sessions = 10; [lockout] ip_failures = 10000; per-IP rate and connection limits raised
- Test hooks: this build adds the /test/v1 routes and keeps the answers of captchas when they are made; everything a login runs (routing, JSON decoding, iam/login.c, the iam/pwhash pool, SQLite, the audit writer) is the same code as in the production build
- $LOGIN_REPEAT alternating pairs (raw, then logins), each after the idle gate; the ratio is taken per pair, and its median is reported
- Login handlers run on anfud's offload pool ([http] offload_threads = 6 by default), not on the MHD worker that owns the connection; the pool's cap (max_concurrent = $ARGON2_MAX_CONCURRENT) alone bounds the Argon2id hashes in flight, wherever the connections landed
- "Connections per MHD worker" is sampled halfway through each wrk run: the connections in each worker's epoll set. A connection whose login waits for or runs on the offload pool is suspended and not in the set, so 0 everywhere means every connection had a login in the pool
- "Per CPU-second" divides logins per CPU-second of anfud by verifications per CPU-second of bench_argon2: the work anfud adds to a login beyond Argon2id, whatever share of the 2 cores it got
EOF
}

login_header() {
	echo '| pair | raw verifies/s | raw ms/verify | raw CPU (of one core) | raw: foreign CPU | raw: busy before | logins/s | p50 | p99 | 200 / other | states | connections per MHD worker | anfud CPU (of one core) | wrk CPU | logins: foreign CPU | logins: busy before | **logins ÷ raw** | per CPU-second: logins ÷ raw |'
	echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
}

# login_pair I ANFUD_PID PORT ARGON2_BINARY CONFIG: one raw run and one wrk
# run; appends to the *_l arrays of bench_login and prints a table row.
login_pair() {
	local i=$1 pid=$2 port=$3 argon=$4 conf=$5 raw_idle ok other states lps ratio cpu_ratio place
	wait_idle
	raw_idle=$IDLE_BEFORE
	log "login pair $i: bench_argon2 for $LOGIN_SECS s"
	run_argon2 "$argon" "$conf" "$LOGIN_SECS" || die "bench_argon2 failed"
	wait_idle
	log "login pair $i: wrk -c$LOGIN_CONNS -d$LOGIN_DURATION on port $port"
	place=$(mktemp "${TMPDIR:-/tmp}/anfu-place-XXXXXX")
	worker_conns_later "$pid" $((LOGIN_SECS / 2)) "$place"
	RUN_WRK_ARGS="-t$WRK_THREADS -c$LOGIN_CONNS -d$LOGIN_DURATION --timeout 30s --latency -s $ROOT/bench/login.lua" \
		RUN_WRK_PATH=/api/v1/auth/login run_wrk "$port" "$pid" || die "wrk failed against anfud"
	wait "$LATER_PID" 2>/dev/null
	LATER_PID=
	place_l+=("$(cat "$place")")
	rm -f "$place"
	ok=$(kv login_200 "$WRK_OUT")
	other=$(kv login_other "$WRK_OUT")
	states="active $(kv state_active "$WRK_OUT"), mfa_required $(kv state_mfa_required "$WRK_OUT"), required_actions $(kv state_required_actions "$WRK_OUT")"
	[ "${other:-1}" = 0 ] || log "anfud answered ${other:-?} non-200 logins ($(kv other_statuses "$WRK_OUT")): run not valid"
	# wrk's rate counts every answer; a login is a 200.
	lps=$(awk -v r="$WRK_RPS" -v ok="${ok:-0}" -v o="${other:-0}" \
		'BEGIN {printf "%.2f", (ok + o > 0) ? r * ok / (ok + o) : 0}')
	ratio=$(awk -v a="$lps" -v b="$RAW_VPS" 'BEGIN {printf "%.1f", 100 * a / b}')
	# Logins per CPU-second of anfud against verifications per CPU-second
	# of bench_argon2: what anfud spends beyond Argon2id, independent of
	# the CPU that wrk and other tenants take.
	cpu_ratio=$(awk -v l="${ok:-0}" -v ls="$WRK_SERVER_CPU_S" -v v="${RAW_OPS:-0}" -v vs="$RAW_CPU_S" \
		'BEGIN {printf "%.1f", (ls > 0 && v > 0) ? 100 * (l / ls) / (v / vs) : 0}')
	raw_l+=("$RAW_VPS")
	lps_l+=("$lps")
	ratio_l+=("$ratio")
	cpu_ratio_l+=("$cpu_ratio")
	printf '| %s | %s | %s | %s %% | %s %% | %s | %s | %s | %s | %s / %s | %s | %s | %s %% | %s %% | %s %% | %s | **%s %%** | %s %% |\n' \
		"$i" "$RAW_VPS" "$RAW_LAT" "$RAW_CPU" "$RAW_FOREIGN" "$raw_idle" "$lps" "$WRK_P50" \
		"$WRK_P99" "${ok:-?}" "${other:-?}" "$states" "${place_l[-1]}" "$WRK_SERVER_CPU" "$WRK_CLIENT_CPU" \
		"$WRK_FOREIGN" "$IDLE_BEFORE" "$ratio" "$cpu_ratio"
	rm -f "$RAW_OUT" "$WRK_OUT"
}

login_mem_header() {
	echo '| [http] threads | connections | duration | logins (200) / other | socket errors | connections per MHD worker (mid-run) | idle VmRSS | VmHWM before | VmHWM after (peak RSS) | peak − idle RSS | Argon2id areas in flight (max sampled) | cap: max_concurrent × memlimit | cap + slack | peak − idle ≤ cap + slack | foreign CPU (incl. the sampler) | busy before |'
	echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
}

# login_memory ANFUD DATA_DIR THREADS: a fresh anfud with THREADS [http]
# threads; its idle VmRSS and VmHWM, then LOGIN_MEM_CONNS connections
# logging in at once for LOGIN_MEM_DURATION, then VmHWM again. Prints a
# table row.
login_memory() {
	local anfud=$1 dir=$2 threads=$3 rss0 hwm0 hwm1 watch_out cap limit over ok other verdict place
	sed -i "s/^threads = .*/threads = $threads/" "$dir/anfu.conf"
	start_anfud "$anfud" "$dir" || die "anfud did not start"
	wait_idle
	rss0=$(status_kib "$ANFUD_PID" VmRSS)
	hwm0=$(status_kib "$ANFUD_PID" VmHWM)
	watch_out=$(mktemp "${TMPDIR:-/tmp}/anfu-watch-XXXXXX")
	"$PYTHON" "$ROOT/bench/proc_watch.py" --pid "$ANFUD_PID" \
		--region-bytes $((ARGON2_MEMLIMIT_KIB * 1024)) --interval 0.02 >"$watch_out" &
	WATCH_PID=$!
	log "login memory: $threads threads, wrk -c$LOGIN_MEM_CONNS -d$LOGIN_MEM_DURATION on port $ANFUD_PORT"
	place=$(mktemp "${TMPDIR:-/tmp}/anfu-place-XXXXXX")
	worker_conns_later "$ANFUD_PID" $(( ${LOGIN_MEM_DURATION%s} / 2 )) "$place"
	RUN_WRK_ARGS="-t$WRK_THREADS -c$LOGIN_MEM_CONNS -d$LOGIN_MEM_DURATION --timeout 60s --latency -s $ROOT/bench/login.lua" \
		RUN_WRK_PATH=/api/v1/auth/login run_wrk "$ANFUD_PORT" "$ANFUD_PID" || die "wrk failed against anfud"
	hwm1=$(status_kib "$ANFUD_PID" VmHWM)
	wait "$LATER_PID" 2>/dev/null
	LATER_PID=
	kill -TERM "$WATCH_PID" 2>/dev/null
	wait "$WATCH_PID" 2>/dev/null
	WATCH_PID=
	stop_anfud
	cap=$((ARGON2_MAX_CONCURRENT * ARGON2_MEMLIMIT_KIB))
	limit=$((cap + LOGIN_MEM_SLACK_KIB))
	over=$((hwm1 - rss0))
	ok=$(kv login_200 "$WRK_OUT")
	other=$(kv login_other "$WRK_OUT")
	verdict=$([ "$over" -le "$limit" ] && echo yes || echo "**NO**")
	MEM_VERDICTS+=("$verdict")
	printf '| %s | %s | %s | %s / %s | %s | %s | %s MiB | %s MiB | %s MiB | %s MiB | %s | %s MiB | %s MiB | %s | %s %% | %s |\n' \
		"$threads" "$LOGIN_MEM_CONNS" "$LOGIN_MEM_DURATION" "${ok:-?}" "${other:-?}" "$WRK_ERRORS" "$(cat "$place")" \
		"$(mib "$rss0")" "$(mib "$hwm0")" "$(mib "$hwm1")" "$(mib "$over")" \
		"$(kv argon2_inflight_max "$watch_out")" "$(mib "$cap")" "$(mib "$limit")" "$verdict" \
		"$WRK_FOREIGN" "$IDLE_BEFORE"
	rm -f "$watch_out" "$place" "$WRK_OUT"
}

# KiB -> MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'
}

# bench_login: the whole login section (see the header of this file).
bench_login() {
	local dir=$WORK/login anfud=$BUILD_TEST/anfud anfu=$BUILD_TEST/anfu
	local argon=$BUILD_TEST/bench/bench_argon2 bodies i t ratio raw_l=() lps_l=() ratio_l=() cpu_ratio_l=() place_l=()
	[ -x "$anfud" ] && [ -x "$anfu" ] ||
		die "$BUILD_TEST has no anfud/anfu (meson setup $BUILD_TEST -Dtest_hooks=true && ninja -C $BUILD_TEST)"
	[ -x "$argon" ] || die "$argon not built (ninja -C $BUILD_TEST bench/bench_argon2)"
	build_options "$BUILD_TEST" | grep -q 'test_hooks=True' ||
		die "$BUILD_TEST is not a test-hooks build (meson configure $BUILD_TEST -Dtest_hooks=true)"
	case $LOGIN_DURATION in *[!0-9s]* | s* | '') die "LOGIN_DURATION: whole seconds, e.g. 20s" ;; esac
	case $LOGIN_MEM_DURATION in *[!0-9s]* | s* | '') die "LOGIN_MEM_DURATION: whole seconds, e.g. 10s" ;; esac
	LOGIN_SECS=${LOGIN_DURATION%s}
	prepare_data "$anfu" "$dir" "$(login_config)" || die "anfu init failed"
	start_anfud "$anfud" "$dir" || die "anfud did not start"
	TLS_PARAMS=$(tls_params "$ANFUD_PORT")
	bodies=$dir/login-bodies.txt
	log "login: making $LOGIN_USERS customers"
	"$PYTHON" "$ROOT/bench/login_users.py" --port "$ANFUD_PORT" --cert "$dir/tls/server.crt" \
		--users "$LOGIN_USERS" --out "$bodies" || die "making the customers failed"
	export ANFU_LOGIN_BODIES=$bodies

	login_conditions "$dir"
	echo
	login_header
	for i in $(seq 1 "$LOGIN_REPEAT"); do
		login_pair "$i" "$ANFUD_PID" "$ANFUD_PORT" "$argon" "$dir/anfu.conf"
	done
	stop_anfud
	ratio=$(median "${ratio_l[@]}")
	echo
	echo "Medians of $LOGIN_REPEAT pair(s): raw Argon2id $(median "${raw_l[@]}") verifies/s, anfud $(median "${lps_l[@]}") logins/s."
	echo "logins ÷ raw verifies = **$ratio %** (median of the pairwise ratios ${ratio_l[*]}; goal >= 90 %: $(awk -v r="$ratio" 'BEGIN {print (r >= 90) ? "met" : "NOT met"}'))."
	echo "Per CPU-second (anfud's CPU against bench_argon2's, so neither wrk's share of the 2 cores nor other tenants count): $(median "${cpu_ratio_l[@]}") % (median of ${cpu_ratio_l[*]})."
	echo
	echo "#### Peak memory under $LOGIN_MEM_CONNS concurrent logins"
	echo
	echo "A fresh anfud per row (same data directory and customers). Idle VmRSS and VmHWM are read after start-up (VmHWM then already includes the one dummy hash anfud makes at start); bench/proc_watch.py samples /proc every 20 ms during the run and counts the Argon2id work areas mapped (libsodium mmap()s $ARGON2_MEMLIMIT_KIB KiB per hash), a sampled lower bound on the hashes in flight (anfud exposes no peak counter of its pool). wrk: \`-t$WRK_THREADS -c$LOGIN_MEM_CONNS -d$LOGIN_MEM_DURATION --timeout 60s -s bench/login.lua\`. The slack ($((LOGIN_MEM_SLACK_KIB / 1024)) MiB) allows for the $LOGIN_MEM_CONNS TLS sessions, MHD connection pools and the per-thread SQLite caches. Logins run on the offload pool ([http] offload_threads, default 6, more than max_concurrent), so every row tests the pool's cap, whatever [http] threads is. Login rates here are not throughput numbers: $LOGIN_MEM_CONNS connections queue behind 2 cores."
	echo
	MEM_VERDICTS=()
	login_mem_header
	for t in $LOGIN_MEM_THREADS; do
		login_memory "$anfud" "$dir" "$t"
	done
	echo
	echo "Peak memory within max_concurrent × memlimit_kib + slack in every row: $(printf '%s\n' "${MEM_VERDICTS[@]}" | grep -q NO && echo '**NOT met**' || echo met)."
}

# ---- the wallet transfer benchmark (issue 10) ------------------------------

# INI text appended to prepare_data's config for the wallet runs.
wallet_config() {
	cat <<EOF
# Wallet benchmark: customers are made by bench/wallet_users.py, which logs
# them in with correct passwords only (no captcha needed).
[captcha]
mode = after_failures
after_failures = 1

# No failures are expected; the per-IP throttle must not shape the result.
[lockout]
ip_failures = 10000
EOF
	if [ -n "$WALLET_BATCH_WAIT_US" ]; then
		printf '\n[ledger]\nbatch_wait_us = %s\n' "$WALLET_BATCH_WAIT_US"
	fi
}

# anfud's /metrics (admin listener, port $1) into file $2.
wallet_metrics() {
	curl -s --max-time 10 --cacert "$WALLET_DIR/tls/server.crt" "https://127.0.0.1:$1/metrics" >"$2" 2>/dev/null
}

# What the server did during one run, from two /metrics snapshots ($1
# before, $2 after; $3: the run's seconds, warm-up included; $4: the
# transfers (or payments) answered 2xx in it; $5: what $4 counts, e.g.
# "transfer"; then LABEL=METHOD:ROUTE words: the routes whose server-side
# mean time to show): ledger writer batches, durable commits, server-side
# request times. One line.
wallet_where() {
	/usr/bin/python3 - "$@" <<'PY'
import sys
def load(path):
    m = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#"):
            continue
        k, _, v = line.rstrip().rpartition(" ")
        try:
            m[k] = float(v)
        except ValueError:
            pass
    return m
a, b = load(sys.argv[1]), load(sys.argv[2])
secs, n = float(sys.argv[3]), max(float(sys.argv[4]), 1)
d = lambda k: b.get(k, 0) - a.get(k, 0)
bc = d('anfu_ledger_batches_total{outcome="committed"}')
bt, bs = d("anfu_ledger_transfers_total"), d("anfu_ledger_batch_duration_seconds_sum{}")
cc, cs = d("anfu_db_commit_duration_seconds_count{}"), d("anfu_db_commit_duration_seconds_sum{}")
wc, ws = d("anfu_db_write_lock_wait_seconds_count{}"), d("anfu_db_write_lock_wait_seconds_sum{}")
def route(method, r):
    k = 'anfu_http_request_duration_seconds_%s{method="%s",route="%s",}'
    c, s = d(k % ("count", method, r)), d(k % ("sum", method, r))
    return "%.2f ms" % (1000 * s / c) if c else "?"
what = sys.argv[5]
routes = ", ".join("%s %s" % (lab, route(*mr.split(":", 1)))
                   for lab, _, mr in (w.partition("=") for w in sys.argv[6:]))
print("ledger writer: %d batches, %.2f transfers per batch, %.2f ms per batch, busy %.0f %% of the run; "
      "durable commits (all threads): %.2f per %s, %.2f ms each on average; "
      "waits for the write lock: %.1f ms per second of the run (%.2f ms per write transaction); "
      "server-side mean (handler to response): %s"
      % (bc, bt / bc if bc else 0, 1000 * bs / bc if bc else 0, 100 * bs / secs if secs else 0,
         cc / n, what, 1000 * cs / cc if cc else 0, 1000 * ws / secs if secs else 0,
         1000 * ws / wc if wc else 0, routes))
PY
}

wallet_header() {
	echo '| pair | TPC-B tps | TPC-B latency (avg) | TPC-B: busy before | transfers/s | confirm p50 | confirm p99 | pair p50 | pair p99 | preview p99 | errors | anfud CPU (of one core) | bench_wallet CPU | foreign CPU | transfers: busy before | **transfers ÷ TPC-B** |'
	echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
}

# wallet_tpcb: one pgbench TPC-B run in database tpcb. Sets TPCB_TPS,
# TPCB_LAT, TPCB_IDLE.
wallet_tpcb() {
	local out
	"$WALLET_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d tpcb -c CHECKPOINT >/dev/null || return 1
	wait_idle
	TPCB_IDLE=$IDLE_BEFORE
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-tpcb-XXXXXX")
	log "wallet: pgbench TPC-B -c $WALLET_TPCB_CLIENTS -j $WALLET_TPCB_JOBS -T $WALLET_SECS -M prepared"
	"$WALLET_PG_BIN/pgbench" -c "$WALLET_TPCB_CLIENTS" -j "$WALLET_TPCB_JOBS" -T "$WALLET_SECS" \
		-M prepared tpcb >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; return 1; }
	TPCB_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out" |
		awk '{printf "%.1f", $1}')
	TPCB_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")
	TPCB_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	rm -f "$out"
	[ -n "$TPCB_TPS" ] && [ "${TPCB_FAILED:-1}" = 0 ] || { log "pgbench: no tps, or failed transactions"; return 1; }
}

# timed_load OUT CMD [ARGS...]: one run of a load generator (CMD, its
# stdout and stderr into OUT) against the running anfud, after the idle
# gate, timed like run_wrk: sets W_IDLE, W_FOREIGN, W_SERVER_CPU,
# W_CLIENT_CPU and W_M0 / W_M1 (anfud's /metrics before and after; the
# caller removes them); with WALLET_PERF, perf samples anfud meanwhile.
timed_load() {
	local out=$1 timing b0 t0 b1 t1 s0 s1 cpu
	shift
	wait_idle
	W_IDLE=$IDLE_BEFORE
	timing=$(mktemp "${TMPDIR:-/tmp}/anfu-load-time-XXXXXX")
	W_M0=$(mktemp "${TMPDIR:-/tmp}/anfu-metrics-XXXXXX")
	W_M1=$(mktemp "${TMPDIR:-/tmp}/anfu-metrics-XXXXXX")
	wallet_metrics "$WALLET_ADMIN_PORT" "$W_M0"
	if [ -n "$WALLET_PERF" ]; then
		perf record -q -e cpu-clock -F "$WALLET_PERF_FREQ" --call-graph "$WALLET_PERF_CALLGRAPH" \
			-p "$ANFUD_PID" -o "$WALLET_PERF.$WALLET_RUN_NO" >/dev/null 2>&1 &
		WALLET_PERF_PID=$!
	fi
	read -r b0 t0 < <(cpu_jiffies)
	s0=$(proc_jiffies "$ANFUD_PID")
	{ TIMEFORMAT='%U %S'; time "$@" >"$out" 2>&1; } 2>"$timing"
	s1=$(proc_jiffies "$ANFUD_PID")
	read -r b1 t1 < <(cpu_jiffies)
	if [ -n "${WALLET_PERF_PID:-}" ]; then
		kill -INT "$WALLET_PERF_PID" 2>/dev/null
		wait "$WALLET_PERF_PID" 2>/dev/null
		WALLET_PERF_PID=
	fi
	wallet_metrics "$WALLET_ADMIN_PORT" "$W_M1"
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($1 + $2) * hz}' "$timing")
	W_FOREIGN=$(( (b1 - b0 - (s1 - s0) - cpu) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
	[ "$W_FOREIGN" -lt 0 ] && W_FOREIGN=0
	W_SERVER_CPU=$(( (s1 - s0) * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
	W_CLIENT_CPU=$(( cpu * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
	rm -f "$timing"
}

# wallet_run: one bench_wallet run against the running anfud (timed_load).
# Sets the W_* variables of the table row and adds its transfers (warm-up
# included) to WALLET_OK_TOTAL.
wallet_run() {
	local out
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-wallet-XXXXXX")
	log "wallet: bench_wallet --conns $WALLET_CONNS --seconds $WALLET_SECS (+ $WALLET_WARMUP s warm-up) on port $ANFUD_PORT"
	timed_load "$out" "$BUILD_TEST/bench/bench_wallet" --url "https://127.0.0.1:$ANFUD_PORT" \
		--cacert "$WALLET_DIR/tls/server.crt" --users "$WALLET_DIR/wallet-users.txt" \
		--pin "$WALLET_PIN" --conns "$WALLET_CONNS" --seconds "$WALLET_SECS" \
		--warmup "$WALLET_WARMUP" --max-amount "$WALLET_MAX_AMOUNT"
	W_XPS=$(kv transfers_per_s "$out")
	W_CP50=$(kv confirm_p50_ms "$out")
	W_CP99=$(kv confirm_p99_ms "$out")
	W_PP50=$(kv pair_p50_ms "$out")
	W_PP99=$(kv pair_p99_ms "$out")
	W_VP99=$(kv preview_p99_ms "$out")
	W_ERRORS=$(kv errors "$out")
	W_DETAIL=$(grep '^#' "$out")
	W_WHERE=$(wallet_where "$W_M0" "$W_M1" "$((WALLET_SECS + WALLET_WARMUP))" "$(kv ok_total "$out")" \
		transfer preview=POST:/api/v1/me/transfers/preview confirm=POST:/api/v1/me/transfers)
	rm -f "$W_M0" "$W_M1"
	[ -n "$W_XPS" ] || { cat "$out" >&2; rm -f "$out"; return 1; }
	WALLET_OK_TOTAL=$((WALLET_OK_TOTAL + $(kv ok_total "$out")))
	rm -f "$out"
}

wallet_conditions() {
	cat <<EOF
- anfud: \`$BUILD_TEST/anfud\` ($(build_options "$BUILD_TEST")) on SQLite (WAL, synchronous = FULL: the defaults), data directory in $BENCH_DIR ($(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || echo '?')); [http] threads = $WALLET_HTTP_THREADS_USED, the rest of [http] the defaults; TLS $TLS_PARAMS. The test hooks add routes; they are used only to make and fund the customers
- Customers: $WALLET_USERS, made by bench/wallet_users.py (registered by SMS code with a real name, logged in from the benchmark's device with the SMS second factor, stepped up, payment PIN set, $WALLET_FUNDS fen credited through /test/v1/wallet/credit). [wallet] limits: the defaults (PIN alone: 100000 fen a transfer and a day; the amounts stay far below)
- Load: \`bench_wallet --conns $WALLET_CONNS --seconds $WALLET_SECS --warmup $WALLET_WARMUP --max-amount $WALLET_MAX_AMOUNT\` (bench/bench_wallet.c, libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2)): $WALLET_CONNS threads, each with one keep-alive HTTPS connection and the session (cookie + CSRF token) of its own payer, repeating POST /api/v1/me/transfers/preview then POST /api/v1/me/transfers with the payment PIN; payee at random among the other $((WALLET_USERS - 1)) customers, amount 1..$WALLET_MAX_AMOUNT fen. A transfer counts when both requests answered 201 and the confirmation finished in the measured window; latencies are the client's: preview, confirm, and the pair (preview sent to confirmation answered)
- TPC-B: $("$WALLET_PG_BIN/pgbench" --version) against a throwaway cluster (scripts/pg-cluster.sh: PostgreSQL's defaults, fsync and synchronous_commit on) in $BENCH_DIR; \`pgbench -i -s $WALLET_TPCB_SCALE\`, then \`pgbench -c $WALLET_TPCB_CLIENTS -j $WALLET_TPCB_JOBS -T $WALLET_SECS -M prepared\` (the built-in TPC-B-like script). The cluster is idle during the transfer runs, anfud idle during TPC-B
- $WALLET_REPEAT alternating pairs (TPC-B, then transfers), each run after the idle gate; the ratio is taken per pair and its median reported. Goal (issue 10): transfers/s ≥ 3 × TPC-B tps, p99 < 25 ms
- Load average before the pairs: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
}

# hooks_build_check PROGRAM: BUILD_TEST is a test-hooks build with anfud,
# anfu and bench/PROGRAM.
hooks_build_check() {
	[ -x "$BUILD_TEST/anfud" ] && [ -x "$BUILD_TEST/anfu" ] ||
		die "$BUILD_TEST has no anfud/anfu (meson setup $BUILD_TEST -Dtest_hooks=true && ninja -C $BUILD_TEST)"
	[ -x "$BUILD_TEST/bench/$1" ] ||
		die "$BUILD_TEST/bench/$1 not built (ninja -C $BUILD_TEST bench/$1)"
	build_options "$BUILD_TEST" | grep -q 'test_hooks=True' ||
		die "$BUILD_TEST is not a test-hooks build (meson configure $BUILD_TEST -Dtest_hooks=true)"
}

# tpcb_cluster WHAT: checks WALLET_DURATION (sets WALLET_SECS), starts the
# throwaway PostgreSQL cluster of TPC-B in $WORK/pg (cleanup stops it) and
# loads pgbench's tables at WALLET_TPCB_SCALE. WHAT prefixes the progress.
tpcb_cluster() {
	local env line
	case $WALLET_DURATION in *[!0-9s]* | s* | '') die "WALLET_DURATION: whole seconds, e.g. 20s" ;; esac
	WALLET_SECS=${WALLET_DURATION%s}
	WALLET_PG_BIN=${ANFU_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
	[ -x "$WALLET_PG_BIN/pgbench" ] || die "no pgbench in '$WALLET_PG_BIN' (scripts/deps.sh test installs postgresql-15)"
	chmod 0755 "$WORK"
	WALLET_PG_DIR=$WORK/pg
	env=$("$ROOT/scripts/pg-cluster.sh" start "$WALLET_PG_DIR") || die "the cluster did not start"
	while IFS= read -r line; do
		case $line in PG*=*) export "${line?}" ;; esac
	done <<<"$env"
	"$WALLET_PG_BIN/psql" -X -q -d anfu -c 'CREATE DATABASE tpcb' || die "psql failed"
	log "$1: pgbench -i -s $WALLET_TPCB_SCALE"
	"$WALLET_PG_BIN/pgbench" -i -s "$WALLET_TPCB_SCALE" -I dtGvp -q tpcb >/dev/null 2>&1 || die "pgbench -i failed"
}

# hooks_anfud DIR: a test-hooks anfud ($BUILD_TEST) on SQLite in DIR
# (prepare_data with wallet_config), its admin listener on (a free port)
# for /metrics, [http] threads WALLET_HTTP_THREADS or anfud's default.
# Sets WALLET_DIR, WALLET_ADMIN_PORT, WALLET_HTTP_THREADS_USED, TLS_PARAMS
# and what start_anfud sets.
hooks_anfud() {
	local anfu=$BUILD_TEST/anfu
	WALLET_DIR=$1
	prepare_data "$anfu" "$WALLET_DIR" "$(wallet_config)" || die "anfu init failed"
	# prepare_data wrote threads = $THREADS: set WALLET_HTTP_THREADS, or drop
	# the line so that anfud's own default applies.
	if [ -n "$WALLET_HTTP_THREADS" ]; then
		sed -i -e "/^\[http\]/,/^\[/ s/^threads = .*/threads = $WALLET_HTTP_THREADS/" "$WALLET_DIR/anfu.conf"
		WALLET_HTTP_THREADS_USED=$WALLET_HTTP_THREADS
	else
		sed -i -e '/^\[http\]/,/^\[/ {/^threads = /d}' "$WALLET_DIR/anfu.conf"
		WALLET_HTTP_THREADS_USED="$("$anfu" config example | sed -n '/^\[http\]/,/^\[/ s/^threads = //p') (the default)"
	fi
	sed -i -e 's/^enabled = false$/enabled = true\nport = 0/' "$WALLET_DIR/anfu.conf"
	start_anfud "$BUILD_TEST/anfud" "$WALLET_DIR" || die "anfud did not start"
	WALLET_ADMIN_PORT=$(sed -n 's/.*"admin_port": *\([0-9]*\).*/\1/p' "$WALLET_DIR/run/anfud.json")
	TLS_PARAMS=$(tls_params "$ANFUD_PORT")
}

# bench_wallet: the whole wallet section (see the header of this file).
bench_wallet() {
	local anfu=$BUILD_TEST/anfu i ratio n_rows verify
	local xps_l=() tpcb_l=() ratio_l=() cp99_l=() pp99_l=() where_l=() detail_l=()
	hooks_build_check bench_wallet
	tpcb_cluster wallet
	hooks_anfud "$WORK/wallet"
	log "wallet: making $WALLET_USERS customers"
	"$PYTHON" "$ROOT/bench/wallet_users.py" --port "$ANFUD_PORT" --cert "$WALLET_DIR/tls/server.crt" \
		--users "$WALLET_USERS" --pin "$WALLET_PIN" --funds "$WALLET_FUNDS" \
		--out "$WALLET_DIR/wallet-users.txt" || die "making the customers failed"

	wallet_conditions
	echo
	wallet_header
	WALLET_OK_TOTAL=0
	for i in $(seq 1 "$WALLET_REPEAT"); do
		wallet_tpcb || die "TPC-B failed"
		WALLET_RUN_NO=$i
		wallet_run || die "bench_wallet failed"
		ratio=$(awk -v a="$W_XPS" -v b="$TPCB_TPS" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
		xps_l+=("$W_XPS")
		tpcb_l+=("$TPCB_TPS")
		ratio_l+=("$ratio")
		cp99_l+=("$W_CP99")
		pp99_l+=("$W_PP99")
		where_l+=("pair $i: $W_WHERE")
		detail_l+=("# pair $i" "$W_DETAIL")
		printf '| %s | %s | %s ms | %s | %s | %s ms | %s ms | %s ms | %s ms | %s ms | %s | %s %% | %s %% | %s %% | %s | **%s ×** |\n' \
			"$i" "$TPCB_TPS" "$TPCB_LAT" "$TPCB_IDLE" "$W_XPS" "$W_CP50" "$W_CP99" "$W_PP50" \
			"$W_PP99" "$W_VP99" "$W_ERRORS" "$W_SERVER_CPU" "$W_CLIENT_CPU" "$W_FOREIGN" "$W_IDLE" "$ratio"
	done
	stop_anfud
	echo
	echo "What anfud did in each transfer run (its /metrics before and after, warm-up included):"
	echo
	printf -- '- %s\n' "${where_l[@]}"
	echo
	echo '```'
	printf '%s\n' "${detail_l[@]}"
	echo '```'
	echo
	# The server's books against the client's count.
	n_rows=$(sqlite3 "$WALLET_DIR/anfu.db" 'SELECT COUNT(*) FROM wallet_transfer' 2>/dev/null)
	verify=$("$anfu" ledger verify --data "$WALLET_DIR" 2>&1 | tail -1)
	echo "Check: $WALLET_OK_TOTAL transfers answered 201 to bench_wallet (all runs, warm-ups included); wallet_transfer rows: ${n_rows:-?} ($([ "${n_rows:-x}" = "$WALLET_OK_TOTAL" ] && echo equal || echo '**DIFFERENT**')); \`anfu ledger verify\`: $verify"
	echo
	ratio=$(median "${ratio_l[@]}")
	echo "Medians of $WALLET_REPEAT pair(s): TPC-B $(median "${tpcb_l[@]}") tps; transfers $(median "${xps_l[@]}")/s; confirm p99 $(median "${cp99_l[@]}") ms; pair p99 $(median "${pp99_l[@]}") ms."
	echo "transfers ÷ TPC-B = **$ratio ×** (median of the pairwise ratios ${ratio_l[*]}; goal ≥ 3 ×: $(awk -v r="$ratio" 'BEGIN {print (r >= 3) ? "met" : "**NOT met**"}')); p99 < 25 ms: confirm $(awk -v r="$(median "${cp99_l[@]}")" 'BEGIN {print (r < 25) ? "met" : "**NOT met**"}'), pair $(awk -v r="$(median "${pp99_l[@]}")" 'BEGIN {print (r < 25) ? "met" : "**NOT met**"}')."
}

# ---- the payment-code benchmark (issue 11) ---------------------------------

# paycode_run: one bench_paycode run against the running anfud
# (timed_load). Sets the W_* variables of the table row and adds its
# payments and their fen (warm-up included) to PAYCODE_OK_TOTAL and
# PAYCODE_AMOUNT_TOTAL.
paycode_run() {
	local out
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-paycode-XXXXXX")
	log "paycode: bench_paycode --conns $PAYCODE_CONNS --seconds $WALLET_SECS (+ $WALLET_WARMUP s warm-up) on port $ANFUD_PORT"
	timed_load "$out" "$BUILD_TEST/bench/bench_paycode" --url "https://127.0.0.1:$ANFUD_PORT" \
		--cacert "$WALLET_DIR/tls/server.crt" --users "$WALLET_DIR/paycode-users.txt" \
		--merchants "$WALLET_DIR/paycode-tills.txt" --conns "$PAYCODE_CONNS" \
		--seconds "$WALLET_SECS" --warmup "$WALLET_WARMUP" --max-amount "$PAYCODE_MAX_AMOUNT"
	W_XPS=$(kv payments_per_s "$out")
	W_CP50=$(kv pay_p50_ms "$out")
	W_CP99=$(kv pay_p99_ms "$out")
	W_PP99=$(kv cycle_p99_ms "$out")
	W_VP99=$(kv issue_p99_ms "$out")
	W_ERRORS=$(kv errors "$out")
	W_DETAIL=$(grep '^#' "$out")
	W_WHERE=$(wallet_where "$W_M0" "$W_M1" "$((WALLET_SECS + WALLET_WARMUP))" "$(kv ok_total "$out")" \
		payment pay=POST:/api/v1/merchant/paycode-payments issue=POST:/api/v1/me/paycode)
	rm -f "$W_M0" "$W_M1"
	[ -n "$W_XPS" ] || { cat "$out" >&2; rm -f "$out"; return 1; }
	PAYCODE_OK_TOTAL=$((PAYCODE_OK_TOTAL + $(kv ok_total "$out")))
	PAYCODE_AMOUNT_TOTAL=$((PAYCODE_AMOUNT_TOTAL + $(kv amount_total "$out")))
	rm -f "$out"
}

paycode_conditions() {
	cat <<EOF
- anfud: \`$BUILD_TEST/anfud\` ($(build_options "$BUILD_TEST")) on SQLite (WAL, synchronous = FULL: the defaults), data directory in $BENCH_DIR ($(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || echo '?')); [http] threads = $WALLET_HTTP_THREADS_USED, the rest of [http] the defaults; [pay] the defaults (paycode_nopin_max 20000 fen); TLS $TLS_PARAMS. The test hooks add routes; they are used only to make and fund the customers
- People: $PAYCODE_USERS customers made by bench/paycode_users.py as bench/wallet_users.py makes them ($WALLET_FUNDS fen each through /test/v1/wallet/credit; [wallet] limits the defaults: PIN alone 100000 fen a payment and a day, far above what a customer pays here); the merchant mch_bench with a payment profile at $PAYCODE_FEE_BPS bps, registered by a bootstrapped operator; one merchant administrator (made by a bootstrapped security administrator, initial password by SMS) with $PAYCODE_TILLS till session(s)
- Load: \`bench_paycode --conns $PAYCODE_CONNS --seconds $WALLET_SECS --warmup $WALLET_WARMUP --max-amount $PAYCODE_MAX_AMOUNT\` (bench/bench_paycode.c, libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2)): $PAYCODE_CONNS threads, each one keep-alive HTTPS connection that owns every $PAYCODE_CONNS-th customer and a till session; per payment it issues a fresh code as its next customer (POST /api/v1/me/paycode: one live code per customer, so no pool ahead) and then, timed, collects it as the till (POST /api/v1/merchant/paycode-payments with a new out_trade_no, amount 1..$PAYCODE_MAX_AMOUNT fen: paid at once, no PIN). payments/s counts the 201 "paid" answers finished in the measured window, whose time also holds the code issues; "pay" is the merchant's request, "issue" the customer's, "cycle" both
- TPC-B: $("$WALLET_PG_BIN/pgbench" --version) against a throwaway cluster (scripts/pg-cluster.sh: PostgreSQL's defaults, fsync and synchronous_commit on) in $BENCH_DIR; \`pgbench -i -s $WALLET_TPCB_SCALE\`, then \`pgbench -c $WALLET_TPCB_CLIENTS -j $WALLET_TPCB_JOBS -T $WALLET_SECS -M prepared\` (the built-in TPC-B-like script). The cluster is idle during the payment runs, anfud idle during TPC-B
- $WALLET_REPEAT alternating pairs (TPC-B, then payments), each run after the idle gate; the ratio is taken per pair and its median reported. Goal (issue 11): payments/s ≥ 3 × TPC-B tps, p99 < 25 ms
- Load average before the pairs: $(cut -d' ' -f1-3 /proc/loadavg)
EOF
}

# paycode_books ROW OK AMOUNT: the verdict on bench/paycode_check.sql's row
# (orders|paid|payments|amount|fee|chain_bad|pending_net|transfers) against
# the client's OK payments of AMOUNT fen (all runs, warm-ups included).
paycode_books() {
	local orders paid payments amount fee bad net transfers verdict=ok
	IFS='|' read -r orders paid payments amount fee bad net transfers <<<"$1"
	if [ "$orders" != "$2" ] || [ "$paid" != "$2" ] || [ "$payments" != "$2" ] ||
		[ "$amount" != "$3" ] || [ "$bad" != 0 ] || [ "$net" != "$((amount - fee))" ] ||
		[ "$transfers" -lt "$payments" ] || [ "$transfers" -gt "$((2 * payments))" ]; then
		verdict='**FAILED**'
	fi
	echo "$verdict: $2 payments ($3 fen) answered 201 paid to bench_paycode (all runs, warm-ups included); the merchant's orders $orders, paid $paid, pay_payment rows by code $payments, $amount fen, fees $fee fen; ledger chains not as paid: $bad; merchant_pending net $net fen (amount - fees: $((amount - fee))); the chains' ledger transfers: $transfers"
}

# bench_paycode: the whole payment-code section (see the header of this file).
bench_paycode() {
	local anfu=$BUILD_TEST/anfu i ratio books verify
	local xps_l=() tpcb_l=() ratio_l=() cp99_l=() pp99_l=() where_l=() detail_l=()
	hooks_build_check bench_paycode
	tpcb_cluster paycode
	hooks_anfud "$WORK/paycode"
	log "paycode: making $PAYCODE_USERS customers and the merchant"
	"$PYTHON" "$ROOT/bench/paycode_users.py" --port "$ANFUD_PORT" --cert "$WALLET_DIR/tls/server.crt" \
		--users "$PAYCODE_USERS" --pin "$WALLET_PIN" --funds "$WALLET_FUNDS" \
		--admin-port "$WALLET_ADMIN_PORT" --anfu "$anfu" --data "$WALLET_DIR" \
		--fee-bps "$PAYCODE_FEE_BPS" --tills "$PAYCODE_TILLS" \
		--out "$WALLET_DIR/paycode-users.txt" --merchants-out "$WALLET_DIR/paycode-tills.txt" ||
		die "making the customers and the merchant failed"

	paycode_conditions
	echo
	echo '| pair | TPC-B tps | TPC-B latency (avg) | TPC-B: busy before | payments/s | pay p50 | pay p99 | issue p99 | cycle p99 | errors | anfud CPU (of one core) | bench_paycode CPU | foreign CPU | payments: busy before | **payments ÷ TPC-B** |'
	echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
	PAYCODE_OK_TOTAL=0
	PAYCODE_AMOUNT_TOTAL=0
	for i in $(seq 1 "$WALLET_REPEAT"); do
		wallet_tpcb || die "TPC-B failed"
		WALLET_RUN_NO=$i
		paycode_run || die "bench_paycode failed"
		ratio=$(awk -v a="$W_XPS" -v b="$TPCB_TPS" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
		xps_l+=("$W_XPS")
		tpcb_l+=("$TPCB_TPS")
		ratio_l+=("$ratio")
		cp99_l+=("$W_CP99")
		pp99_l+=("$W_PP99")
		where_l+=("pair $i: $W_WHERE")
		detail_l+=("# pair $i" "$W_DETAIL")
		printf '| %s | %s | %s ms | %s | %s | %s ms | %s ms | %s ms | %s ms | %s | %s %% | %s %% | %s %% | %s | **%s ×** |\n' \
			"$i" "$TPCB_TPS" "$TPCB_LAT" "$TPCB_IDLE" "$W_XPS" "$W_CP50" "$W_CP99" "$W_VP99" \
			"$W_PP99" "$W_ERRORS" "$W_SERVER_CPU" "$W_CLIENT_CPU" "$W_FOREIGN" "$W_IDLE" "$ratio"
	done
	stop_anfud
	echo
	echo "What anfud did in each payment run (its /metrics before and after, warm-up included):"
	echo
	printf -- '- %s\n' "${where_l[@]}"
	echo
	echo '```'
	printf '%s\n' "${detail_l[@]}"
	echo '```'
	echo
	# The server's books against the client's count (bench/paycode_check.sql).
	books=$(sqlite3 -list "$WALLET_DIR/anfu.db" <"$ROOT/bench/paycode_check.sql" 2>&1)
	verify=$("$anfu" ledger verify --data "$WALLET_DIR" 2>&1 | tail -1)
	echo "Check: $(paycode_books "$books" "$PAYCODE_OK_TOTAL" "$PAYCODE_AMOUNT_TOTAL"); \`anfu ledger verify\`: $verify"
	echo
	ratio=$(median "${ratio_l[@]}")
	echo "Medians of $WALLET_REPEAT pair(s): TPC-B $(median "${tpcb_l[@]}") tps; payments $(median "${xps_l[@]}")/s; pay p99 $(median "${cp99_l[@]}") ms; cycle p99 $(median "${pp99_l[@]}") ms."
	echo "payments ÷ TPC-B = **$ratio ×** (median of the pairwise ratios ${ratio_l[*]}; goal ≥ 3 ×: $(awk -v r="$ratio" 'BEGIN {print (r >= 3) ? "met" : "**NOT met**"}')); p99 < 25 ms: pay $(awk -v r="$(median "${cp99_l[@]}")" 'BEGIN {print (r < 25) ? "met" : "**NOT met**"}')."
}

# ---- main ------------------------------------------------------------------

# On exit: stops what this script started (by pid) and removes its files.
cleanup() {
	[ -n "${WATCH_PID:-}" ] && kill -TERM "$WATCH_PID" 2>/dev/null
	[ -n "${LATER_PID:-}" ] && kill -TERM "$LATER_PID" 2>/dev/null
	[ -n "${WALLET_PERF_PID:-}" ] && kill -INT "$WALLET_PERF_PID" 2>/dev/null
	stop_anfud
	if [ -n "${WALLET_PG_DIR:-}" ]; then
		"$ROOT/scripts/pg-cluster.sh" stop "$WALLET_PG_DIR" >/dev/null 2>&1 ||
			log "could not stop the cluster in $WALLET_PG_DIR"
	fi
	rm -rf "$WORK"
}

# Median of the numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) print "?"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_http WHAT DATA_DIR: REPEAT alternating bare/anfud pairs (the machine
# is shared, so single runs are noisy); reports the medians and the median
# of the pairwise ratios.
bench_http() {
	local what=$1 data=$2 anfud="" i ratio bare_l=() anfud_l=() ratio_l=()
	[ "$what" = bare ] || anfud=$(ls "$BUILD/anfud" "$BUILD/src/daemon/anfud" 2>/dev/null | head -1)
	http_header
	for i in $(seq 1 "$REPEAT"); do
		ROW_PREFIX="$i: "
		bench_bare "$data"
		bare_l+=("$BARE_RPS")
		[ -n "$anfud" ] || continue
		bench_anfud "$anfud" "$data"
		anfud_l+=("$ANFUD_RPS")
		ratio_l+=("$(awk -v a="$ANFUD_RPS" -v b="$BARE_RPS" 'BEGIN {printf "%.1f", 100 * a / b}')")
	done
	echo
	echo "Medians of $REPEAT run(s): bare $(median "${bare_l[@]}") requests/s${anfud:+, anfud $(median "${anfud_l[@]}") requests/s}."
	if [ -n "$anfud" ]; then
		ratio=$(median "${ratio_l[@]}")
		echo "anfud / bare = **$ratio %** (median of the pairwise ratios ${ratio_l[*]}; goal >= 80 %: $(awk -v r="$ratio" 'BEGIN {print (r >= 80) ? "met" : "NOT met"}'))."
	elif [ "$what" != bare ]; then
		echo "anfud: not built, not measured."
	fi
}

http_header() {
	echo '| server | requests/s | p50 | p99 | non-2xx | socket errors | server CPU (of one core) | foreign CPU | busy before | TLS |'
	echo '|---|---|---|---|---|---|---|---|---|---|'
}

main() {
	local what=${1:-all} data ratio
	case $what in all | bare | anfud | audit | ledger | pg | login | pin | wallet | paycode) ;; *) die "usage: $0 [all|bare|anfud|audit|ledger|pg|login|pin|wallet|paycode]" ;; esac
	WORK=$(mktemp -d "$BENCH_DIR/anfu-bench-XXXXXX") || die "cannot create a directory in $BENCH_DIR"
	trap cleanup EXIT
	data=$WORK/data
	if [ "$what" = login ] || [ "$what" = audit ] || [ "$what" = ledger ] || [ "$what" = pg ] ||
		[ "$what" = pin ] || [ "$what" = wallet ] || [ "$what" = paycode ]; then
		: # these make their own data
	elif [ -x "$BUILD/anfu" ] || [ -x "$BUILD/src/cli/anfu" ]; then
		prepare_data "$(ls "$BUILD/anfu" "$BUILD/src/cli/anfu" 2>/dev/null | head -1)" "$data" ||
			die "anfu init failed"
	else
		log "no anfu CLI in $BUILD: making a certificate with openssl"
		make_cert "$data" || die "openssl failed"
	fi

	echo "## Benchmark run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	conditions
	echo
	case $what in
	all | bare | anfud)
		echo "### GET /healthz over HTTPS"
		echo
		http_conditions
		echo
		bench_http "$what" "$data"
		echo
		;;
	esac
	case $what in
	all | audit)
		echo "### Audit appends per second (in process, durable SQLite commits)"
		echo
		bench_audit
		echo
		;;
	esac
	case $what in
	all | ledger)
		echo "### Ledger transfers per second: the writer against the raw SQLite ceiling"
		echo
		bench_ledger
		echo
		;;
	esac
	case $what in
	all | pg)
		echo "### Ledger transfers on PostgreSQL with row locks (pgbench), and TPC-B"
		echo
		echo '```'
		PG_WRITER=${PG_WRITER-$BUILD/bench/bench_ledger} "$ROOT/bench/pg_ledger.sh" ||
			die "bench/pg_ledger.sh failed"
		echo '```'
		echo
		;;
	esac
	case $what in
	all | login)
		echo "### Logins per second against raw Argon2id, and peak memory (IAM)"
		echo
		bench_login
		echo
		;;
	esac
	case $what in
	all | pin)
		echo "### Payment PIN verifications per second: Argon2id against the keyed MAC"
		echo
		bench_pin
		echo
		;;
	esac
	case $what in
	all | wallet)
		echo "### PIN-confirmed transfers per second over HTTPS against TPC-B"
		echo
		bench_wallet
		echo
		;;
	esac
	case $what in
	all | paycode)
		echo "### Payment-code payments per second over HTTPS against TPC-B"
		echo
		bench_paycode
		echo
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
