/*
 * config/parse: reading the INI file with inih into struct anfu_config.
 *
 * Owns the parse: a line reader that hands inih one line at a time (so
 * every message can name its line), the key handler, and the rules that
 * make a file an error: unknown section or key, a key outside a section, a
 * repeated key, a bad value, a line over ANFU_LIMIT_CONFIG_LINE_BYTES, a NUL byte,
 * anything inih cannot parse. The first error wins and is reported as
 * "name:line: message". Trusts nothing in the text.
 *
 * inih's behaviour is set through the run-time knobs of Debian's libinih
 * (process-wide globals), so parses are serialised by a mutex; loading a
 * config is a start-up job, not a hot path.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "config/config.h"
#include "config/options.h"

/* An echo buffer: the echoed bytes, "..." and the NUL. */
#define ECHO_BYTES (ANFU_LIMIT_CONFIG_ECHO_BYTES + 8)
#define SYNTAX_ERROR "syntax error (expected [section], key = value or a comment)"

struct parse {
	struct anfu_config *c;
	struct anfu_config_tables ts; /* every table of c */
	const char *text;
	size_t len;
	size_t pos;
	int line;	 /* line being handed to inih, from 1 */
	bool line_start; /* the next byte starts a new line */
	int err_line;	 /* line of the first error we found; 0 = none */
	char msg[512];	 /* its message */
	int *seen;	 /* per option: line where it was set; 0 = not yet */
};

static pthread_mutex_t inih_mu = PTHREAD_MUTEX_INITIALIZER;

/* Heap line buffer that grows to our line limit, no continuation lines
 * (an indented key is a key), stop at the first error. */
static void inih_setup(void)
{
	static char start_comments[] = ";#";
	static char inline_comments[] = ";";

	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_initial_alloc = 256;
	ini_max_line = ANFU_LIMIT_CONFIG_LINE_BYTES + 3;
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = inline_comments;
	ini_start_comment_prefixes = start_comments;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
}

/* Records the first error, on the current line; returns 0 (inih: error). */
__attribute__((format(printf, 2, 3))) static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err_line)
		return 0;
	p->err_line = p->line > 0 ? p->line : 1;
	va_start(ap, fmt);
	(void)vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/* A "[name]" line naming no section of the table is an error here, since
 * inih only calls the handler for keys and would let an empty unknown
 * section pass. */
static bool check_section_line(struct parse *p, const char *s, size_t len)
{
	char name[ANFU_LIMIT_CONFIG_SECTION_BYTES], e[ECHO_BYTES];
	const char *close;
	size_t n;

	if (p->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f')) {
		s++;
		len--;
	}
	if (len == 0 || *s != '[')
		return true;
	close = memchr(s, ']', len);
	if (!close)
		return true; /* inih reports the syntax error */
	n = (size_t)(close - s - 1);
	memcpy(name, s + 1, n < sizeof(name) ? n : sizeof(name) - 1);
	name[n < sizeof(name) ? n : sizeof(name) - 1] = '\0';
	if (n < sizeof(name) && anfu_config_section_known(&p->ts, name))
		return true;
	return fail(p, "unknown section [%s]", anfu_config_echo(name, e, sizeof(e)));
}

/* Checks a whole line before inih sees any of it. */
static bool start_line(struct parse *p)
{
	const char *s = p->text + p->pos;
	size_t avail = p->len - p->pos;
	const char *nl = memchr(s, '\n', avail);
	size_t len = nl ? (size_t)(nl - s) : avail;

	p->line++;
	if (len > ANFU_LIMIT_CONFIG_LINE_BYTES)
		return fail(p, "line longer than %d bytes", ANFU_LIMIT_CONFIG_LINE_BYTES);
	if (memchr(s, '\0', len))
		return fail(p, "NUL byte in the line");
	return check_section_line(p, s, len);
}

/* inih's fgets-like reader: at most num-1 bytes, never past a newline. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *s;
	const char *nl;
	size_t n;

	if (p->err_line || p->pos >= p->len || num < 2)
		return NULL;
	if (p->line_start && !start_line(p))
		return NULL;
	s = p->text + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - s) + 1 : p->len - p->pos;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, s, n);
	str[n] = '\0';
	p->pos += n;
	p->line_start = str[n - 1] == '\n';
	return str;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	const struct anfu_config_option *o;
	char e1[ECHO_BYTES], e2[ECHO_BYTES];
	size_t t = 0, i = 0;

	if (p->err_line)
		return 0;
	if (!*key)
		return fail(p, "%s", SYNTAX_ERROR);
	if (!*section)
		return fail(p, "key '%s' is outside any section",
			    anfu_config_echo(key, e1, sizeof(e1)));
	o = anfu_config_option_find(&p->ts, section, key, &t, &i);
	if (!o && !anfu_config_section_known(&p->ts, section))
		return fail(p, "unknown section [%s]", anfu_config_echo(section, e1, sizeof(e1)));
	if (!o)
		return fail(p, "unknown key '%s' in section [%s]",
			    anfu_config_echo(key, e1, sizeof(e1)),
			    anfu_config_echo(section, e2, sizeof(e2)));
	if (p->seen[i])
		return fail(p, "repeated key '%s' in section [%s] (first set on line %d)", key,
			    section, p->seen[i]);
	if (anfu_config_option_set(anfu_config_table_data(p->c, t), o, value, p->msg,
				   sizeof(p->msg)) < 0) {
		p->err_line = p->line;
		return 0;
	}
	p->seen[i] = p->line;
	return 1;
}

/* Runs inih over the text; returns 0 or ANFU_EINVAL with p->err_line and
 * p->msg set. */
