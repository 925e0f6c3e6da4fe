/*
 * pay/agreement: agreement payments (协议支付; FUNC-PAY-04/05;
 * docs/payments.md, "Agreement payment"): a customer signs an agreement
 * with a merchant (scope, per-debit limit, period limit, expiry) after the
 * PIN and a fresh second factor; the record is canonical JSON signed by
 * the platform's receipt key (receipt/'s signer) and stored with its key
 * id. The merchant then debits quoting the agreement without the
 * customer: the order is made and paid in one writer command
 * (pay_order_pay, kind agreement; a refusal leaves no order), which
 * re-checks the agreement and records the period's usage, so two racing
 * debits cannot both pass the period limit.
 *
 * Owns the tables pay_agreement, pay_agreement_usage and
 * pay_agreement_debit. Trusts its callers for the customer's identity,
 * PIN and second factor (the handler's) and the merchant's (the session's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/iam.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "receipt/receipt.h"
#include "store/store.h"
#include "tx/tx.h"

#define DAY_MS 86400000LL

/* ---- rows ---- */

#define AGR_COLS                                                                              \
	"id, customer_id, merchant_id, scope, per_debit_max, period, period_max, state, kid," \
	" created_ms, expires_ms, revoked_ms, document"

struct agr_rows {
	struct anfu_pay_agreement *out;
	size_t cap, n;
	char **doc; /* the first row's document, when asked */
};

static int agr_row_fn(void *ud, const struct anfu_row *r)
{
	struct agr_rows *l = ud;
	struct anfu_pay_agreement *a;

	if (l->n >= l->cap)
		return 0;
	a = &l->out[l->n++];
	memset(a, 0, sizeof(*a));
	pay_col(r, 0, a->id, sizeof(a->id));
	pay_col(r, 1, a->customer_id, sizeof(a->customer_id));
	pay_col(r, 2, a->merchant_id, sizeof(a->merchant_id));
	pay_col(r, 3, a->scope, sizeof(a->scope));
	a->per_debit_max = anfu_row_int(r, 4);
	pay_col(r, 5, a->period, sizeof(a->period));
	a->period_max = anfu_row_int(r, 6);
	pay_col(r, 7, a->state, sizeof(a->state));
	pay_col(r, 8, a->kid, sizeof(a->kid));
	a->created_ms = anfu_row_int(r, 9);
	a->expires_ms = anfu_row_int(r, 10);
	a->revoked_ms = anfu_row_is_null(r, 11) ? 0 : anfu_row_int(r, 11);
	if (l->doc && !*l->doc) {
		const char *d = anfu_row_text(r, 12, NULL);

		*l->doc = anfu_xstrdup(d ? d : "");
	}
	return 0;
}

int anfu_pay_agreement_get(struct anfu_db *db, const char *id, struct anfu_pay_agreement *ret,
			   char **ret_doc)
{
	struct anfu_param v[1] = { ANFU_PS(id) };
	struct anfu_pay_agreement a;
	char *doc = NULL;
	struct agr_rows l = { &a, 1, 0, ret_doc ? &doc : NULL };
	int r;

	if (!db || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_db_exec(db, "SELECT " AGR_COLS " FROM pay_agreement WHERE id = $1", v, 1,
			 agr_row_fn, &l, NULL);
	if (r == 0 && l.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0) {
		*ret = a;
		if (ret_doc)
			*ret_doc = doc;
		doc = NULL;
	}
	free(doc);
	return r;
}

int anfu_pay_agreement_list(struct anfu_db *db, const char *customer_id,
			    struct anfu_pay_agreement *out, size_t cap, size_t *ret_n)
{
	struct anfu_param v[2] = { ANFU_PS(customer_id), ANFU_PI((int64_t)cap) };
	struct agr_rows l = { out, cap, 0, NULL };
	int r;

	if (!db || !customer_id || !out || cap < 1 || cap > ANFU_LIMIT_PAY_AGREEMENTS || !ret_n)
		return ANFU_EINVAL;
	r = anfu_db_exec(db,
			 "SELECT " AGR_COLS " FROM pay_agreement WHERE customer_id = $1"
			 " ORDER BY created_ms DESC, id DESC LIMIT $2",
			 v, 2, agr_row_fn, &l, NULL);
	if (r == 0)
		*ret_n = l.n;
	return r;
}

/* ---- sign ---- */

struct sign_cmd {
	struct anfu_pay *p;
	const struct anfu_pay_agreement *a;
	struct anfu_iam_pin_ok *pin;
	const char *doc;
};

static int sign_fn(struct anfu_tx *tx, void *ud)
{
	struct sign_cmd *c = ud;
	const struct anfu_pay_agreement *a = c->a;
	struct anfu_param v[12] = {
		ANFU_PS(a->id),		ANFU_PS(a->customer_id),   ANFU_PS(a->merchant_id),
		ANFU_PS(a->scope),	ANFU_PI(a->per_debit_max), ANFU_PS(a->period),
		ANFU_PI(a->period_max), ANFU_PS(a->kid),	   ANFU_PI(a->created_ms),
		ANFU_PI(a->expires_ms), ANFU_PS(c->doc),	   ANFU_PSN("active", 6),
	};
	int r = c->pin ? anfu_iam_pin_ok_record_in(c->p->iam, tx, c->pin) : 0;

	if (r == 0)
		r = anfu_db_exec(anfu_tx_db(tx),
				 "INSERT INTO pay_agreement (id, customer_id, merchant_id, scope,"
				 " per_debit_max, period, period_max, kid, created_ms, expires_ms,"
				 " document, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
				 " $10, $11, $12)",
				 v, 12, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.agreement.signed", "pay_agreement", a->id, "success",
				  json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:s}", "customer",
					    a->customer_id, "merchant", a->merchant_id,
					    "per_debit_max", (json_int_t)a->per_debit_max, "period",
					    a->period, "period_max", (json_int_t)a->period_max,
					    "expires_ms", (json_int_t)a->expires_ms, "kid",
					    a->kid));
	return r;
}

