/*
 * dispute/api/handlers: the dispute routes (docs/disputes.md, "Routes";
 * docs/openapi.yaml):
 *
 * customers (a customer session):
 *   POST /api/v1/me/disputes {kind, ref, category, description} -> 201
 *   GET  /api/v1/me/disputes?cursor -> 200 {items, next_cursor}: the
 *        disputes they lodged and those about their transactions
 *        (counterparty: read only)
 *   GET  /api/v1/me/disputes/{id} -> 200 the dispute with its events
 *   POST /api/v1/me/disputes/{id}/confirm | /withdraw -> 200 (own only)
 *   POST /api/v1/me/disputes/{id}/messages {text} -> 201 (own only)
 *   POST /api/v1/me/disputes/{id}/reopen {reason} -> 200 (own only)
 * merchant users (a merchant session; read only, their merchant's):
 *   GET  /api/v1/merchant/disputes?cursor, /api/v1/merchant/disputes/{id}
 * operators (dispute.read, dispute.handle):
 *   GET  /admin/v1/disputes?state&cursor, /admin/v1/disputes/{id}
 *   POST /admin/v1/disputes/{id}/take, /resolve {resolution,
 *        refund_amount?}, /messages {text}
 *
 * Someone else's dispute is dispute_not_found (404), never 403: its
 * existence is not told. Decodes from allowlists; the service decides
 * every rule. No SQL here.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
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
#include "dispute/api/module.h"
#include "dispute/dispute.h"
#include "http/http.h"
#include "iam/iam.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Who asks, and so how much of a dispute they see. */
enum view {
	VIEW_CUSTOMER,
	VIEW_COUNTERPARTY,
	VIEW_MERCHANT,
	VIEW_OPERATOR
};

static struct anfu_actor actor_of(const struct anfu_req *req)
{
	const char *dev = anfu_req_header(req, "X-Device-Id");

	return (struct anfu_actor){
		.id = req->actor_id ? req->actor_id : "",
		.type = req->actor_type ? req->actor_type : "",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = dev ? dev : "",
		.request_id = req->request_id,
	};
}

static const struct anfu_principal *of_kind(const struct anfu_req *req, enum anfu_user_kind k)
{
	const struct anfu_principal *p = req->principal;

	return p && p->kind == k ? p : NULL;
}

static int refused(struct anfu_req *req, const char *code)
{
	return anfu_req_fail(req, ANFU_ECONFLICT, code, NULL);
}

static json_t *dispute_json(const struct anfu_dispute *x, enum view v)
{
	const struct anfu_dispute_subject *s = &x->subject;
	json_t *o = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s,s:{s:I,s:s},s:I,s:I,s:I,s:I,s:I}",
		"id", x->id, "kind", x->kind, "ref", x->ref, "state", x->state, "category",
		x->category, "reason", x->reason, "amount", (json_int_t)s->amount, "currency",
		s->currency, "description", s->description, "subject_time_ms",
		(json_int_t)s->time_ms, "resolution", x->resolution, "refund", "amount",
		(json_int_t)x->refund_amount, "state", x->refund_state, "created_ms",
		(json_int_t)x->created_ms, "taken_ms", (json_int_t)x->taken_ms, "resolved_ms",
		(json_int_t)x->resolved_ms, "closed_ms", (json_int_t)x->closed_ms, "updated_ms",
		(json_int_t)x->updated_ms);

	if (!o)
		return NULL;
	(void)json_object_set_new(o, "reopens", json_integer((json_int_t)x->reopens));
	if (v == VIEW_CUSTOMER || v == VIEW_COUNTERPARTY)
		(void)json_object_set_new(
			o, "role",
			json_string(v == VIEW_CUSTOMER ? "complainant" : "counterparty"));
	if (v == VIEW_OPERATOR) {
		(void)json_object_set_new(o, "customer_id", json_string(s->customer_id));
		(void)json_object_set_new(o, "counterparty_id", json_string(s->counterparty_id));
		(void)json_object_set_new(o, "merchant_id", json_string(s->merchant_id));
		(void)json_object_set_new(o, "operator_id", json_string(x->operator_id));
		(void)json_object_set_new(o, "refund_ref", json_string(x->refund_ref));
	}
	return o;
}

/* The dispute with its events (operators see who acted). */
static int detail(struct anfu_req *req, struct anfu_resp *resp, const struct anfu_dispute *x,
		  enum view v)
{
	struct anfu_disputes *d = anfu_dispute_api_service(req);
	struct anfu_dispute_event_row *ev = anfu_xcalloc(ANFU_LIMIT_DISPUTE_EVENTS, sizeof(*ev));
	json_t *o = NULL, *list = NULL;
	size_t n = 0;
	int r = anfu_dispute_events(d, x->id, ev, ANFU_LIMIT_DISPUTE_EVENTS, &n);

