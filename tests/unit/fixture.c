/*
 * tests/unit/fixture: builds and removes the data directory, keys,
 * configuration, store, audit writer, transaction executor, vault,
 * notifier and IAM service of a unit test, and answers the tests' small
 * queries (fixture.h).
 *
 * Owns everything it builds until fixture_close(). Trusts its caller:
 * one thread, anfu_crypto_init() done, SQL text from the test itself. The
 * query helpers fail the running test with cmocka's assertions, as the
 * test's own checks do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "config/config.h"
#include "iam/config.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "notify/notify.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"
#include "iam/api/module.h"

#include "fixture.h"

/* Directories nftw may hold open at once while removing a tree. */
#define RMTREE_FDS 16

/* flags together with every piece they need. */
static unsigned with_needs(unsigned flags)
{
	if (flags & FIXTURE_IAM)
		flags |= FIXTURE_AUDIT | FIXTURE_NOTIFY;
	if (flags & FIXTURE_NOTIFY)
		flags |= FIXTURE_CONFIG | FIXTURE_VAULT;
	if (flags & FIXTURE_VAULT)
		flags |= FIXTURE_AUDIT;
	if (flags & FIXTURE_AUDIT)
		flags |= FIXTURE_KEYS;
	return flags;
}

static int build_keys(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	struct anfu_keys_made made;
	int r;

	(void)o;
	r = anfu_keys_init_dir(fx->dir, fx->profile, &made);
	if (r < 0)
		return r;
	return anfu_keys_load(fx->dir, fx->profile, &fx->keys);
}

/* The platform's options and iam's, the module the fixture builds. */
static int build_config(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	const struct anfu_config_table *const tables[] = { &anfu_iam_config_table };
	int r = anfu_config_defaults(fx->dir, tables, 1, &fx->cfg);

	if (r < 0)
		return r;
	/* The fixture owns cfg; tests change iam's options in place. */
	fx->iam_cfg = (struct anfu_iam_config *)anfu_config_module(fx->cfg, tables[0]);
	if (!fx->iam_cfg)
		return ANFU_EINTERNAL;
	if (o->small_argon2) {
		fx->iam_cfg->argon2.opslimit = FIXTURE_ARGON2_OPSLIMIT;
		fx->iam_cfg->argon2.memlimit_kib = FIXTURE_ARGON2_MEMLIMIT_KIB;
	}
	return 0;
}

/* The migrations of the platform and of iam, in the module list's
 * order. */
#define FIXTURE_NSCHEMA 3
static struct anfu_migration_set fixture_schema[FIXTURE_NSCHEMA];

/* fixture_pg_mode(): every fixture_open builds its store on PostgreSQL. */
static bool pg_mode;

static int build_store(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_store_cfg scfg = { .backend = "sqlite",
				       .path = fx->dbpath,
				       .busy_timeout_ms = FIXTURE_BUSY_TIMEOUT_MS };
	int r;

	if (o->pg || pg_mode) {
		if (!fixture_pg_fresh(dsn))
			return ANFU_EINVAL;
		scfg.backend = "postgresql";
		scfg.dsn = dsn;
		fx->pg = true;
	}
	fixture_schema[0] = anfu_core_migrations;
	fixture_schema[1] = anfu_notify_migrations;
	fixture_schema[2] = anfu_iam_migrations;
	r = anfu_store_new(&scfg, &fx->store);
	if (r < 0)
		return r;
	r = anfu_store_db(fx->store, &fx->db);
	if (r < 0)
		return r;
	return anfu_migrate(fx->db, fixture_schema, FIXTURE_NSCHEMA, NULL, NULL, NULL, NULL);
}

/* The writer, the public key a verifier would read from the directory
 * (which must be the writer's), and the transaction executor on the
 * store and the writer. */
