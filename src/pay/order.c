/*
 * pay/order: merchants' orders (docs/payments.md, "Orders"): creation
 * with the merchant order number's idempotency (FUNC-PAY-21) and the
 * bill lines (FUNC-PAY-19), reads, cancel (FUNC-PAY-06) and expiry.
 *
 * Trusts its callers for the merchant id (the session's) and for the
 * fields' formats (the handler checked them with pay/rules.c); checks the
 * lines' arithmetic, the expiry's range and every state change (the table
 * of pay/states.c) here. Cancel and expiry run through the ledger's
 * writer, which orders them against a payment of the same order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

#define ORDER_COLS                                                                   \
	"o.id, o.merchant_id, o.out_trade_no, o.kind, o.state, o.amount, o.subject," \
	" o.return_url, o.notify_url, o.content_hash, o.created_by, o.payer_id,"     \
	" o.created_ms, o.expires_ms, o.updated_ms, o.paid_ms, o.closed_ms, p.id, p.fee"
#define ORDER_FROM " FROM pay_order o LEFT JOIN pay_payment p ON p.order_id = o.id"

struct orders {
	struct anfu_pay_order *out;
	size_t cap, n;
	bool bad_state;
};

static int order_row(void *ud, const struct anfu_row *r)
{
	struct orders *f = ud;
	struct anfu_pay_order *o;
	char state[24];

	if (f->n >= f->cap)
		return 0;
	o = &f->out[f->n++];
	memset(o, 0, sizeof(*o));
	pay_col(r, 0, o->id, sizeof(o->id));
	pay_col(r, 1, o->merchant_id, sizeof(o->merchant_id));
	pay_col(r, 2, o->out_trade_no, sizeof(o->out_trade_no));
	pay_col(r, 3, o->kind, sizeof(o->kind));
	pay_col(r, 4, state, sizeof(state));
	if (anfu_pay_state_parse(state, &o->state) < 0)
		f->bad_state = true;
	o->amount = anfu_row_int(r, 5);
	pay_col(r, 6, o->subject, sizeof(o->subject));
	pay_col(r, 7, o->return_url, sizeof(o->return_url));
	pay_col(r, 8, o->notify_url, sizeof(o->notify_url));
	pay_col(r, 9, o->content_hash, sizeof(o->content_hash));
	pay_col(r, 10, o->created_by, sizeof(o->created_by));
	pay_col(r, 11, o->payer_id, sizeof(o->payer_id));
	o->created_ms = anfu_row_int(r, 12);
	o->expires_ms = anfu_row_int(r, 13);
	o->updated_ms = anfu_row_int(r, 14);
	o->paid_ms = anfu_row_is_null(r, 15) ? 0 : anfu_row_int(r, 15);
	o->closed_ms = anfu_row_is_null(r, 16) ? 0 : anfu_row_int(r, 16);
	pay_col(r, 17, o->payment_id, sizeof(o->payment_id));
	o->fee = anfu_row_is_null(r, 18) ? 0 : anfu_row_int(r, 18);
	return 0;
}

static int line_row(void *ud, const struct anfu_row *r)
{
	struct anfu_pay_order *o = ud;
	struct anfu_pay_line *l;

	if (o->nlines >= ANFU_LIMIT_PAY_LINES)
		return 0;
	l = &o->lines[o->nlines++];
	pay_col(r, 0, l->name, sizeof(l->name));
	l->quantity = anfu_row_int(r, 1);
	l->unit_amount = anfu_row_int(r, 2);
	l->amount = anfu_row_int(r, 3);
	return 0;
}

/* One order found by where (with its two parameters), with its lines. */
static int order_one(struct anfu_db *db, const char *where, const char *a, const char *b,
		     struct anfu_pay_order *ret)
{
	struct anfu_pay_order *o = ret;
	struct orders f = { o, 1, 0, false };
	struct anfu_param v[2] = { ANFU_PS(a), ANFU_PS(b) };
	char sql[512];
	int r;

