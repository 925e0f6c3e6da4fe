/*
 * pay/escrow: escrow payment (担保支付; FUNC-PAY-02/03; docs/payments.md,
 * "Escrow payment"): the hold an escrow payment made (pay/payment.c
 * writes it with pay_escrow_hold_in), its release to the merchant when
 * the payer confirms receipt or the deadline passes on the clock (not
 * while a refund of it is sending to the payer's card), the part of it a
 * refund during escrow gives back, and the escrow side of such a refund
 * to the card (posted hold, the row's count; undone when the bank fails
 * it).
 *
 * Every change is one ledger writer command with the order's state (the
 * table of pay/states.c), the escrow row, the transfers, the audit record
 * and the payer's notice; the release re-checks the state and, for the
 * job, the deadline inside the command. Trusts its callers for the
 * payer's identity and PIN (the handler verified them with iam).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/money.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/iam.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

#define MS_PER_DAY (86400LL * 1000)

/* An escrow row with the accounts of its hold. */
struct escrow_row {
	bool found;
	struct anfu_pay_escrow e;
	char wallet_acc[ANFU_ID_MAX], escrow_acc[ANFU_ID_MAX], merchant_acc[ANFU_ID_MAX];
};

static int escrow_row_fn(void *ud, const struct anfu_row *r)
{
	struct escrow_row *w = ud;

	w->found = true;
	pay_col(r, 0, w->e.order_id, sizeof(w->e.order_id));
	w->e.amount = anfu_row_int(r, 1);
	w->e.refunded = anfu_row_int(r, 2);
	pay_col(r, 3, w->e.hold_id, sizeof(w->e.hold_id));
	w->e.posted = anfu_row_int(r, 4) != 0;
	pay_col(r, 5, w->wallet_acc, sizeof(w->wallet_acc));
	pay_col(r, 6, w->escrow_acc, sizeof(w->escrow_acc));
	pay_col(r, 7, w->merchant_acc, sizeof(w->merchant_acc));
	w->e.release_ms = anfu_row_int(r, 8);
	w->e.released_ms = anfu_row_is_null(r, 9) ? 0 : anfu_row_int(r, 9);
	pay_col(r, 10, w->e.released_by, sizeof(w->e.released_by));
	pay_col(r, 11, w->e.release_ledger_id, sizeof(w->e.release_ledger_id));
	w->e.fee = anfu_row_is_null(r, 12) ? 0 : anfu_row_int(r, 12);
	pay_col(r, 13, w->e.fee_ledger_id, sizeof(w->e.fee_ledger_id));
	return 0;
}

