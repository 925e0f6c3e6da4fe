/*
 * api/admin: the operator API on the admin listener — accounts, four-eyes
 * approvals, privilege-attempt alerts, account-review and recertification
 * reports.
 *
 * The route's permission is checked by the authenticator; the service
 * checks what depends on the object (which approval type, whose account)
 * and audits. Ids in paths are checked for shape before any lookup. A
 * change of a staff account answers 202 with the four-eyes request it
 * filed instead of 200/204 (IAM-ACCT-03).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "base/validate.h"
#include "config/config.h"
#include "http/http.h"
#include "iam/api/handlers.h"
#include "iam/iam.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
#define F_STR(st, name, req, lo, hi)                                                \
	{                                                                           \
#name, ANFU_JT_STRING, offsetof(struct st, name), req, lo, hi, NULL \
	}

/* The {id} path parameter as a C string when it has the shape of an id of
 * prefix; otherwise the request fails as not found. */
static int json_out(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

static json_t *text_or_null(bool set, const char *s)
{
	return set ? json_string(s) : json_null();
}

/* An approval as the admin API shows it: the request, its decision,
 * "result" (the executor's, stored JSON) and, for the readers' views,
 * "payload" (null for a reader who may not see it). Releases what v
 * holds. */
static json_t *approval_json(struct anfu_approval_view *v)
{
	json_t *o = json_object();

	if (!o)
		abort();
	anfu_json_set(o, "id", json_string(v->id));
	anfu_json_set(o, "number", json_integer(v->number));
	anfu_json_set(o, "type", json_string(v->type));
	anfu_json_set(o, "summary", json_string(v->summary));
	anfu_json_set(o, "maker_id", json_string(v->maker_id));
	anfu_json_set(o, "created_ms", json_integer(v->created_ms));
	anfu_json_set(o, "status", json_string(v->status));
	anfu_json_set(o, "checker_id", text_or_null(v->checker_id[0] != '\0', v->checker_id));
	anfu_json_set(o, "decided_ms", v->decided ? json_integer(v->decided_ms) : json_null());
	anfu_json_set(o, "note", text_or_null(v->has_note, v->note));
	anfu_json_set(o, "result", v->result ? json_incref(v->result) : json_null());
	if (v->payload_read)
		anfu_json_set(o, "payload", v->payload ? json_incref(v->payload) : json_null());
	anfu_approval_view_clear(v);
	return o;
}

/* 202 {"approval": ...}: the change was filed as a four-eyes request
 * (approval released). */
static int filed(struct anfu_resp *resp, struct anfu_approval_view *approval)
{
	return json_out(resp, 202, json_pack("{s:o}", "approval", approval_json(approval)));
}

/* A user as the admin API shows it: the masked view, with "revealed"
 * after a reveal and "delivered_to" for a new account. */
static json_t *admin_user_json(const struct anfu_admin_user *u)
{
	json_t *o = anfu_api_user_json(&u->view);

	if (!o)
		abort();
	if (u->revealed) {
		const char *const keys[] = { "login", "phone", "email", "real_name", "id_number" };
		const char *const vals[] = { u->login, u->phone, u->email, u->real_name,
					     u->id_number };
		json_t *rev = json_object();

		if (!rev)
			abort();
		for (size_t i = 0; i < NFIELDS(keys); i++)
			if (vals[i])
				anfu_json_set(rev, keys[i], json_string(vals[i]));
		anfu_json_set(o, "revealed", rev);
	}
	if (u->delivered_to)
		anfu_json_set(o, "delivered_to", json_string(u->delivered_to));
	return o;
}

static bool query_true(const struct anfu_req *req, const char *name)
{
	const char *v = anfu_req_query(req, name);

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

int anfu_api_admin_users(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_user_filter f = {
		.kind = anfu_req_query(req, "kind"),
		.status = anfu_req_query(req, "status"),
		.after = anfu_req_query(req, "after"),
		.limit = ANFU_LIMIT_ADMIN_LIST_DEFAULT,
	};
	const char *limit = anfu_req_query(req, "limit");
	struct anfu_user_view *users = NULL;
	struct anfu_iam_ctx ctx;
	json_t *items = NULL;
	size_t count = 0;
	long long n;
	int r;

	if (limit) {
		if (anfu_parse_i64(anfu_str_c(limit), &n) < 0 || n < 1 ||
		    n > ANFU_LIMIT_ADMIN_LIST_MAX)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
		f.limit = (int)n;
	}
	if (f.after && !anfu_id_valid("usr", f.after, strlen(f.after)))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "after");
	anfu_api_ctx(req, &ctx);
	users = calloc(ANFU_LIMIT_ADMIN_LIST_MAX, sizeof(*users));
	if (!users)
		abort();
	r = anfu_iam_admin_list_users(app->iam, &ctx, req->principal, &f, users,
				      ANFU_LIMIT_ADMIN_LIST_MAX, &count);
	if (r == 0) {
		items = json_array();
		if (!items)
			abort();
		for (size_t i = 0; i < count; i++)
			if (json_array_append_new(items, anfu_api_user_json(&users[i])) < 0)
				abort();
	}
	free(users);
	if (r < 0)
		return r;
	return json_out(resp, 200, json_pack("{s:o}", "users", items));
}

/* GET /api/v1/merchant/users: the same page, of the caller's own merchant
 * (the service narrows it for a merchant administrator). */
int anfu_api_merchant_users(struct anfu_req *req, struct anfu_resp *resp)
{
	return anfu_api_admin_users(req, resp);
}

int anfu_api_admin_user(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_admin_user user = { 0 };
	struct anfu_iam_ctx ctx;
	json_t *o;
	char *id = NULL;
	int r = anfu_api_path_id(req, "usr", &id);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_admin_get_user(app->iam, &ctx, req->principal, id, query_true(req, "reveal"),
				    &user);
	if (r < 0)
		return r;
	o = admin_user_json(&user);
	anfu_admin_user_clear(&user);
	return json_out(resp, 200, json_pack("{s:o}", "user", o));
}

struct create_body {
	struct anfu_str kind, username, merchant_id, role, email, phone;
	struct anfu_opt_i64 expires_at_ms;
	struct anfu_opt_bool temporary;
};

static bool email_ok(const char *s, size_t n)
{
	return anfu_valid_email(s, n);
}

static bool mobile_ok(const char *s, size_t n)
{
	return anfu_valid_mobile_cn(s, n);
}

static bool username_ok(const char *s, size_t n)
{
	return anfu_valid_username(s, n);
}

static const struct anfu_jfield create_fields[] = {
	F_STR(create_body, kind, true, 1, 16),
	{ "username", ANFU_JT_STRING, offsetof(struct create_body, username), true, 3, 32,
	  username_ok },
	F_STR(create_body, merchant_id, true, 1, 64),
	F_STR(create_body, role, true, 1, 32),
	{ "email", ANFU_JT_STRING, offsetof(struct create_body, email), false, 5, 254, email_ok },
	{ "phone", ANFU_JT_STRING, offsetof(struct create_body, phone), false, 11, 14, mobile_ok },
	{ "expires_at_ms", ANFU_JT_INT, offsetof(struct create_body, expires_at_ms), false, 0,
	  INT64_MAX, NULL },
	{ "temporary", ANFU_JT_BOOL, offsetof(struct create_body, temporary), false, 0, 0, NULL },
};

/* Creates a merchant user from a decoded body, with kind, merchant and
 * role given by the caller's route; 201 with the masked user. */
static int create_user(struct anfu_req *req, struct anfu_resp *resp, const struct create_body *b,
		       const char *kind, const char *merchant_id, const char *role)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_admin_user user = { 0 };
	struct anfu_iam_ctx ctx;
	json_t *o;
	const struct anfu_admin_create c = {
		.kind = kind,
		.username = b->username.ptr,
		.merchant_id = merchant_id,
		.role = role,
		.email = b->email.ptr,
		.phone = b->phone.ptr,
		.expires_ms = b->expires_at_ms.set ? b->expires_at_ms.v : 0,
		.temporary = b->temporary.set && b->temporary.v,
	};
	int r;

	anfu_api_ctx(req, &ctx);
	r = anfu_iam_admin_create_user(app->iam, &ctx, req->principal, &c, &user, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	o = admin_user_json(&user);
	anfu_admin_user_clear(&user);
	return json_out(resp, 201, json_pack("{s:o}", "user", o));
}

int anfu_api_admin_user_create(struct anfu_req *req, struct anfu_resp *resp)
{
	struct create_body b = { 0 };
	int r = anfu_req_json(req, create_fields, NFIELDS(create_fields), &b);

	if (r < 0)
		return r;
	return create_user(req, resp, &b, b.kind.ptr, b.merchant_id.ptr, b.role.ptr);
}

/* POST /api/v1/merchant/users: a merchant administrator adds staff of its
 * own merchant (merchant.staff.manage). The kind, the merchant and the
 * role are the caller's to imply, not the body's: role merchant_staff, the
 * caller's merchant. The rest is as POST /admin/v1/users. */
static const struct anfu_jfield merchant_staff_fields[] = {
	{ "username", ANFU_JT_STRING, offsetof(struct create_body, username), true, 3, 32,
	  username_ok },
	{ "email", ANFU_JT_STRING, offsetof(struct create_body, email), false, 5, 254, email_ok },
	{ "phone", ANFU_JT_STRING, offsetof(struct create_body, phone), false, 11, 14, mobile_ok },
	{ "expires_at_ms", ANFU_JT_INT, offsetof(struct create_body, expires_at_ms), false, 0,
	  INT64_MAX, NULL },
	{ "temporary", ANFU_JT_BOOL, offsetof(struct create_body, temporary), false, 0, 0, NULL },
};

int anfu_api_merchant_user_create(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = req->principal;
	struct create_body b = { 0 };
	int r = anfu_req_json(req, merchant_staff_fields, NFIELDS(merchant_staff_fields), &b);

	if (r < 0)
		return r;
	return create_user(req, resp, &b, "merchant", p->merchant_id[0] ? p->merchant_id : NULL,
			   "merchant_staff");
}

struct reason_body {
	struct anfu_str reason;
};

static const struct anfu_jfield reason_fields[] = {
	F_STR(reason_body, reason, true, 1, ANFU_LIMIT_ADMIN_REASON_API),
};

/* A POST on one user: the id from the path, the JSON body into body, and
 * the request's context for the service. */
static int user_post(struct anfu_req *req, const struct anfu_jfield *fields, size_t n, void *body,
		     char **ret_id, struct anfu_iam_ctx *ctx)
{
	int r = anfu_api_path_id(req, "usr", ret_id);

	if (r == 0)
		r = anfu_req_json(req, fields, n, body);
	if (r == 0)
		anfu_api_ctx(req, ctx);
	return r;
}

static int user_act(struct anfu_req *req, struct anfu_resp *resp, const char *action)
{
	struct anfu_app *app = req->app;
	struct reason_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_approval_view approval = { 0 };
	struct anfu_iam_ctx ctx;
	char *id = NULL;
	int r = user_post(req, reason_fields, NFIELDS(reason_fields), &b, &id, &ctx);

	if (r < 0)
		return r;
	r = anfu_iam_admin_act(app->iam, &ctx, req->principal, id, action, b.reason.ptr, &approval,
			       &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	if (approval.id[0])
		return filed(resp, &approval);
	resp->status = 204;
	return 0;
}

int anfu_api_admin_user_disable(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "disable");
}

int anfu_api_admin_user_enable(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "enable");
}

