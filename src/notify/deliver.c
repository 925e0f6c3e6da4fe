/*
 * notify/deliver: delivery passes, the retry schedule and the thread.
 *
 * Owns the status, attempts, next_attempt_ms, sent_ms and last_error
 * columns of notify_message. A pass picks due pending messages on the
 * injectable clock and takes them in steps of up to
 * ANFU_LIMIT_NOTIFY_SEND_BATCH: one transaction claims the step's
 * messages, each with an UPDATE that moves its next_attempt_ms past a
 * lease covering the whole step (changes == 1 means this step owns the
 * attempt), so two threads or two nodes never send one attempt twice and
 * a node that dies mid-step leaves the messages to be retried when the
 * lease ends. Each message is decrypted and sent outside any transaction;
 * one more transaction writes every outcome back: sent, or retried after
 * base * 2^(attempts-1) seconds, or failed after [notify] max_attempts (or
 * at once when it can never be sent). Two commits a step, not two a
 * message: under load the deliverer would otherwise queue for the write
 * lock once per notice. Only ids, kinds and channels are logged. Trusts
 * the vault for the texts and the channel senders for their verdicts.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "notify/internal.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

static const char *channel_name(enum anfu_channel ch)
{
	return ch == ANFU_CHANNEL_SMS ? "sms" : "email";
}

int64_t notify_retry_delay_ms(int64_t base_s, int64_t attempts)
{
	int64_t d;

	if (base_s < 1)
		base_s = 1;
	if (attempts < 1)
		attempts = 1;
	if (__builtin_mul_overflow(base_s, (int64_t)1000, &d) || d > ANFU_LIMIT_NOTIFY_RETRY_CAP_MS)
		return ANFU_LIMIT_NOTIFY_RETRY_CAP_MS;
	for (int64_t i = 1; i < attempts; i++) {
		if (d >= ANFU_LIMIT_NOTIFY_RETRY_CAP_MS / 2)
			return ANFU_LIMIT_NOTIFY_RETRY_CAP_MS;
		d *= 2;
	}
	return d;
}

/* ---- database steps ------------------------------------------------------ */

/* What became of one claimed message in this step. */
enum verdict {
	V_NONE,	  /* not claimed here, or not tried (a database error came first) */
	V_SENT,	  /* the channel accepted it */
	V_RETRY,  /* failed; retried later unless max_attempts is reached */
	V_FAILED, /* can never be sent */
};

struct due {
	char id[ANFU_ID_MAX];
	char kind[ANFU_LIMIT_NOTIFY_KIND_BYTES + 1];
	enum anfu_channel ch;
	int64_t attempts;
	/* set by the step */
	bool owned;
	enum verdict v;
	int64_t at_ms; /* when the verdict was reached */
	char err[ANFU_LIMIT_NOTIFY_ERROR_BYTES];
};

struct due_list {
	struct due items[ANFU_LIMIT_NOTIFY_QUERY_BATCH];
	size_t n;
};

static void copy_text(char *dst, size_t cap, const char *src)
{
	size_t len = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
}

static int due_row(void *ud, const struct anfu_row *row)
{
	struct due_list *l = ud;
	struct due *d;
	const char *ch = anfu_row_text(row, 1, NULL);

	if (l->n >= ANFU_LIMIT_NOTIFY_QUERY_BATCH)
		return 1;
	d = &l->items[l->n++];
	memset(d, 0, sizeof(*d));
	copy_text(d->id, sizeof(d->id), anfu_row_text(row, 0, NULL));
	d->ch = ch && strcmp(ch, "sms") == 0 ? ANFU_CHANNEL_SMS : ANFU_CHANNEL_EMAIL;
	copy_text(d->kind, sizeof(d->kind), anfu_row_text(row, 2, NULL));
	d->attempts = anfu_row_int(row, 3);
	return 0;
}

static int select_due(struct anfu_db *db, int64_t now, struct due_list *l)
{
	struct anfu_param p[] = { ANFU_PI(now), ANFU_PI(ANFU_LIMIT_NOTIFY_QUERY_BATCH) };

	l->n = 0;
	return anfu_db_exec(db,
			    "SELECT id, channel, kind, attempts FROM notify_message "
			    "WHERE status = 'pending' AND next_attempt_ms <= $1 "
			    "ORDER BY next_attempt_ms, id LIMIT $2",
			    p, 2, due_row, l, NULL);
}

/* The messages of one step: items[0..n) of a due list. */
struct step {
	struct anfu_notify *n;
	struct due *items;
	size_t count;
	int64_t now;
};

