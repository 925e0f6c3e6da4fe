/*
 * config/config: the life of a struct anfu_config: built from the tables'
 * defaults, finished (cross-option rules, paths resolved against the data
 * directory) and freed.
 *
 * Owns every string in the struct and the modules' structs. Trusts the
 * option tables (a default that does not parse is a bug and aborts) and
 * the data directory it is given (any directory name is accepted; it need
 * not exist yet).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "config/config.h"
#include "store/store.h"
#include "config/options.h"

/* dir + "/" + rel, without doubling the slash after "/". */
static char *join(const char *dir, const char *rel)
{
	size_t dl = strlen(dir), rl = strlen(rel);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	char *p = anfu_xmalloc(dl + rl + 2);

	memcpy(p, dir, dl);
	if (!slash)
		p[dl++] = '/';
	memcpy(p + dl, rel, rl + 1);
	return p;
}

/* Drops trailing slashes, keeping "/" itself. */
static void trim_slashes(char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
}

/* The absolute form of dir: realpath() when it exists, else joined to the
 * working directory (the directory may be created later by `anfu init`). */
static int absolute_dir(const char *dir, char **ret)
{
	char *p = NULL, *cwd = NULL;

	if (!dir || !*dir)
		return ANFU_EINVAL;
	p = realpath(dir, NULL);
	if (!p && dir[0] == '/') {
		p = anfu_xstrdup(dir);
	} else if (!p) {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return ANFU_EIO;
		while (dir[0] == '.' && dir[1] == '/')
			dir += 2 + strspn(dir + 2, "/");
		p = join(cwd, dir);
		free(cwd);
	}
	trim_slashes(p);
	*ret = p;
	return 0;
}

void *anfu_config_table_data(struct anfu_config *c, size_t i)
{
	return c->table[i]->size ? c->table_data[i] : (void *)c;
}

const void *anfu_config_table_cdata(const struct anfu_config *c, size_t i)
{
	return c->table[i]->size ? c->table_data[i] : (const void *)c;
}

const void *anfu_config_module(const struct anfu_config *c, const struct anfu_config_table *t)
{
	if (!c || !t || t->size == 0)
		return NULL;
	for (size_t i = 0; i < c->ntables; i++)
		if (c->table[i] == t)
			return c->table_data[i];
	return NULL;
}

/* Sets every option of table i of c to its default. */
static void set_defaults(struct anfu_config *c, size_t i, struct anfu_buf *def)
{
	const struct anfu_config_table *t = c->table[i];
	char msg[256];
	int r;

	for (size_t k = 0; k < t->noptions; k++) {
		const struct anfu_config_option *o = &t->options[k];

		anfu_buf_reset(def);
		r = anfu_config_option_default(o, def);
		if (r == 0)
			r = anfu_config_option_set(anfu_config_table_data(c, i), o,
						   def->data ? def->data : "", msg, sizeof(msg));
		/* The tables are ours: a default that does not parse is a bug. */
		ANFU_ASSERT(r == 0);
	}
}

int anfu_config_new(const char *data_dir, const struct anfu_config_tables *ts,
		    struct anfu_config **ret)
{
	struct anfu_config *c = NULL;
	struct anfu_buf def;
	int r;

	if (!ts || ts->n > sizeof(c->table) / sizeof(c->table[0]))
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	c->path = anfu_xstrdup("");
	for (size_t i = 0; i < ts->n; i++) {
		c->table[i] = ts->t[i];
		if (ts->t[i]->size)
			c->table_data[i] = anfu_xcalloc(1, ts->t[i]->size);
	}
	c->ntables = ts->n;
	r = absolute_dir(data_dir, &c->data_dir);
	if (r < 0)
		goto out;
	anfu_buf_init(&def, ANFU_LIMIT_CONFIG_LINE_BYTES);
	for (size_t i = 0; i < c->ntables; i++)
		set_defaults(c, i, &def);
	anfu_buf_free(&def);
	*ret = c;
	c = NULL;
	r = 0;
out:
	anfu_config_free(c);
	return r;
}

/* Flat index of a platform option (the first table's). */
static int option_index(const char *section, const char *key)
{
	const struct anfu_config_table *t = &anfu_config_platform;

	for (size_t i = 0; i < t->noptions; i++)
		if (strcmp(t->options[i].section, section) == 0 &&
		    strcmp(t->options[i].key, key) == 0)
			return (int)i;
	ANFU_ASSERT(!"every platform option looked up by name exists");
	abort();
}

/* True when a and b (address literals) are equal, or either is a wildcard
 * that also covers the other (0.0.0.0 for IPv4, :: for both). */
