/*
 * pay/refund: refunds of paid orders (FUNC-SETL-08, FUNC-OPS-04;
 * docs/payments.md, "Refunds"): a merchant's application with its refund
 * number's idempotency, the review (the rules up to refund_auto_max, one
 * operator above, two different operators above refund_four_eyes_min),
 * an operator's choice of the payer's bound card it goes to should it go
 * to a card, the execution (the fee back and the money back as one linked ledger
 * chain with the order's new state), waiting for funds and its retry.
 *
 * Every decision that must hold at commit (the order's state, the
 * cumulative amount, the refund's state, the balances) is made inside
 * ONE writer command (anfu_ledger_run_weighted): two racing refunds of
 * one order are ordered by the writer and the second sees the first.
 * Trusts its callers for the merchant id (the session's) and the fields'
 * formats (the handler checked them).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/money.h"
#include "base/refusal.h"
#include "base/str.h"
#include "bank/bank.h"
#include "crypto/crypto.h"
#include "iam/iam.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

int anfu_pay_refund_fee(int64_t fee, int64_t order_amount, int64_t refunded_before,
			int64_t fee_back_before, int64_t amount, int64_t *ret)
{
	__int128 share;

	if (!ret || fee < 0 || order_amount <= 0 || refunded_before < 0 || amount < 0 ||
	    fee_back_before < 0 || refunded_before > order_amount ||
	    amount > order_amount - refunded_before)
		return ANFU_EINVAL;
	/* Rounded down on the cumulative total: the sum of the fees back is
	 * floor(fee * refunded / order_amount) <= fee, exactly fee at a full
	 * refund; the product of two int64 fits 128 bits. */
	share = (__int128)fee * (refunded_before + amount) / order_amount;
	if (share < fee_back_before)
		return ANFU_EINVAL;
	*ret = (int64_t)(share - fee_back_before);
	return 0;
}

#define REFUND_COLS                                                                            \
	"id, order_id, merchant_id, out_refund_no, payer_id, state, amount, fee_back, reason," \
	" origin, created_by, reviewed_by, approved_by, ledger_id, fee_ledger_id, created_ms," \
	" updated_ms, destination, card, withdrawal_id, chosen_card_id, chosen_card, attempt"

struct refund_find {
	bool found, bad_state;
	struct anfu_pay_refund *out;
};

static int refund_row(void *ud, const struct anfu_row *r)
{
	struct refund_find *f = ud;
	struct anfu_pay_refund *x = f->out;
	char state[24];

	f->found = true;
	memset(x, 0, sizeof(*x));
	pay_col(r, 0, x->id, sizeof(x->id));
	pay_col(r, 1, x->order_id, sizeof(x->order_id));
	pay_col(r, 2, x->merchant_id, sizeof(x->merchant_id));
	pay_col(r, 3, x->out_refund_no, sizeof(x->out_refund_no));
	pay_col(r, 4, x->payer_id, sizeof(x->payer_id));
	pay_col(r, 5, state, sizeof(state));
	if (anfu_pay_refund_state_parse(state, &x->state) < 0)
		f->bad_state = true;
	x->amount = anfu_row_int(r, 6);
	x->fee_back = anfu_row_int(r, 7);
	pay_col(r, 8, x->reason, sizeof(x->reason));
	pay_col(r, 9, x->origin, sizeof(x->origin));
	pay_col(r, 10, x->created_by, sizeof(x->created_by));
	pay_col(r, 11, x->reviewed_by, sizeof(x->reviewed_by));
	pay_col(r, 12, x->approved_by, sizeof(x->approved_by));
	pay_col(r, 13, x->ledger_id, sizeof(x->ledger_id));
	pay_col(r, 14, x->fee_ledger_id, sizeof(x->fee_ledger_id));
	x->created_ms = anfu_row_int(r, 15);
	x->updated_ms = anfu_row_int(r, 16);
	pay_col(r, 17, x->destination, sizeof(x->destination));
	pay_col(r, 18, x->card, sizeof(x->card));
	pay_col(r, 19, x->withdrawal_id, sizeof(x->withdrawal_id));
	pay_col(r, 20, x->chosen_card_id, sizeof(x->chosen_card_id));
	pay_col(r, 21, x->chosen_card, sizeof(x->chosen_card));
	x->attempt = anfu_row_int(r, 22);
	return 0;
}

static int refund_query(struct anfu_db *db, const char *where, struct anfu_param *v, int n,
			struct anfu_pay_refund *ret)
{
	char sql[512];
	struct anfu_pay_refund x;
	struct refund_find f = { false, false, &x };
	int r;

	if (snprintf(sql, sizeof(sql), "SELECT " REFUND_COLS " FROM pay_refund WHERE %s", where) >=
	    (int)sizeof(sql))
		return ANFU_ELIMIT;
	r = anfu_db_exec(db, sql, v, n, refund_row, &f, NULL);
	if (r == 0 && !f.found)
		r = ANFU_ENOTFOUND;
	if (r == 0 && f.bad_state)
		r = ANFU_EINTERNAL;
	if (r == 0)
		*ret = x;
	return r;
}

int anfu_pay_refund_get(struct anfu_db *db, const char *id, struct anfu_pay_refund *ret)
{
	struct anfu_param v[1] = { ANFU_PS(id) };

	if (!db || !id || !ret)
		return ANFU_EINVAL;
	return refund_query(db, "id = $1", v, 1, ret);
}

/* Sums of the order's refunds: all that count against the amount paid
 * (every state but declined, rejected, requested and failed), and the
 * succeeded ones with their fee back. */
struct sums {
	int64_t reserved, refunded, fee_back;
};

static int sums_row(void *ud, const struct anfu_row *r)
{
	struct sums *s = ud;

	s->reserved = anfu_row_int(r, 0);
	s->refunded = anfu_row_int(r, 1);
	s->fee_back = anfu_row_int(r, 2);
	return 0;
}

static int order_sums(struct anfu_db *db, const char *order_id, struct sums *ret)
{
	struct anfu_param v[1] = { ANFU_PS(order_id) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(
		db,
		"SELECT COALESCE(SUM(CASE WHEN state IN ('reviewing', 'approved', 'waiting_funds',"
		" 'succeeded', 'sending') THEN amount ELSE 0 END), 0),"
		" COALESCE(SUM(CASE WHEN state = 'succeeded' THEN amount ELSE 0 END), 0),"
		" COALESCE(SUM(CASE WHEN state = 'succeeded' THEN fee_back ELSE 0 END), 0)"
		" FROM pay_refund WHERE order_id = $1",
		v, 1, sums_row, ret, NULL);
}

/* Writes x's state and the columns a move sets, if it is still from. */
static int refund_store(struct anfu_db *db, const struct anfu_pay_refund *x,
			enum anfu_pay_refund_state from)
{
	struct anfu_param v[9] = {
		ANFU_PS(anfu_pay_refund_state_name(x->state)),
		ANFU_PI(x->fee_back),
		ANFU_PS(x->reviewed_by),
		ANFU_PS(x->approved_by),
		ANFU_PS(x->ledger_id[0] ? x->ledger_id : NULL),
		ANFU_PS(x->fee_ledger_id[0] ? x->fee_ledger_id : NULL),
		ANFU_PI(x->updated_ms),
		ANFU_PS(x->id),
		ANFU_PS(anfu_pay_refund_state_name(from)),
	};
	int64_t n = 0;
	int r = anfu_db_exec(
		db,
		"UPDATE pay_refund SET state = $1, fee_back = $2, reviewed_by = $3,"
		" approved_by = $4, ledger_id = $5, fee_ledger_id = $6, updated_ms = $7"
		" WHERE id = $8 AND state = $9",
		v, 9, NULL, NULL, &n);

	if (r == 0 && n != 1)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	return r;
}

/* A move of x by the refund table, stored, with its audit record; extra
 * (owned, taken even on failure; NULL for none): more details. */
static int refund_move_with(struct anfu_tx *tx, struct anfu_pay_refund *x,
			    enum anfu_pay_refund_event ev, const char *action, json_t *extra)
{
	enum anfu_pay_refund_state from = x->state, next;
	json_t *det = NULL;
	int r = anfu_pay_refund_transition(from, ev, &next);

	if (r < 0)
		goto out;
	x->state = next;
	x->updated_ms = anfu_clock_now_ms();
	r = refund_store(anfu_tx_db(tx), x, from);
	if (r < 0)
		goto out;
	det = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "order", x->order_id, "merchant",
			x->merchant_id, "amount", (json_int_t)x->amount, "fee_back",
			(json_int_t)x->fee_back, "currency", "CNY", "from",
			anfu_pay_refund_state_name(from), "to", anfu_pay_refund_state_name(next));
	if (det && extra && json_object_update(det, extra) < 0) {
		r = ANFU_EINTERNAL;
		goto out;
	}
	r = anfu_tx_audit(tx, action, "pay_refund", x->id, "success", det);
	det = NULL; /* the audit's */
out:
	json_decref(det);
	json_decref(extra);
	return r;
}

