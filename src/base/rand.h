/*
 * base/rand: random bytes and typed public identifiers.
 *
 * Bytes come from getrandom(2) (the kernel CSPRNG); failure aborts, since
 * nothing can continue safely without randomness. Public identifiers are
 * "<prefix>_" + 22 base62 characters (>= 128 random bits), never sequential;
 * the time-ordered kind (anfu_id_new_ordered) keeps 77 random bits after
 * its time. An id names a row; it is never what grants access to it.
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
/* As anfu_id_new, but the id sorts by ms: its first 9 characters are ms
 * (milliseconds, < 0 taken as 0) in fixed-width base62, the other 13
 * random (77 bits). For ids that are keys of append-mostly indexes (the
 * ledger journal): new rows land at the end of the index instead of on a
 * random page (TigerBeetle's advice for its ids). Same shape as
 * anfu_id_new, so anfu_id_valid accepts it. */
int anfu_id_new_ordered(const char *prefix, int64_t ms, char *out, size_t cap);
/* True when s looks like an id of that prefix (shape only). */
int anfu_id_valid(const char *prefix, const char *s, size_t len);

#endif
