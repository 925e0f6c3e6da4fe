/*
 * pay/api/agreements: agreement routes (协议支付; docs/payments.md,
 * "Agreement payment"; FUNC-PAY-04/05):
 *
 * POST /api/v1/me/agreements {merchant_id, scope, per_debit_max, period,
 *   period_max, expires_ms, payment_password} -> 201 the agreement with
 *   its signed document: the PIN and a fresh second factor (step-up)
 * GET /api/v1/me/agreements -> 200 {agreements}: the customer's, newest first
 * GET /api/v1/me/agreements/{id} -> 200 the agreement with its document
 * POST /api/v1/me/agreements/{id}/revoke -> 200 the agreement (revoked)
 * POST /api/v1/merchant/agreement-debits {agreement_no, out_trade_no,
 *   amount, currency, subject, lines, ttl_s?, return_url?, notify_url?}
 *   -> 201 the order, paid without the customer
 *
 * The principal is the session's (a customer, or a merchant user of its
 * own merchant); the PIN is checked with iam before the service (its
 * failures count and lock); the service makes every other decision.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *agreement_json(const struct anfu_pay_agreement *a, const char *doc)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I}",
			      "id", a->id, "customer_id", a->customer_id, "merchant_id",
			      a->merchant_id, "scope", a->scope, "per_debit_max",
			      (json_int_t)a->per_debit_max, "period", a->period, "period_max",
			      (json_int_t)a->period_max, "currency", "CNY", "state", a->state,
			      "kid", a->kid, "created_ms", (json_int_t)a->created_ms, "expires_ms",
			      (json_int_t)a->expires_ms, "revoked_ms", (json_int_t)a->revoked_ms);

	if (j && doc)
		(void)anfu_json_set(j, "document", json_string(doc));
	return j;
}

struct sign_body {
	struct anfu_str merchant_id, scope, period, payment_password;
	struct anfu_opt_i64 per_debit_max, period_max, expires_ms;
};

static bool period_ok(const char *s, size_t len)
{
	return (len == 3 && memcmp(s, "day", 3) == 0) || (len == 5 && memcmp(s, "month", 5) == 0);
}

static const struct anfu_jfield sign_fields[] = {
	{ "merchant_id", ANFU_JT_STRING, offsetof(struct sign_body, merchant_id), true, 1,
	  ANFU_LIMIT_LEDGER_OWNER_BYTES, NULL },
	{ "scope", ANFU_JT_STRING, offsetof(struct sign_body, scope), true, 1,
	  ANFU_LIMIT_PAY_SUBJECT_BYTES / 3, NULL },
	{ "per_debit_max", ANFU_JT_INT, offsetof(struct sign_body, per_debit_max), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "period", ANFU_JT_STRING, offsetof(struct sign_body, period), true, 3, 5, period_ok },
	{ "period_max", ANFU_JT_INT, offsetof(struct sign_body, period_max), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "expires_ms", ANFU_JT_INT, offsetof(struct sign_body, expires_ms), true, 1, INT64_MAX,
	  NULL },
	{ "payment_password", ANFU_JT_SECRET, offsetof(struct sign_body, payment_password), true, 1,
	  16, NULL },
};

int anfu_pay_api_me_agreement_sign(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_pay *p = anfu_pay_api_service(req);
	/* The receipt service: its key signs agreements. */
	struct anfu_receipt *rc = anfu_api_service_named(app, "receipt");
	const struct anfu_principal *pr = anfu_pay_api_customer(req);
	struct sign_body b;
	struct anfu_pay_agreement_req q;
	struct anfu_pay_agreement a;
	struct anfu_iam_pin_ok pin = { 0 };
	struct anfu_iam_ctx ctx;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	char *doc = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p || !rc)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_req_json(req, sign_fields, NFIELDS(sign_fields), &b);
	if (r == 0)
		r = anfu_pay_api_pin(req, &ctx, pr, b.payment_password.ptr, &pin);
	if (r < 0)
		return r;
	q = (struct anfu_pay_agreement_req){
		.customer_id = pr->user_id,
		.merchant_id = b.merchant_id.ptr,
		.scope = b.scope.ptr,
		.period = b.period.ptr,
		.per_debit_max = b.per_debit_max.v,
		.period_max = b.period_max.v,
		.expires_ms = b.expires_ms.v,
		.mfa_ms = pr->mfa_ms,
		.pin = &pin,
	};
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_agreement_sign(p, rc, &actor, &q, &a, &doc, &code, &field);
	/* No transaction kept the PIN's record: it still gets one. */
	if (pin.pending) {
		int pr_ = anfu_iam_pin_ok_record(app->iam, &pin);

		if (r == 0)
			r = pr_;
	}
	if (r < 0) {
		free(doc);
		return r;
	}
	if (code)
		return anfu_req_fail(req,
				     strcmp(code, ANFU_R_STEP_UP_REQUIRED) == 0 ? ANFU_EPERM
				     : strcmp(code, ANFU_R_PAY_MERCHANT_NOT_FOUND) == 0
					     ? ANFU_ENOTFOUND
				     : strcmp(code, ANFU_JERR_OUT_OF_RANGE) == 0 ? ANFU_EINVAL
										 : ANFU_ECONFLICT,
				     code, field);
	resp->status = 201;
	resp->body = agreement_json(&a, doc);
	free(doc);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_me_agreements(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_agreement *out = NULL;
	struct anfu_db *db = NULL;
	size_t n = 0;
	json_t *items;
	int r;

	r = anfu_pay_api_reader(req, false, &pr, &db);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*out) * ANFU_LIMIT_PAY_AGREEMENTS,
				     (void **)&out);
	if (r == 0)
		r = anfu_pay_agreement_list(db, pr->user_id, out, ANFU_LIMIT_PAY_AGREEMENTS, &n);
	if (r < 0)
		return r;
	items = json_array();
	for (size_t i = 0; items && i < n; i++)
		(void)json_array_append_new(items, agreement_json(&out[i], NULL));
	resp->body = json_pack("{s:o}", "agreements", items);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_me_agreement_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_agreement a;
	struct anfu_db *db = NULL;
	char *id = NULL, *doc = NULL;
	int r;

	r = anfu_pay_api_reader(req, false, &pr, &db);
	if (r == 0)
		r = anfu_api_path_id(req, "agr", &id);
	if (r == 0)
		r = anfu_pay_agreement_get(db, id, &a, &doc);
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(a.customer_id, pr->user_id) != 0)) {
		free(doc);
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_PAY_AGREEMENT_NOT_FOUND, NULL);
	}
	if (r < 0)
		return r;
	resp->body = agreement_json(&a, doc);
	free(doc);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_me_agreement_revoke(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_agreement a;
	struct anfu_actor actor;
	const char *code = NULL;
	char *id = NULL;
	int r;

	r = anfu_pay_api_who(req, false, &p, &pr);
	if (r == 0)
		r = anfu_api_path_id(req, "agr", &id);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_agreement_revoke(p, &actor, pr->user_id, id, &a, &code);
	if (r < 0)
		return r;
	if (code)
		return anfu_pay_api_refuse(req, code, NULL, ANFU_R_PAY_AGREEMENT_NOT_FOUND, NULL);
	resp->body = agreement_json(&a, NULL);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_agreement_debit(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay_api_order_in in;
	struct anfu_pay_debit_req dq;
	struct anfu_pay_debit_result *res = NULL;
	char agr[ANFU_ID_MAX];
	int r = anfu_arena_alloc(req->arena, sizeof(*res), (void **)&res);

	/* An agreement debit's order is of kind agreement. */
	if (r == 0)
		r = anfu_pay_api_order_begin(req, "agreement_no", agr, sizeof(agr), "agreement",
					     &in);
	if (r < 0)
		return r;
	dq = (struct anfu_pay_debit_req){ &in.q, agr };
	r = anfu_pay_agreement_debit(in.p, &in.actor, &dq, res);
	json_decref(in.root);
	return anfu_pay_api_order_end(req, resp, r, res->code, res->field,
				      ANFU_R_PAY_AGREEMENT_NOT_FOUND, res->order_id,
				      res->payment.existed);
}
