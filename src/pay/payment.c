/*
 * pay/payment: general payment (FUNC-PAY-01; docs/payments.md, "General
 * payment"): the customer's wallet pays a merchant's order at once, the
 * fee going from the merchant's balance to the platform's fee income, as
 * ONE ledger writer command with the order's state, the payment row, the
 * wallet's limit usage, the PIN's success, the audit record and the
 * payer's notice. A payment-code collection and an agreement debit make
 * their order in the same command (pay_order_pay), so a refusal leaves no
 * order behind.
 *
 * Trusts its callers for the payer's identity and PIN (the handler
 * verified them with iam) and for mfa_ms / mfa_method (the session's);
 * every decision that must hold at commit (state, expiry, merchant,
 * limits, balances) is made inside the command.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/pausepoint.h"
#include "base/money.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/iam.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"
#include "wallet/wallet.h"

struct pay_row {
	bool found;
	char id[ANFU_ID_MAX], order_id[ANFU_ID_MAX], ledger_id[ANFU_ID_MAX],
		fee_ledger_id[ANFU_ID_MAX], auth[16];
	int64_t amount, fee, created_ms;
};

static int pay_row_fn(void *ud, const struct anfu_row *r)
{
	struct pay_row *p = ud;

	p->found = true;
	pay_col(r, 0, p->id, sizeof(p->id));
	pay_col(r, 1, p->order_id, sizeof(p->order_id));
	pay_col(r, 2, p->ledger_id, sizeof(p->ledger_id));
	pay_col(r, 3, p->fee_ledger_id, sizeof(p->fee_ledger_id));
	pay_col(r, 4, p->auth, sizeof(p->auth));
	p->amount = anfu_row_int(r, 5);
	p->fee = anfu_row_int(r, 6);
	p->created_ms = anfu_row_int(r, 7);
	return 0;
}

static int by_request(struct anfu_db *db, const char *payer, const char *request_id,
		      struct pay_row *ret)
{
	struct anfu_param v[2] = { ANFU_PS(payer), ANFU_PS(request_id) };

	memset(ret, 0, sizeof(*ret));
	return anfu_db_exec(db,
			    "SELECT id, order_id, ledger_id, fee_ledger_id, auth, amount, fee,"
			    " created_ms FROM pay_payment WHERE payer_id = $1 AND request_id = $2",
			    v, 2, pay_row_fn, ret, NULL);
}

/* The answer of an earlier payment of the same request, or its conflict. */
static void replay(const struct pay_row *e, const struct anfu_pay_pay_req *req,
		   struct anfu_pay_payment *out)
{
	if (strcmp(e->order_id, req->order_id) != 0) {
		out->code = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
		out->field = "request_id";
		return;
	}
	out->existed = true;
	(void)anfu_strlcpy(out->id, e->id, sizeof(out->id));
	(void)anfu_strlcpy(out->order_id, e->order_id, sizeof(out->order_id));
	(void)anfu_strlcpy(out->ledger_id, e->ledger_id, sizeof(out->ledger_id));
	(void)anfu_strlcpy(out->fee_ledger_id, e->fee_ledger_id, sizeof(out->fee_ledger_id));
	out->amount = e->amount;
	out->fee = e->fee;
	out->created_ms = e->created_ms;
	out->auth =
		anfu_wallet_auth_name(strcmp(e->auth, "pin_totp") == 0	? ANFU_WALLET_AUTH_PIN_TOTP
				      : strcmp(e->auth, "pin_otp") == 0 ? ANFU_WALLET_AUTH_PIN_OTP
									: ANFU_WALLET_AUTH_PIN);
}

/* Everything the writer command needs, prepared on the caller's thread. */
struct pay_cmd {
	struct anfu_pay *p;
	const struct anfu_pay_pay_req *req;
	enum anfu_wallet_auth auth;
	char payer_acc[ANFU_ID_MAX], fee_acc[ANFU_ID_MAX], escrow_acc[ANFU_ID_MAX];
	bool escrow; /* the order's kind is escrow: a hold, no fee yet */
	char id[ANFU_ID_MAX];
	char key[ANFU_ID_MAX + 8], fee_key[ANFU_ID_MAX + 8];
	struct anfu_pay_order o;
	struct anfu_pay_merchant m;
	struct anfu_pay_payment *out;
};

/* The payment's auth: the caller's name (no PIN asked), else the PIN's. */
static const char *auth_name(const struct pay_cmd *c)
{
	return c->req->auth_name ? c->req->auth_name : anfu_wallet_auth_name(c->auth);
}