static int escrow_read(struct anfu_db *db, const char *order_id, struct escrow_row *ret)
{
	struct anfu_param v[1] = { ANFU_PS(order_id) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(db,
			    "SELECT order_id, amount, refunded, hold_id, posted, wallet_account,"
			    " escrow_account, merchant_account, release_ms, released_ms,"
			    " released_by, release_ledger_id, fee, fee_ledger_id"
			    " FROM pay_escrow WHERE order_id = $1",
			    v, 1, escrow_row_fn, ret, NULL);
}

int anfu_pay_escrow_get(struct anfu_db *db, const char *order_id, struct anfu_pay_escrow *ret)
{
	struct escrow_row w;
	int r;

	if (!db || !order_id || !ret)
		return ANFU_EINVAL;
	r = escrow_read(db, order_id, &w);
	if (r == 0 && !w.found)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		*ret = w.e;
	return r;
}

int pay_escrow_hold_in(struct anfu_pay *p, struct anfu_db *db, const struct anfu_pay_order *o,
		       const struct anfu_pay_merchant *m, const char *hold_id,
		       const char *wallet_acc, const char *escrow_acc, int64_t now)
{
	int64_t days = anfu_pay_escrow_days(p, m), release_ms;
	struct anfu_param v[8];

	if (__builtin_mul_overflow(days, MS_PER_DAY, &release_ms) ||
	    __builtin_add_overflow(release_ms, now, &release_ms))
		return ANFU_EINVAL;
	v[0] = ANFU_PS(o->id);
	v[1] = ANFU_PI(o->amount);
	v[2] = ANFU_PS(hold_id);
	v[3] = ANFU_PS(wallet_acc);
	v[4] = ANFU_PS(escrow_acc);
	v[5] = ANFU_PS(m->account_id);
	v[6] = ANFU_PI(release_ms);
	v[7] = ANFU_PI(0);
	return anfu_db_exec(db,
			    "INSERT INTO pay_escrow (order_id, amount, refunded, hold_id, posted,"
			    " wallet_account, escrow_account, merchant_account, release_ms)"
			    " VALUES ($1, $2, $8, $3, $8, $4, $5, $6, $7)",
			    v, 8, NULL, NULL, NULL);
}

/* ---- release ---- */

struct release_cmd {
	struct anfu_pay *p;
	const char *order_id;
	const char *payer_id;	     /* confirm: the payer; the job: NULL */
	struct anfu_iam_pin_ok *pin; /* confirm: the PIN's success */
	const char *by;		     /* "customer" | "deadline" */
	char fee_acc[ANFU_ID_MAX];
	char key[ANFU_ID_MAX + 16], fee_key[ANFU_ID_MAX + 16], post_key[ANFU_ID_MAX + 16];
	struct anfu_pay_order o;
	struct anfu_pay_merchant m;
	struct escrow_row w;
	const char *code;
	bool skipped; /* the job: not due (any more) */
};

static int refuse(const char **slot, const char *code)
{
	*slot = code;
	return ANFU_ECONFLICT;
}

/* Reads order_id's escrow row into *w and checks that amount may still
 * come out of it: refused (*ret_code) order_state_invalid when nothing is
 * held (no escrow, or released), pending_amount_exceeded beyond what is
 * left after the refunds. */
static int held_for(struct anfu_db *db, const char *order_id, int64_t amount, struct escrow_row *w,
		    const char **ret_code)
{
	int r = escrow_read(db, order_id, w);

	if (r < 0)
		return r;
	if (!w->found || w->e.released_ms)
		return refuse(ret_code, ANFU_R_PAY_ORDER_STATE);
	if (amount > w->e.amount - w->e.refunded)
		return refuse(ret_code, ANFU_R_LEDGER_PENDING_AMOUNT_EXCEEDED);
	return 0;
}

static int keys(struct release_cmd *c)
{
	if (snprintf(c->key, sizeof(c->key), "pay.%s.release", c->order_id) >=
		    (int)sizeof(c->key) ||
	    snprintf(c->fee_key, sizeof(c->fee_key), "pay.%s.release.fee", c->order_id) >=
		    (int)sizeof(c->fee_key) ||
	    snprintf(c->post_key, sizeof(c->post_key), "pay.%s.escrow.post", c->order_id) >=
		    (int)sizeof(c->post_key))
		return ANFU_ELIMIT;
	return 0;
}

/* The hold's post (unless a refund posted it), the move to the merchant
 * and its fee, as one linked chain. */
static int release_post(struct anfu_tx *tx, struct release_cmd *c, int64_t left, int64_t fee)
{
	struct anfu_ledger_transfer t[3];
	struct anfu_ledger_result res[3];
	size_t n = 0, move;
	int r;

	memset(t, 0, sizeof(t));
	if (!c->w.e.posted)
		t[n++] = (struct anfu_ledger_transfer){ .idem_key = c->post_key,
							.debit_account = c->w.wallet_acc,
							.credit_account = c->w.escrow_acc,
							.amount = c->w.e.amount,
							.asset = "CNY",
							.code = "escrow_post",
							.ref = c->o.id,
							.flags = ANFU_LEDGER_TRF_POST_PENDING,
							.pending_id = c->w.e.hold_id };
	move = n;
	t[n++] = (struct anfu_ledger_transfer){ .idem_key = c->key,
						.debit_account = c->w.escrow_acc,
						.credit_account = c->w.merchant_acc,
						.amount = left,
						.asset = "CNY",
						.code = "escrow_release",
						.ref = c->o.id };
	if (fee > 0)
		t[n++] = (struct anfu_ledger_transfer){ .idem_key = c->fee_key,
							.debit_account = c->w.merchant_acc,
							.credit_account = c->fee_acc,
							.amount = fee,
							.asset = "CNY",
							.code = "fee",
							.ref = c->o.id };
	for (size_t i = 0; i + 1 < n; i++)
		t[i].flags |= ANFU_LEDGER_TRF_LINKED;
	r = anfu_ledger_submit_in(tx, PAY_CALLER, t, n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (res[i].code && strcmp(res[i].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) != 0)
			return refuse(&c->code, res[i].code);
	(void)anfu_strlcpy(c->w.e.release_ledger_id, res[move].id,
			   sizeof(c->w.e.release_ledger_id));
	c->w.e.fee_ledger_id[0] = '\0';
	if (fee > 0)
		(void)anfu_strlcpy(c->w.e.fee_ledger_id, res[move + 1].id,
				   sizeof(c->w.e.fee_ledger_id));
	return 0;
}

/* The payer's notice of the release, in both languages. */
static int release_notice(struct release_cmd *c, struct anfu_tx *tx, int64_t left)
{
	char figures[32], zh[1024], en[1024];
	struct anfu_iam_notice n = { "pay.escrow_released", "担保交易通知", zh, "Escrow notice",
				     en };
	int r = anfu_money_format(left, 2, figures, sizeof(figures));

	if (r < 0)
		return r;
	(void)snprintf(zh, sizeof(zh), "【安付】您的担保交易（%s）已确认，%s 元已付给 %s。%s",
		       c->o.subject, figures, c->m.name_zh,
		       strcmp(c->by, "customer") == 0 ? "" : "确认收货期限已到，系统自动确认。");
	(void)snprintf(en, sizeof(en),
		       "[anfu] Your escrow payment (%s) is complete: CNY %s to %s.%s", c->o.subject,
		       figures, c->m.name_en,
		       strcmp(c->by, "customer") == 0
			       ? ""
			       : " The confirmation deadline passed and it was released.");
	return anfu_iam_notify_user(c->p->iam, tx, c->o.payer_id, &n);
}

/* The order's refunds in state sending (to the payer's card). */
static int refunds_sending(struct anfu_db *db, const char *order_id, int64_t *ret)
{
	struct anfu_param v[1] = { ANFU_PS(order_id) };

	return anfu_db_query_int(db,
				 "SELECT COUNT(*) FROM pay_refund WHERE order_id = $1 AND"
				 " state = 'sending'",
				 v, 1, ret);
}

static int release_fn(struct anfu_tx *tx, void *ud)
{
	struct release_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	enum anfu_pay_state next;
	int64_t now = anfu_clock_now_ms(), left, fee = 0, sending = 0;
	bool ok = false;
	int r = c->pin ? anfu_iam_pin_ok_record_in(c->p->iam, tx, c->pin) : 0;

	if (r == ANFU_ELOCKED)
		return refuse(&c->code, ANFU_R_PAYMENT_LOCKED);
	if (r == 0)
		r = anfu_pay_order_get(db, c->order_id, &c->o);
	if (r == ANFU_ENOTFOUND ||
	    (r == 0 && c->payer_id && strcmp(c->o.payer_id, c->payer_id) != 0))
		return refuse(&c->code, ANFU_R_PAY_ORDER_NOT_FOUND);
	if (r == 0)
		r = escrow_read(db, c->order_id, &c->w);
	if (r < 0)
		return r;
	if (!c->w.found || anfu_pay_transition(c->o.state, ANFU_PAY_EV_ESCROW_RELEASE, &next) < 0) {
		c->skipped = true;
		return refuse(&c->code, ANFU_R_PAY_ORDER_STATE);
	}
	/* The job: due at release_ms exactly, not a millisecond before. */
	if (!c->payer_id && now < c->w.e.release_ms) {
		c->skipped = true;
		return refuse(&c->code, ANFU_R_PAY_ORDER_STATE);
	}
	/* A refund of it on its way to the payer's card: the bank's failure
	 * would give the amount back to this escrow, so no release before
	 * the bank answers. */
	r = refunds_sending(db, c->order_id, &sending);
	if (r < 0)
		return r;
	if (sending > 0) {
		c->skipped = true;
		return refuse(&c->code, ANFU_R_PAY_ORDER_STATE);
	}
	r = anfu_pay_merchant_get(db, c->o.merchant_id, &c->m);
	left = c->w.e.amount - c->w.e.refunded;
	/* The fee is the merchant's rate of what it finally gets. */
	if (r == 0)
		r = anfu_pay_fee(left, c->m.fee_bps, &fee);
	if (r == 0)
		r = release_post(tx, c, left, fee);
	if (r < 0)
		return r;
	{
		struct anfu_param v[7] = { ANFU_PI(now),
					   ANFU_PS(c->by),
					   ANFU_PS(c->w.e.release_ledger_id),
					   ANFU_PI(fee),
					   ANFU_PS(c->w.e.fee_ledger_id[0] ? c->w.e.fee_ledger_id
									   : NULL),
					   ANFU_PS(c->order_id),
					   ANFU_PI(1) };

		r = anfu_db_exec(
			db,
			"UPDATE pay_escrow SET released_ms = $1, released_by = $2,"
			" release_ledger_id = $3, fee = $4, fee_ledger_id = $5, posted = $7"
			" WHERE order_id = $6",
			v, 7, NULL, NULL, NULL);
	}
	if (r == 0)
		r = pay_order_set_state(db, c->o.id, c->o.state, next, now, &ok);
	if (r == 0 && !ok)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.escrow.released", "pay_order", c->o.id, "success",
				  json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s}",
					    "merchant", c->o.merchant_id, "payer", c->o.payer_id,
					    "by", c->by, "amount", (json_int_t)c->w.e.amount,
					    "refunded", (json_int_t)c->w.e.refunded, "released",
					    (json_int_t)left, "fee", (json_int_t)fee, "currency",
					    "CNY", "ledger_transfer", c->w.e.release_ledger_id));
	if (r == 0)
		r = release_notice(c, tx, left);
	if (r < 0)
		return r;
	c->w.e.posted = true;
	c->w.e.released_ms = now;
	c->w.e.fee = fee;
	(void)anfu_strlcpy(c->w.e.released_by, c->by, sizeof(c->w.e.released_by));
	return 0;
}

