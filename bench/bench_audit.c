/*
 * bench/bench_audit: in-process audit appends per second.
 *
 * Builds a throw-away data directory (keys, SQLite database, migrations,
 * audit writer, transaction executor) the way app/ does, then measures
 * audited transactions through the executor (src/tx/) in four modes:
 *   - one record per durable transaction (anfu_tx_run: BEGIN IMMEDIATE,
 *     the record appended, COMMIT: one WAL fsync each);
 *   - batches of 10 and of 100 commands (anfu_tx_run_batch: a savepoint
 *     and one staged record per command, the batch's records appended in
 *     one pass, one commit): what the ledger writer's batching buys;
 *   - 100 records staged in one transaction (anfu_tx_run, one pass, no
 *     savepoints) against 100 records appended one by one in one
 *     transaction (anfu_audit_append per record: the head read and moved
 *     100 times): what the one-pass append saves.
 * Afterwards it verifies the chain, so the numbers are for records that
 * really verify, and removes the directory.
 *
 * Trusts its command line only. Not a test (STYLE.md): it prints numbers
 * and the conditions they were measured under; bench/run.sh records them.
 *
 * Usage: bench_audit [--crypto intl|gm] [--seconds S] [--dir PARENT]
 *                    [--checkpointer] [--keep]
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/err.h"
#include "base/profile.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "store/store.h"
#include "tx/tx.h"

#define BATCH_MAX 100

struct options {
	enum anfu_crypto_profile crypto;
	double seconds; /* per mode */
	const char *parent;
	bool checkpointer;
	bool keep;
};

struct bench {
	char dir[PATH_MAX];
	char db_path[PATH_MAX];
	char ckpt_path[PATH_MAX];
	struct anfu_keys *keys;
	struct anfu_store *store;
	struct anfu_db *db; /* this thread's connection, owned by store */
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx;
	bool started;	  /* checkpointer running */
	int64_t appended; /* records appended by the benchmark */
};

struct result {
	const char *mode;
	int64_t appends;
	int64_t txs;
	double seconds;
};

static const struct anfu_actor bench_actor = {
	.id = "usr_bench0000000000000000000",
	.type = "customer",
	.role = "customer",
	.ip = "127.0.0.1",
	.device = "dev_bench",
	.request_id = "req_bench",
};

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_audit [--crypto intl|gm] [--seconds S] [--dir PARENT]\n"
		   "                   [--checkpointer] [--keep]\n"
		   "  --crypto       intl: SHA-256 chain, Ed25519 checkpoints (default);\n"
		   "                 gm: SM3 chain, SM2 checkpoints\n"
		   "  --seconds S    run time of each mode (default 5)\n"
		   "  --dir PARENT   where the temporary data directory goes (default\n"
		   "                 $TMPDIR or /var/tmp; must be the disk you mean to measure)\n"
		   "  --checkpointer run the audit checkpoint thread during the runs\n"
		   "  --keep         keep the data directory afterwards\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "crypto", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ "checkpointer", no_argument, NULL, 'p' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tmp = getenv("TMPDIR");
	char *end;
	int ch;

	*o = (struct options){ .crypto = ANFU_CRYPTO_INTL,
			       .seconds = 5.0,
			       .parent = tmp && tmp[0] ? tmp : "/var/tmp" };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (strcmp(optarg, "intl") == 0)
				o->crypto = ANFU_CRYPTO_INTL;
			else if (strcmp(optarg, "gm") == 0)
				o->crypto = ANFU_CRYPTO_GM;
			else
				return -1;
			break;
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || o->seconds <= 0 ||
			    o->seconds > 3600)
				return -1;
			break;
		case 'd': o->parent = optarg; break;
		case 'p': o->checkpointer = true; break;
		case 'k': o->keep = true; break;
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

/* Records each applied migration in the audit log, in the migration's
 * transaction, exactly as app/ does. */
