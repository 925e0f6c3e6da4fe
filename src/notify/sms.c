/*
 * notify/sms: SMS gateways, and the built-in simulator.
 *
 * Owns the table of gateways this build has (only "simulator": no real
 * gateway can exist on a test machine; a connector implements struct
 * anfu_sms_gateway) and the simulator's outbox file: JSON lines
 *   {"ts_ms":<ms>,"to":"<phone>","text":"<text>","id":"<message id>"}
 * appended with O_APPEND in one write and fsync'd, mode 0600 in a
 * directory created 0700, since the outbox holds codes and phone numbers.
 * Trusts the path from the configuration; refuses to follow a symlink at
 * the file itself or to append to anything but a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "config/config.h"
#include "notify/internal.h"

/* What the simulator needs for one message. */
struct sim_call {
	const char *outbox;
	const char *id;
};

static int sim_send(void *ud, const char *phone, const char *text)
{
	const struct sim_call *c = ud;

	return notify_sms_outbox_append(c->outbox, c->id, phone, text, anfu_clock_now_ms());
}

bool notify_sms_gateway_known(const char *name)
{
	return name && strcmp(name, "simulator") == 0;
}

/* See internal.h. The gateway is built per message, so its ud can carry
 * the message id into the simulator's line. */
int notify_sms_send(const struct anfu_config *cfg, const struct notify_msg *m, char *err,
		    size_t errcap)
{
	struct sim_call call;
	struct anfu_sms_gateway gw = { "simulator", sim_send, &call };
	int r;

	if (!cfg || !m || !err || errcap == 0)
		return ANFU_EINVAL;
	if (!notify_sms_gateway_known(cfg->sms.gateway) || !cfg->sms.outbox) {
		(void)snprintf(err, errcap, "sms: no gateway configured");
		return ANFU_EIO;
	}
	call = (struct sim_call){ cfg->sms.outbox, m->id };
	r = gw.send(gw.ud, m->target, m->body);
	if (r < 0)
		(void)snprintf(err, errcap, "sms: gateway %s: %s", gw.name, anfu_strerror(r));
	return r == 0 ? 0 : ANFU_EIO;
}

/* ---- the outbox file ------------------------------------------------------ */

/* Creates the missing directories above path, each 0700. */
static int make_parents(const char *path)
{
	char dir[ANFU_LIMIT_NOTIFY_SMS_PATH_BYTES];
	size_t len = strnlen(path, sizeof(dir));

	if (len == 0 || len >= sizeof(dir))
		return ANFU_EINVAL;
	memcpy(dir, path, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return ANFU_EIO;
		dir[i] = '/';
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ANFU_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int format_line(struct anfu_buf *b, const char *id, const char *phone, const char *text,
		       int64_t ts_ms)
{
	int r = anfu_buf_appendf(b, "{\"ts_ms\":%lld,\"to\":\"", (long long)ts_ms);

	if (r == 0)
		r = anfu_buf_append_json_escaped(b, phone, strlen(phone));
	if (r == 0)
		r = anfu_buf_appends(b, "\",\"text\":\"");
	if (r == 0)
		r = anfu_buf_append_json_escaped(b, text, strlen(text));
	if (r == 0)
		r = anfu_buf_appends(b, "\",\"id\":\"");
	if (r == 0)
		r = anfu_buf_append_json_escaped(b, id, strlen(id));
	if (r == 0)
		r = anfu_buf_appends(b, "\"}\n");
	return r;
}

/* See internal.h. */
int notify_sms_outbox_append(const char *path, const char *id, const char *phone, const char *text,
			     int64_t ts_ms)
{
	struct anfu_buf line;
	struct stat st;
	int fd = -1, r;

	if (!path || !id || !phone || !text)
		return ANFU_EINVAL;
	anfu_buf_init_secret(&line, ANFU_LIMIT_NOTIFY_SMS_LINE_BYTES);
	r = format_line(&line, id, phone, text, ts_ms);
	if (r < 0)
		goto out;
	r = make_parents(path);
	if (r < 0)
		goto out;
	r = ANFU_EIO;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)
		goto out;
	r = write_all(fd, line.data, line.len);
	if (r == 0 && fsync(fd) != 0)
		r = ANFU_EIO;
out:
	if (r < 0)
		anfu_log_error("notify.sms", "simulator outbox: %s",
			       fd < 0 && r == ANFU_EIO ? strerror(errno) : anfu_strerror(r));
	if (fd >= 0)
		(void)close(fd);
	anfu_buf_free(&line);
	return r;
}
