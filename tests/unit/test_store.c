/*
 * tests/unit/test_store: the SQLite store (store/sqlite.c, db.c, pool.c).
 *
 * Each test gets a fresh database file in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "store/store.h"

struct fix {
	char dir[64];
	char path[128];
	struct anfu_db *db;
};

static void remove_db_files(struct fix *f)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct anfu_store_cfg cfg = { "sqlite", NULL, 2000 };

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	cfg.path = f->path;
	assert_int_equal(anfu_db_open(&cfg, &f->db), 0);
	assert_int_equal(anfu_db_exec(f->db,
				      "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, "
				      "name TEXT, n BIGINT CHECK (n >= 0))",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	anfu_db_close(f->db);
	remove_db_files(f);
	free(f);
	return 0;
}

static int64_t count_rows(struct anfu_db *db)
{
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(db, "SELECT count(*) FROM t", NULL, 0, &n), 0);
	return n;
}

static int insert(struct anfu_db *db, int64_t id, const char *name, int64_t n)
{
	const struct anfu_param p[] = { ANFU_PI(id), ANFU_PS(name), ANFU_PI(n) };

	return anfu_db_exec(db, "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)", p, 3, NULL, NULL,
			    NULL);
}

struct rows {
	int seen;
	int64_t id[8];
	char name[8][16];
	bool name_null[8];
};

static int collect(void *ud, const struct anfu_row *r)
{
	struct rows *rs = ud;
	const char *s;
	size_t len = 99;

	assert_int_equal(anfu_row_count(r), 2);
	rs->id[rs->seen] = anfu_row_int(r, 0);
	s = anfu_row_text(r, 1, &len);
	rs->name_null[rs->seen] = anfu_row_is_null(r, 1);
	if (s) {
		assert_true(len < sizeof(rs->name[0]));
		memcpy(rs->name[rs->seen], s, len + 1);
	} else {
		assert_int_equal(len, 0);
	}
	rs->seen++;
	return rs->seen == 8 ? 1 : 0;
}

static void test_exec_binds_parameters_by_name(void **state)
{
	struct fix *f = *state;
	const struct anfu_param p[] = { ANFU_PI(7), ANFU_PSN("alice-and-more", 5) };
	struct rows rs = { 0 };
	int64_t changes = -1;

	/* $2 appears before $1: binding goes by name, not by position. */
	assert_int_equal(anfu_db_exec(f->db, "INSERT INTO t (name, id) VALUES ($2, $1)", p, 2, NULL,
				      NULL, &changes),
			 0);
	assert_int_equal(changes, 1);
	assert_int_equal(anfu_db_exec(f->db, "SELECT id, name FROM t", NULL, 0, collect, &rs, NULL),
			 0);
	assert_int_equal(rs.seen, 1);
	assert_int_equal(rs.id[0], 7);
	assert_string_equal(rs.name[0], "alice");
}

static void test_exec_returns_rows_in_order_with_nulls(void **state)
{
	struct fix *f = *state;
	struct rows rs = { 0 };

	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(insert(f->db, 1, NULL, 0), 0);
	assert_int_equal(anfu_db_exec(f->db, "SELECT id, name FROM t ORDER BY id", NULL, 0, collect,
				      &rs, NULL),
			 0);
	assert_int_equal(rs.seen, 2);
	assert_int_equal(rs.id[0], 1);
	assert_true(rs.name_null[0]);
	assert_int_equal(rs.id[1], 2);
	assert_false(rs.name_null[1]);
	assert_string_equal(rs.name[1], "b");
}

static int stop_with_error(void *ud, const struct anfu_row *r)
{
	(void)r;
	(*(int *)ud)++;
	return ANFU_ECONFLICT;
}

