/*
 * http/conntrack: live connections, their admission and the deadline
 * reaper (connection-slot starvation, slowloris; WEB-DOS-01, WEB-CONC-01,
 * WEB-CONC-03, WEB-CONC-04).
 *
 * Admission. Each listener has a pool with three limits: connections in
 * total, connections still in the TLS handshake (the total minus the share
 * held back for established ones), and connections per network (IPv4 /24,
 * IPv6 /64). A new connection from a network at its cap is closed at once.
 * Otherwise, when the handshaking share or the whole pool is full, the
 * oldest connection still in its handshake is closed to make room; only
 * when every slot holds an established connection is the newcomer closed.
 * So idle TCP connections can never keep a real client out, and a
 * connection that finished its handshake is never closed for a newcomer.
 *
 * Deadlines. libmicrohttpd's own timeout only fires when a connection is
 * idle, so a client that drips a byte every few seconds would hold its slot
 * for ever. Every connection has a deadline: accept + handshake timeout,
 * then (http/server.c reports the end of the handshake) + head timeout, and
 * from there the request code moves it (head + body timeout while a body
 * arrives, none while a handler runs, completion + head timeout while
 * waiting for the next request on a kept-alive connection). A reaper thread
 * wakes four times a second and shuts down every socket past its deadline.
 *
 * Closing is always shutdown(2), never close(2): MHD then sees the error
 * and closes the connection itself. A connection cut off that way stops
 * counting against the limits at once (MHD has room for it until it is
 * closed, see ANFU_LIMIT_CONN_CLOSING_ROOM_PCT). Trusts MHD to call
 * anfu_conntrack_remove() (NOTIFY_CONNECTION CLOSED) before it closes the
 * descriptor, so this module, which works under the table mutex, never
 * touches a descriptor number that was reused.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "http/internal.h"

enum conn_state {
	CONN_HANDSHAKE,	  /* TLS handshake not finished; may be evicted */
	CONN_ESTABLISHED, /* handshake finished; never evicted */
	CONN_CUT,	  /* shut down by us; no longer counted, MHD closes it */
};

struct net_count {
	struct net_count *next;
	struct anfu_netkey key;
	int64_t count; /* live (not cut) connections of the network */
};

struct anfu_conn {
	struct anfu_conn *prev, *next;	     /* every tracked connection */
	struct anfu_conn *hs_prev, *hs_next; /* handshaking ones, oldest first */
	struct anfu_conntrack *t;
	int pool;
	int fd;
	enum conn_state state;
	struct net_count *net;	     /* NULL once cut */
	_Atomic int64_t deadline_us; /* monotonic; 0 = none */
	atomic_int finished;	     /* TLS Finished messages so far */
};

struct pool {
	struct anfu_conntrack_limits lim;
	struct anfu_conn *hs_head, *hs_tail;
	int64_t handshaking, established;
	uint64_t accepted, evicted, refused_net, refused_full;
	struct net_count *nets[ANFU_LIMIT_CONN_NET_BUCKETS];
};

struct anfu_conntrack {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the reaper early at stop */
	struct anfu_conn *head;
	struct pool pools[ANFU_CONNTRACK_POOLS];
	uint64_t seed; /* of the network hash */
	bool stop;
	pthread_t reaper;
	_Atomic uint64_t reaped;
};

void anfu_conntrack_netkey(int family, const uint8_t *addr, struct anfu_netkey *ret)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ret, 0, sizeof(*ret));
	if (family == AF_INET6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		family = AF_INET;
		addr += sizeof(v4mapped);
	}
	if (family == AF_INET) {
		ret->family = 4;
		memcpy(ret->bytes, addr, 3); /* /24 */
	} else if (family == AF_INET6) {
		ret->family = 6;
		memcpy(ret->bytes, addr, 8); /* /64 */
	}
}

static size_t net_bucket(const struct anfu_conntrack *t, const struct anfu_netkey *k)
{
	uint64_t h = t->seed ^ k->family;

	for (size_t i = 0; i < sizeof(k->bytes); i++) {
		h ^= k->bytes[i];
		h *= 0x100000001b3ull; /* FNV-1a step over a random basis */
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)(h % ANFU_LIMIT_CONN_NET_BUCKETS);
}

/* The count of network k in p, or NULL when it has no connection. Under
 * t->mu. */
