/*
 * tests/unit/fixture: the world a cmocka unit test runs in.
 *
 * Owns a fresh temporary data directory and, as far as the caller asks,
 * what anfud would build inside it: real keys, a configuration, a migrated
 * store (the migrations of core, notify and iam; SQLite in the directory,
 * or a fresh PostgreSQL schema when opts ask), an audit writer
 * with the transaction executor, a vault, a notifier (never started:
 * queued messages stay in notify_message) and the IAM service with its
 * approval types. Also owns the small
 * query helpers the tests share, the injectable clock's freeze when asked
 * for, and cmocka setup and teardown functions built on these. Trusts the
 * test that it runs on one thread and that anfu_crypto_init() already ran
 * (fixture_group_setup).
 *
 * Not here: anything one test file alone needs (fault injection,
 * stand-ins, its own configuration, the people it bootstraps).
 */
#ifndef ANFU_TESTS_UNIT_FIXTURE_H
#define ANFU_TESTS_UNIT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/profile.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* What fixture_open() builds besides the directory and the migrated
 * store, which it always builds. Each piece brings what it needs. */
#define FIXTURE_KEYS (1u << 0)	 /* anfu_keys_init_dir + anfu_keys_load */
#define FIXTURE_CONFIG (1u << 1) /* defaults of the platform and iam */
#define FIXTURE_AUDIT (1u << 2)	 /* + KEYS; the writer, its public key, the executor */
#define FIXTURE_VAULT (1u << 3)	 /* + AUDIT (its key is made through the executor) */
#define FIXTURE_NOTIFY (1u << 4) /* + CONFIG, VAULT */
#define FIXTURE_IAM (1u << 5)	 /* + AUDIT, NOTIFY: everything */

/* Argon2 parameters small enough for a test to hash often (the smallest
 * the configuration accepts). */
#define FIXTURE_ARGON2_OPSLIMIT 1
#define FIXTURE_ARGON2_MEMLIMIT_KIB 8192
/* Audit checkpoint interval unless the options say otherwise. */
#define FIXTURE_CHECKPOINT_RECORDS 1000
#define FIXTURE_CHECKPOINT_SECONDS 60
#define FIXTURE_BUSY_TIMEOUT_MS 5000
/* Capacity of a directory name, and of fixture_text()'s output. */
#define FIXTURE_DIR_MAX 64
#define FIXTURE_TEXT_MAX 256

struct anfu_fixture_opts {
	const char *name;		  /* the directory: /tmp/anfu-<name>-XXXXXX */
	enum anfu_crypto_profile profile; /* keys and audit hash; 0 is intl */
	bool small_argon2;		  /* CONFIG: the FIXTURE_ARGON2_* values */
	int checkpoint_records;		  /* AUDIT: 0 for the default above */
	bool frozen_clock;		  /* test-hook builds: freeze the clock once built */
	bool pg; /* the store on PostgreSQL (fixture_pg_fresh; ANFU_EINVAL without one) */
};

/* Every pointer is NULL when its piece was not asked for. The fixture owns
 * them all; fixture_close() frees whatever they hold then, so a test
 * may free one piece and put its own in its place (or leave NULL). */
struct anfu_fixture {
	char dir[FIXTURE_DIR_MAX]; /* the data directory */
	char dbpath[128];	   /* <dir>/anfu.db */
	char ckfile[128];	   /* <dir>/audit/checkpoints.jsonl */
	enum anfu_crypto_profile profile;
	enum anfu_hash_alg hash; /* the audit chain's hash under profile */
	struct anfu_keys *keys;
	struct anfu_sigkey *audit_pub; /* verifies the audit chain */
	struct anfu_config *cfg;
	struct anfu_iam_config *iam_cfg; /* iam's options, owned by cfg */
	struct anfu_store *store;
	struct anfu_db *db; /* this thread's connection; belongs to store */
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx; /* on store and audit (FIXTURE_AUDIT) */
	struct anfu_vault *vault;
	struct anfu_notify *notify;
	struct anfu_iam *iam;
	bool frozen_clock; /* close resets the clock */
	bool pg;	   /* the store is on PostgreSQL */
};

/* Makes the directory /tmp/anfu-<name>-XXXXXX (mode 0700) and writes its
 * path into dir. Returns 0, ANFU_EINVAL for a name too long, or ANFU_EIO;
 * dir is written only on success. */
int fixture_mkdtemp(const char *name, char dir[FIXTURE_DIR_MAX]);

