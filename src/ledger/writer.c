/*
 * ledger/writer: the single ledger writer (DESIGN.md): the bounded queue,
 * the thread, its batches and the seal of each batch.
 *
 * Owns the queue (a doubly linked list of requests that live on their
 * callers' stacks, under l->mu) and, on the writer thread, the cursors of
 * the journal. A batch is one anfu_tx_run_batch(): a first command reads
 * the cursors (ledger_head, the journal's last seq and ts_us), one command
 * per request, and a last command that seals the batch: the ledger_batch
 * row hashing every journal row the head does not cover yet, chained to
 * the head's hash, and the head moved to it. If the seal alone were ever
 * refused, the rows it missed stay in the head's uncovered range and the
 * next batch's seal covers them (with the same batch number, which they
 * carry), or the writer's start does: the chain never skips a row. The callers of a batch are woken
 * after it committed (or failed: then each gets its failure), each on its
 * own condition variable.
 * Trusts the requests to have been checked (ledger.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "ledger/chain.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* ---- the queue (under l->mu) ------------------------------------------ */

static void unlink_req(struct anfu_ledger *l, struct ledger_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	ANFU_ASSERT(l->queued > 0);
	l->queued--;
}

static void abs_mono(int64_t mono_us, struct timespec *ts)
{
	ts->tv_sec = (time_t)(mono_us / 1000000);
	ts->tv_nsec = (long)(mono_us % 1000000) * 1000;
}

/* The caller's side: queue r and wait on r's own condition variable, so a
 * finished batch wakes exactly its callers (one broadcast to every waiting
 * caller cost more than the batch's work at 64 callers on 2 cores). */
static int call_locked(struct anfu_ledger *l, struct ledger_req *r, const struct timespec *until,
		       int64_t deadline_ms)
{
	if (l->stopping)
		return ANFU_EINVAL;
	if (l->queued >= (size_t)l->cfg->queue_max)
		return ANFU_EOVERLOAD;
	if (anfu_clock_mono_us() / 1000 >= deadline_ms)
		return ANFU_ETIMEDOUT;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->queued++;
	pthread_cond_signal(&l->work);
	while (r->state != LEDGER_REQ_DONE) {
		if (r->state == LEDGER_REQ_QUEUED) {
			int w = pthread_cond_timedwait(&r->cv, &l->mu, until);

			if (w == ETIMEDOUT && r->state == LEDGER_REQ_QUEUED) {
				unlink_req(l, r);
				return ANFU_ETIMEDOUT;
			}
		} else {
			/* Taken: the writer answers; the deadline no longer
			 * applies (the request may already be committed). */
			pthread_cond_wait(&r->cv, &l->mu);
		}
	}
	return r->rc;
}

int ledger_writer_call(struct anfu_ledger *l, struct ledger_req *r, int64_t deadline_ms)
{
	struct timespec until;
	pthread_condattr_t ca;
	int rc;

	abs_mono(deadline_ms * 1000, &until);
	r->state = LEDGER_REQ_QUEUED;
	r->rc = 0;
	r->next = NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&l->mu);
	rc = call_locked(l, r, &until, deadline_ms);
	pthread_mutex_unlock(&l->mu);
	pthread_cond_destroy(&r->cv);
	return rc;
}

/* ---- one batch ------------------------------------------------------- */

struct head {
	int64_t last_transfer, last_batch, last_ts_us;
	char last_hash[LEDGER_HASH_HEX + 1];
};

static int head_row(void *ud, const struct anfu_row *row)
{
	struct head *h = ud;
	const char *hash = anfu_row_text(row, 3, NULL);

	if (!hash || anfu_strlcpy(h->last_hash, hash, sizeof(h->last_hash)) < 0)
		return ANFU_ESCHEMA;
	h->last_transfer = anfu_row_int(row, 0);
	h->last_batch = anfu_row_int(row, 1);
	h->last_ts_us = anfu_row_int(row, 2);
	return 1;
}

