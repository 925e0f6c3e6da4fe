/*
 * iam/reserved_lookup: the reserved message shown on the login page after
 * the name and before the password (WEB-PHISH-01, the login's first step),
 * and the per-address counter that bounds these lookups.
 *
 * Owns the in-memory lookup counter (struct iam_reserved_limiter): one
 * fixed window of lockout.ip_window per client address (an IPv6 one by
 * its /64), at most
 * ANFU_LIMIT_IAM_RESERVED_LOOKUPS lookups in it, at most
 * ANFU_LIMIT_IAM_RESERVED_LOOKUP_IPS addresses remembered. Reads iam_user
 * through the login's blind index; writes nothing to the store, logs and
 * audits nothing (the message is personal). Trusts nothing of the name:
 * unknown names, names that are not a customer's, accounts that are not
 * active and customers without a message all answer "" after the same
 * lookup, so the answer tells nothing about which names exist.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"

struct lookup_slot {
	char ip[48]; /* "" when free */
	int64_t start_ms;
	int64_t n;
};

struct iam_reserved_limiter {
	pthread_mutex_t mu;
	uint64_t seed;
	struct lookup_slot slots[ANFU_LIMIT_IAM_RESERVED_LOOKUP_IPS];
};

int iam_reserved_limiter_new(struct iam_reserved_limiter **ret)
{
	struct iam_reserved_limiter *l;

	if (!ret)
		return ANFU_EINVAL;
	l = anfu_xcalloc(1, sizeof(*l));
	anfu_rand_bytes(&l->seed, sizeof(l->seed));
	(void)pthread_mutex_init(&l->mu, NULL);
	*ret = l;
	return 0;
}

void iam_reserved_limiter_free(struct iam_reserved_limiter *l)
{
	if (!l)
		return;
	(void)pthread_mutex_destroy(&l->mu);
	free(l);
}

/* FNV-1a over the seed and the address: a client cannot choose addresses
 * that all land in one probe run without knowing the seed. */
static uint32_t slot_of(const struct iam_reserved_limiter *l, const char *ip)
{
	uint64_t h = 1469598103934665603ULL ^ l->seed;

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 1099511628211ULL;
	return (uint32_t)(h % ANFU_LIMIT_IAM_RESERVED_LOOKUP_IPS);
}

/* The slot of ip among its probes: its own, else a free or expired one,
 * else the one whose window started longest ago (forgotten). */
static struct lookup_slot *slot_find(struct iam_reserved_limiter *l, const char *ip, int64_t now,
				     int64_t win)
{
	uint32_t at = slot_of(l, ip);
	struct lookup_slot *unused = NULL, *oldest = NULL, *pick;

	for (uint32_t i = 0; i < ANFU_LIMIT_IAM_RESERVED_LOOKUP_PROBES; i++) {
		struct lookup_slot *s = &l->slots[(at + i) % ANFU_LIMIT_IAM_RESERVED_LOOKUP_IPS];

		if (strcmp(s->ip, ip) == 0)
			return s;
		if (!unused && (!s->ip[0] || now - s->start_ms >= win))
			unused = s;
		if (!oldest || s->start_ms < oldest->start_ms)
			oldest = s;
	}
	pick = unused ? unused : oldest;
	(void)anfu_strlcpy(pick->ip, ip, sizeof(pick->ip));
	pick->start_ms = now;
	pick->n = 0;
	return pick;
}

/* The counter's key of address ip into out: an IPv4 address (or an
 * IPv4-mapped IPv6 one) as itself, an IPv6 address as its /64 (one host
 * usually holds the whole /64, as the platform's rate limit counts it). */
