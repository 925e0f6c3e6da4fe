/*
 * tests/unit/test_sqlite_ckpt: what the SQLite store does for the ledger
 * writer's speed (store/sqlite.c, store/sqlite_ckpt.c): checkpoints by the
 * file's checkpointer thread instead of the committing connection, the
 * WAL removed by the last close as before, and the connection settings.
 *
 * Each test gets a fresh database file in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/limits.h"
#include "store/store.h"

struct fix {
	char dir[64];
	char path[128];
	char wal[160];
	struct anfu_store_cfg cfg;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-ckpt-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	(void)snprintf(f->wal, sizeof(f->wal), "%s-wal", f->path);
	f->cfg = (struct anfu_store_cfg){ "sqlite", f->path, 2000 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[200];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void exec(struct anfu_db *db, const char *sql)
{
	assert_int_equal(anfu_db_exec(db, sql, NULL, 0, NULL, NULL, NULL), 0);
}

/* rows rows of about 3.5 KB each, in one transaction: about one 4 KiB page
 * each in the WAL. */
static void fill(struct anfu_db *db, int first, int rows)
{
	const struct anfu_param p[] = { ANFU_PI(first), ANFU_PI(first + rows - 1) };

	assert_int_equal(anfu_db_begin(db), 0);
	assert_int_equal(anfu_db_exec(db,
				      "WITH RECURSIVE c(i) AS (SELECT $1 UNION ALL SELECT i + 1 "
				      "FROM c WHERE i < $2) INSERT INTO t (id, body) SELECT i, "
				      "substr(hex(zeroblob(2000)), 1, 3500) FROM c",
				      p, 2, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_db_commit(db), 0);
}

/* Waits (at most 60 s) for the database file to reach min bytes. A
 * checkpoint is the only thing that writes the database file in WAL mode. */
static int64_t wait_for_size(const char *path, int64_t min)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int64_t n = file_size(path);

	for (int i = 0; i < 6000 && n < min; i++) {
		(void)nanosleep(&tick, NULL);
		n = file_size(path);
	}
	return n;
}

/* The committing connection no longer checkpoints; a commit that leaves
 * the WAL past the threshold has the checkpointer copy it into the
 * database file without any further commit. */
static void test_checkpointer_copies_the_wal_into_the_database(void **state)
{
	struct fix *f = *state;
	struct anfu_db *db = NULL;
	int64_t v = -1, rows = 3 * ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES / 2;

	assert_int_equal(anfu_db_open(&f->cfg, &db), 0);
	assert_int_equal(anfu_db_query_int(db, "PRAGMA wal_autocheckpoint", NULL, 0, &v), 0);
	assert_int_equal(v, 0);
	exec(db, "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, body TEXT NOT NULL)");
	fill(db, 1, (int)rows);
	assert_true(file_size(f->wal) >= rows * 3500);
	assert_true(wait_for_size(f->path, rows * 3500) >= rows * 3500);
	assert_int_equal(anfu_db_query_int(db, "SELECT count(*) FROM t", NULL, 0, &v), 0);
	assert_int_equal(v, rows);
	anfu_db_close(db);
}

/* Under steady writes the WAL starts over from its beginning after each
 * checkpoint instead of growing until the committing connection has to
 * checkpoint in line (ANFU_LIMIT_DB_WAL_INLINE_PAGES): the checkpointer
 * finishes its checkpoint with the process's writers queued behind it and
 * restarts the WAL. A commit of a row of about one page writes about five
 * frames (the row, the index and the pages above), so as many commits as
 * the threshold has pages write about five thresholds without a pause; the
 * WAL file (which only grows) must stay within two. Without the
 * checkpointer it would grow to the in-line limit, more than two
 * thresholds (limits.h asserts that). This relies on the checkpointer
 * thread being scheduled at least once in those commits (no timing
 * assertion: it only has to run, not to be quick). */
static void test_wal_restarts_under_steady_writes(void **state)
{
	struct fix *f = *state;
	struct anfu_db *db = NULL;
	int64_t v = -1, commits = ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES;

	assert_int_equal(anfu_db_open(&f->cfg, &db), 0);
	exec(db, "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, body TEXT NOT NULL)");
	for (int64_t i = 1; i <= commits; i++)
		fill(db, (int)i, 1);
	assert_true(file_size(f->wal) > 0);
	assert_true(file_size(f->wal) <= 2 * ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES * (4096 + 24));
	assert_int_equal(anfu_db_query_int(db, "SELECT count(*) FROM t", NULL, 0, &v), 0);
	assert_int_equal(v, commits);
	anfu_db_close(db);
}