static struct net_count *net_find(const struct anfu_conntrack *t, const struct pool *p,
				  const struct anfu_netkey *k)
{
	struct net_count *n;

	for (n = p->nets[net_bucket(t, k)]; n; n = n->next)
		if (memcmp(&n->key, k, sizeof(*k)) == 0)
			return n;
	return NULL;
}

/* Counts one more connection of network k (n: its count, or NULL). Under
 * t->mu. */
static struct net_count *net_take(struct anfu_conntrack *t, struct pool *p,
				  const struct anfu_netkey *k, struct net_count *n)
{
	struct net_count **b;

	if (!n) {
		b = &p->nets[net_bucket(t, k)];
		n = anfu_xcalloc(1, sizeof(*n));
		n->key = *k;
		n->next = *b;
		*b = n;
	}
	n->count++;
	return n;
}

/* Drops one connection from n's count; frees n at 0. Under t->mu. */
static void net_put(struct anfu_conntrack *t, struct pool *p, struct net_count *n)
{
	struct net_count **b;

	ANFU_ASSERT(n && n->count > 0);
	if (--n->count > 0)
		return;
	for (b = &p->nets[net_bucket(t, &n->key)]; *b; b = &(*b)->next) {
		if (*b == n) {
			*b = n->next;
			break;
		}
	}
	free(n);
}

static void hs_unlink(struct pool *p, struct anfu_conn *c)
{
	if (c->hs_prev)
		c->hs_prev->hs_next = c->hs_next;
	else
		p->hs_head = c->hs_next;
	if (c->hs_next)
		c->hs_next->hs_prev = c->hs_prev;
	else
		p->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
}

static void hs_append(struct pool *p, struct anfu_conn *c)
{
	c->hs_prev = p->hs_tail;
	c->hs_next = NULL;
	if (p->hs_tail)
		p->hs_tail->hs_next = c;
	else
		p->hs_head = c;
	p->hs_tail = c;
}

/* Stops counting c and shuts its socket down; MHD closes it. Under t->mu. */
static void cut(struct anfu_conntrack *t, struct anfu_conn *c)
{
	struct pool *p = &t->pools[c->pool];

	if (c->state == CONN_CUT)
		return;
	if (c->state == CONN_HANDSHAKE) {
		hs_unlink(p, c);
		p->handshaking--;
	} else {
		p->established--;
	}
	ANFU_ASSERT(p->handshaking >= 0 && p->established >= 0);
	net_put(t, p, c->net);
	c->net = NULL;
	c->state = CONN_CUT;
	atomic_store(&c->deadline_us, 0);
	(void)shutdown(c->fd, SHUT_RDWR);
}

/* Shuts down every connection past its deadline; called under t->mu. */
static void reap_once(struct anfu_conntrack *t, int64_t now_us)
{
	for (struct anfu_conn *c = t->head; c; c = c->next) {
		int64_t d = atomic_load(&c->deadline_us);

		if (d == 0 || d > now_us || c->state == CONN_CUT)
			continue;
		cut(t, c);
		atomic_fetch_add(&t->reaped, 1);
	}
}

