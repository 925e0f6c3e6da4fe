/*
 * notify/deliver: delivery passes, the retry schedule and the thread.
 *
 * Owns the status, attempts, next_attempt_ms, sent_ms and last_error
 * columns of notify_message. A pass picks due pending messages on the
 * injectable clock and claims each with an UPDATE that moves its
 * next_attempt_ms past a lease (changes == 1 means this pass owns the
 * attempt), so two threads or two nodes never send one attempt twice and
 * a node that dies mid-send leaves the message to be retried when the
 * lease ends. The message is decrypted, sent outside any transaction and
 * the outcome written back: sent, or retried after base * 2^(attempts-1)
 * seconds, or failed after [notify] max_attempts (or at once when it can
 * never be sent). Only ids, kinds and channels are logged. Trusts the
 * vault for the texts and the channel senders for their verdicts.
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

/* One statement of write_one(). */
struct one {
	const char *sql;
	const struct anfu_param *p;
	size_t np;
	int64_t changes;
};

static int one_tx(struct anfu_tx *tx, void *ud)
{
	struct one *o = ud;

	return anfu_db_exec(anfu_tx_db(tx), o->sql, o->p, o->np, NULL, NULL, &o->changes);
}

/* One statement in a write transaction of its own. */
static int write_one(struct anfu_notify *n, const char *sql, const struct anfu_param *p, size_t np,
		     int64_t *ret_changes)
{
	struct one o = { sql, p, np, 0 };
	int r = anfu_tx_run(n->tx, NULL, one_tx, &o);

	if (r == 0 && ret_changes)
		*ret_changes = o.changes;
	return r;
}

struct due {
	char id[ANFU_ID_MAX];
	char kind[ANFU_LIMIT_NOTIFY_KIND_BYTES + 1];
	enum anfu_channel ch;
	int64_t attempts;
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

/* 1 when this pass now owns the attempt, 0 when someone else does. */
static int claim(struct anfu_notify *n, const struct due *d, int64_t now)
{
	int64_t lease = (int64_t)n->cfg->mail.timeout_s * 1000 + ANFU_LIMIT_NOTIFY_LEASE_SLACK_MS;
	int64_t changes = 0;
	struct anfu_param p[] = { ANFU_PS(d->id), ANFU_PI(now + lease), ANFU_PI(now) };
	int r;

	r = write_one(n,
		      "UPDATE notify_message SET next_attempt_ms = $2 WHERE id = $1 "
		      "AND status = 'pending' AND next_attempt_ms <= $3",
		      p, 3, &changes);
	if (r < 0)
		return r;
	return changes == 1 ? 1 : 0;
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

static int mark_sent(struct anfu_notify *n, const struct notify_msg *m, int64_t now)
{
	struct anfu_param p[] = { ANFU_PS(m->id), ANFU_PI(now), ANFU_PI(m->attempts + 1) };

	return write_one(n,
			 "UPDATE notify_message SET status = 'sent', attempts = $3, "
			 "sent_ms = $2, last_error = NULL WHERE id = $1",
			 p, 3, NULL);
}

/* Records a failed attempt; permanent failures end the message now. */
static int mark_failed(struct anfu_notify *n, const struct notify_msg *m, bool permanent,
		       const char *err)
{
	int64_t attempts = m->attempts + 1;
	int64_t now = anfu_clock_now_ms();
	bool final = permanent || attempts >= n->cfg->notify.max_attempts;
	int64_t next = now + notify_retry_delay_ms(n->cfg->notify.retry_base_s, attempts);
	struct anfu_param p[] = {
		ANFU_PS(m->id),	   ANFU_PS(final ? "failed" : "pending"),
		ANFU_PI(attempts), ANFU_PI(next),
		ANFU_PS(err),
	};

	if (final)
		anfu_log_error("notify.failed",
			       "id=%s kind=%s channel=%s attempts=%" PRId64 " error=%s", m->id,
			       m->kind, channel_name(m->ch), attempts, err);
	else
		anfu_log_warn("notify.retry",
			      "id=%s kind=%s channel=%s attempts=%" PRId64 " error=%s", m->id,
			      m->kind, channel_name(m->ch), attempts, err);
	return write_one(n,
			 "UPDATE notify_message SET status = $2, attempts = $3, "
			 "next_attempt_ms = $4, last_error = $5 WHERE id = $1",
			 p, 5, NULL);
}

/* ---- one message ---------------------------------------------------------- */

/* Claims, sends and records d. 1 when sent, 0 when not (retried, failed
 * or claimed elsewhere), negative on database errors. */
static int deliver_one(struct anfu_notify *n, struct anfu_db *db, const struct due *d)
{
	struct notify_msg m = { 0 };
	char err[ANFU_LIMIT_NOTIFY_ERROR_BYTES] = "";
	int r;

	r = claim(n, d, anfu_clock_now_ms());
	if (r <= 0)
		return r;
	r = load_msg(n, db, d, &m);
	if (r < 0) {
		if (r != ANFU_ECRYPTO && r != ANFU_ENOTFOUND)
			return r; /* a database error: the lease retries it */
		memcpy(m.id, d->id, sizeof(m.id));
		memcpy(m.kind, d->kind, sizeof(m.kind));
		m.ch = d->ch;
		m.attempts = d->attempts;
		r = mark_failed(n, &m, true, "cannot decrypt");
		return r < 0 ? r : 0;
	}
	if (m.ch == ANFU_CHANNEL_SMS)
		r = notify_sms_send(n->cfg, &m, err, sizeof(err));
	else
		r = notify_smtp_send(n->cfg, &m, err, sizeof(err));
	if (r == 0) {
		r = mark_sent(n, &m, anfu_clock_now_ms());
		if (r == 0) {
			anfu_log_info("notify.sent", "id=%s kind=%s channel=%s", m.id, m.kind,
				      channel_name(m.ch));
			r = 1;
		}
	} else {
		r = mark_failed(n, &m, r != ANFU_EIO, err[0] ? err : anfu_strerror(r));
	}
	msg_clear(&m);
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
		for (size_t i = 0; i < l->n && r >= 0; i++, seen++) {
			r = deliver_one(n, db, &l->items[i]);
			if (r == 1)
				sent++;
		}
		if (r < 0)
			break;
		r = 0;
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

static void *deliverer(void *p)
{
	struct anfu_notify *n = p;

	(void)pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!n->stop && !n->wake)
			if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
				break;
		n->wake = false;
		if (n->stop)
			break;
		(void)pthread_mutex_unlock(&n->mu);
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
