/*
 * store/sqlite: the SQLite implementation of struct anfu_store_ops.
 *
 * Owns the sqlite3 handles and each connection's prepared-statement cache;
 * this is the only file that includes sqlite3.h. Connections are opened
 * with SQLITE_OPEN_NOMUTEX, so it trusts callers to use one connection
 * from one thread at a time (store/pool.c hands each thread its own). It
 * trusts the SQL text to be written by anfu, never built from input;
 * values are always bound as $1..$n parameters. Engine messages are logged
 * here and mapped to ANFU_E* codes; they never leave this file.
 *
 * Also owns the in-process write lock of each database file (see "the
 * write lock" below): the process's writers queue on it instead of sleeping
 * in SQLite's busy handler behind one another.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/row.h"
#include "store/sqlite_ckpt.h"
#include "store/sqlite_vfs.h"
#include "store/store.h"

/* Where each $k of a statement is: idx[k - 1] is SQLite's parameter index
 * of $k (0: the statement does not use $k); max is the largest k named.
 * Worked out once per prepared statement. */
struct param_map {
	int max;
	uint8_t idx[ANFU_LIMIT_SQL_PARAMS];
};

struct stmt_ent {
	char *sql;
	uint32_t hash;
	sqlite3_stmt *st;
	struct param_map map;
	bool busy; /* being stepped (a row callback may run nested SQL) */
	uint64_t used;
	struct stmt_ent *next;
	const char *ptr; /* the caller's text it was last found by (see fast) */
};

struct sq_wlock;

struct sq_db {
	struct anfu_db base; /* first: callers see only this */
	sqlite3 *h;
	struct sq_ckpt *ckpt;	/* its file's checkpointer, or NULL */
	struct sq_wlock *wlock; /* its file's in-process write lock, or NULL */
	bool wlock_held;	/* this connection holds wlock (BEGIN IMMEDIATE..end) */
	int busy_timeout_ms;
	struct stmt_ent *bucket[ANFU_LIMIT_STMT_BUCKETS];
	/* By the address of the caller's SQL text: nearly every statement is
	 * a string literal, found again at the same address, so its text is
	 * compared (strcmp, a dynamic buffer may be reused) instead of hashed
	 * byte by byte (the hash was 2 % of the ledger writer's time). */
	struct stmt_ent *fast[ANFU_LIMIT_STMT_BUCKETS];
	size_t nstmt;
	uint64_t tick;
};

static struct sq_db *sq(struct anfu_db *db)
{
	return (struct sq_db *)db;
}

/* ---- errors ---------------------------------------------------------- */

static int map_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return ANFU_EEXIST;
		return ANFU_ECONFLICT;
	case SQLITE_FULL: return ANFU_EFULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return ANFU_EBUSY;
	default: return ANFU_EIO;
	}
}

/* Logs the engine's message and the statement, returns the mapped code. */
static int fail(struct sq_db *d, int rc, const char *what, const char *sql)
{
	int r = map_code(rc);

	anfu_log_warn("store.sqlite", "%s: %s (code %d, %s): %.300s", what,
		      d && d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc), rc, anfu_strerror(r),
		      sql ? sql : "");
	return r;
}

/* SQLite rolls a transaction back by itself after some errors (full disk,
 * I/O errors). Statements that followed would then run in autocommit mode
 * behind the caller's back, so a transaction in that state refuses work
 * until the caller rolls back. */
static int check_tx_alive(struct sq_db *d, const char *sql)
{
	if (d->base.tx_depth > 0 && sqlite3_get_autocommit(d->h)) {
		anfu_log_warn("store.sqlite",
			      "transaction was rolled back by the engine; refusing: %.300s", sql);
		return ANFU_EIO;
	}
	return 0;
}

/* ---- rows -------------------------------------------------------------- */

static int row_count(const void *impl)
{
	return sqlite3_column_count((sqlite3_stmt *)impl);
}

static bool row_is_null(const void *impl, int col)
{
	return sqlite3_column_type((sqlite3_stmt *)impl, col) == SQLITE_NULL;
}

static int64_t row_int(const void *impl, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)impl, col);
}

