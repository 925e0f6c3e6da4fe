/*
 * store/sqlite_ckpt: one checkpointer thread per open database file
 * (sqlite_ckpt.h says why).
 *
 * Owns the registry of checkpointers (under reg_mu) and each one's thread
 * and connection. A checkpointer lives while at least one connection of
 * its path is attached. Trusts sqlite.c to attach and detach each
 * connection once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/sqlite_ckpt.h"

struct sq_ckpt {
	char *path;
	int users;		/* attached connections (under reg_mu) */
	sqlite3 *h;		/* the thread's own connection */
	struct sq_wlock *wlock; /* the file's in-process write lock (NULL: none) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool wanted;   /* under mu: a commit found the WAL past the threshold */
	bool stopping; /* under mu */
	struct sq_ckpt *next;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_ckpt *reg;

/* BUSY: another connection is checkpointing, or a reader still reads the
 * old WAL (RESTART); the next commit past the threshold asks again. */
static void ckpt_log(struct sq_ckpt *c, int rc)
{
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		anfu_log_warn("store.sqlite", "checkpoint of %s: %s", c->path,
			      sqlite3_errmsg(c->h));
}

/* The bulk of the copying and the database file's fsync without any lock,
 * then, with the writers of this process queued behind the write lock,
 * the frames committed meanwhile and the restart of the WAL. */
static void checkpoint(struct sq_ckpt *c)
{
	ckpt_log(c, sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL));
	if (!sq_wlock_take(c->wlock, ANFU_LIMIT_DB_CKPT_LOCK_WAIT_MS))
		return;
	ckpt_log(c, sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL));
	sq_wlock_give(c->wlock);
}

static void *ckpt_main(void *ud)
{
	struct sq_ckpt *c = ud;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stopping)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stopping)
			break;
		c->wanted = false;
		pthread_mutex_unlock(&c->mu);
		checkpoint(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Called by SQLite after each commit of an attached connection, with the
 * WAL's size in pages. */
static int wal_hook(void *ud, sqlite3 *h, const char *db, int pages)
{
	struct sq_ckpt *c = ud;

	if (pages >= ANFU_LIMIT_DB_WAL_INLINE_PAGES) {
		/* The thread is far behind (or stuck behind a long reader):
		 * keep the WAL bounded the way SQLite itself would. */
		(void)sqlite3_wal_checkpoint_v2(h, db, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (pages >= ANFU_LIMIT_DB_WAL_CHECKPOINT_PAGES) {
		pthread_mutex_lock(&c->mu);
		c->wanted = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static struct sq_ckpt *ckpt_start(const char *path)
{
	struct sq_ckpt *c = anfu_xcalloc(1, sizeof(*c));

	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		anfu_log_warn("store.sqlite", "checkpointer for %s: %s", path,
			      c->h ? sqlite3_errmsg(c->h) : "out of memory");
		goto fail;
	}
	(void)sqlite3_wal_autocheckpoint(c->h, 0);
	/* Only the RESTART checkpoint waits, for readers of the old WAL. */
	(void)sqlite3_busy_timeout(c->h, ANFU_LIMIT_DB_CKPT_READER_WAIT_MS);
	/* A connection learns that the file is in WAL mode (and opens the
	 * WAL) on its first read; until then a checkpoint does nothing. */
	if (sqlite3_exec(c->h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		anfu_log_warn("store.sqlite", "checkpointer for %s: %s", path,
			      sqlite3_errmsg(c->h));
		goto fail;
	}
	c->path = anfu_xstrdup(path);
	c->wlock = sq_wlock_attach(path);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		anfu_log_warn("store.sqlite", "checkpointer for %s: no thread", path);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sq_wlock_detach(c->wlock);
		free(c->path);
		goto fail;
	}
	return c;
fail:
	(void)sqlite3_close(c->h);
	free(c);
	return NULL;
}

struct sq_ckpt *sq_ckpt_attach(sqlite3 *h, const char *path)
{
	struct sq_ckpt *c;

	pthread_mutex_lock(&reg_mu);
	for (c = reg; c; c = c->next)
		if (strcmp(c->path, path) == 0)
			break;
	if (!c) {
		c = ckpt_start(path);
		if (c) {
			c->next = reg;
			reg = c;
		}
	}
	if (c)
		c->users++;
	pthread_mutex_unlock(&reg_mu);
	if (!c)
		return NULL;
	/* Replaces SQLite's automatic checkpoint, which is itself a WAL hook. */
	(void)sqlite3_wal_hook(h, wal_hook, c);
	return c;
}

void sq_ckpt_detach(struct sq_ckpt *c)
{
	bool last;

	if (!c)
		return;
	pthread_mutex_lock(&reg_mu);
	ANFU_ASSERT(c->users > 0);
	last = --c->users == 0;
	if (last)
		for (struct sq_ckpt **pp = &reg; *pp; pp = &(*pp)->next)
			if (*pp == c) {
				*pp = c->next;
				break;
			}
	pthread_mutex_unlock(&reg_mu);
	if (!last)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	(void)pthread_join(c->thread, NULL);
	if (sqlite3_close(c->h) != SQLITE_OK)
		anfu_log_warn("store.sqlite", "checkpointer close: %s", sqlite3_errmsg(c->h));
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sq_wlock_detach(c->wlock);
	free(c->path);
	free(c);
}
