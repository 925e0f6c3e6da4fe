#!/usr/bin/env bash
# bench/pg_ledger.sh: the ledger's two workloads on PostgreSQL with row locks,
# and pgbench's built-in TPC-B on the same cluster (`bench/run.sh pg`).
#
#   bench/pg_ledger.sh
#
# Starts a throwaway cluster of its own (scripts/pg-cluster.sh, PostgreSQL's
# default settings: fsync and synchronous_commit on) in a fresh directory
# under BENCH_DIR, stopped and removed on exit, failure or Ctrl-C. Then:
#   - PG_REPEAT alternating pairs of "uniform" and "hot" runs: before each run
#     bench/pg/schema.sql makes the two tables of bench/bench_ledger_raw.c
#     afresh (PG_ACCOUNTS customer wallets with PG_OPENING fen each, one
#     merchant at zero), then `pgbench -c PG_CLIENTS -j PG_JOBS -T PG_SECONDS
#     -M PG_PROTOCOL` runs bench/pg/uniform.sql or bench/pg/hot.sql (one
#     transfer per transaction: SELECT ... FOR UPDATE of both accounts in a
#     fixed order, the checks and both UPDATEs and the journal INSERT in one
#     statement that does nothing when a check fails, COMMIT); afterwards
#     bench/pg/check.sql must find every account equal to its opening plus
#     the journal, no money made or lost, no flagged account overdrawn, and
#     at least one journal row and no failed (deadlocked) transaction, else
#     the script fails;
#   - the batched variant, one uniform/hot pair per size in PG_BATCHES:
#     bench/pg/batch.sql calls bench_transfers of bench/pg/functions.sql
#     (PL/pgSQL: BATCH transfers in one transaction, every account of the
#     batch locked first, lower number first), same checks;
#   - TPC-B: `pgbench -i -s PG_TPCB_SCALE` in a database of its own, then the
#     built-in script with the same clients, threads, duration and protocol;
#     bench/pg/tpcb-check.sql checks its balances.
# Every run waits for the idle gate of bench/run.sh first (IDLE_PCT,
# IDLE_WAIT; IDLE_WAIT=0 skips it). Prints the conditions as "#" lines,
# then one table row per run, each followed by its "# check:" line, then
# the ratio hot / uniform of transfers/s (median of the pairwise ratios; per
# batch size for the batched runs), then "check: ok". Exit status 0 only
# when every run ran and every check passed.
#
# Environment (defaults in brackets):
#   PG_SECONDS [LEDGER_SECONDS or 5]: whole seconds per run
#   PG_CLIENTS [32]  PG_JOBS [2]  PG_PROTOCOL [prepared]
#   PG_ACCOUNTS [LEDGER_ACCOUNTS or 10000]: customer wallets
#   PG_OPENING [1000000000000]: opening credit of each wallet in fen
#     (bench_ledger_raw's; a small one makes the overdraft check refuse)
#   PG_REPEAT [3]: uniform/hot pairs
#   PG_BATCHES ["1 10 100"]: batch sizes of the batched variant (one
#     uniform/hot pair each); empty skips it
#   PG_TPCB_SCALE [32]: pgbench's scale factor (the pgbench manual: at least
#     the number of clients, else branch updates contend); 0 skips TPC-B
#   PG_SQL_DIR [bench/pg]: where the scripts are read from
#   PG_WRITER [none]: bench_ledger's path; when set, anfu's own ledger
#     writer runs too (bench_ledger --pg, database writer, same cluster)
#   BENCH_DIR [/var/tmp]: the cluster's parent directory (a disk, not tmpfs)
#   ANFU_PG_BINDIR: the PostgreSQL binaries (as scripts/pg-cluster.sh)

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/run.sh
. "$ROOT/bench/run.sh" # log, die, wait_idle, median, BENCH_DIR, IDLE_*

