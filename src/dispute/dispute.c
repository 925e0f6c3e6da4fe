/*
 * dispute/dispute: the dispute service object, its provider table and its
 * reads (a dispute, its events, lists with a cursor).
 *
 * Owns struct anfu_disputes. Trusts store/ and tx/; trusts callers for
 * the ids they pass (the handlers take them from the principal).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "dispute/internal.h"
#include "store/store.h"
#include "tx/tx.h"

int anfu_disputes_new(const struct anfu_dispute_deps *deps, struct anfu_disputes **ret)
{
	struct anfu_disputes *d;

	if (!deps || !deps->cfg || !deps->tx || !ret)
		return ANFU_EINVAL;
	d = anfu_xcalloc(1, sizeof(*d));
	d->cfg = deps->cfg;
	d->tx = deps->tx;
	d->notice = deps->notice;
	d->notice_ud = deps->notice_ud;
	d->shown = deps->shown;
	d->shown_ud = deps->shown_ud;
	*ret = d;
	return 0;
}

void anfu_disputes_free(struct anfu_disputes *d)
{
	free(d);
}

static bool kind_ok(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	if (n == 0 || n >= ANFU_LIMIT_DISPUTE_KIND_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || kind[i] == '_'))
			return false;
	return true;
}

int anfu_dispute_register(struct anfu_disputes *d, const char *kind,
			  const struct anfu_dispute_subject_ops *ops, void *ud)
{
	struct provider *p;

	if (!d || !kind_ok(kind) || !ops || !ops->lookup)
		return ANFU_EINVAL;
	if (dispute_provider(d, kind))
		return ANFU_EEXIST;
	if (d->nproviders >= ANFU_LIMIT_DISPUTE_KINDS)
		return ANFU_ELIMIT;
	p = &d->providers[d->nproviders];
	(void)anfu_strlcpy(p->kind, kind, sizeof(p->kind));
	p->ops = ops;
	p->ud = ud;
	d->nproviders++;
	return 0;
}

const struct provider *dispute_provider(const struct anfu_disputes *d, const char *kind)
{
	for (size_t i = 0; kind && i < d->nproviders; i++)
		if (strcmp(d->providers[i].kind, kind) == 0)
			return &d->providers[i];
	return NULL;
}

static int text_col(const struct anfu_row *row, int col, char *out, size_t cap)
{
	const char *s = anfu_row_text(row, col, NULL);

	if (!s || anfu_strlcpy(out, s, cap) < 0)
		return ANFU_ESCHEMA;
	return 0;
}

int dispute_row(struct anfu_dispute *o, const struct anfu_row *row)
{
	struct anfu_dispute_subject *s = &o->subject;
	int r = 0;

	memset(o, 0, sizeof(*o));
	r = r ? r : text_col(row, 0, o->id, sizeof(o->id));
	r = r ? r : text_col(row, 1, o->kind, sizeof(o->kind));
	r = r ? r : text_col(row, 2, o->ref, sizeof(o->ref));
	r = r ? r : text_col(row, 3, s->customer_id, sizeof(s->customer_id));
	r = r ? r : text_col(row, 4, s->counterparty_id, sizeof(s->counterparty_id));
	r = r ? r : text_col(row, 5, s->merchant_id, sizeof(s->merchant_id));
	s->amount = anfu_row_int(row, 6);
	r = r ? r : text_col(row, 7, s->currency, sizeof(s->currency));
	s->time_ms = anfu_row_int(row, 8);
	r = r ? r : text_col(row, 9, s->description, sizeof(s->description));
	r = r ? r : text_col(row, 10, o->category, sizeof(o->category));
	r = r ? r : text_col(row, 11, o->reason, sizeof(o->reason));
	r = r ? r : text_col(row, 12, o->state, sizeof(o->state));
	r = r ? r : text_col(row, 13, o->operator_id, sizeof(o->operator_id));
	r = r ? r : text_col(row, 14, o->resolution, sizeof(o->resolution));
	o->refund_amount = anfu_row_int(row, 15);
	r = r ? r : text_col(row, 16, o->refund_state, sizeof(o->refund_state));
	r = r ? r : text_col(row, 17, o->refund_ref, sizeof(o->refund_ref));
	o->created_ms = anfu_row_int(row, 18);
	o->taken_ms = anfu_row_int(row, 19);
	o->resolved_ms = anfu_row_int(row, 20);
	o->closed_ms = anfu_row_int(row, 21);
	o->updated_ms = anfu_row_int(row, 22);
	o->reopens = anfu_row_int(row, 23);
	o->refunded_before = anfu_row_int(row, 24);
	return r;
}

struct one_read {
	struct anfu_dispute *out;
	bool found;
};

static int one_row(void *ud, const struct anfu_row *row)
{
	struct one_read *q = ud;
	int r = dispute_row(q->out, row);

	q->found = r == 0;
	return r;
}

int dispute_read(struct anfu_db *db, const char *id, struct anfu_dispute *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id) };
	struct one_read q = { NULL, false };
	int r;

	memset(ret, 0, sizeof(*ret));
	q.out = ret;
	r = anfu_db_exec(db, "SELECT " DISPUTE_COLUMNS " FROM dispute WHERE id = $1", p, 1, one_row,
			 &q, NULL);

	if (r < 0)
		return r;
	return q.found ? 0 : ANFU_ENOTFOUND;
}

int anfu_dispute_get(struct anfu_disputes *d, const char *id, struct anfu_dispute *ret)
{
	struct anfu_dispute tmp;
	struct anfu_db *db = NULL;
	int r;

	if (!d || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(d->tx), &db);
	if (r == 0)
		r = dispute_read(db, id, &tmp);
	if (r < 0)
		return r;
	*ret = tmp;
	return 0;
}

/* Rows into the caller's array out of cap elements of size bytes each:
 * fill decodes one (0, or an error that stops the read); a row past cap
 * stops the read. */