static int refund_move(struct anfu_tx *tx, struct anfu_pay_refund *x, enum anfu_pay_refund_event ev,
		       const char *action)
{
	return refund_move_with(tx, x, ev, action, NULL);
}

/* The accounts an execution posts on, found outside the writer. */
struct accounts {
	char merchant[ANFU_ID_MAX], payer[ANFU_ID_MAX], fee[ANFU_ID_MAX];
};

static int accounts_of(struct anfu_pay *p, struct anfu_db *db, const char *order_id,
		       struct accounts *ret)
{
	struct anfu_pay_order *o = anfu_xcalloc(1, sizeof(*o));
	struct anfu_pay_merchant m;
	struct anfu_ledger_account a;
	int r = anfu_pay_order_get(db, order_id, o);

	if (r == 0)
		r = anfu_pay_merchant_get(db, o->merchant_id, &m);
	if (r == 0 && !o->payer_id[0])
		r = ANFU_ENOTFOUND; /* not paid: the command refuses it */
	if (r == 0) {
		const struct anfu_ledger_account_spec w = { "customer_wallet", "CNY", "customer",
							    o->payer_id };
		const struct anfu_ledger_account_spec f = { "platform_fee", "CNY", "platform",
							    "platform" };

		(void)anfu_strlcpy(ret->merchant, m.account_id, sizeof(ret->merchant));
		r = anfu_ledger_account_find(p->ledger, &w, &a);
		if (r == 0)
			(void)anfu_strlcpy(ret->payer, a.id, sizeof(ret->payer));
		if (r == 0)
			r = anfu_ledger_account_find(p->ledger, &f, &a);
		if (r == 0)
			(void)anfu_strlcpy(ret->fee, a.id, sizeof(ret->fee));
	}
	free(o);
	return r;
}

/* The accounts of refund id's order, for a command on an existing refund:
 * 0 with *ret filled; 0 with *ret untouched when the refund or its order is
 * unknown (the command then answers refund_not_found); the store's errors. */
static int accounts_of_refund(struct anfu_pay *p, const char *id, struct accounts *ret)
{
	struct anfu_pay_refund x;
	struct anfu_db *db = NULL;
	int r = pay_db(p, &db);

	if (r == 0)
		r = anfu_pay_refund_get(db, id, &x);
	if (r == 0)
		r = accounts_of(p, db, x.order_id, ret);
	return r == ANFU_ENOTFOUND ? 0 : r;
}

/* The end of refund x's execution inside the writer: x succeeded, the
 * order's refund_full (full) or refund_partial by the table, audited. */
static int executed_in(struct anfu_tx *tx, struct anfu_pay_order *o, struct anfu_pay_refund *x,
		       bool full)
{
	enum anfu_pay_state next;
	bool ok = false;
	int r = refund_move(tx, x, ANFU_PAY_RF_EV_SUCCEED, "pay.refund.succeeded");

	if (r == 0)
		r = anfu_pay_transition(o->state,
					full ? ANFU_PAY_EV_REFUND_FULL : ANFU_PAY_EV_REFUND_PARTIAL,
					&next);
	if (r == 0)
		r = pay_order_set_state(anfu_tx_db(tx), o->id, o->state, next, anfu_clock_now_ms(),
					&ok);
	if (r == 0 && !ok)
		r = ANFU_EINTERNAL;
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.refunded", "pay_order", o->id, "success",
				  json_pack("{s:s, s:I, s:s, s:s}", "refund", x->id, "amount",
					    (json_int_t)x->amount, "from",
					    anfu_pay_state_name(o->state), "to",
					    anfu_pay_state_name(next)));
	if (r == 0)
		o->state = next;
	return r;
}

/* The fee an execution gives back: of the payment's fee on the amount
 * paid; for an escrow order released, of the release's fee on what was
 * released (the refunds during escrow were never charged a fee). */
static int fee_back_of(struct anfu_db *db, const struct anfu_pay_order *o, const struct sums *s,
		       int64_t amount, int64_t *ret)
{
	struct anfu_pay_escrow e;
	int r;

	if (o->state == ANFU_PAY_ESCROW_HELD) {
		*ret = 0;
		return 0;
	}
	if (strcmp(o->kind, "escrow") != 0)
		return anfu_pay_refund_fee(o->fee, o->amount, s->refunded, s->fee_back, amount,
					   ret);
	r = anfu_pay_escrow_get(db, o->id, &e);
	if (r < 0)
		return r;
	return anfu_pay_refund_fee(e.fee, e.amount - e.refunded, s->refunded - e.refunded,
				   s->fee_back, amount, ret);
}

/* What a refund to a card adds to a command's weight: the bank credit's
 * two records (submitted, approved), the refund's sending record, the
 * payer's notice and, out of a held escrow, the hold's post. */
#define CARD_WEIGHT 5

static int card_in(struct anfu_pay *p, struct anfu_tx *tx, const char *hold_acc,
		   const char *fee_acc, struct anfu_pay_refund *x, int64_t fee_back,
		   const char **code);
static int escrow_card_in(struct anfu_pay *p, struct anfu_tx *tx, struct anfu_pay_refund *x,
			  const char **code);
static void card_send(struct anfu_pay *p, const struct anfu_actor *actor,
		      struct anfu_pay_refund *x);

/* Executes approved (or waiting_funds) refund x of order o inside the
 * writer. An escrow_held order: the amount comes out of the escrow
 * (anfu_pay_escrow_refund_in), no fee back; a payer's wallet that cannot
 * take it sends it out of the escrow to their bound card (escrow_card_in).
 * Else the fee back and the
 * money back as one linked chain; a short merchant balance moves x to
 * waiting_funds; a payer's wallet that cannot take it (closed, frozen)
 * sends it to their bound card (card_in: x sending) when they have one. Any other ledger refusal is *ret_code (the caller
 * undoes the command). */