/* Claims every message of the step in one transaction: an UPDATE per
 * message moves its next_attempt_ms past a lease that covers all the
 * step's sends; changes == 1 means this step owns the attempt. */
static int claim_tx(struct anfu_tx *tx, void *ud)
{
	struct step *st = ud;
	int64_t lease = ((int64_t)st->n->cfg->mail.timeout_s * 1000) * (int64_t)st->count +
			ANFU_LIMIT_NOTIFY_LEASE_SLACK_MS;
	int r = 0;

	for (size_t i = 0; i < st->count; i++)
		st->items[i].owned = false; /* nothing owned if this attempt rolls back */
	for (size_t i = 0; i < st->count && r == 0; i++) {
		struct due *d = &st->items[i];
		struct anfu_param p[] = { ANFU_PS(d->id), ANFU_PI(st->now + lease),
					  ANFU_PI(st->now) };
		int64_t changes = 0;

		r = anfu_db_exec(anfu_tx_db(tx),
				 "UPDATE notify_message SET next_attempt_ms = $2 WHERE id = $1 "
				 "AND status = 'pending' AND next_attempt_ms <= $3",
				 p, 3, NULL, NULL, &changes);
		d->owned = r == 0 && changes == 1;
	}
	return r;
}

static int claim_all(struct step *st)
{
	int r = anfu_tx_run(st->n->tx, NULL, claim_tx, st);

	if (r < 0)
		for (size_t i = 0; i < st->count; i++)
			st->items[i].owned = false;
	return r;
}

/* Writes one verdict (V_SENT, V_RETRY or V_FAILED) on its message. */
static int record_one(struct anfu_notify *n, struct anfu_db *db, const struct due *d)
{
	int64_t attempts = d->attempts + 1;
	bool final;

	if (d->v == V_SENT) {
		struct anfu_param p[] = { ANFU_PS(d->id), ANFU_PI(d->at_ms), ANFU_PI(attempts) };

		return anfu_db_exec(db,
				    "UPDATE notify_message SET status = 'sent', attempts = $3, "
				    "sent_ms = $2, last_error = NULL WHERE id = $1",
				    p, 3, NULL, NULL, NULL);
	}
	final = d->v == V_FAILED || attempts >= n->cfg->notify.max_attempts;
	{
		int64_t next =
			d->at_ms + notify_retry_delay_ms(n->cfg->notify.retry_base_s, attempts);
		struct anfu_param p[] = {
			ANFU_PS(d->id),	   ANFU_PS(final ? "failed" : "pending"),
			ANFU_PI(attempts), ANFU_PI(next),
			ANFU_PS(d->err),
		};

		return anfu_db_exec(db,
				    "UPDATE notify_message SET status = $2, attempts = $3, "
				    "next_attempt_ms = $4, last_error = $5 WHERE id = $1",
				    p, 5, NULL, NULL, NULL);
	}
}

/* Records every verdict of the step in one transaction. */
static int record_tx(struct anfu_tx *tx, void *ud)
{
	struct step *st = ud;
	int r = 0;

	for (size_t i = 0; i < st->count && r == 0; i++)
		if (st->items[i].v != V_NONE)
			r = record_one(st->n, anfu_tx_db(tx), &st->items[i]);
	return r;
}

struct enc_row {
	char *target, *subject, *body;
};

static int enc_row_cb(void *ud, const struct anfu_row *row)
{
	struct enc_row *e = ud;
	const char *t = anfu_row_text(row, 0, NULL);
	const char *s = anfu_row_text(row, 1, NULL);
	const char *b = anfu_row_text(row, 2, NULL);

	if (t && s && b && !e->target) {
		e->target = anfu_xstrdup(t);
		e->subject = anfu_xstrdup(s);
		e->body = anfu_xstrdup(b);
	}
	return 1;
}

static void msg_clear(struct notify_msg *m)
{
	anfu_free_secret(m->target);
	anfu_free_secret(m->subject);
	anfu_free_secret(m->body);
	m->target = m->subject = m->body = NULL;
}

/* Reads and decrypts the texts of d into m. ANFU_ECRYPTO when they do not
 * open (the message can never be sent). */
static int load_msg(struct anfu_notify *n, struct anfu_db *db, const struct due *d,
		    struct notify_msg *m)
{
	struct enc_row e = { NULL, NULL, NULL };
	struct anfu_param p[] = { ANFU_PS(d->id) };
	size_t len;
	int r;