PG_SECONDS=${PG_SECONDS:-$LEDGER_SECONDS}
PG_CLIENTS=${PG_CLIENTS:-32}
PG_JOBS=${PG_JOBS:-2}
PG_PROTOCOL=${PG_PROTOCOL:-prepared}
PG_ACCOUNTS=${PG_ACCOUNTS:-$LEDGER_ACCOUNTS}
PG_OPENING=${PG_OPENING:-1000000000000}
PG_REPEAT=${PG_REPEAT:-3}
PG_TPCB_SCALE=${PG_TPCB_SCALE:-32}
PG_BATCHES=${PG_BATCHES-1 10 100}
PG_SQL_DIR=${PG_SQL_DIR:-$ROOT/bench/pg}
PG_WRITER=${PG_WRITER:-}

for v in PG_SECONDS PG_CLIENTS PG_JOBS PG_ACCOUNTS PG_OPENING PG_REPEAT PG_TPCB_SCALE; do
	case ${!v} in '' | *[!0-9]*) die "$v: a whole number, not '${!v}'" ;; esac
done
[ "$PG_SECONDS" -ge 1 ] && [ "$PG_CLIENTS" -ge 1 ] && [ "$PG_JOBS" -ge 1 ] &&
	[ "$PG_ACCOUNTS" -ge 2 ] && [ "$PG_REPEAT" -ge 1 ] || die "PG_SECONDS, PG_CLIENTS, PG_JOBS, PG_REPEAT >= 1, PG_ACCOUNTS >= 2"
for b in $PG_BATCHES; do
	case $b in '' | 0* | *[!0-9]*) die "PG_BATCHES: whole numbers >= 1, not '$b'" ;; esac
done
case $PG_PROTOCOL in simple | extended | prepared) ;; *) die "PG_PROTOCOL: simple, extended or prepared" ;; esac

PG_BIN=${ANFU_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/pgbench" ] && [ -x "$PG_BIN/psql" ] ||
	die "no pgbench/psql in '$PG_BIN' (scripts/deps.sh test installs postgresql-15)"

PG_DIR=
PGBENCH_PID=

# On exit (also after a failure or a signal): stops pgbench and the cluster
# this script started, and removes the cluster's directory.
pg_cleanup() {
	if [ -n "$PGBENCH_PID" ]; then
		kill -TERM "$PGBENCH_PID" 2>/dev/null
		wait "$PGBENCH_PID" 2>/dev/null
	fi
	if [ -n "$PG_DIR" ]; then
		"$ROOT/scripts/pg-cluster.sh" stop "$PG_DIR" >/dev/null 2>&1 ||
			log "could not stop the cluster in $PG_DIR"
		rm -rf "$PG_DIR"
	fi
}
trap pg_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# psql against database $1 with the remaining arguments; stops on errors.
pg_sql() {
	local db=$1
	shift
	"$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# Runs pgbench with the given arguments in the background (so that a signal
# reaches the traps at once) and waits for it. Output to file $1.
run_pgbench() {
	local out=$1 rc
	shift
	"$PG_BIN/pgbench" "$@" >"$out" 2>&1 &
	PGBENCH_PID=$!
	wait "$PGBENCH_PID"
	rc=$?
	PGBENCH_PID=
	return "$rc"
}

# A field of pgbench's summary in file $1: "tps", "latency", "processed",
# "failed".
pgbench_field() {
	case $2 in
	tps) sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$1" ;;
	latency) sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$1" ;;
	processed) sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1" ;;
	failed) sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$1" ;;
	esac
}

# The idle gate of bench/run.sh, unless IDLE_WAIT=0.
gate() {
	if [ "$IDLE_WAIT" = 0 ]; then
		IDLE_BEFORE="not measured"
	else
		wait_idle
	fi
}

PGBENCH_ARGS=(-c "$PG_CLIENTS" -j "$PG_JOBS" -T "$PG_SECONDS" -M "$PG_PROTOCOL")

