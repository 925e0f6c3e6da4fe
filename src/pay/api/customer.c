/*
 * pay/api/customer: customers' routes of orders (docs/payments.md,
 * "General payment"):
 *
 * GET /api/v1/me/orders/{id} -> 200 what the customer is shown before
 *   paying: the merchant's display name, subject, bill lines
 *   (FUNC-PAY-19), amount, state, expiry. Any customer session (the id is
 *   the unguessable cashier link); once paid, only the payer and (pay-on-
 *   behalf) the requester; paid_by_me and requested_by_me say which.
 * GET /api/v1/me/orders?status&from&to&cursor&limit -> 200 {orders,
 *   next_cursor}: the orders the customer paid or asked another customer
 *   to pay through a share (FUNC-PAY-17), each as the single read shows
 *   it, newest first by creation; the query's rules are every list's
 *   (anfu_pay_api_page_query, pay/api/common.c), its MAC'd cursors its
 *   own (scope "orders.c:<customer>").
 * POST /api/v1/me/orders/{id}/pay {payment_password, request_id} -> 201
 *   the payment (200 with "existed": true for the same request id)
 * POST /api/v1/me/orders/{id}/cancel -> 200 {id, state}: the customer
 *   cancels an order before its payment completes (FUNC-PAY-06); once
 *   paid, refused (order_paid; another customer's: order_not_found)
 *
 * Checks the payment PIN with iam before the service (its failures count
 * and lock), then maps the service's refusals to their codes. Trusts the
 * service for every rule.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* The order as customer_id is shown it (the single read's and the list's
 * rows): nothing of another customer beyond whether it is theirs. */
static json_t *me_order_json(const struct anfu_pay_order *o, const struct anfu_pay_merchant *m,
			     const char *customer_id, bool requested)
{
	json_t *lines = json_array();

	for (size_t i = 0; lines && i < o->nlines; i++)
		(void)json_array_append_new(
			lines, json_pack("{s:s, s:I, s:I, s:I}", "name", o->lines[i].name,
					 "quantity", (json_int_t)o->lines[i].quantity,
					 "unit_amount", (json_int_t)o->lines[i].unit_amount,
					 "amount", (json_int_t)o->lines[i].amount));
	return json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:I, s:s, s:o, s:s, s:I, s:I, s:b, s:b}",
			 "id", o->id, "merchant", "name_zh", m->name_zh, "name_en", m->name_en,
			 "kind", o->kind, "subject", o->subject, "amount", (json_int_t)o->amount,
			 "currency", "CNY", "lines", lines, "state", anfu_pay_state_name(o->state),
			 "created_ms", (json_int_t)o->created_ms, "expires_ms",
			 (json_int_t)o->expires_ms, "paid_by_me",
			 o->payer_id[0] && strcmp(o->payer_id, customer_id) == 0, "requested_by_me",
			 requested);
}

int anfu_pay_api_me_order(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_order *o = NULL;
	struct anfu_pay_merchant m;
	struct anfu_pay_share share;
	struct anfu_db *db = NULL;
	bool requested = false;
	char *id = NULL;
	int r;

	r = anfu_pay_api_reader(req, false, &pr, &db);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);
	if (r == 0)
		r = anfu_api_path_id(req, "ord", &id);
	if (r == 0)
		r = anfu_pay_order_get(db, id, o);
	if (r == 0)
		r = anfu_pay_merchant_get(db, o->merchant_id, &m);
	/* Pay-on-behalf: the requester sees it too (pay/behalf.c). */
	if (r == 0) {
		r = anfu_pay_share_get(db, o->id, &share);
		requested = r == 0 && strcmp(share.requester_id, pr->user_id) == 0;
		if (r == ANFU_ENOTFOUND)
			r = 0;
	}
	/* Paid by another customer: none of this one's business. */
	if (r == ANFU_ENOTFOUND ||
	    (r == 0 && o->payer_id[0] && strcmp(o->payer_id, pr->user_id) && !requested))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	resp->body = me_order_json(o, &m, pr->user_id, requested);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* The list's own filter: status an order state. The rest of the query is
 * every list's (anfu_pay_api_page_query): limit 1..ANFU_LIMIT_PAY_PAGE
 * (ANFU_PAY_API_PAGE_DEFAULT), from and to ms, the MAC'd cursor of the
 * list's scope. */