/* The record that is signed: what the customer agreed to. */
static json_t *agreement_body(const struct anfu_pay_agreement *a)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:I, s:I}", "type",
			 "anfu.pay.agreement", "id", a->id, "customer", a->customer_id, "merchant",
			 a->merchant_id, "scope", a->scope, "per_debit_max",
			 (json_int_t)a->per_debit_max, "period", a->period, "period_max",
			 (json_int_t)a->period_max, "currency", "CNY", "signed_ms",
			 (json_int_t)a->created_ms, "expires_ms", (json_int_t)a->expires_ms);
}

int anfu_pay_agreement_sign(struct anfu_pay *p, struct anfu_receipt *rc,
			    const struct anfu_actor *actor,
			    const struct anfu_pay_agreement_req *req,
			    struct anfu_pay_agreement *ret, char **ret_doc, const char **ret_code,
			    const char **ret_field)
{
	struct anfu_pay_agreement a;
	struct anfu_pay_merchant m;
	struct anfu_db *db = NULL;
	struct sign_cmd c = { p, &a, req ? req->pin : NULL, NULL };
	char *doc = NULL;
	size_t dlen = 0;
	json_t *body = NULL;
	int64_t now = anfu_clock_now_ms();
	bool pending;
	int r;

	if (!p || !rc || !actor || !req || !req->customer_id || !req->merchant_id || !req->scope ||
	    !req->period || !ret || !ret_doc || !ret_code || !ret_field)
		return ANFU_EINVAL;
	*ret_code = NULL;
	*ret_field = NULL;
	if (strcmp(req->period, "day") != 0 && strcmp(req->period, "month") != 0)
		return ANFU_EINVAL;
	/* The PIN and a fresh second factor (as the wallet's large transfers). */
	if (req->mfa_ms <= 0 || req->mfa_ms > now ||
	    now - req->mfa_ms > p->cfg.second_factor_fresh_s * 1000) {
		*ret_code = ANFU_R_STEP_UP_REQUIRED;
		return 0;
	}
	r = pay_db(p, &db);
	if (r == 0)
		r = anfu_pay_merchant_get(db, req->merchant_id, &m);
	if (r == ANFU_ENOTFOUND) {
		*ret_code = ANFU_R_PAY_MERCHANT_NOT_FOUND;
		*ret_field = "merchant_id";
		return 0;
	}
	if (r < 0)
		return r;
	if (strcmp(m.state, "active") != 0) {
		*ret_code = ANFU_R_PAY_MERCHANT_DISABLED;
		return 0;
	}
	if (req->period_max < req->per_debit_max) {
		*ret_code = ANFU_JERR_OUT_OF_RANGE;
		*ret_field = "period_max";
		return 0;
	}
	if (req->expires_ms <= now ||
	    req->expires_ms - now > ANFU_LIMIT_PAY_AGREEMENT_DAYS * DAY_MS) {
		*ret_code = ANFU_JERR_OUT_OF_RANGE;
		*ret_field = "expires_ms";
		return 0;
	}
	memset(&a, 0, sizeof(a));
	r = anfu_id_new("agr", a.id, sizeof(a.id));
	if (r < 0)
		return r;
	(void)anfu_strlcpy(a.customer_id, req->customer_id, sizeof(a.customer_id));
	(void)anfu_strlcpy(a.merchant_id, req->merchant_id, sizeof(a.merchant_id));
	(void)anfu_strlcpy(a.scope, req->scope, sizeof(a.scope));
	(void)anfu_strlcpy(a.period, req->period, sizeof(a.period));
	(void)anfu_strlcpy(a.state, "active", sizeof(a.state));
	a.per_debit_max = req->per_debit_max;
	a.period_max = req->period_max;
	a.created_ms = now;
	a.expires_ms = req->expires_ms;
	body = agreement_body(&a);
	r = body ? anfu_receipt_sign_json(rc, body, &doc, &dlen, a.kid) : ANFU_EINVAL;
	json_decref(body);
	if (r < 0)
		return r;
	c.doc = doc;
	pending = req->pin && req->pin->pending;
	r = anfu_tx_run(p->tx, actor, sign_fn, &c);
	if (r < 0) {
		/* The PIN's record went with a transaction that did not commit. */
		if (req->pin)
			req->pin->pending = pending;
		free(doc);
		return r;
	}
	*ret = a;
	*ret_doc = doc;
	return 0;
}