static int execute_in(struct anfu_pay *p, struct anfu_tx *tx, const struct accounts *acc,
		      struct anfu_pay_order *o, struct anfu_pay_refund *x, const char **ret_code)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_ledger_result res[2];
	char key[ANFU_ID_MAX + 16], fee_key[ANFU_ID_MAX + 16];
	struct sums s;
	int64_t fee_back = 0, left = 0;
	size_t n, money;
	int r = order_sums(db, o->id, &s);

	if (r == 0)
		r = fee_back_of(db, o, &s, x->amount, &fee_back);
	if (r < 0)
		return r;
	if (o->state == ANFU_PAY_ESCROW_HELD) {
		r = anfu_pay_escrow_refund_in(p, tx, o->id, x->amount, x->id, x->ledger_id, &left,
					      ret_code);
		if (r == ANFU_ECONFLICT && *ret_code)
			return escrow_card_in(p, tx, x, ret_code);
		return r < 0 ? r : executed_in(tx, o, x, left == 0);
	}
	(void)snprintf(key, sizeof(key), "refund.%s", x->id);
	(void)snprintf(fee_key, sizeof(fee_key), "refund.%s.fee", x->id);
	{
		/* The fee back first: the merchant's balance then counts it. */
		struct anfu_ledger_transfer t[2] = {
			{ .idem_key = fee_key,
			  .debit_account = acc->fee,
			  .credit_account = acc->merchant,
			  .amount = fee_back,
			  .asset = "CNY",
			  .code = "fee_refund",
			  .ref = o->id,
			  .flags = ANFU_LEDGER_TRF_LINKED },
			{ .idem_key = key,
			  .debit_account = acc->merchant,
			  .credit_account = acc->payer,
			  .amount = x->amount,
			  .asset = "CNY",
			  .code = "refund",
			  .ref = o->id },
		};

		n = fee_back > 0 ? 2 : 1;
		money = n - 1;
		r = anfu_ledger_submit_in(tx, PAY_CALLER, fee_back > 0 ? t : t + 1, n, res);
	}
	if (r < 0)
		return r;
	if (res[money].code) {
		const char *code = res[money].code;

		for (size_t i = 0; i < n; i++)
			if (res[i].code &&
			    strcmp(res[i].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) != 0)
				code = res[i].code;
		r = card_in(p, tx, acc->merchant, acc->fee, x, fee_back, &code);
		if (r < 0 || !code)
			return r; /* sent to the bound card */
		if (strcmp(code, ANFU_R_LEDGER_INSUFFICIENT_FUNDS) == 0) {
			if (x->state == ANFU_PAY_RF_WAITING_FUNDS)
				return 0; /* still short: it waits on */
			r = refund_move(tx, x, ANFU_PAY_RF_EV_WAIT_FUNDS,
					"pay.refund.waiting_funds");
			return r < 0 ? r : pay_refund_waiting_notice_in(p, tx, o, x);
		}
		*ret_code = code;
		return ANFU_ECONFLICT;
	}
	x->fee_back = fee_back;
	(void)anfu_strlcpy(x->ledger_id, res[money].id, sizeof(x->ledger_id));
	if (fee_back > 0)
		(void)anfu_strlcpy(x->fee_ledger_id, res[0].id, sizeof(x->fee_ledger_id));
	return executed_in(tx, o, x, s.refunded + x->amount == o->amount);
}

/* ---- the application ---- */

struct apply_cmd {
	struct anfu_pay *p;
	const struct anfu_pay_refund_req *req;
	struct accounts acc;
	char id[ANFU_ID_MAX];
	struct anfu_pay_order o;
	struct anfu_pay_refund x;
	bool existed;
	const char *code, *field;
};

static int apply_refuse(struct apply_cmd *c, const char *code, const char *field)
{
	c->code = code;
	c->field = field;
	return ANFU_ECONFLICT;
}

static int refund_insert(struct anfu_db *db, const struct anfu_pay_refund *x)
{
	struct anfu_param v[13] = {
		ANFU_PS(x->id),		 ANFU_PS(x->order_id),
		ANFU_PS(x->merchant_id), ANFU_PS(x->out_refund_no),
		ANFU_PS(x->payer_id),	 ANFU_PS(anfu_pay_refund_state_name(x->state)),
		ANFU_PI(x->amount),	 ANFU_PS(x->reason),
		ANFU_PS(x->origin),	 ANFU_PS(x->created_by),
		ANFU_PI(x->created_ms),	 ANFU_PI(x->updated_ms),
		ANFU_PS(x->reviewed_by),
	};

	return anfu_db_exec(db,
			    "INSERT INTO pay_refund (id, order_id, merchant_id, out_refund_no,"
			    " payer_id, state, amount, fee_back, reason, origin, created_by,"
			    " created_ms, updated_ms, reviewed_by, approved_by) VALUES ($1, $2, $3,"
			    " $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13, '')",
			    v, 13, NULL, NULL, NULL);
}

static int apply_fn(struct anfu_tx *tx, void *ud)
{
	struct apply_cmd *c = ud;
	const struct anfu_pay_refund_req *q = c->req;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param v[2] = { ANFU_PS(q->merchant_id), ANFU_PS(q->out_refund_no) };
	struct anfu_pay_refund *x = &c->x;
	enum anfu_pay_state next;
	struct sums s;
	int64_t now = anfu_clock_now_ms();
	int r = refund_query(db, "merchant_id = $1 AND out_refund_no = $2", v, 2, x);

	if (r == 0) {
		if (strcmp(x->order_id, q->order_id) != 0 || x->amount != q->amount ||
		    strcmp(x->reason, q->reason) != 0)
			return apply_refuse(c, ANFU_R_PAY_REFUND_NO_CONFLICT, "out_refund_no");
		c->existed = true;
		return 0;
	}
	if (r != ANFU_ENOTFOUND)
		return r;
	r = anfu_pay_order_get(db, q->order_id, &c->o);
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(c->o.merchant_id, q->merchant_id) != 0))
		return apply_refuse(c, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	r = order_sums(db, c->o.id, &s);
	if (r < 0)
		return r;
	/* A refunded order has nothing left: the amount's refusal says so. */
	if (c->o.state != ANFU_PAY_REFUNDED &&
	    anfu_pay_transition(c->o.state, ANFU_PAY_EV_REFUND_PARTIAL, &next) < 0)
		return apply_refuse(c,
				    c->o.state == ANFU_PAY_CLOSED ? ANFU_R_PAY_ORDER_CLOSED
								  : ANFU_R_PAY_ORDER_STATE,
				    NULL);
	if (q->amount > c->o.amount - s.reserved)
		return apply_refuse(c, ANFU_R_PAY_REFUND_EXCEEDED, "amount");
	if (!c->acc.payer[0])
		return ANFU_EINTERNAL; /* paid, yet no wallet found before */
	memset(x, 0, sizeof(*x));
	(void)anfu_strlcpy(x->id, c->id, sizeof(x->id));
	(void)anfu_strlcpy(x->order_id, c->o.id, sizeof(x->order_id));
	(void)anfu_strlcpy(x->merchant_id, c->o.merchant_id, sizeof(x->merchant_id));
	(void)anfu_strlcpy(x->out_refund_no, q->out_refund_no, sizeof(x->out_refund_no));
	(void)anfu_strlcpy(x->payer_id, c->o.payer_id, sizeof(x->payer_id));
	(void)anfu_strlcpy(x->reason, q->reason, sizeof(x->reason));
	(void)anfu_strlcpy(x->origin, q->origin ? q->origin : "merchant", sizeof(x->origin));
	(void)anfu_strlcpy(x->created_by, q->user_id, sizeof(x->created_by));
	x->state = ANFU_PAY_RF_REVIEWING;
	x->amount = q->amount;
	x->created_ms = x->updated_ms = now;
	r = refund_insert(db, x);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.refund.applied", "pay_refund", x->id, "success",
				  json_pack("{s:s, s:s, s:s, s:I, s:s}", "order", x->order_id,
					    "merchant", x->merchant_id, "out_refund_no",
					    x->out_refund_no, "amount", (json_int_t)x->amount,
					    "currency", "CNY"));
	if (r < 0 || (!q->reviewer && x->amount > c->p->cfg.refund_auto_max))
		return r;
	/* Within the rules (or decided already): approved, executed in this command. */
	(void)anfu_strlcpy(x->reviewed_by, q->reviewer ? q->reviewer : "rules",
			   sizeof(x->reviewed_by));
	r = refund_move(tx, x, ANFU_PAY_RF_EV_APPROVE, "pay.refund.approved");
	if (r == 0)
		r = execute_in(c->p, tx, &c->acc, &c->o, x, &c->code);
	return r;
}