static int build_audit(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	struct anfu_audit_cfg acfg = { fx->hash, FIXTURE_CHECKPOINT_RECORDS,
				       FIXTURE_CHECKPOINT_SECONDS, fx->ckfile };
	char kid[ANFU_KID_MAX];
	int r;

	if (o->checkpoint_records > 0)
		acfg.checkpoint_records = o->checkpoint_records;
	r = anfu_keys_load_audit_public(fx->dir, &fx->audit_pub, kid);
	if (r < 0)
		return r;
	if (strcmp(kid, anfu_keys_audit_kid(fx->keys)) != 0)
		return ANFU_ECRYPTO;
	r = anfu_audit_new(&acfg, fx->keys, &fx->audit);
	if (r < 0)
		return r;
	return anfu_tx_exec_new(fx->store, fx->audit, &fx->tx);
}

static int build_vault(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	(void)o;
	return anfu_vault_open(fx->keys, fx->tx, &fx->vault);
}

static int build_notify(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	(void)o;
	return anfu_notify_new(fx->cfg, fx->tx, fx->vault, &fx->notify);
}

static int build_iam(struct anfu_fixture *fx, const struct anfu_fixture_opts *o)
{
	const struct anfu_iam_deps deps = {
		.cfg = fx->iam_cfg,
		.platform = fx->cfg,
		.store = fx->store,
		.keys = fx->keys,
		.audit = fx->audit,
		.tx = fx->tx,
		.vault = fx->vault,
		.notify = fx->notify,
	};
	int r;

	(void)o;
	r = anfu_iam_new(&deps, &fx->iam);
	/* As src/app/ does when it starts the module. */
	if (r == 0)
		r = anfu_app_register_approvals(&anfu_iam_module);
	return r;
}

/* In anfud's order: each step finds what it needs already built. */
static const struct step {
	unsigned flag; /* 0: always */
	const char *what;
	int (*build)(struct anfu_fixture *fx, const struct anfu_fixture_opts *o);
} steps[] = {
	{ FIXTURE_KEYS, "keys", build_keys },
	{ FIXTURE_CONFIG, "config", build_config },
	{ 0, "store", build_store },
	{ FIXTURE_AUDIT, "audit", build_audit },
	{ FIXTURE_VAULT, "vault", build_vault },
	{ FIXTURE_NOTIFY, "notify", build_notify },
	{ FIXTURE_IAM, "iam", build_iam },
};

int fixture_mkdtemp(const char *name, char dir[FIXTURE_DIR_MAX])
{
	char tmp[FIXTURE_DIR_MAX];
	int n;

	if (!name || !dir)
		return ANFU_EINVAL;
	n = snprintf(tmp, sizeof(tmp), "/tmp/anfu-%s-XXXXXX", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ANFU_EINVAL;
	if (!mkdtemp(tmp))
		return ANFU_EIO;
	memcpy(dir, tmp, sizeof(tmp));
	return 0;
}

int fixture_open(unsigned flags, const struct anfu_fixture_opts *opts, struct anfu_fixture **ret)
{
	struct anfu_fixture *fx = NULL;
	const char *what = "arguments";
	int r = ANFU_EINVAL;

	if (!opts || !ret)
		goto out;
	flags = with_needs(flags);
	fx = anfu_xcalloc(1, sizeof(*fx));
	fx->profile = opts->profile;
	fx->hash = opts->profile == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	what = "directory";
	r = fixture_mkdtemp(opts->name, fx->dir);
	if (r < 0)
		goto out;
	(void)snprintf(fx->dbpath, sizeof(fx->dbpath), "%s/anfu.db", fx->dir);
	(void)snprintf(fx->ckfile, sizeof(fx->ckfile), "%s/audit/checkpoints.jsonl", fx->dir);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].flag != 0 && !(flags & steps[i].flag))
			continue;
		what = steps[i].what;
		r = steps[i].build(fx, opts);
		if (r < 0)
			goto out;
	}
#ifdef ANFU_TEST_HOOKS
	if (opts->frozen_clock) {
		anfu_clock_reset();
		anfu_clock_freeze(1);
		fx->frozen_clock = true;
	}
#endif
	*ret = fx;
	fx = NULL;
	r = 0;
out:
	if (r < 0)
		print_error("fixture %s: %s failed: %s\n", opts && opts->name ? opts->name : "?",
			    what, anfu_strerror(r));
	fixture_close(fx);
	return r;
}

