/*
 * base/str: {ptr,len} strings for bytes that came from the network.
 *
 * A struct anfu_str never owns its bytes and is not assumed NUL-terminated,
 * except where a function says so (arena copies are terminated for libraries
 * that need C strings).
 */
#ifndef ANFU_BASE_STR_H
#define ANFU_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct anfu_str {
	const char *ptr;
	size_t len;
};

#define ANFU_STR(lit) ((struct anfu_str){ (lit), sizeof(lit) - 1 })

static inline struct anfu_str anfu_str_c(const char *s)
{
	return (struct anfu_str){ s, s ? strlen(s) : 0 };
}

/* True when both strings have the same bytes (not constant time). */
bool anfu_str_eq(struct anfu_str a, struct anfu_str b);
/* True when a equals the C string b. */
bool anfu_str_eqc(struct anfu_str a, const char *b);
/* ASCII case-insensitive equality. */
bool anfu_str_caseeq(struct anfu_str a, struct anfu_str b);
/* True when s starts with the C string prefix. */
bool anfu_str_startswith(struct anfu_str s, const char *prefix);

/* True when the bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF) and contain no NUL. */
bool anfu_utf8_valid(const char *p, size_t len);
/* Number of code points in valid UTF-8 text. */
size_t anfu_utf8_count(const char *p, size_t len);

/* Copies at most cap-1 bytes of src and terminates; returns ANFU_ELIMIT
 * when src did not fit (dst then holds a truncated, terminated copy). */
int anfu_strlcpy(char *dst, const char *src, size_t cap);

/* Parses a decimal int64 from all of s (optional leading '-'); returns
 * ANFU_EINVAL on anything else and ANFU_ERANGE on overflow. */
int anfu_parse_i64(struct anfu_str s, long long *ret);

#endif
