/*
 * pay/api/paycode: payment-code routes (docs/payments.md, "Payment code"):
 *
 * POST /api/v1/me/paycode -> 201 {code, expires_ms, qr_png}: a customer's
 *   one-time code (18 digits, valid 60 s on the clock) and its QR as a
 *   PNG data URI; a new code voids the customer's earlier one
 * GET /api/v1/me/paycode/pending -> 200 {orders}: payments by code that
 *   wait for the customer's confirmation (paying); the customer confirms
 *   with POST /api/v1/me/orders/{id}/pay (PIN) or declines with .../cancel
 * POST /api/v1/merchant/paycode-payments {auth_code, out_trade_no, amount,
 *   currency, subject, lines, ttl_s?, return_url?, notify_url?} -> 201 the
 *   order (state paid, or paying when it waits; "existed": true and 200
 *   for a retry of the same code and order number)
 *
 * The principal is the session's (a customer, or a merchant user of its
 * own merchant); the service makes every decision.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "iam/iam.h"
#include "image/image.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

/* png as a data URI in the request's arena. */
static int png_uri(struct anfu_req *req, const unsigned char *png, size_t len, const char **ret)
{
	static const char prefix[] = "data:image/png;base64,";
	char *b64 = anfu_base64_encode(png, len);
	size_t n = strlen(b64);
	char *out = NULL;
	int r = anfu_arena_alloc(req->arena, sizeof(prefix) + n, (void **)&out);

	if (r == 0) {
		memcpy(out, prefix, sizeof(prefix) - 1);
		memcpy(out + sizeof(prefix) - 1, b64, n + 1);
		*ret = out;
	}
	free(b64);
	return r;
}

int anfu_pay_api_me_paycode(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = anfu_pay_api_customer(req);
	struct anfu_pay_paycode c;
	struct anfu_actor actor;
	unsigned char *png = NULL;
	const char *qr = NULL;
	size_t png_len = 0;
	int r;

	if (!p || !app->keys)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_paycode_issue(p, app->keys, &actor, pr->user_id, &c);
	if (r == 0)
		r = anfu_image_qr_png(c.code, &png, &png_len);
	if (r == 0)
		r = png_uri(req, png, png_len, &qr);
	free(png);
	if (r == 0) {
		resp->status = 201;
		resp->body = json_pack("{s:s, s:I, s:I, s:s}", "code", c.code, "created_ms",
				       (json_int_t)c.created_ms, "expires_ms",
				       (json_int_t)c.expires_ms, "qr_png", qr);
		if (!resp->body)
			r = ANFU_EINTERNAL;
	}
	anfu_wipe(&c, sizeof(c));
	return r;
}

int anfu_pay_api_me_paycode_pending(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_order *out = NULL;
	struct anfu_db *db = NULL;
	size_t n = 0;
	json_t *items;
	int r;

	r = anfu_pay_api_reader(req, false, &pr, &db);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*out) * ANFU_LIMIT_PAY_PAYCODE_PENDING,
				     (void **)&out);
	if (r == 0)
		r = anfu_pay_paycode_pending(db, pr->user_id, out, ANFU_LIMIT_PAY_PAYCODE_PENDING,
					     &n);
	if (r < 0)
		return r;
	items = json_array();
	for (size_t i = 0; items && i < n; i++) {
		struct anfu_pay_merchant m;
		json_t *o;

		r = anfu_pay_merchant_get(db, out[i].merchant_id, &m);
		if (r < 0) {
			json_decref(items);
			return r;
		}
		o = anfu_pay_api_order_json(&out[i]);
		if (o)
			(void)anfu_json_set(
				o, "merchant_name",
				json_pack("{s:s, s:s}", "zh", m.name_zh, "en", m.name_en));
		(void)json_array_append_new(items, o);
	}
	resp->body = json_pack("{s:o}", "orders", items);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_paycode_collect(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_pay_api_order_in in;
	struct anfu_pay_paycode_req cq;
	struct anfu_pay_paycode_result *res = NULL;
	char code[ANFU_PAY_PAYCODE_DIGITS + 1];
	int r;

	if (!app->keys)
		return ANFU_EINTERNAL;
	r = anfu_arena_alloc(req->arena, sizeof(*res), (void **)&res);
	/* A payment-code order is a general one. */
	if (r == 0)
		r = anfu_pay_api_order_begin(req, "auth_code", code, sizeof(code), "general", &in);
	if (r < 0)
		return r;
	cq = (struct anfu_pay_paycode_req){ &in.q, code };
	r = anfu_pay_paycode_collect(in.p, app->keys, &in.actor, &cq, res);
	json_decref(in.root);
	anfu_wipe(code, sizeof(code));
	return anfu_pay_api_order_end(req, resp, r, res->code, res->field, NULL, res->order_id,
				      res->payment.existed);
}
