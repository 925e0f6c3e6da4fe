/*
 * bench/bench_ledger_raw: the raw ceiling of the ledger writer.
 *
 * A bare C program on SQLite alone (no anfu library, no executor, no audit
 * records, no hash chain, no threads or queue): it makes its own database
 * with the ledger's ledger_account and ledger_transfer tables (the columns,
 * checks, unique keys and history indexes of
 * src/ledger/migrations/0001_ledger.sql; anfu's page cache and in-memory
 * savepoint journals) and
 * applies double-entry transfers the cheapest correct way:
 *
 *   per transfer: read both accounts (SELECT), check them (both exist, are
 *   normal, share the asset, the debit account's "debits must not exceed
 *   credits" flag, no overflow), update both balances (UPDATE x 2), insert
 *   the journal row (INSERT, with its UNIQUE (caller, idem_key) and
 *   UNIQUE ts_us keys);
 *   per transaction: BEGIN IMMEDIATE … COMMIT around 1, 10, 100 or 1000
 *   transfers (WAL, synchronous = FULL: one fsync per commit).
 *
 * Two workloads: "uniform" (debit and credit account drawn uniformly from
 * the customer wallets) and "hot" (random customer debited, every transfer
 * credits the same merchant account), per batch size uniform then hot.
 * Account ids have the length and shape of anfu's (acc_id()). Afterwards it checks that the
 * balances add up (Σ debits = Σ credits, per-account balances equal the
 * journal's sums), so the numbers are for work that was really done.
 *
 * The real writer's numbers (bench/bench_ledger.c) are read against these:
 * docs/benchmarks.md reports the ratio. Trusts its command line only. Not a
 * test (STYLE.md): it prints numbers and their conditions.
 *
 * Usage: bench_ledger_raw [--seconds S] [--dir PARENT] [--accounts N]
 *                         [--seed N] [--no-checkpoint] [--keep]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/* The ledger's account flag (src/ledger/ledger.h: the customer wallet's). */
#define ACC_DEBITS_MUST_NOT_EXCEED_CREDITS 1u
/* Opening credit of every customer wallet: enough for any run (10^12 fen;
 * the largest transfer is MAX_AMOUNT, far fewer than 10^8 run per mode). */
#define OPENING_CREDIT INT64_C(1000000000000)
#define OPENING_CREDIT_SQL "1000000000000"
#define MAX_AMOUNT 10000
#define MAX_ACCOUNTS 1000000

struct options {
	double seconds; /* per mode */
	const char *parent;
	long accounts;
	uint64_t seed;
	bool no_checkpoint;
	bool keep;
	int only_batch; /* 0: every batch size */
};

struct bench {
	char dir[PATH_MAX];
	char path[PATH_MAX];
	sqlite3 *db;
	sqlite3_stmt *get_acc, *upd_debit, *upd_credit, *ins_trf;
	uint64_t rng;
	int64_t seq;   /* last journal seq */
	int64_t ts_us; /* last journal ts_us */
	long accounts; /* customer wallets 0..accounts-1; the merchant is number accounts */
};

struct result {
	const char *workload;
	int batch;
	int64_t transfers;
	int64_t commits;
	double seconds;
	double cpu_s; /* the process's user + system CPU time during the mode */
};

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: a reproducible generator for the workload (not for secrets). */
static uint64_t next_rand(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * UINT64_C(2685821657736338717);
}

/* The id of account number n (the merchant is number b->accounts) in the
 * shape of anfu's (src/base/rand.h: "acc_" and 22 base62 characters, 26 in
 * all), so the account table's key and the journal's debit and credit
 * indexes hold keys as long as the writer's: short ids ("acc_c12") made
 * those indexes half as large and the ceiling higher than the same work
 * with real ids. The first 11 characters scrambled as anfu's random ones
 * are (keys differ early), the last 11 spell n in base 62 (distinct for
 * distinct n). */