static int run_inih(struct parse *p)
{
	int r;

	pthread_mutex_lock(&inih_mu);
	inih_setup();
	r = ini_parse_stream(read_line, p, on_key, p);
	pthread_mutex_unlock(&inih_mu);
	if (r == -2) {
		fprintf(stderr, "anfu: out of memory parsing the configuration\n");
		abort();
	}
	/* inih's own syntax errors carry only its line number; an earlier one
	 * than ours wins. */
	if (r > 0 && (!p->err_line || r < p->err_line)) {
		p->err_line = r;
		(void)snprintf(p->msg, sizeof(p->msg), "%s", SYNTAX_ERROR);
	}
	return p->err_line ? ANFU_EINVAL : 0;
}

static void report(char *errbuf, size_t errlen, const char *name, int line, const char *msg)
{
	if (!errbuf || errlen == 0)
		return;
	if (line > 0)
		(void)snprintf(errbuf, errlen, "%s:%d: %s", name, line, msg);
	else
		(void)snprintf(errbuf, errlen, "%s: %s", name, msg);
}

int anfu_config_load_text(const char *text, size_t len, const char *name, const char *data_dir,
			  const struct anfu_config_table *const *tables, size_t ntables,
			  struct anfu_config **ret, char *errbuf, size_t errlen)
{
	struct parse p = { .text = text, .len = len, .line_start = true };
	int r, line = 0;

	name = name ? name : "config";
	if ((!text && len > 0) || !ret) {
		report(errbuf, errlen, name, 0, "no text or no result pointer");
		return ANFU_EINVAL;
	}
	if (len > ANFU_LIMIT_CONFIG_FILE_BYTES) {
		(void)snprintf(p.msg, sizeof(p.msg), "file larger than %d bytes",
			       ANFU_LIMIT_CONFIG_FILE_BYTES);
		r = ANFU_EINVAL;
		goto out;
	}
	r = anfu_config_tables_make(tables, ntables, &p.ts);
	if (r < 0) {
		(void)snprintf(p.msg, sizeof(p.msg), "bad option tables (a section twice?)");
		goto out;
	}
	r = anfu_config_new(data_dir, &p.ts, &p.c);
	if (r < 0) {
		(void)snprintf(p.msg, sizeof(p.msg), "cannot use data directory '%s'",
			       data_dir ? data_dir : "(none)");
		goto out;
	}
	p.seen = anfu_xcalloc(anfu_config_tables_noptions(&p.ts), sizeof(p.seen[0]));
	r = run_inih(&p);
	if (r < 0) {
		line = p.err_line;
		goto out;
	}
	r = anfu_config_finish(p.c, p.seen, &line, p.msg, sizeof(p.msg));
	if (r < 0)
		goto out;
	free(p.c->path);
	p.c->path = anfu_xstrdup(name);
	*ret = p.c;
	p.c = NULL;
out:
	if (r < 0)
		report(errbuf, errlen, name, line, p.msg);
	free(p.seen);
	anfu_config_free(p.c);
	return r;
}

/* Reads all of path (at most ANFU_LIMIT_CONFIG_FILE_BYTES bytes) into *ret. */
static int read_file(const char *path, char **ret, size_t *ret_len, char *msg, size_t msglen)
{
	char *buf = NULL, ebuf[128];
	size_t len = 0;
	struct stat st;
	int fd = -1, r = ANFU_EIO;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		(void)snprintf(msg, msglen, "cannot open: %s",
			       strerror_r(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(msg, msglen, "not a regular file");
		goto out;
	}
	/* One byte more than allowed, so an oversized file is noticed. */
	buf = anfu_xmalloc(ANFU_LIMIT_CONFIG_FILE_BYTES + 1);
	while (len <= ANFU_LIMIT_CONFIG_FILE_BYTES) {
		n = read(fd, buf + len, ANFU_LIMIT_CONFIG_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)snprintf(msg, msglen, "cannot read: %s",
				       strerror_r(errno, ebuf, sizeof(ebuf)));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int anfu_config_load(const char *path, const char *data_dir,
		     const struct anfu_config_table *const *tables, size_t ntables,
		     struct anfu_config **ret, char *errbuf, size_t errlen)
{
	char *text = NULL, msg[256];
	size_t len = 0;
	int r;

	if (!path || !ret) {
		report(errbuf, errlen, "config", 0, "no path or no result pointer");
		return ANFU_EINVAL;
	}
	r = read_file(path, &text, &len, msg, sizeof(msg));
	if (r < 0) {
		report(errbuf, errlen, path, 0, msg);
		goto out;
	}
	r = anfu_config_load_text(text, len, path, data_dir, tables, ntables, ret, errbuf, errlen);
out:
	free(text);
	return r;
}