static int on_migration(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct bench *b = ud;
	json_t *details = json_pack("{s:s,s:i,s:s}", "module", m->module, "version", m->version,
				    "name", m->name);
	char id[64];
	struct anfu_audit_event ev = {
		.actor = &bench_actor,
		.action = "db.migration_applied",
		.object_type = "schema",
		.object_id = id,
		.outcome = "success",
		.details = details,
	};
	int r;

	(void)snprintf(id, sizeof(id), "%s/%d", m->module, m->version);
	r = anfu_audit_append(b->audit, db, &ev, NULL);
	json_decref(details);
	return r;
}

static int journal_cb(void *ud, const struct anfu_row *row)
{
	const char *t = anfu_row_text(row, 0, NULL);

	(void)snprintf(ud, 16, "%s", t ? t : "?");
	return 0;
}

/* out = dir + "/" + name; out holds PATH_MAX bytes. */
static int path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? ANFU_ELIMIT : 0;
}

/* Sets up keys, database, migrations and the audit writer in a fresh
 * directory under o->parent. On failure says why on stderr. */
static int setup(struct bench *b, const struct options *o)
{
	enum anfu_hash_alg hash = o->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	struct anfu_keys_made made;
	struct anfu_store_cfg scfg = { .backend = "sqlite", .busy_timeout_ms = 5000 };
	struct anfu_audit_cfg acfg;
	char audit_dir[PATH_MAX];
	struct anfu_migration_set schema[ANFU_LIMIT_MODULES];
	size_t nschema = anfu_app_schema(schema);
	int r;

	if (snprintf(b->dir, sizeof(b->dir), "%s/anfu-bench-audit-XXXXXX", o->parent) >=
		    (int)sizeof(b->dir) ||
	    !mkdtemp(b->dir)) {
		fprintf(stderr, "bench_audit: cannot create a directory in %s: %s\n", o->parent,
			strerror(errno));
		b->dir[0] = '\0';
		return ANFU_EIO;
	}
	if (path_join(b->db_path, b->dir, "anfu.db") < 0 ||
	    path_join(audit_dir, b->dir, "audit") < 0 ||
	    path_join(b->ckpt_path, audit_dir, "checkpoints.jsonl") < 0) {
		fprintf(stderr, "bench_audit: %s: path too long\n", b->dir);
		return ANFU_ELIMIT;
	}
	if (mkdir(audit_dir, 0700) != 0) {
		fprintf(stderr, "bench_audit: mkdir %s: %s\n", audit_dir, strerror(errno));
		return ANFU_EIO;
	}
	r = anfu_keys_init_dir(b->dir, o->crypto, &made);
	if (r == 0)
		r = anfu_keys_load(b->dir, o->crypto, &b->keys);
	if (r < 0) {
		fprintf(stderr, "bench_audit: keys: %s\n", anfu_strerror(r));
		return r;
	}
	acfg = (struct anfu_audit_cfg){
		.hash = hash,
		.checkpoint_records = 1000, /* audit.checkpoint_records default */
		.checkpoint_seconds = 60,
		.checkpoint_file = b->ckpt_path,
	};
	r = anfu_audit_new(&acfg, b->keys, &b->audit);
	if (r < 0) {
		fprintf(stderr, "bench_audit: audit writer: %s\n", anfu_strerror(r));
		return r;
	}
	scfg.path = b->db_path;
	r = anfu_store_new(&scfg, &b->store);
	if (r == 0)
		r = anfu_store_db(b->store, &b->db);
	if (r == 0)
		r = anfu_migrate(b->db, schema, nschema, on_migration, b, NULL, NULL);
	if (r < 0) {
		fprintf(stderr, "bench_audit: database: %s\n", anfu_strerror(r));
		return r;
	}
	r = anfu_tx_exec_new(b->store, b->audit, &b->tx);
	if (r < 0) {
		fprintf(stderr, "bench_audit: executor: %s\n", anfu_strerror(r));
		return r;
	}
	if (o->checkpointer) {
		r = anfu_audit_start(b->audit, b->store);
		if (r < 0) {
			fprintf(stderr, "bench_audit: checkpointer: %s\n", anfu_strerror(r));
			return r;
		}
		b->started = true;
	}
	return 0;
}