int anfu_pay_refund_apply(struct anfu_pay *p, const struct anfu_actor *actor,
			  const struct anfu_pay_refund_req *req, struct anfu_pay_refund *ret,
			  bool *ret_existed, const char **ret_code, const char **ret_field)
{
	struct apply_cmd *c = NULL;
	struct anfu_db *db = NULL;
	int r;

	if (!p || !actor || !req || !req->merchant_id || !req->user_id || !req->order_id ||
	    !req->out_refund_no || !req->reason || req->amount < 1 || !ret || !ret_existed ||
	    !ret_code || !ret_field)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	c->p = p;
	c->req = req;
	r = pay_db(p, &db);
	if (r == 0)
		r = accounts_of(p, db, req->order_id, &c->acc);
	/* No order or no payment yet: the command gives the refusal. */
	if (r == ANFU_ENOTFOUND)
		r = 0;
	if (r == 0)
		r = anfu_id_new("rfd", c->id, sizeof(c->id));
	/* weight: two transfers and four audit records. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, apply_fn, c, 6 + CARD_WEIGHT,
					     pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		*ret_field = c->field;
		r = 0;
	} else if (r == 0) {
		if (!c->existed)
			card_send(p, actor, &c->x);
		*ret_code = NULL;
		*ret_field = NULL;
		*ret = c->x;
		*ret_existed = c->existed;
	}
	free(c);
	return r;
}

/* ---- the operators' review ---- */

struct review_cmd {
	struct anfu_pay *p;
	const struct anfu_actor *actor;
	const char *id;
	bool approve;
	struct accounts acc;
	struct anfu_pay_order o;
	struct anfu_pay_refund x;
	const char *code;
};

static int review_fn(struct anfu_tx *tx, void *ud)
{
	struct review_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_refund *x = &c->x;
	enum anfu_pay_refund_state next;
	int r = anfu_pay_refund_get(db, c->id, x);

	if (r == ANFU_ENOTFOUND) {
		c->code = ANFU_R_PAY_REFUND_NOT_FOUND;
		return ANFU_ECONFLICT;
	}
	if (r < 0)
		return r;
	if (anfu_pay_refund_transition(x->state, ANFU_PAY_RF_EV_APPROVE, &next) < 0) {
		c->code = ANFU_R_PAY_REFUND_STATE;
		return ANFU_ECONFLICT;
	}
	if (!c->approve) {
		(void)anfu_strlcpy(x->reviewed_by, c->actor->id, sizeof(x->reviewed_by));
		return refund_move(tx, x, ANFU_PAY_RF_EV_REJECT, "pay.refund.rejected");
	}
	if (x->amount > c->p->cfg.refund_four_eyes_min) {
		if (!x->approved_by[0]) {
			/* The maker's approval: recorded, still in review. */
			(void)anfu_strlcpy(x->approved_by, c->actor->id, sizeof(x->approved_by));
			x->updated_ms = anfu_clock_now_ms();
			r = refund_store(db, x, x->state);
			if (r == 0)
				r = anfu_tx_audit(tx, "pay.refund.maker_approved", "pay_refund",
						  x->id, "success",
						  json_pack("{s:s, s:I}", "order", x->order_id,
							    "amount", (json_int_t)x->amount));
			return r;
		}
		if (strcmp(x->approved_by, c->actor->id) == 0) {
			c->code = ANFU_R_PAY_REFUND_CHECKER_IS_MAKER;
			return ANFU_ECONFLICT;
		}
	}
	(void)anfu_strlcpy(x->reviewed_by, c->actor->id, sizeof(x->reviewed_by));
	r = anfu_pay_order_get(db, x->order_id, &c->o);
	if (r == 0)
		r = refund_move(tx, x, ANFU_PAY_RF_EV_APPROVE, "pay.refund.approved");
	if (r == 0)
		r = execute_in(c->p, tx, &c->acc, &c->o, x, &c->code);
	return r;
}

int anfu_pay_refund_review(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
			   bool approve, struct anfu_pay_refund *ret, const char **ret_code)
{
	struct review_cmd *c = NULL;
	int r;

	if (!p || !actor || !actor->id || !id || !ret || !ret_code)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	*c = (struct review_cmd){ .p = p, .actor = actor, .id = id, .approve = approve };
	r = accounts_of_refund(p, id, &c->acc);
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, review_fn, c, 6 + CARD_WEIGHT,
					     pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		r = 0;
	} else if (r == 0) {
		card_send(p, actor, &c->x);
		*ret_code = NULL;
		*ret = c->x;
	}
	free(c);
	return r;
}

/* ---- an operator's choice of the card ---- */

struct choose_cmd {
	struct anfu_pay *p;
	const char *id, *card_id;
	struct anfu_pay_refund x;
	const char *code;
};

static int choose_refuse(struct choose_cmd *c, const char *code)
{
	c->code = code;
	return ANFU_ECONFLICT;
}

/* x's chosen card as x has it, with its state and time if still from. */
static int choice_store(struct anfu_db *db, const struct anfu_pay_refund *x,
			enum anfu_pay_refund_state from)
{
	struct anfu_param v[6] = {
		ANFU_PS(x->chosen_card_id),
		ANFU_PS(x->chosen_card),
		ANFU_PS(anfu_pay_refund_state_name(x->state)),
		ANFU_PI(x->updated_ms),
		ANFU_PS(x->id),
		ANFU_PS(anfu_pay_refund_state_name(from)),
	};
	int64_t n = 0;
	int r = anfu_db_exec(db,
			     "UPDATE pay_refund SET chosen_card_id = $1, chosen_card = $2,"
			     " state = $3, updated_ms = $4 WHERE id = $5 AND state = $6",
			     v, 6, NULL, NULL, &n);

	if (r == 0 && n != 1)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	return r;
}

static int choose_fn(struct anfu_tx *tx, void *ud)
{
	struct choose_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_refund *x = &c->x;
	enum anfu_pay_refund_state from, next;
	char masked[ANFU_BANK_MASKED_MAX], before[sizeof(x->chosen_card)];
	int r = anfu_pay_refund_get(db, c->id, x);

	if (r == ANFU_ENOTFOUND)
		return choose_refuse(c, ANFU_R_PAY_REFUND_NOT_FOUND);
	if (r < 0)
		return r;
	from = x->state;
	if (anfu_pay_refund_transition(from, ANFU_PAY_RF_EV_CHOOSE_CARD, &next) < 0)
		return choose_refuse(c, ANFU_R_PAY_REFUND_STATE);
	/* The payer's own card, bound now: no bank, no card. */
	r = c->p->bank ? anfu_bank_card_bound_in(c->p->bank, tx, x->payer_id, c->card_id, masked)
		       : ANFU_ENOTFOUND;
	if (r == ANFU_ENOTFOUND)
		return choose_refuse(c, ANFU_R_PAY_REFUND_CARD_INVALID);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(before, x->chosen_card, sizeof(before));
	(void)anfu_strlcpy(x->chosen_card_id, c->card_id, sizeof(x->chosen_card_id));
	(void)anfu_strlcpy(x->chosen_card, masked, sizeof(x->chosen_card));
	x->state = next;
	x->updated_ms = anfu_clock_now_ms();
	r = choice_store(db, x, from);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.refund.card_chosen", "pay_refund", x->id, "success",
				  json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s}", "order", x->order_id,
					    "merchant", x->merchant_id, "card_id",
					    x->chosen_card_id, "card", x->chosen_card, "replaced",
					    before[0] ? before : NULL, "state",
					    anfu_pay_refund_state_name(next)));
	return r;
}

int anfu_pay_refund_choose_card(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
				const char *card_id, struct anfu_pay_refund *ret,
				const char **ret_code)
{
	struct choose_cmd *c = NULL;
	int r;

	if (!p || !actor || !id || !card_id || !card_id[0] || !ret || !ret_code)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	*c = (struct choose_cmd){ .p = p, .id = id, .card_id = card_id };
	/* weight: its audit record. */
	r = anfu_ledger_run_weighted(p->ledger, actor, choose_fn, c, 1, pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		r = 0;
	} else if (r == 0) {
		*ret_code = NULL;
		*ret = c->x;
	}
	free(c);
	return r;
}

/* ---- waiting for funds ---- */

struct waiting {
	char ids[ANFU_LIMIT_PAY_EXPIRE_PASS][ANFU_ID_MAX];
	size_t n;
};

static int waiting_row(void *ud, const struct anfu_row *r)
{
	struct waiting *w = ud;

	if (w->n < ANFU_LIMIT_PAY_EXPIRE_PASS)
		pay_col(r, 0, w->ids[w->n++], ANFU_ID_MAX);
	return 0;
}

struct retry_cmd {
	struct anfu_pay *p;
	struct accounts acc;
	struct anfu_pay_order o;
	struct anfu_pay_refund x;
	const char *id;
	const char *code;
	bool done;
};

