/*
 * base/arena: a per-request allocation arena with a byte cap (nginx pools).
 *
 * Everything a request decodes lives in its arena and is freed at once when
 * the request ends. Going over the cap is an ordinary ANFU_ELIMIT that the
 * client sees as 413, never an abort. Not thread-safe: one request, one
 * thread at a time.
 */
#ifndef ANFU_BASE_ARENA_H
#define ANFU_BASE_ARENA_H

#include <stddef.h>

struct anfu_arena;

/* Creates an arena that hands out at most cap bytes in total. */
struct anfu_arena *anfu_arena_new(size_t cap);
/* Frees every block (wiping them); NULL-safe. */
void anfu_arena_free(struct anfu_arena *a);
/* Returns n zeroed, max-aligned bytes in *ret, or ANFU_ELIMIT. */
int anfu_arena_alloc(struct anfu_arena *a, size_t n, void **ret);
/* Copies n bytes and a terminating NUL into the arena. */
int anfu_arena_strndup(struct anfu_arena *a, const char *s, size_t n, char **ret);
/* Bytes handed out so far. */
size_t anfu_arena_used(const struct anfu_arena *a);

#endif
