/*
 * bench/bench_ledger: in-process ledger transfers per second through the
 * real writer (anfu_ledger_submit: queue, batches through the executor,
 * savepoint per request, audit records, hash-chain seal, one durable
 * commit per batch), against which bench/bench_ledger_raw's ceiling is read.
 *
 * Builds a throw-away data directory the way app/ does (keys, SQLite
 * database in WAL with synchronous = FULL, every module's migrations,
 * audit writer, executor), opens customer wallets, a merchant account and a
 * bank reserve through the writer, funds the wallets, then for each
 * [ledger] batch_max of 1, 10, 100 and 1000 and each workload (uniform:
 * wallet to random other wallet; then hot: wallet to the one merchant
 * account) runs THREADS submitter threads, each submitting requests of PER_REQ
 * independent transfers (at most batch_max: the writer takes a request
 * whole) for S seconds. Then one latency run: 64 callers,
 * one transfer per request, batch_max 1000: p50 and p99 of
 * anfu_ledger_submit(). At the end `anfu_ledger_verify()` must pass, so
 * the numbers are for work that verifies. With --nodes 2 (PostgreSQL) a
 * second writer runs beside the first on the same database, as a second
 * anfud node would: a store (connections), audit writer, executor and
 * ledger service of its own; the odd-numbered submitter threads use it.
 *
 * Trusts its command line only. Not a test (STYLE.md): it prints numbers
 * and the conditions they were measured under.
 *
 * Usage: bench_ledger [--seconds S] [--dir PARENT] [--accounts N]
 *                     [--threads T] [--per-request K] [--batch B]
 *                     [--wait-us W] [--no-latency] [--pg DSN] [--nodes N]
 *                     [--keep]
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/profile.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/store.h"
#include "tx/tx.h"

#define MAX_THREADS 256
#define MAX_ACCOUNTS 100000
#define LAT_CALLERS 64
#define LAT_SAMPLES 200000 /* per run, over all callers */
#define FUNDS INT64_C(1000000000000)

struct options {
	double seconds;
	const char *parent;
	int accounts;
	int threads;
	int per_req;
	int only_batch;	    /* 0: every batch_max */
	int wait_us;	    /* [ledger] batch_wait_us */
	const char *pg_dsn; /* NULL: SQLite in the data directory */
	int nodes;	    /* writers on the database (2: PostgreSQL only) */
	bool skip_latency;
	bool keep;
};

struct bench {
	char dir[PATH_MAX];
	struct anfu_keys *keys;
	struct anfu_store *store;
	struct anfu_db *db;
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx;
	struct anfu_ledger_config cfg;
	int64_t wait_us; /* [ledger] batch_wait_us of every run */
	struct anfu_ledger *l;
	/* --nodes 2: the second node's own store, audit writer, executor and
	 * ledger service, on the same database. */
	int nodes;
	struct {
		struct anfu_store *store;
		struct anfu_audit *audit;
		struct anfu_tx_exec *tx;
		struct anfu_ledger_config cfg;
		struct anfu_ledger *l;
	} n2;
	char (*wallets)[ANFU_ID_MAX];
	int nwallets;
	char merchant[ANFU_ID_MAX];
	char reserve[ANFU_ID_MAX];
	atomic_int_fast64_t next_key;
};

static const struct anfu_actor bench_actor = { "system", "system", "", "", "", "" };

struct worker {
	struct bench *b;
	struct anfu_ledger *l; /* the node it submits to */
	bool hot;
	int per_req;
	double until_s;
	uint64_t rng;
	int64_t applied, refused, requests;
	int64_t *lat_us; /* latency run: samples, or NULL */
	int64_t nlat, cap_lat;
	int rc;
};

static double now_s(void)
{
	return (double)anfu_clock_mono_us() / 1e6;
}

