/*
 * tests/unit/test_store: the store (store/sqlite.c, pg.c, db.c, pool.c).
 *
 * Most tests run twice: on SQLite (a fresh database file in its own
 * temporary directory) and, named "pg:<test>", on PostgreSQL (a fresh
 * schema of the server in ANFU_TEST_PG_DSN; without it those cases skip
 * and say why). A few are about one engine only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
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

#include "fixture.h"

struct fix {
	bool pg;   /* the PostgreSQL variant */
	bool skip; /* no server for it */
	char dir[64];
	char path[128];
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_db *db;
};

static const bool on_sqlite = false, on_pg = true;

/* The configuration of the test's database, with a busy timeout. */
static struct anfu_store_cfg cfg_of(const struct fix *f, int busy_ms)
{
	if (f->pg)
		return (struct anfu_store_cfg){ .backend = "postgresql",
						.path = "",
						.busy_timeout_ms = busy_ms,
						.dsn = f->dsn };
	return (struct anfu_store_cfg){ .backend = "sqlite",
					.path = f->path,
					.busy_timeout_ms = busy_ms };
}

/* The test's fixture; skips the test when its backend is not there. */
static struct fix *fix_of(void **state)
{
	struct fix *f = *state;

	if (f->skip) {
		print_message("%s\n", FIXTURE_PG_SKIP_REASON);
		skip();
	}
	return f;
}

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

/* *state: &on_sqlite or &on_pg, replaced by the fixture. */
static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct anfu_store_cfg cfg;

	assert_non_null(f);
	f->pg = *(const bool *)*state;
	*state = f;
	if (f->pg) {
		if (!fixture_pg_fresh(f->dsn)) {
			f->skip = true;
			return 0;
		}
	} else {
		(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-store-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	}
	cfg = cfg_of(f, 2000);
	assert_int_equal(anfu_db_open(&cfg, &f->db), 0);
	assert_int_equal(anfu_db_exec(f->db,
				      "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, "
				      "name TEXT, n BIGINT CHECK (n >= 0))",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	anfu_db_close(f->db);
	if (!f->pg)
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 1, "b", 0), ANFU_EEXIST);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_check_violation_gives_econflict(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(insert(f->db, 1, "a", -1), ANFU_ECONFLICT);
	assert_int_equal(count_rows(f->db), 0);
}

static void test_trigger_raise_gives_econflict(void **state)
{
	struct fix *f = fix_of(state);

	if (f->pg)
		assert_int_equal(f->db->ops->exec_script(
					 f->db, "CREATE FUNCTION t_no_delete() RETURNS trigger "
						"LANGUAGE plpgsql AS $$ BEGIN "
						"RAISE EXCEPTION 't is append-only'; END; $$; "
						"CREATE TRIGGER t_no_delete BEFORE DELETE ON t "
						"FOR EACH ROW EXECUTE FUNCTION t_no_delete()"),
				 0);
	else
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
	const struct anfu_param p[] = { ANFU_PI(1), ANFU_PSN("a\0b", 3), ANFU_PI(0) };

	assert_int_equal(anfu_db_exec(f->db, "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)", p,
				      3, NULL, NULL, NULL),
			 ANFU_EINVAL);
	assert_int_equal(count_rows(f->db), 0);
}

static void test_rollback_changes_nothing(void **state)
{
	struct fix *f = fix_of(state);

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
	struct fix *f = fix_of(state);
	uint64_t before = atomic_load(&anfu_store_commit_hist.count);

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
	assert_true(atomic_load(&anfu_store_commit_hist.count) > before);
}

static void test_begin_inside_transaction_is_einval(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_db_begin(f->db), ANFU_EINVAL);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(anfu_db_commit(f->db), ANFU_EINVAL);
}

