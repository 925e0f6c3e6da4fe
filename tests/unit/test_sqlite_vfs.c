/*
 * tests/unit/test_sqlite_vfs: the store's VFS (store/sqlite_vfs.c), put
 * over a recording VFS that sees what reaches the platform: a commit's
 * WAL frames arrive as one write, all of them before the commit's sync,
 * never more than the buffer at once; another connection sees every
 * commit even without a sync (synchronous = NORMAL); pages a transaction
 * spilled and reads back come back as written.
 *
 * Each test gets a fresh database file in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/limits.h"
#include "store/sqlite_vfs.h"

/* ---- the recording VFS: the platform's, counting what reaches it ------ */

struct rec_file {
	sqlite3_file base;
	sqlite3_file *real;
	bool wal;
};

static struct {
	int writes;		   /* to WAL files */
	int syncs;		   /* of WAL files */
	int largest;		   /* bytes of the largest write */
	sqlite3_int64 end;	   /* end of the furthest byte written */
	sqlite3_int64 end_at_sync; /* end when the last sync came */
} rec;

static sqlite3_vfs rec_vfs;

#define RF(f) (((struct rec_file *)(f))->real)

static int rec_close(sqlite3_file *f)
{
	return RF(f)->pMethods->xClose(RF(f));
}

static int rec_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off)
{
	return RF(f)->pMethods->xRead(RF(f), out, amt, off);
}

static int rec_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	if (((struct rec_file *)f)->wal) {
		rec.writes++;
		if (amt > rec.largest)
			rec.largest = amt;
		if (off + amt > rec.end)
			rec.end = off + amt;
	}
	return RF(f)->pMethods->xWrite(RF(f), data, amt, off);
}

static int rec_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (((struct rec_file *)f)->wal && size < rec.end)
		rec.end = size;
	return RF(f)->pMethods->xTruncate(RF(f), size);
}

static int rec_sync(sqlite3_file *f, int flags)
{
	if (((struct rec_file *)f)->wal) {
		rec.syncs++;
		rec.end_at_sync = rec.end;
	}
	return RF(f)->pMethods->xSync(RF(f), flags);
}

static int rec_size(sqlite3_file *f, sqlite3_int64 *out)
{
	return RF(f)->pMethods->xFileSize(RF(f), out);
}

static int rec_lock(sqlite3_file *f, int l)
{
	return RF(f)->pMethods->xLock(RF(f), l);
}

static int rec_unlock(sqlite3_file *f, int l)
{
	return RF(f)->pMethods->xUnlock(RF(f), l);
}

static int rec_reserved(sqlite3_file *f, int *out)
{
	return RF(f)->pMethods->xCheckReservedLock(RF(f), out);
}

static int rec_fcntl(sqlite3_file *f, int op, void *arg)
{
	return RF(f)->pMethods->xFileControl(RF(f), op, arg);
}

static int rec_sector(sqlite3_file *f)
{
	return RF(f)->pMethods->xSectorSize(RF(f));
}

static int rec_dev(sqlite3_file *f)
{
	return RF(f)->pMethods->xDeviceCharacteristics(RF(f));
}

static int rec_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **out)
{
	return RF(f)->pMethods->xShmMap(RF(f), pg, sz, ext, out);
}

static int rec_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return RF(f)->pMethods->xShmLock(RF(f), off, n, flags);
}

static void rec_shm_barrier(sqlite3_file *f)
{
	RF(f)->pMethods->xShmBarrier(RF(f));
}

static int rec_shm_unmap(sqlite3_file *f, int del)
{
	return RF(f)->pMethods->xShmUnmap(RF(f), del);
}

static int rec_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	return RF(f)->pMethods->xFetch(RF(f), off, amt, out);
}

static int rec_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return RF(f)->pMethods->xUnfetch(RF(f), off, p);
}