static const char *row_text(const void *impl, int col, size_t *ret_len)
{
	sqlite3_stmt *st = (sqlite3_stmt *)impl;
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (ret_len)
		*ret_len = t && n > 0 ? (size_t)n : 0;
	return (const char *)t;
}

static const struct anfu_row_ops sq_row_ops = {
	.count = row_count,
	.is_null = row_is_null,
	.get_int = row_int,
	.get_text = row_text,
};

/* ---- statement cache --------------------------------------------------- */

static uint32_t sql_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void ent_free(struct stmt_ent *e)
{
	if (!e)
		return;
	(void)sqlite3_finalize(e->st);
	free(e->sql);
	free(e);
}

static size_t fast_slot(const char *sql)
{
	return ((uintptr_t)sql >> 3) % ANFU_LIMIT_STMT_BUCKETS;
}

static void cache_evict_lru(struct sq_db *d)
{
	struct stmt_ent **victim = NULL;

	for (size_t b = 0; b < ANFU_LIMIT_STMT_BUCKETS; b++)
		for (struct stmt_ent **pp = &d->bucket[b]; *pp; pp = &(*pp)->next)
			if (!(*pp)->busy && (!victim || (*pp)->used < (*victim)->used))
				victim = pp;
	if (victim) {
		struct stmt_ent *e = *victim;

		*victim = e->next;
		if (e->ptr && d->fast[fast_slot(e->ptr)] == e)
			d->fast[fast_slot(e->ptr)] = NULL;
		ent_free(e);
		d->nstmt--;
	}
}

static int param_map_of(sqlite3_stmt *st, const char *sql, struct param_map *m);

/* Returns a statement for sql, ready to bind. It comes from the cache when
 * an idle one exists (its parameter map in the entry); if the cached one is
 * busy (nested use from a row callback) a private one is prepared,
 * *ret_owned is set so the caller finalizes it, and *owned_map gets its
 * parameter map. A statement naming a parameter other than $1..$99 is
 * refused (ANFU_EINVAL). */
static int stmt_get(struct sq_db *d, const char *sql, struct stmt_ent **ret_ent,
		    sqlite3_stmt **ret_owned, struct param_map *owned_map)
{
	struct stmt_ent *e = d->fast[fast_slot(sql)];
	sqlite3_stmt *st = NULL;
	uint32_t h;
	int rc;

	if (e && e->ptr == sql && !e->busy && strcmp(e->sql, sql) == 0) {
		e->used = ++d->tick;
		e->busy = true;
		*ret_ent = e;
		return 0;
	}
	h = sql_hash(sql);
	for (e = d->bucket[h % ANFU_LIMIT_STMT_BUCKETS]; e; e = e->next)
		if (e->hash == h && strcmp(e->sql, sql) == 0)
			break;
	if (e && !e->busy) {
		e->ptr = sql;
		d->fast[fast_slot(sql)] = e;
		e->used = ++d->tick;
		e->busy = true;
		*ret_ent = e;
		return 0;
	}
	rc = sqlite3_prepare_v3(d->h, sql, -1, e ? 0 : SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return fail(d, rc, "prepare", sql);
	if (!st) {
		anfu_log_warn("store.sqlite", "empty statement: %.300s", sql);
		return ANFU_EINVAL;
	}
	if (e) {
		*ret_owned = st;
		*owned_map = e->map;
		return 0;
	}
	if (param_map_of(st, sql, owned_map) < 0) {
		(void)sqlite3_finalize(st);
		return ANFU_EINVAL;
	}
	if (d->nstmt >= ANFU_LIMIT_STMT_CACHE)
		cache_evict_lru(d);
	e = anfu_xcalloc(1, sizeof(*e));
	e->map = *owned_map;
	e->sql = anfu_xstrdup(sql);
	e->hash = h;
	e->st = st;
	e->busy = true;
	e->used = ++d->tick;
	e->next = d->bucket[h % ANFU_LIMIT_STMT_BUCKETS];
	d->bucket[h % ANFU_LIMIT_STMT_BUCKETS] = e;
	e->ptr = sql;
	d->fast[fast_slot(sql)] = e;
	d->nstmt++;
	*ret_ent = e;
	return 0;
}

static void cache_clear(struct sq_db *d)
{
	for (size_t b = 0; b < ANFU_LIMIT_STMT_BUCKETS; b++) {
		struct stmt_ent *e = d->bucket[b];

		while (e) {
			struct stmt_ent *next = e->next;

			ent_free(e);
			e = next;
		}
		d->bucket[b] = NULL;
		d->fast[b] = NULL;
	}
	d->nstmt = 0;
}

/* ---- binding ----------------------------------------------------------- */

/* Maps the statement's parameter names. Every name must be $1..$99 (the
 * store binds nothing else; PostgreSQL is as strict, so a stray name is a
 * bug worth catching on SQLite already). */
static int param_map_of(sqlite3_stmt *st, const char *sql, struct param_map *m)
{
	int n = sqlite3_bind_parameter_count(st);

	memset(m, 0, sizeof(*m));
	if (n > ANFU_LIMIT_SQL_PARAMS)
		goto bad;
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		char *end = NULL;
		long k;

		if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
			goto bad;
		k = strtol(name + 1, &end, 10);
		if (*end != '\0' || k < 1 || k > ANFU_LIMIT_SQL_PARAMS)
			goto bad;
		m->idx[k - 1] = (uint8_t)i;
		if (k > m->max)
			m->max = (int)k;
	}
	return 0;
bad:
	anfu_log_warn("store.sqlite", "statement parameters are not $1..$n: %.300s", sql);
	return ANFU_EINVAL;
}

