/*
 * base/rand: kernel randomness and typed public identifiers.
 *
 * Identifiers draw from one getrandom(2) call of ID_POOL bytes per id
 * instead of a system call per character (22 calls per request id cost a
 * quarter of the server's CPU in bench/). Nothing is cached between calls,
 * so no random bytes outlive the id they made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/err.h"
#include "base/rand.h"

#define ID_CHARS 22 /* 22 base62 chars = 130.9 bits */
/* anfu_id_new_ordered: 9 base62 digits hold any millisecond up to 62^9
 * (about 428,000 years); the other 13 chars are random (77.4 bits). */
#define ID_TIME_CHARS 9

void anfu_rand_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "anfu: getrandom failed: %s\n", strerror(errno));
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

uint32_t anfu_rand_uniform(uint32_t bound)
{
	uint32_t x, min;

	if (bound < 2)
		return 0;
	/* Reject the low values that would make x % bound uneven. */
	min = (uint32_t)(-bound) % bound;
	do {
		anfu_rand_bytes(&x, sizeof(x));
	} while (x < min);
	return x % bound;
}

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static int prefix_ok(const char *prefix, size_t *ret_len)
{
	size_t n = strlen(prefix);

	if (n == 0 || n > 24)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (prefix[i] < 'a' || prefix[i] > 'z')
			return 0;
	*ret_len = n;
	return 1;
}

/* Bytes fetched per batch: 22 characters accept a byte with probability
 * 248/256, so 32 bytes almost always suffice and a shortfall refills. */
#define ID_POOL 32

/* Fills out[from..ID_CHARS) of the id body with uniform base62. */
static void random_chars(char *body, size_t from)
{
	unsigned char pool[ID_POOL];
	size_t used = ID_POOL, i = from;

	while (i < ID_CHARS) {
		if (used == ID_POOL) {
			anfu_rand_bytes(pool, sizeof(pool));
			used = 0;
		}
		/* 248 = 4 * 62: bytes below it map onto base62 without bias. */
		if (pool[used] < 248)
			body[i++] = b62[pool[used] % 62];
		used++;
	}
	explicit_bzero(pool, sizeof(pool));
}

int anfu_id_new(const char *prefix, char *out, size_t cap)
{
	size_t n;

	if (!prefix_ok(prefix, &n) || cap < n + 1 + ID_CHARS + 1)
		return ANFU_EINVAL;
	memcpy(out, prefix, n);
	out[n] = '_';
	random_chars(out + n + 1, 0);
	out[n + 1 + ID_CHARS] = '\0';
	return 0;
}

int anfu_id_new_ordered(const char *prefix, int64_t ms, char *out, size_t cap)
{
	uint64_t v = ms > 0 ? (uint64_t)ms : 0;
	size_t n;

	if (!prefix_ok(prefix, &n) || cap < n + 1 + ID_CHARS + 1)
		return ANFU_EINVAL;
	memcpy(out, prefix, n);
	out[n] = '_';
	/* b62 is in ASCII order, so fixed-width digits sort as the numbers. */
	for (int i = ID_TIME_CHARS - 1; i >= 0; i--) {
		out[n + 1 + (size_t)i] = b62[v % 62];
		v /= 62;
	}
	random_chars(out + n + 1, ID_TIME_CHARS);
	out[n + 1 + ID_CHARS] = '\0';
	return 0;
}

int anfu_id_valid(const char *prefix, const char *s, size_t len)
{
	size_t n;

	if (!s || !prefix_ok(prefix, &n) || len != n + 1 + ID_CHARS)
		return 0;
	if (memcmp(s, prefix, n) != 0 || s[n] != '_')
		return 0;
	for (size_t i = n + 1; i < len; i++)
		if (!strchr(b62, s[i]) || s[i] == '\0')
			return 0;
	return 1;
}