int anfu_api_admin_user_unlock(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "unlock");
}

/* The same actions for a merchant administrator on its own staff
 * (POST /api/v1/merchant/users/{id}/disable, /enable). */
int anfu_api_merchant_user_disable(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "disable");
}

int anfu_api_merchant_user_enable(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "enable");
}

int anfu_api_admin_user_force_password(struct anfu_req *req, struct anfu_resp *resp)
{
	return user_act(req, resp, "force_password_change");
}

/* POST /admin/v1/users/{id}/reset-password: a temporary password to the
 * user's own channel; the answer says which channel, never the password. */
int anfu_api_admin_user_reset_password(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct reason_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *channel = NULL;
	char *id = NULL;
	int r = user_post(req, reason_fields, NFIELDS(reason_fields), &b, &id, &ctx);

	if (r < 0)
		return r;
	r = anfu_iam_admin_reset_password(app->iam, &ctx, req->principal, id, b.reason.ptr,
					  &channel, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return json_out(resp, 200,
			json_pack("{s:s,s:s,s:b}", "user_id", id, "delivered_to", channel,
				  "must_change", 1));
}

struct validity_body {
	struct anfu_opt_i64 expires_at_ms;
	struct anfu_str reason;
};

static const struct anfu_jfield validity_fields[] = {
	{ "expires_at_ms", ANFU_JT_INT, offsetof(struct validity_body, expires_at_ms), true, 0,
	  INT64_MAX, NULL },
	F_STR(validity_body, reason, true, 1, ANFU_LIMIT_ADMIN_REASON_API),
};

/* POST /admin/v1/users/{id}/validity: a new end of the validity period
 * (0: none); retaining a temporary account also resets its password. */
int anfu_api_admin_user_validity(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct validity_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *channel = NULL;
	struct anfu_approval_view approval = { 0 };
	char *id = NULL;
	int r = user_post(req, validity_fields, NFIELDS(validity_fields), &b, &id, &ctx);

	if (r < 0)
		return r;
	r = anfu_iam_admin_set_validity(app->iam, &ctx, req->principal, id, b.expires_at_ms.v,
					b.reason.ptr, &channel, &approval, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	if (approval.id[0])
		return filed(resp, &approval);
	return json_out(resp, 200,
			json_pack("{s:s,s:o,s:b,s:o}", "user_id", id, "expires_at_ms",
				  b.expires_at_ms.v ? json_integer(b.expires_at_ms.v) : json_null(),
				  "password_reset", channel != NULL, "delivered_to",
				  channel ? json_string(channel) : json_null()));
}

struct handover_body {
	struct anfu_str responsible_name, email, phone, reason;
};

static const struct anfu_jfield handover_fields[] = {
	F_STR(handover_body, responsible_name, true, 1, ANFU_LIMIT_RESPONSIBLE_NAME),
	{ "email", ANFU_JT_STRING, offsetof(struct handover_body, email), false, 5, 254, email_ok },
	{ "phone", ANFU_JT_STRING, offsetof(struct handover_body, phone), false, 11, 14,
	  mobile_ok },
	F_STR(handover_body, reason, true, 1, ANFU_LIMIT_ADMIN_REASON_API),
};

/* POST /admin/v1/users/{id}/handover */
int anfu_api_admin_user_handover(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct handover_body b = { 0 };
	struct anfu_admin_handover in;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *channel = NULL;
	struct anfu_approval_view approval = { 0 };
	char *id = NULL;
	int r = user_post(req, handover_fields, NFIELDS(handover_fields), &b, &id, &ctx);

	if (r < 0)
		return r;
	in = (struct anfu_admin_handover){ id, b.responsible_name.ptr, b.email.ptr, b.phone.ptr,
					   b.reason.ptr };
	r = anfu_iam_admin_handover(app->iam, &ctx, req->principal, &in, &channel, &approval, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	if (approval.id[0])
		return filed(resp, &approval);
	return json_out(resp, 200,
			json_pack("{s:s,s:s,s:b}", "user_id", id, "delivered_to", channel,
				  "must_change", 1));
}

/* UTF-8 and depth checks of the raw body with the server's limits. */
static int precheck(struct anfu_req *req)
{
	const struct anfu_app *app = req->app;
	struct anfu_json_limits lim = {
		.max_depth = (unsigned)app->cfg->limits.json_depth,
		.max_string_bytes = (size_t)app->cfg->limits.json_string_bytes,
	};
	struct anfu_jerr jerr = { 0 };
	int r = anfu_json_precheck(&lim, req->body ? req->body : "", req->body_len, &jerr);

	return r < 0 ? anfu_req_fail(req, r, jerr.code, NULL) : 0;
}

/* The approval request body: exactly {"type": "<1..32 chars>", "payload":
 * {...}}; the payload's own fields are the type's to check. */
static int approval_shape(struct anfu_req *req, json_t *root, const char **ret_type,
			  json_t **ret_payload)
{
	struct anfu_jerr jerr = { 0 };
	const char *key;
	json_t *v, *type, *payload;

	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "type") != 0 && strcmp(key, "payload") != 0)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_UNKNOWN_FIELD, key);
	}
	type = json_object_get(root, "type");
	payload = json_object_get(root, "payload");
	if (!type)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD, "type");
	if (!payload)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD, "payload");
	if (!json_is_string(type) || json_string_length(type) < 1 || json_string_length(type) > 32)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "type");
	if (!json_is_object(payload))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "payload");
	/* Names and reasons in a payload (a new operator's name, a handover's
	 * responsible person, a reason) follow the text rule like every
	 * decoded field: refused with a control or format character, kept in
	 * NFC. */
	if (anfu_json_normalize_strings(payload, &jerr) < 0)
		return anfu_req_fail(req, ANFU_EINVAL, jerr.code, jerr.field);
	*ret_type = json_string_value(type);
	*ret_payload = payload;
	return 0;
}

