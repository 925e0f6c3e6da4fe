/*
 * http/ratelimit: per-client token buckets (WEB-DOS-01).
 *
 * Owns a bounded table of buckets keyed by client address. Trusts nothing
 * about the addresses: the hash is keyed with a random seed so a client
 * cannot aim all its addresses at one chain, and the table never holds more
 * than table_size clients (the least recently seen one in its stripe is
 * evicted), so a spoofed or IPv6 flood costs fixed memory. An IPv6 client
 * is keyed by its /64 (one host usually owns the whole /64); an
 * IPv4-mapped IPv6 address counts as the IPv4 address.
 *
 * Tokens are kept in millionths so refill is exact integer arithmetic:
 * rate_per_s tokens a second is rate_per_s millionths a microsecond.
 * Thread-safe: the table is split into stripes, each under its own mutex.
 * Time comes from the caller (the server passes anfu_clock_mono_us(); tests
 * pass their own).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "http/internal.h"

#define UNIT 1000000LL /* one token in millionths */

struct bucket {
	uint8_t key[17]; /* family tag + up to 16 address bytes */
	int64_t tokens;	 /* millionths of a token */
	int64_t last_us;
	int32_t hnext;	    /* next in the hash chain, -1 ends */
	int32_t prev, next; /* recency list: head most recent */
};

struct stripe {
	pthread_mutex_t mu;
	struct bucket *b;
	int32_t *heads; /* hash chains */
	uint32_t nheads;
	uint32_t cap, used;
	int32_t mru, lru;
};

struct anfu_ratelimit {
	int64_t rate;  /* tokens per second */
	int64_t burst; /* bucket size in tokens */
	uint64_t seed[2];
	struct stripe *s;
	uint32_t nstripes;
};

static void stripe_init(struct stripe *s, uint32_t cap)
{
	s->cap = cap;
	s->nheads = 1;
	while (s->nheads < cap)
		s->nheads <<= 1;
	s->b = anfu_xcalloc(cap, sizeof(*s->b));
	s->heads = anfu_xmalloc(s->nheads * sizeof(*s->heads));
	for (uint32_t i = 0; i < s->nheads; i++)
		s->heads[i] = -1;
	s->mru = s->lru = -1;
	(void)pthread_mutex_init(&s->mu, NULL);
}

struct anfu_ratelimit *anfu_ratelimit_new(int64_t rate_per_s, int64_t burst, size_t table_size)
{
	struct anfu_ratelimit *rl = anfu_xcalloc(1, sizeof(*rl));
	uint32_t per;

	if (table_size == 0)
		table_size = 1;
	if (table_size > ANFU_LIMIT_RATE_TABLE_SIZE)
		table_size = ANFU_LIMIT_RATE_TABLE_SIZE;
	rl->rate = rate_per_s > ANFU_LIMIT_RATE_MAX ? ANFU_LIMIT_RATE_MAX : rate_per_s;
	rl->burst = burst > ANFU_LIMIT_RATE_MAX ? ANFU_LIMIT_RATE_MAX : burst;
	anfu_rand_bytes(rl->seed, sizeof(rl->seed));
	rl->nstripes =
		table_size >= ANFU_LIMIT_RATE_STRIPED_TABLE_MIN ? ANFU_LIMIT_RATE_STRIPES : 1;
	per = (uint32_t)(table_size / rl->nstripes);
	rl->s = anfu_xcalloc(rl->nstripes, sizeof(*rl->s));
	for (uint32_t i = 0; i < rl->nstripes; i++)
		stripe_init(&rl->s[i], per);
	return rl;
}

void anfu_ratelimit_free(struct anfu_ratelimit *rl)
{
	if (!rl)
		return;
	for (uint32_t i = 0; i < rl->nstripes; i++) {
		(void)pthread_mutex_destroy(&rl->s[i].mu);
		free(rl->s[i].b);
		free(rl->s[i].heads);
	}
	free(rl->s);
	free(rl);
}

/* The bucket key: v4 (or v4-mapped v6) address, or the /64 of a v6 one. */
static void make_key(int family, const uint8_t *addr, uint8_t key[17])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(key, 0, 17);
	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		key[0] = 4;
		memcpy(key + 1, addr + 12, 4);
	} else if (family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, addr, 8);
	} else {
		key[0] = 4;
		memcpy(key + 1, addr, 4);
	}
}

/* Keyed multiply-xorshift over the key bytes (not cryptographic; the
 * random seed only keeps chain placement unpredictable). */