row() { printf '%-8s %-11s %5s %4s %7s %12s %6s %9s %11s %11s  %s\n' "$@"; }

# ledger_run WORKLOAD BATCH PAIR: fresh tables, one pgbench run, the checks.
# BATCH "-": the plain SQL script PG_SQL_DIR/WORKLOAD.sql (one transfer per
# transaction); a number: PG_SQL_DIR/batch.sql, BATCH transfers per
# transaction through bench_transfers (functions.sql). Prints the row and
# the check line; sets XPS (transfers applied per second). Fails (returns
# 1) when pgbench fails, a transaction failed or a check does not pass.
ledger_run() {
	local workload=$1 batch=$2 pair=$3 out line rows off diff overdrawn processed failed
	local verdict tps latency script args
	pg_sql anfu -v accounts="$PG_ACCOUNTS" -v opening="$PG_OPENING" \
		-f "$PG_SQL_DIR/schema.sql" >/dev/null || { log "schema.sql failed"; return 1; }
	if [ "$batch" = - ]; then
		script=$workload.sql
		args=()
		batch=1
	else
		pg_sql anfu -f "$PG_SQL_DIR/functions.sql" >/dev/null || { log "functions.sql failed"; return 1; }
		script=batch.sql
		args=(-D batch="$batch" -D hot="$([ "$workload" = hot ] && echo 1 || echo 0)")
	fi
	gate
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-pgbench-XXXXXX")
	log "pg $workload, $script, batch $batch, pair $pair: pgbench ${PGBENCH_ARGS[*]}"
	if ! run_pgbench "$out" "${PGBENCH_ARGS[@]}" -n -f "$PG_SQL_DIR/$script" "${args[@]}" \
		-D accounts="$PG_ACCOUNTS" -D ts0="$(date +%s%6N)" anfu; then
		cat "$out" >&2
		rm -f "$out"
		log "pgbench failed ($workload, $script)"
		return 1
	fi
	tps=$(pgbench_field "$out" tps)
	processed=$(pgbench_field "$out" processed)
	failed=$(pgbench_field "$out" failed)
	latency=$(pgbench_field "$out" latency)
	[ -n "$tps" ] && [ -n "$processed" ] && [ -n "$failed" ] || { cat "$out" >&2; rm -f "$out"; return 1; }
	rm -f "$out"
	line=$(pg_sql anfu -v opening="$PG_OPENING" -f "$PG_SQL_DIR/check.sql") ||
		{ log "check.sql failed"; return 1; }
	IFS='|' read -r rows off diff overdrawn <<<"$line"
	# Transfers applied per second: pgbench's rate (without the connection
	# time) times the journal rows per transaction.
	XPS=$(awk -v t="$tps" -v r="$rows" -v p="$processed" 'BEGIN {printf "%.1f", (p > 0 ? t * r / p : 0)}')
	row "$workload" "$script" "$batch" "$pair" "$PG_CLIENTS" "$processed" "$failed" \
		"$(awk -v t="$tps" 'BEGIN {printf "%.1f", t}')" "$XPS" "$latency" "$IDLE_BEFORE"
	# A failed transaction is a deadlock or serialization failure (pgbench 15
	# counts them and goes on): the scripts lock in one order and run in READ
	# COMMITTED, so there must be none.
	verdict=FAILED
	if [ "$failed" = 0 ] && [ "${rows:-0}" -ge 1 ] && [ "$rows" -le $((processed * batch)) ] &&
		[ "$off" = 0 ] && [ "$diff" = 0 ] && [ "$overdrawn" = 0 ]; then
		verdict=ok
	fi
	echo "# check: $verdict, $failed failed transactions, $rows journal rows ($((processed * batch - rows)) of $((processed * batch)) transfers refused), $off accounts off, credits - debits - opening = $diff, $overdrawn flagged accounts overdrawn"
	[ "$verdict" = ok ]
}

