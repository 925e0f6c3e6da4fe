/*
 * pay/api/escrow: customers' escrow route (docs/payments.md, "Escrow
 * payment") and, in test-hooks builds, its hooks:
 *
 * POST /api/v1/me/orders/{id}/confirm-receipt {payment_password} -> 200
 *   {id, state, escrow}: the payer confirms receipt and the escrow is
 *   released to the merchant (FUNC-PAY-02). Another customer's or no
 *   order: 404 order_not_found; not escrow_held: 409 order_state_invalid.
 * POST /test/v1/pay/escrow-release -> {released}: one run of the job.
 *
 * Checks the payment PIN with iam before the service (its failures count
 * and lock). Trusts the service for every rule.
 */
#include <stddef.h>
#include <stdint.h>
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

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

json_t *anfu_pay_api_escrow_json(const struct anfu_pay_escrow *e)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:s?, s:I}", "amount", (json_int_t)e->amount,
			 "refunded", (json_int_t)e->refunded, "release_ms",
			 (json_int_t)e->release_ms, "released_ms", (json_int_t)e->released_ms,
			 "fee", (json_int_t)e->fee, "released_by",
			 e->released_by[0] ? e->released_by : NULL, "left",
			 (json_int_t)(e->amount - e->refunded));
}

struct confirm_body {
	struct anfu_str payment_password;
};

static const struct anfu_jfield confirm_fields[] = {
	{ "payment_password", ANFU_JT_SECRET, offsetof(struct confirm_body, payment_password), true,
	  1, 16, NULL },
};

int anfu_pay_api_me_confirm_receipt(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct confirm_body b;
	struct anfu_pay_confirm_req q;
	struct anfu_pay_escrow *e = NULL;
	struct anfu_iam_pin_ok pin = { 0 };
	struct anfu_iam_ctx ctx;
	struct anfu_actor actor;
	const char *code = NULL;
	char *id = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	r = anfu_pay_api_who(req, false, &p, &pr);
	if (r == 0)
		r = anfu_api_path_id(req, "ord", &id);
	if (r == 0)
		r = anfu_req_json(req, confirm_fields, NFIELDS(confirm_fields), &b);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*e), (void **)&e);
	if (r == 0)
		r = anfu_pay_api_pin(req, &ctx, pr, b.payment_password.ptr, &pin);
	if (r < 0)
		return r;
	q = (struct anfu_pay_confirm_req){ id, pr->user_id, &pin };
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_escrow_confirm(p, &actor, &q, e, &code);
	if (r < 0)
		return r;
	if (code)
		return anfu_pay_api_refuse(req, code, NULL, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	resp->body = json_pack("{s:s, s:s, s:o}", "id", id, "state", "escrow_released", "escrow",
			       anfu_pay_api_escrow_json(e));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

#ifdef ANFU_TEST_HOOKS
int anfu_pay_api_test_escrow_release(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_release_report rep = { 0 };
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_pay_escrow_release_due(p, &rep);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:I}", "released", (json_int_t)rep.released);
	return resp->body ? 0 : ANFU_EINTERNAL;
}
#endif