static void acc_id(long n, char out[32])
{
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t x = (uint64_t)n, h = (uint64_t)(n + 1) * UINT64_C(0x9E3779B97F4A7C15);

	memcpy(out, "acc_", 4);
	for (int i = 4; i < 15; i++) {
		h ^= h >> 29;
		h *= UINT64_C(0xBF58476D1CE4E5B9);
		out[i] = b62[(h >> 32) % 62];
	}
	for (int i = 25; i >= 15; i--) {
		out[i] = b62[x % 62];
		x /= 62;
	}
	out[26] = '\0';
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_ledger_raw [--seconds S] [--dir PARENT] [--accounts N]\n"
		   "                        [--seed N] [--no-checkpoint] [--batch B] [--keep]\n"
		   "  --seconds S    run time of each mode (default 5)\n"
		   "  --dir PARENT   where the temporary database goes (default $TMPDIR or\n"
		   "                 /var/tmp; must be the disk you mean to measure)\n"
		   "  --accounts N   customer wallets (default 10000)\n"
		   "  --seed N       workload seed (default 1)\n"
		   "  --no-checkpoint  no WAL checkpoint during a mode (SQLite's automatic\n"
		   "                 one runs in the committing thread; anfu's store runs\n"
		   "                 checkpoints on a thread of their own): the upper bound;\n"
		   "                 the WAL is emptied between modes, untimed\n"
		   "  --batch B      only batches of B (1, 10, 100 or 1000), to run in\n"
		   "                 alternating pairs with bench_ledger --batch B\n"
		   "  --keep         keep the database afterwards\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "accounts", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 'r' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-checkpoint", no_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tmp = getenv("TMPDIR");
	unsigned long long u;
	char *end;
	int ch;

	*o = (struct options){ .seconds = 5.0,
			       .parent = tmp && tmp[0] ? tmp : "/var/tmp",
			       .accounts = 10000,
			       .seed = 1 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		errno = 0;
		switch (ch) {
		case 's':
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || o->seconds <= 0 ||
			    o->seconds > 3600)
				return -1;
			break;
		case 'd': o->parent = optarg; break;
		case 'a':
			o->accounts = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || o->accounts < 2 ||
			    o->accounts > MAX_ACCOUNTS)
				return -1;
			break;
		case 'r':
			u = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || u == 0)
				return -1;
			o->seed = u;
			break;
		case 'k': o->keep = true; break;
		case 'n': o->no_checkpoint = true; break;
		case 'b':
			o->only_batch = (int)strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    (o->only_batch != 1 && o->only_batch != 10 && o->only_batch != 100 &&
			     o->only_batch != 1000))
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

static const char *fs_name(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) != 0)
		return "unknown";
	switch ((unsigned long)st.f_type) {
	case 0xEF53UL: return "ext4";
	case 0x01021994UL: return "tmpfs";
	case 0x58465342UL: return "xfs";
	case 0x9123683EUL: return "btrfs";
	case 0x794C7630UL: return "overlayfs";
	case 0x2FC12FC1UL: return "zfs";
	default: return "other";
	}
}

static int exec_sql(struct bench *b, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "bench_ledger_raw: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(b->db));
	sqlite3_free(msg);
	return -1;
}

static int prepare(struct bench *b, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
		return 0;
	fprintf(stderr, "bench_ledger_raw: prepare %s: %s\n", sql, sqlite3_errmsg(b->db));
	return -1;
}

/* The two tables as the ledger's migrations make them on SQLite
 * (0001_ledger.sql; 0003_ledger_rowid.sqlite.sql: seq is the rowid). */
static const char schema_sql[] =
	"CREATE TABLE ledger_account ("
	" id TEXT NOT NULL PRIMARY KEY,"
	" asset TEXT NOT NULL CHECK (asset IN ('CNY', 'POINTS')),"
	" kind TEXT NOT NULL,"
	" owner_type TEXT NOT NULL,"
	" owner_id TEXT NOT NULL,"
	" flags INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('normal', 'frozen_debit', 'frozen_credit',"
	"  'frozen', 'closed')),"
	" debits_pending BIGINT NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),"
	" debits_posted BIGINT NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),"
	" credits_pending BIGINT NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),"
	" credits_posted BIGINT NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),"
	" created_ms BIGINT NOT NULL,"
	" UNIQUE (owner_type, owner_id, kind, asset));"
	"CREATE TABLE ledger_transfer ("
	" seq INTEGER NOT NULL PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" caller TEXT NOT NULL,"
	" idem_key TEXT NOT NULL,"
	" content_hash TEXT NOT NULL,"
	" debit_account TEXT NOT NULL,"
	" credit_account TEXT NOT NULL,"
	" amount BIGINT NOT NULL CHECK (amount > 0),"
	" asset TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" ref TEXT NOT NULL,"
	" flags INTEGER NOT NULL,"
	" pending_id TEXT,"
	" timeout_ms BIGINT NOT NULL,"
	" on_timeout TEXT NOT NULL,"
	" ts_us BIGINT NOT NULL UNIQUE,"
	" batch_seq BIGINT NOT NULL,"
	" UNIQUE (caller, idem_key));"
	"CREATE INDEX ledger_transfer_debit ON ledger_transfer (debit_account, seq);"
	"CREATE INDEX ledger_transfer_credit ON ledger_transfer (credit_account, seq);";