static const sqlite3_io_methods rec_methods = {
	3,	     rec_close,	  rec_read,	rec_write,	 rec_truncate,	rec_sync,
	rec_size,    rec_lock,	  rec_unlock,	rec_reserved,	 rec_fcntl,	rec_sector,
	rec_dev,     rec_shm_map, rec_shm_lock, rec_shm_barrier, rec_shm_unmap, rec_fetch,
	rec_unfetch,
};

static int rec_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		    int *out_flags)
{
	struct rec_file *f = (struct rec_file *)file;
	sqlite3_vfs *real = vfs->pAppData;
	int rc;

	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = real->xOpen(real, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		f->base.pMethods = NULL;
		return rc;
	}
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	f->base.pMethods = &rec_methods;
	return SQLITE_OK;
}

/* The VFS methods other than open: the platform's, called with it. */
static int rec_delete(sqlite3_vfs *v, const char *n, int s)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xDelete(r, n, s);
}

static int rec_access(sqlite3_vfs *v, const char *n, int fl, int *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xAccess(r, n, fl, out);
}

static int rec_fullpath(sqlite3_vfs *v, const char *n, int sz, char *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xFullPathname(r, n, sz, out);
}

static int rec_random(sqlite3_vfs *v, int n, char *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xRandomness(r, n, out);
}

static int rec_sleep(sqlite3_vfs *v, int us)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xSleep(r, us);
}

static int rec_time(sqlite3_vfs *v, double *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xCurrentTime(r, out);
}

static int rec_lasterr(sqlite3_vfs *v, int n, char *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xGetLastError(r, n, out);
}

static int rec_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	sqlite3_vfs *r = v->pAppData;

	return r->xCurrentTimeInt64(r, out);
}

/* "rec" over the platform's VFS, and "wb", the store's kind, over "rec". */
static int register_vfs(void **state)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	(void)state;
	assert_non_null(real);
	rec_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct rec_file) + real->szOsFile,
		.mxPathname = real->mxPathname,
		.zName = "rec",
		.pAppData = real,
		.xOpen = rec_open,
		.xDelete = rec_delete,
		.xAccess = rec_access,
		.xFullPathname = rec_fullpath,
		.xRandomness = rec_random,
		.xSleep = rec_sleep,
		.xCurrentTime = rec_time,
		.xGetLastError = rec_lasterr,
		.xCurrentTimeInt64 = rec_time64,
	};
	assert_int_equal(sqlite3_vfs_register(&rec_vfs, 0), SQLITE_OK);
	assert_int_equal(anfu_sqlite_vfs_register_over("wb", &rec_vfs), 0);
	/* The store's own, over the platform's. */
	assert_int_equal(anfu_sqlite_vfs_register(), 0);
	assert_non_null(sqlite3_vfs_find(ANFU_SQLITE_VFS));
	return 0;
}

/* ---- fixture ------------------------------------------------------------- */

struct fix {
	char dir[64];
	char path[128];
	char wal[160];
	sqlite3 *db; /* through "wb" */
};

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
}

