/*
 * base/rand: random bytes and typed public identifiers.
 *
 * Bytes come from getrandom(2) (the kernel CSPRNG); failure aborts, since
 * nothing can continue safely without randomness. Public identifiers are
 * "<prefix>_" + 22 base62 characters (>= 128 random bits), never sequential.
 */
#ifndef ANFU_BASE_RAND_H
#define ANFU_BASE_RAND_H

#include <stddef.h>
#include <stdint.h>

#define ANFU_ID_MAX 48 /* prefix (<= 24) + '_' + 22 chars + NUL */

/* Fills buf with n random bytes. */
void anfu_rand_bytes(void *buf, size_t n);
/* Uniform random integer in [0, bound), bound > 0, without modulo bias. */
uint32_t anfu_rand_uniform(uint32_t bound);
/* Writes "<prefix>_XXXXXXXXXXXXXXXXXXXXXX" into out (cap >= ANFU_ID_MAX).
 * Returns ANFU_EINVAL for a prefix that is empty, too long, or not [a-z]. */
int anfu_id_new(const char *prefix, char *out, size_t cap);
/* True when s looks like an id of that prefix (shape only). */
int anfu_id_valid(const char *prefix, const char *s, size_t len);

#endif