static void test_savepoint_rollback_to_undoes_only_inner_work(void **state)
{
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
	char big[4000];
	int r = 0;

	if (f->pg) {
		/* A client cannot cap a PostgreSQL database's size. */
		assert_int_equal(f->db->ops->limit_size(f->db, 0), ANFU_EINVAL);
		print_message("limit_size is SQLite only: skipped on PostgreSQL\n");
		skip();
	}
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
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 50);
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
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
	struct fix *f = fix_of(state);
	const struct anfu_param p[] = { ANFU_PI(0) };
	struct nested n = { f->db, 0 };

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(
		anfu_db_exec(f->db, "SELECT id FROM t WHERE id >= $1", p, 1, nested_cb, &n, NULL),
		0);
	assert_int_equal(n.inner, 2);
}

/* The statement cache finds SQL by its text's address first: a buffer
 * that held one statement and now holds another runs the new text. */
static void test_a_reused_sql_buffer_runs_its_new_text(void **state)
{
	struct fix *f = fix_of(state);
	char sql[64];
	int64_t v = 0;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	for (int round = 0; round < 3; round++) {
		(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM t");
		assert_int_equal(anfu_db_query_int(f->db, sql, NULL, 0, &v), 0);
		assert_int_equal(v, 2);
		(void)snprintf(sql, sizeof(sql), "SELECT max(id) * 10 FROM t");
		assert_int_equal(anfu_db_query_int(f->db, sql, NULL, 0, &v), 0);
		assert_int_equal(v, 20);
	}
}

static void test_unknown_backend_is_einval(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = { .backend = "oracle", .path = f->path };
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
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
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
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
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
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
	struct anfu_db *second = NULL;

	assert_int_equal(anfu_db_begin_read(f->db), 0);
	assert_int_equal(count_rows(f->db), 0);
	assert_false(others_could_lock_exclusively(f->path));
	assert_int_equal(anfu_db_open(&cfg, &second), 0);
	assert_false(others_could_lock_exclusively(f->path));
	anfu_db_close(second);
	assert_int_equal(anfu_db_rollback(f->db), 0);
}

/* ---- SQLite: the in-process write lock ------------------------------------ */

struct writer_arg {
	struct anfu_store_cfg cfg;
	int64_t first_id;
	int n;	     /* transactions to run */
	int r;	     /* the first failure, or 0 */
	int r_begin; /* what the first anfu_db_begin() returned */
};

/* n write transactions, one row each, on a connection of its own. */
static void *writer_main(void *p)
{
	struct writer_arg *a = p;
	struct anfu_db *db = NULL;

	a->r = anfu_db_open(&a->cfg, &db);
	for (int i = 0; a->r == 0 && i < a->n; i++) {
		a->r = anfu_db_begin(db);
		if (i == 0)
			a->r_begin = a->r;
		if (a->r == 0)
			a->r = insert(db, a->first_id + i, "w", 0);
		if (a->r == 0)
			a->r = anfu_db_commit(db);
		else
			(void)anfu_db_rollback(db);
	}
	anfu_db_close(db);
	return NULL;
}

/* A writer that finds the write lock taken by another thread of the
 * process waits in the queue, not in SQLite's busy handler, and goes on
 * when the holder commits. */
static void test_writer_waits_in_queue_not_in_busy_handler(void **state)
{
	struct fix *f = fix_of(state);
	struct writer_arg a = { .cfg = cfg_of(f, 2000), .first_id = 100, .n = 1 };
	uint64_t busy0 = anfu_store_sqlite_busy_calls();
	pthread_t th;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "holder", 0), 0);
	assert_int_equal(pthread_create(&th, NULL, writer_main, &a), 0);
	/* Until the other thread is queued, or (the lock broken) has slept
	 * in the busy handler. */
	while (anfu_store_sqlite_write_waiters(f->db) == 0 &&
	       anfu_store_sqlite_busy_calls() == busy0)
		(void)sched_yield();
	assert_int_equal(anfu_store_sqlite_write_waiters(f->db), 1);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.r, 0);
	assert_int_equal(anfu_store_sqlite_write_waiters(f->db), 0);
	assert_true(anfu_store_sqlite_busy_calls() == busy0);
	assert_int_equal(count_rows(f->db), 2);
}