/* POST /admin/v1/approvals {"type": "...", "payload": {...}}: the payload
 * is an object whose fields the approval type validates, so it is decoded
 * with jansson here (still size- and depth-checked by the server). */
int anfu_api_admin_approval_file(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_approval_view out = { 0 };
	struct anfu_iam_ctx ctx;
	json_t *root = NULL;
	const char *type = NULL;
	json_t *payload = NULL;
	int r = precheck(req);

	if (r < 0)
		return r;
	root = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	}
	r = approval_shape(req, root, &type, &payload);
	if (r == 0) {
		anfu_api_ctx(req, &ctx);
		r = anfu_iam_approval_file(app->iam, &ctx, req->principal, type, payload, &out, &e);
		if (r < 0)
			r = anfu_api_iam_fail(req, r, &e);
	}
	json_decref(root);
	if (r < 0)
		return r;
	return json_out(resp, 201, json_pack("{s:o}", "approval", approval_json(&out)));
}

int anfu_api_admin_approvals(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	const char *status = anfu_req_query(req, "status");
	struct anfu_approval_view *views = NULL;
	struct anfu_iam_ctx ctx;
	json_t *items = NULL;
	size_t n = 0;
	int r;

	anfu_api_ctx(req, &ctx);
	views = calloc(ANFU_LIMIT_APPROVAL_LIST, sizeof(*views));
	if (!views)
		abort();
	r = anfu_iam_approval_list(app->iam, &ctx, req->principal, status, views,
				   ANFU_LIMIT_APPROVAL_LIST, &n);
	if (r == 0) {
		items = json_array();
		if (!items)
			abort();
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(items, approval_json(&views[i])) < 0)
				abort();
	}
	free(views);
	if (r < 0)
		return r;
	return json_out(resp, 200, json_pack("{s:o}", "approvals", items));
}