static int retry_fn(struct anfu_tx *tx, void *ud)
{
	struct retry_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int r = anfu_pay_refund_get(db, c->id, &c->x);

	if (r < 0 || c->x.state != ANFU_PAY_RF_WAITING_FUNDS)
		return r;
	r = anfu_pay_order_get(db, c->x.order_id, &c->o);
	if (r == 0)
		r = execute_in(c->p, tx, &c->acc, &c->o, &c->x, &c->code);
	if (r == 0)
		c->done = c->x.state == ANFU_PAY_RF_SUCCEEDED;
	return r;
}

int anfu_pay_refund_retry_due(struct anfu_pay *p, int64_t *ret_done)
{
	struct waiting *w = NULL;
	struct retry_cmd *c = NULL;
	struct anfu_db *db = NULL;
	int64_t done = 0;
	int r;

	if (!p || !ret_done)
		return ANFU_EINVAL;
	w = anfu_xcalloc(1, sizeof(*w));
	c = anfu_xcalloc(1, sizeof(*c));
	r = pay_db(p, &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT id FROM pay_refund WHERE state = 'waiting_funds'"
				 " ORDER BY updated_ms, id",
				 NULL, 0, waiting_row, w, NULL);
	for (size_t i = 0; r == 0 && i < w->n; i++) {
		memset(c, 0, sizeof(*c));
		c->p = p;
		c->id = w->ids[i];
		r = anfu_pay_refund_get(db, c->id, &c->x);
		if (r == 0)
			r = accounts_of(p, db, c->x.order_id, &c->acc);
		if (r == 0)
			r = anfu_ledger_run_weighted(p->ledger, &system_actor, retry_fn, c,
						     6 + CARD_WEIGHT, pay_deadline());
		/* Another refusal (a closed wallet): it stays waiting, reported. */
		if (r == ANFU_ECONFLICT && c->code)
			r = 0;
		else if (r == 0)
			card_send(p, &system_actor, &c->x);
		if (r == 0 && c->done)
			done++;
	}
	free(c);
	free(w);
	if (r == 0)
		*ret_done = done;
	return r;
}

int64_t anfu_pay_refund_retry_interval(const void *svc)
{
	const struct anfu_pay *p = svc;

	return p->cfg.refund_retry_interval_s * 1000;
}

/* ---- a customer's request, the merchant's answer ---- */

struct request_cmd {
	struct anfu_pay *p;
	const struct anfu_actor *actor;
	const char *order_id, *payer_id, *merchant_id, *id, *reason;
	const char *request_id; /* the customer's idempotency key, or NULL */
	int64_t amount;
	bool accept;  /* the merchant's answer */
	bool existed; /* a request of the same key was there: answered as it is */
	struct accounts acc;
	struct anfu_pay_order o;
	struct anfu_pay_refund x;
	const char *code, *field;
};

static int req_refuse(struct request_cmd *c, const char *code, const char *field)
{
	c->code = code;
	c->field = field;
	return ANFU_ECONFLICT;
}

/* The number of a customer's request with the client's key: in the
 * customers' namespace, one per (payer, order, key). A hash, so any key a
 * client chooses fits the number's 64 bytes and no two payers' keys
 * meet; "customer-k" never begins a refund id's number ("customer-rfd_"). */
#define REQUEST_NUMBER_HASH 20 /* bytes of the hash in the number: 160 bits */
static int request_number(const char *payer_id, const char *order_id, const char *key,
			  char out[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1])
{
	uint8_t h[ANFU_HASH_LEN];
	char hex[2 * REQUEST_NUMBER_HASH + 1];
	struct anfu_hash_ctx *ctx = NULL;
	int r = anfu_hash_begin(ANFU_HASH_SHA256, &ctx);

	/* Lengths first: ("ab", "c") and ("a", "bc") are different inputs. */
	for (int i = 0; r == 0 && i < 3; i++) {
		const char *part = i == 0 ? payer_id : i == 1 ? order_id : key;
		char len[24];

		(void)snprintf(len, sizeof(len), "%zu:", strlen(part));
		r = anfu_hash_update(ctx, len, strlen(len));
		if (r == 0)
			r = anfu_hash_update(ctx, part, strlen(part));
	}
	if (r == 0)
		r = anfu_hash_final(ctx, h); /* frees ctx */
	else if (ctx)
		anfu_hash_ctx_free(ctx);
	if (r < 0)
		return r;
	anfu_hex_encode(h, REQUEST_NUMBER_HASH, hex);
	(void)snprintf(out, ANFU_LIMIT_PAY_OUT_TRADE_NO + 1, "customer-k%s", hex);
	return 0;
}

/* The order's refusal of a refund of amount at commit, or NULL. */
static const char *refundable(const struct anfu_pay_order *o, const struct sums *s, int64_t amount,
			      const char **ret_field)
{
	enum anfu_pay_state next;

	*ret_field = NULL;
	if (o->state != ANFU_PAY_REFUNDED &&
	    anfu_pay_transition(o->state, ANFU_PAY_EV_REFUND_PARTIAL, &next) < 0)
		return o->state == ANFU_PAY_CLOSED ? ANFU_R_PAY_ORDER_CLOSED
						   : ANFU_R_PAY_ORDER_STATE;
	if (amount > o->amount - s->reserved) {
		*ret_field = "amount";
		return ANFU_R_PAY_REFUND_EXCEEDED;
	}
	return NULL;
}

static int request_fn(struct anfu_tx *tx, void *ud)
{
	struct request_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param v[1] = { ANFU_PS(c->order_id) };
	struct anfu_pay_refund *x = &c->x;
	const char *code, *field;
	struct sums s;
	int64_t now = anfu_clock_now_ms(), open = 0;
	int r = anfu_pay_order_get(db, c->order_id, &c->o);

	/* Another customer's order: none of this one's business. */
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(c->o.payer_id, c->payer_id) != 0))
		return req_refuse(c, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	memset(x, 0, sizeof(*x));
	if (c->request_id) {
		/* The same key again: the request as it is now (its content the
		 * same), or a conflict; never a second request. */
		struct anfu_param k[2] = { ANFU_PS(c->o.merchant_id), ANFU_PS(x->out_refund_no) };

		r = request_number(c->payer_id, c->o.id, c->request_id, x->out_refund_no);
		if (r == 0)
			r = refund_query(db, "merchant_id = $1 AND out_refund_no = $2", k, 2, x);
		if (r == 0) {
			if (x->amount != c->amount || strcmp(x->reason, c->reason) != 0)
				return req_refuse(c, ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT,
						  "request_id");
			c->existed = true;
			return 0;
		}
		if (r != ANFU_ENOTFOUND)
			return r;
		r = 0;
	}
	r = order_sums(db, c->o.id, &s);
	if (r == 0)
		r = anfu_db_query_int(db,
				      "SELECT COUNT(*) FROM pay_refund WHERE order_id = $1 AND"
				      " state = 'requested'",
				      v, 1, &open);
	if (r < 0)
		return r;
	/* One open request per order: the merchant answers it first. */
	if (open > 0)
		return req_refuse(c, ANFU_R_PAY_REFUND_STATE, NULL);
	code = refundable(&c->o, &s, c->amount, &field);
	if (code)
		return req_refuse(c, code, field);
	(void)anfu_strlcpy(x->id, c->id, sizeof(x->id));
	(void)anfu_strlcpy(x->order_id, c->o.id, sizeof(x->order_id));
	(void)anfu_strlcpy(x->merchant_id, c->o.merchant_id, sizeof(x->merchant_id));
	/* Its number: in the customers' namespace, unique by the id (or by
	 * the client's key: request_number() above). */
	if (!c->request_id)
		(void)snprintf(x->out_refund_no, sizeof(x->out_refund_no), "customer-%s", c->id);
	(void)anfu_strlcpy(x->payer_id, c->o.payer_id, sizeof(x->payer_id));
	(void)anfu_strlcpy(x->reason, c->reason, sizeof(x->reason));
	(void)anfu_strlcpy(x->origin, "customer", sizeof(x->origin));
	(void)anfu_strlcpy(x->created_by, c->payer_id, sizeof(x->created_by));
	x->state = ANFU_PAY_RF_REQUESTED;
	x->amount = c->amount;
	x->created_ms = x->updated_ms = now;
	r = refund_insert(db, x);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.refund.requested", "pay_refund", x->id, "success",
				  json_pack("{s:s, s:s, s:I, s:s}", "order", x->order_id,
					    "merchant", x->merchant_id, "amount",
					    (json_int_t)x->amount, "currency", "CNY"));
	return r;
}