static uint64_t key_hash(const struct anfu_ratelimit *rl, const uint8_t key[17])
{
	uint64_t h = rl->seed[0];

	for (int i = 0; i < 17; i++) {
		h ^= key[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	h ^= rl->seed[1];
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

static void lru_unlink(struct stripe *s, int32_t i)
{
	struct bucket *b = &s->b[i];

	if (b->prev >= 0)
		s->b[b->prev].next = b->next;
	else
		s->mru = b->next;
	if (b->next >= 0)
		s->b[b->next].prev = b->prev;
	else
		s->lru = b->prev;
}

static void lru_push(struct stripe *s, int32_t i)
{
	s->b[i].prev = -1;
	s->b[i].next = s->mru;
	if (s->mru >= 0)
		s->b[s->mru].prev = i;
	s->mru = i;
	if (s->lru < 0)
		s->lru = i;
}

static void chain_unlink(struct stripe *s, uint32_t head, int32_t i)
{
	int32_t *pp = &s->heads[head];

	while (*pp >= 0 && *pp != i)
		pp = &s->b[*pp].hnext;
	if (*pp == i)
		*pp = s->b[i].hnext;
}

/* Finds the bucket of key, or makes one (evicting the least recent). */
static int32_t bucket_get(const struct anfu_ratelimit *rl, struct stripe *s, const uint8_t key[17],
			  uint64_t h, int64_t now_us)
{
	uint32_t head = (uint32_t)(h >> 32) & (s->nheads - 1);
	int32_t i;

	for (i = s->heads[head]; i >= 0; i = s->b[i].hnext)
		if (memcmp(s->b[i].key, key, 17) == 0) {
			lru_unlink(s, i);
			lru_push(s, i);
			return i;
		}
	if (s->used < s->cap) {
		i = (int32_t)s->used++;
	} else {
		i = s->lru;
		lru_unlink(s, i);
		chain_unlink(s, (uint32_t)(key_hash(rl, s->b[i].key) >> 32) & (s->nheads - 1), i);
	}
	memcpy(s->b[i].key, key, 17);
	s->b[i].tokens = rl->burst * UNIT;
	s->b[i].last_us = now_us;
	s->b[i].hnext = s->heads[head];
	s->heads[head] = i;
	lru_push(s, i);
	return i;
}

/* Adds the tokens earned since b->last_us, capped at the burst. */
static void refill(const struct anfu_ratelimit *rl, struct bucket *b, int64_t now_us)
{
	int64_t cap = rl->burst * UNIT, dt = now_us - b->last_us, add;

	if (dt <= 0)
		return;
	b->last_us = now_us;
	/* Past this much time the bucket is full anyway; clamping keeps the
	 * product far from overflow. */
	if (dt > cap / rl->rate + 1)
		dt = cap / rl->rate + 1;
	add = dt * rl->rate;
	b->tokens = b->tokens > cap - add ? cap : b->tokens + add;
}

int anfu_ratelimit_take(struct anfu_ratelimit *rl, int family, const uint8_t *addr, int64_t now_us,
			int *ret_retry_after_s)
{
	uint8_t key[17];
	struct stripe *s;
	struct bucket *b;
	int64_t wait_us = 0;
	uint64_t h;
	int r = 0;

	if (!rl || rl->rate <= 0 || rl->burst <= 0)
		return 0;
	make_key(family, addr, key);
	h = key_hash(rl, key);
	s = &rl->s[(uint32_t)h % rl->nstripes];
	pthread_mutex_lock(&s->mu);
	b = &s->b[bucket_get(rl, s, key, h, now_us)];
	refill(rl, b, now_us);
	if (b->tokens >= UNIT) {
		b->tokens -= UNIT;
	} else {
		wait_us = (UNIT - b->tokens + rl->rate - 1) / rl->rate;
		r = ANFU_ERATE;
	}
	pthread_mutex_unlock(&s->mu);
	if (r < 0 && ret_retry_after_s) {
		int64_t secs = (wait_us + 999999) / 1000000;

		*ret_retry_after_s = secs < 1			       ? 1
				     : secs > ANFU_LIMIT_RETRY_AFTER_S ? ANFU_LIMIT_RETRY_AFTER_S
								       : (int)secs;
	}
	return r;
}

size_t anfu_ratelimit_count(struct anfu_ratelimit *rl)
{
	size_t n = 0;

	for (uint32_t i = 0; rl && i < rl->nstripes; i++) {
		pthread_mutex_lock(&rl->s[i].mu);
		n += rl->s[i].used;
		pthread_mutex_unlock(&rl->s[i].mu);
	}
	return n;
}