	if (snprintf(sql, sizeof(sql), "SELECT " ORDER_COLS ORDER_FROM " WHERE %s", where) >=
	    (int)sizeof(sql))
		return ANFU_ELIMIT;
	r = anfu_db_exec(db, sql, v, b ? 2 : 1, order_row, &f, NULL);
	if (r == 0 && f.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0 && f.bad_state)
		r = ANFU_ECORRUPT;
	if (r == 0) {
		struct anfu_param w[1] = { ANFU_PS(o->id) };

		r = anfu_db_exec(db,
				 "SELECT name, quantity, unit_amount, amount FROM pay_order_line"
				 " WHERE order_id = $1 ORDER BY seq",
				 w, 1, line_row, o, NULL);
	}
	return r;
}

int anfu_pay_order_get(struct anfu_db *db, const char *id, struct anfu_pay_order *ret)
{
	if (!db || !id || !ret)
		return ANFU_EINVAL;
	return order_one(db, "o.id = $1", id, NULL, ret);
}

int anfu_pay_order_by_out_trade_no(struct anfu_db *db, const char *merchant_id,
				   const char *out_trade_no, struct anfu_pay_order *ret)
{
	if (!db || !merchant_id || !out_trade_no || !ret)
		return ANFU_EINVAL;
	return order_one(db, "o.merchant_id = $1 AND o.out_trade_no = $2", merchant_id,
			 out_trade_no, ret);
}

struct cursor_row {
	bool found;
	int64_t created_ms;
};

static int cursor_fn(void *ud, const struct anfu_row *r)
{
	struct cursor_row *c = ud;

	c->found = true;
	c->created_ms = anfu_row_int(r, 0);
	return 0;
}

int anfu_pay_order_list(struct anfu_db *db, const char *merchant_id, const char *cursor,
			struct anfu_pay_order *out, size_t cap, size_t *ret_n)
{
	struct orders f = { out, cap, 0, false };
	struct cursor_row c = { false, INT64_MAX };
	int r = 0;

	if (!db || !merchant_id || !out || !ret_n || cap < 1 || cap > ANFU_LIMIT_PAY_PAGE)
		return ANFU_EINVAL;
	if (cursor && cursor[0]) {
		struct anfu_param v[2] = { ANFU_PS(cursor), ANFU_PS(merchant_id) };

		r = anfu_db_exec(
			db, "SELECT created_ms FROM pay_order WHERE id = $1 AND merchant_id = $2",
			v, 2, cursor_fn, &c, NULL);
		if (r == 0 && !c.found)
			return ANFU_EINVAL;
	}
	if (r == 0) {
		struct anfu_param v[4] = { ANFU_PS(merchant_id), ANFU_PI(c.created_ms),
					   ANFU_PS(cursor && cursor[0] ? cursor : "\x7f"),
					   ANFU_PI(cap) };

		/* Newest first; ties on the time broken by the id, so pages never
		 * overlap or skip. */
		r = anfu_db_exec(db,
				 "SELECT " ORDER_COLS ORDER_FROM " WHERE o.merchant_id = $1 AND"
				 " (o.created_ms < $2 OR (o.created_ms = $2 AND o.id < $3))"
				 " ORDER BY o.created_ms DESC, o.id DESC LIMIT $4",
				 v, 4, order_row, &f, NULL);
	}
	if (r == 0 && f.bad_state)
		r = ANFU_ECORRUPT;
	if (r == 0)
		*ret_n = f.n;
	return r;
}

/* ---- creation ---- */

/* Appends one length-prefixed field: no separator inside a value can
 * make two contents hash alike. */
static int field(struct anfu_buf *b, const char *s)
{
	return anfu_buf_appendf(b, "%zu:%s|", strlen(s), s);
}