static int bind_one(struct sq_db *d, sqlite3_stmt *st, int idx, const struct anfu_param *p,
		    const char *sql)
{
	size_t len;
	int rc;

	switch (p->type) {
	case ANFU_P_NULL: rc = sqlite3_bind_null(st, idx); break;
	case ANFU_P_INT: rc = sqlite3_bind_int64(st, idx, p->i); break;
	case ANFU_P_TEXT:
		if (!p->s)
			return ANFU_EINVAL;
		len = p->len == (size_t)-1 ? strlen(p->s) : p->len;
		/* PostgreSQL text cannot hold NUL; refuse it here too. */
		if (len > INT_MAX || memchr(p->s, '\0', len))
			return ANFU_EINVAL;
		rc = sqlite3_bind_text64(st, idx, p->s, len, SQLITE_STATIC, SQLITE_UTF8);
		break;
	default: return ANFU_EINVAL;
	}
	if (rc != SQLITE_OK)
		return fail(d, rc, "bind", sql);
	return 0;
}

/* Every parameter the statement names must be one of $1..$np, and every
 * given parameter must be used. */
static int bind_all(struct sq_db *d, sqlite3_stmt *st, const struct param_map *m,
		    const struct anfu_param *p, size_t np, const char *sql)
{
	int r;

	if (np > ANFU_LIMIT_SQL_PARAMS || (np > 0 && !p))
		return ANFU_EINVAL;
	if ((size_t)m->max > np) {
		anfu_log_warn("store.sqlite", "statement parameters are not $1..$%zu: %.300s", np,
			      sql);
		return ANFU_EINVAL;
	}
	for (size_t i = 0; i < np; i++) {
		int idx = m->idx[i];

		if (idx == 0) {
			anfu_log_warn("store.sqlite", "parameter $%zu unused: %.300s", i + 1, sql);
			return ANFU_EINVAL;
		}
		r = bind_one(d, st, idx, &p[i], sql);
		if (r < 0) {
			if (r == ANFU_EINVAL)
				anfu_log_warn("store.sqlite", "bad value for $%zu: %.300s", i + 1,
					      sql);
			return r;
		}
	}
	return 0;
}

/* ---- statements -------------------------------------------------------- */

static int step_all(struct sq_db *d, sqlite3_stmt *st, const char *sql, anfu_row_fn fn, void *ud,
		    int64_t *ret_changes)
{
	struct anfu_row row = { &sq_row_ops, st };
	int rc;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return fail(d, rc, "step", sql);
		if (fn) {
			int cr = fn(ud, &row);

			if (cr != 0)
				return cr < 0 ? cr : 0;
		}
	}
	if (ret_changes)
		*ret_changes = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(d->h);
	return 0;
}