int anfu_api_admin_approval(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_approval_view a = { 0 };
	struct anfu_iam_ctx ctx;
	char *id = NULL;
	int r = anfu_api_path_id(req, "apr", &id);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_get(app->iam, &ctx, req->principal, id, &a);
	if (r < 0)
		return r;
	return json_out(resp, 200, json_pack("{s:o}", "approval", approval_json(&a)));
}

struct note_body {
	struct anfu_str note;
};

static const struct anfu_jfield note_fields[] = {
	F_STR(note_body, note, false, 1, ANFU_LIMIT_DECISION_NOTE),
};

/* An approval: the note and, for a request that delivers a credential,
 * the new person's email and/or phone typed again by the checker. */
struct approve_body {
	struct anfu_str note, confirm_email, confirm_phone;
};

static const struct anfu_jfield approve_fields[] = {
	F_STR(approve_body, note, false, 1, ANFU_LIMIT_DECISION_NOTE),
	{ "confirm_email", ANFU_JT_STRING, offsetof(struct approve_body, confirm_email), false, 5,
	  254, email_ok },
	{ "confirm_phone", ANFU_JT_STRING, offsetof(struct approve_body, confirm_phone), false, 11,
	  14, mobile_ok },
};

static int decide(struct anfu_req *req, struct anfu_resp *resp, bool approve)
{
	struct anfu_app *app = req->app;
	struct approve_body b = { 0 };
	struct note_body nb = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_approval_view a = { 0 };
	struct anfu_iam_ctx ctx;
	json_t *confirm = NULL;
	char *id = NULL;
	int r = anfu_api_path_id(req, "apr", &id);

	if (r == 0 && req->body_len > 0 && approve)
		r = anfu_req_json(req, approve_fields, NFIELDS(approve_fields), &b);
	else if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, note_fields, NFIELDS(note_fields), &nb);
	if (r < 0)
		return r;
	if (!approve)
		b.note = nb.note;
	confirm = json_object();
	if (!confirm)
		abort();
	if (b.confirm_email.ptr)
		anfu_json_set(confirm, "email", json_string(b.confirm_email.ptr));
	if (b.confirm_phone.ptr)
		anfu_json_set(confirm, "phone", json_string(b.confirm_phone.ptr));
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_decide(app->iam, &ctx, req->principal, id, approve, b.note.ptr,
				     confirm, &a, &e);
	json_decref(confirm);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return json_out(resp, 200, json_pack("{s:o}", "approval", approval_json(&a)));
}