static int make_accounts(struct bench *b)
{
	sqlite3_stmt *st = NULL;
	char id[32], owner[32];
	int r = -1;

	if (prepare(b,
		    "INSERT INTO ledger_account (id, asset, kind, owner_type, owner_id, flags,"
		    " state, credits_posted, created_ms) VALUES (?1, 'CNY', ?2, ?3, ?4, ?5,"
		    " 'normal', ?6, 0)",
		    &st) < 0)
		return -1;
	if (exec_sql(b, "BEGIN") < 0)
		goto out;
	for (long i = 0; i <= b->accounts; i++) {
		bool merchant = i == b->accounts;

		acc_id(i, id);
		(void)snprintf(owner, sizeof(owner), merchant ? "mer_bench" : "usr_%ld", i);
		(void)sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_text(st, 2, merchant ? "merchant_pending" : "customer_wallet",
					-1, SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 3, merchant ? "merchant" : "customer", -1,
					SQLITE_STATIC);
		(void)sqlite3_bind_text(st, 4, owner, -1, SQLITE_TRANSIENT);
		(void)sqlite3_bind_int64(st, 5, ACC_DEBITS_MUST_NOT_EXCEED_CREDITS);
		(void)sqlite3_bind_int64(st, 6, merchant ? 0 : OPENING_CREDIT);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_ledger_raw: insert account: %s\n",
				sqlite3_errmsg(b->db));
			goto out;
		}
		(void)sqlite3_reset(st);
	}
	r = exec_sql(b, "COMMIT");
out:
	sqlite3_finalize(st);
	return r;
}

/* Opens the database in a fresh directory under o->parent, with the
 * durability settings of anfu's store (WAL, synchronous = FULL). */
static int setup(struct bench *b, const struct options *o)
{
	if (snprintf(b->dir, sizeof(b->dir), "%s/anfu-bench-ledger-raw-XXXXXX", o->parent) >=
		    (int)sizeof(b->dir) ||
	    !mkdtemp(b->dir)) {
		fprintf(stderr, "bench_ledger_raw: cannot create a directory in %s: %s\n",
			o->parent, strerror(errno));
		b->dir[0] = '\0';
		return -1;
	}
	if (snprintf(b->path, sizeof(b->path), "%s/ledger.db", b->dir) >= (int)sizeof(b->path))
		return -1;
	if (sqlite3_open(b->path, &b->db) != SQLITE_OK) {
		fprintf(stderr, "bench_ledger_raw: open %s: %s\n", b->path,
			b->db ? sqlite3_errmsg(b->db) : "out of memory");
		return -1;
	}
	b->rng = o->seed;
	b->accounts = o->accounts;
	b->ts_us = wall_us();
	if (exec_sql(b, "PRAGMA journal_mode = WAL") < 0 ||
	    exec_sql(b, "PRAGMA synchronous = FULL") < 0 ||
	    exec_sql(b, "PRAGMA foreign_keys = ON") < 0 ||
	    /* anfu's store settings (src/store/sqlite.c, base/limits.h). */
	    exec_sql(b, "PRAGMA temp_store = MEMORY") < 0 ||
	    exec_sql(b, "PRAGMA cache_size = -16384") < 0 ||
	    (o->no_checkpoint && exec_sql(b, "PRAGMA wal_autocheckpoint = 0") < 0) ||
	    exec_sql(b, schema_sql) < 0 || make_accounts(b) < 0)
		return -1;
	if (prepare(b,
		    "SELECT asset, flags, state, debits_pending, debits_posted,"
		    " credits_pending, credits_posted FROM ledger_account WHERE id = ?1",
		    &b->get_acc) < 0 ||
	    prepare(b, "UPDATE ledger_account SET debits_posted = ?2 WHERE id = ?1",
		    &b->upd_debit) < 0 ||
	    prepare(b, "UPDATE ledger_account SET credits_posted = ?2 WHERE id = ?1",
		    &b->upd_credit) < 0 ||
	    prepare(b,
		    "INSERT INTO ledger_transfer (seq, id, caller, idem_key, content_hash,"
		    " debit_account, credit_account, amount, asset, code, ref, flags,"
		    " pending_id, timeout_ms, on_timeout, ts_us, batch_seq) VALUES (?1, ?2,"
		    " 'bench', ?3, ?4, ?5, ?6, ?7, 'CNY', 'payment', ?8, 0, NULL, 0, '', ?9,"
		    " ?10)",
		    &b->ins_trf) < 0)
		return -1;
	return 0;
}