/* The hash of what a merchant order number stands for (FUNC-PAY-21). */
static int content_hash(const struct anfu_pay_order_req *q, char out[65])
{
	struct anfu_buf b;
	uint8_t h[ANFU_HASH_LEN];
	int r;

	anfu_buf_init(&b, 64 * 1024);
	r = anfu_buf_appendf(&b, "pay.order.v1|%" PRId64 "|CNY|%" PRId64 "|%zu|", q->amount,
			     q->ttl_s, q->nlines);
	if (r == 0)
		r = field(&b, q->out_trade_no);
	if (r == 0)
		r = field(&b, q->subject);
	if (r == 0)
		r = field(&b, q->kind);
	if (r == 0)
		r = field(&b, q->return_url ? q->return_url : "");
	if (r == 0)
		r = field(&b, q->notify_url ? q->notify_url : "");
	for (size_t i = 0; r == 0 && i < q->nlines; i++) {
		const struct anfu_pay_line *l = &q->lines[i];

		r = field(&b, l->name);
		if (r == 0)
			r = anfu_buf_appendf(&b, "%" PRId64 "|%" PRId64 "|%" PRId64 "|",
					     l->quantity, l->unit_amount, l->amount);
	}
	if (r == 0)
		r = anfu_hash(ANFU_HASH_SHA256, b.data, b.len, h);
	if (r == 0)
		anfu_hex_encode(h, sizeof(h), out);
	anfu_buf_free(&b);
	return r;
}

static int lines_insert(struct anfu_db *db, const struct anfu_pay_order *o,
			const struct anfu_pay_order_req *q)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < q->nlines; i++) {
		const struct anfu_pay_line *l = &q->lines[i];
		struct anfu_param v[6] = { ANFU_PS(o->id),	    ANFU_PI(i),
					   ANFU_PS(l->name),	    ANFU_PI(l->quantity),
					   ANFU_PI(l->unit_amount), ANFU_PI(l->amount) };

		r = anfu_db_exec(db,
				 "INSERT INTO pay_order_line (order_id, seq, name, quantity,"
				 " unit_amount, amount) VALUES ($1, $2, $3, $4, $5, $6)",
				 v, 6, NULL, NULL, NULL);
	}
	return r;
}

int pay_order_insert_in(struct anfu_tx *tx, const struct anfu_pay_order_req *q,
			const struct anfu_pay_order *o, bool *ret_raced)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param v[14] = {
		ANFU_PS(o->id),		  ANFU_PS(o->merchant_id), ANFU_PS(o->out_trade_no),
		ANFU_PS(o->content_hash), ANFU_PS(o->kind),	   ANFU_PI(o->amount),
		ANFU_PS(o->subject),	  ANFU_PS(o->return_url),  ANFU_PS(o->notify_url),
		ANFU_PS(o->created_by),	  ANFU_PI(o->created_ms),  ANFU_PI(o->expires_ms),
	};
	int64_t changes = 0;
	int r = anfu_db_exec(db,
			     "INSERT INTO pay_order (id, merchant_id, out_trade_no, content_hash,"
			     " kind, state, amount, currency, subject, return_url, notify_url,"
			     " created_by, created_ms, expires_ms, updated_ms) VALUES ($1, $2, $3,"
			     " $4, $5, 'created', $6, 'CNY', $7, $8, $9, $10, $11, $12, $11)"
			     " ON CONFLICT (merchant_id, out_trade_no) DO NOTHING",
			     v, 12, NULL, NULL, &changes);

	if (r == 0 && changes != 1) {
		*ret_raced = true;
		return ANFU_ECONFLICT;
	}
	if (r == 0)
		r = lines_insert(db, o, q);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.created", "pay_order", o->id, "success",
				  json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "merchant",
					    o->merchant_id, "out_trade_no", o->out_trade_no, "kind",
					    o->kind, "amount", (json_int_t)o->amount, "currency",
					    "CNY", "lines", (json_int_t)q->nlines, "expires_ms",
					    (json_int_t)o->expires_ms));
	return r;
}

/* The answer to a merchant order number used before: the same order, or
 * the conflict. */
static int existing(struct anfu_db *db, const struct anfu_pay_order_req *q, const char *hash,
		    struct anfu_pay_order *ret, bool *ret_existed, const char **ret_code,
		    const char **ret_field)
{
	int r = anfu_pay_order_by_out_trade_no(db, q->merchant_id, q->out_trade_no, ret);

	if (r < 0)
		return r;
	if (strcmp(ret->content_hash, hash) != 0) {
		*ret_code = ANFU_R_PAY_OUT_TRADE_NO_CONFLICT;
		*ret_field = "out_trade_no";
		return 0;
	}
	*ret_existed = true;
	*ret_code = NULL;
	*ret_field = NULL;
	return 0;
}

