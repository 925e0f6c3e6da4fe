#!/usr/bin/env bash
# bench/run.sh: the benchmarks behind `make bench`.
#
#   bench/run.sh [all|bare|anfud|audit]     (default: all)
#
# Measures, on this machine:
#   - wrk against GET /healthz on the bare libmicrohttpd TLS server
#     (bench/bare_server.c, the baseline) and on anfud, with the same
#     certificate, thread count and daemon settings; the goal is
#     anfud >= 80 % of bare;
#   - in-process audit appends per second (bench/bench_audit.c), intl and gm.
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
#   REPEAT [3]: alternating bare/anfud pairs; medians are reported
#   BENCH_DIR [/var/tmp]: where the throw-away data directory goes (a disk,
#   not tmpfs: the audit numbers include fsync).
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
IDLE_PCT=${IDLE_PCT:-10}
IDLE_WAIT=${IDLE_WAIT:-60}
REPEAT=${REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp}

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

# "buildtype=... b_sanitize=... test_hooks=..." of the build directory.
build_options() {
	/usr/bin/python3 - "$BUILD/meson-info/intro-buildoptions.json" <<'PY' 2>/dev/null || echo '?'
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
- Build: $BUILD ($(build_options))
- wrk: \`wrk $WRK_ARGS https://127.0.0.1:PORT/healthz\` (keep-alive, TLS, client and server on the same machine)
- Server threads: $THREADS (MHD thread pool); $REPEAT alternating bare/anfud pairs; idle gate: < $IDLE_PCT % busy over 2 s, waiting at most $IDLE_WAIT s
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
# than the server and wrk) and WRK_OUT (the raw output file).
run_wrk() {
	local port=$1 pid=$2 out b0 t0 b1 t1 s0 s1 wrk_cpu timing
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-wrk-XXXXXX")
	timing=$(mktemp "${TMPDIR:-/tmp}/anfu-wrk-time-XXXXXX")
	read -r b0 t0 < <(cpu_jiffies)
	s0=$(proc_jiffies "$pid")
	# bash's `time` gives wrk's own user + system CPU.
	# shellcheck disable=SC2086 # WRK_ARGS is a list of words
	{ TIMEFORMAT='%U %S'; time wrk $WRK_ARGS "https://127.0.0.1:$port/healthz" >"$out" 2>&1; } 2>"$timing"
	s1=$(proc_jiffies "$pid")
	read -r b1 t1 < <(cpu_jiffies)
	wrk_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($1 + $2) * hz}' "$timing")
	WRK_FOREIGN=$(( (b1 - b0 - (s1 - s0) - wrk_cpu) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
	[ "$WRK_FOREIGN" -lt 0 ] && WRK_FOREIGN=0
	WRK_SERVER_CPU=$(( (s1 - s0) * 100 / ((t1 - t0) / $(nproc) > 0 ? (t1 - t0) / $(nproc) : 1) ))
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
# certificate and the database. $1: the anfu CLI; $2: the directory.
# The per-IP limits are raised so that wrk's 64 connections from 127.0.0.1
# measure the server, not the rate limiter (which still runs on every
# request); the admin listener is off so it needs no port.
prepare_data() {
	local anfu=$1 dir=$2
	mkdir -p "$dir" && chmod 0700 "$dir" || return 1
	cat >"$dir/anfu.conf" <<EOF
# Written by bench/run.sh for benchmarking only.
[server]
crypto = intl

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
# LEAD: adjust to anfud's final CLI. Assumes `ANFUD --data DIR` serves HTTPS
# on 127.0.0.1 at [http] port of DIR/anfu.conf, or, when that port is 0 or
# unset, at the "port" of DIR/run/anfud.json, which anfud writes once it
# listens. The data directory should come from prepare_data (raised per-IP
# limits); any non-2xx answer makes the run invalid.
# Sets ANFUD_RPS and prints a table row.
# ---------------------------------------------------------------------------
bench_anfud() {
	local anfud=$1 dir=$2 port pid log_file
	[ -x "$anfud" ] || die "$anfud not built"
	port=$(awk -F= '
		/^[ \t]*\[/ { sect = $0; gsub(/[][ \t]/, "", sect); next }
		sect == "http" && $1 ~ /^[ \t]*port[ \t]*$/ { gsub(/[ \t]/, "", $2); print $2 }
	' "$dir/anfu.conf" 2>/dev/null | tail -1)
	log_file=$(mktemp "${TMPDIR:-/tmp}/anfu-anfud-XXXXXX")
	rm -f "$dir/run/anfud.json"
	"$anfud" --data "$dir" >"$log_file" 2>&1 &
	pid=$!
	if [ -z "$port" ] || [ "$port" = 0 ]; then
		port=
		for _ in $(seq 1 150); do
			if [ -s "$dir/run/anfud.json" ]; then
				port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$dir/run/anfud.json")
				break
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -z "$port" ] || ! wait_port "$port"; then
		cat "$log_file" >&2
		stop_pid "$pid"
		die "anfud did not start"
	fi
	TLS_PARAMS=$(tls_params "$port")
	wait_idle
	log "anfud: wrk $WRK_ARGS on port $port"
	if ! run_wrk "$port" "$pid"; then
		stop_pid "$pid"
		die "wrk failed against anfud"
	fi
	stop_pid "$pid"
	ANFUD_RPS=$WRK_RPS
	[ "$WRK_NON2XX" = 0 ] || log "anfud answered $WRK_NON2XX non-2xx responses: run not valid"
	wrk_row "anfud" "$TLS_PARAMS"
	rm -f "$log_file" "$WRK_OUT"
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

# ---- main ------------------------------------------------------------------

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
	case $what in all | bare | anfud | audit) ;; *) die "usage: $0 [all|bare|anfud|audit]" ;; esac
	WORK=$(mktemp -d "$BENCH_DIR/anfu-bench-XXXXXX") || die "cannot create a directory in $BENCH_DIR"
	trap 'rm -rf "$WORK"' EXIT
	data=$WORK/data
	if [ -x "$BUILD/anfu" ] || [ -x "$BUILD/src/cli/anfu" ]; then
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
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