/* The last connection to close still checkpoints and removes the WAL, as
 * SQLite does without a checkpointer: the checkpointer's own connection
 * is closed first. */
static void test_last_close_removes_the_wal(void **state)
{
	struct fix *f = *state;
	struct anfu_db *a = NULL, *b = NULL;
	int64_t v = -1;

	assert_int_equal(anfu_db_open(&f->cfg, &a), 0);
	assert_int_equal(anfu_db_open(&f->cfg, &b), 0);
	exec(a, "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, body TEXT NOT NULL)");
	fill(b, 1, 10);
	anfu_db_close(a);
	assert_true(file_size(f->wal) > 0);
	anfu_db_close(b);
	assert_int_equal(file_size(f->wal), -1);
	/* A new connection starts a new checkpointer and sees the rows. */
	assert_int_equal(anfu_db_open(&f->cfg, &a), 0);
	assert_int_equal(anfu_db_query_int(a, "SELECT count(*) FROM t", NULL, 0, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(anfu_db_query_int(a, "PRAGMA wal_autocheckpoint", NULL, 0, &v), 0);
	assert_int_equal(v, 0);
	anfu_db_close(a);
}

/* Savepoint journals in memory, the page cache of base/limits.h. */
static void test_connection_settings(void **state)
{
	struct fix *f = *state;
	struct anfu_db *db = NULL;
	int64_t v = -1;

	assert_int_equal(anfu_db_open(&f->cfg, &db), 0);
	assert_int_equal(anfu_db_query_int(db, "PRAGMA temp_store", NULL, 0, &v), 0);
	assert_int_equal(v, 2); /* MEMORY */
	assert_int_equal(anfu_db_query_int(db, "PRAGMA cache_size", NULL, 0, &v), 0);
	assert_int_equal(v, -ANFU_LIMIT_DB_CACHE_KIB);
	anfu_db_close(db);
}

/* BEGIN, COMMIT and savepoints run through the statement cache: many
 * rounds of them keep working and keep their meaning. */
static void test_cached_transaction_statements_repeat(void **state)
{
	struct fix *f = *state;
	struct anfu_db *db = NULL;
	int64_t v = -1;

	assert_int_equal(anfu_db_open(&f->cfg, &db), 0);
	exec(db, "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, body TEXT NOT NULL)");
	for (int i = 1; i <= 50; i++) {
		const struct anfu_param p[] = { ANFU_PI(i) };

		assert_int_equal(anfu_db_begin(db), 0);
		assert_int_equal(db->ops->savepoint(db, "sp"), 0);
		assert_int_equal(anfu_db_exec(db, "INSERT INTO t (id, body) VALUES ($1, 'kept')", p,
					      1, NULL, NULL, NULL),
				 0);
		assert_int_equal(db->ops->release(db, "sp"), 0);
		assert_int_equal(db->ops->savepoint(db, "sp"), 0);
		assert_int_equal(anfu_db_exec(db, "UPDATE t SET body = 'undone' WHERE id = $1", p,
					      1, NULL, NULL, NULL),
				 0);
		assert_int_equal(db->ops->rollback_to(db, "sp"), 0);
		assert_int_equal(db->ops->release(db, "sp"), 0);
		assert_int_equal(i % 2 ? anfu_db_commit(db) : anfu_db_rollback(db), 0);
	}
	assert_int_equal(
		anfu_db_query_int(db, "SELECT count(*) FROM t WHERE body = 'kept'", NULL, 0, &v),
		0);
	assert_int_equal(v, 25);
	assert_int_equal(anfu_db_query_int(db, "SELECT count(*) FROM t", NULL, 0, &v), 0);
	assert_int_equal(v, 25);
	anfu_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_checkpointer_copies_the_wal_into_the_database),
		T(test_last_close_removes_the_wal),
		T(test_wal_restarts_under_steady_writes),
		T(test_connection_settings),
		T(test_cached_transaction_statements_repeat),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