/* ---- revoke ---- */

struct revoke_cmd {
	const char *customer_id, *id;
	struct anfu_pay_agreement a;
	const char *code;
};

static int revoke_fn(struct anfu_tx *tx, void *ud)
{
	struct revoke_cmd *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t now = anfu_clock_now_ms();
	int r = anfu_pay_agreement_get(db, c->id, &c->a, NULL);

	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(c->a.customer_id, c->customer_id) != 0)) {
		c->code = ANFU_R_PAY_AGREEMENT_NOT_FOUND;
		return ANFU_ECONFLICT;
	}
	if (r < 0)
		return r;
	if (strcmp(c->a.state, "active") != 0) {
		c->code = ANFU_R_PAY_AGREEMENT_REVOKED;
		return ANFU_ECONFLICT;
	}
	{
		struct anfu_param v[2] = { ANFU_PI(now), ANFU_PS(c->id) };

		r = anfu_db_exec(db,
				 "UPDATE pay_agreement SET state = 'revoked', revoked_ms = $1"
				 " WHERE id = $2 AND state = 'active'",
				 v, 2, NULL, NULL, NULL);
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "pay.agreement.revoked", "pay_agreement", c->id, "success",
				  json_pack("{s:s, s:s}", "customer", c->a.customer_id, "merchant",
					    c->a.merchant_id));
	if (r == 0) {
		(void)anfu_strlcpy(c->a.state, "revoked", sizeof(c->a.state));
		c->a.revoked_ms = now;
	}
	return r;
}

int anfu_pay_agreement_revoke(struct anfu_pay *p, const struct anfu_actor *actor,
			      const char *customer_id, const char *id,
			      struct anfu_pay_agreement *ret, const char **ret_code)
{
	struct revoke_cmd *c;
	int r;

	if (!p || !actor || !customer_id || !id || !ret || !ret_code)
		return ANFU_EINVAL;
	c = anfu_xcalloc(1, sizeof(*c));
	c->customer_id = customer_id;
	c->id = id;
	/* Through the writer: ordered against the debits, so a debit after
	 * the revocation's commit is refused. weight: the audit record. */
	r = anfu_ledger_run_weighted(p->ledger, actor, revoke_fn, c, 1, pay_deadline());
	*ret_code = NULL;
	if (r == ANFU_ECONFLICT && c->code) {
		*ret_code = c->code;
		r = 0;
	}
	if (r == 0)
		*ret = c->a;
	free(c);
	return r;
}

/* ---- debit ---- */

/* The usage key of a's period at now: "YYYY-MM-DD" or "YYYY-MM" (Shanghai). */
static void period_key(const struct anfu_pay_agreement *a, int64_t now, char key[16])
{
	char tod[16];

	anfu_clock_format_cn(now, key, tod);
	if (strcmp(a->period, "month") == 0)
		key[7] = '\0';
}

static int usage_of(struct anfu_db *db, const char *id, const char *key, int64_t *ret)
{
	struct anfu_param v[2] = { ANFU_PS(id), ANFU_PS(key) };
	int64_t used = 0;
	int r = anfu_db_query_int(db,
				  "SELECT used FROM pay_agreement_usage WHERE agreement_id = $1"
				  " AND period_key = $2",
				  v, 2, &used);

	if (r == ANFU_ENOTFOUND)
		r = 0;
	if (r == 0)
		*ret = used;
	return r;
}