static int fee_account(struct anfu_pay *p, char *out, size_t cap)
{
	const struct anfu_ledger_account_spec fee = { "platform_fee", "CNY", "platform",
						      "platform" };
	struct anfu_ledger_account a;
	int r = anfu_ledger_account_find(p->ledger, &fee, &a);

	if (r == 0)
		(void)anfu_strlcpy(out, a.id, cap);
	return r;
}

/* Runs one release; *ret_code the refusal (c->code) or NULL. */
static int release_run(struct anfu_pay *p, const struct anfu_actor *actor, struct release_cmd *c)
{
	int r = keys(c);

	if (r == 0)
		r = fee_account(p, c->fee_acc, sizeof(c->fee_acc));
	/* weight: three transfers, the audit record, the notice, the PIN's. */
	if (r == 0)
		r = anfu_ledger_run_weighted(p->ledger, actor, release_fn, c, 6, pay_deadline());
	if (r == ANFU_ECONFLICT && c->code)
		r = 0;
	return r;
}

int anfu_pay_escrow_confirm(struct anfu_pay *p, const struct anfu_actor *actor,
			    const struct anfu_pay_confirm_req *req, struct anfu_pay_escrow *ret,
			    const char **ret_code)
{
	struct release_cmd *c;
	bool pin_pending = req && req->pin && req->pin->pending;
	int r;

	if (!p || !actor || !req || !req->order_id || !req->payer_id || !ret || !ret_code)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	c->p = p;
	c->order_id = req->order_id;
	c->payer_id = req->payer_id;
	c->pin = req->pin;
	c->by = "customer";
	r = release_run(p, actor, c);
	/* The PIN's record went with a command that did not commit. */
	if ((r < 0 || c->code) && req->pin)
		req->pin->pending = pin_pending;
	if (req->pin && req->pin->pending) {
		int pr = anfu_iam_pin_ok_record(p->iam, req->pin);

		if (r == 0)
			r = pr;
	}
	if (r == 0) {
		*ret_code = c->code;
		if (!c->code)
			*ret = c->w.e;
	}
	free(c);
	return r;
}