static sqlite3_int64 one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("%s: %s (%d)", sql, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static sqlite3 *open_db(const char *path, const char *vfs, const char *sync)
{
	sqlite3 *db = NULL;
	char sql[64];

	assert_int_equal(
		sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
		SQLITE_OK);
	exec(db, "PRAGMA journal_mode = WAL");
	(void)snprintf(sql, sizeof(sql), "PRAGMA synchronous = %s", sync);
	exec(db, sql);
	/* No automatic checkpoint: the WAL only grows, so its size counts
	 * the frames. */
	(void)sqlite3_wal_autocheckpoint(db, 0);
	return db;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-vfs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	(void)snprintf(f->wal, sizeof(f->wal), "%s-wal", f->path);
	f->db = open_db(f->path, "wb", "FULL");
	exec(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[200];

	if (f->db)
		assert_int_equal(sqlite3_close(f->db), SQLITE_OK);
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static sqlite3_int64 file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (sqlite3_int64)st.st_size : -1;
}

/* rows rows of 3 500 bytes from id first, in one transaction: about one
 * 4 KiB page each. */
static void fill(sqlite3 *db, int first, int rows)
{
	char sql[160];

	(void)snprintf(sql, sizeof(sql),
		       "WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n "
		       "WHERE i < %d) INSERT INTO t SELECT i, zeroblob(3500) FROM n",
		       first, first + rows - 1);
	exec(db, "BEGIN");
	exec(db, sql);
	exec(db, "COMMIT");
}

static void rec_reset(void)
{
	memset(&rec, 0, sizeof(rec));
}

/* ---- tests --------------------------------------------------------------- */

/* A commit of 20 pages: 40 writes by SQLite (a frame is its header and its
 * page), one write to the file, before the commit's one sync; the file
 * then holds everything the sync was meant to make durable. */
static void test_a_commits_frames_reach_the_file_as_one_write_before_its_sync(void **state)
{
	struct fix *f = *state;
	sqlite3_int64 before = file_size(f->wal), after;

	rec_reset();
	fill(f->db, 1, 20);
	after = file_size(f->wal);
	assert_true(after - before >= 20 * (4096 + 24)); /* 20 frames at least */
	assert_int_equal(rec.writes, 1);
	assert_int_equal(rec.syncs, 1);
	/* Every byte of the commit was written when the sync came. */
	assert_int_equal(rec.end_at_sync, after);
	assert_int_equal(rec.end, after);
	assert_int_equal(one(f->db, "SELECT count(*) FROM t"), 20);
}

/* One commit after another: each its own write and its sync, in order. */
static void test_each_commit_is_written_before_it_syncs(void **state)
{
	struct fix *f = *state;

	for (int i = 0; i < 5; i++) {
		rec_reset();
		fill(f->db, 100 * i + 1, 3);
		assert_int_equal(rec.writes, 1);
		assert_int_equal(rec.syncs, 1);
		assert_int_equal(rec.end_at_sync, file_size(f->wal));
	}
	assert_int_equal(one(f->db, "SELECT count(*) FROM t"), 15);
}

/* 100 pages: more than the buffer holds, so several writes, none larger
 * than the buffer (and so within what the unix VFS writes at once). */
static void test_a_commit_larger_than_the_buffer_goes_in_writes_of_at_most_the_buffer(void **state)
{
	struct fix *f = *state;
	sqlite3_int64 bytes;
	int least;

	rec_reset();
	fill(f->db, 1, 100);
	bytes = file_size(f->wal);
	least = (int)((bytes + ANFU_LIMIT_DB_WAL_WRITE_BUFFER - 1) /
		      ANFU_LIMIT_DB_WAL_WRITE_BUFFER);
	assert_true(rec.largest <= ANFU_LIMIT_DB_WAL_WRITE_BUFFER);
	assert_true(rec.writes >= least);
	assert_true(rec.writes <= least + 2); /* the WAL header may go alone */
	assert_int_equal(rec.end_at_sync, bytes);
	assert_int_equal(one(f->db, "SELECT count(*) FROM t"), 100);
	assert_int_equal(one(f->db, "SELECT sum(length(v)) FROM t"), 350000);
}

/* Without a sync at commit (synchronous = NORMAL) the frames reach the
 * file when SQLite publishes them: another connection (the platform's
 * VFS) reads each commit at once. */
static void test_another_connection_sees_each_commit_without_a_sync(void **state)
{
	struct fix *f = *state;
	sqlite3 *w = open_db(f->path, "wb", "NORMAL"), *r = open_db(f->path, NULL, "FULL");

	for (int i = 1; i <= 30; i++) {
		char sql[96];

		(void)snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, randomblob(%d))", i,
			       100 * i);
		exec(w, sql);
		assert_int_equal(one(r, "SELECT count(*) FROM t"), i);
		assert_int_equal(one(r, "SELECT sum(length(v)) FROM t"), 100 * i * (i + 1) / 2);
	}
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
}