/* The refusal of a debit of amount by merchant_id under a at now, or NULL. */
static const char *debit_refusal(struct anfu_db *db, const struct anfu_pay_agreement *a,
				 const char *merchant_id, int64_t amount, int64_t now,
				 const char *key, int *ret_err)
{
	int64_t used = 0;

	*ret_err = 0;
	if (strcmp(a->merchant_id, merchant_id) != 0)
		return ANFU_R_PAY_AGREEMENT_NOT_FOUND;
	if (strcmp(a->state, "active") != 0)
		return ANFU_R_PAY_AGREEMENT_REVOKED;
	/* Expired at expires_ms exactly. */
	if (now >= a->expires_ms)
		return ANFU_R_PAY_AGREEMENT_EXPIRED;
	if (amount > a->per_debit_max)
		return ANFU_R_PAY_AGREEMENT_DEBIT_LIMIT;
	*ret_err = usage_of(db, a->id, key, &used);
	if (*ret_err < 0)
		return NULL;
	if (amount > a->period_max - used)
		return ANFU_R_PAY_AGREEMENT_PERIOD_LIMIT;
	return NULL;
}

struct debit_ctx {
	const char *agreement_id;
};

/* Inside the payment's writer command: the agreement re-checked at
 * commit time and the period's usage recorded with the debit. */
static int debit_within(struct anfu_tx *tx, void *ud, const struct anfu_pay_order *o, int64_t now,
			const char **ret_code, const char **ret_field)
{
	const struct debit_ctx *d = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_pay_agreement a;
	char key[16];
	int err = 0;
	int r = anfu_pay_agreement_get(db, d->agreement_id, &a, NULL);

	if (r == ANFU_ENOTFOUND) {
		*ret_code = ANFU_R_PAY_AGREEMENT_NOT_FOUND;
		*ret_field = "agreement_no";
		return 0;
	}
	if (r < 0)
		return r;
	period_key(&a, now, key);
	*ret_code = debit_refusal(db, &a, o->merchant_id, o->amount, now, key, &err);
	if (err < 0)
		return err;
	if (*ret_code) {
		*ret_field = "agreement_no";
		return 0;
	}
	{
		struct anfu_param v[3] = { ANFU_PS(a.id), ANFU_PSN(key, strlen(key)),
					   ANFU_PI(o->amount) };
		struct anfu_param w[5] = { ANFU_PS(o->id), ANFU_PS(a.id),
					   ANFU_PSN(key, strlen(key)), ANFU_PI(o->amount),
					   ANFU_PI(now) };

		r = anfu_db_exec(db,
				 "INSERT INTO pay_agreement_usage (agreement_id, period_key, used)"
				 " VALUES ($1, $2, $3) ON CONFLICT (agreement_id, period_key)"
				 " DO UPDATE SET used = pay_agreement_usage.used + excluded.used",
				 v, 3, NULL, NULL, NULL);
		if (r == 0)
			r = anfu_db_exec(
				db,
				"INSERT INTO pay_agreement_debit (order_id, agreement_id,"
				" period_key, amount, created_ms) VALUES ($1, $2, $3, $4, $5)",
				w, 5, NULL, NULL, NULL);
	}
	return r;
}

int anfu_pay_agreement_debit(struct anfu_pay *p, const struct anfu_actor *actor,
			     const struct anfu_pay_debit_req *req,
			     struct anfu_pay_debit_result *ret)
{
	struct anfu_pay_debit_result out;
	struct anfu_pay_agreement a;
	struct anfu_db *db = NULL;
	struct debit_ctx d;
	struct anfu_iam_pin_ok none = { 0 }; /* the customer is not here */
	struct anfu_pay_pay_req q = {
		.pin = &none,
		.agreement = true,
		.auth_name = "agreement",
		.within = debit_within,
		.within_ud = &d,
	};
	char key[16];
	int64_t now = anfu_clock_now_ms();
	int err = 0;
	int r;

	if (!p || !actor || !req || !req->order || !req->agreement_id || !ret)
		return ANFU_EINVAL;
	memset(&out, 0, sizeof(out));
	req->order->kind = "agreement";
	r = pay_db(p, &db);
	if (r == 0)
		r = anfu_pay_agreement_get(db, req->agreement_id, &a, NULL);
	if (r == ANFU_ENOTFOUND) {
		out.code = ANFU_R_PAY_AGREEMENT_NOT_FOUND;
		out.field = "agreement_no";
		*ret = out;
		return 0;
	}
	if (r < 0)
		return r;
	/* Checked before anything is written; the payment's command again. */
	period_key(&a, now, key);
	out.code =
		debit_refusal(db, &a, req->order->merchant_id, req->order->amount, now, key, &err);
	if (err < 0)
		return err;
	if (out.code) {
		out.field = "agreement_no";
		*ret = out;
		return 0;
	}
	d.agreement_id = a.id;
	q.payer_id = a.customer_id;
	/* The order made and paid in one writer command: a refusal leaves no
	 * order and no usage. */
	r = pay_order_pay(p, actor, req->order, &q, "agreement", out.order_id, &out.payment);
	if (r == 0 && out.payment.code) {
		out.code = out.payment.code;
		out.field = out.payment.field;
	}
	if (r == 0)
		*ret = out;
	return r;
}