void fixture_close(struct anfu_fixture *fx)
{
	if (!fx)
		return;
#ifdef ANFU_TEST_HOOKS
	if (fx->frozen_clock)
		anfu_clock_reset();
#endif
	anfu_iam_free(fx->iam);
	anfu_notify_free(fx->notify);
	anfu_vault_free(fx->vault);
	/* A test may have started the checkpointer: its last checkpoint goes
	 * through the executor. */
	anfu_audit_stop(fx->audit);
	anfu_tx_exec_free(fx->tx);
	anfu_audit_free(fx->audit);
	anfu_store_free(fx->store);
	anfu_config_free(fx->cfg);
	anfu_sigkey_free(fx->audit_pub);
	anfu_keys_free(fx->keys);
	if (fx->dir[0] != '\0')
		(void)fixture_rmtree(fx->dir);
	free(fx);
}

int fixture_setup(void **state, unsigned flags, const struct anfu_fixture_opts *opts)
{
	struct anfu_fixture *fx = NULL;
	int r = fixture_open(flags, opts, &fx);

	if (r < 0)
		return r;
	*state = fx;
	return 0;
}

int fixture_teardown(void **state)
{
	fixture_close(*state);
	*state = NULL;
	return 0;
}

int fixture_group_setup(void **state)
{
	(void)state;
	return anfu_crypto_init();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int fixture_rmtree(const char *dir)
{
	if (!dir)
		return ANFU_EINVAL;
	return nftw(dir, rm_entry, RMTREE_FDS, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : ANFU_EIO;
}

int64_t fixture_count(struct anfu_db *db, const char *sql, const char *arg)
{
	const struct anfu_param p[1] = { ANFU_PS(arg) };
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(db, sql, p, arg ? 1 : 0, &n), 0);
	return n;
}

int fixture_row_text(void *ud, const struct anfu_row *r)
{
	const char *s = anfu_row_text(r, 0, NULL);

	(void)snprintf(ud, FIXTURE_TEXT_MAX, "%s", s ? s : "(null)");
	return 1; /* the first row only */
}

void fixture_text(struct anfu_db *db, const char *sql, const char *arg, char out[FIXTURE_TEXT_MAX])
{
	const struct anfu_param p[1] = { ANFU_PS(arg) };

	out[0] = '\0';
	assert_int_equal(anfu_db_exec(db, sql, p, arg ? 1 : 0, fixture_row_text, out, NULL), 0);
}

int64_t fixture_audits(struct anfu_db *db, const char *action)
{
	return fixture_count(db, "SELECT COUNT(*) FROM audit_log WHERE action = $1", action);
}

struct snap_buf {
	char *s;
	size_t n;
};

static int snap_row(void *ud, const struct anfu_row *r)
{
	struct snap_buf *b = ud;

	for (int c = 0; c < anfu_row_count(r); c++) {
		const char *v = anfu_row_is_null(r, c) ? "NULL" : anfu_row_text(r, c, NULL);
		int k = snprintf(b->s + b->n, FIXTURE_LEDGER_SNAP_MAX - b->n, "%s|", v ? v : "?");

		assert_true(k > 0 && (size_t)k < FIXTURE_LEDGER_SNAP_MAX - b->n);
		b->n += (size_t)k;
	}
	assert_true(b->n + 1 < FIXTURE_LEDGER_SNAP_MAX);
	b->s[b->n++] = '\n';
	b->s[b->n] = '\0';
	return 0;
}

void fixture_ledger_snap(struct anfu_db *db, char out[FIXTURE_LEDGER_SNAP_MAX])
{
	static const char *const sql[] = {
		"SELECT * FROM ledger_account ORDER BY id",
		"SELECT * FROM ledger_transfer ORDER BY seq",
		"SELECT * FROM ledger_hold ORDER BY transfer_id",
		"SELECT * FROM ledger_batch ORDER BY seq",
		"SELECT * FROM ledger_head",
		"SELECT count(*) FROM audit_log WHERE action LIKE 'ledger.%'",
	};
	struct snap_buf b = { out, 0 };

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++)
		assert_int_equal(anfu_db_exec(db, sql[i], NULL, 0, snap_row, &b, NULL), 0);
}