/* The order's refusals before anything is written, or NULL. */
static const char *order_refusal(struct anfu_pay *p, struct anfu_db *db,
				 const struct anfu_pay_order_req *q, const char **ret_field,
				 int *ret_r)
{
	struct anfu_pay_merchant m;
	int idx = -1;
	const char *code;

	*ret_r = anfu_pay_merchant_get(db, q->merchant_id, &m);
	if (*ret_r == ANFU_ENOTFOUND) {
		*ret_r = 0;
		return ANFU_R_PAY_MERCHANT_NOT_FOUND;
	}
	if (*ret_r < 0)
		return NULL;
	if (strcmp(m.state, "active") != 0)
		return ANFU_R_PAY_MERCHANT_DISABLED;
	if (q->ttl_s < 0 || q->ttl_s > p->cfg.order_ttl_max_s) {
		*ret_field = "ttl_s";
		return ANFU_JERR_OUT_OF_RANGE;
	}
	code = anfu_pay_lines_check(q->lines, q->nlines, q->amount, &idx);
	if (code)
		*ret_field = "lines";
	return code;
}

int pay_order_new(struct anfu_pay *p, const struct anfu_pay_order_req *q,
		  struct anfu_pay_order *ret, bool *ret_existed, const char **ret_code,
		  const char **ret_field)
{
	struct anfu_pay_order *o = ret;
	struct anfu_db *db = NULL;
	const char *code = NULL, *fld = NULL;
	char hash[65];
	int64_t now;
	int r;

	if (!p || !q || !q->merchant_id || !q->user_id || !q->out_trade_no || !q->subject ||
	    !q->kind || !ret || !ret_existed || !ret_code || !ret_field || q->amount < 1 ||
	    q->amount > ANFU_LIMIT_WALLET_AMOUNT ||
	    !anfu_pay_out_trade_no_ok(q->out_trade_no, strlen(q->out_trade_no)))
		return ANFU_EINVAL;
	if (strcmp(q->kind, "general") != 0 && strcmp(q->kind, "escrow") != 0 &&
	    strcmp(q->kind, "agreement") != 0)
		return ANFU_EINVAL;
	*ret_existed = false;
	*ret_code = NULL;
	*ret_field = NULL;
	r = pay_db(p, &db);
	if (r == 0)
		r = content_hash(q, hash);
	if (r < 0)
		return r;
	r = existing(db, q, hash, ret, ret_existed, ret_code, ret_field);
	if (r != ANFU_ENOTFOUND)
		return r;
	code = order_refusal(p, db, q, &fld, &r);
	if (r < 0 || code) {
		if (r == 0) {
			*ret_code = code;
			*ret_field = fld;
		}
		return r;
	}
	now = anfu_clock_now_ms();
	memset(o, 0, sizeof(*o));
	r = anfu_id_new("ord", o->id, sizeof(o->id));
	if (r < 0)
		return r;
	(void)anfu_strlcpy(o->merchant_id, q->merchant_id, sizeof(o->merchant_id));
	(void)anfu_strlcpy(o->out_trade_no, q->out_trade_no, sizeof(o->out_trade_no));
	(void)anfu_strlcpy(o->kind, q->kind, sizeof(o->kind));
	o->state = ANFU_PAY_CREATED;
	o->amount = q->amount;
	(void)anfu_strlcpy(o->subject, q->subject, sizeof(o->subject));
	(void)anfu_strlcpy(o->return_url, q->return_url ? q->return_url : "",
			   sizeof(o->return_url));
	(void)anfu_strlcpy(o->notify_url, q->notify_url ? q->notify_url : "",
			   sizeof(o->notify_url));
	(void)anfu_strlcpy(o->content_hash, hash, sizeof(o->content_hash));
	(void)anfu_strlcpy(o->created_by, q->user_id, sizeof(o->created_by));
	o->created_ms = o->updated_ms = now;
	o->expires_ms = now + 1000 * (q->ttl_s ? q->ttl_s : p->cfg.order_ttl_default_s);
	o->nlines = q->nlines;
	memcpy(o->lines, q->lines, q->nlines * sizeof(q->lines[0]));
	return 0;
}

