/*
 * base/log: the structured application log and the access log.
 *
 * Both are JSON lines. The application log takes an event name and a
 * printf-style message; callers never pass request bodies, passwords,
 * tokens, codes or keys to it (STYLE.md: secrets never reach a log).
 * Writes are serialised by a mutex; anfu_log_reopen() reopens both files
 * (SIGHUP, for log rotation). Before anfu_log_open() everything goes to
 * stderr.
 */
#ifndef ANFU_BASE_LOG_H
#define ANFU_BASE_LOG_H

#include <stdint.h>

enum anfu_log_level {
	ANFU_LOG_DEBUG = 0,
	ANFU_LOG_INFO = 1,
	ANFU_LOG_WARN = 2,
	ANFU_LOG_ERROR = 3,
};

/* Opens (appends to, mode 0600) the two log files; NULL means stderr.
 * The paths are copied. Returns ANFU_EIO when a file cannot be opened. */
int anfu_log_open(const char *app_path, const char *access_path, enum anfu_log_level min_level);
/* Reopens both files under their paths (async-signal-unsafe: call it from
 * the thread that handles SIGHUP, not from the handler). */
int anfu_log_reopen(void);
/* Closes the files; later lines go to stderr. */
void anfu_log_close(void);

/* One application log line: {"ts":...,"level":...,"event":...,"msg":...}. */
void anfu_logf(enum anfu_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define anfu_log_debug(ev, ...) anfu_logf(ANFU_LOG_DEBUG, (ev), __VA_ARGS__)
#define anfu_log_info(ev, ...) anfu_logf(ANFU_LOG_INFO, (ev), __VA_ARGS__)
#define anfu_log_warn(ev, ...) anfu_logf(ANFU_LOG_WARN, (ev), __VA_ARGS__)
#define anfu_log_error(ev, ...) anfu_logf(ANFU_LOG_ERROR, (ev), __VA_ARGS__)

struct anfu_access_rec {
	int64_t ts_ms;
	const char *request_id;
	const char *client_ip;
	const char *method;
	const char *path; /* path only; the query string never reaches the log */
	int status;
	uint64_t bytes;
	int64_t duration_us;
	const char *actor; /* public id of the authenticated actor, or NULL */
};

/* One access log line per request. */
void anfu_log_access(const struct anfu_access_rec *rec);

#endif