int anfu_pay_refund_request(struct anfu_pay *p, const struct anfu_actor *actor,
			    const char *order_id, const char *payer_id, int64_t amount,
			    const char *reason, const char *request_id, struct anfu_pay_refund *ret,
			    bool *ret_existed, const char **ret_code, const char **ret_field)
{
	struct request_cmd *c = NULL;
	char id[ANFU_ID_MAX];
	int r;

	if (!p || !actor || !order_id || !payer_id || amount < 1 || !reason || !ret ||
	    !ret_existed || !ret_code || !ret_field ||
	    (request_id &&
	     (!request_id[0] || strlen(request_id) > ANFU_LIMIT_PAY_REFUND_REQUEST_ID_BYTES)))
		return ANFU_EINVAL;
	r = anfu_id_new("rfd", id, sizeof(id));
	if (r < 0)
		return r;
	c = anfu_xcalloc(1, sizeof(*c));
	*c = (struct request_cmd){ .p = p,
				   .actor = actor,
				   .order_id = order_id,
				   .payer_id = payer_id,
				   .id = id,
				   .reason = reason,
				   .request_id = request_id,
				   .amount = amount };
	/* weight: its audit record. */
	r = anfu_ledger_run_weighted(p->ledger, actor, request_fn, c, 1, pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		*ret_field = c->field;
		r = 0;
	} else if (r == 0) {
		*ret_code = NULL;
		*ret_field = NULL;
		*ret = c->x;
		*ret_existed = c->existed;
	}
	free(c);
	return r;
}

static int answer_fn(struct anfu_tx *tx, void *ud)
{
	struct request_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_refund *x = &c->x;
	enum anfu_pay_refund_state next;
	const char *code, *field;
	struct sums s;
	int r = anfu_pay_refund_get(db, c->id, x);

	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(x->merchant_id, c->merchant_id) != 0))
		return req_refuse(c, ANFU_R_PAY_REFUND_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	if (anfu_pay_refund_transition(x->state, ANFU_PAY_RF_EV_ACCEPT, &next) < 0)
		return req_refuse(c, ANFU_R_PAY_REFUND_STATE, NULL);
	if (!c->accept)
		return refund_move(tx, x, ANFU_PAY_RF_EV_DECLINE, "pay.refund.declined");
	r = anfu_pay_order_get(db, x->order_id, &c->o);
	if (r == 0)
		r = order_sums(db, x->order_id, &s);
	if (r < 0)
		return r;
	code = refundable(&c->o, &s, x->amount, &field);
	if (code)
		return req_refuse(c, code, field);
	r = refund_move(tx, x, ANFU_PAY_RF_EV_ACCEPT, "pay.refund.accepted");
	if (r < 0 || x->amount > c->p->cfg.refund_auto_max)
		return r;
	(void)anfu_strlcpy(x->reviewed_by, "rules", sizeof(x->reviewed_by));
	r = refund_move(tx, x, ANFU_PAY_RF_EV_APPROVE, "pay.refund.approved");
	if (r == 0)
		r = execute_in(c->p, tx, &c->acc, &c->o, x, &c->code);
	return r;
}