/* ---- PostgreSQL ---------------------------------------------------------- */

static char pg_dbname[64]; /* this executable's database, once made */
static int pg_schemas;	   /* schemas made in it so far */

const char *fixture_pg_dsn(void)
{
	const char *d = getenv("ANFU_TEST_PG_DSN");

	return d && d[0] ? d : NULL;
}

/* A connection to dbname (NULL: the DSN's own database). */
static struct anfu_db *pg_connect(const char *dbname)
{
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_store_cfg cfg = { .backend = "postgresql", .path = "", .dsn = dsn };
	struct anfu_db *db = NULL;
	int n;

	n = snprintf(dsn, sizeof(dsn), "%s%s%s", fixture_pg_dsn(), dbname ? " dbname=" : "",
		     dbname ? dbname : "");
	assert_true(n > 0 && (size_t)n < sizeof(dsn));
	assert_int_equal(anfu_db_open(&cfg, &db), 0);
	return db;
}

bool fixture_pg_fresh(char dsn[FIXTURE_PG_DSN_MAX])
{
	char sql[128], schema[32];
	struct anfu_db *db;
	int n;

	if (!fixture_pg_dsn())
		return false;
	if (!pg_dbname[0]) {
		/* Names are made here from the pid: splicing them is safe. */
		(void)snprintf(pg_dbname, sizeof(pg_dbname), "anfu_t_%ld", (long)getpid());
		db = pg_connect(NULL);
		(void)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
			       pg_dbname);
		assert_int_equal(db->ops->exec_script(db, sql), 0);
		(void)snprintf(sql, sizeof(sql), "CREATE DATABASE %s", pg_dbname);
		assert_int_equal(db->ops->exec_script(db, sql), 0);
		anfu_db_close(db);
	}
	(void)snprintf(schema, sizeof(schema), "s%d", ++pg_schemas);
	db = pg_connect(pg_dbname);
	(void)snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	assert_int_equal(db->ops->exec_script(db, sql), 0);
	anfu_db_close(db);
	n = snprintf(dsn, FIXTURE_PG_DSN_MAX, "%s dbname=%s options='-c search_path=%s'",
		     fixture_pg_dsn(), pg_dbname, schema);
	assert_true(n > 0 && n < FIXTURE_PG_DSN_MAX);
	return true;
}

int fixture_pg_group_teardown(void **state)
{
	char sql[128];
	struct anfu_db *db = NULL;
	struct anfu_store_cfg cfg = { .backend = "postgresql", .path = "" };

	(void)state;
	if (!pg_dbname[0] || !fixture_pg_dsn())
		return 0;
	cfg.dsn = fixture_pg_dsn();
	if (anfu_db_open(&cfg, &db) != 0)
		return -1;
	(void)snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_dbname);
	if (db->ops->exec_script(db, sql) != 0) {
		anfu_db_close(db);
		return -1;
	}
	anfu_db_close(db);
	pg_dbname[0] = '\0';
	return 0;
}

void fixture_pg_mode(bool on)
{
	pg_mode = on;
}

int fixture_pg_on(void **state)
{
	(void)state;
	pg_mode = true;
	return 0;
}

int fixture_pg_off(void **state)
{
	(void)state;
	pg_mode = false;
	return 0;
}

/* The stand-in for a "pg:" case without a server to run it on. */
static void pg_skipped(void **state)
{
	(void)state;
	print_message("%s\n", FIXTURE_PG_SKIP_REASON);
	skip();
}

void fixture_pg_cases(struct CMUnitTest *tests, size_t n)
{
	if (fixture_pg_dsn())
		return;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(tests[i].name, "pg:", 3) != 0)
			continue;
		tests[i].test_func = pg_skipped;
		tests[i].setup_func = NULL;
		tests[i].teardown_func = NULL;
	}
}
