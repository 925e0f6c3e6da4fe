/*
 * store/pool: one database connection per thread.
 *
 * Owns a copy of the store configuration and every connection opened
 * through anfu_store_db(). A connection is created on a thread's first
 * call and kept in thread-specific data, so a thread always gets the same
 * one; all of them are also on a list so anfu_store_free() can close them.
 * A thread that exits closes its own connection. With a pool size, a
 * thread beyond it gets ANFU_EBUSY instead of a connection (a PostgreSQL
 * server has a connection limit of its own to protect). The password is
 * wiped when the store is freed. In test-hook builds a test may have
 * another opener open the new connections (a wrapper of the backend,
 * tests/unit/faultstore.c). Trusts callers to free the store only after
 * every thread using it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/limits.h"
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
	char *dsn;
	char *password; /* secret: wiped on free */
	char *sslmode;
	int busy_timeout_ms;
	int statement_timeout_ms;
	int pool_size;
	const struct anfu_store_ops *opener; /* test hook: NULL, or who opens */
	pthread_key_t key;
	pthread_mutex_t mu; /* guards conns and nconns */
	struct conn *conns;
	int nconns;
};

static char *dup_or_null(const char *s)
{
	return s ? anfu_xstrdup(s) : NULL;
}

static void store_strings_free(struct anfu_store *s)
{
	free(s->backend);
	free(s->path);
	free(s->dsn);
	if (s->password)
		anfu_wipe(s->password, strlen(s->password));
	free(s->password);
	free(s->sslmode);
}

static void unlink_conn(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->s->nconns--;
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

/* Reads a password file: a regular file (not a link) that group and
 * others cannot touch, as for private keys. *ret is NULL when the file
 * does not exist. The password is the first line. */
static int read_password_file(const char *path, char **ret)
{
	char buf[ANFU_LIMIT_DB_PASSWORD_BYTES + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, r = ANFU_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (fd < 0) {
		anfu_log_error("store.new", "password_file %s: %m", path);
		return errno == ELOOP ? ANFU_EPERM : ANFU_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		anfu_log_error("store.new", "password_file %s: not a regular file", path);
		r = ANFU_EPERM;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		anfu_log_error("store.new",
			       "password_file %s: group or others have access (chmod 600)", path);
		r = ANFU_EPERM;
		goto out;
	}
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	if (len > ANFU_LIMIT_DB_PASSWORD_BYTES) {
		anfu_log_error("store.new", "password_file %s: longer than %d bytes", path,
			       ANFU_LIMIT_DB_PASSWORD_BYTES);
		r = ANFU_ELIMIT;
		goto out;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*ret = anfu_xstrdup(buf);
	r = 0;
out:
	anfu_wipe(buf, sizeof(buf));
	(void)close(fd);
	return r;
}

int anfu_store_new(const struct anfu_store_cfg *cfg, struct anfu_store **ret)
{
	struct anfu_store *s;
	char *pw = NULL;
	int r;

	if (!cfg || !cfg->path || !ret || cfg->pool_size < 0)
		return ANFU_EINVAL;
	if (cfg->backend && strcmp(cfg->backend, "postgresql") == 0 && !cfg->password &&
	    cfg->password_file) {
		r = read_password_file(cfg->password_file, &pw);
		if (r < 0)
			return r;
	}
	s = anfu_xcalloc(1, sizeof(*s));
	s->backend = anfu_xstrdup(cfg->backend ? cfg->backend : "sqlite");
	s->path = anfu_xstrdup(cfg->path);
	s->dsn = dup_or_null(cfg->dsn);
	s->password = pw ? pw : dup_or_null(cfg->password);
	s->sslmode = dup_or_null(cfg->sslmode);
	s->busy_timeout_ms = cfg->busy_timeout_ms;
	s->statement_timeout_ms = cfg->statement_timeout_ms;
	s->pool_size = cfg->pool_size;
	if (pthread_key_create(&s->key, conn_release) != 0) {
		anfu_log_error("store.new", "no thread-specific key left");
		store_strings_free(s);
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
	store_strings_free(s);
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
	cfg = (struct anfu_store_cfg){ .backend = s->backend,
				       .path = s->path,
				       .busy_timeout_ms = s->busy_timeout_ms,
				       .dsn = s->dsn,
				       .password = s->password,
				       .sslmode = s->sslmode,
				       .statement_timeout_ms = s->statement_timeout_ms };
	/* The slot is taken before connecting, so threads racing for the
	 * last one cannot both get it. */
	(void)pthread_mutex_lock(&s->mu);
	if (s->pool_size > 0 && s->nconns >= s->pool_size) {
		(void)pthread_mutex_unlock(&s->mu);
		anfu_log_warn("store.db", "every one of the %d database connections is in use",
			      s->pool_size);
		return ANFU_EBUSY;
	}
	s->nconns++;
	(void)pthread_mutex_unlock(&s->mu);
	r = store_open(s, &cfg, &db);
	if (r < 0) {
		(void)pthread_mutex_lock(&s->mu);
		s->nconns--;
		(void)pthread_mutex_unlock(&s->mu);
		return r;
	}
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