static int sq_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		   anfu_row_fn fn, void *ud, int64_t *ret_changes)
{
	struct sq_db *d = sq(db);
	struct stmt_ent *ent = NULL;
	sqlite3_stmt *owned = NULL, *st;
	struct param_map map;
	int64_t changes = 0;
	int r;

	if (!sql)
		return ANFU_EINVAL;
	r = check_tx_alive(d, sql);
	if (r < 0)
		return r;
	r = stmt_get(d, sql, &ent, &owned, &map);
	if (r < 0)
		return r;
	st = owned ? owned : ent->st;
	r = bind_all(d, st, owned ? &map : &ent->map, p, np, sql);
	if (r < 0)
		goto out;
	r = step_all(d, st, sql, fn, ud, &changes);
	if (r < 0)
		goto out;
	if (ret_changes)
		*ret_changes = changes;
	r = 0;
out:
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	if (owned)
		(void)sqlite3_finalize(owned);
	else
		ent->busy = false;
	return r;
}

/* Runs one fixed statement with no parameters and no rows through the
 * statement cache: BEGIN, COMMIT and the savepoints run thousands of times a
 * second in the ledger writer, and sqlite3_exec() would compile each anew. */
static int run_cached(struct sq_db *d, const char *sql)
{
	struct stmt_ent *ent = NULL;
	sqlite3_stmt *owned = NULL, *st;
	struct param_map map;
	int r = stmt_get(d, sql, &ent, &owned, &map);

	if (r < 0)
		return r;
	st = owned ? owned : ent->st;
	r = step_all(d, st, sql, NULL, NULL, NULL);
	(void)sqlite3_reset(st);
	if (owned)
		(void)sqlite3_finalize(owned);
	else
		ent->busy = false;
	return r;
}

/* Runs fixed SQL text with no parameters and no rows. */
static int run(struct sq_db *d, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return fail(d, rc, "exec", sql);
	return 0;
}

static int sq_exec_script(struct anfu_db *db, const char *sql)
{
	struct sq_db *d = sq(db);
	int r;

	if (!sql)
		return ANFU_EINVAL;
	r = check_tx_alive(d, "(script)");
	if (r < 0)
		return r;
	return run(d, sql);
}

/* ---- the write lock ------------------------------------------------------ */

/*
 * SQLite has one write lock per database file. A connection that finds it
 * taken calls the busy handler, which sleeps 1..100 ms and tries again:
 * between the threads of one process that turned every commit of a busy
 * server into a queue of sleepers polling a free lock. So the connections
 * of one process to one file (the same device and inode) share a FIFO lock,
 * taken before BEGIN IMMEDIATE and released once the transaction has ended
 * (COMMIT or ROLLBACK, whatever their outcome): a writer waits on its own
 * condition variable and is woken, the lock handed to it, the moment the
 * previous writer is done. The busy handler stays for other processes (the
 * CLI next to anfud), and counts its calls (anfu_store_sqlite_busy_calls).
 *
 * Deadlocks: a thread that already holds the lock through one connection
 * and begins on a second one does not queue (it would wait for itself); it
 * goes straight to SQLite as before, whose busy handler gives ANFU_EBUSY
 * after the busy timeout. Any other wait is bounded by the same busy
 * timeout and then gives ANFU_EBUSY, so a holder that waits for another
 * writer (it must not) costs what it did before: a timeout, not a hang.
 * The WAL checkpointer takes the lock only to finish a checkpoint and
 * restart the WAL (store/sqlite_ckpt.c), never while it waits for anything
 * but readers; the in-line checkpoint of wal_hook runs inside a holder's
 * COMMIT.
 * PostgreSQL is not concerned (store/pg.c: its advisory lock).
 */
struct wl_waiter {
	pthread_cond_t cv;
	pthread_t self;
	bool granted; /* under the lock's mu: the lock was handed over */
	struct wl_waiter *next;
};

struct sq_wlock {
	dev_t dev;
	ino_t ino;
	int users; /* connections attached (under wl_reg_mu) */
	pthread_mutex_t mu;
	bool held;		       /* under mu */
	pthread_t owner;	       /* under mu, while held */
	int waiting;		       /* under mu: length of the queue */
	struct wl_waiter *head, *tail; /* under mu: the queue, first come first */
	struct sq_wlock *next;
};

static pthread_mutex_t wl_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_wlock *wl_reg;
static atomic_uint_least64_t busy_calls;