	if (r < 0)
		goto out;
	r = ANFU_EINTERNAL;
	o = dispute_json(x, v);
	list = json_array();
	if (!o || !list)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)ev[i].seq,
				      "at_ms", (json_int_t)ev[i].at_ms, "event", ev[i].event,
				      "from", ev[i].from_state, "to", ev[i].to_state, "note",
				      ev[i].note, "actor_type", ev[i].actor_type);

		if (e && v == VIEW_OPERATOR)
			(void)json_object_set_new(e, "actor_id", json_string(ev[i].actor_id));
		if (!e || json_array_append_new(list, e) != 0)
			goto out;
	}
	if (json_object_set_new(o, "events", list) != 0) {
		list = NULL;
		goto out;
	}
	list = NULL;
	resp->body = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	json_decref(list);
	free(ev);
	return r;
}

/* "<created_ms>.<id>" of a list's last item, or absent. */
static int cursor_parse(struct anfu_req *req, struct anfu_dispute_filter *f)
{
	const char *c = anfu_req_query(req, "cursor");
	char *end = NULL;
	long long ms;

	if (!c || !*c)
		return 0;
	ms = strtoll(c, &end, 10);
	if (end == c || *end != '.' || ms < 0 || strlen(end + 1) == 0 ||
	    strlen(end + 1) >= ANFU_ID_MAX)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_INVALID_REQUEST, "cursor");
	f->after_ms = ms;
	f->after_id = end + 1;
	return 0;
}

static int list(struct anfu_req *req, struct anfu_resp *resp, struct anfu_dispute_filter *f,
		const char *me, enum view v)
{
	struct anfu_disputes *d = anfu_dispute_api_service(req);
	struct anfu_dispute *xs = anfu_xcalloc(ANFU_LIMIT_DISPUTE_PAGE, sizeof(*xs));
	json_t *items = json_array();
	char next[ANFU_ID_MAX + 24] = "";
	size_t n = 0;
	int r = cursor_parse(req, f);

	if (r == 0)
		r = anfu_dispute_list(d, f, xs, ANFU_LIMIT_DISPUTE_PAGE, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		enum view iv = v;

		if (me)
			iv = strcmp(xs[i].subject.customer_id, me) == 0 ? VIEW_CUSTOMER
									: VIEW_COUNTERPARTY;
		if (!items || json_array_append_new(items, dispute_json(&xs[i], iv)) != 0)
			r = ANFU_EINTERNAL;
	}
	if (r == 0 && n == ANFU_LIMIT_DISPUTE_PAGE)
		(void)snprintf(next, sizeof(next), "%" PRId64 ".%s", xs[n - 1].created_ms,
			       xs[n - 1].id);
	if (r == 0) {
		resp->body = json_pack("{s:o,s:s?}", "items", items, "next_cursor",
				       next[0] ? next : NULL);
		items = NULL;
		r = resp->body ? 0 : ANFU_EINTERNAL;
	}
	json_decref(items);
	free(xs);
	return r;
}

/* The dispute id of the path, or dispute_not_found. */
static int load(struct anfu_req *req, struct anfu_dispute *x)
{
	struct anfu_str id = anfu_req_param(req, "id");
	char buf[ANFU_ID_MAX];
	int r;

	if (!id.ptr || id.len == 0 || id.len >= sizeof(buf))
		return refused(req, ANFU_R_DISPUTE_NOT_FOUND);
	memcpy(buf, id.ptr, id.len);
	buf[id.len] = '\0';
	r = anfu_dispute_get(anfu_dispute_api_service(req), buf, x);
	if (r == ANFU_ENOTFOUND)
		return refused(req, ANFU_R_DISPUTE_NOT_FOUND);
	return r;
}

/* The path's id as a C string in the request's arena. */
static int path_id(struct anfu_req *req, const char **ret)
{
	struct anfu_str id = anfu_req_param(req, "id");
	char *s = NULL;

	if (!id.ptr || id.len == 0 || id.len >= ANFU_ID_MAX)
		return refused(req, ANFU_R_DISPUTE_NOT_FOUND);
	if (anfu_arena_strndup(req->arena, id.ptr, id.len, &s) < 0)
		return ANFU_EINTERNAL;
	*ret = s;
	return 0;
}

