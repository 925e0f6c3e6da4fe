/*
 * pay/api/behalf: customers' routes of pay-on-behalf (代付; FUNC-PAY-17;
 * docs/payments.md, "Pay-on-behalf"):
 *
 * POST /api/v1/me/orders/{id}/share -> 201 {order_id, token, link,
 *   expires_ms}: the requester shares an unpaid order (sharing again
 *   replaces the token); another customer's share: 404 order_not_found.
 * GET /api/v1/me/shared-orders/{token} -> 200 {order_id, expires_ms,
 *   requested_by_me}: the payer opens the link (then reads the order at
 *   GET /api/v1/me/orders/{order_id}).
 * POST /api/v1/me/shared-orders/{token}/pay {payment_password,
 *   request_id} -> as POST /api/v1/me/orders/{id}/pay, the link
 *   re-checked at commit.
 * A wrong token: 404 share_not_found; an expired one: 409 share_expired.
 *
 * Trusts the service for every rule.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

static int refusal(struct anfu_req *req, const char *code)
{
	return anfu_pay_api_refuse(req, code, NULL, ANFU_R_PAY_ORDER_NOT_FOUND,
				   ANFU_R_PAY_SHARE_NOT_FOUND);
}

int anfu_pay_api_me_share(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = NULL;
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_share s;
	struct anfu_actor actor;
	const char *code = NULL;
	char link[2 * ANFU_ID_MAX + 32];
	char *id = NULL;
	int r;

	r = anfu_pay_api_who(req, false, &p, &pr);
	if (r == 0)
		r = anfu_api_path_id(req, "ord", &id);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_share_create(p, &actor, id, pr->user_id, &s, &code);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code);
	(void)snprintf(link, sizeof(link), "/pay/%s?share=%s", s.order_id, s.token);
	resp->status = 201;
	resp->body = json_pack("{s:s, s:s, s:s, s:I}", "order_id", s.order_id, "token", s.token,
			       "link", link, "expires_ms", (json_int_t)s.expires_ms);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* The share of the path's token, or the request failed. */
static int resolve(struct anfu_req *req, struct anfu_pay_share *s, char **ret_token)
{
	struct anfu_db *db = NULL;
	const char *code = NULL;
	int r = anfu_api_path_id(req, "shr", ret_token);

	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_share_resolve(db, *ret_token, anfu_clock_now_ms(), s, &code);
	if (r == 0 && code)
		return refusal(req, code);
	return r;
}

int anfu_pay_api_shared_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = anfu_pay_api_customer(req);
	struct anfu_pay_share s;
	char *token = NULL;
	int r;

	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = resolve(req, &s, &token);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s, s:I, s:b}", "order_id", s.order_id, "expires_ms",
			       (json_int_t)s.expires_ms, "requested_by_me",
			       strcmp(s.requester_id, pr->user_id) == 0);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_shared_pay(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay_share s;
	char *token = NULL, *id = NULL;
	int r;

	if (!anfu_pay_api_customer(req))
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = resolve(req, &s, &token);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, s.order_id, strlen(s.order_id), &id);
	if (r < 0)
		return r;
	return anfu_pay_api_pay_order(req, resp, id, token);
}
