/*
 * points/api/json: what the points handlers share: the actor of a
 * request, the JSON of an item and of a redemption, the response.
 *
 * Trusts the authenticator for the actor fields.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "http/http.h"
#include "points/api/module.h"
#include "points/points.h"

void anfu_points_api_actor(const struct anfu_req *req, struct anfu_actor *ret)
{
	ret->id = req->actor_id;
	ret->type = req->actor_type ? req->actor_type : "";
	ret->role = req->actor_role ? req->actor_role : "";
	ret->ip = req->client_ip;
	ret->device = "";
	ret->request_id = req->request_id;
}

json_t *anfu_points_api_item_json(const struct anfu_points_item *it)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:I}", "id", it->id, "name_zh",
			      it->name_zh, "name_en", it->name_en, "price", (json_int_t)it->price,
			      "stock", (json_int_t)it->stock, "active", it->active, "created_ms",
			      (json_int_t)it->created_ms, "updated_ms", (json_int_t)it->updated_ms);

	if (!o)
		abort();
	return o;
}

json_t *anfu_points_api_redemption_json(const struct anfu_points_redemption *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:I}", "id", d->id,
			      "request_id", d->request_id, "type", d->type, "state", d->state,
			      "points", (json_int_t)d->points, "quantity", (json_int_t)d->quantity,
			      "value_fen", (json_int_t)d->value_fen, "currency", "CNY", "item_id",
			      d->item_id, "created_ms", (json_int_t)d->created_ms);

	if (!o)
		abort();
	if (json_object_set_new(o, "cancelled_ms",
				d->cancelled_ms ? json_integer(d->cancelled_ms) : json_null()) != 0)
		abort();
	return o;
}

int anfu_points_api_json_out(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

int anfu_points_api_items_out(struct anfu_points *p, bool active_only, struct anfu_resp *resp)
{
	struct anfu_points_item *items;
	json_t *list = json_array();
	size_t n = 0;
	int r;

	if (!list)
		abort();
	items = anfu_xcalloc(ANFU_LIMIT_POINTS_PAGE, sizeof(*items));
	r = anfu_points_items(p, active_only, items, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (json_array_append_new(list, anfu_points_api_item_json(&items[i])) != 0)
			abort();
	free(items);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	return anfu_points_api_json_out(resp, 200, json_pack("{s:o}", "items", list));
}

bool anfu_points_api_request_id_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '-'))
			return false;
	}
	return true;
}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

struct cancel_body {
	struct anfu_str reason;
};

/* An operator must give a reason; a customer may. */
static const struct anfu_jfield staff_cancel_fields[] = {
	{ "reason", ANFU_JT_STRING, offsetof(struct cancel_body, reason), true, 1,
	  ANFU_LIMIT_ADMIN_REASON_API, NULL },
};

static const struct anfu_jfield customer_cancel_fields[] = {
	{ "reason", ANFU_JT_STRING, offsetof(struct cancel_body, reason), false, 1,
	  ANFU_LIMIT_ADMIN_REASON_API, NULL },
};

int anfu_points_api_cancel_run(struct anfu_req *req, bool customer,
			       struct anfu_points_redemption *ret, struct anfu_points_outcome *out)
{
	struct anfu_points *p = anfu_api_service(req->app, &anfu_points_module);
	const struct anfu_jfield *fields = customer ? customer_cancel_fields : staff_cancel_fields;
	size_t nfields = customer ? NFIELDS(customer_cancel_fields) : NFIELDS(staff_cancel_fields);
	struct cancel_body b;
	struct anfu_actor actor;
	const char *reason;
	char *id = NULL;
	int r = anfu_api_path_id(req, "prd", &id);

	memset(&b, 0, sizeof(b));
	/* A customer may send no body at all. */
	if (r == 0 && (!customer || req->body_len > 0))
		r = anfu_req_json(req, fields, nfields, &b);
	if (r < 0)
		return r;
	if (!p || (customer && !req->actor_id))
		return ANFU_EINTERNAL;
	reason = b.reason.ptr;
	if (customer && !reason)
		reason = "cancelled by the customer";
	anfu_points_api_actor(req, &actor);
	return anfu_points_cancel(p, &actor, customer ? req->actor_id : NULL, id, reason, ret, out);
}
