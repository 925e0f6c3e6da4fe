/*
 * config/config: the life of a struct anfu_config: built from the table's
 * defaults, finished (cross-option rules, paths resolved against the data
 * directory) and freed.
 *
 * Owns every string in the struct. Trusts the option table (a default that
 * does not parse is a bug and aborts) and the data directory it is given
 * (any directory name is accepted; it need not exist yet).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "config/config.h"
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

int anfu_config_new(const char *data_dir, struct anfu_config **ret)
{
	struct anfu_config *c = NULL;
	struct anfu_buf def;
	char msg[256];
	int r;

	c = anfu_xcalloc(1, sizeof(*c));
	c->path = anfu_xstrdup("");
	r = absolute_dir(data_dir, &c->data_dir);
	if (r < 0)
		goto out;
	anfu_buf_init(&def, ANFU_CONFIG_LINE_MAX);
	for (size_t i = 0; i < anfu_config_noptions; i++) {
		const struct anfu_config_option *o = &anfu_config_options[i];

		anfu_buf_reset(&def);
		r = anfu_config_option_default(o, &def);
		if (r == 0)
			r = anfu_config_option_set(c, o, def.data ? def.data : "", msg,
						   sizeof(msg));
		/* The table is ours: a default that does not parse is a bug. */
		assert(r == 0);
		if (r < 0)
			abort();
	}
	anfu_buf_free(&def);
	*ret = c;
	c = NULL;
	r = 0;
out:
	anfu_config_free(c);
	return r;
}

static int option_index(const char *section, const char *key)
{
	const struct anfu_config_option *o = anfu_config_option_find(section, key);

	assert(o);
	return (int)(o - anfu_config_options);
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
	for (size_t i = 0; i < anfu_config_noptions; i++) {
		const struct anfu_config_option *o = &anfu_config_options[i];
		char **p = (char **)((char *)c + o->offset);
		char *abs;

		if (o->type != ANFU_OPT_PATH || (*p)[0] == '/')
			continue;
		abs = join(c->data_dir, (*p)[0] ? *p : o->path_default);
		free(*p);
		*p = abs;
	}
}

int anfu_config_finish(struct anfu_config *c, const int *lines, int *ret_line, char *msg,
		       size_t msglen)
{
	int line = 0, r;

	r = check_ports(c, lines, &line, msg, msglen);
	if (r < 0) {
		*ret_line = line;
		return r;
	}
	resolve_paths(c);
	return 0;
}

int anfu_config_defaults(const char *data_dir, struct anfu_config **ret)
{
	struct anfu_config *c = NULL;
	char msg[256];
	int line = 0, r;

	if (!ret)
		return ANFU_EINVAL;
	r = anfu_config_new(data_dir, &c);
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
	for (size_t i = 0; i < anfu_config_noptions; i++)
		anfu_config_option_clear(c, &anfu_config_options[i]);
	free(c->path);
	free(c->data_dir);
	free(c);
}