static void *reaper_main(void *arg)
{
	struct anfu_conntrack *t = arg;
	struct timespec ts;

	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		reap_once(t, anfu_clock_mono_us());
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += ANFU_LIMIT_CONN_REAP_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static bool limits_valid(const struct anfu_conntrack_limits *l)
{
	return l->connections > 0 && l->handshaking > 0 && l->handshaking <= l->connections &&
	       l->per_net > 0 && l->head_timeout_us > 0;
}

int anfu_conntrack_new(const struct anfu_conntrack_limits lim[ANFU_CONNTRACK_POOLS],
		       struct anfu_conntrack **ret)
{
	struct anfu_conntrack *t = NULL;
	pthread_condattr_t ca;
	int r = ANFU_EINVAL;

	for (int i = 0; i < ANFU_CONNTRACK_POOLS; i++)
		if (!lim || !limits_valid(&lim[i]))
			return ANFU_EINVAL;
	t = anfu_xcalloc(1, sizeof(*t));
	for (int i = 0; i < ANFU_CONNTRACK_POOLS; i++)
		t->pools[i].lim = lim[i];
	anfu_rand_bytes(&t->seed, sizeof(t->seed));
	(void)pthread_mutex_init(&t->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&t->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0) {
		anfu_log_error("http_reaper", "cannot start the connection reaper");
		r = ANFU_EINTERNAL;
		goto out;
	}
	*ret = t;
	t = NULL;
	r = 0;
out:
	if (t) {
		(void)pthread_cond_destroy(&t->cv);
		(void)pthread_mutex_destroy(&t->mu);
		free(t);
	}
	return r;
}

void anfu_conntrack_free(struct anfu_conntrack *t)
{
	struct anfu_conn *c, *next;
	struct net_count *n, *nn;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	(void)pthread_join(t->reaper, NULL);
	for (c = t->head; c; c = next) {
		next = c->next;
		free(c);
	}
	for (int i = 0; i < ANFU_CONNTRACK_POOLS; i++) {
		for (size_t b = 0; b < ANFU_LIMIT_CONN_NET_BUCKETS; b++) {
			for (n = t->pools[i].nets[b]; n; n = nn) {
				nn = n->next;
				free(n);
			}
		}
	}
	(void)pthread_cond_destroy(&t->cv);
	(void)pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Decides on a new connection of pool p from a network with net_count
 * live connections; may cut the oldest handshaking one. Under t->mu. */
static enum anfu_conntrack_verdict admit(struct anfu_conntrack *t, struct pool *p,
					 int64_t net_count)
{
	int64_t live = p->handshaking + p->established;

	if (net_count >= p->lim.per_net) {
		p->refused_net++;
		return ANFU_CONN_REFUSED_NET;
	}
	if (p->handshaking < p->lim.handshaking && live < p->lim.connections)
		return ANFU_CONN_ADMITTED;
	if (!p->hs_head) {
		p->refused_full++;
		return ANFU_CONN_REFUSED_FULL;
	}
	cut(t, p->hs_head);
	p->evicted++;
	return ANFU_CONN_EVICTED_OTHER;
}

struct anfu_conn *anfu_conntrack_add(struct anfu_conntrack *t, int pool, int fd, int family,
				     const uint8_t *addr, int64_t deadline_us,
				     enum anfu_conntrack_verdict *ret_verdict)
{
	struct anfu_conn *c = anfu_xcalloc(1, sizeof(*c));
	enum anfu_conntrack_verdict v;
	struct anfu_netkey key;
	struct net_count *n;
	struct pool *p;

	if (pool < 0 || pool >= ANFU_CONNTRACK_POOLS)
		pool = 0;
	p = &t->pools[pool];
	anfu_conntrack_netkey(addr ? family : 0, addr, &key);
	c->t = t;
	c->pool = pool;
	c->fd = fd;
	pthread_mutex_lock(&t->mu);
	p->accepted++;
	n = net_find(t, p, &key);
	v = admit(t, p, n ? n->count : 0);
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	if (v == ANFU_CONN_REFUSED_NET || v == ANFU_CONN_REFUSED_FULL) {
		c->state = CONN_CUT;
		(void)shutdown(fd, SHUT_RDWR);
	} else {
		/* The eviction may have freed n: look it up again. */
		c->net = net_take(t, p, &key, net_find(t, p, &key));
		c->state = CONN_HANDSHAKE;
		hs_append(p, c);
		p->handshaking++;
		atomic_store(&c->deadline_us, deadline_us);
		/* admit() made room first: by admission or by an eviction. */
		ANFU_ASSERT(p->handshaking <= p->lim.handshaking &&
			    p->handshaking + p->established <= p->lim.connections);
	}
	pthread_mutex_unlock(&t->mu);
	if (ret_verdict)
		*ret_verdict = v;
	return c;
}

void anfu_conntrack_established(struct anfu_conn *c, int64_t now_us)
{
	struct anfu_conntrack *t;
	struct pool *p;

	if (!c)
		return;
	t = c->t;
	p = &t->pools[c->pool];
	pthread_mutex_lock(&t->mu);
	if (c->state == CONN_HANDSHAKE) {
		hs_unlink(p, c);
		p->handshaking--;
		p->established++;
		c->state = CONN_ESTABLISHED;
		atomic_store(&c->deadline_us, now_us + p->lim.head_timeout_us);
	}
	pthread_mutex_unlock(&t->mu);
}

int anfu_conntrack_finished(struct anfu_conn *c)
{
	return c ? atomic_fetch_add(&c->finished, 1) + 1 : 0;
}

void anfu_conntrack_remove(struct anfu_conntrack *t, struct anfu_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->mu);
	if (c->state != CONN_CUT) {
		struct pool *p = &t->pools[c->pool];

		if (c->state == CONN_HANDSHAKE) {
			hs_unlink(p, c);
			p->handshaking--;
		} else {
			p->established--;
		}
		net_put(t, p, c->net);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&t->mu);
	free(c);
}

void anfu_conntrack_deadline(struct anfu_conn *c, int64_t deadline_us)
{
	/* A cut connection may still get a deadline here; the reaper skips it. */
	if (c)
		atomic_store(&c->deadline_us, deadline_us);
}

uint64_t anfu_conntrack_reaped(const struct anfu_conntrack *t)
{
	return t ? atomic_load(&t->reaped) : 0;
}

void anfu_conntrack_stats(struct anfu_conntrack *t, int pool, struct anfu_conntrack_stats *ret)
{
	const struct pool *p;

	memset(ret, 0, sizeof(*ret));
	if (!t || pool < 0 || pool >= ANFU_CONNTRACK_POOLS)
		return;
	p = &t->pools[pool];
	pthread_mutex_lock(&t->mu);
	ret->handshaking = p->handshaking;
	ret->established = p->established;
	ret->accepted = p->accepted;
	ret->evicted = p->evicted;
	ret->refused_net = p->refused_net;
	ret->refused_full = p->refused_full;
	pthread_mutex_unlock(&t->mu);
}

int anfu_conntrack_render(struct anfu_conntrack *t, struct anfu_buf *out)
{
	static const char *const names[ANFU_CONNTRACK_POOLS] = { "main", "admin" };
	struct anfu_conntrack_stats st[ANFU_CONNTRACK_POOLS];
	int r = 0;

	for (int i = 0; i < ANFU_CONNTRACK_POOLS; i++)
		anfu_conntrack_stats(t, i, &st[i]);
	r = anfu_buf_appends(out, "# HELP anfu_http_connections Open connections by listener and "
				  "TLS state.\n# TYPE anfu_http_connections gauge\n");
	for (int i = 0; r == 0 && i < ANFU_CONNTRACK_POOLS; i++)
		r = anfu_buf_appendf(out,
				     "anfu_http_connections{listener=\"%s\",state=\"handshake\"} "
				     "%" PRId64 "\n"
				     "anfu_http_connections{listener=\"%s\",state=\"established\"} "
				     "%" PRId64 "\n",
				     names[i], st[i].handshaking, names[i], st[i].established);
	if (r == 0)
		r = anfu_buf_appends(out, "# HELP anfu_http_connections_accepted_total Connections "
					  "accepted, before the admission limits.\n"
					  "# TYPE anfu_http_connections_accepted_total counter\n");
	for (int i = 0; r == 0 && i < ANFU_CONNTRACK_POOLS; i++)
		r = anfu_buf_appendf(out,
				     "anfu_http_connections_accepted_total{listener=\"%s\"} "
				     "%" PRIu64 "\n",
				     names[i], st[i].accepted);
	if (r == 0)
		r = anfu_buf_appends(out, "# HELP anfu_http_connections_refused_total Connections "
					  "closed at once: their network was at its cap, or every "
					  "slot held an established connection.\n"
					  "# TYPE anfu_http_connections_refused_total counter\n");
	for (int i = 0; r == 0 && i < ANFU_CONNTRACK_POOLS; i++)
		r = anfu_buf_appendf(out,
				     "anfu_http_connections_refused_total{listener=\"%s\","
				     "reason=\"network\"} %" PRIu64 "\n"
				     "anfu_http_connections_refused_total{listener=\"%s\","
				     "reason=\"full\"} %" PRIu64 "\n",
				     names[i], st[i].refused_net, names[i], st[i].refused_full);
	if (r == 0)
		r = anfu_buf_appends(out, "# HELP anfu_http_connections_evicted_total Connections "
					  "still in the TLS handshake closed to make room for a "
					  "new one.\n"
					  "# TYPE anfu_http_connections_evicted_total counter\n");
	for (int i = 0; r == 0 && i < ANFU_CONNTRACK_POOLS; i++)
		r = anfu_buf_appendf(out,
				     "anfu_http_connections_evicted_total{listener=\"%s\"} "
				     "%" PRIu64 "\n",
				     names[i], st[i].evicted);
	return r;
}