struct due_ids {
	char ids[ANFU_LIMIT_PAY_RELEASE_PASS][ANFU_ID_MAX];
	size_t n;
};

static int due_row(void *ud, const struct anfu_row *r)
{
	struct due_ids *d = ud;

	if (d->n < ANFU_LIMIT_PAY_RELEASE_PASS)
		pay_col(r, 0, d->ids[d->n++], ANFU_ID_MAX);
	return 0;
}

int anfu_pay_escrow_release_due(struct anfu_pay *p, struct anfu_pay_release_report *ret)
{
	struct anfu_pay_release_report rep = { 0 };
	struct anfu_db *db = NULL;
	struct due_ids *d;
	struct release_cmd *c;
	int r;

	if (!p || !ret)
		return ANFU_EINVAL;
	d = anfu_xcalloc(1, sizeof(*d));
	c = anfu_xcalloc(1, sizeof(*c));
	r = pay_db(p, &db);
	if (r == 0) {
		struct anfu_param v[2] = { ANFU_PI(anfu_clock_now_ms()),
					   ANFU_PI(ANFU_LIMIT_PAY_RELEASE_PASS) };

		r = anfu_db_exec(db,
				 "SELECT e.order_id FROM pay_escrow e JOIN pay_order o ON o.id ="
				 " e.order_id WHERE e.released_ms IS NULL AND e.release_ms <= $1"
				 " AND o.state = 'escrow_held' AND NOT EXISTS (SELECT 1 FROM"
				 " pay_refund f WHERE f.order_id = e.order_id AND f.state ="
				 " 'sending') ORDER BY e.release_ms, e.order_id"
				 " LIMIT $2",
				 v, 2, due_row, d, NULL);
	}
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		memset(c, 0, sizeof(*c));
		c->p = p;
		c->order_id = d->ids[i];
		c->by = "deadline";
		r = release_run(p, &system_actor, c);
		if (r == 0 && !c->code)
			rep.released++;
	}
	free(c);
	free(d);
	if (r == 0)
		*ret = rep;
	return r;
}