static int refuse(struct pay_cmd *c, const char *code, const char *field)
{
	c->out->code = code;
	c->out->field = field;
	return ANFU_ECONFLICT;
}

/* The refusal of a limit the session's method hit: step_up_required when
 * the strongest method (within the customer's own limits) would allow
 * the payment, else the limit's own. */
static int limits(struct anfu_tx *tx, struct pay_cmd *c, int64_t now)
{
	struct anfu_wallet_limit lim;
	struct anfu_wallet_own_limits own;
	struct anfu_db *db = anfu_tx_db(tx);
	const char *refusal = NULL, *limit = NULL, *strong_limit = NULL;
	int64_t used = 0;
	int r = anfu_wallet_limits_check_in(c->p->wallet, tx, c->req->payer_id, c->auth,
					    c->o.amount, now, &refusal, &limit);

	if (r < 0 || !refusal)
		return r;
	if (c->auth == ANFU_WALLET_AUTH_PIN_TOTP)
		return refuse(c, refusal, limit);
	r = anfu_wallet_limit_of(c->p->wallet, ANFU_WALLET_AUTH_PIN_TOTP, &lim);
	if (r == 0)
		r = anfu_wallet_own_limits_get(db, c->req->payer_id, &own);
	if (r == 0)
		r = anfu_wallet_limits_used(db, c->req->payer_id, anfu_clock_day_cn(now), &used);
	if (r < 0)
		return r;
	anfu_wallet_limit_lower(&lim, &own);
	if (!anfu_wallet_limits_decide(&lim, used, c->o.amount, &strong_limit))
		return refuse(c, ANFU_R_STEP_UP_REQUIRED, NULL);
	return refuse(c, refusal, limit);
}

/* The order's refusals at commit time, or NULL: its kind, its state (the
 * table's pay_succeed, or escrow_hold for an escrow order), its expiry on
 * the clock, its merchant. */
static const char *order_check(struct pay_cmd *c, int64_t now, enum anfu_pay_state *ret_next)
{
	const struct anfu_pay_order *o = &c->o;
	enum anfu_pay_event ev = ANFU_PAY_EV_PAY_SUCCEED;

	if (o->payer_id[0] && strcmp(o->payer_id, c->req->payer_id) != 0)
		return ANFU_R_PAY_ORDER_NOT_FOUND; /* another customer's payment */
	c->escrow = strcmp(o->kind, "escrow") == 0;
	if (c->escrow)
		ev = ANFU_PAY_EV_ESCROW_HOLD;
	if (anfu_pay_transition(o->state, ev, ret_next) < 0)
		return anfu_pay_state_refusal(o->state);
	/* The kind switch: general and escrow here; agreement only from a
	 * debit of its agreement (pay/agreement.c). */
	if (c->escrow ? c->req->agreement
		      : strcmp(o->kind, c->req->agreement ? "agreement" : "general") != 0)
		return ANFU_R_PAY_KIND_UNSUPPORTED;
	/* Expired at expires_ms exactly, whether the job ran or not. */
	if (now >= o->expires_ms)
		return ANFU_R_PAY_ORDER_EXPIRED;
	if (strcmp(c->m.state, "active") != 0)
		return ANFU_R_PAY_MERCHANT_DISABLED;
	return NULL;
}

/* Posts the payment and its fee as one linked chain; an escrow payment
 * is one hold customer_wallet -> platform_escrow (its fee comes at the
 * release, pay/escrow.c). */