	memcpy(m->id, d->id, sizeof(m->id));
	memcpy(m->kind, d->kind, sizeof(m->kind));
	m->ch = d->ch;
	m->attempts = d->attempts;
	r = anfu_db_exec(db,
			 "SELECT target_enc, subject_enc, body_enc FROM notify_message "
			 "WHERE id = $1",
			 p, 1, enc_row_cb, &e, NULL);
	if (r == 0 && !e.target)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = anfu_vault_open_field(n->vault, db, "notify.target", d->id, e.target,
					  &m->target, &len);
	if (r == 0)
		r = anfu_vault_open_field(n->vault, db, "notify.subject", d->id, e.subject,
					  &m->subject, &len);
	if (r == 0)
		r = anfu_vault_open_field(n->vault, db, "notify.body", d->id, e.body, &m->body,
					  &len);
	free(e.target);
	free(e.subject);
	free(e.body);
	if (r < 0)
		msg_clear(m);
	return r;
}

/* Logs a failed attempt the way the operator reads it. */
static void log_failure(struct anfu_notify *n, const struct due *d)
{
	int64_t attempts = d->attempts + 1;

	if (d->v == V_FAILED || attempts >= n->cfg->notify.max_attempts)
		anfu_log_error("notify.failed",
			       "id=%s kind=%s channel=%s attempts=%" PRId64 " error=%s", d->id,
			       d->kind, channel_name(d->ch), attempts, d->err);
	else
		anfu_log_warn("notify.retry",
			      "id=%s kind=%s channel=%s attempts=%" PRId64 " error=%s", d->id,
			      d->kind, channel_name(d->ch), attempts, d->err);
}

/* ---- one step ------------------------------------------------------------- */

/* Sends one claimed message outside any transaction and notes its
 * verdict in d. Negative only on a database error (d keeps V_NONE: the
 * lease retries it). */
static int send_one(struct anfu_notify *n, struct anfu_db *db, struct due *d)
{
	struct notify_msg m = { 0 };
	int r;

	r = load_msg(n, db, d, &m);
	if (r < 0) {
		if (r != ANFU_ECRYPTO && r != ANFU_ENOTFOUND)
			return r;
		d->v = V_FAILED;
		d->at_ms = anfu_clock_now_ms();
		copy_text(d->err, sizeof(d->err), "cannot decrypt");
		log_failure(n, d);
		return 0;
	}
	if (m.ch == ANFU_CHANNEL_SMS)
		r = notify_sms_send(n->cfg, &m, d->err, sizeof(d->err));
	else
		r = notify_smtp_send(n->cfg, &m, d->err, sizeof(d->err));
	d->at_ms = anfu_clock_now_ms();
	if (r == 0) {
		d->v = V_SENT;
	} else {
		d->v = r != ANFU_EIO ? V_FAILED : V_RETRY;
		if (!d->err[0])
			copy_text(d->err, sizeof(d->err), anfu_strerror(r));
		log_failure(n, d);
	}
	msg_clear(&m);
	return 0;
}

/*
 * One step over items[0..count): claims them in one transaction, sends
 * the ones it owns, then records every verdict in one transaction, also
 * after a database error stopped the sends (what was sent is recorded;
 * the rest waits for the lease). A message is marked sent only after its
 * channel accepted it, and a crash between the send and the record sends
 * it again when the lease ends: at least once, as before. Sets *ret_sent
 * to the messages recorded as sent.
 */
static int step(struct anfu_notify *n, struct anfu_db *db, struct due *items, size_t count,
		int *ret_sent)
{
	struct step st = { n, items, count, anfu_clock_now_ms() };
	int r, r2, sent = 0;
	bool any = false;

	r = claim_all(&st);
	for (size_t i = 0; i < count && r == 0; i++)
		if (items[i].owned)
			r = send_one(n, db, &items[i]);
	for (size_t i = 0; i < count; i++)
		any = any || items[i].v != V_NONE;
	if (!any)
		return r;
	r2 = anfu_tx_run(n->tx, NULL, record_tx, &st);
	if (r2 < 0)
		return r < 0 ? r : r2;
	for (size_t i = 0; i < count; i++) {
		if (items[i].v != V_SENT)
			continue;
		anfu_log_info("notify.sent", "id=%s kind=%s channel=%s", items[i].id, items[i].kind,
			      channel_name(items[i].ch));
		sent++;
	}
	*ret_sent = sent;
	return r;
}