struct rows_read {
	void *out;
	size_t size, cap, n;
	int (*fill)(void *el, const struct anfu_row *row);
};

static int rows_row(void *ud, const struct anfu_row *row)
{
	struct rows_read *q = ud;
	int r;

	if (q->n >= q->cap)
		return 1;
	r = q->fill((char *)q->out + q->n * q->size, row);
	if (r == 0)
		q->n++;
	return r;
}

/* Runs sql (np parameters p) on d's store into q: 0 with *ret_n the rows
 * read, or the error. */
static int read_rows(struct anfu_disputes *d, const char *sql, const struct anfu_param *p,
		     size_t np, struct rows_read *q, size_t *ret_n)
{
	struct anfu_db *db = NULL;
	int r = anfu_store_db(anfu_tx_exec_store(d->tx), &db);

	if (r == 0)
		r = anfu_db_exec(db, sql, p, np, rows_row, q, NULL);
	if (r < 0)
		return r;
	*ret_n = q->n;
	return 0;
}

static int event_fill(void *el, const struct anfu_row *row)
{
	struct anfu_dispute_event_row *e = el;
	int r = 0;

	memset(e, 0, sizeof(*e));
	e->seq = anfu_row_int(row, 0);
	e->at_ms = anfu_row_int(row, 1);
	r = r ? r : text_col(row, 2, e->actor_id, sizeof(e->actor_id));
	r = r ? r : text_col(row, 3, e->actor_type, sizeof(e->actor_type));
	r = r ? r : text_col(row, 4, e->event, sizeof(e->event));
	r = r ? r : text_col(row, 5, e->from_state, sizeof(e->from_state));
	r = r ? r : text_col(row, 6, e->to_state, sizeof(e->to_state));
	r = r ? r : text_col(row, 7, e->note, sizeof(e->note));
	return r;
}

int anfu_dispute_events(struct anfu_disputes *d, const char *id, struct anfu_dispute_event_row *out,
			size_t cap, size_t *ret_n)
{
	struct rows_read q = { out, sizeof(*out), cap, 0, event_fill };
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PI(cap) };

	if (!d || !id || (!out && cap > 0) || !ret_n)
		return ANFU_EINVAL;
	return read_rows(d,
			 "SELECT seq, at_ms, actor_id, actor_type, event, from_state, "
			 "to_state, note FROM dispute_event WHERE dispute_id = $1 "
			 "ORDER BY seq LIMIT $2",
			 p, 2, &q, ret_n);
}

static int dispute_fill(void *el, const struct anfu_row *row)
{
	return dispute_row(el, row);
}

int anfu_dispute_list(struct anfu_disputes *d, const struct anfu_dispute_filter *f,
		      struct anfu_dispute *out, size_t cap, size_t *ret_n)
{
	struct rows_read q = { out, sizeof(*out),
			       cap < ANFU_LIMIT_DISPUTE_PAGE ? cap : ANFU_LIMIT_DISPUTE_PAGE, 0,
			       dispute_fill };
	/* NULL filters match everything: ($n = '' OR col = $n) keeps one
	 * statement for every combination (a typed parameter for PostgreSQL). */
	const struct anfu_param p[] = {
		ANFU_PS(f && f->customer_id ? f->customer_id : ""),
		ANFU_PS(f && f->party_user_id ? f->party_user_id : ""),
		ANFU_PS(f && f->merchant_id ? f->merchant_id : ""),
		ANFU_PS(f && f->state ? f->state : ""),
		ANFU_PI(f ? f->after_ms : 0),
		ANFU_PS(f && f->after_id ? f->after_id : ""),
		ANFU_PI(q.cap),
	};

	if (!d || !f || (!out && cap > 0) || !ret_n)
		return ANFU_EINVAL;
	return read_rows(d,
			 "SELECT " DISPUTE_COLUMNS " FROM dispute "
			 "WHERE ($1 = '' OR customer_id = $1) "
			 "AND ($2 = '' OR customer_id = $2 OR counterparty_id = $2) "
			 "AND ($3 = '' OR merchant_id = $3) AND ($4 = '' OR state = $4) "
			 "AND (created_ms > $5 OR (created_ms = $5 AND id > $6)) "
			 "ORDER BY created_ms, id LIMIT $7",
			 p, 7, &q, ret_n);
}