static int post(struct anfu_tx *tx, struct pay_cmd *c, struct anfu_ledger_result res[2])
{
	struct anfu_ledger_transfer t[2] = {
		{ .idem_key = c->key,
		  .debit_account = c->payer_acc,
		  .credit_account = c->m.account_id,
		  .amount = c->o.amount,
		  .asset = "CNY",
		  .code = "payment",
		  .ref = c->o.id },
		{ .idem_key = c->fee_key,
		  .debit_account = c->m.account_id,
		  .credit_account = c->fee_acc,
		  .amount = c->out->fee,
		  .asset = "CNY",
		  .code = "fee",
		  .ref = c->o.id },
	};
	size_t n = c->out->fee > 0 ? 2 : 1;
	int r;

	if (c->escrow) {
		t[0].credit_account = c->escrow_acc;
		t[0].code = "escrow_hold";
		t[0].flags = ANFU_LEDGER_TRF_PENDING;
		n = 1;
	}
	if (n == 2)
		t[0].flags = ANFU_LEDGER_TRF_LINKED;
	r = anfu_ledger_submit_in(tx, PAY_CALLER, t, n, res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (res[i].code && strcmp(res[i].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) != 0)
			return refuse(c, res[i].code, NULL);
	if (res[0].code)
		return refuse(c, res[0].code, NULL);
	return 0;
}

static int payment_insert(struct anfu_db *db, const struct pay_cmd *c, int64_t now)
{
	const struct anfu_pay_payment *out = c->out;
	struct anfu_param v[11] = {
		ANFU_PS(c->id),
		ANFU_PS(c->o.id),
		ANFU_PS(c->req->payer_id),
		ANFU_PS(c->req->request_id),
		ANFU_PI(c->o.amount),
		ANFU_PI(c->m.fee_bps),
		ANFU_PI(out->fee),
		ANFU_PS(auth_name(c)),
		ANFU_PS(out->ledger_id),
		ANFU_PS(out->fee_ledger_id[0] ? out->fee_ledger_id : NULL),
		ANFU_PI(now),
	};
	int r = anfu_db_exec(
		db,
		"INSERT INTO pay_payment (id, order_id, payer_id, request_id, amount,"
		" fee_bps, fee, auth, ledger_id, fee_ledger_id, created_ms) VALUES ($1,"
		" $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		v, 11, NULL, NULL, NULL);
	struct anfu_param w[3] = { ANFU_PS(c->req->payer_id), ANFU_PI(now), ANFU_PS(c->o.id) };

	if (r == 0)
		r = anfu_db_exec(db,
				 "UPDATE pay_order SET payer_id = $1, paid_ms = $2 WHERE id = $3",
				 w, 3, NULL, NULL, NULL);
	return r;
}

/* The payer's notice, in both languages (iam picks the user's). */
static int notice(struct pay_cmd *c, struct anfu_tx *tx, int64_t now)
{
	char figures[32], words[ANFU_MONEY_WORDS_MAX], date[16], tod[16], zh[768], en[768];
	struct anfu_iam_notice n = { "pay.paid", "支付通知", zh, "Payment notice", en };
	int r = anfu_money_format(c->o.amount, 2, figures, sizeof(figures));

	if (r == 0)
		r = anfu_money_words_zh(c->o.amount, words, sizeof(words));
	if (r < 0)
		return r;
	anfu_clock_format_cn(now, date, tod);
	(void)snprintf(
		zh, sizeof(zh),
		"【安付】您于 %s %.5s 向 %s 支付 %s 元（%s）。如非本人操作，请立即联系客服。", date,
		tod, c->m.name_zh, figures, words);
	(void)snprintf(en, sizeof(en),
		       "[anfu] You paid CNY %s to %s at %s %.5s (Beijing time). If this was not "
		       "you, contact support now.",
		       figures, c->m.name_en, date, tod);
	return anfu_iam_notify_user(c->p->iam, tx, c->req->payer_id, &n);
}

/* The payment inside its writer command: everything anfu_pay_pay
 * promises, on the order as the command sees it (a new order inserted by
 * the same command included). */
static int pay_in(struct anfu_tx *tx, struct pay_cmd *c)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_ledger_result res[2];
	enum anfu_pay_state next;
	struct pay_row earlier;
	const char *code;
	int64_t now = anfu_clock_now_ms();
	bool ok = false;
	int r = anfu_iam_pin_ok_record_in(c->p->iam, tx, c->req->pin);

	/* A wrong entry on another request locked payments since the PIN. */
	if (r == ANFU_ELOCKED)
		return refuse(c, ANFU_R_PAYMENT_LOCKED, "pin");
	if (r == 0)
		r = by_request(db, c->req->payer_id, c->req->request_id, &earlier);
	if (r == 0 && earlier.found) {
		replay(&earlier, c->req, c->out);
		return c->out->code ? ANFU_ECONFLICT : 0;
	}
	if (r == 0)
		r = anfu_pay_order_get(db, c->req->order_id, &c->o);
	if (r == 0)
		r = anfu_pay_merchant_get(db, c->o.merchant_id, &c->m);
	if (r < 0)
		return r == ANFU_ENOTFOUND ? refuse(c, ANFU_R_PAY_ORDER_NOT_FOUND, NULL) : r;
	code = order_check(c, now, &next);
	/* Pay-on-behalf: the link still valid at commit (pay/behalf.c). */
	if (!code && c->req->share_token)
		r = pay_share_check(db, c->req->share_token, c->o.id, now, &code);
	if (r < 0)
		return r;
	if (code)
		return refuse(c, code, NULL);
	/* Agreement and payment code: their own checks and records. */
	if (c->req->within) {
		const char *field = NULL;

		r = c->req->within(tx, c->req->within_ud, &c->o, now, &code, &field);
		if (r < 0)
			return r;
		if (code)
			return refuse(c, code, field);
	}
	r = limits(tx, c, now);
	if (r == 0 && !c->escrow)
		r = anfu_pay_fee(c->o.amount, c->m.fee_bps, &c->out->fee);
	if (r == 0)
		r = post(tx, c, res);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(c->out->ledger_id, res[0].id, sizeof(c->out->ledger_id));
	if (c->out->fee > 0)
		(void)anfu_strlcpy(c->out->fee_ledger_id, res[1].id, sizeof(c->out->fee_ledger_id));
	r = payment_insert(db, c, now);
	if (r == 0 && c->escrow)
		r = pay_escrow_hold_in(c->p, db, &c->o, &c->m, res[0].id, c->payer_acc,
				       c->escrow_acc, now);
	if (r == 0)
		r = pay_order_set_state(db, c->o.id, c->o.state, next, now, &ok);
	if (r == 0 && !ok)
		r = ANFU_EINTERNAL; /* the writer runs one command at a time */
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.order.paid", "pay_order", c->o.id, "success",
				  json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s}",
					    "payment", c->id, "merchant", c->o.merchant_id, "payer",
					    c->req->payer_id, "amount", (json_int_t)c->o.amount,
					    "fee", (json_int_t)c->out->fee, "fee_bps",
					    (json_int_t)c->m.fee_bps, "currency", "CNY", "auth",
					    auth_name(c), "ledger_transfer", c->out->ledger_id,
					    "from", anfu_pay_state_name(c->o.state)));
	if (r == 0)
		r = notice(c, tx, now);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(c->out->id, c->id, sizeof(c->out->id));
	(void)anfu_strlcpy(c->out->order_id, c->o.id, sizeof(c->out->order_id));
	c->out->amount = c->o.amount;
	c->out->created_ms = now;
	c->out->auth = auth_name(c);
	return 0;
}