/* One bounded pass over the due messages. */
static int pass(struct anfu_notify *n, struct anfu_db *db, int *ret_sent)
{
	struct due_list *l = anfu_xmalloc(sizeof(*l));
	int sent = 0, seen = 0, r = 0;

	while (seen < ANFU_LIMIT_NOTIFY_PASS) {
		r = select_due(db, anfu_clock_now_ms(), l);
		if (r < 0 || l->n == 0)
			break;
		for (size_t i = 0; i < l->n && r >= 0; i += ANFU_LIMIT_NOTIFY_SEND_BATCH) {
			size_t k = l->n - i < ANFU_LIMIT_NOTIFY_SEND_BATCH
					   ? l->n - i
					   : ANFU_LIMIT_NOTIFY_SEND_BATCH;
			int s = 0;

			r = step(n, db, &l->items[i], k, &s);
			sent += s;
			seen += (int)k;
		}
		if (r < 0)
			break;
	}
	free(l);
	if (r < 0)
		return r;
	*ret_sent = sent;
	return 0;
}

/*
 * See notify.h. db must have no open transaction (ANFU_EINVAL): every
 * step commits on its own, through the executor on the calling thread's
 * connection (db is that connection). Returns the first database error; messages
 * that failed to send are not errors (they are retried or failed).
 */
int anfu_notify_deliver_due(struct anfu_notify *n, struct anfu_db *db, int *ret_sent)
{
	int sent = 0, r;

	if (!n || !db || db->tx_depth != 0)
		return ANFU_EINVAL;
	r = pass(n, db, &sent);
	if (r < 0)
		return r;
	if (ret_sent)
		*ret_sent = sent;
	return 0;
}

/* ---- the thread ------------------------------------------------------------ */

static void deliver_now(struct anfu_notify *n)
{
	struct anfu_db *db = NULL;
	int sent = 0, r;

	r = anfu_store_db(anfu_tx_exec_store(n->tx), &db);
	if (r == 0)
		r = pass(n, db, &sent);
	if (r < 0)
		anfu_log_error("notify.deliver", "delivery pass: %s", anfu_strerror(r));
}

int64_t notify_pass_due_ms(int64_t last_ms, int64_t now_ms)
{
	if (last_ms <= 0 || now_ms - last_ms >= ANFU_LIMIT_NOTIFY_PASS_GAP_MS)
		return now_ms;
	return last_ms + ANFU_LIMIT_NOTIFY_PASS_GAP_MS;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec mono_at(int64_t ms)
{
	return (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
}

static void *deliverer(void *p)
{
	struct anfu_notify *n = p;
	int64_t last = 0;

	(void)pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		struct timespec ts = mono_at(mono_ms() + 1000);
		int64_t due;

		while (!n->stop && !n->wake)
			if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
				break;
		/* Pokes that come while the gap runs join this pass. */
		due = notify_pass_due_ms(last, mono_ms());
		ts = mono_at(due);
		while (!n->stop && mono_ms() < due)
			if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
				break;
		n->wake = false;
		if (n->stop)
			break;
		(void)pthread_mutex_unlock(&n->mu);
		last = mono_ms();
		deliver_now(n);
		(void)pthread_mutex_lock(&n->mu);
	}
	(void)pthread_mutex_unlock(&n->mu);
	return NULL;
}

/* See notify.h. ANFU_EINVAL when the thread runs already. */
int anfu_notify_start(struct anfu_notify *n)
{
	int r = 0;

	if (!n)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&n->mu);
	if (n->running) {
		r = ANFU_EINVAL;
	} else {
		n->stop = false;
		n->wake = true; /* deliver what queued up while we were down */
		if (pthread_create(&n->thread, NULL, deliverer, n) != 0) {
			anfu_log_error("notify.start", "cannot start the delivery thread");
			r = ANFU_EINTERNAL;
		} else {
			n->running = true;
		}
	}
	(void)pthread_mutex_unlock(&n->mu);
	return r;
}

/* See notify.h; NULL-safe, harmless before start. */
void anfu_notify_poke(struct anfu_notify *n)
{
	if (!n)
		return;
	(void)pthread_mutex_lock(&n->mu);
	n->wake = true;
	(void)pthread_cond_signal(&n->cv);
	(void)pthread_mutex_unlock(&n->mu);
}

void notify_stop(struct anfu_notify *n)
{
	bool running;

	(void)pthread_mutex_lock(&n->mu);
	running = n->running;
	n->stop = true;
	(void)pthread_cond_signal(&n->cv);
	(void)pthread_mutex_unlock(&n->mu);
	if (!running)
		return;
	(void)pthread_join(n->thread, NULL);
	(void)pthread_mutex_lock(&n->mu);
	n->running = false;
	(void)pthread_mutex_unlock(&n->mu);
}