static bool addresses_overlap(const char *a, const char *b)
{
	static const uint8_t zero[16];
	uint8_t x[16] = { 0 }, y[16] = { 0 };
	int fx = inet_pton(AF_INET, a, x) == 1 ? AF_INET : AF_INET6;
	int fy = inet_pton(AF_INET, b, y) == 1 ? AF_INET : AF_INET6;
	bool wx, wy;

	if (fx == AF_INET6)
		(void)inet_pton(AF_INET6, a, x);
	if (fy == AF_INET6)
		(void)inet_pton(AF_INET6, b, y);
	wx = memcmp(x, zero, sizeof(zero)) == 0;
	wy = memcmp(y, zero, sizeof(zero)) == 0;
	if (fx == fy)
		return wx || wy || memcmp(x, y, sizeof(x)) == 0;
	return (fx == AF_INET6 && wx) || (fy == AF_INET6 && wy);
}

/* admin.port may not equal http.port where both listeners would bind. */
static int check_ports(const struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		       size_t msglen)
{
	static const char *const blame[][2] = {
		{ "http", "listen" },  { "http", "port" },  { "admin", "enabled" },
		{ "admin", "listen" }, { "admin", "port" },
	};
	int line = 0;

	if (!c->admin.enabled || c->http.port == 0 || c->admin.port != c->http.port ||
	    !addresses_overlap(c->http.listen, c->admin.listen))
		return 0;
	for (size_t i = 0; i < sizeof(blame) / sizeof(blame[0]); i++) {
		int l = lines ? lines[option_index(blame[i][0], blame[i][1])] : 0;

		if (l > line)
			line = l;
	}
	(void)snprintf(msg, msglen,
		       "admin.port %lld is http.port too; the admin listener needs its "
		       "own port on an overlapping address",
		       (long long)c->admin.port);
	*ret_line = line;
	return ANFU_EINVAL;
}

/* Empty paths become the table's default inside the data directory and
 * relative ones are taken from the data directory. */
static void resolve_paths(struct anfu_config *c)
{
	for (size_t t = 0; t < c->ntables; t++) {
		for (size_t i = 0; i < c->table[t]->noptions; i++) {
			const struct anfu_config_option *o = &c->table[t]->options[i];
			char **p = (char **)((char *)anfu_config_table_data(c, t) + o->offset);
			char *abs;

			if (o->type != ANFU_OPT_PATH || (*p)[0] == '/')
				continue;
			abs = join(c->data_dir, (*p)[0] ? *p : o->path_default);
			free(*p);
			*p = abs;
		}
	}
}

/* A PostgreSQL dsn must parse and carry no password (nor sslmode, which
 * database.sslmode says); the message never quotes the dsn. */
static int check_dsn(const struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		     size_t msglen)
{
	if (strcmp(c->database.backend, "postgresql") != 0)
		return 0;
	if (anfu_store_pg_check_dsn(c->database.dsn, msg, msglen) < 0) {
		*ret_line = lines ? lines[option_index("database", "dsn")] : 0;
		return ANFU_EINVAL;
	}
	if (anfu_config_pg_owner(c) &&
	    anfu_store_pg_check_dsn(c->database.owner_dsn, msg, msglen) < 0) {
		*ret_line = lines ? lines[option_index("database", "owner_dsn")] : 0;
		return ANFU_EINVAL;
	}
	return 0;
}

bool anfu_config_pg_owner(const struct anfu_config *c)
{
	return strcmp(c->database.backend, "postgresql") == 0 &&
	       strcmp(c->database.owner_dsn, "none") != 0;
}

int anfu_config_finish(struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		       size_t msglen)
{
	int line = 0, r;

	r = check_ports(c, lines, &line, msg, msglen);
	if (r == 0)
		r = check_dsn(c, lines, &line, msg, msglen);
	if (r < 0) {
		*ret_line = line;
		return r;
	}
	resolve_paths(c);
	return 0;
}

int anfu_config_defaults(const char *data_dir, const struct anfu_config_table *const *tables,
			 size_t ntables, struct anfu_config **ret)
{
	struct anfu_config_tables ts;
	struct anfu_config *c = NULL;
	char msg[256];
	int line = 0, r;

	if (!ret)
		return ANFU_EINVAL;
	r = anfu_config_tables_make(tables, ntables, &ts);
	if (r < 0)
		return r;
	r = anfu_config_new(data_dir, &ts, &c);
	if (r < 0)
		goto out;
	r = anfu_config_finish(c, NULL, &line, msg, sizeof(msg));
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	anfu_config_free(c);
	return r;
}

void anfu_config_free(struct anfu_config *c)
{
	if (!c)
		return;
	for (size_t t = 0; t < c->ntables; t++) {
		for (size_t i = 0; i < c->table[t]->noptions; i++)
			anfu_config_option_clear(anfu_config_table_data(c, t),
						 &c->table[t]->options[i]);
		free(c->table_data[t]);
	}
	free(c->path);
	free(c->data_dir);
	free(c);
}