static int answer(struct anfu_req *req, struct anfu_resp *resp, int r, const char *refusal,
		  const struct anfu_dispute *x, enum view v, int status)
{
	if (r < 0)
		return r;
	if (refusal)
		return refused(req, refusal);
	resp->status = status;
	resp->body = dispute_json(x, v);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- customers ---- */

struct lodge_body {
	struct anfu_str kind, ref, category, description;
};

static const struct anfu_jfield lodge_fields[] = {
	{ "kind", ANFU_JT_STRING, offsetof(struct lodge_body, kind), true, 1,
	  ANFU_LIMIT_DISPUTE_KIND_BYTES - 1, NULL },
	{ "ref", ANFU_JT_STRING, offsetof(struct lodge_body, ref), true, 1,
	  ANFU_LIMIT_DISPUTE_REF_BYTES - 1, NULL },
	{ "category", ANFU_JT_STRING, offsetof(struct lodge_body, category), true, 1, 23, NULL },
	{ "description", ANFU_JT_STRING, offsetof(struct lodge_body, description), true, 1,
	  ANFU_LIMIT_DISPUTE_TEXT_CHARS, NULL },
};

int anfu_dispute_api_lodge(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);
	const struct anfu_actor actor = actor_of(req);
	struct lodge_body b = { 0 };
	struct anfu_dispute_lodge in;
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	const char *refusal = NULL;
	int r = p ? anfu_req_json(req, lodge_fields, NFIELDS(lodge_fields), &b) : ANFU_EPERM;

	if (r == 0) {
		in = (struct anfu_dispute_lodge){ b.kind.ptr, b.ref.ptr, b.category.ptr,
						  b.description.ptr };
		r = anfu_dispute_open(anfu_dispute_api_service(req), &actor, p->user_id, &in, x,
				      &refusal);
		if (r == ANFU_EINVAL)
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "category");
	}
	r = answer(req, resp, r, refusal, x, VIEW_CUSTOMER, 201);
	free(x);
	return r;
}

int anfu_dispute_api_mine(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);
	struct anfu_dispute_filter f = { 0 };

	if (!p)
		return ANFU_EPERM;
	f.party_user_id = p->user_id;
	return list(req, resp, &f, p->user_id, VIEW_CUSTOMER);
}

int anfu_dispute_api_mine_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	int r = p ? load(req, x) : ANFU_EPERM;

	if (r == 0 && strcmp(x->subject.customer_id, p->user_id) == 0)
		r = detail(req, resp, x, VIEW_CUSTOMER);
	else if (r == 0 && strcmp(x->subject.counterparty_id, p->user_id) == 0)
		r = detail(req, resp, x, VIEW_COUNTERPARTY);
	else if (r == 0)
		r = refused(req, ANFU_R_DISPUTE_NOT_FOUND);
	free(x);
	return r;
}

typedef int (*customer_op)(struct anfu_disputes *, const struct anfu_actor *, const char *,
			   const char *, struct anfu_dispute *, const char **);

static int customer_change(struct anfu_req *req, struct anfu_resp *resp, customer_op op)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);
	const struct anfu_actor actor = actor_of(req);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	const char *id = NULL, *refusal = NULL;
	int r = p ? path_id(req, &id) : ANFU_EPERM;

	if (r == 0)
		r = op(anfu_dispute_api_service(req), &actor, p->user_id, id, x, &refusal);
	r = answer(req, resp, r, refusal, x, VIEW_CUSTOMER, 200);
	free(x);
	return r;
}

int anfu_dispute_api_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	return customer_change(req, resp, anfu_dispute_confirm);
}

int anfu_dispute_api_withdraw(struct anfu_req *req, struct anfu_resp *resp)
{
	return customer_change(req, resp, anfu_dispute_withdraw);
}

struct reopen_body {
	struct anfu_str reason;
};

static const struct anfu_jfield reopen_fields[] = {
	{ "reason", ANFU_JT_STRING, offsetof(struct reopen_body, reason), true, 1,
	  ANFU_LIMIT_DISPUTE_TEXT_CHARS, NULL },
};

int anfu_dispute_api_reopen(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);
	const struct anfu_actor actor = actor_of(req);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	struct reopen_body b = { 0 };
	const char *id = NULL, *refusal = NULL;
	int r = p ? path_id(req, &id) : ANFU_EPERM;

	if (r == 0)
		r = anfu_req_json(req, reopen_fields, NFIELDS(reopen_fields), &b);
	if (r == 0)
		r = anfu_dispute_reopen(anfu_dispute_api_service(req), &actor, p->user_id, id,
					b.reason.ptr, x, &refusal);
	r = answer(req, resp, r, refusal, x, VIEW_CUSTOMER, 200);
	free(x);
	return r;
}