/* The payment's command, and with it the insert of new order o when o is
 * not NULL (pay_order_pay). */
struct pay_run {
	struct pay_cmd *c;
	const struct anfu_pay_order_req *q;
	const struct anfu_pay_order *o;
	bool raced;
};

static int pay_fn(struct anfu_tx *tx, void *ud)
{
	struct pay_run *k = ud;
	int r = 0;

	if (k->o)
		r = pay_order_insert_in(tx, k->q, k->o, &k->raced);
	if (r == 0)
		r = pay_in(tx, k->c);
	return r;
}

/* The method the session's factors make with the PIN (RISK-LIM-01). */
static enum anfu_wallet_auth auth_of(const struct anfu_pay *p, const struct anfu_pay_pay_req *q)
{
	int64_t now = anfu_clock_now_ms();

	if (q->mfa_ms > 0 && q->mfa_ms <= now &&
	    now - q->mfa_ms <= p->cfg.second_factor_fresh_s * 1000)
		return anfu_wallet_auth_of_factor(q->mfa_method);
	return ANFU_WALLET_AUTH_PIN;
}

/* Prepares the command: ids, keys, the accounts that do not change. */
static int prepare(struct anfu_pay *p, const struct anfu_pay_pay_req *req, struct pay_cmd *c)
{
	const struct anfu_ledger_account_spec wallet = { "customer_wallet", "CNY", "customer",
							 req->payer_id };
	const struct anfu_ledger_account_spec fee = { "platform_fee", "CNY", "platform",
						      "platform" };
	const struct anfu_ledger_account_spec escrow = { "platform_escrow", "CNY", "platform",
							 "platform" };
	struct anfu_ledger_account a;
	int r = anfu_ledger_account_find(p->ledger, &wallet, &a);

	if (r == 0)
		(void)anfu_strlcpy(c->payer_acc, a.id, sizeof(c->payer_acc));
	if (r == 0)
		r = anfu_ledger_account_find(p->ledger, &fee, &a);
	if (r == 0)
		(void)anfu_strlcpy(c->fee_acc, a.id, sizeof(c->fee_acc));
	if (r == 0)
		r = anfu_ledger_account_find(p->ledger, &escrow, &a);
	if (r == 0)
		(void)anfu_strlcpy(c->escrow_acc, a.id, sizeof(c->escrow_acc));
	if (r == 0)
		r = anfu_id_new("pmt", c->id, sizeof(c->id));
	if (r == 0 &&
	    (snprintf(c->key, sizeof(c->key), "pay.%s", req->order_id) >= (int)sizeof(c->key) ||
	     snprintf(c->fee_key, sizeof(c->fee_key), "pay.%s.fee", req->order_id) >=
		     (int)sizeof(c->fee_key)))
		r = ANFU_ELIMIT;
	return r;
}