int anfu_pay_refund_answer(struct anfu_pay *p, const struct anfu_actor *actor,
			   const char *merchant_id, const char *id, bool accept,
			   struct anfu_pay_refund *ret, const char **ret_code,
			   const char **ret_field)
{
	struct request_cmd *c = NULL;
	int r;

	if (!p || !actor || !merchant_id || !id || !ret || !ret_code || !ret_field)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	*c = (struct request_cmd){
		.p = p, .actor = actor, .merchant_id = merchant_id, .id = id, .accept = accept
	};
	r = accounts_of_refund(p, id, &c->acc);
	/* weight: two transfers and five audit records. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, answer_fn, c, 7 + CARD_WEIGHT,
					     pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		*ret_field = c->field;
		r = 0;
	} else if (r == 0) {
		card_send(p, actor, &c->x);
		*ret_code = NULL;
		*ret_field = NULL;
		*ret = c->x;
	}
	free(c);
	return r;
}

/* ---- refunds to the payer's bound card (docs/payments.md, "Refunds to a
 * bound card") ---- */

/* x's destination columns and attempt as x has them, in tx. */
static int card_store(struct anfu_db *db, const struct anfu_pay_refund *x)
{
	struct anfu_param v[5] = { ANFU_PS(x->destination), ANFU_PS(x->card),
				   ANFU_PS(x->withdrawal_id), ANFU_PI(x->attempt), ANFU_PS(x->id) };

	return anfu_db_exec(db,
			    "UPDATE pay_refund SET destination = $1, card = $2, withdrawal_id = $3,"
			    " attempt = $4 WHERE id = $5",
			    v, 5, NULL, NULL, NULL);
}

static bool wallet_cannot_take(const char *code)
{
	return strcmp(code, ANFU_R_LEDGER_ACCOUNT_CLOSED) == 0 ||
	       strcmp(code, ANFU_R_LEDGER_ACCOUNT_FROZEN) == 0;
}

/* A notice to the payer about refund x's card credit: kind, subjects and
 * the words around the masked card (x->card) after "your refund of N
 * (order ...)", zh-CN and English. */
struct card_notice {
	const char *kind;
	const char *subject_zh, *before_zh, *after_zh;
	const char *subject_en, *before_en, *after_en;
};

/* x went to the card (the command that made it sending: once per refund). */
static const struct card_notice card_sending = {
	"pay.refund_card",
	"退款通知",
	"无法退回安付钱包，已退往您的银行卡 ",
	"，请留意银行到账。",
	"Refund notice",
	" could not go back to your anfu wallet; it is being paid to your bank card ",
	"."
};
/* An operator sent x again, to another card, after the bank failed it
 * (the command of the re-send: once per attempt). */
static const struct card_notice card_resent = {
	"pay.refund_card",
	"退款通知",
	"此前退往银行卡未成功，现已重新退往您的银行卡 ",
	"，请留意银行到账。",
	"Refund notice",
	" did not go through to your bank card before; it is being paid again, to your bank card ",
	"."
};
/* The bank failed x's credit (the command that ended x failed: once per
 * refund); the amount is the merchant's again (docs/payments.md). */
static const struct card_notice card_failed_merchant = {
	"pay.refund_card_failed",
	"退款未成功通知",
	"退往银行卡 ",
	" 未成功，款项已退回商户，请联系商户重新退款。",
	"Refund failed",
	" to your bank card ",
	" did not go through; the money went back to the merchant, who can refund you again."
};
/* The same for a refund out of a held escrow: the amount is in the
 * escrow again and goes to the merchant at the order's release (the
 * payer's confirmation or the deadline) unless refunded again before. */
static const struct card_notice card_failed_escrow = {
	"pay.refund_card_failed",
	"退款未成功通知",
	"退往银行卡 ",
	" 未成功，款项已回到订单的担保资金中：您确认收货或担保期满时将付给商户，"
	"在此之前商户可重新为您退款。",
	"Refund failed",
	" to your bank card ",
	" did not go through; the money is back in the order's escrow: it goes to the merchant "
	"when you confirm receipt or when the escrow period ends, and until then the merchant "
	"can refund you again."
};

/* Queues notice k about refund x to its payer in tx (sent when tx
 * commits, in the payer's language, the masked card only). */
static int card_notice_in(struct anfu_pay *p, struct anfu_tx *tx, const struct anfu_pay_refund *x,
			  const struct card_notice *k)
{
	char figures[32], zh[1024], en[1024];
	struct anfu_iam_notice n = { k->kind, k->subject_zh, zh, k->subject_en, en };
	int r = anfu_money_format(x->amount, 2, figures, sizeof(figures));

	if (r < 0)
		return r;
	(void)snprintf(zh, sizeof(zh), "【安付】您的退款 %s 元（订单 %s）%s%s%s", figures,
		       x->order_id, k->before_zh, x->card, k->after_zh);
	(void)snprintf(en, sizeof(en), "[anfu] Your refund of CNY %s (order %s)%s%s%s", figures,
		       x->order_id, k->before_en, x->card, k->after_en);
	return anfu_iam_notify_user(p->iam, tx, x->payer_id, &n);
}

/* Inside execute_in's command, the money back refused with *code: when
 * that is the payer's wallet closed or frozen and the payer has a bound
 * card (the operator's choice, x->chosen_card_id, else the newest), the fee back (from fee_acc) and the bank's credit of x->amount
 * held on hold_acc (the merchant's balance, or a held escrow) as one
 * chain, x sending (*code NULL) and the payer told. A short balance:
 * *code insufficient_funds. The chosen card no longer bound: *code
 * refund_card_invalid. No card, no bank: *code as it was (today's
 * refusal). */
static int card_in(struct anfu_pay *p, struct anfu_tx *tx, const char *hold_acc,
		   const char *fee_acc, struct anfu_pay_refund *x, int64_t fee_back,
		   const char **code)
{
	const struct anfu_bank_refund_credit c = {
		.refund_id = x->id,
		.user_id = x->payer_id,
		.account_id = hold_acc,
		.amount = x->amount,
		.fee_back = fee_back,
		.fee_account = fee_acc,
		.ref = x->order_id,
		.card_id = x->chosen_card_id[0] ? x->chosen_card_id : NULL, /* NULL: the newest */
	};
	struct anfu_bank_withdrawal *w = NULL;
	char fee_id[ANFU_ID_MAX];
	const char *why = NULL;
	int r;

	if (!p->bank || !wallet_cannot_take(*code))
		return 0;
	w = anfu_xcalloc(1, sizeof(*w));
	r = anfu_bank_refund_credit_in(p->bank, tx, &c, w, fee_id, &why);
	/* The operator's card unbound since it was chosen: refused as such,
	 * never credited to another card nor answered as no card at all. */
	if (r == 0 && why && x->chosen_card_id[0] && strcmp(why, ANFU_R_BANK_CARD_NOT_BOUND) == 0)
		why = ANFU_R_PAY_REFUND_CARD_INVALID;
	if (r < 0 || (why && (strcmp(why, ANFU_R_BANK_CARD_NOT_BOUND) == 0 ||
			      strcmp(why, ANFU_R_BANK_UNAVAILABLE) == 0)))
		goto out;
	if (why) {
		*code = why;
		goto out;
	}
	(void)anfu_strlcpy(x->destination, "card", sizeof(x->destination));
	(void)anfu_strlcpy(x->card, w->card_masked, sizeof(x->card));
	(void)anfu_strlcpy(x->withdrawal_id, w->id, sizeof(x->withdrawal_id));
	(void)anfu_strlcpy(x->ledger_id, w->hold_id, sizeof(x->ledger_id));
	(void)anfu_strlcpy(x->fee_ledger_id, fee_id, sizeof(x->fee_ledger_id));
	x->fee_back = fee_back;
	x->attempt = 1;
	r = refund_move(tx, x, ANFU_PAY_RF_EV_SEND_CARD, "pay.refund.sending");
	if (r == 0)
		r = card_store(anfu_tx_db(tx), x);
	if (r == 0)
		r = card_notice_in(p, tx, x, &card_sending);
	if (r == 0)
		*code = NULL;
out:
	free(w);
	return r;
}

/* Inside execute_in's command, the refund of x out of its order's held
 * escrow refused with *code (docs/payments.md, "Escrow orders"): when the
 * payer's wallet cannot take it and they have a bound card, the hold
 * posted whole (if not yet), the escrow row counting x and the bank's
 * credit held on the escrow account, no fee back (none was charged); x
 * sending, the order still escrow_held. Else ANFU_ECONFLICT with *code:
 * the refusal as it was (no card, no bank, a wallet frozen both ways on
 * an unposted hold). */
static int escrow_card_in(struct anfu_pay *p, struct anfu_tx *tx, struct anfu_pay_refund *x,
			  const char **code)
{
	char escrow_acc[ANFU_ID_MAX];
	const char *why = *code;
	int r;

	if (!p->bank || !wallet_cannot_take(*code))
		return ANFU_ECONFLICT;
	r = pay_escrow_card_in(p, tx, x->order_id, x->amount, escrow_acc, &why);
	if (r == ANFU_ECONFLICT && why)
		*code = why;
	if (r < 0)
		return r;
	r = card_in(p, tx, escrow_acc, NULL, x, 0, &why);
	if (r < 0)
		return r;
	if (why) {
		*code = why;
		return ANFU_ECONFLICT;
	}
	*code = NULL;
	return 0;
}

/* After the command that made x sending committed: its credit sent now
 * (the bank.withdraw_send job's otherwise), x as it is then. */
static void card_send(struct anfu_pay *p, const struct anfu_actor *actor, struct anfu_pay_refund *x)
{
	struct anfu_db *db = NULL;

	if (x->state != ANFU_PAY_RF_SENDING || !x->withdrawal_id[0] || !p->bank)
		return;
	anfu_bank_withdraw_send(p->bank, actor, x->withdrawal_id);
	if (pay_db(p, &db) == 0)
		(void)anfu_pay_refund_get(db, x->id, x);
}

/* Refund x (sending) failed at the bank, in its command: the fee back
 * (if any) returns to the platform; a credit out of a held escrow (w's
 * hold on the escrow account) is counted by the escrow row no more; x
 * failed with no fee back and its payer told (pay.refund_card_failed,
 * the escrow's words for an escrow's credit). */
static int card_failed(struct anfu_pay *p, struct anfu_tx *tx, struct anfu_pay_refund *x,
		       const struct anfu_bank_withdrawal *w)
{
	struct accounts acc;
	struct anfu_ledger_result res;
	char key[ANFU_ID_MAX + 48];
	bool escrow;
	int r = 0;

	if (x->fee_back > 0) {
		struct anfu_ledger_transfer t = {
			.idem_key = key, .asset = "CNY", .code = "fee_refund", .ref = x->order_id
		};

		r = accounts_of(p, anfu_tx_db(tx), x->order_id, &acc);
		/* Each attempt gave its own fee back: its own undo. */
		if (x->attempt > 1)
			(void)snprintf(key, sizeof(key), "refund.%s.fee.undo.%" PRId64, x->id,
				       x->attempt);
		else
			(void)snprintf(key, sizeof(key), "refund.%s.fee.undo", x->id);
		t.debit_account = acc.merchant;
		t.credit_account = acc.fee;
		t.amount = x->fee_back;
		if (r == 0)
			r = anfu_ledger_submit_in(tx, PAY_CALLER, &t, 1, &res);
		/* The voided hold gave the merchant at least the fee back. */
		if (r == 0 && res.code)
			r = ANFU_ECONFLICT;
	}
	if (r == 0)
		r = pay_escrow_card_failed_in(tx, x->order_id, w->hold_account, x->amount);
	escrow = r == 1;
	x->fee_back = 0;
	x->fee_ledger_id[0] = '\0';
	if (r >= 0)
		r = refund_move(tx, x, ANFU_PAY_RF_EV_CARD_FAIL, "pay.refund.failed");
	if (r == 0)
		r = card_notice_in(p, tx, x, escrow ? &card_failed_escrow : &card_failed_merchant);
	return r;
}

/* The bank's end of credit w inside its command: paid, x succeeded with
 * the order's move (as execute_in ends); else x failed: the bank voided
 * the hold (the amount is the merchant's again, or a held escrow's, which
 * its row counts no more) and the fee back returns to the platform. */
static int card_result(void *ud, struct anfu_tx *tx, const struct anfu_bank_withdrawal *w,
		       bool paid)
{
	struct anfu_pay *p = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_refund x;
	struct anfu_pay_order *o = NULL;
	struct sums s;
	int r = anfu_pay_refund_get(db, w->refund_id, &x);

	if (r < 0 || x.state != ANFU_PAY_RF_SENDING)
		return r; /* ended already: a duplicate report */
	/* An earlier attempt's credit (the refund re-sent since) ends none of
	 * the current one's. */
	if (strcmp(w->id, x.withdrawal_id) != 0)
		return 0;
	if (!paid)
		return card_failed(p, tx, &x, w);
	o = anfu_xcalloc(1, sizeof(*o));
	r = anfu_pay_order_get(db, x.order_id, o);
	if (r == 0)
		r = order_sums(db, o->id, &s);
	if (r == 0)
		r = executed_in(tx, o, &x, s.refunded + x.amount == o->amount);
	free(o);
	return r;
}

/* ---- a failed refund sent again (docs/payments.md, "A failed refund sent
 * again") ---- */

struct resend_cmd {
	struct anfu_pay *p;
	const char *id, *card_id;
	struct accounts acc;
	struct anfu_pay_order o;
	struct anfu_pay_refund x;
	const char *code;
};

/* The bank credits failed refund x has made: its attempt, where 0 (a row
 * from before attempts were counted) and 1 are both the first. */
static int64_t credits_made(const struct anfu_pay_refund *x)
{
	return x->attempt > 1 ? x->attempt : 1;
}

static int resend_refuse(struct resend_cmd *c, const char *code)
{
	c->code = code;
	return ANFU_ECONFLICT;
}

/* The card c names for failed refund x, inside the command: the payer's,
 * bound now, and not the card of the credit that failed (sending there
 * again is pointless); *masked its masked number. 0, or a refusal. */
static int resend_card_in(struct resend_cmd *c, struct anfu_tx *tx, const struct anfu_pay_refund *x,
			  char masked[ANFU_BANK_MASKED_MAX], struct anfu_bank_withdrawal *failed)
{
	int r = c->p->bank
			? anfu_bank_card_bound_in(c->p->bank, tx, x->payer_id, c->card_id, masked)
			: ANFU_ENOTFOUND;

	if (r == ANFU_ENOTFOUND)
		return resend_refuse(c, ANFU_R_PAY_REFUND_CARD_INVALID);
	if (r == 0)
		r = anfu_bank_refund_credit_get_in(c->p->bank, tx, x->withdrawal_id, failed);
	if (r == 0 && strcmp(failed->card_id, c->card_id) == 0)
		return resend_refuse(c, ANFU_R_PAY_REFUND_CARD_INVALID);
	return r;
}

/* The new credit of x to c's card as the first send moved it: held on the
 * merchant's balance with the fee back, or out of a held escrow on the
 * escrow account without one. x the credit's (attempt + 1); a refusal
 * (the hold short: insufficient_funds) undoes the command. */
static int resend_credit_in(struct resend_cmd *c, struct anfu_tx *tx, struct anfu_pay_refund *x)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_bank_refund_credit k = { .refund_id = x->id,
					     .user_id = x->payer_id,
					     .amount = x->amount,
					     .ref = x->order_id,
					     .card_id = c->card_id,
					     .attempt = credits_made(x) + 1 };
	char escrow_acc[ANFU_ID_MAX], fee_id[ANFU_ID_MAX];
	struct anfu_bank_withdrawal *w = NULL;
	const char *why = NULL;
	struct sums s;
	int r = order_sums(db, c->o.id, &s);

	if (r == 0 && c->o.state == ANFU_PAY_ESCROW_HELD) {
		r = pay_escrow_card_in(c->p, tx, x->order_id, x->amount, escrow_acc, &why);
		k.account_id = escrow_acc;
	} else if (r == 0) {
		r = fee_back_of(db, &c->o, &s, x->amount, &k.fee_back);
		k.account_id = c->acc.merchant;
		k.fee_account = c->acc.fee;
	}
	if (r == ANFU_ECONFLICT && why)
		return resend_refuse(c, why);
	if (r < 0)
		return r;
	w = anfu_xcalloc(1, sizeof(*w));
	r = anfu_bank_refund_credit_in(c->p->bank, tx, &k, w, fee_id, &why);
	/* The card was found bound in this command (resend_card_in). */
	if (r == 0 && why && strcmp(why, ANFU_R_BANK_CARD_NOT_BOUND) == 0)
		r = ANFU_EINTERNAL;
	else if (r == 0 && why)
		r = resend_refuse(c, why);
	if (r == 0) {
		(void)anfu_strlcpy(x->card, w->card_masked, sizeof(x->card));
		(void)anfu_strlcpy(x->withdrawal_id, w->id, sizeof(x->withdrawal_id));
		(void)anfu_strlcpy(x->ledger_id, w->hold_id, sizeof(x->ledger_id));
		(void)anfu_strlcpy(x->fee_ledger_id, fee_id, sizeof(x->fee_ledger_id));
		x->fee_back = k.fee_back;
		x->attempt = k.attempt;
	}
	free(w);
	return r;
}