/* The first column of the one row, an integer. */
static int int_row(void *ud, const struct anfu_row *row)
{
	*(int64_t *)ud = anfu_row_int(row, 0);
	return 1;
}

struct batch {
	struct anfu_ledger *l;
	struct ledger_batch_ctx ctx;
	struct head head;
	int64_t first_seq; /* the journal's last seq before the batch */
	bool loaded;	   /* the first command read the cursors */
	int load_err;
	struct ledger_req **reqs;
	size_t n;
};

/* The first command: the cursors, from the head and the journal itself
 * (rows a failed seal left uncovered are after the head). */
static int load_cmd(struct anfu_tx *tx, void *ud)
{
	struct batch *b = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t seq = -1, ts = -1;
	int r;

	/* Three reads in one round trip (each max() alone: SQLite answers
	 * it from its index's end). */
	b->head.last_hash[0] = '\0';
	r = anfu_db_send(db,
			 "SELECT last_transfer, last_batch, last_ts_us, last_hash FROM ledger_head "
			 "WHERE id = 1",
			 NULL, 0, head_row, &b->head, -1);
	if (r == 0)
		r = anfu_db_send(db, "SELECT coalesce(max(seq), 0) FROM ledger_transfer", NULL, 0,
				 int_row, &seq, -1);
	if (r == 0)
		r = anfu_db_send(db, "SELECT coalesce(max(ts_us), 0) FROM ledger_transfer", NULL, 0,
				 int_row, &ts, -1);
	if (r == 0)
		r = anfu_db_flush(db);
	if (r == 0 && (b->head.last_hash[0] == '\0' || seq < 0 || ts < 0))
		r = ANFU_ESCHEMA;
	if (r < 0) {
		b->load_err = r;
		return r;
	}
	ANFU_ASSERT(seq >= b->head.last_transfer && ts >= b->head.last_ts_us);
	if (b->ctx.seal)
		ledger_seal_reset(b->ctx.seal);
	b->ctx.cur.last_transfer = seq;
	b->ctx.cur.last_ts_us = ts;
	b->first_seq = seq;
	b->ctx.batch_seq = b->head.last_batch + 1;
	b->loaded = true;
	return 0;
}

struct req_cmd {
	struct batch *b;
	struct ledger_req *req;
};

static int request_cmd(struct anfu_tx *tx, void *ud)
{
	struct req_cmd *c = ud;
	struct batch *b = c->b;
	struct ledger_cursor saved = b->ctx.cur;
	int r;

	if (!b->loaded)
		return b->load_err ? b->load_err : ANFU_EINTERNAL;
	if (c->req->kind == LEDGER_REQ_OPEN)
		r = ledger_open_cmd(tx, c->req->open, b->ctx.now_ms);
	else if (c->req->kind == LEDGER_REQ_EXPIRE)
		r = ledger_expire_pass(tx, &b->ctx, c->req->expire);
	else if (c->req->kind == LEDGER_REQ_CALL)
		r = ledger_call_cmd(tx, &b->ctx, c->req->call);
	else
		r = ledger_request_apply(tx, &b->ctx, c->req->caller, c->req->t, c->req->n,
					 c->req->results);
	if (r < 0)
		b->ctx.cur = saved; /* the command's savepoint undid its rows */
	return r;
}

/* The last command: the batch row over every row after the head, and
 * the head moved to it. Nothing to seal: nothing written. */
