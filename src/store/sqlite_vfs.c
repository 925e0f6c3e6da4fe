/*
 * store/sqlite_vfs: the VFS anfu opens its SQLite files through
 * (sqlite_vfs.h says why).
 *
 * Owns the registered VFS and, per open WAL file, its write buffer. Every
 * other file, and every call but the WAL's writes, goes straight to the
 * platform's VFS underneath. Trusts SQLite to serialise the calls on one
 * file handle (a connection is used by one thread at a time).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/limits.h"
#include "store/sqlite_vfs.h"

/* A file: ours in front, the platform's right behind it (szOsFile). */
struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;
	unsigned char *buf; /* WAL only: bytes not yet handed to real */
	size_t len;
	sqlite3_int64 off; /* file offset of buf[0] */
	bool wal;
	/* A connection's database file and its WAL know each other: SQLite
	 * publishes WAL frames through the database file's shared memory
	 * (barrier, locks), so a call there flushes the WAL's bytes first.
	 * Linked at the WAL's open by the name SQLite gave both (the WAL's
	 * sqlite3_filename_database() is the very pointer the database file
	 * was opened with: one pager, one connection). */
	const char *name;     /* main database file: its name pointer */
	struct wb_file *next; /* main database files open (under wb_mu) */
	struct wb_file *walf; /* main database file: its WAL, or NULL */
	struct wb_file *dbf;  /* WAL: its database file, or NULL */
};

static pthread_mutex_t wb_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *wb_mains;

#define REAL(f) (((struct wb_file *)(f))->real)
/* The platform's VFS under ours. */
#define REALVFS(v) ((sqlite3_vfs *)(v)->pAppData)

/* Hands the buffered bytes to the platform's file as one write. The
 * buffer is empty afterwards, failed or not: a failed write fails the
 * call that flushed (a sync, a read, a barrier), so SQLite never treats
 * the frames as written. */
static int wb_flush(struct wb_file *f)
{
	struct wb_file *w = f->wal ? f : f->walf;
	int rc;

	if (!w || w->len == 0)
		return SQLITE_OK;
	rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	return rc;
}

static void wb_link(struct wb_file *f, sqlite3_filename name, int flags)
{
	pthread_mutex_lock(&wb_mu);
	if ((flags & SQLITE_OPEN_MAIN_DB) && name) {
		f->name = name;
		f->next = wb_mains;
		wb_mains = f;
	} else if (f->wal && name) {
		const char *db = sqlite3_filename_database(name);

		for (struct wb_file *m = wb_mains; m; m = m->next)
			if (m->name == db) {
				ANFU_ASSERT(!m->walf);
				m->walf = f;
				f->dbf = m;
				break;
			}
	}
	pthread_mutex_unlock(&wb_mu);
}

static void wb_unlink(struct wb_file *f)
{
	pthread_mutex_lock(&wb_mu);
	if (f->dbf)
		f->dbf->walf = NULL;
	if (f->walf)
		f->walf->dbf = NULL;
	if (f->name)
		for (struct wb_file **pp = &wb_mains; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
	f->dbf = f->walf = NULL;
	pthread_mutex_unlock(&wb_mu);
}

static int wb_close(sqlite3_file *file)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc = wb_flush(f), rc2;

	wb_unlink(f);
	rc2 = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xRead(REAL(file), out, amt, off);
}

/* A WAL write that continues the buffered bytes joins them; anything else
 * (the first write, a write elsewhere: a frame rewritten in place) flushes
 * them first. A write larger than the buffer goes through at once. */
static int wb_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc;

	if (!f->wal || amt <= 0)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
			   f->len + (size_t)amt > ANFU_LIMIT_DB_WAL_WRITE_BUFFER)) {
		rc = wb_flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if ((size_t)amt > ANFU_LIMIT_DB_WAL_WRITE_BUFFER)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	if (!f->buf) {
		f->buf = malloc(ANFU_LIMIT_DB_WAL_WRITE_BUFFER);
		if (!f->buf)
			return f->real->pMethods->xWrite(f->real, data, amt, off);
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, data, (size_t)amt);
	f->len += (size_t)amt;
	ANFU_ASSERT(f->len <= ANFU_LIMIT_DB_WAL_WRITE_BUFFER);
	return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int wb_sync(sqlite3_file *file, int flags)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int wb_lock(sqlite3_file *file, int lock)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xLock(REAL(file), lock);
}

static int wb_unlock(sqlite3_file *file, int lock)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xUnlock(REAL(file), lock);
}