/* The details of the next record: a posting's worth of fields. */
static json_t *next_details(struct bench *b)
{
	json_t *d = json_pack("{s:I,s:s,s:I}", "n", (json_int_t)b->appended, "currency", "CNY",
			      "amount", (json_int_t)12345);

	if (!d)
		abort();
	b->appended++;
	return d;
}

/* One command: stages one record. */
static int stage_tx(struct anfu_tx *tx, void *ud)
{
	return anfu_tx_audit(tx, "bench.append", "account", "acc_bench0000000000000000000",
			     "success", next_details(ud));
}

/* n records appended one by one inside the transaction (singles), or
 * staged for the one-pass append (staged). */
struct singles {
	struct bench *b;
	int n;
};

static int staged_tx(struct anfu_tx *tx, void *ud)
{
	struct singles *s = ud;
	int r = 0;

	for (int i = 0; i < s->n && r == 0; i++)
		r = stage_tx(tx, s->b);
	return r;
}

static int singles_tx(struct anfu_tx *tx, void *ud)
{
	struct singles *s = ud;
	int r = 0;

	for (int i = 0; i < s->n && r == 0; i++) {
		json_t *d = next_details(s->b);
		struct anfu_audit_event ev = { &bench_actor, "bench.append",
					       "account",    "acc_bench0000000000000000000",
					       "success",    d };

		r = anfu_audit_append(s->b->audit, anfu_tx_db(tx), &ev, NULL);
		json_decref(d);
	}
	return r;
}

enum mode {
	ONE_PER_TX,
	BATCH,
	STAGED,
	SINGLES
};

/* One transaction of the mode: per_tx records. */
static int one_tx(struct bench *b, enum mode m, int per_tx)
{
	struct anfu_tx_cmd cmds[BATCH_MAX];
	struct singles s = { b, per_tx };

	switch (m) {
	case ONE_PER_TX: return anfu_tx_run(b->tx, &bench_actor, stage_tx, b);
	case STAGED: return anfu_tx_run(b->tx, &bench_actor, staged_tx, &s);
	case SINGLES: return anfu_tx_run(b->tx, &bench_actor, singles_tx, &s);
	case BATCH:
	default:
		for (int i = 0; i < per_tx; i++)
			cmds[i] = (struct anfu_tx_cmd){ &bench_actor, stage_tx, b, 0 };
		return anfu_tx_run_batch(b->tx, cmds, (size_t)per_tx);
	}
}

/* Runs transactions of `per_tx` records for about `seconds`. */
static int run_mode(struct bench *b, enum mode m, int per_tx, double seconds, struct result *res)
{
	double t0 = now_s(), t = t0;
	int64_t txs = 0, appends = 0;
	int r = 0;

	while (t - t0 < seconds) {
		r = one_tx(b, m, per_tx);
		if (r < 0) {
			fprintf(stderr, "bench_audit: transaction %lld failed: %s\n",
				(long long)txs, anfu_strerror(r));
			return r;
		}
		txs++;
		appends += per_tx;
		t = now_s();
	}
	res->appends = appends;
	res->txs = txs;
	res->seconds = t - t0;
	return 0;
}