/* Runs the payment req (with the insert of new order o of q when o is
 * not NULL) as one writer command; 0 with *ret, its refusal included;
 * ANFU_ECONFLICT and *raced true when o's number was taken first
 * (nothing committed). */
static int run(struct anfu_pay *p, const struct anfu_actor *actor,
	       const struct anfu_pay_pay_req *req, const struct anfu_pay_order_req *q,
	       const struct anfu_pay_order *o, struct anfu_pay_payment *ret, bool *raced)
{
	struct anfu_pay_payment out;
	struct pay_run k = { NULL, q, o, false };
	bool pin_pending = req->pin && req->pin->pending;
	int r;

	memset(&out, 0, sizeof(out));
	k.c = anfu_xcalloc(1, sizeof(*k.c));
	k.c->p = p;
	k.c->req = req;
	k.c->out = &out;
	k.c->auth = auth_of(p, req);
	r = prepare(p, req, k.c);
	if (r == ANFU_ENOTFOUND) {
		/* No wallet (not a customer's yet): as the ledger would say. */
		out.code = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		r = 0;
	} else if (r == 0) {
		/* weight: two transfers, the payment's record, the PIN's; the
		 * new order's record. */
		r = anfu_ledger_run_weighted(p->ledger, actor, pay_fn, &k,
					     4 + req->within_weight + (o ? 1 : 0), pay_deadline());
		/* The PIN's record went with a command that did not commit. */
		if (r < 0 && req->pin)
			req->pin->pending = pin_pending;
		/* A refusal of the command is an answer, not an error. */
		if (r == ANFU_ECONFLICT && out.code)
			r = 0;
	}
	free(k.c);
	/* No command kept the PIN's record: it still gets one. */
	if (req->pin && req->pin->pending) {
		int pr = anfu_iam_pin_ok_record(p->iam, req->pin);

		if (r == 0)
			r = pr;
	}
	if (r == ANFU_ECONFLICT && k.raced)
		*raced = true;
	if (r == 0)
		*ret = out;
	return r;
}

int anfu_pay_pay(struct anfu_pay *p, const struct anfu_actor *actor,
		 const struct anfu_pay_pay_req *req, struct anfu_pay_payment *ret)
{
	bool raced = false;

	if (!p || !actor || !req || !req->order_id || !req->payer_id || !req->request_id ||
	    !req->request_id[0] || !ret)
		return ANFU_EINVAL;
	return run(p, actor, req, NULL, NULL, ret, &raced);
}

int pay_order_pay(struct anfu_pay *p, const struct anfu_actor *actor,
		  const struct anfu_pay_order_req *q, struct anfu_pay_pay_req *req,
		  const char *prefix, char ret_order_id[ANFU_ID_MAX], struct anfu_pay_payment *ret)
{
	struct anfu_pay_payment out;
	struct anfu_pay_order *o = NULL;
	char request_id[ANFU_ID_MAX + 16];
	bool existed = false, raced = false;
	int r = 0;

	if (!p || !actor || !q || !req || !req->payer_id || !prefix || !ret_order_id || !ret)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	o = anfu_xcalloc(1, sizeof(*o));
	/* Twice at most: a racing command's order is there the second time. */
	for (int i = 0; i < 2; i++) {
		raced = false;
		r = pay_order_new(p, q, o, &existed, &out.code, &out.field);
		if (r < 0 || out.code)
			break;
		if (snprintf(request_id, sizeof(request_id), "%s.%s", prefix, o->id) >=
		    (int)sizeof(request_id)) {
			r = ANFU_ELIMIT;
			break;
		}
		req->order_id = o->id;
		req->request_id = request_id;
		/* Test builds: a race test stops a request here, after its
		 * pre-checks and before its command (docs/testing.md, "Pause
		 * points"); nothing in production builds. */
		(void)anfu_pause_at("pay.order_pay");
		r = run(p, actor, req, q, existed ? NULL : o, &out, &raced);
		if (!raced)
			break;
	}
	if (r == 0 && (existed || !out.code))
		(void)anfu_strlcpy(ret_order_id, o->id, ANFU_ID_MAX);
	else if (r == 0)
		ret_order_id[0] = '\0';
	/* req borrowed them for the command only. */
	req->order_id = NULL;
	req->request_id = NULL;
	free(o);
	if (r == 0)
		*ret = out;
	return r;
}