/* Builds a fixture with the pieces of flags (FIXTURE_*; 0: directory and
 * migrated store only) and what they need, in anfud's order: directory,
 * keys, configuration, store, audit writer and executor, vault, notifier,
 * IAM service;
 * then freezes the clock if opts asks. Returns 0 and the fixture in *ret
 * (the caller owns it: fixture_close), or the error of the first step that
 * failed, reported on stderr, having removed all it built; ANFU_EINVAL for
 * missing arguments or a name too long. */
int fixture_open(unsigned flags, const struct anfu_fixture_opts *opts, struct anfu_fixture **ret);

/* Resets the injectable clock if the fixture froze it, frees every piece
 * the fixture holds, in the reverse order, removes the directory with
 * everything in it and frees fx. NULL-safe. */
void fixture_close(struct anfu_fixture *fx);

/* For cmocka: a setup that opens a fixture into *state (0, or the error
 * of fixture_open, which fails the test), the teardown that closes
 * *state, and a group setup that runs anfu_crypto_init(). */
int fixture_setup(void **state, unsigned flags, const struct anfu_fixture_opts *opts);
int fixture_teardown(void **state);
int fixture_group_setup(void **state);

/* Removes dir and everything below it, without following links. Returns
 * 0, or ANFU_EIO when something could not be removed. */
int fixture_rmtree(const char *dir);

/* The integer in the first column of sql's one row, sql taking arg as $1
 * (no parameter when arg is NULL). Fails the test on a database error or
 * when there is no row. */
int64_t fixture_count(struct anfu_db *db, const char *sql, const char *arg);

/* An anfu_row_fn: copies the first column of the first row as text into
 * ud, a char[FIXTURE_TEXT_MAX] ("(null)" for NULL, cut to fit), and
 * stops there. */
int fixture_row_text(void *ud, const struct anfu_row *r);

/* The first column of sql's first row as text ("(null)" for NULL, "" for
 * no row), sql taking arg as $1 (none when NULL), cut to fit out. Fails
 * the test on a database error. */
void fixture_text(struct anfu_db *db, const char *sql, const char *arg, char out[FIXTURE_TEXT_MAX]);

/* The number of audit records with this action. Fails the test on a
 * database error. */
int64_t fixture_audits(struct anfu_db *db, const char *action);
/* Every ledger row and the count of ledger audit records, as text (one
 * line per row, columns '|'-separated): equal snapshots before and after
 * a refusal prove it changed nothing. Fails the test when it overflows. */
#define FIXTURE_LEDGER_SNAP_MAX 65536
void fixture_ledger_snap(struct anfu_db *db, char out[FIXTURE_LEDGER_SNAP_MAX]);

/* ---- PostgreSQL ------------------------------------------------------ */

/* The server the PostgreSQL variants of the tests use: the libpq conninfo
 * (keyword form) in ANFU_TEST_PG_DSN, which scripts/test.sh sets after it
 * started a throwaway cluster (scripts/pg-cluster.sh). NULL when unset:
 * those variants then skip, with this reason. */
#define FIXTURE_PG_SKIP_REASON "ANFU_TEST_PG_DSN is not set: PostgreSQL variant skipped"
#define FIXTURE_PG_DSN_MAX 512
const char *fixture_pg_dsn(void);

/* Makes a fresh, empty schema in this test executable's own database
 * (created on first use, dropped by fixture_pg_group_teardown; advisory
 * locks are per database, so executables running at once do not wait for
 * each other) and writes into dsn a conninfo whose search_path is that
 * schema. Returns false, writing nothing, when ANFU_TEST_PG_DSN is unset;
 * fails the test when the server refuses. */
bool fixture_pg_fresh(char dsn[FIXTURE_PG_DSN_MAX]);

/* cmocka group teardown: drops the executable's database, if made. */
int fixture_pg_group_teardown(void **state);

/* A test file whose every case runs on both backends: while the mode is
 * on, fixture_open builds its store on PostgreSQL whatever opts->pg says
 * (fixture_pg_fresh). The "pg:<test>" case's setup turns it on and the
 * SQLite case's setup turns it off, so a case never inherits the mode of
 * the one before, even one whose teardown did not run. fixture_pg_on and
 * fixture_pg_off are cmocka setups doing just that (always 0), for cases
 * that open their fixtures themselves. */
void fixture_pg_mode(bool on);
int fixture_pg_on(void **state);
int fixture_pg_off(void **state);

/* Prepares tests[0..n) for cmocka_run_group_tests: without
 * ANFU_TEST_PG_DSN, every case whose name begins "pg:" becomes one that
 * prints FIXTURE_PG_SKIP_REASON and skips, with no setup or teardown (a
 * visible skip rather than a setup that fails). Changes nothing when the
 * DSN is set. */
struct CMUnitTest;
void fixture_pg_cases(struct CMUnitTest *tests, size_t n);

#endif