struct account {
	char asset[8];
	int64_t flags;
	char state[16];
	int64_t dp, dpo, cp, cpo; /* debits pending/posted, credits pending/posted */
};

static int read_account(struct bench *b, const char *id, struct account *a)
{
	int rc;

	(void)sqlite3_bind_text(b->get_acc, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(b->get_acc);
	if (rc == SQLITE_ROW) {
		(void)snprintf(a->asset, sizeof(a->asset), "%s",
			       (const char *)sqlite3_column_text(b->get_acc, 0));
		a->flags = sqlite3_column_int64(b->get_acc, 1);
		(void)snprintf(a->state, sizeof(a->state), "%s",
			       (const char *)sqlite3_column_text(b->get_acc, 2));
		a->dp = sqlite3_column_int64(b->get_acc, 3);
		a->dpo = sqlite3_column_int64(b->get_acc, 4);
		a->cp = sqlite3_column_int64(b->get_acc, 5);
		a->cpo = sqlite3_column_int64(b->get_acc, 6);
	}
	(void)sqlite3_reset(b->get_acc);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int step_done(struct bench *b, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	fprintf(stderr, "bench_ledger_raw: %s: %s\n", sqlite3_sql(st), sqlite3_errmsg(b->db));
	return -1;
}

/* One transfer debit -> credit: returns 0 applied, 1 refused by a rule,
 * -1 on a database failure. */
static int transfer(struct bench *b, const char *debit, const char *credit, int64_t amount,
		    int64_t batch_seq)
{
	struct account d, c;
	int64_t nd, nc, avail;
	char id[32], idem[32], hash[65], ref[32];

	if (read_account(b, debit, &d) < 0 || read_account(b, credit, &c) < 0)
		return 1;
	if (strcmp(d.state, "normal") != 0 || strcmp(c.state, "normal") != 0 ||
	    strcmp(d.asset, "CNY") != 0 || strcmp(c.asset, "CNY") != 0 ||
	    strcmp(debit, credit) == 0)
		return 1;
	if (__builtin_add_overflow(d.dpo, amount, &nd) ||
	    __builtin_add_overflow(c.cpo, amount, &nc))
		return 1;
	if (d.flags & ACC_DEBITS_MUST_NOT_EXCEED_CREDITS) {
		if (__builtin_sub_overflow(d.cpo, d.dpo, &avail) ||
		    __builtin_sub_overflow(avail, d.dp, &avail) || avail < amount)
			return 1;
	}
	b->seq++;
	b->ts_us = b->ts_us + 1 > wall_us() ? b->ts_us + 1 : wall_us();
	(void)snprintf(id, sizeof(id), "trf_%022" PRId64, b->seq);
	(void)snprintf(idem, sizeof(idem), "k%" PRId64, b->seq);
	(void)snprintf(hash, sizeof(hash), "%064" PRIx64, next_rand(b));
	(void)snprintf(ref, sizeof(ref), "ord_%" PRId64, b->seq);
	(void)sqlite3_bind_text(b->upd_debit, 1, debit, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(b->upd_debit, 2, nd);
	(void)sqlite3_bind_text(b->upd_credit, 1, credit, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(b->upd_credit, 2, nc);
	(void)sqlite3_bind_int64(b->ins_trf, 1, b->seq);
	(void)sqlite3_bind_text(b->ins_trf, 2, id, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(b->ins_trf, 3, idem, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(b->ins_trf, 4, hash, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(b->ins_trf, 5, debit, -1, SQLITE_STATIC);
	(void)sqlite3_bind_text(b->ins_trf, 6, credit, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(b->ins_trf, 7, amount);
	(void)sqlite3_bind_text(b->ins_trf, 8, ref, -1, SQLITE_STATIC);
	(void)sqlite3_bind_int64(b->ins_trf, 9, b->ts_us);
	(void)sqlite3_bind_int64(b->ins_trf, 10, batch_seq);
	if (step_done(b, b->upd_debit) < 0 || step_done(b, b->upd_credit) < 0 ||
	    step_done(b, b->ins_trf) < 0)
		return -1;
	return 0;
}

/* One durable transaction of `batch` transfers of the workload. */
static int one_tx(struct bench *b, bool hot, int batch, int64_t batch_seq, int64_t *applied)
{
	char debit[32], credit[32];
	int r;

	if (exec_sql(b, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (int i = 0; i < batch; i++) {
		long di = (long)(next_rand(b) % (uint64_t)b->accounts), ci;

		acc_id(di, debit);
		if (hot) {
			acc_id(b->accounts, credit);
		} else {
			ci = (long)(next_rand(b) % (uint64_t)(b->accounts - 1));
			ci += ci >= di; /* never the debit account */
			acc_id(ci, credit);
		}
		r = transfer(b, debit, credit, 1 + (int64_t)(next_rand(b) % MAX_AMOUNT), batch_seq);
		if (r < 0) {
			(void)exec_sql(b, "ROLLBACK");
			return -1;
		}
		*applied += r == 0;
	}
	return exec_sql(b, "COMMIT");
}

/* User + system CPU time of the process (bench_ledger reports the same, so
 * the two compare even on a machine other work slows down). */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0.0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_mode(struct bench *b, bool hot, int batch, double seconds, struct result *res)
{
	double c0 = cpu_s(), t0 = now_s(), t = t0;
	int64_t commits = 0, applied = 0;

	while (t - t0 < seconds) {
		if (one_tx(b, hot, batch, commits + 1, &applied) < 0)
			return -1;
		commits++;
		t = now_s();
	}
	*res = (struct result){
		hot ? "hot" : "uniform", batch, applied, commits, t - t0, cpu_s() - c0
	};
	return 0;
}

static int query_int(struct bench *b, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(b, sql, &st) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The books add up: every account's balances equal its opening credit plus
 * the journal's sums, and Σ debits = Σ credits over the accounts. */
static int check(struct bench *b, int64_t applied)
{
	int64_t rows = -1, off = -1, diff = -1;
	double t0 = now_s();
	bool ok;

	ok = query_int(b, "SELECT count(*) FROM ledger_transfer", &rows) == 0 &&
	     query_int(b,
		       "WITH d AS (SELECT debit_account AS id, sum(amount) AS s"
		       "  FROM ledger_transfer GROUP BY debit_account),"
		       " c AS (SELECT credit_account AS id, sum(amount) AS s"
		       "  FROM ledger_transfer GROUP BY credit_account)"
		       " SELECT count(*) FROM ledger_account a"
		       " LEFT JOIN d ON d.id = a.id LEFT JOIN c ON c.id = a.id"
		       " WHERE a.debits_posted != coalesce(d.s, 0)"
		       " OR a.credits_posted != (CASE a.kind WHEN 'customer_wallet'"
		       " THEN " OPENING_CREDIT_SQL " ELSE 0 END) + coalesce(c.s, 0)",
		       &off) == 0 &&
	     query_int(b,
		       "SELECT sum(credits_posted) - sum(debits_posted) - " OPENING_CREDIT_SQL
		       " * sum(kind = 'customer_wallet') FROM ledger_account",
		       &diff) == 0;
	ok = ok && rows == applied && off == 0 && diff == 0;
	printf("# check: %s, %" PRId64 " journal rows (%" PRId64 " applied), %" PRId64
	       " accounts off, credits - debits - opening = %" PRId64 ", %.2f s\n",
	       ok ? "ok" : "FAILED", rows, applied, off, diff, now_s() - t0);
	return ok ? 0 : -1;
}

static void teardown(struct bench *b, const struct options *o)
{
	sqlite3_finalize(b->get_acc);
	sqlite3_finalize(b->upd_debit);
	sqlite3_finalize(b->upd_credit);
	sqlite3_finalize(b->ins_trf);
	(void)sqlite3_close(b->db);
	if (b->dir[0] == '\0')
		return;
	if (o->keep) {
		printf("# kept %s\n", b->dir);
		return;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const sfx[] = { "", "-wal", "-shm" };
		char p[PATH_MAX + 8];

		(void)snprintf(p, sizeof(p), "%s%s", b->path, sfx[i]);
		(void)unlink(p);
	}
	(void)rmdir(b->dir);
}

static void print_conditions(struct bench *b, const struct options *o)
{
	int64_t sync = -1;
	sqlite3_stmt *st = NULL;
	char journal[16] = "?";

	if (prepare(b, "PRAGMA journal_mode", &st) == 0 && sqlite3_step(st) == SQLITE_ROW)
		(void)snprintf(journal, sizeof(journal), "%s",
			       (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	(void)query_int(b, "PRAGMA synchronous", &sync);
	printf("# bench_ledger_raw: SQLite %s, one thread, prepared statements; per transfer:"
	       " SELECT x2, checks, UPDATE x2, INSERT journal row\n",
	       sqlite3_libversion());
	printf("# store: journal_mode=%s synchronous=%" PRId64 "%s, cache 16 MiB, %s, dir=%s (%s),"
	       " %.1f s per mode, %ld customer wallets + 1 merchant, seed %" PRIu64 "\n",
	       journal, sync, sync == 2 ? " (FULL)" : "",
	       o->no_checkpoint
		       ? "no checkpoint during a mode (the WAL emptied before each, untimed)"
		       : "SQLite's automatic checkpoint (in the committing thread)",
	       b->dir, fs_name(b->dir), o->seconds, o->accounts, o->seed);
}

int main(int argc, char **argv)
{
	static const int batches[] = { 1, 10, 100, 1000 };
	struct options o;
	struct bench b = { 0 };
	struct result res[8];
	int64_t applied = 0;
	size_t n = 0;
	int r = 0;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (setup(&b, &o) < 0)
		r = -1;
	if (r == 0)
		print_conditions(&b, &o);
	/* Per batch size uniform, then hot, as bench_ledger runs them. */
	for (size_t i = 0; r == 0 && i < sizeof(batches) / sizeof(batches[0]); i++)
		for (int hot = 0; r == 0 && hot < 2; hot++) {
			if (o.only_batch && o.only_batch != batches[i])
				continue;
			/* Without checkpoints the WAL would hold every earlier
			 * mode's frames, and every page read searches its index:
			 * each mode starts on an empty WAL instead (untimed), so
			 * the ceiling does not depend on what ran before. */
			if (o.no_checkpoint)
				r = exec_sql(&b, "PRAGMA wal_checkpoint(TRUNCATE)");
			if (r == 0)
				r = run_mode(&b, hot, batches[i], o.seconds, &res[n]);
			else
				break;
			applied += res[n++].transfers;
		}
	if (r == 0) {
		printf("%-10s %6s %10s %10s %9s %12s %10s %9s\n", "workload", "batch", "transfers",
		       "commits", "seconds", "transfers/s", "commits/s", "cpu us/t");
		for (size_t i = 0; i < n; i++)
			printf("%-10s %6d %10" PRId64 " %10" PRId64 " %9.2f %12.0f %10.0f %9.1f\n",
			       res[i].workload, res[i].batch, res[i].transfers, res[i].commits,
			       res[i].seconds, (double)res[i].transfers / res[i].seconds,
			       (double)res[i].commits / res[i].seconds,
			       res[i].transfers > 0 ? res[i].cpu_s * 1e6 / (double)res[i].transfers
						    : 0.0);
		fflush(stdout);
		r = check(&b, applied);
	}
	teardown(&b, &o);
	return r == 0 ? 0 : 1;
}
