/*
 * pay/paycode: payment codes (付款码; docs/payments.md, "Payment code"):
 * the customer's wallet shows a one-time 18-digit code valid 60 s on the
 * clock; a merchant collects an order with it. Small amounts are paid at
 * once without the PIN ([pay] paycode_nopin_max), larger ones wait in
 * paying for the customer's confirmation with the PIN.
 *
 * Owns the table pay_paycode: a code is stored only as its keyed hash
 * (HMAC under a key derived from the master key), never in clear. A code
 * is used once: the conditional update that uses it runs inside the
 * payment's writer command, so two collections of one code cannot both
 * pass. Reuses the general payment for the money: the order made and
 * paid in one writer command (pay_order_pay), so a refusal leaves none.
 *
 * Trusts its callers for the customer's identity (the session's) and the
 * merchant's (the session's merchant_id).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

#define PAYCODE_PURPOSE "pay_paycode"
#define HASH_HEX (2 * ANFU_HASH_LEN + 1)

/* ---- issue ---- */

struct issue_cmd {
	const char *customer_id;
	char hash[HASH_HEX];
	int64_t now;
};

static int issue_fn(struct anfu_tx *tx, void *ud)
{
	struct issue_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param v[1] = { ANFU_PS(c->customer_id) };
	struct anfu_param w[4] = { ANFU_PS(c->hash), ANFU_PS(c->customer_id), ANFU_PI(c->now),
				   ANFU_PI(c->now + ANFU_PAY_PAYCODE_TTL_MS) };
	/* One live code per customer: showing a new one voids the old. */
	int r = anfu_db_exec(db,
			     "UPDATE pay_paycode SET state = 'void' WHERE customer_id = $1"
			     " AND state = 'live'",
			     v, 1, NULL, NULL, NULL);

	if (r == 0)
		r = anfu_db_exec(db,
				 "INSERT INTO pay_paycode (hash, customer_id, state, created_ms,"
				 " expires_ms) VALUES ($1, $2, 'live', $3, $4)",
				 w, 4, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.paycode.issued", "user", c->customer_id, "success",
				  json_pack("{s:I}", "expires_ms",
					    (json_int_t)(c->now + ANFU_PAY_PAYCODE_TTL_MS)));
	return r;
}

int anfu_pay_paycode_issue(struct anfu_pay *p, const struct anfu_keys *k,
			   const struct anfu_actor *actor, const char *customer_id,
			   struct anfu_pay_paycode *ret)
{
	struct anfu_pay_paycode out;
	struct issue_cmd c = { customer_id, { 0 }, 0 };
	size_t n = sizeof(ANFU_PAY_PAYCODE_PREFIX) - 1;
	int r;