static int seal_cmd(struct anfu_tx *tx, void *ud)
{
	struct batch *b = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t first = b->head.last_transfer + 1, last = b->ctx.cur.last_transfer;
	char hash[LEDGER_HASH_HEX + 1];
	int r;

	if (!b->loaded || last < first)
		return 0;
	/* From the rows as written; from the table when rows a failed seal
	 * left come first, or the copy is incomplete. */
	r = b->ctx.seal ? ledger_seal_hash(b->ctx.seal, b->ctx.hash, first, last, b->head.last_hash,
					   hash)
			: ANFU_ENOTFOUND;
	if (r == ANFU_ENOTFOUND)
		r = ledger_batch_hash(db, b->ctx.hash, first, last, b->head.last_hash, hash);
	if (r == 0) {
		const struct anfu_param p[] = {
			ANFU_PI(b->ctx.batch_seq),
			ANFU_PI(first),
			ANFU_PI(last),
			ANFU_PI(b->ctx.cur.last_ts_us),
			ANFU_PSN(b->head.last_hash, strlen(b->head.last_hash)),
			ANFU_PSN(hash, strlen(hash)),
		};

		/* Its outcome comes with the head's update. */
		r = anfu_db_send(
			db,
			"INSERT INTO ledger_batch (seq, first_transfer, last_transfer, ts_us, "
			"prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
			p, 6, NULL, NULL, 1);
	}
	if (r == 0) {
		const struct anfu_param p[] = {
			ANFU_PI(last),
			ANFU_PI(b->ctx.batch_seq),
			ANFU_PI(b->ctx.cur.last_ts_us),
			ANFU_PSN(hash, strlen(hash)),
		};
		int64_t changed = 0;

		r = anfu_db_exec(db,
				 "UPDATE ledger_head SET last_transfer = $1, last_batch = $2, "
				 "last_ts_us = $3, last_hash = $4 WHERE id = 1",
				 p, 4, NULL, NULL, &changed);
		if (r == 0 && changed != 1)
			r = ANFU_ESCHEMA;
	}
	return r;
}

/* Runs the taken requests as one batch and sets each one's rc. */
static void run_batch(struct anfu_ledger *l, struct ledger_seal *seal, struct ledger_req **reqs,
		      size_t n)
{
	struct anfu_tx_cmd *cmds = anfu_xcalloc(n + 2, sizeof(*cmds));
	struct req_cmd *rc = anfu_xcalloc(n, sizeof(*rc));
	struct batch b;
	int64_t t0;
	int r;

	memset(&b, 0, sizeof(b));
	b.l = l;
	b.reqs = reqs;
	b.n = n;
	b.ctx.hash = l->hash;
	b.ctx.now_ms = anfu_clock_now_ms();
	b.ctx.seal = seal;
	cmds[0] = (struct anfu_tx_cmd){ NULL, load_cmd, &b, 0 };
	for (size_t i = 0; i < n; i++) {
		rc[i] = (struct req_cmd){ &b, reqs[i] };
		cmds[i + 1] = (struct anfu_tx_cmd){ reqs[i]->actor, request_cmd, &rc[i], 0 };
	}
	cmds[n + 1] = (struct anfu_tx_cmd){ NULL, seal_cmd, &b, 0 };
	t0 = anfu_clock_mono_us();
	r = anfu_tx_run_batch(l->tx, cmds, n + 2);
	ledger_metrics_batch(&l->metrics, r == 0 ? b.ctx.cur.last_transfer - b.first_seq : 0,
			     anfu_clock_mono_us() - t0, r == 0);
	if (r == 0 && cmds[n + 1].result < 0)
		anfu_log_error("ledger.seal",
			       "batch %" PRId64 " committed without its seal (%s); the next "
			       "batch's seal covers its transfers",
			       b.ctx.batch_seq, anfu_strerror(cmds[n + 1].result));
	for (size_t i = 0; i < n; i++) {
		reqs[i]->rc = r < 0 ? r : cmds[i + 1].result;
		if (reqs[i]->rc == 0 && reqs[i]->kind == LEDGER_REQ_TRANSFERS)
			for (size_t k = 0; k < reqs[i]->n; k++)
				if (reqs[i]->results[k].code)
					ledger_metrics_refused(&l->metrics,
							       reqs[i]->results[k].code);
		if (reqs[i]->rc == 0 && reqs[i]->kind == LEDGER_REQ_EXPIRE)
			for (size_t k = 0; k < reqs[i]->expire->refused; k++)
				ledger_metrics_refused(&l->metrics, reqs[i]->expire->refusals[k]);
	}
	free(rc);
	free(cmds);
}

