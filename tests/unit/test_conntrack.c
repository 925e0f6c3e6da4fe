/*
 * Unit tests of http/conntrack: admission (per-network caps, the share of
 * connections still in the TLS handshake, eviction of the oldest of them),
 * the deadlines the reaper enforces, and the network of an address.
 *
 * Each tracked "connection" is one end of a socketpair; the test holds the
 * other end, where a cut shows as end-of-file. Admission cuts before
 * anfu_conntrack_add() returns, so those checks read without waiting; the
 * reaper runs on its own thread, so those wait (blocking read with a safety
 * bound) for the end-of-file it causes. Trusts nothing but the module.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/err.h"
#include "http/internal.h"

#define HOUR_US (3600LL * 1000000)
#define MAX_CONNS 16
/* Safety bound for waiting on the reaper, which wakes every 250 ms. */
#define REAPER_WAIT_MS 20000

struct side {
	struct anfu_conn *conn;
	int ours; /* tracked end */
	int peer; /* the test's end */
	enum anfu_conntrack_verdict verdict;
};

struct fx {
	struct anfu_conntrack *t;
	struct side s[MAX_CONNS];
	int n;
};

static const uint8_t net_a1[4] = { 10, 1, 2, 1 };
static const uint8_t net_a2[4] = { 10, 1, 2, 200 };
static const uint8_t net_a3[4] = { 10, 1, 2, 77 };
static const uint8_t net_b1[4] = { 10, 1, 3, 1 };

static struct anfu_conntrack_limits limits(int64_t conns, int64_t handshaking, int64_t per_net)
{
	return (struct anfu_conntrack_limits){
		.connections = conns,
		.handshaking = handshaking,
		.per_net = per_net,
		.head_timeout_us = HOUR_US,
	};
}

static void start(struct fx *f, struct anfu_conntrack_limits main_lim)
{
	struct anfu_conntrack_limits lim[ANFU_CONNTRACK_POOLS] = { main_lim, limits(4, 4, 4) };

	assert_int_equal(anfu_conntrack_new(lim, &f->t), 0);
}

/* A deadline an hour from now. Deadlines are absolute monotonic times, and
 * CLOCK_MONOTONIC counts from boot: a constant would already be past on a
 * machine up for longer than it, and the reaper would cut the connection. */
static int64_t far(void)
{
	return anfu_clock_mono_us() + HOUR_US;
}

/* Tracks a new connection from addr (IPv4) in the main pool. */
static struct side *add(struct fx *f, const uint8_t *addr, int64_t deadline_us)
{
	struct side *s = &f->s[f->n++];
	int sv[2];

	assert_true(f->n <= MAX_CONNS);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s->ours = sv[0];
	s->peer = sv[1];
	s->conn = anfu_conntrack_add(f->t, ANFU_CONNTRACK_MAIN, s->ours, AF_INET, addr, deadline_us,
				     &s->verdict);
	assert_non_null(s->conn);
	return s;
}

/* True when the tracked end was shut down (end-of-file on the peer now). */
static bool cut_now(const struct side *s)
{
	char c;
	ssize_t n = recv(s->peer, &c, 1, MSG_DONTWAIT);

	return n == 0;
}

/* Waits (bounded) until the tracked end is shut down; true if it was. */
static bool cut_eventually(const struct side *s)
{
	struct pollfd p = { .fd = s->peer, .events = POLLIN };

	return poll(&p, 1, REAPER_WAIT_MS) == 1 && cut_now(s);
}

static void drop(struct fx *f, struct side *s)
{
	anfu_conntrack_remove(f->t, s->conn);
	s->conn = NULL;
}

static struct anfu_conntrack_stats stats(struct fx *f)
{
	struct anfu_conntrack_stats st;

	anfu_conntrack_stats(f->t, ANFU_CONNTRACK_MAIN, &st);
	return st;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < f->n; i++) {
		anfu_conntrack_remove(f->t, f->s[i].conn);
		close(f->s[i].ours);
		close(f->s[i].peer);
	}
	anfu_conntrack_free(f->t);
	free(f);
	return 0;
}

/* ---- the network of an address ------------------------------------------ */

static bool same_net(int fa, const uint8_t *a, int fb, const uint8_t *b)
{
	struct anfu_netkey ka, kb;

	anfu_conntrack_netkey(fa, a, &ka);
	anfu_conntrack_netkey(fb, b, &kb);
	return memcmp(&ka, &kb, sizeof(ka)) == 0;
}