/* The lock of the file at path (created with its first connection), or
 * NULL for a database that is no file (":memory:", ""). */
static struct sq_wlock *wl_attach(const char *path)
{
	struct sq_wlock *w;
	struct stat st;

	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 || stat(path, &st) != 0)
		return NULL;
	pthread_mutex_lock(&wl_reg_mu);
	for (w = wl_reg; w; w = w->next)
		if (w->dev == st.st_dev && w->ino == st.st_ino)
			break;
	if (!w) {
		w = anfu_xcalloc(1, sizeof(*w));
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		pthread_mutex_init(&w->mu, NULL);
		w->next = wl_reg;
		wl_reg = w;
	}
	w->users++;
	pthread_mutex_unlock(&wl_reg_mu);
	return w;
}

static void wl_detach(struct sq_wlock *w)
{
	bool last;

	if (!w)
		return;
	pthread_mutex_lock(&wl_reg_mu);
	last = --w->users == 0;
	if (last)
		for (struct sq_wlock **pp = &wl_reg; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				break;
			}
	pthread_mutex_unlock(&wl_reg_mu);
	if (!last)
		return;
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static void deadline_after(struct timespec *ts, int ms)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void wl_unqueue(struct sq_wlock *w, struct wl_waiter *me)
{
	struct wl_waiter *prev = NULL;

	for (struct wl_waiter *q = w->head; q; prev = q, q = q->next)
		if (q == me) {
			if (prev)
				prev->next = q->next;
			else
				w->head = q->next;
			if (w->tail == q)
				w->tail = prev;
			w->waiting--;
			return;
		}
}

/* Waits (under w->mu) until the lock is handed to me or timeout_ms pass. */
static bool wl_wait(struct sq_wlock *w, struct wl_waiter *me, int timeout_ms)
{
	pthread_condattr_t attr;
	struct timespec until;

	(void)pthread_condattr_init(&attr);
	(void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&me->cv, &attr);
	(void)pthread_condattr_destroy(&attr);
	if (w->tail)
		w->tail->next = me;
	else
		w->head = me;
	w->tail = me;
	w->waiting++;
	deadline_after(&until, timeout_ms);
	while (!me->granted)
		if (pthread_cond_timedwait(&me->cv, &w->mu, &until) == ETIMEDOUT && !me->granted) {
			wl_unqueue(w, me);
			break;
		}
	(void)pthread_cond_destroy(&me->cv);
	return me->granted;
}

/* Takes w for the calling thread, waiting at most timeout_ms. 1 when
 * taken, 0 when the calling thread holds it already (take nothing), -1
 * when the wait timed out. */
static int wl_take(struct sq_wlock *w, int timeout_ms)
{
	struct wl_waiter me = { .self = pthread_self() };
	int64_t t0;
	bool got;

	pthread_mutex_lock(&w->mu);
	if (!w->held) {
		w->held = true;
		w->owner = me.self;
		pthread_mutex_unlock(&w->mu);
		anfu_hist_observe(&anfu_store_wlock_wait_hist, 0);
		return 1;
	}
	if (pthread_equal(w->owner, me.self)) {
		pthread_mutex_unlock(&w->mu);
		return 0;
	}
	t0 = anfu_clock_mono_us();
	got = wl_wait(w, &me, timeout_ms);
	pthread_mutex_unlock(&w->mu);
	if (got)
		anfu_hist_observe(&anfu_store_wlock_wait_hist, anfu_clock_mono_us() - t0);
	return got ? 1 : -1;
}

/* Hands w to the first waiter, or frees it. */
static void wl_give(struct sq_wlock *w)
{
	struct wl_waiter *next;

	pthread_mutex_lock(&w->mu);
	next = w->head;
	if (next) {
		w->head = next->next;
		if (!w->head)
			w->tail = NULL;
		w->waiting--;
		w->owner = next->self;
		next->granted = true;
		pthread_cond_signal(&next->cv);
	} else {
		w->held = false;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Takes d's write lock for a BEGIN IMMEDIATE, waiting at most the busy
 * timeout. Sets d->wlock_held when taken; leaves it unset (and returns 0)
 * when there is no lock or the calling thread holds it already. Returns
 * ANFU_EBUSY (logged) when the wait timed out. */
static int wl_acquire(struct sq_db *d)
{
	int got;

	if (!d->wlock)
		return 0;
	got = wl_take(d->wlock, d->busy_timeout_ms);
	if (got < 0) {
		anfu_log_warn("store.sqlite", "write lock still taken after %d ms",
			      d->busy_timeout_ms);
		return ANFU_EBUSY;
	}
	d->wlock_held = got == 1;
	return 0;
}

/* Releases d's write lock if d holds it: hands it to the first waiter. */
static void wl_release(struct sq_db *d)
{
	if (!d->wlock_held)
		return;
	d->wlock_held = false;
	wl_give(d->wlock);
}

/* See sqlite_ckpt.h. */
struct sq_wlock *sq_wlock_attach(const char *path)
{
	return wl_attach(path);
}

/* See sqlite_ckpt.h. */
void sq_wlock_detach(struct sq_wlock *w)
{
	wl_detach(w);
}

/* See sqlite_ckpt.h. */
bool sq_wlock_take(struct sq_wlock *w, int timeout_ms)
{
	return w && wl_take(w, timeout_ms) == 1;
}

/* See sqlite_ckpt.h. */
void sq_wlock_give(struct sq_wlock *w)
{
	if (w)
		wl_give(w);
}

/* SQLite's own back-off (sqliteDefaultBusyCallback), counted: only another
 * process should ever make an anfu connection wait here. */
static int busy_cb(void *ud, int count)
{
	static const uint8_t delays[] = { 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 };
	static const uint8_t totals[] = { 0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228 };
	const int n = (int)(sizeof(delays) / sizeof(delays[0]));
	const struct sq_db *d = ud;
	int delay, prior;

	if (count < n) {
		delay = delays[count];
		prior = totals[count];
	} else {
		delay = delays[n - 1];
		prior = totals[n - 1] + delay * (count - (n - 1));
	}
	if (prior + delay > d->busy_timeout_ms) {
		delay = d->busy_timeout_ms - prior;
		if (delay <= 0)
			return 0;
	}
	(void)atomic_fetch_add(&busy_calls, 1);
	(void)sqlite3_sleep(delay);
	return 1;
}

uint64_t anfu_store_sqlite_busy_calls(void)
{
	return (uint64_t)atomic_load(&busy_calls);
}

#ifdef ANFU_TEST_HOOKS
int anfu_store_sqlite_write_waiters(struct anfu_db *db)
{
	struct sq_wlock *w;
	int n;

	if (!db || db->ops != &anfu_store_sqlite_ops || !sq(db)->wlock)
		return 0;
	w = sq(db)->wlock;
	pthread_mutex_lock(&w->mu);
	n = w->waiting;
	pthread_mutex_unlock(&w->mu);
	return n;
}
#endif

/* ---- transactions ------------------------------------------------------ */

static int sq_begin(struct anfu_db *db, bool write)
{
	struct sq_db *d = sq(db);
	int r;

	if (db->tx_depth != 0) {
		anfu_log_warn("store.sqlite", "begin inside an open transaction");
		return ANFU_EINVAL;
	}
	/* A ROLLBACK that failed (sq_rollback counts the transaction ended
	 * anyway) left the engine's open: end it, or no transaction could
	 * ever begin on this connection again. Nobody counts it open, so
	 * nothing of it was to be kept. */
	if (!sqlite3_get_autocommit(d->h)) {
		anfu_log_warn("store.sqlite",
			      "rolling back a transaction a failed rollback left open");
		r = run(d, "ROLLBACK");
		if (r < 0)
			return r;
	}
	/* IMMEDIATE takes the write lock now, so a writer never fails to
	 * upgrade a read lock halfway through its work; the process's own
	 * writers queue for it first. */
	if (write) {
		r = wl_acquire(d);
		if (r < 0)
			return r;
	}
	r = run_cached(d, write ? "BEGIN IMMEDIATE" : "BEGIN");
	if (r < 0) {
		wl_release(d);
		return r;
	}
	db->tx_depth = 1;
	return 0;
}

static int sq_rollback(struct anfu_db *db)
{
	struct sq_db *d = sq(db);
	int r = 0;

	if (db->tx_depth == 0)
		return 0;
	if (!sqlite3_get_autocommit(d->h))
		r = run(d, "ROLLBACK");
	db->tx_depth = 0;
	wl_release(d);
	return r;
}

static int sq_commit(struct anfu_db *db)
{
	struct sq_db *d = sq(db);
	int r;

	if (db->tx_depth == 0) {
		anfu_log_warn("store.sqlite", "commit outside a transaction");
		return ANFU_EINVAL;
	}
	r = check_tx_alive(d, "COMMIT");
	if (r == 0)
		r = run_cached(d, "COMMIT");
	if (r < 0) {
		/* Leave no transaction behind: the caller sees the failure
		 * and nothing of the transaction is kept. */
		if (!sqlite3_get_autocommit(d->h))
			(void)run(d, "ROLLBACK");
		db->tx_depth = 0;
		wl_release(d);
		return r;
	}
	db->tx_depth = 0;
	wl_release(d);
	return 0;
}

static int savepoint_sql(struct anfu_db *db, const char *verb, const char *name)
{
	char sql[80];
	int r;

	if (db->tx_depth == 0 || !anfu_store_savepoint_name_ok(name)) {
		anfu_log_warn("store.sqlite", "bad savepoint use: %s", verb);
		return ANFU_EINVAL;
	}
	r = check_tx_alive(sq(db), verb);
	if (r < 0)
		return r;
	(void)snprintf(sql, sizeof(sql), "%s %s", verb, name);
	return run_cached(sq(db), sql);
}

static int sq_savepoint(struct anfu_db *db, const char *name)
{
	int r = savepoint_sql(db, "SAVEPOINT", name);

	if (r == 0)
		db->tx_depth++;
	return r;
}

static int sq_release(struct anfu_db *db, const char *name)
{
	int r;

	if (db->tx_depth < 2)
		return ANFU_EINVAL;
	r = savepoint_sql(db, "RELEASE SAVEPOINT", name);
	if (r == 0)
		db->tx_depth--;
	return r;
}

static int sq_rollback_to(struct anfu_db *db, const char *name)
{
	if (db->tx_depth < 2)
		return ANFU_EINVAL;
	/* ROLLBACK TO keeps the savepoint open; the depth does not change. */
	return savepoint_sql(db, "ROLLBACK TO SAVEPOINT", name);
}

/* ---- size cap (test hook) --------------------------------------------- */

static int page_count_cb(void *ud, const struct anfu_row *r)
{
	*(int64_t *)ud = anfu_row_int(r, 0);
	return 1;
}

static int sq_limit_size(struct anfu_db *db, int64_t extra_pages)
{
	struct sq_db *d = sq(db);
	int64_t pages = -1, max;
	char sql[64];
	int r;

	if (extra_pages < 0)
		return ANFU_EINVAL;
	r = sq_exec(db, "PRAGMA page_count", NULL, 0, page_count_cb, &pages, NULL);
	if (r < 0)
		return r;
	if (pages < 0 || __builtin_add_overflow(pages, extra_pages, &max))
		return ANFU_ERANGE;
	/* PRAGMA takes no parameters; the text is a number computed here. */
	(void)snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld", (long long)max);
	return run(d, sql);
}

/* ---- connections ------------------------------------------------------- */

/* SQLite creates files with the umask's mode; a payment database must not
 * be readable by others, so create it 0600 first (WAL files copy it). */
/* Creates a missing database file with mode 0600 before SQLite opens it.
 * An existing file is never opened here: closing ANY descriptor of the
 * database file drops every POSIX lock this process holds on it, so other
 * connections of ours would lose their locks and another process could
 * write under them (SQLite's "how to corrupt" list, section 2.2). */
static int create_private(const char *path)
{
	struct stat st;
	int fd;

	if (strcmp(path, ":memory:") == 0 || lstat(path, &st) == 0)
		return 0;
	if (errno != ENOENT) {
		anfu_log_warn("store.sqlite", "cannot stat %s: %m", path);
		return ANFU_EIO;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno != EEXIST) {
		anfu_log_warn("store.sqlite", "cannot create %s: %m", path);
		return ANFU_EIO;
	}
	if (fd >= 0)
		(void)close(fd);
	return 0;
}

static int journal_cb(void *ud, const struct anfu_row *r)
{
	const char *mode = anfu_row_text(r, 0, NULL);

	*(bool *)ud = mode && (strcmp(mode, "wal") == 0 || strcmp(mode, "memory") == 0);
	return 1;
}

static int configure(struct sq_db *d, const struct anfu_store_cfg *cfg)
{
	bool wal = false;
	int r;

	(void)sqlite3_extended_result_codes(d->h, 1);
	d->busy_timeout_ms = cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms
						      : ANFU_LIMIT_DB_BUSY_TIMEOUT_MS_DEFAULT;
	(void)sqlite3_busy_handler(d->h, busy_cb, d);
	/* Defensive: no writable_schema or other ways to corrupt the file
	 * through SQL; untrusted schema: triggers and views run only
	 * innocuous functions. */
	(void)sqlite3_db_config(d->h, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	(void)sqlite3_db_config(d->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	r = sq_exec(&d->base, "PRAGMA journal_mode = WAL", NULL, 0, journal_cb, &wal, NULL);
	if (r == 0 && !wal) {
		anfu_log_warn("store.sqlite", "%s: cannot switch to WAL", cfg->path);
		r = ANFU_EIO;
	}
	if (r == 0)
		r = run(d, "PRAGMA synchronous = FULL");
	if (r == 0)
		r = run(d, "PRAGMA foreign_keys = ON");
	/* Statement journals (the undo of each savepoint) and temporary
	 * tables in memory: every ledger request and transfer runs in a
	 * savepoint, and a file per savepoint was a write() per page. */
	if (r == 0)
		r = run(d, "PRAGMA temp_store = MEMORY");
	if (r == 0) {
		char sql[64];

		/* PRAGMA takes no parameters; the text is a constant number. */
		(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d",
			       ANFU_LIMIT_DB_CACHE_KIB);
		r = run(d, sql);
	}
	return r;
}

static void sq_close(struct anfu_db *db)
{
	struct sq_db *d = sq(db);

	if (!d)
		return;
	cache_clear(d);
	sq_ckpt_detach(d->ckpt);
	if (d->h && sqlite3_close(d->h) != SQLITE_OK)
		anfu_log_warn("store.sqlite", "close: %s", sqlite3_errmsg(d->h));
	/* Closing ended any transaction still open: let the next writer in. */
	wl_release(d);
	wl_detach(d->wlock);
	free(d);
}

/* Process-wide settings, before SQLite initialises itself on the first
 * open: no memory statistics (anfu reads none, and keeping them takes a
 * global mutex on every allocation of every connection). */
static pthread_once_t sq_once = PTHREAD_ONCE_INIT;

static void sq_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* The VFS the files open through: anfu's (sqlite_vfs.h), else SQLite's
 * default. */
static const char *sq_vfs(void)
{
	return anfu_sqlite_vfs_register() == 0 ? ANFU_SQLITE_VFS : NULL;
}

static int sq_open(const struct anfu_store_cfg *cfg, struct anfu_db **ret)
{
	struct sq_db *d = NULL;
	int rc, r;

	if (!cfg || !cfg->path || !ret)
		return ANFU_EINVAL;
	(void)pthread_once(&sq_once, sq_configure);
	r = create_private(cfg->path);
	if (r < 0)
		return r;
	d = anfu_xcalloc(1, sizeof(*d));
	d->base.ops = &anfu_store_sqlite_ops;
	rc = sqlite3_open_v2(cfg->path, &d->h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     sq_vfs());
	if (rc != SQLITE_OK) {
		r = fail(d, rc, "open", cfg->path);
		goto out;
	}
	r = configure(d, cfg);
	if (r < 0)
		goto out;
	/* In WAL mode now: checkpoints move to the file's checkpointer. */
	d->ckpt = sq_ckpt_attach(d->h, cfg->path);
	d->wlock = wl_attach(cfg->path);
	*ret = &d->base;
	d = NULL;
	r = 0;
out:
	sq_close(d ? &d->base : NULL);
	return r;
}

const struct anfu_store_ops anfu_store_sqlite_ops = {
	.name = "sqlite",
	.dialect = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.savepoint = sq_savepoint,
	.release = sq_release,
	.rollback_to = sq_rollback_to,
	.exec = sq_exec,
	.exec_script = sq_exec_script,
	.limit_size = sq_limit_size,
};