static void key_of(const char *ip, char out[48])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned char a[16];

	if (inet_pton(AF_INET6, ip, a) != 1)
		(void)anfu_strlcpy(out, ip, 48);
	else if (memcmp(a, mapped, sizeof(mapped)) == 0)
		(void)snprintf(out, 48, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	else
		(void)snprintf(out, 48, "%x:%x:%x:%x::/64", (a[0] << 8) | a[1], (a[2] << 8) | a[3],
			       (a[4] << 8) | a[5], (a[6] << 8) | a[7]);
}

/* Counts one lookup of ip at now; ANFU_ERATE (and *ret_wait_s, the seconds
 * until its window ends) when the address already made
 * ANFU_LIMIT_IAM_RESERVED_LOOKUPS in its window. */
static int limiter_take(struct iam_reserved_limiter *l, const char *ip, int64_t now, int64_t win,
			int *ret_wait_s)
{
	struct lookup_slot *s;
	char key[48];
	int r = 0;

	key_of(ip, key);
	(void)pthread_mutex_lock(&l->mu);
	s = slot_find(l, key, now, win);
	if (now - s->start_ms >= win || now < s->start_ms) {
		s->start_ms = now;
		s->n = 0;
	}
	if (s->n >= ANFU_LIMIT_IAM_RESERVED_LOOKUPS) {
		*ret_wait_s = (int)((s->start_ms + win - now + 999) / 1000);
		r = ANFU_ERATE;
	} else
		s->n++;
	(void)pthread_mutex_unlock(&l->mu);
	return r;
}

/* True when u is a customer whose message may be shown: an active
 * customer account reached on the customers' listener. */
static bool shows_message(const struct iam_user *u, const struct anfu_iam_ctx *ctx, int64_t now)
{
	return !ctx->admin && u->kind == ANFU_USER_CUSTOMER &&
	       iam_user_status(u, now) == ANFU_ACCOUNT_ACTIVE;
}

/* The message of the customer named login, "" for every other name. */
static int message_of_name(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
			   const char *login, int64_t now, char *out, size_t cap)
{
	struct iam_user u = { 0 };
	char idx[IAM_HASH_HEX];
	int r = iam_login_index(iam, login, idx);

	if (r == 0)
		r = iam_user_find_login(iam, db, login, &u);
	if (r == 0 && shows_message(&u, ctx, now))
		r = anfu_iam_reserved_message_of(iam, u.id, out, cap);
	if (r == ANFU_ENOTFOUND)
		r = 0;
	iam_user_clear(&u);
	return r;
}

int anfu_iam_reserved_message_for_login(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
					const char *login, char *out, size_t cap, int *ret_wait_s,
					struct anfu_iam_err *err)
{
	const char *ip = ctx && ctx->ip ? ctx->ip : "";
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1] = "";
	int64_t now = anfu_clock_now_ms(), win;
	struct anfu_db *db = NULL;
	bool blocked = false;
	int wait_s = 1;
	int r;

	if (!iam || !ctx || !login || !out || cap < sizeof(msg) || !iam->reserved_limiter)
		return ANFU_EINVAL;
	win = iam->cfg->lockout.ip_window_s * 1000;
	r = iam_db(iam, &db);
	/* An address throttled for failed logins (IAM-ANOM-02) is refused
	 * this step too, as the login would refuse it. */
	if (r == 0)
		r = iam_login_ip_blocked(iam, db, ip, now, &blocked);
	if (r == 0 && blocked) {
		iam_err_set(err, ANFU_R_TOO_MANY_FAILURES, NULL);
		return ANFU_ERATE;
	}
	if (r == 0 && limiter_take(iam->reserved_limiter, ip, now, win, &wait_s) < 0) {
		if (ret_wait_s)
			*ret_wait_s = wait_s;
		iam_err_set(err, ANFU_R_TOO_MANY_REQUESTS, NULL);
		return ANFU_ERATE;
	}
	if (r == 0)
		r = message_of_name(iam, db, ctx, login, now, msg, sizeof(msg));
	if (r == 0)
		(void)anfu_strlcpy(out, msg, cap);
	return r;
}