/* Two threads committing as fast as they can never meet the busy handler. */
static void test_two_writer_threads_never_sleep_in_busy_handler(void **state)
{
	struct fix *f = fix_of(state);
	struct writer_arg a[2];
	uint64_t busy0 = anfu_store_sqlite_busy_calls();
	pthread_t th[2];

	for (int i = 0; i < 2; i++) {
		a[i] = (struct writer_arg){ .cfg = cfg_of(f, 2000),
					    .first_id = 1000 * (i + 1),
					    .n = 300 };
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(a[i].r, 0);
	}
	assert_true(anfu_store_sqlite_busy_calls() == busy0);
	assert_int_equal(count_rows(f->db), 600);
}

/* A queued writer gives up with ANFU_EBUSY after its busy timeout, as the
 * busy handler did, having written nothing; the holder is unaffected. */
static void test_queued_writer_gives_ebusy_after_busy_timeout(void **state)
{
	struct fix *f = fix_of(state);
	struct writer_arg a = { .cfg = cfg_of(f, 50), .first_id = 100, .n = 1 };
	uint64_t busy0 = anfu_store_sqlite_busy_calls();
	pthread_t th;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "holder", 0), 0);
	assert_int_equal(pthread_create(&th, NULL, writer_main, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.r_begin, ANFU_EBUSY);
	assert_int_equal(anfu_store_sqlite_write_waiters(f->db), 0);
	assert_true(anfu_store_sqlite_busy_calls() == busy0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
	/* The lock is free again for the next writer of any thread. */
	a = (struct writer_arg){ .cfg = cfg_of(f, 50), .first_id = 200, .n = 1 };
	assert_int_equal(pthread_create(&th, NULL, writer_main, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.r, 0);
	assert_int_equal(count_rows(f->db), 2);
}

/* Another process (the CLI) still meets the busy handler: our writer
 * sleeps in it and gives ANFU_EBUSY after its timeout. */
static void test_writer_of_another_process_meets_busy_handler(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 50);
	struct anfu_db *other = NULL;
	int to_child[2], to_parent[2], status = 0;
	uint64_t busy0;
	char c = 0;
	pid_t pid;

	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct anfu_db *db = NULL;
		struct anfu_store_cfg ccfg = cfg_of(f, 2000);

		/* Only the parent's ends of its pipes: should the parent fail,
		 * the read below ends and so does the child. */
		(void)close(to_child[1]);
		(void)close(to_parent[0]);
		if (anfu_db_open(&ccfg, &db) != 0 || anfu_db_begin(db) != 0 ||
		    write(to_parent[1], "b", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		(void)anfu_db_rollback(db);
		_exit(0);
	}
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	busy0 = anfu_store_sqlite_busy_calls();
	assert_int_equal(anfu_db_open(&cfg, &other), 0);
	assert_int_equal(anfu_db_begin(other), ANFU_EBUSY);
	assert_true(anfu_store_sqlite_busy_calls() > busy0);
	assert_int_equal(write(to_child[1], "e", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(anfu_db_begin(other), 0);
	assert_int_equal(anfu_db_rollback(other), 0);
	anfu_db_close(other);
	for (int i = 0; i < 2; i++) {
		(void)close(to_child[i]);
		(void)close(to_parent[i]);
	}
}

/* ---- both engines: more transaction semantics ----------------------------- */

static void test_rollback_to_savepoint_recovers_a_failed_statement(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_store_ops *ops = f->db->ops;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(ops->savepoint(f->db, "cmd_1"), 0);
	assert_int_equal(insert(f->db, 1, "dup", 0), ANFU_EEXIST);
	assert_int_equal(ops->rollback_to(f->db, "cmd_1"), 0);
	assert_int_equal(ops->release(f->db, "cmd_1"), 0);
	assert_int_equal(insert(f->db, 3, "c", 0), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 3);
}

static void test_read_transaction_keeps_one_snapshot(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
	struct anfu_db *other = NULL;

	assert_int_equal(anfu_db_open(&cfg, &other), 0);
	assert_int_equal(anfu_db_begin_read(f->db), 0);
	assert_int_equal(count_rows(f->db), 0);
	assert_int_equal(insert(other, 1, "a", 0), 0);
	assert_int_equal(count_rows(f->db), 0);
	assert_int_equal(anfu_db_end_read(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
	anfu_db_close(other);
}

static void test_pool_size_caps_connections(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
	struct anfu_store *s = NULL;
	struct anfu_db *db = NULL;
	struct thread_arg a = { 0 };
	pthread_t th;

	cfg.pool_size = 1;
	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	assert_int_equal(anfu_store_db(s, &db), 0);
	a.s = s;
	assert_int_equal(pthread_create(&th, NULL, hold_thread, &a), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(a.r, ANFU_EBUSY);
	assert_null(a.db);
	anfu_store_free(s);
}

/* A NULL text (ANFU_PS(NULL)) is typed even where only "$1 IS NULL"
 * would say what it is; ANFU_PNULL takes the type of its column. */
/* ---- statements sent without waiting (anfu_db_send) ------------------ */

static int send_insert(struct anfu_db *db, int64_t id, const char *name)
{
	const struct anfu_param p[] = { ANFU_PI(id), ANFU_PS(name), ANFU_PI(0) };

	return anfu_db_send(db, "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)", p, 3, NULL, NULL,
			    1);
}

/* Sent statements run in the order sent; a read sent after a write sees
 * it, and its rows arrive with the flush (on PostgreSQL not before: they
 * were not waited for). */
static void test_sent_statements_run_in_order_and_rows_come_at_the_flush(void **state)
{
	struct fix *f = fix_of(state);
	struct rows rs = { 0 };
	const struct anfu_param one[] = { ANFU_PI(1) };

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(send_insert(f->db, 1, "a"), 0);
	assert_int_equal(
		anfu_db_send(f->db, "UPDATE t SET name = 'b' WHERE id = $1", one, 1, NULL, NULL, 1),
		0);
	assert_int_equal(anfu_db_send(f->db, "SELECT id, name FROM t", NULL, 0, collect, &rs, -1),
			 0);
	if (f->pg)
		assert_int_equal(rs.seen, 0);
	assert_int_equal(anfu_db_flush(f->db), 0);
	assert_int_equal(rs.seen, 1);
	assert_int_equal(rs.id[0], 1);
	assert_string_equal(rs.name[0], "b");
	/* Nothing left in flight: a second flush is free and fine. */
	assert_int_equal(anfu_db_flush(f->db), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
}

/* A failed sent statement fails where its outcome is read (on SQLite at
 * once), with the store's code; what was sent after it does not run; the
 * savepoint around them undoes the rest, and the transaction goes on. */
static void test_a_failed_sent_statement_is_reported_and_stops_the_rest(void **state)
{
	struct fix *f = fix_of(state);
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(send_insert(f->db, 1, "a"), 0);
	assert_int_equal(f->db->ops->savepoint(f->db, "s"), 0);
	assert_int_equal(send_insert(f->db, 2, "b"), 0);
	r = send_insert(f->db, 1, "dup");
	if (f->pg) {
		assert_int_equal(r, 0);
		assert_int_equal(send_insert(f->db, 3, "c"), 0);
		assert_int_equal(anfu_db_flush(f->db), ANFU_EEXIST);
	} else {
		assert_int_equal(r, ANFU_EEXIST);
	}
	assert_int_equal(f->db->ops->rollback_to(f->db, "s"), 0);
	assert_int_equal(f->db->ops->release(f->db, "s"), 0);
	assert_int_equal(send_insert(f->db, 4, "d"), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 2); /* 1 and 4 */
}

/* expect_changes: a statement that changed another number of rows fails
 * (ANFU_EINTERNAL) where its outcome is read, as a failed one does. */
static void test_a_sent_statement_changing_other_than_expected_fails(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_param missing[] = { ANFU_PI(99) };
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(send_insert(f->db, 1, "a"), 0);
	/* 0 rows expected and changed: fine. */
	assert_int_equal(
		anfu_db_send(f->db, "UPDATE t SET n = 1 WHERE id = $1", missing, 1, NULL, NULL, 0),
		0);
	r = anfu_db_send(f->db, "UPDATE t SET n = 1 WHERE id = $1", missing, 1, NULL, NULL, 1);
	if (f->pg) {
		assert_int_equal(r, 0);
		assert_int_equal(anfu_db_flush(f->db), ANFU_EINTERNAL);
	} else {
		assert_int_equal(r, ANFU_EINTERNAL);
	}
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(count_rows(f->db), 0);
}

/* A statement run the usual way after sent ones reads their outcome with
 * its own: their failure is its failure; their rows are seen by it. */
static void test_a_statement_after_sent_ones_reports_their_failure(void **state)
{
	struct fix *f = fix_of(state);
	int64_t n = -1;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(send_insert(f->db, 1, "a"), 0);
	assert_int_equal(anfu_db_query_int(f->db, "SELECT count(*) FROM t", NULL, 0, &n), 0);
	assert_int_equal(n, 1);
	if (f->pg) {
		assert_int_equal(send_insert(f->db, 1, "dup"), 0);
		assert_int_equal(anfu_db_query_int(f->db, "SELECT count(*) FROM t", NULL, 0, &n),
				 ANFU_EEXIST);
		/* The transaction failed: the commit is refused, nothing kept. */
		assert_int_equal(anfu_db_commit(f->db), ANFU_EIO);
		assert_int_equal(count_rows(f->db), 0);
	} else {
		assert_int_equal(anfu_db_commit(f->db), 0);
		assert_int_equal(count_rows(f->db), 1);
	}
}

/* More statements than one pipeline holds (ANFU_LIMIT_DB_PIPELINE): the
 * connection reads the outcomes when it is full and goes on. Outside a
 * transaction, send is refused. */
static void test_more_sent_statements_than_a_pipeline_holds_all_run(void **state)
{
	struct fix *f = fix_of(state);
	const int64_t n = ANFU_LIMIT_DB_PIPELINE * 2 + 3;

	assert_int_equal(send_insert(f->db, 1, "a"), ANFU_EINVAL);
	assert_int_equal(anfu_db_begin(f->db), 0);
	for (int64_t i = 1; i <= n; i++)
		assert_int_equal(send_insert(f->db, i, "x"), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), n);
}

static void test_null_parameters_work_in_either_place(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_param none[] = { ANFU_PS(NULL) }, one[] = { ANFU_PS("a") };
	const struct anfu_param p[] = { ANFU_PI(3), ANFU_PS("c"), ANFU_PNULL };
	const char *del = "DELETE FROM t WHERE ($1 IS NULL OR name = $1)";
	int64_t changes = -1;

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(anfu_db_exec(f->db, "INSERT INTO t (id, name, n) VALUES ($1, $2, $3)", p,
				      3, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_db_exec(f->db, del, one, 1, NULL, NULL, &changes), 0);
	assert_int_equal(changes, 1);
	assert_int_equal(anfu_db_exec(f->db, del, none, 1, NULL, NULL, &changes), 0);
	assert_int_equal(changes, 2);
	assert_int_equal(count_rows(f->db), 0);
}

/* ---- PostgreSQL only ------------------------------------------------------ */

struct waiter {
	struct anfu_store_cfg cfg;
	int r;
	int64_t seen;
};

/* Begins a write transaction (waiting for the writer lock) and counts. */
static void *waiting_writer(void *p)
{
	struct waiter *w = p;
	struct anfu_db *db = NULL;

	w->r = anfu_db_open(&w->cfg, &db);
	if (w->r == 0)
		w->r = anfu_db_begin(db);
	if (w->r == 0)
		w->r = anfu_db_query_int(db, "SELECT count(*) FROM t", NULL, 0, &w->seen);
	(void)anfu_db_rollback(db);
	anfu_db_close(db);
	return NULL;
}

/* Write transactions run one at a time, as BEGIN IMMEDIATE makes them on
 * SQLite, and one that waited sees what the one before it committed
 * (READ COMMITTED: REPEATABLE READ would keep the snapshot taken before
 * the wait). */
static void test_pg_writer_waits_and_sees_the_previous_commit(void **state)
{
	struct fix *f = fix_of(state);
	struct waiter w = { .cfg = cfg_of(f, 10000), .r = -99, .seen = -1 };
	int64_t waiting = 0;
	pthread_t th;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(pthread_create(&th, NULL, waiting_writer, &w), 0);
	/* Until the other writer waits for the lock (bounded: a writer that
	 * never waits fails the test instead of hanging it). */
	for (int i = 0; waiting == 0; i++) {
		assert_true(i < 3000);
		assert_int_equal(anfu_db_query_int(f->db,
						   "SELECT count(*) FROM pg_locks l JOIN "
						   "pg_database d ON d.oid = l.database WHERE "
						   "d.datname = current_database() AND "
						   "l.locktype = 'advisory' AND NOT l.granted",
						   NULL, 0, &waiting),
				 0);
		if (waiting == 0)
			(void)usleep(10000);
	}
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.r, 0);
	assert_int_equal(w.seen, 1);
}

static void test_pg_failed_statement_fails_the_transaction(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 2, "b", 0), 0);
	assert_int_equal(insert(f->db, 1, "dup", 0), ANFU_EEXIST);
	/* Refused here, not run outside the transaction. */
	assert_int_equal(insert(f->db, 3, "c", 0), ANFU_EIO);
	assert_int_equal(anfu_db_commit(f->db), ANFU_EIO);
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_pg_statement_timeout_gives_ebusy(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
	struct anfu_db *db = NULL;

	cfg.statement_timeout_ms = 50;
	assert_int_equal(anfu_db_open(&cfg, &db), 0);
	assert_int_equal(anfu_db_exec(db, "SELECT pg_sleep(5)", NULL, 0, NULL, NULL, NULL),
			 ANFU_EBUSY);
	/* The connection serves the next statement. */
	assert_int_equal(insert(db, 1, "a", 0), 0);
	anfu_db_close(db);
	assert_int_equal(count_rows(f->db), 1);
}

struct locker {
	struct anfu_db *db;
	int r;
};

static int advisory_lock(struct anfu_db *db, int64_t key)
{
	const struct anfu_param p[] = { ANFU_PI(key) };

	return anfu_db_exec(db, "SELECT pg_advisory_lock($1)", p, 1, NULL, NULL, NULL);
}

static void *lock_two(void *p)
{
	struct locker *l = p;

	l->r = advisory_lock(l->db, 2);
	/* Session locks outlive the failed statement: the loser lets go. */
	if (l->r == ANFU_EBUSY)
		assert_int_equal(anfu_db_exec(l->db, "SELECT pg_advisory_unlock_all()", NULL, 0,
					      NULL, NULL, NULL),
				 0);
	return NULL;
}

/* Two sessions each wait for the other's lock: the server breaks the
 * deadlock (40P01) and the loser gets ANFU_EBUSY, the winner its lock. */
static void test_pg_deadlock_gives_ebusy(void **state)
{
	struct fix *f = fix_of(state);
	struct anfu_store_cfg cfg = cfg_of(f, 10000);
	struct locker a = { .r = -99 };
	struct anfu_db *b = NULL;
	int64_t waiting = 0;
	pthread_t th;
	int rb;

	assert_int_equal(anfu_db_open(&cfg, &a.db), 0);
	assert_int_equal(anfu_db_open(&cfg, &b), 0);
	assert_int_equal(advisory_lock(a.db, 1), 0);
	assert_int_equal(advisory_lock(b, 2), 0);
	assert_int_equal(pthread_create(&th, NULL, lock_two, &a), 0);
	for (int i = 0; waiting == 0; i++) {
		assert_true(i < 3000);
		assert_int_equal(anfu_db_query_int(f->db,
						   "SELECT count(*) FROM pg_locks l JOIN "
						   "pg_database d ON d.oid = l.database WHERE "
						   "d.datname = current_database() AND "
						   "l.locktype = 'advisory' AND NOT l.granted",
						   NULL, 0, &waiting),
				 0);
		if (waiting == 0)
			(void)usleep(10000);
	}
	rb = advisory_lock(b, 1);
	if (rb == ANFU_EBUSY)
		assert_int_equal(anfu_db_exec(b, "SELECT pg_advisory_unlock_all()", NULL, 0, NULL,
					      NULL, NULL),
				 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true((a.r == ANFU_EBUSY && rb == 0) || (a.r == 0 && rb == ANFU_EBUSY));
	anfu_db_close(b);
	anfu_db_close(a.db);
}

/* Ends f->db's server session from another connection. */
static void kill_session(struct fix *f)
{
	struct anfu_store_cfg cfg = cfg_of(f, 2000);
	struct anfu_db *killer = NULL;
	int64_t pid = 0, ok = 0;

	assert_int_equal(anfu_db_query_int(f->db, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
	assert_int_equal(anfu_db_open(&cfg, &killer), 0);
	{
		const struct anfu_param p[] = { ANFU_PI(pid) };

		assert_int_equal(anfu_db_query_int(killer,
						   "SELECT pg_terminate_backend($1::integer, 5000)",
						   p, 1, &ok),
				 0);
	}
	assert_int_equal(ok, 1);
	anfu_db_close(killer);
}

static void test_pg_lost_connection_gives_eio_then_reconnects(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	kill_session(f);
	assert_int_equal(insert(f->db, 2, "b", 0), ANFU_EIO);
	/* The next use reconnects by itself; its statement cache is new. */
	assert_int_equal(insert(f->db, 3, "c", 0), 0);
	assert_int_equal(count_rows(f->db), 2);
}

static void test_pg_lost_connection_in_a_transaction_refuses_until_rollback(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 1, "a", 0), 0);
	kill_session(f);
	assert_int_equal(insert(f->db, 2, "b", 0), ANFU_EIO);
	/* Not run in autocommit behind the caller's back. */
	assert_int_equal(insert(f->db, 3, "c", 0), ANFU_EIO);
	assert_int_equal(anfu_db_commit(f->db), ANFU_EIO);
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(count_rows(f->db), 0);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(insert(f->db, 4, "d", 0), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(count_rows(f->db), 1);
}

static void test_pg_foreign_key_violation_gives_econflict(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_param p[] = { ANFU_PI(9) };
	int64_t n = -1;

	assert_int_equal(anfu_db_exec(f->db,
				      "CREATE TABLE c (id BIGINT NOT NULL PRIMARY KEY "
				      "REFERENCES t (id))",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(
		anfu_db_exec(f->db, "INSERT INTO c (id) VALUES ($1)", p, 1, NULL, NULL, NULL),
		ANFU_ECONFLICT);
	assert_int_equal(anfu_db_query_int(f->db, "SELECT count(*) FROM c", NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_pg_boolean_and_big_integers_read_as_integers(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_param p[] = { ANFU_PI(INT64_MAX) };
	int64_t v = 0;

	assert_int_equal(anfu_db_query_int(f->db, "SELECT 1 = 1", NULL, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(anfu_db_query_int(f->db, "SELECT 1 = 2", NULL, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(anfu_db_query_int(f->db, "SELECT $1", p, 1, &v), 0);
	assert_true(v == INT64_MAX);
}

/* No server needed: the dsn is checked before anything connects. */
static void test_pg_dsn_with_a_password_or_sslmode_is_refused(void **state)
{
	static const char *const bad[] = {
		"host=db.example dbname=anfu password=hunter2",
		"postgresql://anfu:hunter2@db.example/anfu",
		"postgresql://db.example/anfu?password=hunter2",
		"host=db.example sslmode=disable",
		"host=db.example dbname='unterminated",
	};
	char err[160];
	struct anfu_store_cfg cfg = { .backend = "postgresql", .path = "" };
	struct anfu_db *db = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(anfu_store_pg_check_dsn(bad[i], err, sizeof(err)), ANFU_EINVAL);
		assert_true(err[0] != '\0');
		assert_null(strstr(err, "hunter2"));
		cfg.dsn = bad[i];
		assert_int_equal(anfu_db_open(&cfg, &db), ANFU_EINVAL);
		assert_null(db);
	}
	assert_int_equal(anfu_store_pg_check_dsn("host=/run/postgresql dbname=anfu user=anfud", err,
						 sizeof(err)),
			 0);
	assert_int_equal(anfu_store_pg_check_dsn("postgresql://anfud@db.example:5433/anfu", err,
						 sizeof(err)),
			 0);
}

/* No server needed: anfu_store_new() reads the file, connects to nothing. */
static void test_pg_password_file_must_be_private(void **state)
{
	char dir[64], path[128], link[140];
	struct anfu_store_cfg cfg = {
		.backend = "postgresql", .path = "", .dsn = "dbname=anfu", .password_file = path
	};
	struct anfu_store *s = (struct anfu_store *)&cfg;
	FILE *fp;

	(void)state;
	(void)snprintf(dir, sizeof(dir), "/tmp/anfu-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/db-password", dir);
	(void)snprintf(link, sizeof(link), "%s/link", dir);
	/* Missing: libpq's own sources (PGPASSWORD, ~/.pgpass) apply. */
	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	anfu_store_free(s);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs("s3cret\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0640), 0);
	s = (struct anfu_store *)&cfg;
	assert_int_equal(anfu_store_new(&cfg, &s), ANFU_EPERM);
	assert_ptr_equal(s, (struct anfu_store *)&cfg);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	cfg.password_file = link;
	assert_int_equal(anfu_store_new(&cfg, &s), ANFU_EPERM);
	assert_ptr_equal(s, (struct anfu_store *)&cfg);
	cfg.password_file = path;
	assert_int_equal(anfu_store_new(&cfg, &s), 0);
	anfu_store_free(s);
	(void)unlink(link);
	(void)unlink(path);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
/* Both engines; the PostgreSQL case is named "pg:<test>". */
#define T(fn)                                             \
	{ #fn, fn, setup, teardown, (void *)&on_sqlite }, \
		{ "pg:" #fn, fn, setup, teardown, (void *)&on_pg }
#define TS(fn)                                               \
	{                                                    \
#fn, fn, setup, teardown, (void *)&on_sqlite \
	}
#define TP(fn)                                           \
	{                                                \
#fn, fn, setup, teardown, (void *)&on_pg \
	}
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
		TS(test_connection_uses_wal_full_sync_and_foreign_keys),
		T(test_query_int_without_row_is_enotfound),
		T(test_nested_use_of_a_cached_statement_works),
		T(test_a_reused_sql_buffer_runs_its_new_text),
		TS(test_unknown_backend_is_einval),
		T(test_store_gives_each_thread_its_own_connection),
		T(test_store_free_closes_every_connection),
		TS(test_opening_a_connection_keeps_the_locks_of_the_others),
		TS(test_writer_waits_in_queue_not_in_busy_handler),
		TS(test_two_writer_threads_never_sleep_in_busy_handler),
		TS(test_queued_writer_gives_ebusy_after_busy_timeout),
		TS(test_writer_of_another_process_meets_busy_handler),
		T(test_rollback_to_savepoint_recovers_a_failed_statement),
		T(test_read_transaction_keeps_one_snapshot),
		T(test_pool_size_caps_connections),
		T(test_null_parameters_work_in_either_place),
		T(test_sent_statements_run_in_order_and_rows_come_at_the_flush),
		T(test_a_failed_sent_statement_is_reported_and_stops_the_rest),
		T(test_a_sent_statement_changing_other_than_expected_fails),
		T(test_a_statement_after_sent_ones_reports_their_failure),
		T(test_more_sent_statements_than_a_pipeline_holds_all_run),
		TP(test_pg_writer_waits_and_sees_the_previous_commit),
		TP(test_pg_failed_statement_fails_the_transaction),
		TP(test_pg_statement_timeout_gives_ebusy),
		TP(test_pg_deadlock_gives_ebusy),
		TP(test_pg_lost_connection_gives_eio_then_reconnects),
		TP(test_pg_lost_connection_in_a_transaction_refuses_until_rollback),
		TP(test_pg_foreign_key_violation_gives_econflict),
		TP(test_pg_boolean_and_big_integers_read_as_integers),
		cmocka_unit_test(test_pg_dsn_with_a_password_or_sslmode_is_refused),
		cmocka_unit_test(test_pg_password_file_must_be_private),
#undef T
#undef TS
#undef TP
	};

	return cmocka_run_group_tests(tests, NULL, fixture_pg_group_teardown);
}