static const char *my_orders_filters(struct anfu_req *req, const char *status, void *ud,
				     int *ret_err)
{
	(void)req;
	(void)ud;
	(void)ret_err;
	if (status && anfu_pay_state_parse(status, &(enum anfu_pay_state){ 0 }) < 0)
		return "status";
	return NULL;
}

int anfu_pay_api_me_orders(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_customer_order_query q;
	struct anfu_pay_customer_order *rows = NULL;
	struct anfu_pay_api_page pg;
	char scope[ANFU_ID_MAX + 16], next[ANFU_PAY_API_CURSOR_MAX];
	bool more;
	size_t n = 0;
	json_t *items;
	int r = anfu_pay_api_who(req, false, &p, &pr);

	if (r < 0)
		return r;
	memset(&q, 0, sizeof(q));
	q.customer_id = pr->user_id;
	/* Its own cursors: not the history's, not another customer's. */
	(void)snprintf(scope, sizeof(scope), "orders.c:%s", pr->user_id);
	r = anfu_pay_api_page_query(req,
				    &(struct anfu_pay_api_page_rules){
					    .scope = scope,
					    .limit_default = ANFU_PAY_API_PAGE_DEFAULT,
					    .limit_max = ANFU_LIMIT_PAY_PAGE,
					    .filters = my_orders_filters,
				    },
				    &pg);
	if (r < 0)
		return r;
	q.from_ms = pg.from_ms;
	q.to_ms = pg.to_ms;
	q.status = pg.status;
	q.after_ms = pg.after_ms;
	q.after_id = pg.after_id;
	q.limit = pg.limit;
	/* One row more than asked tells whether there is more. */
	rows = anfu_xcalloc(q.limit + 1, sizeof(*rows));
	q.limit++;
	r = anfu_pay_customer_orders(p, &q, rows, q.limit, &n);
	q.limit--;
	more = r == 0 && n > q.limit;
	next[0] = '\0';
	if (more) {
		n = q.limit;
		r = anfu_pay_api_cursor_make(req, scope, rows[n - 1].order.created_ms,
					     rows[n - 1].order.id, next);
	}
	items = r == 0 ? json_array() : NULL;
	for (size_t i = 0; items && i < n; i++)
		(void)json_array_append_new(items,
					    me_order_json(&rows[i].order, &rows[i].merchant,
							  pr->user_id, rows[i].requested_by_me));
	if (r == 0) {
		resp->body = json_pack("{s:o, s:s?}", "orders", items, "next_cursor",
				       next[0] ? next : NULL);
		r = resp->body ? 0 : ANFU_EINTERNAL;
	}
	free(rows);
	return r;
}

struct pay_body {
	struct anfu_str payment_password, request_id;
	/* The cashier page: the shuffled keypad's id and the positions
	 * pressed instead of payment_password (docs/web.md). */
	struct anfu_str keypad_id, positions;
};

static const struct anfu_jfield pay_fields[] = {
	{ "payment_password", ANFU_JT_SECRET, offsetof(struct pay_body, payment_password), false, 1,
	  16, NULL },
	{ "request_id", ANFU_JT_STRING, offsetof(struct pay_body, request_id), true, 1,
	  ANFU_LIMIT_WALLET_REQUEST_ID_BYTES, NULL },
	{ "keypad_id", ANFU_JT_STRING, offsetof(struct pay_body, keypad_id), false, 1, ANFU_ID_MAX,
	  NULL },
	{ "positions", ANFU_JT_SECRET, offsetof(struct pay_body, positions), false, 1,
	  ANFU_LIMIT_WEB_KEYPAD_PRESSES, NULL },
};

/* The PIN of body b into pin (cap bytes): payment_password, or the
 * cashier page's keypad (taken: single use). Exactly one of the two:
 * neither is missing_field payment_password, both or half a keypad
 * invalid_field. Returns 0 or the refusal failed on req. */