struct create_cmd {
	const struct anfu_pay_order_req *q;
	const struct anfu_pay_order *o;
	bool raced; /* the same number was inserted first by another request */
};

static int create_fn(struct anfu_tx *tx, void *ud)
{
	struct create_cmd *c = ud;

	return pay_order_insert_in(tx, c->q, c->o, &c->raced);
}

int anfu_pay_order_create(struct anfu_pay *p, const struct anfu_actor *actor,
			  const struct anfu_pay_order_req *q, struct anfu_pay_order *ret,
			  bool *ret_existed, const char **ret_code, const char **ret_field)
{
	struct create_cmd c = { q, ret, false };
	int r;

	if (!actor)
		return ANFU_EINVAL;
	r = pay_order_new(p, q, ret, ret_existed, ret_code, ret_field);
	if (r < 0 || *ret_existed || *ret_code)
		return r;
	/* Through the ledger writer, though no money moves: the order commits
	 * with the other commands of its batch (one fsync for many), not on
	 * its own (docs/benchmarks.md §9). Weight: one audit record. */
	r = anfu_ledger_run_weighted(p->ledger, actor, create_fn, &c, 1, pay_deadline());
	/* Another request made the same number first: its answer. */
	if (r == ANFU_ECONFLICT && c.raced) {
		r = pay_order_new(p, q, ret, ret_existed, ret_code, ret_field);
		if (r == 0 && !*ret_existed && !*ret_code)
			r = ANFU_ECONFLICT; /* not seen yet: the caller may retry */
	}
	return r;
}

/* ---- cancel and expiry ---- */

struct cancel_cmd {
	const char *merchant_id, *id;
	const char *customer_id; /* a customer's cancel: the customer */
	struct anfu_pay_order *o;
	const char *code;
};

static int cancel_fn(struct anfu_tx *tx, void *ud)
{
	struct cancel_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	enum anfu_pay_state next, from;
	int64_t now = anfu_clock_now_ms();
	bool ok = false;
	int r = anfu_pay_order_get(db, c->id, c->o);

	if (r == ANFU_ENOTFOUND ||
	    (r == 0 && c->merchant_id && strcmp(c->o->merchant_id, c->merchant_id) != 0)) {
		c->code = ANFU_R_PAY_ORDER_NOT_FOUND;
		return ANFU_ECONFLICT;
	}
	/* A shared order: only its requester cancels it (pay/behalf.c). */
	if (r == 0 && c->customer_id)
		r = pay_share_cancel_check(db, c->id, c->customer_id, &c->code);
	if (r == 0 && c->code)
		return ANFU_ECONFLICT;
	if (r < 0)
		return r;
	from = c->o->state;
	if (anfu_pay_transition(from, ANFU_PAY_EV_CANCEL, &next) < 0) {
		c->code = anfu_pay_state_refusal(from);
		return ANFU_ECONFLICT;
	}
	r = pay_order_set_state(db, c->id, from, next, now, &ok);
	if (r == 0 && !ok)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.cancelled", "pay_order", c->id, "success",
				  json_pack("{s:s, s:s, s:s}", "merchant", c->o->merchant_id,
					    "from", anfu_pay_state_name(from), "to",
					    anfu_pay_state_name(next)));
	if (r == 0) {
		c->o->state = next;
		c->o->updated_ms = c->o->closed_ms = now;
	}
	return r;
}

int anfu_pay_order_cancel(struct anfu_pay *p, const struct anfu_actor *actor,
			  const char *merchant_id, const char *id, struct anfu_pay_order *ret,
			  const char **ret_code)
{
	struct cancel_cmd c = { merchant_id, id, NULL, ret, NULL };
	int r;

	if (!p || !actor || !id || !ret || !ret_code)
		return ANFU_EINVAL;
	if (!merchant_id)
		c.customer_id = actor->id;
	/* weight: its audit record. */
	r = anfu_ledger_run_weighted(p->ledger, actor, cancel_fn, &c, 1, pay_deadline());
	if (r == ANFU_ECONFLICT && c.code) {
		*ret_code = c.code;
		return 0;
	}
	if (r == 0)
		*ret_code = NULL;
	return r;
}