struct message_body {
	struct anfu_str text;
};

static const struct anfu_jfield message_fields[] = {
	{ "text", ANFU_JT_STRING, offsetof(struct message_body, text), true, 1,
	  ANFU_LIMIT_DISPUTE_TEXT_CHARS, NULL },
};

static int message(struct anfu_req *req, struct anfu_resp *resp, const char *customer_id)
{
	const struct anfu_actor actor = actor_of(req);
	struct message_body b = { 0 };
	const char *id = NULL, *refusal = NULL;
	int r = path_id(req, &id);

	if (r == 0)
		r = anfu_req_json(req, message_fields, NFIELDS(message_fields), &b);
	if (r == 0)
		r = anfu_dispute_message(anfu_dispute_api_service(req), &actor, customer_id, id,
					 b.text.ptr, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return refused(req, refusal);
	resp->status = 201;
	resp->body = json_pack("{s:s}", "id", id);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_dispute_api_message(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_CUSTOMER);

	return p ? message(req, resp, p->user_id) : ANFU_EPERM;
}

/* ---- merchant users: their merchant's disputes, read only ---- */

int anfu_dispute_api_merchant_list(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_MERCHANT);
	struct anfu_dispute_filter f = { 0 };

	if (!p || !p->merchant_id[0])
		return ANFU_EPERM;
	f.merchant_id = p->merchant_id;
	return list(req, resp, &f, NULL, VIEW_MERCHANT);
}

int anfu_dispute_api_merchant_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = of_kind(req, ANFU_USER_MERCHANT);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	int r = p && p->merchant_id[0] ? load(req, x) : ANFU_EPERM;

	if (r == 0 && strcmp(x->subject.merchant_id, p->merchant_id) == 0)
		r = detail(req, resp, x, VIEW_MERCHANT);
	else if (r == 0)
		r = refused(req, ANFU_R_DISPUTE_NOT_FOUND);
	free(x);
	return r;
}

/* ---- operators ---- */

int anfu_dispute_api_admin_list(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_dispute_filter f = { 0 };
	const char *state = anfu_req_query(req, "state");
	bool known = false;

	for (size_t i = 0; state && i < ANFU_DISPUTE_NSTATES; i++)
		known = known || strcmp(anfu_dispute_states[i], state) == 0;
	if (state && !known)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_INVALID_REQUEST, "state");
	f.state = state;
	return list(req, resp, &f, NULL, VIEW_OPERATOR);
}

int anfu_dispute_api_admin_get(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	int r = load(req, x);

	if (r == 0)
		r = detail(req, resp, x, VIEW_OPERATOR);
	free(x);
	return r;
}

int anfu_dispute_api_take(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_actor actor = actor_of(req);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	const char *id = NULL, *refusal = NULL;
	int r = path_id(req, &id);

	if (r == 0)
		r = anfu_dispute_take(anfu_dispute_api_service(req), &actor, id, x, &refusal);
	r = answer(req, resp, r, refusal, x, VIEW_OPERATOR, 200);
	free(x);
	return r;
}

struct resolve_body {
	struct anfu_str resolution;
	struct anfu_opt_i64 refund_amount;
};

static const struct anfu_jfield resolve_fields[] = {
	{ "resolution", ANFU_JT_STRING, offsetof(struct resolve_body, resolution), true, 1,
	  ANFU_LIMIT_DISPUTE_TEXT_CHARS, NULL },
	{ "refund_amount", ANFU_JT_INT, offsetof(struct resolve_body, refund_amount), false, 0,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
};

int anfu_dispute_api_resolve(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_actor actor = actor_of(req);
	struct anfu_dispute *x = anfu_xcalloc(1, sizeof(*x));
	struct resolve_body b = { 0 };
	const char *id = NULL, *refusal = NULL;
	int r = path_id(req, &id);

	if (r == 0)
		r = anfu_req_json(req, resolve_fields, NFIELDS(resolve_fields), &b);
	if (r == 0)
		r = anfu_dispute_resolve(anfu_dispute_api_service(req), &actor, id,
					 b.resolution.ptr,
					 b.refund_amount.set ? b.refund_amount.v : 0, x, &refusal);
	r = answer(req, resp, r, refusal, x, VIEW_OPERATOR, 200);
	free(x);
	return r;
}

int anfu_dispute_api_admin_message(struct anfu_req *req, struct anfu_resp *resp)
{
	return message(req, resp, NULL);
}