static void test_row_callback_error_stops_and_is_returned(void **state)
{
	struct fix *f = *state;
	int calls = 0;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(anfu_db_exec(f->db, "SELECT id, name FROM t", NULL, 0, stop_with_error,
				      &calls, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(calls, 1);
}

static void test_update_returning_gives_rows_and_changes(void **state)
{
	struct fix *f = *state;
	const struct anfu_param p[] = { ANFU_PI(1) };
	int64_t v = 0;

	assert_int_equal(insert(f->db, 1, "a", 41), 0);
	assert_int_equal(anfu_db_query_int(f->db,
					   "UPDATE t SET n = n + 1 WHERE id = $1 RETURNING n", p, 1,
					   &v),
			 0);
	assert_int_equal(v, 42);
}

static void test_unique_violation_gives_eexist(void **state)
{
	struct fix *f = *state;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 1, "b", 0), ANFU_EEXIST);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_check_violation_gives_econflict(void **state)
{
	struct fix *f = *state;

	assert_int_equal(insert(f->db, 1, "a", -1), ANFU_ECONFLICT);
	assert_int_equal(count_rows(f->db), 0);
}

static void test_trigger_raise_gives_econflict(void **state)
{
	struct fix *f = *state;

	assert_int_equal(anfu_db_exec(f->db,
				      "CREATE TRIGGER t_no_delete BEFORE DELETE ON t BEGIN "
				      "SELECT RAISE(ABORT, 't is append-only'); END",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_exec(f->db, "DELETE FROM t", NULL, 0, NULL, NULL, NULL),
			 ANFU_ECONFLICT);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_unused_or_missing_parameter_is_einval(void **state)
{
	struct fix *f = *state;
	const struct anfu_param p[] = { ANFU_PI(1), ANFU_PI(2) };

	/* $2 given but not used. */
	assert_int_equal(
		anfu_db_exec(f->db, "SELECT id FROM t WHERE id = $1", p, 2, NULL, NULL, NULL),
		ANFU_EINVAL);
	/* $2 used but not given. */
	assert_int_equal(anfu_db_exec(f->db, "SELECT id FROM t WHERE id = $1 OR id = $2", p, 1,
				      NULL, NULL, NULL),
			 ANFU_EINVAL);
	/* Not $n style. */
	assert_int_equal(
		anfu_db_exec(f->db, "SELECT id FROM t WHERE id = ?", p, 1, NULL, NULL, NULL),
		ANFU_EINVAL);
}

static void test_text_with_nul_is_refused(void **state)
{
	struct fix *f = *state;
	const struct anfu_param p[] = { ANFU_PI(1), ANFU_PSN("a\0b", 3), ANFU_PI(0) };

	assert_int_equal(anfu_db_exec(f->db, "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)", p,
				      3, NULL, NULL, NULL),
			 ANFU_EINVAL);
	assert_int_equal(count_rows(f->db), 0);
}

static void test_rollback_changes_nothing(void **state)
{
	struct fix *f = *state;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(
		anfu_db_exec(f->db, "DELETE FROM t WHERE id = 1", NULL, 0, NULL, NULL, NULL), 0);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(count_rows(f->db), 1);
	/* Outside a transaction rollback is a no-op, and NULL is accepted. */
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(anfu_db_rollback(NULL), 0);
}

static void test_commit_keeps_changes_and_is_observed(void **state)
{
	struct fix *f = *state;
	uint64_t before = atomic_load(&anfu_store_commit_hist.count);

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
	assert_true(atomic_load(&anfu_store_commit_hist.count) > before);
}

static void test_begin_inside_transaction_is_einval(void **state)
{
	struct fix *f = *state;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_db_begin(f->db), ANFU_EINVAL);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(anfu_db_commit(f->db), ANFU_EINVAL);
}

static void test_savepoint_rollback_to_undoes_only_inner_work(void **state)
{
	struct fix *f = *state;
	const struct anfu_store_ops *ops = f->db->ops;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(ops->savepoint(f->db, "cmd_1"), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(ops->rollback_to(f->db, "cmd_1"), 0);
	assert_int_equal(ops->release(f->db, "cmd_1"), 0);
	assert_int_equal(ops->savepoint(f->db, "bad name; DROP TABLE t"), ANFU_EINVAL);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_limit_size_gives_efull_and_keeps_data(void **state)
{
	struct fix *f = *state;
	char big[4000];
	int r = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(f->db->ops->limit_size(f->db, 0), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	for (int i = 2; i < 50 && r == 0; i++)
		r = insert(f->db, i, big, 0);
	assert_int_equal(r, ANFU_EFULL);
	/* The engine may have rolled back already; statements are refused
	 * until the caller rolls back. */
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_busy_writer_gives_ebusy(void **state)
{
	struct fix *f = *state;
	struct anfu_store_cfg cfg = { "sqlite", f->path, 50 };
	struct anfu_db *other = NULL;

	assert_int_equal(anfu_db_open(&cfg, &other), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_db_begin(other), ANFU_EBUSY);
	assert_int_equal(other->tx_depth, 0);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(anfu_db_begin(other), 0);
	assert_int_equal(anfu_db_rollback(other), 0);
	anfu_db_close(other);
}

struct pragma_text {
	char v[16];
};

static int pragma_text_cb(void *ud, const struct anfu_row *r)
{
	struct pragma_text *p = ud;
	const char *s = anfu_row_text(r, 0, NULL);

	(void)snprintf(p->v, sizeof(p->v), "%s", s ? s : "");
	return 1;
}

static void test_connection_uses_wal_full_sync_and_foreign_keys(void **state)
{
	struct fix *f = *state;
	struct pragma_text jm = { "" };
	int64_t v = -1;
	struct stat st;

	assert_int_equal(
		anfu_db_exec(f->db, "PRAGMA journal_mode", NULL, 0, pragma_text_cb, &jm, NULL), 0);
	assert_string_equal(jm.v, "wal");
	assert_int_equal(anfu_db_query_int(f->db, "PRAGMA synchronous", NULL, 0, &v), 0);
	assert_int_equal(v, 2); /* FULL */
	assert_int_equal(anfu_db_query_int(f->db, "PRAGMA foreign_keys", NULL, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_query_int_without_row_is_enotfound(void **state)
{
	struct fix *f = *state;
	int64_t v = 99;

	assert_int_equal(anfu_db_query_int(f->db, "SELECT id FROM t", NULL, 0, &v), ANFU_ENOTFOUND);
	assert_int_equal(anfu_db_query_int(f->db, "SELECT max(id) FROM t", NULL, 0, &v),
			 ANFU_ENOTFOUND);
	assert_int_equal(v, 99);
}

struct nested {
	struct anfu_db *db;
	int inner;
};

static int nested_cb(void *ud, const struct anfu_row *r)
{
	struct nested *n = ud;
	const struct anfu_param p[] = { ANFU_PI(anfu_row_int(r, 0)) };
	int64_t v = 0;

	/* The same SQL text while its cached statement is being stepped. */
	assert_int_equal(anfu_db_query_int(n->db, "SELECT id FROM t WHERE id >= $1", p, 1, &v), 0);
	assert_int_equal(v, anfu_row_int(r, 0));
	n->inner++;
	return 0;
}

static void test_nested_use_of_a_cached_statement_works(void **state)
{
	struct fix *f = *state;
	const struct anfu_param p[] = { ANFU_PI(0) };
	struct nested n = { f->db, 0 };

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(
		anfu_db_exec(f->db, "SELECT id FROM t WHERE id >= $1", p, 1, nested_cb, &n, NULL),
		0);
	assert_int_equal(n.inner, 2);
}

static void test_unknown_backend_is_einval(void **state)
{
	struct fix *f = *state;
	struct anfu_store_cfg cfg = { "oracle", f->path, 0 };
	struct anfu_db *db = NULL;

	assert_int_equal(anfu_db_open(&cfg, &db), ANFU_EINVAL);
	assert_null(db);
}

/* ---- per-thread connections ------------------------------------------- */

struct thread_arg {
	struct anfu_store *s;
	struct anfu_db *db;
	struct anfu_db *again;
	int id;
	int r;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	a->r = anfu_store_db(a->s, &a->db);
	if (a->r == 0)
		a->r = anfu_store_db(a->s, &a->again);
	if (a->r == 0)
		a->r = insert(a->db, a->id, "thread", 0);
	return NULL;
}

static void test_store_gives_each_thread_its_own_connection(void **state)
{
	struct fix *f = *state;
	struct anfu_store_cfg cfg = { "sqlite", f->path, 2000 };
	struct anfu_store *s = NULL;
	struct anfu_db *mine = NULL, *mine2 = NULL;
	struct thread_arg a[3];
	pthread_t th[3];

	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	assert_int_equal(anfu_store_db(s, &mine), 0);
	assert_int_equal(anfu_store_db(s, &mine2), 0);
	assert_ptr_equal(mine, mine2);
	for (int i = 0; i < 3; i++) {
		a[i] = (struct thread_arg){ .s = s, .id = 10 + i };
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &a[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(a[i].r, 0);
		assert_ptr_equal(a[i].db, a[i].again);
		assert_ptr_not_equal(a[i].db, mine);
	}
	assert_int_equal(count_rows(mine), 3);
	/* Closes the main thread's connection; the threads closed theirs on
	 * exit (ASan reports a leak otherwise). */
	anfu_store_free(s);
	anfu_store_free(NULL);
}

static void *hold_thread(void *p)
{
	struct thread_arg *a = p;

	a->r = anfu_store_db(a->s, &a->db);
	return NULL;
}

static void test_store_free_closes_every_connection(void **state)
{
	struct fix *f = *state;
	struct anfu_store_cfg cfg = { "sqlite", f->path, 2000 };
	struct anfu_store *s = NULL;
	struct anfu_db *db = NULL;
	struct thread_arg a = { 0 };
	pthread_t th;

	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	assert_int_equal(anfu_store_db(s, &db), 0);
	a.s = s;
	assert_int_equal(pthread_create(&th, NULL, hold_thread, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.r, 0);
	anfu_store_free(s);
}

/* SQLite's shared-lock byte range on the database file (os_unix.c):
 * PENDING_BYTE 0x40000000, SHARED_FIRST = PENDING_BYTE + 2, 510 bytes. */
#define SQLITE_SHARED_FIRST (0x40000000 + 2)
#define SQLITE_SHARED_SIZE 510

/* True when a process other than the caller could take a write lock on the
 * shared range of path, i.e. nobody holds a SHARED lock there. Asked from a
 * child, because F_GETLK ignores the caller's own locks. */
static bool others_could_lock_exclusively(const char *path)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK,
				    .l_whence = SEEK_SET,
				    .l_start = SQLITE_SHARED_FIRST,
				    .l_len = SQLITE_SHARED_SIZE };
		int fd = open(path, O_RDWR);

		if (fd < 0 || fcntl(fd, F_GETLK, &fl) != 0)
			_exit(2);
		_exit(fl.l_type == F_UNLCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 2);
	return WEXITSTATUS(status) == 0;
}

/* Regression: opening a second connection used to open() and close() the
 * database file, which dropped every POSIX lock the process held on it, so
 * another process (the CLI next to a running anfud) could checkpoint and
 * reset the WAL under our readers: "database disk image is malformed". */
static void test_opening_a_connection_keeps_the_locks_of_the_others(void **state)
{
	struct fix *f = *state;
	struct anfu_store_cfg cfg = { "sqlite", f->path, 2000 };
	struct anfu_db *second = NULL;

	assert_int_equal(anfu_db_begin_read(f->db), 0);
	assert_int_equal(count_rows(f->db), 0);
	assert_false(others_could_lock_exclusively(f->path));
	assert_int_equal(anfu_db_open(&cfg, &second), 0);
	assert_false(others_could_lock_exclusively(f->path));
	anfu_db_close(second);
	assert_int_equal(anfu_db_rollback(f->db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_exec_binds_parameters_by_name),
		T(test_exec_returns_rows_in_order_with_nulls),
		T(test_row_callback_error_stops_and_is_returned),
		T(test_update_returning_gives_rows_and_changes),
		T(test_unique_violation_gives_eexist),
		T(test_check_violation_gives_econflict),
		T(test_trigger_raise_gives_econflict),
		T(test_unused_or_missing_parameter_is_einval),
		T(test_text_with_nul_is_refused),
		T(test_rollback_changes_nothing),
		T(test_commit_keeps_changes_and_is_observed),
		T(test_begin_inside_transaction_is_einval),
		T(test_savepoint_rollback_to_undoes_only_inner_work),
		T(test_limit_size_gives_efull_and_keeps_data),
		T(test_busy_writer_gives_ebusy),
		T(test_connection_uses_wal_full_sync_and_foreign_keys),
		T(test_query_int_without_row_is_enotfound),
		T(test_nested_use_of_a_cached_statement_works),
		T(test_unknown_backend_is_einval),
		T(test_store_gives_each_thread_its_own_connection),
		T(test_store_free_closes_every_connection),
		T(test_opening_a_connection_keeps_the_locks_of_the_others),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
