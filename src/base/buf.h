/*
 * base/buf: a growable byte buffer with a hard maximum (curl's dynbuf idea).
 *
 * The buffer owns its memory. Appends past `max` fail with ANFU_ELIMIT and
 * leave the buffer as it was. The content is always NUL-terminated.
 */
#ifndef ANFU_BASE_BUF_H
#define ANFU_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct anfu_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	bool secret; /* wipe on growth and on free */
};

/* Initialises an empty buffer that may grow to max bytes. */
void anfu_buf_init(struct anfu_buf *b, size_t max);
/* Same, but the content is wiped whenever memory is released. */
void anfu_buf_init_secret(struct anfu_buf *b, size_t max);
int anfu_buf_append(struct anfu_buf *b, const void *p, size_t n);
int anfu_buf_appends(struct anfu_buf *b, const char *s);
int anfu_buf_appendf(struct anfu_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int anfu_buf_vappendf(struct anfu_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (quotes not included). */
int anfu_buf_append_json_escaped(struct anfu_buf *b, const char *s, size_t n);
void anfu_buf_reset(struct anfu_buf *b);
/* Frees the memory (wiping it first for secret buffers); NULL-safe. */
void anfu_buf_free(struct anfu_buf *b);
/* Hands the data over to the caller (who frees it) and resets b. */
char *anfu_buf_steal(struct anfu_buf *b, size_t *ret_len);

#endif
