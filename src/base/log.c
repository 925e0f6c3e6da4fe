/*
 * base/log: the structured application log and the access log.
 *
 * Lines are built in a local buffer and written with one write(2) to a
 * descriptor opened O_APPEND: the kernel appends each write whole, so lines
 * from different threads never interleave and writers need no mutual
 * exclusion; they share a read lock that only reopening takes exclusively
 * (so a descriptor is never closed under a writer). A line that cannot be
 * written is dropped (the log is not where failures are decided).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"

static pthread_rwlock_t log_mu = PTHREAD_RWLOCK_INITIALIZER;
static int app_fd = -1;
static int access_fd = -1;
static char *app_path;
static char *access_path;
static enum anfu_log_level min_level = ANFU_LOG_INFO;

static const char *level_name[] = { "debug", "info", "warn", "error" };

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* Opens both paths into new descriptors; swaps them in only if both work. */
static int open_both(const char *app, const char *access)
{
	int a = -1, b = -1;

	if (app && (a = open_log(app)) < 0)
		return ANFU_EIO;
	if (access && (b = open_log(access)) < 0) {
		if (a >= 0)
			close(a);
		return ANFU_EIO;
	}
	if (app_fd >= 0)
		close(app_fd);
	if (access_fd >= 0)
		close(access_fd);
	app_fd = a;
	access_fd = b;
	return 0;
}

int anfu_log_open(const char *app, const char *access, enum anfu_log_level min)
{
	int r;

	pthread_rwlock_wrlock(&log_mu);
	r = open_both(app, access);
	if (r == 0) {
		free(app_path);
		free(access_path);
		app_path = app ? anfu_xstrdup(app) : NULL;
		access_path = access ? anfu_xstrdup(access) : NULL;
		min_level = min;
	}
	pthread_rwlock_unlock(&log_mu);
	return r;
}

int anfu_log_reopen(void)
{
	int r;

	pthread_rwlock_wrlock(&log_mu);
	r = open_both(app_path, access_path);
	pthread_rwlock_unlock(&log_mu);
	return r;
}

void anfu_log_close(void)
{
	pthread_rwlock_wrlock(&log_mu);
	if (app_fd >= 0)
		close(app_fd);
	if (access_fd >= 0)
		close(access_fd);
	app_fd = access_fd = -1;
	free(app_path);
	free(access_path);
	app_path = access_path = NULL;
	pthread_rwlock_unlock(&log_mu);
}

static void write_line(int which_access, struct anfu_buf *b)
{
	int fd;
	ssize_t n;

	if (anfu_buf_append(b, "\n", 1) < 0) {
		/* Too long: end it anyway so the next line starts fresh. */
		b->data[b->len - 1] = '\n';
	}
	pthread_rwlock_rdlock(&log_mu);
	fd = which_access ? access_fd : app_fd;
	if (fd < 0)
		fd = STDERR_FILENO;
	do {
		n = write(fd, b->data, b->len);
	} while (n < 0 && errno == EINTR);
	pthread_rwlock_unlock(&log_mu);
}

void anfu_logf(enum anfu_log_level level, const char *event, const char *fmt, ...)
{
	char ts[32], msg[ANFU_LIMIT_LOG_MESSAGE_BYTES];
	struct anfu_buf b;
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	anfu_clock_format(anfu_clock_now_ms(), ts);
	anfu_buf_init(&b, ANFU_LIMIT_LOG_LINE_BYTES);
	(void)anfu_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts,
			       level_name[level]);
	(void)anfu_buf_append_json_escaped(&b, event, strlen(event));
	(void)anfu_buf_appends(&b, "\",\"msg\":\"");
	(void)anfu_buf_append_json_escaped(&b, msg, strlen(msg));
	(void)anfu_buf_appends(&b, "\"}");
	if (b.data)
		write_line(0, &b);
	anfu_buf_free(&b);
}

static void append_field(struct anfu_buf *b, const char *name, const char *v, int last)
{
	(void)anfu_buf_appendf(b, "\"%s\":", name);
	if (v) {
		(void)anfu_buf_append(b, "\"", 1);
		(void)anfu_buf_append_json_escaped(b, v, strlen(v));
		(void)anfu_buf_append(b, "\"", 1);
	} else {
		(void)anfu_buf_appends(b, "null");
	}
	if (!last)
		(void)anfu_buf_append(b, ",", 1);
}

void anfu_log_access(const struct anfu_access_rec *r)
{
	char ts[32];
	struct anfu_buf b;

	anfu_clock_format(r->ts_ms, ts);
	anfu_buf_init(&b, ANFU_LIMIT_LOG_LINE_BYTES);
	(void)anfu_buf_appendf(&b, "{\"ts\":\"%s\",", ts);
	append_field(&b, "request_id", r->request_id, 0);
	append_field(&b, "ip", r->client_ip, 0);
	append_field(&b, "method", r->method, 0);
	append_field(&b, "path", r->path, 0);
	(void)anfu_buf_appendf(&b,
			       "\"status\":%d,\"bytes\":%" PRIu64 ",\"duration_us\":%" PRId64 ",",
			       r->status, r->bytes, r->duration_us);
	append_field(&b, "actor", r->actor, 1);
	(void)anfu_buf_append(&b, "}", 1);
	if (b.data)
		write_line(1, &b);
	anfu_buf_free(&b);
}