static int resend_fn(struct anfu_tx *tx, void *ud)
{
	struct resend_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_refund *x = &c->x;
	struct anfu_bank_withdrawal *failed = NULL;
	enum anfu_pay_refund_state next;
	char masked[ANFU_BANK_MASKED_MAX], before[sizeof(x->card)];
	const char *code, *field;
	struct sums s;
	int r = anfu_pay_refund_get(db, c->id, x);

	if (r == ANFU_ENOTFOUND)
		return resend_refuse(c, ANFU_R_PAY_REFUND_NOT_FOUND);
	if (r < 0)
		return r;
	if (anfu_pay_refund_transition(x->state, ANFU_PAY_RF_EV_RESEND, &next) < 0)
		return resend_refuse(c, ANFU_R_PAY_REFUND_STATE);
	if (credits_made(x) >= ANFU_LIMIT_PAY_REFUND_ATTEMPTS)
		return resend_refuse(c, ANFU_R_PAY_REFUND_ATTEMPTS);
	failed = anfu_xcalloc(1, sizeof(*failed));
	r = resend_card_in(c, tx, x, masked, failed);
	free(failed);
	if (r == 0)
		r = anfu_pay_order_get(db, x->order_id, &c->o);
	if (r == 0)
		r = order_sums(db, x->order_id, &s);
	if (r < 0)
		return r;
	/* It counts against the amount paid again: the merchant may have
	 * refunded meanwhile, the order may be refunded or released. */
	code = refundable(&c->o, &s, x->amount, &field);
	if (code)
		return resend_refuse(c, code);
	(void)anfu_strlcpy(before, x->card, sizeof(before));
	r = resend_credit_in(c, tx, x);
	if (r == 0)
		r = refund_move_with(tx, x, ANFU_PAY_RF_EV_RESEND, "pay.refund.resent",
				     json_pack("{s:s, s:s, s:s, s:I, s:s}", "card_id", c->card_id,
					       "card", x->card, "failed_card", before, "attempt",
					       (json_int_t)x->attempt, "withdrawal",
					       x->withdrawal_id));
	if (r == 0)
		r = card_store(db, x);
	if (r == 0)
		r = card_notice_in(c->p, tx, x, &card_resent);
	return r;
}

int anfu_pay_refund_resend(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
			   const char *card_id, struct anfu_pay_refund *ret, const char **ret_code)
{
	struct resend_cmd *c = NULL;
	int r;

	if (!p || !actor || !id || !card_id || !card_id[0] || !ret || !ret_code)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	*c = (struct resend_cmd){ .p = p, .id = id, .card_id = card_id };
	r = accounts_of_refund(p, id, &c->acc);
	/* weight: as an execution that goes to a card. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, resend_fn, c, 6 + CARD_WEIGHT,
					     pay_deadline());
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		r = 0;
	} else if (r == 0) {
		card_send(p, actor, &c->x); /* then *ret as the bank's answer left it */
		*ret = c->x;
		*ret_code = NULL;
	}
	free(c);
	return r;
}

void anfu_pay_set_bank(struct anfu_pay *p, struct anfu_bank *b)
{
	if (!p)
		return;
	p->bank = b;
	anfu_bank_set_refund_hook(b, card_result, p);
}