int anfu_api_admin_approval_approve(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, true);
}

int anfu_api_admin_approval_reject(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, false);
}

/* An alert as the admin API shows it. */
static json_t *alert_json(const struct anfu_alert_view *a)
{
	json_t *o = json_object();

	if (!o)
		abort();
	anfu_json_set(o, "id", json_string(a->id));
	anfu_json_set(o, "number", json_integer(a->number));
	anfu_json_set(o, "actor_id", json_string(a->actor_id));
	anfu_json_set(o, "actor_kind", json_string(a->actor_kind));
	anfu_json_set(o, "role_class", json_string(a->role_class));
	anfu_json_set(o, "first_ms", json_integer(a->first_ms));
	anfu_json_set(o, "last_ms", json_integer(a->last_ms));
	anfu_json_set(o, "attempts", json_integer(a->attempts));
	anfu_json_set(o, "first_action", json_string(a->first_action));
	anfu_json_set(o, "last_action", json_string(a->last_action));
	anfu_json_set(o, "last_object", json_string(a->last_object));
	anfu_json_set(o, "last_reason", json_string(a->last_reason));
	anfu_json_set(o, "ip", json_string(a->ip));
	anfu_json_set(o, "mailed", json_integer(a->mailed));
	anfu_json_set(o, "state", json_string(a->state));
	anfu_json_set(o, "acknowledged_by",
		      text_or_null(a->acknowledged_by[0] != '\0', a->acknowledged_by));
	anfu_json_set(o, "acknowledged_ms",
		      a->acknowledged ? json_integer(a->acknowledged_ms) : json_null());
	anfu_json_set(o, "note", text_or_null(a->has_note, a->note));
	return o;
}