# tpcb_run: pgbench -i in database tpcb, the built-in TPC-B run, its check.
tpcb_run() {
	local out line rows ok processed failed
	pg_sql anfu -c 'CREATE DATABASE tpcb' || return 1
	log "pg tpcb: pgbench -i -s $PG_TPCB_SCALE"
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-pgbench-XXXXXX")
	if ! run_pgbench "$out" -i -s "$PG_TPCB_SCALE" -I dtGvp -q tpcb; then
		cat "$out" >&2
		rm -f "$out"
		log "pgbench -i failed"
		return 1
	fi
	pg_sql tpcb -c CHECKPOINT || return 1
	gate
	log "pg tpcb: pgbench ${PGBENCH_ARGS[*]}"
	if ! run_pgbench "$out" "${PGBENCH_ARGS[@]}" tpcb; then
		cat "$out" >&2
		rm -f "$out"
		log "pgbench failed (tpcb)"
		return 1
	fi
	TPS=$(pgbench_field "$out" tps | awk '{printf "%.1f", $1}')
	processed=$(pgbench_field "$out" processed)
	failed=$(pgbench_field "$out" failed)
	row tpcb '(built-in)' - - "$PG_CLIENTS" "${processed:-?}" "${failed:-?}" "${TPS:-?}" - \
		"$(pgbench_field "$out" latency)" "$IDLE_BEFORE"
	[ -n "$TPS" ] && [ -n "$processed" ] && [ -n "$failed" ] || { cat "$out" >&2; rm -f "$out"; return 1; }
	rm -f "$out"
	line=$(pg_sql tpcb -f "$PG_SQL_DIR/tpcb-check.sql") || { log "tpcb-check.sql failed"; return 1; }
	IFS='|' read -r rows ok <<<"$line"
	if [ "$ok" = t ] && [ "${rows:-0}" -ge 1 ] && [ "$failed" = 0 ]; then
		echo "# check: ok, tpcb: $rows history rows ($processed transactions), Σ abalance = Σ bbalance = Σ tbalance = Σ delta"
		return 0
	fi
	echo "# check: FAILED, tpcb: $rows history rows ($processed transactions, $failed failed), balances agree: $ok"
	return 1
}

# writer_run: anfu's own ledger writer (bench_ledger --pg) on the same
# cluster, in a database of its own: transfers/s at batch_max 1, 10, 100,
# 1000 (64 submitters), which issue 9 reads against TPC-B's tps.
writer_run() {
	local out
	pg_sql anfu -c 'CREATE DATABASE writer' || return 1
	wait_idle
	out=$(mktemp "${TMPDIR:-/tmp}/anfu-pg-writer-XXXXXX")
	if ! "$PG_WRITER" --pg "host=$PGHOST port=$PGPORT user=anfu dbname=writer" \
		--seconds "$PG_SECONDS" --accounts "$PG_ACCOUNTS" --no-latency --dir "$PG_DIR" \
		2>/dev/null >"$out"; then
		cat "$out" >&2
		rm -f "$out"
		log "bench_ledger --pg failed"
		return 1
	fi
	sed 's/^/# writer: /' "$out"
	rm -f "$out"
}

