/*
 * points/api/admin: the operators' points routes on the admin listener
 * (docs/points.md "API", "Who"):
 *
 * GET  /admin/v1/points/items               points.read
 * POST /admin/v1/points/items {name_zh, name_en, price, stock, active?}
 *                                           points.catalogue.manage -> 201
 * POST /admin/v1/points/items/{id} {name_zh?, name_en?, price?, stock?,
 *      active?}                             points.catalogue.manage
 * GET  /admin/v1/points/campaigns           points.read
 * POST /admin/v1/points/campaigns {merchant_id, multiplier_pct, bonus?,
 *      starts_ms, ends_ms}                  points.campaign.manage -> 201
 * POST /admin/v1/points/campaigns/{id} {active}  points.campaign.manage
 * POST /admin/v1/points/grants {customer_id, points, reason, request_id}
 *                                           points.grant -> 201 (200 replayed)
 * POST /admin/v1/points/redemptions/{id}/cancel {reason}
 *                                           points.redemption.cancel
 *
 * The route's permission is checked by the authenticator; the service
 * audits every change as the operator. No SQL here.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "http/http.h"
#include "points/api/module.h"
#include "points/points.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static struct anfu_points *svc(struct anfu_req *req)
{
	return anfu_api_service(req->app, &anfu_points_module);
}

int anfu_points_api_admin_items(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);

	if (!p)
		abort();
	return anfu_points_api_items_out(p, false, resp);
}

struct item_body {
	struct anfu_str name_zh, name_en;
	struct anfu_opt_i64 price, stock;
	struct anfu_opt_bool active;
};

static const struct anfu_jfield item_fields[] = {
	{ "name_zh", ANFU_JT_STRING, offsetof(struct item_body, name_zh), true, 1,
	  ANFU_LIMIT_POINTS_NAME, NULL },
	{ "name_en", ANFU_JT_STRING, offsetof(struct item_body, name_en), true, 1,
	  ANFU_LIMIT_POINTS_NAME, NULL },
	{ "price", ANFU_JT_INT, offsetof(struct item_body, price), true, 1,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "stock", ANFU_JT_INT, offsetof(struct item_body, stock), true, 0,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "active", ANFU_JT_BOOL, offsetof(struct item_body, active), false, 0, 0, NULL },
};

static const struct anfu_jfield item_change_fields[] = {
	{ "name_zh", ANFU_JT_STRING, offsetof(struct item_body, name_zh), false, 1,
	  ANFU_LIMIT_POINTS_NAME, NULL },
	{ "name_en", ANFU_JT_STRING, offsetof(struct item_body, name_en), false, 1,
	  ANFU_LIMIT_POINTS_NAME, NULL },
	{ "price", ANFU_JT_INT, offsetof(struct item_body, price), false, 1,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "stock", ANFU_JT_INT, offsetof(struct item_body, stock), false, 0,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "active", ANFU_JT_BOOL, offsetof(struct item_body, active), false, 0, 0, NULL },
};

int anfu_points_api_admin_item_add(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct item_body b;
	struct anfu_actor actor;
	struct anfu_points_item in, out;
	int r;

	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, item_fields, NFIELDS(item_fields), &b);
	if (r < 0)
		return r;
	(void)snprintf(in.name_zh, sizeof(in.name_zh), "%s", b.name_zh.ptr);
	(void)snprintf(in.name_en, sizeof(in.name_en), "%s", b.name_en.ptr);
	in.price = b.price.v;
	in.stock = b.stock.v;
	in.active = b.active.set ? b.active.v : true;
	anfu_points_api_actor(req, &actor);
	r = anfu_points_item_add(p, &actor, &in, &out);
	if (r < 0)
		return r;
	return anfu_points_api_json_out(
		resp, 201, json_pack("{s:o}", "item", anfu_points_api_item_json(&out)));
}

int anfu_points_api_admin_item_update(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct item_body b;
	struct anfu_actor actor;
	struct anfu_points_item out;
	struct anfu_points_item_change c;
	char *id = NULL;
	int r = anfu_api_path_id(req, "pit", &id);

	memset(&b, 0, sizeof(b));
	if (r == 0)
		r = anfu_req_json(req, item_change_fields, NFIELDS(item_change_fields), &b);
	if (r < 0)
		return r;
	if (!p)
		return ANFU_EINTERNAL;
	c.name_zh = b.name_zh.ptr;
	c.name_en = b.name_en.ptr;
	c.price = b.price.set ? b.price.v : -1;
	c.stock = b.stock.set ? b.stock.v : -1;
	c.active = b.active.set ? (int)b.active.v : -1;
	anfu_points_api_actor(req, &actor);
	r = anfu_points_item_update(p, &actor, id, &c, &out);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_POINTS_ITEM_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return anfu_points_api_json_out(
		resp, 200, json_pack("{s:o}", "item", anfu_points_api_item_json(&out)));
}

static json_t *campaign_json(const struct anfu_points_campaign *c)
{
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:I}", "id", c->id, "merchant_id",
			  c->merchant_id, "multiplier_pct", (json_int_t)c->boost.multiplier_pct,
			  "bonus", (json_int_t)c->boost.bonus, "starts_ms",
			  (json_int_t)c->starts_ms, "ends_ms", (json_int_t)c->ends_ms, "active",
			  c->active, "created_ms", (json_int_t)c->created_ms);

	if (!o)
		abort();
	return o;
}

int anfu_points_api_admin_campaigns(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct anfu_points_campaign *cs;
	json_t *list = json_array();
	size_t n = 0;
	int r;

	if (!p || !list)
		abort();
	cs = anfu_xcalloc(ANFU_LIMIT_POINTS_PAGE, sizeof(*cs));
	r = anfu_points_campaigns(p, cs, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (json_array_append_new(list, campaign_json(&cs[i])) != 0)
			abort();
	free(cs);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	return anfu_points_api_json_out(resp, 200, json_pack("{s:o}", "campaigns", list));
}

static bool merchant_ok(const char *s, size_t len)
{
	return anfu_id_valid("mer", s, len);
}

struct campaign_body {
	struct anfu_str merchant_id;
	struct anfu_opt_i64 multiplier_pct, bonus, starts_ms, ends_ms;
	struct anfu_opt_bool active;
};

static const struct anfu_jfield campaign_fields[] = {
	{ "merchant_id", ANFU_JT_STRING, offsetof(struct campaign_body, merchant_id), true, 1,
	  ANFU_ID_MAX - 1, merchant_ok },
	{ "multiplier_pct", ANFU_JT_INT, offsetof(struct campaign_body, multiplier_pct), true, 1,
	  ANFU_LIMIT_POINTS_MULTIPLIER_PCT, NULL },
	{ "bonus", ANFU_JT_INT, offsetof(struct campaign_body, bonus), false, 0,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "starts_ms", ANFU_JT_INT, offsetof(struct campaign_body, starts_ms), true, 0, INT64_MAX,
	  NULL },
	{ "ends_ms", ANFU_JT_INT, offsetof(struct campaign_body, ends_ms), true, 0, INT64_MAX,
	  NULL },
};

static const struct anfu_jfield campaign_change_fields[] = {
	{ "active", ANFU_JT_BOOL, offsetof(struct campaign_body, active), true, 0, 0, NULL },
};

int anfu_points_api_admin_campaign_add(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct campaign_body b;
	struct anfu_actor actor;
	struct anfu_points_campaign in, out;
	int r;

	memset(&b, 0, sizeof(b));
	memset(&in, 0, sizeof(in));
	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, campaign_fields, NFIELDS(campaign_fields), &b);
	if (r < 0)
		return r;
	if (b.ends_ms.v <= b.starts_ms.v)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_POINTS_WINDOW_INVALID, "ends_ms");
	(void)snprintf(in.merchant_id, sizeof(in.merchant_id), "%s", b.merchant_id.ptr);
	in.boost.multiplier_pct = b.multiplier_pct.v;
	in.boost.bonus = b.bonus.set ? b.bonus.v : 0;
	in.starts_ms = b.starts_ms.v;
	in.ends_ms = b.ends_ms.v;
	in.active = true;
	anfu_points_api_actor(req, &actor);
	r = anfu_points_campaign_add(p, &actor, &in, &out);
	if (r < 0)
		return r;
	return anfu_points_api_json_out(resp, 201,
					json_pack("{s:o}", "campaign", campaign_json(&out)));
}

int anfu_points_api_admin_campaign_update(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct campaign_body b;
	struct anfu_actor actor;
	struct anfu_points_campaign out;
	char *id = NULL;
	int r = anfu_api_path_id(req, "pcm", &id);

	memset(&b, 0, sizeof(b));
	if (r == 0)
		r = anfu_req_json(req, campaign_change_fields, NFIELDS(campaign_change_fields), &b);
	if (r < 0)
		return r;
	if (!p)
		return ANFU_EINTERNAL;
	anfu_points_api_actor(req, &actor);
	r = anfu_points_campaign_set_active(p, &actor, id, b.active.v, &out);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_POINTS_CAMPAIGN_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return anfu_points_api_json_out(resp, 200,
					json_pack("{s:o}", "campaign", campaign_json(&out)));
}

static bool customer_ok(const char *s, size_t len)
{
	return anfu_id_valid("usr", s, len);
}

struct grant_body {
	struct anfu_str customer_id, reason, request_id;
	struct anfu_opt_i64 points;
};

/* "grant." + the request id is the earning's ref. */
static const struct anfu_jfield grant_fields[] = {
	{ "customer_id", ANFU_JT_STRING, offsetof(struct grant_body, customer_id), true, 1,
	  ANFU_ID_MAX - 1, customer_ok },
	{ "points", ANFU_JT_INT, offsetof(struct grant_body, points), true, 1,
	  ANFU_LIMIT_POINTS_AMOUNT, NULL },
	{ "reason", ANFU_JT_STRING, offsetof(struct grant_body, reason), true, 1,
	  ANFU_LIMIT_ADMIN_REASON_API, NULL },
	{ "request_id", ANFU_JT_STRING, offsetof(struct grant_body, request_id), true, 1,
	  ANFU_LIMIT_POINTS_REF - 6, anfu_points_api_request_id_ok },
};

