/*
 * base/arena: a per-request allocation arena with a byte cap.
 *
 * Blocks of at least 4 KiB are chained; big requests get a block of their
 * own. Everything is wiped on free because request bodies may hold
 * passwords.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"

struct block {
	struct block *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct anfu_arena {
	struct block *head;
	size_t cap;
	size_t used;
};

struct anfu_arena *anfu_arena_new(size_t cap)
{
	struct anfu_arena *a = anfu_xcalloc(1, sizeof(*a));

	a->cap = cap;
	return a;
}

void anfu_arena_free(struct anfu_arena *a)
{
	struct block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		anfu_wipe(b->data, b->used);
		free(b);
	}
	free(a);
}

int anfu_arena_alloc(struct anfu_arena *a, size_t n, void **ret)
{
	const size_t align = alignof(max_align_t);
	struct block *b = a->head;
	size_t rounded, total;

	if (__builtin_add_overflow(n, align - 1, &rounded))
		return ANFU_ELIMIT;
	rounded &= ~(align - 1);
	if (rounded == 0)
		rounded = align;
	if (__builtin_add_overflow(a->used, rounded, &total) || total > a->cap)
		return ANFU_ELIMIT;
	if (!b || b->size - b->used < rounded) {
		size_t size = rounded > ANFU_LIMIT_ARENA_BLOCK_BYTES ? rounded
								     : ANFU_LIMIT_ARENA_BLOCK_BYTES;

		b = anfu_xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		/* A big private block goes behind the current one so the
		 * remaining space of the current block is not lost. */
		if (a->head && rounded > ANFU_LIMIT_ARENA_BLOCK_BYTES) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	*ret = b->data + b->used;
	memset(*ret, 0, rounded);
	b->used += rounded;
	a->used = total;
	ANFU_ASSERT(b->used <= b->size && a->used <= a->cap);
	return 0;
}

int anfu_arena_strndup(struct anfu_arena *a, const char *s, size_t n, char **ret)
{
	void *p;
	int r;

	if (n == SIZE_MAX)
		return ANFU_ELIMIT;
	r = anfu_arena_alloc(a, n + 1, &p);
	if (r < 0)
		return r;
	if (n)
		memcpy(p, s, n);
	((char *)p)[n] = '\0';
	*ret = p;
	return 0;
}

size_t anfu_arena_used(const struct anfu_arena *a)
{
	return a->used;
}