static int verify(struct bench *b, const struct options *o)
{
	enum anfu_hash_alg hash = o->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	struct anfu_sigkey *pub = NULL;
	struct anfu_audit_report rep = { 0 };
	char kid[ANFU_KID_MAX];
	double t0;
	int r;

	if (b->started) {
		anfu_audit_stop(b->audit);
		b->started = false;
	}
	r = anfu_audit_checkpoint(b->audit, b->db, true, NULL);
	if (r == 0)
		r = anfu_keys_load_audit_public(b->dir, &pub, kid);
	if (r < 0) {
		fprintf(stderr, "bench_audit: final checkpoint: %s\n", anfu_strerror(r));
		return r;
	}
	t0 = now_s();
	r = anfu_audit_verify(b->db, hash, pub, b->ckpt_path, NULL, &rep);
	printf("# verify: %s, %lld records, %lld checkpoints, %.2f s%s%s\n",
	       r == 0 ? "ok" : "FAILED", (long long)rep.records, (long long)rep.checkpoints,
	       now_s() - t0, r == 0 ? "" : ": ", r == 0 ? "" : rep.problem);
	anfu_sigkey_free(pub);
	return r;
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
	anfu_audit_stop(b->audit);
	anfu_tx_exec_free(b->tx);
	anfu_audit_free(b->audit);
	anfu_store_free(b->store);
	anfu_keys_free(b->keys);
	if (b->dir[0] == '\0')
		return;
	if (o->keep)
		printf("# kept %s\n", b->dir);
	else
		(void)nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void print_conditions(struct bench *b, const struct options *o)
{
	char journal[16] = "?";
	int64_t sync = -1;

	(void)anfu_db_exec(b->db, "PRAGMA journal_mode", NULL, 0, journal_cb, journal, NULL);
	(void)anfu_db_query_int(b->db, "PRAGMA synchronous", NULL, 0, &sync);
	printf("# bench_audit: crypto=%s hash=%s checkpoint_sig=%s checkpointer=%s\n",
	       o->crypto == ANFU_CRYPTO_GM ? "gm" : "intl",
	       anfu_hash_name(o->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256),
	       anfu_sig_name(o->crypto == ANFU_CRYPTO_GM ? ANFU_SIG_SM2 : ANFU_SIG_ED25519),
	       o->checkpointer ? "on (1000 records / 60 s)" : "off");
	printf("# store: sqlite journal_mode=%s synchronous=%lld%s, dir=%s (%s), "
	       "%.1f s per mode\n",
	       journal, (long long)sync, sync == 2 ? " (FULL)" : "", b->dir, fs_name(b->dir),
	       o->seconds);
}

int main(int argc, char **argv)
{
	struct options o;
	struct bench b = { 0 };
	static const struct {
		enum mode m;
		int per_tx;
	} modes[] = {
		{ ONE_PER_TX, 1 }, { BATCH, 10 }, { BATCH, 100 }, { STAGED, 100 }, { SINGLES, 100 }
	};
	struct result res[5] = { { .mode = "1 record per transaction" },
				 { .mode = "batch of 10 commands" },
				 { .mode = "batch of 100 commands" },
				 { .mode = "100 records, one pass, 1 tx" },
				 { .mode = "100 single appends, 1 tx" } };
	int r;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	r = anfu_crypto_init();
	if (r == 0)
		r = setup(&b, &o);
	if (r == 0)
		print_conditions(&b, &o);
	for (size_t i = 0; r == 0 && i < sizeof(modes) / sizeof(modes[0]); i++)
		r = run_mode(&b, modes[i].m, modes[i].per_tx, o.seconds, &res[i]);
	if (r == 0) {
		printf("%-30s %10s %10s %9s %12s %10s\n", "mode", "records", "commits", "seconds",
		       "records/s", "commits/s");
		for (int i = 0; i < 5; i++)
			printf("%-30s %10lld %10lld %9.2f %12.0f %10.0f\n", res[i].mode,
			       (long long)res[i].appends, (long long)res[i].txs, res[i].seconds,
			       (double)res[i].appends / res[i].seconds,
			       (double)res[i].txs / res[i].seconds);
		fflush(stdout);
		r = verify(&b, &o);
	}
	teardown(&b, &o);
	return r == 0 ? 0 : 1;
}