/* GET /admin/v1/alerts?state=&cursor=&limit=: privilege-attempt alerts,
 * newest first (AUD-ALERT-01). */
int anfu_api_admin_alerts(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	const char *state = anfu_req_query(req, "state");
	const char *cursor = anfu_req_query(req, "cursor");
	const char *limit = anfu_req_query(req, "limit");
	long long c = 0, n = ANFU_LIMIT_ALERT_LIST_DEFAULT;
	struct anfu_alert_view *alerts = NULL;
	struct anfu_iam_ctx ctx;
	json_t *items = NULL;
	size_t count = 0;
	int64_t next = 0;
	int r;

	if (state && strcmp(state, "open") != 0 && strcmp(state, "acknowledged") != 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "state");
	if (cursor && (anfu_parse_i64(anfu_str_c(cursor), &c) < 0 || c < 1))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "cursor");
	if (limit &&
	    (anfu_parse_i64(anfu_str_c(limit), &n) < 0 || n < 1 || n > ANFU_LIMIT_ALERT_LIST_MAX))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
	anfu_api_ctx(req, &ctx);
	alerts = calloc(ANFU_LIMIT_ALERT_LIST_MAX, sizeof(*alerts));
	if (!alerts)
		abort();
	r = anfu_iam_alerts(app->iam, &ctx, req->principal, state, (int64_t)c, (int)n, alerts,
			    ANFU_LIMIT_ALERT_LIST_MAX, &count, &next);
	if (r == 0) {
		items = json_array();
		if (!items)
			abort();
		for (size_t i = 0; i < count; i++)
			if (json_array_append_new(items, alert_json(&alerts[i])) < 0)
				abort();
	}
	free(alerts);
	if (r < 0)
		return r;
	return json_out(resp, 200,
			json_pack("{s:o,s:o}", "alerts", items, "next_cursor",
				  next ? json_integer(next) : json_null()));
}