	if (!p || !k || !actor || !customer_id || !customer_id[0] || !ret)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	memcpy(out.code, ANFU_PAY_PAYCODE_PREFIX, n);
	/* 16 uniform digits: 10^16 (~2^53) codes, 60 s each, one live. */
	for (size_t i = n; i < ANFU_PAY_PAYCODE_DIGITS; i++)
		out.code[i] = (char)('0' + anfu_rand_uniform(10));
	r = anfu_keys_blind_index(k, PAYCODE_PURPOSE, out.code, ANFU_PAY_PAYCODE_DIGITS, c.hash);
	c.now = anfu_clock_now_ms();
	/* Through the ledger writer, though no money moves: it commits with
	 * the other commands of its batch (one fsync for many), not on its
	 * own (docs/benchmarks.md §9). Weight: one audit record. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, issue_fn, &c, 1, pay_deadline());
	if (r == 0) {
		out.created_ms = c.now;
		out.expires_ms = c.now + ANFU_PAY_PAYCODE_TTL_MS;
		*ret = out;
	}
	anfu_wipe(&out, sizeof(out));
	return r;
}

/* ---- the code's row ---- */

struct code_row {
	bool found;
	char customer_id[ANFU_ID_MAX], state[8], order_id[ANFU_ID_MAX];
	int64_t expires_ms;
};

static int code_row_fn(void *ud, const struct anfu_row *r)
{
	struct code_row *c = ud;

	c->found = true;
	pay_col(r, 0, c->customer_id, sizeof(c->customer_id));
	pay_col(r, 1, c->state, sizeof(c->state));
	pay_col(r, 2, c->order_id, sizeof(c->order_id));
	c->expires_ms = anfu_row_int(r, 3);
	return 0;
}

static int code_get(struct anfu_db *db, const char *hash, struct code_row *ret)
{
	struct anfu_param v[1] = { ANFU_PS(hash) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(db,
			    "SELECT customer_id, state, order_id, expires_ms FROM pay_paycode"
			    " WHERE hash = $1",
			    v, 1, code_row_fn, ret, NULL);
}

/* The refusal of a code as its row is at now, or NULL when it may pay. */
static const char *code_refusal(const struct code_row *c, int64_t now)
{
	if (!c->found)
		return ANFU_R_PAY_PAYCODE_INVALID;
	if (strcmp(c->state, "live") != 0)
		return ANFU_R_PAY_PAYCODE_USED;
	/* Expired at issue + 60 s exactly. */
	if (now >= c->expires_ms)
		return ANFU_R_PAY_PAYCODE_EXPIRED;
	return NULL;
}

/* 18 digits with the prefix. */
static bool code_format_ok(const char *s)
{
	size_t n = sizeof(ANFU_PAY_PAYCODE_PREFIX) - 1;

	if (!s || strnlen(s, ANFU_PAY_PAYCODE_DIGITS + 1) != ANFU_PAY_PAYCODE_DIGITS ||
	    strncmp(s, ANFU_PAY_PAYCODE_PREFIX, n) != 0)
		return false;
	for (size_t i = 0; i < ANFU_PAY_PAYCODE_DIGITS; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* ---- use: inside a writer command ---- */

struct use_ctx {
	const char *hash;
	const char *customer_id;
};

/* Uses the code for order o (once: only a live, unexpired code of the
 * customer changes); else *ret_code is the refusal. */
static int code_use(struct anfu_db *db, const struct use_ctx *u, const char *order_id, int64_t now,
		    const char **ret_code)
{
	struct anfu_param v[4] = { ANFU_PS(order_id), ANFU_PI(now), ANFU_PS(u->hash),
				   ANFU_PS(u->customer_id) };
	struct code_row row;
	int64_t changes = 0;
	int r = anfu_db_exec(db,
			     "UPDATE pay_paycode SET state = 'used', order_id = $1, used_ms = $2"
			     " WHERE hash = $3 AND customer_id = $4 AND state = 'live'"
			     " AND expires_ms > $2",
			     v, 4, NULL, NULL, &changes);

	if (r < 0 || changes == 1)
		return r;
	r = code_get(db, u->hash, &row);
	if (r == 0) {
		*ret_code = code_refusal(&row, now);
		if (!*ret_code)
			*ret_code = ANFU_R_PAY_PAYCODE_USED;
	}
	return r;
}

static int use_within(struct anfu_tx *tx, void *ud, const struct anfu_pay_order *o, int64_t now,
		      const char **ret_code, const char **ret_field)
{
	int r = code_use(anfu_tx_db(tx), ud, o->id, now, ret_code);

	if (r == 0 && *ret_code)
		*ret_field = "auth_code";
	return r;
}

/* The waiting payment: the code used, the order paying for its customer. */
struct wait_cmd {
	struct use_ctx u;
	const char *order_id;
	const char *code, *field;
};

static int wait_fn(struct anfu_tx *tx, void *ud)
{
	struct wait_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_order o;
	enum anfu_pay_state next;
	int64_t now = anfu_clock_now_ms();
	bool ok = false;
	int r = anfu_pay_order_get(db, c->order_id, &o);

	if (r < 0)
		return r;
	if (anfu_pay_transition(o.state, ANFU_PAY_EV_PAY_START, &next) < 0)
		c->code = anfu_pay_state_refusal(o.state);
	else if (strcmp(o.kind, "general") != 0)
		c->code = ANFU_R_PAY_KIND_UNSUPPORTED;
	else if (now >= o.expires_ms)
		c->code = ANFU_R_PAY_ORDER_EXPIRED;
	if (c->code)
		return ANFU_ECONFLICT;
	r = code_use(db, &c->u, o.id, now, &c->code);
	if (r == 0 && c->code) {
		c->field = "auth_code";
		return ANFU_ECONFLICT;
	}
	if (r == 0)
		r = pay_order_set_state(db, o.id, o.state, next, now, &ok);
	if (r == 0 && !ok)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	if (r == 0) {
		struct anfu_param v[2] = { ANFU_PS(c->u.customer_id), ANFU_PS(o.id) };

		r = anfu_db_exec(db, "UPDATE pay_order SET payer_id = $1 WHERE id = $2", v, 2, NULL,
				 NULL, NULL);
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.paying", "pay_order", o.id, "success",
				  json_pack("{s:s, s:s, s:I, s:s, s:s}", "merchant", o.merchant_id,
					    "payer", c->u.customer_id, "amount",
					    (json_int_t)o.amount, "currency", "CNY", "auth",
					    "paycode"));
	return r;
}

/* The code's earlier use by this very order (a merchant's retry). */
static bool same_order(struct anfu_db *db, const struct code_row *row,
		       const struct anfu_pay_order_req *q)
{
	struct anfu_pay_order *o = anfu_xcalloc(1, sizeof(*o));
	bool same = row->order_id[0] && anfu_pay_order_get(db, row->order_id, o) == 0 &&
		    strcmp(o->merchant_id, q->merchant_id) == 0 &&
		    strcmp(o->out_trade_no, q->out_trade_no) == 0;

	free(o);
	return same;
}

int anfu_pay_paycode_collect(struct anfu_pay *p, const struct anfu_keys *k,
			     const struct anfu_actor *actor, const struct anfu_pay_paycode_req *req,
			     struct anfu_pay_paycode_result *ret)
{
	struct anfu_pay_paycode_result out;
	struct anfu_pay_order *o = NULL;
	struct anfu_db *db = NULL;
	struct code_row row;
	struct use_ctx u;
	char hash[HASH_HEX];
	bool existed = false;
	int r;

	if (!p || !k || !actor || !req || !req->order || !req->auth_code || !ret)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	if (!code_format_ok(req->auth_code)) {
		out.code = ANFU_R_PAY_PAYCODE_INVALID;
		out.field = "auth_code";
		*ret = out;
		return 0;
	}
	r = anfu_keys_blind_index(k, PAYCODE_PURPOSE, req->auth_code, ANFU_PAY_PAYCODE_DIGITS,
				  hash);
	if (r == 0)
		r = pay_db(p, &db);
	if (r == 0)
		r = code_get(db, hash, &row);
	if (r < 0)
		return r;
	req->order->kind = "general";
	/* A retry of the collection that used the code: its order as it is. */
	if (row.found && strcmp(row.state, "used") == 0 && same_order(db, &row, req->order)) {
		(void)anfu_strlcpy(out.order_id, row.order_id, sizeof(out.order_id));
		out.payment.existed = true;
		*ret = out;
		return 0;
	}
	out.code = code_refusal(&row, anfu_clock_now_ms());
	if (out.code) {
		out.field = "auth_code";
		*ret = out;
		return 0;
	}
	u = (struct use_ctx){ hash, row.customer_id };
	if (req->order->amount <= p->cfg.paycode_nopin_max) {
		struct anfu_iam_pin_ok none = { 0 }; /* no PIN: nothing to record */
		struct anfu_pay_pay_req q = {
			.payer_id = row.customer_id,
			.pin = &none,
			.auth_name = "paycode",
			.within = use_within,
			.within_ud = &u,
		};

		/* The order made and paid in one writer command: a refusal
		 * leaves no order, and the code live. */
		r = pay_order_pay(p, actor, req->order, &q, "paycode", out.order_id, &out.payment);
		if (r == 0 && out.payment.code) {
			out.code = out.payment.code;
			out.field = out.payment.field;
		}
		out.paid = r == 0 && !out.code;
	} else {
		struct wait_cmd w = { u, NULL, NULL, NULL };

		/* The order must exist for the customer to confirm it. */
		o = anfu_xcalloc(1, sizeof(*o));
		r = anfu_pay_order_create(p, actor, req->order, o, &existed, &out.code, &out.field);
		if (r < 0 || out.code)
			goto out;
		(void)anfu_strlcpy(out.order_id, o->id, sizeof(out.order_id));
		w.order_id = o->id;
		/* weight: the audit record. */
		r = anfu_ledger_run_weighted(p->ledger, actor, wait_fn, &w, 1, pay_deadline());
		if (r == ANFU_ECONFLICT && w.code) {
			out.code = w.code;
			out.field = w.field;
			r = 0;
		}
		out.waiting = r == 0 && !out.code;
	}
out:
	free(o);
	if (r == 0)
		*ret = out;
	return r;
}

/* ---- the customer's waiting payments ---- */

struct id_list {
	char (*ids)[ANFU_ID_MAX];
	size_t cap, n;
};

static int id_fn(void *ud, const struct anfu_row *r)
{
	struct id_list *l = ud;

	if (l->n < l->cap)
		pay_col(r, 0, l->ids[l->n++], ANFU_ID_MAX);
	return 0;
}

int anfu_pay_paycode_pending(struct anfu_db *db, const char *customer_id,
			     struct anfu_pay_order *out, size_t cap, size_t *ret_n)
{
	struct anfu_param v[2] = { ANFU_PS(customer_id), ANFU_PI((int64_t)cap) };
	struct id_list l = { NULL, cap, 0 };
	size_t n = 0;
	int r;

	if (!db || !customer_id || !out || cap < 1 || cap > ANFU_LIMIT_PAY_PAGE || !ret_n)
		return ANFU_EINVAL;
	l.ids = anfu_xcalloc(cap, ANFU_ID_MAX);
	r = anfu_db_exec(db,
			 "SELECT o.id FROM pay_paycode c JOIN pay_order o ON o.id = c.order_id"
			 " WHERE c.customer_id = $1 AND c.state = 'used' AND o.state = 'paying'"
			 " AND o.payer_id = $1 ORDER BY o.created_ms, o.id LIMIT $2",
			 v, 2, id_fn, &l, NULL);
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		r = anfu_pay_order_get(db, l.ids[i], &out[n]);
		if (r == 0)
			n++;
	}
	free(l.ids);
	if (r == 0)
		*ret_n = n;
	return r;
}