static int64_t later_ms(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_ledger [--seconds S] [--dir PARENT] [--accounts N]\n"
		   "                    [--threads T] [--per-request K] [--batch B]\n"
		   "                    [--wait-us W] [--no-latency] [--pg DSN] [--nodes N]\n"
		   "                    [--keep]\n"
		   "  --seconds S      run time of each mode (default 5)\n"
		   "  --dir PARENT     where the temporary data directory goes (default\n"
		   "                   $TMPDIR or /var/tmp; must be the disk you mean to measure)\n"
		   "  --accounts N     customer wallets (default 10000)\n"
		   "  --threads T      submitter threads (default 64)\n"
		   "  --per-request K  independent transfers per request (default 32: with 64\n"
		   "                   threads up to 2048 transfers in flight; a batch of 1000\n"
		   "                   fills only with about twice that many waiting, since the\n"
		   "                   callers of the batch being committed are not yet back)\n"
		   "  --batch B        only batch_max B (1, 10, 100 or 1000; for profiling)\n"
		   "  --wait-us W      [ledger] batch_wait_us of the writer (default 0: take\n"
		   "                   what is queued; anfud's default is 1000)\n"
		   "  --no-latency     skip the latency run\n"
		   "  --pg DSN         the store on PostgreSQL (libpq conninfo of an empty\n"
		   "                   database; keys and audit files stay in the directory)\n"
		   "  --nodes N        writers on the database, each with its own connections,\n"
		   "                   audit writer and executor, as anfud nodes (1 or 2;\n"
		   "                   2 needs --pg; the odd-numbered threads use the second)\n"
		   "  --keep           keep the data directory afterwards\n");
}

static int parse_int(const char *s, long lo, long hi, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*ret = (int)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "accounts", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "per-request", required_argument, NULL, 'k' },
		{ "keep", no_argument, NULL, 'K' },
		{ "batch", required_argument, NULL, 'b' },
		{ "no-latency", no_argument, NULL, 'L' },
		{ "pg", required_argument, NULL, 'P' },
		{ "wait-us", required_argument, NULL, 'W' },
		{ "nodes", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tmp = getenv("TMPDIR");
	char *end;
	int ch;

	*o = (struct options){ .seconds = 5.0,
			       .parent = tmp && tmp[0] ? tmp : "/var/tmp",
			       .accounts = 10000,
			       .threads = 64,
			       .per_req = 32,
			       .nodes = 1 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || o->seconds <= 0 ||
			    o->seconds > 3600)
				return -1;
			break;
		case 'd': o->parent = optarg; break;
		case 'a':
			if (parse_int(optarg, 2, MAX_ACCOUNTS, &o->accounts) < 0)
				return -1;
			break;
		case 't':
			if (parse_int(optarg, 1, MAX_THREADS, &o->threads) < 0)
				return -1;
			break;
		case 'k':
			if (parse_int(optarg, 1, ANFU_LIMIT_LEDGER_REQUEST, &o->per_req) < 0)
				return -1;
			break;
		case 'K': o->keep = true; break;
		case 'b':
			if (parse_int(optarg, 1, 1000, &o->only_batch) < 0)
				return -1;
			break;
		case 'L': o->skip_latency = true; break;
		case 'P': o->pg_dsn = optarg; break;
		case 'W':
			if (parse_int(optarg, 0, ANFU_LIMIT_LEDGER_BATCH_WAIT_US, &o->wait_us) < 0)
				return -1;
			break;
		case 'N':
			if (parse_int(optarg, 1, 2, &o->nodes) < 0)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (o->nodes > 1 && !o->pg_dsn)
		return -1; /* one SQLite file serves one node */
	return optind == argc ? 0 : -1;
}

static int path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? ANFU_ELIMIT : 0;
}

/* Keys, database, migrations, audit writer and executor in a fresh
 * directory under o->parent. On failure says why on stderr. */
