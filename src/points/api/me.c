/*
 * points/api/me: the customer's points routes (docs/points.md "API"):
 *
 * GET  /api/v1/me/points                -> {balance, asset, redeem_unit}
 * GET  /api/v1/me/points/history?cursor=&limit=
 *                                       -> {entries[], next_cursor}
 * GET  /api/v1/me/points/catalogue      -> {items[]} (active items)
 * GET  /api/v1/me/points/redemptions    -> {redemptions[]}
 * POST /api/v1/me/points/redemptions {request_id, type: item|value,
 *      item_id?, quantity?, points?}    -> 201 {redemption} (200 replayed)
 * POST /api/v1/me/points/redemptions/{id}/cancel {reason?}
 *                                       -> 200 {redemption}
 *
 * Trusts the session authenticator (the principal and its permission);
 * every lookup is the signed-in customer's own. No SQL here.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "http/http.h"
#include "points/api/module.h"
#include "points/points.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
/* Asia/Shanghai: UTC+8, no daylight saving time. */

static struct anfu_points *svc(struct anfu_req *req)
{
	return anfu_api_service(req->app, &anfu_points_module);
}

int anfu_points_api_balance(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	const struct anfu_points_config *cfg;
	int64_t bal = 0;
	int r;

	if (!p || !req->actor_id)
		return ANFU_EINTERNAL;
	cfg = anfu_points_config(p);
	r = anfu_points_balance(p, req->actor_id, &bal);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return anfu_points_api_json_out(
		resp, 200,
		json_pack("{s:I, s:s, s:{s:I, s:I, s:s}}", "balance", (json_int_t)bal, "asset",
			  "POINTS", "redeem_unit", "points", (json_int_t)cfg->redeem_unit_points,
			  "fen", (json_int_t)cfg->redeem_unit_fen, "currency", "CNY"));
}

static int query_limit(struct anfu_req *req, size_t *ret)
{
	const char *s = anfu_req_query(req, "limit");
	size_t v = 0;

	if (!s) {
		*ret = 20;
		return 0;
	}
	for (size_t i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (v < 1 || v > ANFU_LIMIT_POINTS_PAGE)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
	*ret = v;
	return 0;
}

int anfu_points_api_history(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct anfu_points_entry *e = NULL;
	char next[ANFU_POINTS_CURSOR_MAX];
	json_t *list;
	size_t limit = 0, n = 0;
	int r;

	if (!p || !req->actor_id)
		return ANFU_EINTERNAL;
	r = query_limit(req, &limit);
	if (r < 0)
		return r;
	e = anfu_xcalloc(limit, sizeof(*e));
	r = anfu_points_history(p, req->actor_id, anfu_req_query(req, "cursor"), limit, e, &n,
				next);
	if (r == ANFU_EINVAL)
		r = anfu_req_fail(req, r, ANFU_JERR_INVALID_FIELD, "cursor");
	if (r < 0) {
		free(e);
		return r;
	}
	list = json_array();
	for (size_t i = 0; list && i < n; i++) {
		char date[16], tod[16];

		anfu_clock_format_cn(e[i].created_ms, date, tod);
		if (json_array_append_new(list,
					  json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "n",
						    (json_int_t)e[i].n, "date", date, "time", tod,
						    "created_ms", (json_int_t)e[i].created_ms,
						    "change", (json_int_t)e[i].change, "balance",
						    (json_int_t)e[i].balance, "reason", e[i].reason,
						    "ref", e[i].ref)) != 0)
			abort();
	}
	free(e);
	if (!list)
		abort();
	return anfu_points_api_json_out(resp, 200,
					json_pack("{s:o, s:o}", "entries", list, "next_cursor",
						  next[0] ? json_string(next) : json_null()));
}

int anfu_points_api_catalogue(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);

	if (!p)
		abort();
	return anfu_points_api_items_out(p, true, resp);
}

int anfu_points_api_redemptions(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct anfu_points_redemption *d;
	json_t *list = json_array();
	size_t n = 0;
	int r;

	if (!p || !list || !req->actor_id)
		abort();
	d = anfu_xcalloc(ANFU_LIMIT_POINTS_PAGE, sizeof(*d));
	r = anfu_points_redemptions(p, req->actor_id, d, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (json_array_append_new(list, anfu_points_api_redemption_json(&d[i])) != 0)
			abort();
	free(d);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	return anfu_points_api_json_out(resp, 200, json_pack("{s:o}", "redemptions", list));
}

struct redeem_body {
	struct anfu_str request_id, type, item_id;
	struct anfu_opt_i64 quantity, points;
};

static const struct anfu_jfield redeem_fields[] = {
	{ "request_id", ANFU_JT_STRING, offsetof(struct redeem_body, request_id), true, 1,
	  ANFU_LIMIT_POINTS_REQUEST_ID, anfu_points_api_request_id_ok },
	{ "type", ANFU_JT_STRING, offsetof(struct redeem_body, type), true, 1, 8, NULL },
	{ "item_id", ANFU_JT_STRING, offsetof(struct redeem_body, item_id), false, 1,
	  ANFU_ID_MAX - 1, NULL },
	{ "quantity", ANFU_JT_INT, offsetof(struct redeem_body, quantity), false, 1,
	  ANFU_LIMIT_POINTS_QUANTITY, NULL },
	{ "points", ANFU_JT_INT, offsetof(struct redeem_body, points), false, 1,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
};

static int outcome(struct anfu_req *req, struct anfu_resp *resp,
		   const struct anfu_points_redemption *d, const struct anfu_points_outcome *o,
		   int created)
{
	json_t *body;

	if (o->code)
		return anfu_req_fail(req, ANFU_ECONFLICT, o->code, NULL);
	body = json_pack("{s:o, s:I}", "redemption", anfu_points_api_redemption_json(d), "balance",
			 (json_int_t)d->balance);
	return anfu_points_api_json_out(resp, o->existed ? 200 : created, body);
}

int anfu_points_api_redeem(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct redeem_body b;
	struct anfu_actor actor;
	struct anfu_points_redeem in = { 0 };
	struct anfu_points_redemption d;
	struct anfu_points_outcome o = { 0 };
	int r;

	memset(&b, 0, sizeof(b));
	if (!p || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, redeem_fields, NFIELDS(redeem_fields), &b);
	if (r < 0)
		return r;
	in.customer_id = req->actor_id;
	in.request_id = b.request_id.ptr;
	if (anfu_str_eqc(b.type, "item")) {
		if (!b.item_id.ptr)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD, "item_id");
		if (b.points.set)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "points");
		in.type = ANFU_POINTS_REDEEM_ITEM;
		in.item_id = b.item_id.ptr;
		in.quantity = b.quantity.set ? b.quantity.v : 1;
	} else if (anfu_str_eqc(b.type, "value")) {
		if (!b.points.set)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD, "points");
		if (b.item_id.ptr || b.quantity.set)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD,
					     b.item_id.ptr ? "item_id" : "quantity");
		in.type = ANFU_POINTS_REDEEM_VALUE;
		in.points = b.points.v;
	} else {
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "type");
	}
	anfu_points_api_actor(req, &actor);
	r = anfu_points_redeem(p, &actor, &in, &d, &o);
	if (r < 0)
		return r;
	return outcome(req, resp, &d, &o, 201);
}

int anfu_points_api_cancel(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points_redemption d;
	struct anfu_points_outcome o = { 0 };
	int r = anfu_points_api_cancel_run(req, true, &d, &o);

	if (r < 0)
		return r;
	return outcome(req, resp, &d, &o, 200);
}