/* POST /admin/v1/alerts/{id}/acknowledge {"note"?} */
int anfu_api_admin_alert_ack(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct note_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_alert_view a;
	struct anfu_iam_ctx ctx;
	char *id = NULL;
	int r = anfu_api_path_id(req, "alr", &id);

	if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, note_fields, NFIELDS(note_fields), &b);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_alert_acknowledge(app->iam, &ctx, req->principal, id, b.note.ptr, &a, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return json_out(resp, 200, json_pack("{s:o}", "alert", alert_json(&a)));
}

/* A report as the admin API shows it; releases what v holds. */
static json_t *report_json(struct anfu_report_view *v)
{
	json_t *o = json_object();

	if (!o)
		abort();
	anfu_json_set(o, "id", json_string(v->id));
	anfu_json_set(o, "kind", json_string(v->kind));
	anfu_json_set(o, "created_ms", json_integer(v->created_ms));
	anfu_json_set(o, "created_by", json_string(v->created_by));
	anfu_json_set(o, "content", v->content ? json_incref(v->content) : json_null());
	anfu_json_set(o, "signed_off_by",
		      text_or_null(v->signed_off_by[0] != '\0', v->signed_off_by));
	anfu_json_set(o, "signed_off_ms",
		      v->signed_off ? json_integer(v->signed_off_ms) : json_null());
	anfu_json_set(o, "sign_off_note", text_or_null(v->has_note, v->note));
	anfu_report_view_clear(v);
	return o;
}

typedef int (*report_fn)(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, struct anfu_report_view *ret);

/* Produces a report as the operator who asks: 201 {report}. */
static int report_new(struct anfu_req *req, struct anfu_resp *resp, report_fn make)
{
	struct anfu_app *app = req->app;
	struct anfu_report_view rep = { 0 };
	struct anfu_iam_ctx ctx;
	int r;

	anfu_api_ctx(req, &ctx);
	r = make(app->iam, &ctx, req->principal, &rep);
	if (r < 0)
		return r;
	return json_out(resp, 201, json_pack("{s:o}", "report", report_json(&rep)));
}

static int reports(struct anfu_req *req, struct anfu_resp *resp, const char *kind)
{
	struct anfu_app *app = req->app;
	struct anfu_report_view views[ANFU_LIMIT_REPORT_LIST];
	struct anfu_iam_ctx ctx;
	json_t *items = NULL;
	size_t n = 0;
	int r;

	anfu_api_ctx(req, &ctx);
	r = anfu_iam_reports(app->iam, &ctx, req->principal, kind, views, ANFU_LIMIT_REPORT_LIST,
			     &n);
	if (r < 0)
		return r;
	items = json_array();
	if (!items)
		abort();
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(items, report_json(&views[i])) < 0)
			abort();
	return json_out(resp, 200, json_pack("{s:o}", "reports", items));
}

int anfu_api_admin_review(struct anfu_req *req, struct anfu_resp *resp)
{
	return reports(req, resp, "account_review");
}

/* POST: runs the review now, as the operator who asks (its report and
 * audit record name them). */
int anfu_api_admin_review_run(struct anfu_req *req, struct anfu_resp *resp)
{
	return report_new(req, resp, anfu_iam_account_review);
}

int anfu_api_admin_recerts(struct anfu_req *req, struct anfu_resp *resp)
{
	return reports(req, resp, "recertification");
}

int anfu_api_admin_recert_create(struct anfu_req *req, struct anfu_resp *resp)
{
	return report_new(req, resp, anfu_iam_recert_create);
}

int anfu_api_admin_recert_signoff(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct note_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_report_view rep = { 0 };
	struct anfu_iam_ctx ctx;
	char *id = NULL;
	int r = anfu_api_path_id(req, "rpt", &id);

	if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, note_fields, NFIELDS(note_fields), &b);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_recert_signoff(app->iam, &ctx, req->principal, id, b.note.ptr, &rep, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return json_out(resp, 200, json_pack("{s:o}", "report", report_json(&rep)));
}