static int setup(struct bench *b, const struct options *o)
{
	struct anfu_keys_made made;
	struct anfu_store_cfg scfg = { .backend = "sqlite", .busy_timeout_ms = 5000 };
	struct anfu_audit_cfg acfg;
	char db_path[PATH_MAX], audit_dir[PATH_MAX], ckpt[PATH_MAX];
	struct anfu_migration_set schema[ANFU_LIMIT_MODULES];
	size_t nschema = anfu_app_schema(schema);
	int r;

	if (snprintf(b->dir, sizeof(b->dir), "%s/anfu-bench-ledger-XXXXXX", o->parent) >=
		    (int)sizeof(b->dir) ||
	    !mkdtemp(b->dir)) {
		fprintf(stderr, "bench_ledger: cannot create a directory in %s: %s\n", o->parent,
			strerror(errno));
		b->dir[0] = '\0';
		return ANFU_EIO;
	}
	if (path_join(db_path, b->dir, "anfu.db") < 0 ||
	    path_join(audit_dir, b->dir, "audit") < 0 ||
	    path_join(ckpt, audit_dir, "checkpoints.jsonl") < 0 || mkdir(audit_dir, 0700) != 0)
		return ANFU_EIO;
	r = anfu_keys_init_dir(b->dir, ANFU_CRYPTO_INTL, &made);
	if (r == 0)
		r = anfu_keys_load(b->dir, ANFU_CRYPTO_INTL, &b->keys);
	acfg = (struct anfu_audit_cfg){ .hash = ANFU_HASH_SHA256,
					.checkpoint_records = 1000,
					.checkpoint_seconds = 60,
					.checkpoint_file = ckpt };
	if (r == 0)
		r = anfu_audit_new(&acfg, b->keys, &b->audit);
	scfg.path = db_path;
	if (o->pg_dsn) {
		scfg.backend = "postgresql";
		scfg.dsn = o->pg_dsn;
	}
	if (r == 0)
		r = anfu_store_new(&scfg, &b->store);
	if (r == 0)
		r = anfu_store_db(b->store, &b->db);
	if (r == 0)
		r = anfu_migrate(b->db, schema, nschema, NULL, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_tx_exec_new(b->store, b->audit, &b->tx);
	if (r == 0 && b->nodes == 2) {
		/* The second node: the same keys, its own checkpoint file. */
		if (path_join(ckpt, audit_dir, "checkpoints-2.jsonl") < 0)
			r = ANFU_EIO;
		if (r == 0)
			r = anfu_audit_new(&acfg, b->keys, &b->n2.audit);
		if (r == 0)
			r = anfu_store_new(&scfg, &b->n2.store);
		if (r == 0)
			r = anfu_tx_exec_new(b->n2.store, b->n2.audit, &b->n2.tx);
	}
	if (r < 0)
		fprintf(stderr, "bench_ledger: setup: %s\n", anfu_strerror(r));
	return r;
}

/* (Re)starts the ledger service with batch_max. */
static int start_ledger(struct bench *b, int64_t batch_max)
{
	struct anfu_ledger_deps d = { .tx = b->tx, .cfg = &b->cfg, .hash = ANFU_HASH_SHA256 };
	int r;

	anfu_ledger_free(b->l);
	b->l = NULL;
	b->cfg = (struct anfu_ledger_config){ .batch_max = batch_max,
					      .batch_wait_us = b->wait_us,
					      .queue_max = ANFU_LIMIT_LEDGER_QUEUE };
	r = anfu_ledger_new(&d, &b->l);
	if (r == 0)
		r = anfu_ledger_start(b->l);
	anfu_ledger_free(b->n2.l);
	b->n2.l = NULL;
	if (r == 0 && b->nodes == 2) {
		struct anfu_ledger_deps d2 = { .tx = b->n2.tx,
					       .cfg = &b->n2.cfg,
					       .hash = ANFU_HASH_SHA256 };

		b->n2.cfg = b->cfg;
		r = anfu_ledger_new(&d2, &b->n2.l);
		if (r == 0)
			r = anfu_ledger_start(b->n2.l);
	}
	if (r < 0)
		fprintf(stderr, "bench_ledger: ledger: %s\n", anfu_strerror(r));
	return r;
}

static int open_account(struct bench *b, const char *kind, const char *otype, const char *owner,
			char id[ANFU_ID_MAX])
{
	const struct anfu_ledger_account_spec s = { kind, "CNY", otype, owner };
	struct anfu_ledger_account a;
	int r = anfu_ledger_open(b->l, &bench_actor, &s, later_ms(), &a);

	if (r == 0)
		memcpy(id, a.id, ANFU_ID_MAX);
	return r;
}

/* Opens the wallets one by one, then funds them in requests of up to
 * ANFU_LIMIT_LEDGER_REQUEST independent top-ups. */
static int make_accounts(struct bench *b)
{
	struct anfu_ledger_transfer t[ANFU_LIMIT_LEDGER_REQUEST];
	struct anfu_ledger_result res[ANFU_LIMIT_LEDGER_REQUEST];
	char owner[32], keys[ANFU_LIMIT_LEDGER_REQUEST][24];
	int r = open_account(b, "bank_reserve", "bank", "ICBC", b->reserve);

	if (r == 0)
		r = open_account(b, "merchant_pending", "merchant", "mer_bench", b->merchant);
	for (int i = 0; r == 0 && i < b->nwallets; i++) {
		(void)snprintf(owner, sizeof(owner), "usr_bench%d", i);
		r = open_account(b, "customer_wallet", "customer", owner, b->wallets[i]);
	}
	for (int i = 0; r == 0 && i < b->nwallets; i += ANFU_LIMIT_LEDGER_REQUEST) {
		int n = b->nwallets - i < ANFU_LIMIT_LEDGER_REQUEST ? b->nwallets - i
								    : ANFU_LIMIT_LEDGER_REQUEST;

		for (int j = 0; j < n; j++) {
			(void)snprintf(keys[j], sizeof(keys[j]), "fund%d", i + j);
			t[j] = (struct anfu_ledger_transfer){ .idem_key = keys[j],
							      .debit_account = b->reserve,
							      .credit_account = b->wallets[i + j],
							      .amount = FUNDS,
							      .asset = "CNY",
							      .code = "top_up" };
		}
		r = anfu_ledger_submit(b->l, &bench_actor, "bench", t, (size_t)n, later_ms(), res);
		for (int j = 0; r == 0 && j < n; j++)
			if (res[j].code)
				r = ANFU_EINTERNAL;
	}
	if (r < 0)
		fprintf(stderr, "bench_ledger: accounts: %s\n", anfu_strerror(r));
	return r;
}

static void *worker_main(void *ud)
{
	struct worker *w = ud;
	struct bench *b = w->b;
	struct anfu_ledger_transfer t[ANFU_LIMIT_LEDGER_REQUEST];
	struct anfu_ledger_result res[ANFU_LIMIT_LEDGER_REQUEST];
	char keys[ANFU_LIMIT_LEDGER_REQUEST][24];

	while (now_s() < w->until_s) {
		int64_t t0;

		for (int i = 0; i < w->per_req; i++) {
			int d = (int)(next_rand(&w->rng) % (uint64_t)b->nwallets), c;

			c = (int)(next_rand(&w->rng) % (uint64_t)(b->nwallets - 1));
			c += c >= d;
			(void)snprintf(keys[i], sizeof(keys[i]), "k%" PRIdFAST64,
				       atomic_fetch_add(&b->next_key, 1));
			t[i] = (struct anfu_ledger_transfer){
				.idem_key = keys[i],
				.debit_account = b->wallets[d],
				.credit_account = w->hot ? b->merchant : b->wallets[c],
				.amount = 1 + (int64_t)(next_rand(&w->rng) % 10000),
				.asset = "CNY",
				.code = "payment",
				.ref = "ord_bench",
			};
		}
		t0 = anfu_clock_mono_us();
		w->rc = anfu_ledger_submit(w->l, &bench_actor, "bench", t, (size_t)w->per_req,
					   later_ms(), res);
		if (w->rc < 0)
			return NULL;
		if (w->lat_us && w->nlat < w->cap_lat)
			w->lat_us[w->nlat++] = anfu_clock_mono_us() - t0;
		w->requests++;
		for (int i = 0; i < w->per_req; i++) {
			if (res[i].code)
				w->refused++;
			else
				w->applied++;
		}
	}
	return NULL;
}

struct run {
	int64_t applied, refused, requests, batches, batch_transfers;
	double seconds;
	double cpu_s; /* this process's user + system CPU time during the run */
	int64_t *lat; /* all samples, or NULL */
	int64_t nlat;
};

/* User + system CPU time of the whole process (every thread): the work a
 * transfer costs, which other load on the machine does not inflate the
 * way it inflates wall time. */
static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0.0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_mode(struct bench *b, bool hot, int threads, int per_req, double seconds,
		    bool latency, struct run *out)
{
	struct worker w[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	int64_t batches0 = 0, batches1 = 0, first = 0, last = 0;
	double t0, cpu0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	(void)anfu_db_query_int(b->db, "SELECT last_batch FROM ledger_head", NULL, 0, &batches0);
	(void)anfu_db_query_int(b->db, "SELECT last_transfer FROM ledger_head", NULL, 0, &first);
	cpu0 = cpu_s();
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){ .b = b,
					.l = b->nodes == 2 && (i & 1) ? b->n2.l : b->l,
					.hot = hot,
					.per_req = per_req,
					.until_s = t0 + seconds,
					.rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) };
		if (latency) {
			w[i].cap_lat = LAT_SAMPLES / threads;
			w[i].lat_us = anfu_xcalloc((size_t)w[i].cap_lat, sizeof(int64_t));
		}
		if (pthread_create(&tid[i], NULL, worker_main, &w[i]) != 0)
			abort();
	}
	for (int i = 0; i < threads; i++)
		(void)pthread_join(tid[i], NULL);
	out->seconds = now_s() - t0;
	out->cpu_s = cpu_s() - cpu0;
	if (latency)
		out->lat = anfu_xcalloc(LAT_SAMPLES, sizeof(int64_t));
	for (int i = 0; i < threads; i++) {
		if (w[i].rc < 0 && r == 0)
			r = w[i].rc;
		out->applied += w[i].applied;
		out->refused += w[i].refused;
		out->requests += w[i].requests;
		if (latency) {
			memcpy(out->lat + out->nlat, w[i].lat_us,
			       (size_t)w[i].nlat * sizeof(int64_t));
			out->nlat += w[i].nlat;
			free(w[i].lat_us);
		}
	}
	(void)anfu_db_query_int(b->db, "SELECT last_batch FROM ledger_head", NULL, 0, &batches1);
	(void)anfu_db_query_int(b->db, "SELECT last_transfer FROM ledger_head", NULL, 0, &last);
	out->batches = batches1 - batches0;
	out->batch_transfers = last - first;
	if (r < 0)
		fprintf(stderr, "bench_ledger: submit: %s\n", anfu_strerror(r));
	return r;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(struct bench *b, const struct options *o)
{
	anfu_ledger_free(b->n2.l);
	anfu_tx_exec_free(b->n2.tx);
	anfu_audit_free(b->n2.audit);
	anfu_store_free(b->n2.store);
	anfu_ledger_free(b->l);
	anfu_tx_exec_free(b->tx);
	anfu_audit_free(b->audit);
	anfu_store_free(b->store);
	anfu_keys_free(b->keys);
	free(b->wallets);
	if (b->dir[0] == '\0')
		return;
	if (o->keep)
		printf("# kept %s\n", b->dir);
	else
		(void)nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void print_row(const char *workload, int64_t batch_max, const struct run *r)
{
	printf("%-8s %9" PRId64 " %10" PRId64 " %8" PRId64 " %8" PRId64 " %8.2f %12.0f %10.1f"
	       " %9.1f\n",
	       workload, batch_max, r->applied, r->refused, r->batches, r->seconds,
	       (double)r->applied / r->seconds,
	       r->batches > 0 ? (double)r->batch_transfers / (double)r->batches : 0.0,
	       r->applied > 0 ? r->cpu_s * 1e6 / (double)r->applied : 0.0);
}

static int run_all(struct bench *b, const struct options *o)
{
	static const int64_t batch_max[] = { 1, 10, 100, 1000 };
	struct run run;
	int r = 0;

	printf("%-8s %9s %10s %8s %8s %8s %12s %10s %9s\n", "workload", "batch_max", "transfers",
	       "refused", "batches", "seconds", "transfers/s", "per batch", "cpu us/t");
	/* Per batch size uniform, then hot (bench_ledger_raw runs the same
	 * order): the two workloads of a size run back to back on a database
	 * of about the same size, as do the writer's and the raw program's
	 * runs of a mode. */
	for (size_t i = 0; r == 0 && i < sizeof(batch_max) / sizeof(batch_max[0]); i++)
		for (int hot = 0; r == 0 && hot < 2; hot++) {
			/* A request is taken whole: batches of 1 and 10 transfers
			 * need requests no larger. */
			int per_req = o->per_req < batch_max[i] ? o->per_req : (int)batch_max[i];

			if (o->only_batch && o->only_batch != batch_max[i])
				continue;
			r = start_ledger(b, batch_max[i]);
			if (r == 0)
				r = run_mode(b, hot, o->threads, per_req, o->seconds, false, &run);
			if (r == 0)
				print_row(hot ? "hot" : "uniform", batch_max[i], &run);
			fflush(stdout);
		}
	if (o->skip_latency)
		return r;
	if (r == 0)
		r = start_ledger(b, 1000);
	if (r == 0)
		r = run_mode(b, false, LAT_CALLERS, 1, o->seconds, true, &run);
	if (r == 0 && run.nlat > 0) {
		qsort(run.lat, (size_t)run.nlat, sizeof(int64_t), cmp_i64);
		printf("# latency of anfu_ledger_submit: %d callers, 1 transfer per request, "
		       "batch_max 1000, uniform: %.0f transfers/s, p50 %.2f ms, p99 %.2f ms "
		       "(%" PRId64 " samples, %.1f transfers per batch)\n",
		       LAT_CALLERS, (double)run.applied / run.seconds,
		       (double)run.lat[run.nlat / 2] / 1000.0,
		       (double)run.lat[run.nlat * 99 / 100] / 1000.0, run.nlat,
		       run.batches > 0 ? (double)run.batch_transfers / (double)run.batches : 0.0);
	}
	free(run.lat);
	return r;
}

static int verify(struct bench *b)
{
	struct anfu_ledger_verify_report rep;
	double t0 = now_s();
	int r;

	anfu_ledger_free(b->l);
	b->l = NULL;
	anfu_ledger_free(b->n2.l);
	b->n2.l = NULL;
	r = anfu_ledger_verify(b->db, ANFU_HASH_SHA256, &rep);
	printf("# verify: %s, %" PRId64 " transfers in %" PRId64 " batches, %.2f s%s%s\n",
	       r == 0 ? "ok" : "FAILED", rep.transfers, rep.batches, now_s() - t0,
	       r == 0 ? "" : ": ", r == 0 ? "" : rep.problem);
	return r;
}

int main(int argc, char **argv)
{
	struct options o;
	struct bench b;
	int r;

	memset(&b, 0, sizeof(b));
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	b.nwallets = o.accounts;
	b.nodes = o.nodes;
	b.wait_us = o.wait_us;
	b.wallets = anfu_xcalloc((size_t)o.accounts, ANFU_ID_MAX);
	r = anfu_crypto_init();
	if (r == 0)
		r = setup(&b, &o);
	if (r == 0)
		r = start_ledger(&b, 1000);
	if (r == 0)
		r = make_accounts(&b);
	if (r == 0) {
		printf("# bench_ledger: in process through anfu_ledger_submit; %d submitter "
		       "threads, %d independent transfers per request; %d customer wallets + 1 "
		       "merchant; batch_wait_us %d; audit hash sha256; %d writer node(s) on "
		       "the database%s\n",
		       o.threads, o.per_req, o.accounts, o.wait_us, o.nodes,
		       o.nodes > 1 ? " (each its own connections, audit writer and executor; "
				     "odd-numbered threads on the second)"
				   : "");
		int64_t sync = -1;

		if (o.pg_dsn) {
			printf("# store: postgresql (%s), fsync and synchronous_commit as the "
			       "cluster has them, %.1f s per mode\n",
			       o.pg_dsn, o.seconds);
		} else {
			(void)anfu_db_query_int(b.db, "PRAGMA synchronous", NULL, 0, &sync);
			printf("# store: sqlite WAL, synchronous=%" PRId64 "%s, dir=%s, %.1f s per "
			       "mode\n",
			       sync, sync == 2 ? " (FULL)" : "", b.dir, o.seconds);
		}
		r = run_all(&b, &o);
	}
	if (r == 0)
		r = verify(&b);
	teardown(&b, &o);
	return r == 0 ? 0 : 1;
}