int64_t anfu_pay_release_interval(const void *svc)
{
	return anfu_pay_expire_interval(svc);
}

/* ---- refunds during escrow ---- */

int anfu_pay_escrow_refund_in(struct anfu_pay *p, struct anfu_tx *tx, const char *order_id,
			      int64_t amount, const char *refund_id, char *ret_ledger_id,
			      int64_t *ret_left, const char **ret_code)
{
	struct anfu_db *db;
	struct escrow_row *w;
	struct anfu_ledger_transfer t;
	struct anfu_ledger_result res;
	char key[ANFU_ID_MAX + 64];
	int64_t left;
	bool posts = false;
	int r, n;

	if (!p || !tx || !order_id || !refund_id || !refund_id[0] || amount <= 0 ||
	    !ret_ledger_id || !ret_left || !ret_code)
		return ANFU_EINVAL;
	db = anfu_tx_db(tx);
	w = anfu_xcalloc(1, sizeof(*w));
	r = held_for(db, order_id, amount, w, ret_code);
	if (r < 0)
		goto out;
	left = w->e.amount - w->e.refunded;
	memset(&t, 0, sizeof(t));
	t.asset = "CNY";
	t.ref = order_id;
	t.amount = amount;
	t.debit_account = w->wallet_acc;
	t.credit_account = w->escrow_acc;
	if (!w->e.posted && amount == left) {
		/* All of the hold: void it, the wallet has it all back. */
		n = snprintf(key, sizeof(key), "pay.%s.escrow.void", order_id);
		t.flags = ANFU_LEDGER_TRF_VOID_PENDING;
		t.pending_id = w->e.hold_id;
		t.code = "escrow_void";
		t.amount = 0;
	} else if (!w->e.posted) {
		/* Part of it: post what stays held, the rest goes back. */
		n = snprintf(key, sizeof(key), "pay.%s.escrow.post", order_id);
		t.flags = ANFU_LEDGER_TRF_POST_PENDING;
		t.pending_id = w->e.hold_id;
		t.code = "escrow_post";
		t.amount = left - amount;
		posts = true;
	} else {
		n = snprintf(key, sizeof(key), "refund.%s", refund_id);
		t.debit_account = w->escrow_acc;
		t.credit_account = w->wallet_acc;
		t.code = "refund";
	}
	if (n < 0 || n >= (int)sizeof(key)) {
		r = ANFU_ELIMIT;
		goto out;
	}
	t.idem_key = key;
	r = anfu_ledger_submit_in(tx, PAY_CALLER, &t, 1, &res);
	if (r == 0 && res.code)
		r = refuse(ret_code, res.code);
	if (r == 0) {
		struct anfu_param v[3] = { ANFU_PI(amount), ANFU_PI(posts || w->e.posted ? 1 : 0),
					   ANFU_PS(order_id) };

		r = anfu_db_exec(db,
				 "UPDATE pay_escrow SET refunded = refunded + $1, posted = $2"
				 " WHERE order_id = $3",
				 v, 3, NULL, NULL, NULL);
	}
	if (r == 0) {
		(void)anfu_strlcpy(ret_ledger_id, res.id, ANFU_ID_MAX);
		*ret_left = left - amount;
		*ret_code = NULL;
	}
out:
	free(w);
	return r;
}

