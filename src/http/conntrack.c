/*
 * http/conntrack: live connections and the deadline reaper (slowloris,
 * WEB-DOS-01, WEB-CONC-04).
 *
 * libmicrohttpd's own timeout only fires when a connection is idle, so a
 * client that drips one header byte every few seconds would hold its slot
 * for ever. This module owns a mutex-protected list of the live connections
 * with a deadline each (set by the request code: accept + head timeout,
 * then head + body timeout while a body arrives, none while a handler runs
 * (also an offloaded one, whose connection MHD keeps suspended), and
 * completion + head timeout while waiting for the next request on a
 * kept-alive connection). A reaper thread wakes four times a second and
 * shuts down (shutdown(2), never close(2)) every socket past its deadline;
 * MHD then sees the error and closes the connection itself.
 *
 * Trusts MHD to call anfu_conntrack_remove() (NOTIFY_CONNECTION CLOSED)
 * before it closes the descriptor, so the reaper, which works under the
 * list mutex, never touches a descriptor number that was reused.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/internal.h"

#define REAP_INTERVAL_MS 250

struct anfu_conn {
	struct anfu_conn *prev, *next;
	int fd;
	_Atomic int64_t deadline_us; /* monotonic; 0 = none */
};

struct anfu_conntrack {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the reaper early at stop */
	struct anfu_conn *head;
	bool stop;
	pthread_t reaper;
	_Atomic uint64_t reaped;
};

/* Shuts down every connection past its deadline; called under t->mu. */
static void reap_once(struct anfu_conntrack *t, int64_t now_us)
{
	for (struct anfu_conn *c = t->head; c; c = c->next) {
		int64_t d = atomic_load(&c->deadline_us);

		if (d == 0 || d > now_us)
			continue;
		(void)shutdown(c->fd, SHUT_RDWR);
		atomic_store(&c->deadline_us, 0);
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
		ts.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int anfu_conntrack_new(struct anfu_conntrack **ret)
{
	struct anfu_conntrack *t = anfu_xcalloc(1, sizeof(*t));
	pthread_condattr_t ca;
	int r = ANFU_EINTERNAL;

	(void)pthread_mutex_init(&t->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&t->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0) {
		anfu_log_error("http_reaper", "cannot start the connection reaper");
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
	(void)pthread_cond_destroy(&t->cv);
	(void)pthread_mutex_destroy(&t->mu);
	free(t);
}

struct anfu_conn *anfu_conntrack_add(struct anfu_conntrack *t, int fd, int64_t deadline_us)
{
	struct anfu_conn *c = anfu_xcalloc(1, sizeof(*c));

	c->fd = fd;
	atomic_store(&c->deadline_us, deadline_us);
	pthread_mutex_lock(&t->mu);
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	pthread_mutex_unlock(&t->mu);
	return c;
}

void anfu_conntrack_remove(struct anfu_conntrack *t, struct anfu_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->mu);
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
	if (c)
		atomic_store(&c->deadline_us, deadline_us);
}

uint64_t anfu_conntrack_reaped(const struct anfu_conntrack *t)
{
	return t ? atomic_load(&t->reaped) : 0;
}