/* req: WEB-CONC-03 */
static void test_ipv4_counts_by_24_and_ipv6_by_64(void **state)
{
	static const uint8_t v6_a[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t v6_a2[16] = { 0x20, 0x01, 0x0d, 0xb8, 0,	 1,    0,    2,
					   0xff, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	static const uint8_t v6_b[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 9 };
	static const uint8_t v6_like_v4[16] = { 10, 1, 2, 0 };

	(void)state;
	assert_true(same_net(AF_INET, net_a1, AF_INET, net_a2));
	assert_false(same_net(AF_INET, net_a1, AF_INET, net_b1));
	assert_true(same_net(AF_INET6, v6_a, AF_INET6, v6_a2));
	assert_false(same_net(AF_INET6, v6_a, AF_INET6, v6_b));
	assert_true(same_net(AF_INET6, mapped, AF_INET, net_a1));
	assert_false(same_net(AF_INET6, v6_like_v4, AF_INET, net_a1));
}

/* ---- admission ------------------------------------------------------------ */

/* req: WEB-CONC-03, WEB-DOS-01 */
static void test_network_at_its_cap_is_refused_others_are_not(void **state)
{
	struct fx *f = *state;
	struct side *a1, *a2, *a3, *b1, *a3again;

	start(f, limits(10, 10, 2));
	a1 = add(f, net_a1, far());
	a2 = add(f, net_a2, far());
	a3 = add(f, net_a3, far());
	b1 = add(f, net_b1, far());
	assert_int_equal(a1->verdict, ANFU_CONN_ADMITTED);
	assert_int_equal(a2->verdict, ANFU_CONN_ADMITTED);
	assert_int_equal(a3->verdict, ANFU_CONN_REFUSED_NET);
	assert_int_equal(b1->verdict, ANFU_CONN_ADMITTED);
	assert_false(cut_now(a1));
	assert_false(cut_now(a2));
	assert_true(cut_now(a3));
	assert_false(cut_now(b1));
	assert_int_equal(stats(f).handshaking, 3);
	assert_int_equal(stats(f).refused_net, 1);
	/* A closed connection frees its place; a refused one never held one. */
	drop(f, a3);
	drop(f, a1);
	a3again = add(f, net_a3, far());
	assert_int_equal(a3again->verdict, ANFU_CONN_ADMITTED);
	assert_false(cut_now(a3again));
	assert_int_equal(stats(f).handshaking, 3);
}

/* req: WEB-DOS-01, WEB-CONC-01 */
static void test_full_handshake_share_evicts_the_oldest_handshaking(void **state)
{
	struct fx *f = *state;
	struct side *a, *b, *c, *d;

	start(f, limits(10, 3, 10));
	a = add(f, net_a1, far());
	b = add(f, net_a2, far());
	c = add(f, net_b1, far());
	d = add(f, net_a3, far());
	assert_int_equal(d->verdict, ANFU_CONN_EVICTED_OTHER);
	assert_true(cut_now(a));
	assert_false(cut_now(b));
	assert_false(cut_now(c));
	assert_false(cut_now(d));
	assert_int_equal(stats(f).handshaking, 3);
	assert_int_equal(stats(f).evicted, 1);
	/* MHD closes the evicted one later: that changes no count. */
	drop(f, a);
	assert_int_equal(stats(f).handshaking, 3);
}

/* The reserve: with the handshake share full, a newcomer evicts even though
 * the pool has room, and the room stays for established connections.
 * req: WEB-DOS-01, WEB-CONC-01 */
static void test_reserve_is_kept_for_established_connections(void **state)
{
	struct fx *f = *state;
	struct side *a, *b, *c, *d, *e;

	start(f, limits(4, 2, 10));
	a = add(f, net_a1, far());
	b = add(f, net_a2, far());
	c = add(f, net_b1, far());
	assert_int_equal(c->verdict, ANFU_CONN_EVICTED_OTHER);
	assert_true(cut_now(a));
	anfu_conntrack_established(b->conn, anfu_clock_mono_us());
	anfu_conntrack_established(c->conn, anfu_clock_mono_us());
	d = add(f, net_a3, far());
	e = add(f, net_a1, far());
	assert_int_equal(d->verdict, ANFU_CONN_ADMITTED);
	assert_int_equal(e->verdict, ANFU_CONN_ADMITTED);
	assert_int_equal(stats(f).established, 2);
	assert_int_equal(stats(f).handshaking, 2);
}

/* req: WEB-DOS-01, WEB-CONC-01 */
static void test_established_connections_are_never_evicted(void **state)
{
	struct fx *f = *state;
	struct side *a, *b, *c, *d, *e;

	start(f, limits(3, 3, 10));
	a = add(f, net_a1, far());
	b = add(f, net_a2, far());
	anfu_conntrack_established(a->conn, anfu_clock_mono_us());
	anfu_conntrack_established(b->conn, anfu_clock_mono_us());
	c = add(f, net_b1, far());
	d = add(f, net_a3, far());
	/* The pool is full: d takes c's place, the only one in its handshake. */
	assert_int_equal(d->verdict, ANFU_CONN_EVICTED_OTHER);
	assert_true(cut_now(c));
	assert_false(cut_now(a));
	assert_false(cut_now(b));
	anfu_conntrack_established(d->conn, anfu_clock_mono_us());
	/* Every slot established: the newcomer is the one refused. */
	e = add(f, net_a1, far());
	assert_int_equal(e->verdict, ANFU_CONN_REFUSED_FULL);
	assert_true(cut_now(e));
	assert_false(cut_now(a));
	assert_false(cut_now(b));
	assert_false(cut_now(d));
	assert_int_equal(stats(f).established, 3);
	assert_int_equal(stats(f).refused_full, 1);
}

/* ---- deadlines ------------------------------------------------------------ */

/* A connection still in its handshake at its deadline is cut and stops
 * counting, also against its network. req: WEB-DOS-01, WEB-CONC-04 */
static void test_handshake_deadline_cuts_and_frees_the_place(void **state)
{
	struct fx *f = *state;
	struct side *a, *a2;

	start(f, limits(10, 10, 1));
	a = add(f, net_a1, anfu_clock_mono_us() - 1);
	assert_int_equal(a->verdict, ANFU_CONN_ADMITTED);
	assert_true(cut_eventually(a));
	assert_int_equal(stats(f).handshaking, 0);
	assert_int_equal(anfu_conntrack_reaped(f->t), 1);
	a2 = add(f, net_a2, far());
	assert_int_equal(a2->verdict, ANFU_CONN_ADMITTED);
}

/* The end of the handshake replaces the handshake deadline by
 * now + head timeout (an hour here): given a "now" an hour in the past,
 * the reaper cuts a connection whose handshake deadline was an hour away.
 * req: WEB-DOS-01, WEB-CONC-04 */
static void test_end_of_handshake_sets_the_head_deadline(void **state)
{
	struct fx *f = *state;
	int64_t now = anfu_clock_mono_us();
	struct side *a, *b;

	start(f, limits(10, 10, 10));
	a = add(f, net_a1, now + HOUR_US);
	b = add(f, net_a2, now + HOUR_US);
	anfu_conntrack_established(a->conn, now - HOUR_US - 1);
	assert_true(cut_eventually(a));
	assert_false(cut_now(b));
	assert_int_equal(stats(f).established, 0);
	assert_int_equal(stats(f).handshaking, 1);
}

static void test_bad_limits_are_refused(void **state)
{
	struct anfu_conntrack_limits lim[ANFU_CONNTRACK_POOLS] = { limits(4, 5, 1),
								   limits(4, 4, 1) };
	struct anfu_conntrack *t = NULL;

	(void)state;
	assert_int_equal(anfu_conntrack_new(lim, &t), ANFU_EINVAL);
	lim[0] = limits(4, 0, 1);
	assert_int_equal(anfu_conntrack_new(lim, &t), ANFU_EINVAL);
	lim[0] = limits(4, 4, 0);
	assert_int_equal(anfu_conntrack_new(lim, &t), ANFU_EINVAL);
	assert_null(t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_counts_by_24_and_ipv6_by_64),
		T(test_network_at_its_cap_is_refused_others_are_not),
		T(test_full_handshake_share_evicts_the_oldest_handshaking),
		T(test_reserve_is_kept_for_established_connections),
		T(test_established_connections_are_never_evicted),
		T(test_handshake_deadline_cuts_and_frees_the_place),
		T(test_end_of_handshake_sets_the_head_deadline),
		cmocka_unit_test(test_bad_limits_are_refused),
	};

	return cmocka_run_group_tests_name("conntrack", tests, NULL, NULL);
}