/* How many transfers a request adds to a batch (an open: one row; an
 * expiry pass: at most its max). */
static size_t weight(const struct ledger_req *r)
{
	if (r->kind == LEDGER_REQ_OPEN)
		return 1;
	return r->kind == LEDGER_REQ_EXPIRE ? r->expire->max : r->n;
}

void ledger_seal_leftovers(struct anfu_ledger *l)
{
	struct anfu_tx_cmd cmds[2];
	struct batch b;
	int r;

	memset(&b, 0, sizeof(b));
	b.l = l;
	b.ctx.hash = l->hash;
	b.ctx.now_ms = anfu_clock_now_ms();
	cmds[0] = (struct anfu_tx_cmd){ NULL, load_cmd, &b, 0 };
	cmds[1] = (struct anfu_tx_cmd){ NULL, seal_cmd, &b, 0 };
	r = anfu_tx_run_batch(l->tx, cmds, 2);
	if (r == 0)
		r = cmds[1].result;
	if (r < 0)
		anfu_log_error("ledger.seal", "sealing the rows after the head at start: %s",
			       anfu_strerror(r));
	else if (b.loaded && b.head.last_transfer < b.first_seq)
		anfu_log_info("ledger.seal",
			      "sealed transfers %" PRId64 "..%" PRId64 " left unsealed before "
			      "the start",
			      b.head.last_transfer + 1, b.first_seq);
}

void *ledger_writer_main(void *ud)
{
	struct anfu_ledger *l = ud;
	size_t cap = (size_t)l->cfg->batch_max;
	struct ledger_req **reqs = anfu_xcalloc(cap, sizeof(*reqs));
	struct ledger_seal seal;

	/* Requests of the batch before: the writer waits for more only when it
	 * had company (PostgreSQL's commit_delay waits only with
	 * commit_siblings). A lone caller's batches hold one request each, and
	 * a wait would only add to its latency. */
	size_t last_n = 0;

	ledger_seal_init(&seal);
	pthread_mutex_lock(&l->mu);
	for (;;) {
		size_t n = 0, w = 0;

		while (!l->head && !l->stopping)
			pthread_cond_wait(&l->work, &l->mu);
		if (!l->head && l->stopping)
			break;
		if (l->cfg->batch_wait_us > 0 && last_n > 1 && !l->stopping) {
			/* Wait a little for more, unless a full batch is there. */
			struct timespec until;
			size_t have = 0;

			for (struct ledger_req *q = l->head; q && have < cap; q = q->next)
				have += weight(q);
			if (have < cap)
				ledger_metrics_wait(&l->metrics);
			abs_mono(anfu_clock_mono_us() + l->cfg->batch_wait_us, &until);
			while (have < cap && !l->stopping &&
			       pthread_cond_timedwait(&l->work, &l->mu, &until) != ETIMEDOUT) {
				have = 0;
				for (struct ledger_req *q = l->head; q && have < cap; q = q->next)
					have += weight(q);
			}
			if (!l->head)
				continue; /* every request ran out of time meanwhile */
		}
		/* Whole requests, up to batch_max transfers (always one). */
		while (l->head && n < cap && (n == 0 || w + weight(l->head) <= cap)) {
			struct ledger_req *q = l->head;

			unlink_req(l, q);
			q->state = LEDGER_REQ_TAKEN;
			w += weight(q);
			reqs[n++] = q;
		}
		last_n = n;
		pthread_mutex_unlock(&l->mu);
		run_batch(l, &seal, reqs, n);
		pthread_mutex_lock(&l->mu);
		for (size_t i = 0; i < n; i++) {
			reqs[i]->state = LEDGER_REQ_DONE;
			pthread_cond_signal(&reqs[i]->cv);
		}
	}
	pthread_mutex_unlock(&l->mu);
	ledger_seal_free(&seal);
	free(reqs);
	return NULL;
}
