/*
 * base/buf: a growable byte buffer with a hard maximum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

void anfu_buf_init(struct anfu_buf *b, size_t max)
{
	*b = (struct anfu_buf){ .max = max };
}

void anfu_buf_init_secret(struct anfu_buf *b, size_t max)
{
	*b = (struct anfu_buf){ .max = max, .secret = true };
}

/* Makes room for n more bytes plus the terminator. */
static int reserve(struct anfu_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (__builtin_add_overflow(b->len, n, &need) || need >= b->max)
		return ANFU_ELIMIT;
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	if (b->secret) {
		p = anfu_xmalloc(cap);
		if (b->data) {
			memcpy(p, b->data, b->len + 1);
			anfu_wipe(b->data, b->cap);
			free(b->data);
		}
	} else {
		p = anfu_xrealloc(b->data, cap);
	}
	b->data = p;
	b->cap = cap;
	ANFU_ASSERT(need < b->cap);
	return 0;
}

int anfu_buf_append(struct anfu_buf *b, const void *p, size_t n)
{
	int r = reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	ANFU_ASSERT(b->len < b->cap);
	b->data[b->len] = '\0';
	return 0;
}

int anfu_buf_appends(struct anfu_buf *b, const char *s)
{
	return anfu_buf_append(b, s, strlen(s));
}

int anfu_buf_vappendf(struct anfu_buf *b, const char *fmt, va_list ap)
{
	size_t room = b->data && b->cap > b->len ? b->cap - b->len : 0;
	char *dst = room ? b->data + b->len : NULL;
	va_list ap2;
	int n, r;

	/* Format straight into the spare room; only when it does not fit,
	 * grow and format again (one vsnprintf in the common case). */
	va_copy(ap2, ap);
	n = vsnprintf(dst, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		if (b->data)
			b->data[b->len] = '\0';
		return ANFU_EINVAL;
	}
	if ((size_t)n < room && b->len + (size_t)n < b->max) {
		b->len += (size_t)n;
		return 0;
	}
	r = reserve(b, (size_t)n);
	if (r < 0) {
		if (b->data)
			b->data[b->len] = '\0';
		return r;
	}
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	ANFU_ASSERT(b->len < b->cap);
	return 0;
}

int anfu_buf_appendf(struct anfu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = anfu_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return r;
}

int anfu_buf_append_json_escaped(struct anfu_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

		switch (c) {
		case '"': r = anfu_buf_append(b, "\\\"", 2); break;
		case '\\': r = anfu_buf_append(b, "\\\\", 2); break;
		case '\n': r = anfu_buf_append(b, "\\n", 2); break;
		case '\r': r = anfu_buf_append(b, "\\r", 2); break;
		case '\t': r = anfu_buf_append(b, "\\t", 2); break;
		default:
			r = c < 0x20 || c == 0x7f ? anfu_buf_append(b, esc, 6)
						  : anfu_buf_append(b, &s[i], 1);
		}
	}
	if (r < 0) {
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return r;
}

void anfu_buf_reset(struct anfu_buf *b)
{
	if (b->data && b->secret)
		anfu_wipe(b->data, b->len);
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void anfu_buf_free(struct anfu_buf *b)
{
	if (!b)
		return;
	if (b->data && b->secret)
		anfu_wipe(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *anfu_buf_steal(struct anfu_buf *b, size_t *ret_len)
{
	char *p = b->data;

	if (!p)
		p = anfu_xcalloc(1, 1);
	if (ret_len)
		*ret_len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