pg_main() {
	local env i b u h ratio ratios=() bratios=() utps=() htps=() settings
	PG_DIR=$(mktemp -d "$BENCH_DIR/anfu-pg-bench-XXXXXX") || die "cannot create a directory in $BENCH_DIR"
	env=$("$ROOT/scripts/pg-cluster.sh" start "$PG_DIR") || die "the cluster did not start"
	while IFS= read -r line; do
		case $line in PG*=*) export "${line?}" ;; esac
	done <<<"$env"

	settings=$(pg_sql anfu -F ' ' -c "SELECT current_setting('fsync'), current_setting('synchronous_commit'),
		current_setting('shared_buffers'), current_setting('wal_level'), current_setting('full_page_writes'),
		current_setting('max_wal_size'), current_setting('max_connections')") || die "psql failed"
	read -r s_fsync s_sync s_sb s_wal s_fpw s_mws s_mc <<<"$settings"
	[ "$s_fsync" = on ] && [ "$s_sync" = on ] ||
		die "the cluster runs with fsync=$s_fsync synchronous_commit=$s_sync; the comparison needs both on"

	echo "# pg_ledger: $(pg_sql anfu -c 'SELECT version()')"
	echo "# $("$PG_BIN/pgbench" --version); cluster: scripts/pg-cluster.sh in $PG_DIR ($(findmnt -n -o FSTYPE -T "$PG_DIR" 2>/dev/null || echo '?'))"
	echo "# settings (SHOW): fsync=$s_fsync synchronous_commit=$s_sync shared_buffers=$s_sb wal_level=$s_wal full_page_writes=$s_fpw max_wal_size=$s_mws max_connections=$s_mc; the rest PostgreSQL's defaults"
	echo "# pgbench ${PGBENCH_ARGS[*]}; $PG_ACCOUNTS customer wallets (opening credit $PG_OPENING fen) + 1 merchant; tables made afresh before every ledger run"
	echo "# ledger scripts ($PG_SQL_DIR): uniform.sql, hot.sql: plain SQL, one transfer per transaction, SELECT ... FOR UPDATE of both accounts (lower number first), checks + UPDATE x2 + INSERT journal row in one conditional statement, COMMIT; $PG_REPEAT alternating uniform/hot pairs"
	[ "$PG_TPCB_SCALE" = 0 ] || echo "# tpcb: pgbench's built-in TPC-B-like script, scale $PG_TPCB_SCALE, database tpcb, same cluster and pgbench options"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); idle gate: < $IDLE_PCT % busy over 2 s, at most $IDLE_WAIT s (IDLE_WAIT=0: none)"
	[ -z "$PG_BATCHES" ] || echo "# batched ($PG_SQL_DIR): batch.sql calls bench_transfers(batch, hot) of functions.sql (PL/pgSQL): draws the batch, locks all its accounts lower number first, then each transfer as in uniform.sql; one commit per batch; one uniform/hot pair per batch size"
	echo "# transfers/s = tps x journal rows / transactions (refused transfers do not count)"
	row workload script batch pair clients transactions failed tps transfers/s latency_ms "busy before"

	for i in $(seq 1 "$PG_REPEAT"); do
		ledger_run uniform - "$i" || exit 1
		u=$XPS
		ledger_run hot - "$i" || exit 1
		h=$XPS
		utps+=("$u")
		htps+=("$h")
		ratios+=("$(awk -v h="$h" -v u="$u" 'BEGIN {printf "%.1f", 100 * h / u}')")
	done
	for b in $PG_BATCHES; do
		ledger_run uniform "$b" 1 || exit 1
		u=$XPS
		ledger_run hot "$b" 1 || exit 1
		bratios+=("batch $b: $(awk -v h="$XPS" -v u="$u" 'BEGIN {printf "%.1f", 100 * h / u}') %")
	done
	if [ "$PG_TPCB_SCALE" != 0 ]; then
		tpcb_run || exit 1
	fi
	if [ -n "$PG_WRITER" ]; then
		writer_run || exit 1
	fi
	ratio=$(median "${ratios[@]}")
	echo "# medians of $PG_REPEAT pair(s), one transfer per transaction (uniform.sql, hot.sql): uniform $(median "${utps[@]}") transfers/s, hot $(median "${htps[@]}") transfers/s"
	echo "# hot / uniform: $ratio % (median of the pairwise ratios ${ratios[*]})"
	[ -z "$PG_BATCHES" ] || echo "# hot / uniform, batched (bench_transfers, one pair each): $(IFS=,; echo "${bratios[*]}" | sed 's/,/, /g')"
	echo "check: ok"
}

pg_main