static int wb_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int wb_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int wb_device_characteristics(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

/* The shared-memory calls (on the database file) publish frames to other
 * connections (SQLite writes the WAL index header around a barrier and
 * under its locks): the WAL's frames go to the file before any of them. */
static int wb_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc
			       : REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend, out);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *file)
{
	/* A barrier can report no failure, and around it SQLite publishes
	 * the frames. With synchronous = FULL (store/sqlite.c) a commit's
	 * sync has already flushed them; only a connection without it gets
	 * here with bytes left, and if they cannot be written the process
	 * stops rather than publish frames the file lacks (the commit has not
	 * returned: nothing acknowledged is lost, and recovery reads only
	 * what the file holds). */
	int rc = wb_flush((struct wb_file *)file);

	ANFU_ASSERT(rc == SQLITE_OK);
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int wb_shm_unmap(sqlite3_file *file, int del)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	int rc = wb_flush((struct wb_file *)file);

	return rc != SQLITE_OK ? rc : REAL(file)->pMethods->xFetch(REAL(file), off, amt, out);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static const sqlite3_io_methods wb_methods = {
	.iVersion = 3,
	.xClose = wb_close,
	.xRead = wb_read,
	.xWrite = wb_write,
	.xTruncate = wb_truncate,
	.xSync = wb_sync,
	.xFileSize = wb_file_size,
	.xLock = wb_lock,
	.xUnlock = wb_unlock,
	.xCheckReservedLock = wb_check_reserved,
	.xFileControl = wb_file_control,
	.xSectorSize = wb_sector_size,
	.xDeviceCharacteristics = wb_device_characteristics,
	.xShmMap = wb_shm_map,
	.xShmLock = wb_shm_lock,
	.xShmBarrier = wb_shm_barrier,
	.xShmUnmap = wb_shm_unmap,
	.xFetch = wb_fetch,
	.xUnfetch = wb_unfetch,
};

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		   int *out_flags)
{
	struct wb_file *f = (struct wb_file *)file;
	int rc;

	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = REALVFS(vfs)->xOpen(REALVFS(vfs), name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || !f->real->pMethods) {
		/* SQLite calls no method of a file whose open failed; the
		 * platform's file cleaned up after itself. */
		f->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	/* Every method of version 3 is forwarded; an older file (not the
	 * unix VFS) would lack some. */
	if (f->real->pMethods->iVersion < 3) {
		(void)f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	wb_link(f, name, flags);
	f->base.pMethods = &wb_methods;
	return SQLITE_OK;
}

/* The rest of the VFS is the platform's. */
static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return REALVFS(vfs)->xDelete(REALVFS(vfs), name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return REALVFS(vfs)->xAccess(REALVFS(vfs), name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return REALVFS(vfs)->xFullPathname(REALVFS(vfs), name, n, out);
}

static void *wb_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return REALVFS(vfs)->xDlOpen(REALVFS(vfs), name);
}

static void wb_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	REALVFS(vfs)->xDlError(REALVFS(vfs), n, out);
}

static void (*wb_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return REALVFS(vfs)->xDlSym(REALVFS(vfs), h, sym);
}

static void wb_dl_close(sqlite3_vfs *vfs, void *h)
{
	REALVFS(vfs)->xDlClose(REALVFS(vfs), h);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return REALVFS(vfs)->xRandomness(REALVFS(vfs), n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
	return REALVFS(vfs)->xSleep(REALVFS(vfs), us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
	return REALVFS(vfs)->xCurrentTime(REALVFS(vfs), out);
}

static int wb_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return REALVFS(vfs)->xGetLastError(REALVFS(vfs), n, out);
}

static int wb_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return REALVFS(vfs)->xCurrentTimeInt64(REALVFS(vfs), out);
}

int anfu_sqlite_vfs_register_over(const char *name, sqlite3_vfs *real)
{
	sqlite3_vfs *v;

	if (!name || !real || real->iVersion < 2)
		return -1;
	/* Registered for the process's life: SQLite keeps the pointer. */
	v = calloc(1, sizeof(*v));
	if (!v)
		return -1;
	*v = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wb_file) + real->szOsFile,
		.mxPathname = real->mxPathname,
		.zName = name,
		.pAppData = real,
		.xOpen = wb_open,
		.xDelete = wb_delete,
		.xAccess = wb_access,
		.xFullPathname = wb_full_pathname,
		.xDlOpen = wb_dl_open,
		.xDlError = wb_dl_error,
		.xDlSym = wb_dl_sym,
		.xDlClose = wb_dl_close,
		.xRandomness = wb_randomness,
		.xSleep = wb_sleep,
		.xCurrentTime = wb_current_time,
		.xGetLastError = wb_last_error,
		.xCurrentTimeInt64 = wb_current_time64,
	};
	if (sqlite3_vfs_register(v, 0) != SQLITE_OK) {
		free(v);
		return -1;
	}
	return 0;
}

static pthread_once_t wb_once = PTHREAD_ONCE_INIT;
static int wb_registered = -1;

static void wb_register(void)
{
	wb_registered = anfu_sqlite_vfs_register_over(ANFU_SQLITE_VFS, sqlite3_vfs_find(NULL));
}

int anfu_sqlite_vfs_register(void)
{
	(void)pthread_once(&wb_once, wb_register);
	return wb_registered;
}

_Static_assert(ANFU_LIMIT_DB_WAL_WRITE_BUFFER <= 0x1ffff,
	       "the unix VFS writes at most 0x1ffff bytes at once");