/* The orders due at $1 (now), at most $2: due at expires_ms exactly, closed
 * when now has reached it. */
static const char DUE_SQL[] = "SELECT id, state FROM pay_order WHERE state IN ('created', 'paying')"
			      " AND expires_ms <= $1 ORDER BY expires_ms, id LIMIT $2";

struct due {
	char ids[ANFU_LIMIT_PAY_EXPIRE_PASS][ANFU_ID_MAX];
	char states[ANFU_LIMIT_PAY_EXPIRE_PASS][24];
	size_t n;
	int64_t closed;
};

static int due_row(void *ud, const struct anfu_row *r)
{
	struct due *d = ud;

	if (d->n >= ANFU_LIMIT_PAY_EXPIRE_PASS)
		return 0;
	pay_col(r, 0, d->ids[d->n], sizeof(d->ids[0]));
	pay_col(r, 1, d->states[d->n], sizeof(d->states[0]));
	d->n++;
	return 0;
}

/* One pass: the due orders as the writer sees them, each closed by the
 * table's expire with its record. */
static int expire_fn(struct anfu_tx *tx, void *ud)
{
	struct due *d = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t now = anfu_clock_now_ms();
	struct anfu_param v[2] = { ANFU_PI(now), ANFU_PI(ANFU_LIMIT_PAY_EXPIRE_PASS) };
	int r;

	d->n = 0;
	d->closed = 0;
	r = anfu_db_exec(db, DUE_SQL, v, 2, due_row, d, NULL);
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		enum anfu_pay_state from, next;
		bool ok = false;

		r = anfu_pay_state_parse(d->states[i], &from);
		if (r == 0)
			r = anfu_pay_transition(from, ANFU_PAY_EV_EXPIRE, &next);
		if (r == 0)
			r = pay_order_set_state(db, d->ids[i], from, next, now, &ok);
		if (r == 0 && ok)
			r = anfu_tx_audit(tx, "pay.order.expired", "pay_order", d->ids[i],
					  "success",
					  json_pack("{s:s, s:s}", "from", anfu_pay_state_name(from),
						    "to", anfu_pay_state_name(next)));
		if (r == 0 && ok)
			d->closed++;
	}
	return r;
}

/* Whether any order is due as the calling thread's connection sees it: a
 * pass with nothing to close is not sent to the writer (the job runs every
 * expire_interval_s; an empty command would cost a durable commit and a
 * batch's weight each time). A due order missed here is closed next time. */
static int any_due(struct anfu_pay *p, bool *ret)
{
	struct anfu_db *db = NULL;
	struct due *d;
	struct anfu_param v[2] = { ANFU_PI(anfu_clock_now_ms()), ANFU_PI(1) };
	int r = pay_db(p, &db);

	if (r < 0)
		return r;
	d = anfu_xcalloc(1, sizeof(*d));
	r = anfu_db_exec(db, DUE_SQL, v, 2, due_row, d, NULL);
	if (r == 0)
		*ret = d->n > 0;
	free(d);
	return r;
}

int anfu_pay_expire_due(struct anfu_pay *p, struct anfu_pay_expiry_report *ret)
{
	struct anfu_pay_expiry_report rep = { 0 };
	struct due *d;
	bool due = false;
	int r = 0;

	if (!p || !ret)
		return ANFU_EINVAL;
	r = any_due(p, &due);
	if (r < 0 || !due) {
		if (r == 0)
			*ret = rep;
		return r;
	}
	d = anfu_xcalloc(1, sizeof(*d));
	for (int pass = 0; pass < ANFU_LIMIT_PAY_EXPIRE_PASSES; pass++) {
		/* weight: an audit record per order it may close. */
		r = anfu_ledger_run_weighted(p->ledger, &system_actor, expire_fn, d,
					     ANFU_LIMIT_PAY_EXPIRE_PASS, pay_deadline());
		if (r < 0)
			break;
		rep.closed += d->closed;
		if (d->n < ANFU_LIMIT_PAY_EXPIRE_PASS)
			break;
	}
	free(d);
	if (r < 0) {
		anfu_log_error("pay.expire", "closing due orders: %s", anfu_strerror(r));
		return r;
	}
	*ret = rep;
	return 0;
}