static int pin_of(struct anfu_req *req, const struct pay_body *b, char *pin, size_t cap)
{
	char *kid = NULL, *pos = NULL;
	int r;

	if (!b->keypad_id.ptr && !b->positions.ptr) {
		if (!b->payment_password.ptr)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD,
					     "payment_password");
		if (b->payment_password.len >= cap)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD,
					     "payment_password");
		memcpy(pin, b->payment_password.ptr, b->payment_password.len);
		pin[b->payment_password.len] = '\0';
		return 0;
	}
	if (b->payment_password.ptr || !b->keypad_id.ptr || !b->positions.ptr)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD,
				     b->payment_password.ptr ? "payment_password"
				     : b->keypad_id.ptr	     ? "positions"
							     : "keypad_id");
	r = anfu_arena_strndup(req->arena, b->keypad_id.ptr, b->keypad_id.len, &kid);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, b->positions.ptr, b->positions.len, &pos);
	if (r < 0)
		return r;
	return anfu_pay_api_keypad_pin(req, kid, pos, pin, cap);
}

int anfu_pay_api_me_pay(struct anfu_req *req, struct anfu_resp *resp)
{
	char *id = NULL;
	int r = anfu_api_path_id(req, "ord", &id);

	return r < 0 ? r : anfu_pay_api_pay_order(req, resp, id, NULL);
}

int anfu_pay_api_pay_order(struct anfu_req *req, struct anfu_resp *resp, const char *id,
			   const char *share_token)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct pay_body b;
	struct anfu_pay_pay_req q;
	struct anfu_pay_payment *out = NULL;
	struct anfu_iam_pin_ok pin = { 0 };
	struct anfu_iam_ctx ctx;
	struct anfu_actor actor;
	/* payment_password: at most 16 characters of up to 4 bytes each. */
	char digits[16 * 4 + 1];
	int r;

	memset(&b, 0, sizeof(b));
	r = anfu_pay_api_who(req, false, &p, &pr);
	if (r < 0)
		return r;
	r = anfu_req_json(req, pay_fields, NFIELDS(pay_fields), &b);
	if (r < 0 && req->err_code && strcmp(req->err_field, "positions") == 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_WEB_KEYPAD_POSITIONS, "positions");
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*out), (void **)&out);
	if (r < 0)
		return r;
	r = pin_of(req, &b, digits, sizeof(digits));
	if (r < 0)
		return r;
	r = anfu_pay_api_pin(req, &ctx, pr, digits, &pin);
	anfu_wipe(digits, sizeof(digits));
	if (r < 0)
		return r;
	q = (struct anfu_pay_pay_req){ id,	   pr->user_id,	   b.request_id.ptr,
				       pr->mfa_ms, pr->mfa_method, &pin,
				       share_token };
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_pay(p, &actor, &q, out);
	if (r < 0)
		return r;
	if (out->code)
		return anfu_pay_api_refuse(req, out->code, out->field, ANFU_R_PAY_ORDER_NOT_FOUND,
					   ANFU_R_PAY_SHARE_NOT_FOUND);
	resp->status = out->existed ? 200 : 201;
	resp->body = json_pack(
		"{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:s, s:s, s:s?, s:b}", "id", out->id,
		"order_id", out->order_id, "status", "succeeded", "amount", (json_int_t)out->amount,
		"currency", "CNY", "fee", (json_int_t)out->fee, "created_ms",
		(json_int_t)out->created_ms, "auth", out->auth, "ledger_transfer", out->ledger_id,
		"fee_ledger_transfer", out->fee_ledger_id[0] ? out->fee_ledger_id : NULL, "existed",
		out->existed);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_me_cancel(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_order *o = NULL;
	const char *code = NULL;
	int r = anfu_pay_api_cancel(req, false, &pr, &o, &code);

	if (r < 0)
		return r;
	/* Paid by another customer: none of this one's business. */
	if (code && strcmp(code, ANFU_R_PAY_ORDER_PAID) == 0 && o->payer_id[0] &&
	    strcmp(o->payer_id, pr->user_id) != 0)
		code = ANFU_R_PAY_ORDER_NOT_FOUND;
	if (code)
		return anfu_pay_api_refuse(req, code, NULL, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	resp->body = json_pack("{s:s, s:s}", "id", o->id, "state", anfu_pay_state_name(o->state));
	return resp->body ? 0 : ANFU_EINTERNAL;
}