/* A transaction larger than its connection's cache spills pages to the
 * WAL and reads them back before it commits: they come back as written. */
static void test_pages_spilled_and_read_back_in_one_transaction_are_intact(void **state)
{
	struct fix *f = *state;
	sqlite3_stmt *st = NULL;

	exec(f->db, "PRAGMA cache_size = 10");
	fill(f->db, 1, 300);
	exec(f->db, "BEGIN");
	exec(f->db, "UPDATE t SET v = randomblob(3500)");
	exec(f->db, "CREATE TABLE c AS SELECT id, hex(v) AS h FROM t");
	exec(f->db, "COMMIT");
	/* Read through a fresh connection of the platform's VFS. */
	{
		sqlite3 *r = open_db(f->path, NULL, "FULL");

		assert_int_equal(sqlite3_prepare_v2(r, "PRAGMA integrity_check", -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
		assert_int_equal(one(r, "SELECT count(*) FROM t JOIN c USING (id) "
					"WHERE hex(t.v) = c.h"),
				 300);
		assert_int_equal(sqlite3_close(r), SQLITE_OK);
	}
}

/* The WAL file's contract at the VFS itself, below SQLite's pager: a read
 * returns what was written before it, buffered or not; a write that does
 * not continue the buffered bytes (a frame rewritten in place) lands where
 * it was meant to; the size counts every byte written. */
static void test_the_wal_file_reads_back_what_was_written_where_it_was_written(void **state)
{
	struct fix *f = *state;
	sqlite3_vfs *v = sqlite3_vfs_find("wb");
	sqlite3_filename db = sqlite3_create_filename(f->path, "", f->wal, 0, NULL);
	sqlite3_file *h = calloc(1, (size_t)v->szOsFile);
	unsigned char a[100], b[100], c[50], got[200], want[200];
	sqlite3_int64 size = 0;
	int out = 0;

	assert_non_null(db);
	assert_non_null(h);
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	(void)unlink(f->wal);
	assert_int_equal(v->xOpen(v, sqlite3_filename_wal(db), h,
				  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL,
				  &out),
			 SQLITE_OK);
	rec_reset();
	assert_int_equal(h->pMethods->xWrite(h, a, 100, 0), SQLITE_OK);
	assert_int_equal(h->pMethods->xWrite(h, b, 100, 100), SQLITE_OK);
	assert_int_equal(rec.writes, 0); /* both still gathered */
	/* Back at 50: the gathered 200 bytes go first, then these. */
	assert_int_equal(h->pMethods->xWrite(h, c, 50, 50), SQLITE_OK);
	assert_int_equal(h->pMethods->xFileSize(h, &size), SQLITE_OK);
	assert_int_equal(size, 200);
	memset(got, 0, sizeof(got));
	assert_int_equal(h->pMethods->xRead(h, got, 200, 0), SQLITE_OK);
	memcpy(want, a, 50);
	memcpy(want + 50, c, 50);
	memcpy(want + 100, b, 100);
	assert_memory_equal(got, want, 200);
	/* Gathered again, then read before any sync. */
	assert_int_equal(h->pMethods->xWrite(h, a, 100, 200), SQLITE_OK);
	assert_int_equal(h->pMethods->xRead(h, got, 100, 200), SQLITE_OK);
	assert_memory_equal(got, a, 100);
	assert_int_equal(h->pMethods->xClose(h), SQLITE_OK);
	assert_int_equal(file_size(f->wal), 300);
	free(h);
	sqlite3_free_filename(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_a_commits_frames_reach_the_file_as_one_write_before_its_sync, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_each_commit_is_written_before_it_syncs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_a_commit_larger_than_the_buffer_goes_in_writes_of_at_most_the_buffer,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_another_connection_sees_each_commit_without_a_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pages_spilled_and_read_back_in_one_transaction_are_intact, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_the_wal_file_reads_back_what_was_written_where_it_was_written, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, register_vfs, NULL);
}
