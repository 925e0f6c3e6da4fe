/*
 * store/pool: one database connection per thread.
 *
 * Owns a copy of the store configuration and every connection opened
 * through anfu_store_db(). A connection is created on a thread's first
 * call and kept in thread-specific data, so a thread always gets the same
 * one; all of them are also on a list so anfu_store_free() can close them.
 * A thread that exits closes its own connection. In test-hook builds a
 * test may have another opener open the new connections (a wrapper of the
 * backend, tests/unit/faultstore.c). Trusts callers to free the store
 * only after every thread using it is gone.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store.h"

struct conn {
	struct anfu_store *s;
	struct anfu_db *db;
	struct conn *prev, *next;
};

struct anfu_store {
	char *backend;
	char *path;
	int busy_timeout_ms;
	const struct anfu_store_ops *opener; /* test hook: NULL, or who opens */
	pthread_key_t key;
	pthread_mutex_t mu; /* guards conns */
	struct conn *conns;
};

static void unlink_conn(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Thread-exit destructor: the thread's connection goes with it. */
static void conn_release(void *p)
{
	struct conn *c = p;
	struct anfu_store *s = c->s;

	(void)pthread_mutex_lock(&s->mu);
	unlink_conn(c);
	(void)pthread_mutex_unlock(&s->mu);
	anfu_db_close(c->db);
	free(c);
}

int anfu_store_new(const struct anfu_store_cfg *cfg, struct anfu_store **ret)
{
	struct anfu_store *s;

	if (!cfg || !cfg->path || !ret)
		return ANFU_EINVAL;
	s = anfu_xcalloc(1, sizeof(*s));
	s->backend = anfu_xstrdup(cfg->backend ? cfg->backend : "sqlite");
	s->path = anfu_xstrdup(cfg->path);
	s->busy_timeout_ms = cfg->busy_timeout_ms;
	if (pthread_key_create(&s->key, conn_release) != 0) {
		anfu_log_error("store.new", "no thread-specific key left");
		free(s->backend);
		free(s->path);
		free(s);
		return ANFU_EINTERNAL;
	}
	(void)pthread_mutex_init(&s->mu, NULL);
	*ret = s;
	return 0;
}

void anfu_store_free(struct anfu_store *s)
{
	struct conn *c;

	if (!s)
		return;
	/* Deleting the key first means no destructor can run on our list. */
	(void)pthread_key_delete(s->key);
	c = s->conns;
	while (c) {
		struct conn *next = c->next;

		anfu_db_close(c->db);
		free(c);
		c = next;
	}
	(void)pthread_mutex_destroy(&s->mu);
	free(s->backend);
	free(s->path);
	free(s);
}

#ifdef ANFU_TEST_HOOKS
void anfu_store_set_opener(struct anfu_store *s, const struct anfu_store_ops *ops)
{
	(void)pthread_mutex_lock(&s->mu);
	s->opener = ops;
	(void)pthread_mutex_unlock(&s->mu);
}
#endif

/* Opens a connection: through the backend cfg names, or the test's opener. */
static int store_open(struct anfu_store *s, const struct anfu_store_cfg *cfg, struct anfu_db **ret)
{
	const struct anfu_store_ops *ops;

	(void)pthread_mutex_lock(&s->mu);
	ops = s->opener;
	(void)pthread_mutex_unlock(&s->mu);
	return ops ? ops->open(cfg, ret) : anfu_db_open(cfg, ret);
}

int anfu_store_db(struct anfu_store *s, struct anfu_db **ret)
{
	struct anfu_store_cfg cfg;
	struct anfu_db *db = NULL;
	struct conn *c;
	int r;

	if (!s || !ret)
		return ANFU_EINVAL;
	c = pthread_getspecific(s->key);
	if (c) {
		*ret = c->db;
		return 0;
	}
	cfg = (struct anfu_store_cfg){ s->backend, s->path, s->busy_timeout_ms };
	r = store_open(s, &cfg, &db);
	if (r < 0)
		return r;
	c = anfu_xcalloc(1, sizeof(*c));
	c->s = s;
	c->db = db;
	(void)pthread_mutex_lock(&s->mu);
	c->next = s->conns;
	if (c->next)
		c->next->prev = c;
	s->conns = c;
	(void)pthread_mutex_unlock(&s->mu);
	if (pthread_setspecific(s->key, c) != 0) {
		anfu_log_error("store.db", "cannot keep the thread's connection");
		conn_release(c);
		return ANFU_EINTERNAL;
	}
	*ret = db;
	return 0;
}
