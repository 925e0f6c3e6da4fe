/*
 * tests/unit/test_migrate: store/migrate.c on a fresh SQLite file per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "store/store.h"

struct fix {
	char dir[64];
	char path[128];
	struct anfu_db *db;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct anfu_store_cfg cfg = { "sqlite", NULL, 2000 };

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-migrate-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	cfg.path = f->path;
	assert_int_equal(anfu_db_open(&cfg, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	struct fix *f = *state;
	char p[160];

	anfu_db_close(f->db);
	for (size_t i = 0; i < 3; i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t schema_objects(struct anfu_db *db)
{
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(db, "SELECT count(*) FROM sqlite_master", NULL, 0, &n),
			 0);
	return n;
}

struct hook {
	int calls;
	int last_version;
	int fail_at; /* version whose hook fails, or 0 */
	bool in_tx;
};

static int hook(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct hook *h = ud;

	h->calls++;
	h->last_version = m->version;
	h->in_tx = db->tx_depth > 0;
	return m->version == h->fail_at ? ANFU_EAUDIT : 0;
}

static void test_latest_is_the_last_compiled_migration(void **state)
{
	(void)state;
	assert_true(anfu_migrations_count >= 1);
	assert_int_equal(anfu_migrations[0].version, 1);
	assert_int_equal(anfu_migrate_latest(), anfu_migrations[anfu_migrations_count - 1].version);
	for (size_t i = 0; i < anfu_migrations_count; i++) {
		assert_int_equal(anfu_migrations[i].version, (int)i + 1);
		assert_non_null(anfu_migrations[i].sql);
	}
}

static void test_fresh_database_has_version_zero(void **state)
{
	struct fix *f = *state;
	int v = -1;

	assert_int_equal(anfu_migrate_version(f->db, &v), 0);
	assert_int_equal(v, 0);
}

static void test_fresh_database_is_migrated_to_latest(void **state)
{
	struct fix *f = *state;
	struct hook h = { 0 };
	int from = -1, to = -1, v = -1;
	int64_t n = 0;

	assert_int_equal(anfu_migrate(f->db, hook, &h, &from, &to), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, anfu_migrate_latest());
	assert_int_equal(anfu_migrate_version(f->db, &v), 0);
	assert_int_equal(v, anfu_migrate_latest());
	assert_int_equal(h.calls, anfu_migrate_latest());
	assert_true(h.in_tx);
	assert_int_equal(
		anfu_db_query_int(f->db, "SELECT count(*) FROM schema_version", NULL, 0, &n), 0);
	assert_int_equal(n, anfu_migrate_latest());
	/* The dialect parts ran too: the audit triggers exist (no update, no
	 * delete, and, from 0003, no replace). */
	assert_int_equal(anfu_db_query_int(f->db,
					   "SELECT count(*) FROM sqlite_master WHERE type = "
					   "'trigger' AND tbl_name = 'audit_log' AND name IN "
					   "('audit_log_no_update', 'audit_log_no_delete', "
					   "'audit_log_no_replace')",
					   NULL, 0, &n),
			 0);
	assert_int_equal(n, 3);
}

static void test_migrate_twice_applies_nothing_the_second_time(void **state)
{
	struct fix *f = *state;
	struct hook h = { 0 };
	int from = -1, to = -1;
	int64_t objects;

	assert_int_equal(anfu_migrate(f->db, NULL, NULL, NULL, NULL), 0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, hook, &h, &from, &to), 0);
	assert_int_equal(h.calls, 0);
	assert_int_equal(from, anfu_migrate_latest());
	assert_int_equal(to, anfu_migrate_latest());
	assert_int_equal(schema_objects(f->db), objects);
}

static void test_failing_hook_rolls_the_migration_back(void **state)
{
	struct fix *f = *state;
	struct hook h = { .fail_at = 1 };
	int from = -1, to = -1, v = -1;

	assert_int_equal(anfu_migrate(f->db, hook, &h, &from, &to), ANFU_EAUDIT);
	assert_int_equal(from, -1);
	assert_int_equal(to, -1);
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(anfu_migrate_version(f->db, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(schema_objects(f->db), 0);
}

static void test_newer_database_is_refused_unchanged(void **state)
{
	struct fix *f = *state;
	const char *name = "future";
	const struct anfu_param p[] = { ANFU_PI(anfu_migrate_latest() + 1), ANFU_PS(name),
					ANFU_PI(0) };
	struct hook h = { 0 };
	int from = -1, to = -1;
	int64_t objects, rows = 0;

	assert_int_equal(anfu_migrate(f->db, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(anfu_db_exec(f->db,
				      "INSERT INTO schema_version (version, name, applied_ms) "
				      "VALUES ($1, $2, $3)",
				      p, 3, NULL, NULL, NULL),
			 0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, hook, &h, &from, &to), ANFU_ESCHEMA);
	assert_int_equal(h.calls, 0);
	assert_int_equal(from, -1);
	assert_int_equal(to, -1);
	assert_int_equal(schema_objects(f->db), objects);
	assert_int_equal(
		anfu_db_query_int(f->db, "SELECT count(*) FROM schema_version", NULL, 0, &rows), 0);
	assert_int_equal(rows, anfu_migrate_latest() + 1);
}

static void test_migrate_inside_a_transaction_is_einval(void **state)
{
	struct fix *f = *state;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_migrate(f->db, NULL, NULL, NULL, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_db_rollback(f->db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_latest_is_the_last_compiled_migration),
		T(test_fresh_database_has_version_zero),
		T(test_fresh_database_is_migrated_to_latest),
		T(test_migrate_twice_applies_nothing_the_second_time),
		T(test_failing_hook_rolls_the_migration_back),
		T(test_newer_database_is_refused_unchanged),
		T(test_migrate_inside_a_transaction_is_einval),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