/* ---- refunds during escrow to the payer's bound card ---- */

int pay_escrow_card_in(struct anfu_pay *p, struct anfu_tx *tx, const char *order_id, int64_t amount,
		       char *ret_escrow_acc, const char **ret_code)
{
	struct anfu_db *db;
	struct escrow_row *w;
	char key[ANFU_ID_MAX + 64];
	int r;

	if (!p || !tx || !order_id || amount <= 0 || !ret_escrow_acc || !ret_code)
		return ANFU_EINVAL;
	db = anfu_tx_db(tx);
	w = anfu_xcalloc(1, sizeof(*w));
	r = held_for(db, order_id, amount, w, ret_code);
	if (r < 0)
		goto out;
	if (!w->e.posted) {
		/* All of it into the escrow: the refund must not go back to the
		 * wallet as the unposted part of the hold. Only a wallet that
		 * takes debits allows it (frozen both ways: account_frozen). */
		struct anfu_ledger_transfer t = { .idem_key = key,
						  .debit_account = w->wallet_acc,
						  .credit_account = w->escrow_acc,
						  .amount = w->e.amount,
						  .asset = "CNY",
						  .code = "escrow_post",
						  .ref = order_id,
						  .flags = ANFU_LEDGER_TRF_POST_PENDING,
						  .pending_id = w->e.hold_id };
		struct anfu_ledger_result res;

		if (snprintf(key, sizeof(key), "pay.%s.escrow.post", order_id) >=
		    (int)sizeof(key)) {
			r = ANFU_ELIMIT;
			goto out;
		}
		r = anfu_ledger_submit_in(tx, PAY_CALLER, &t, 1, &res);
		if (r == 0 && res.code)
			r = refuse(ret_code, res.code);
		if (r < 0)
			goto out;
	}
	/* Counted at once, as the bound counts a sending refund: a release
	 * could only move what the escrow account still has available. */
	{
		struct anfu_param v[2] = { ANFU_PI(amount), ANFU_PS(order_id) };

		r = anfu_db_exec(db,
				 "UPDATE pay_escrow SET refunded = refunded + $1, posted = 1"
				 " WHERE order_id = $2",
				 v, 2, NULL, NULL, NULL);
	}
	if (r == 0)
		(void)anfu_strlcpy(ret_escrow_acc, w->escrow_acc, ANFU_ID_MAX);
out:
	free(w);
	return r;
}

int pay_escrow_card_failed_in(struct anfu_tx *tx, const char *order_id, const char *hold_account,
			      int64_t amount)
{
	struct anfu_db *db;
	struct escrow_row *w;
	int64_t n = 0;
	int r;

	if (!tx || !order_id || !hold_account || amount <= 0)
		return ANFU_EINVAL;
	db = anfu_tx_db(tx);
	w = anfu_xcalloc(1, sizeof(*w));
	r = escrow_read(db, order_id, w);
	if (r < 0 || !w->found || strcmp(w->escrow_acc, hold_account) != 0)
		goto out;
	{
		struct anfu_param v[2] = { ANFU_PI(amount), ANFU_PS(order_id) };

		/* Not released: the release waits while a refund is sending. */
		r = anfu_db_exec(db,
				 "UPDATE pay_escrow SET refunded = refunded - $1"
				 " WHERE order_id = $2 AND released_ms IS NULL AND refunded >= $1",
				 v, 2, NULL, NULL, &n);
	}
	if (r == 0)
		r = n == 1 ? 1 : ANFU_EINTERNAL;
out:
	free(w);
	return r;
}