int anfu_points_api_admin_grant(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points *p = svc(req);
	struct grant_body b;
	struct anfu_actor actor;
	struct anfu_points_earn e = { 0 };
	struct anfu_points_earn_result res;
	char ref[ANFU_LIMIT_POINTS_REF + 1];
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, grant_fields, NFIELDS(grant_fields), &b);
	if (r < 0)
		return r;
	(void)snprintf(ref, sizeof(ref), "grant.%s", b.request_id.ptr);
	e.customer_id = b.customer_id.ptr;
	e.points = b.points.v;
	e.ref = ref;
	e.reason = b.reason.ptr;
	anfu_points_api_actor(req, &actor);
	r = anfu_points_grant(p, &actor, &e, &res);
	if (r < 0)
		return r;
	if (res.code)
		return anfu_req_fail(req, ANFU_ECONFLICT, res.code, NULL);
	return anfu_points_api_json_out(resp, res.existed ? 200 : 201,
					json_pack("{s:{s:s, s:s, s:I, s:I}}", "grant", "id", res.id,
						  "customer_id", e.customer_id, "points",
						  (json_int_t)res.points, "balance",
						  (json_int_t)res.balance));
}

int anfu_points_api_admin_cancel(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_points_redemption d;
	struct anfu_points_outcome o = { 0 };
	int r = anfu_points_api_cancel_run(req, false, &d, &o);

	if (r < 0)
		return r;
	if (o.code)
		return anfu_req_fail(req, ANFU_ECONFLICT, o.code, NULL);
	return anfu_points_api_json_out(
		resp, 200, json_pack("{s:o}", "redemption", anfu_points_api_redemption_json(&d)));
}
