/*
 * base/str: {ptr,len} strings, UTF-8 validation and integer parsing.
 */
#include <limits.h>
#include <strings.h>

#include "base/err.h"
#include "base/str.h"

bool anfu_str_eq(struct anfu_str a, struct anfu_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool anfu_str_eqc(struct anfu_str a, const char *b)
{
	return b && anfu_str_eq(a, anfu_str_c(b));
}

bool anfu_str_caseeq(struct anfu_str a, struct anfu_str b)
{
	return a.len == b.len && (a.len == 0 || strncasecmp(a.ptr, b.ptr, a.len) == 0);
}

bool anfu_str_startswith(struct anfu_str s, const char *prefix)
{
	size_t n = strlen(prefix);

	/* memcmp must not see a NULL pointer, even for zero bytes. */
	return s.len >= n && (n == 0 || memcmp(s.ptr, prefix, n) == 0);
}

/* Length of the UTF-8 sequence starting at p (1..4), or 0 if malformed. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return c == 0 ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool anfu_utf8_valid(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t anfu_utf8_count(const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			n++;
	return n;
}

int anfu_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n;

	if (cap == 0)
		return ANFU_ELIMIT;
	n = strlen(src);
	if (n >= cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return ANFU_ELIMIT;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int anfu_parse_i64(struct anfu_str s, long long *ret)
{
	unsigned long long acc = 0;
	unsigned long long limit;
	bool neg = false;
	size_t i = 0;

	if (!s.ptr || s.len == 0)
		return ANFU_EINVAL;
	if (s.ptr[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == s.len)
		return ANFU_EINVAL;
	limit = neg ? (unsigned long long)LLONG_MAX + 1ULL : (unsigned long long)LLONG_MAX;
	for (size_t j = i; j < s.len; j++)
		if (s.ptr[j] < '0' || s.ptr[j] > '9')
			return ANFU_EINVAL;
	for (; i < s.len; i++) {
		unsigned d = (unsigned)(s.ptr[i] - '0');

		if (acc > (limit - d) / 10)
			return ANFU_ERANGE;
		acc = acc * 10 + d;
	}
	if (neg)
		*ret = acc == (unsigned long long)LLONG_MAX + 1ULL ? LLONG_MIN : -(long long)acc;
	else
		*ret = (long long)acc;
	return 0;
}
