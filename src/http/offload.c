/*
 * http/offload: a fixed pool of threads with a bounded queue, which runs the
 * handlers of ANFU_ROUTE_OFFLOAD routes (slow CPU work: password hashing)
 * off the libmicrohttpd workers.
 *
 * A libmicrohttpd worker owns each of its connections for their whole
 * life and runs their handlers one at a time, so a handler that hashes a
 * password for 50-200 ms holds up every other connection of that worker,
 * and the hashes in flight are bounded by how connections happen to land
 * on workers. http/request.c therefore suspends the connection of such a
 * request and hands the handler to this pool; the worker goes on serving
 * its other connections.
 *
 * Owns the threads and the queue (a ring of ANFU_LIMIT_OFFLOAD_QUEUE jobs
 * by default); a job's argument stays its submitter's. A slot is reserved
 * before the job is submitted, so the caller learns that the queue is full
 * before it has done anything it would have to undo (suspending the
 * connection). Trusts its callers to submit only what they reserved and to
 * call anfu_offload_drain() before they free what queued jobs point to.
 * Thread-safe: one mutex guards the queue, reservations and the closed flag.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "http/internal.h"

struct job {
	anfu_offload_fn fn;
	void *arg;
};

struct anfu_offload {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a job is queued, or the pool closed */
	struct job *ring;
	size_t cap;	 /* ring slots */
	size_t head;	 /* next job to run */
	size_t len;	 /* jobs queued, not yet started */
	size_t reserved; /* slots reserved, not yet submitted */
	bool closed;	 /* no more reservations; queued jobs are cancelled */
	bool joined;
	int nthreads; /* threads started */
	pthread_t *threads;
};

/* Takes the next job, waiting for one; false when the pool closed and no
 * job can come any more. Called under p->mu. */
static bool next_job(struct anfu_offload *p, struct job *ret, bool *ret_run)
{
	while (p->len == 0 && !(p->closed && p->reserved == 0))
		(void)pthread_cond_wait(&p->cv, &p->mu);
	if (p->len == 0)
		return false;
	*ret = p->ring[p->head];
	p->head = (p->head + 1) % p->cap;
	p->len--;
	*ret_run = !p->closed;
	return true;
}

static void *worker_main(void *arg)
{
	struct anfu_offload *p = arg;
	struct job j;
	bool run;

	(void)pthread_mutex_lock(&p->mu);
	while (next_job(p, &j, &run)) {
		(void)pthread_mutex_unlock(&p->mu);
		j.fn(j.arg, run);
		(void)pthread_mutex_lock(&p->mu);
	}
	(void)pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Joins the threads started so far; safe to call once the pool is closed. */
static void join_all(struct anfu_offload *p)
{
	for (int i = 0; i < p->nthreads; i++)
		(void)pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

int anfu_offload_new(int threads, size_t queue_max, struct anfu_offload **ret)
{
	struct anfu_offload *p = NULL;
	int r = ANFU_EINVAL;

	if (threads < 1 || threads > ANFU_LIMIT_OFFLOAD_THREADS_MAX || queue_max < 1 ||
	    queue_max > ANFU_LIMIT_OFFLOAD_QUEUE || !ret)
		return ANFU_EINVAL;
	p = anfu_xcalloc(1, sizeof(*p));
	(void)pthread_mutex_init(&p->mu, NULL);
	(void)pthread_cond_init(&p->cv, NULL);
	p->cap = queue_max;
	p->ring = anfu_xcalloc(queue_max, sizeof(*p->ring));
	p->threads = anfu_xcalloc((size_t)threads, sizeof(*p->threads));
	for (; p->nthreads < threads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
			anfu_log_error("http_offload", "cannot start offload thread %d of %d",
				       p->nthreads + 1, threads);
			r = ANFU_EINTERNAL;
			goto out;
		}
	}
	*ret = p;
	p = NULL;
	r = 0;
out:
	anfu_offload_free(p);
	return r;
}

int anfu_offload_reserve(struct anfu_offload *p)
{
	int r = ANFU_EOVERLOAD;

	(void)pthread_mutex_lock(&p->mu);
	if (!p->closed && p->len + p->reserved < p->cap) {
		p->reserved++;
		r = 0;
	}
	(void)pthread_mutex_unlock(&p->mu);
	return r;
}

void anfu_offload_submit(struct anfu_offload *p, anfu_offload_fn fn, void *arg)
{
	(void)pthread_mutex_lock(&p->mu);
	ANFU_ASSERT(p->reserved > 0 && p->len < p->cap);
	p->reserved--;
	p->ring[(p->head + p->len) % p->cap] = (struct job){ fn, arg };
	p->len++;
	/* While closing, the last submission may be what the threads wait
	 * for to exit. */
	if (p->closed)
		(void)pthread_cond_broadcast(&p->cv);
	else
		(void)pthread_cond_signal(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
}

void anfu_offload_drain(struct anfu_offload *p)
{
	if (!p)
		return;
	(void)pthread_mutex_lock(&p->mu);
	p->closed = true;
	(void)pthread_cond_broadcast(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
	join_all(p);
	p->joined = true;
}

void anfu_offload_free(struct anfu_offload *p)
{
	if (!p)
		return;
	if (!p->joined)
		anfu_offload_drain(p);
	(void)pthread_cond_destroy(&p->cv);
	(void)pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->ring);
	free(p);
}

size_t anfu_offload_queued(struct anfu_offload *p)
{
	size_t n;

	(void)pthread_mutex_lock(&p->mu);
	n = p->len;
	(void)pthread_mutex_unlock(&p->mu);
	return n;
}
