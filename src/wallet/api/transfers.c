/*
 * wallet/api/transfers: the customer routes of the wallet (docs/wallet.md):
 *
 * POST /api/v1/me/transfers/preview {to, amount, currency, memo?}
 *   -> 201 the confirmation (payee masked, amount in words and figures,
 *   time, limits, second_factor_required)
 * POST /api/v1/me/transfers {confirmation_id, request_id, amount,
 *   payment_pin} -> 201 the transfer (200 with "replayed": true for the
 *   same request id again)
 * GET /api/v1/me/balance -> 200 {available, held, ...}
 * GET /api/v1/me/transactions?from&to&type&cursor&limit -> 200 {items,
 *   next_cursor}
 * GET /api/v1/me/limits -> 200 {currency, methods, own}; PUT with
 *   {single_max, daily_max} (a recent step-up) -> 200 the same
 *
 * The principal is the session's (a customer); every call is about that
 * customer only. Decodes from allowlists, checks the payment PIN with iam
 * before a confirmation reaches the service, maps the service's refusals
 * to their codes (http/errors.c). Trusts the service for every rule.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "store/store.h"
#include "wallet/api/module.h"
#include "wallet/wallet.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const char *cstr(struct anfu_str s)
{
	return s.ptr;
}

static struct anfu_wallet *service(struct anfu_req *req)
{
	return anfu_api_service(req->app, &anfu_wallet_module);
}

/* The audit actor of req (strings borrowed from req). */
static void actor_of(const struct anfu_req *req, struct anfu_actor *a)
{
	const char *dev = anfu_req_header(req, "X-Device-Id");

	*a = (struct anfu_actor){
		.id = req->actor_id ? req->actor_id : "",
		.type = req->actor_type ? req->actor_type : "customer",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = dev ? dev : "",
		.request_id = req->request_id,
	};
}

/* Only customers have wallets; other sessions get a plain 403. */
static const struct anfu_principal *customer(struct anfu_req *req)
{
	const struct anfu_principal *p = req->principal;

	return p && p->kind == ANFU_USER_CUSTOMER ? p : NULL;
}

/* A service refusal as the client sees it: its code brings its status. */
static int refused(struct anfu_req *req, const char *code, const char *field)
{
	return anfu_req_fail(req, ANFU_ECONFLICT, code, field);
}

static bool currency_ok(struct anfu_str c)
{
	return c.len == 3 && memcmp(c.ptr, "CNY", 3) == 0;
}

/* ---- preview ---- */

struct preview_body {
	struct anfu_str to, currency, memo;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield preview_fields[] = {
	{ "to", ANFU_JT_STRING, offsetof(struct preview_body, to), true, 1,
	  ANFU_LIMIT_WALLET_PAYEE_BYTES, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct preview_body, amount), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct preview_body, currency), true, 1, 3, NULL },
	{ "memo", ANFU_JT_STRING, offsetof(struct preview_body, memo), false, 0,
	  ANFU_LIMIT_WALLET_MEMO_BYTES, NULL },
};

static json_t *limits_json(const struct anfu_wallet_preview *p)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:s, s:s}", "method", anfu_wallet_auth_name(p->auth),
			 "single_max", (json_int_t)p->limit.single_max, "daily_max",
			 (json_int_t)p->limit.daily_max, "used_today", (json_int_t)p->used_today,
			 "single_limit", p->limit.single_name, "daily_limit", p->limit.daily_name);
}

int anfu_wallet_api_preview(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct preview_body b;
	struct anfu_wallet_preview_req pr;
	struct anfu_wallet_preview *out = NULL;
	struct anfu_actor actor;
	int r;

	memset(&b, 0, sizeof(b));
	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_req_json(req, preview_fields, NFIELDS(preview_fields), &b);
	if (r < 0)
		return r;
	if (!currency_ok(b.currency))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "currency");
	if (b.memo.ptr && b.memo.len > ANFU_LIMIT_WALLET_MEMO_BYTES)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "memo");
	r = anfu_arena_alloc(req->arena, sizeof(*out), (void **)&out);
	if (r < 0)
		return r;
	pr = (struct anfu_wallet_preview_req){ p->user_id, cstr(b.to), b.amount.v, cstr(b.memo) };
	actor_of(req, &actor);
	r = anfu_wallet_preview(w, &actor, &pr, out);
	if (r < 0)
		return r;
	if (out->code)
		return refused(req, out->code, out->field);
	resp->status = 201;
	resp->body = json_pack(
		"{s:s, s:I, s:I, s:{s:s, s:s}, s:I, s:s, s:s, s:s, s:I, s:o, s:b, s:b, s:I}",
		"confirmation_id", out->confirmation_id, "created_ms", (json_int_t)out->created_ms,
		"expires_ms", (json_int_t)out->expires_ms, "payee", "name", out->payee_name,
		"login", out->payee_login, "amount", (json_int_t)out->amount, "currency", "CNY",
		"amount_words", out->words, "amount_text", out->figures, "available",
		(json_int_t)out->available, "limits", limits_json(out), "second_factor_required",
		out->second_factor, "sms_code_required", out->sms_code, "time_ms",
		(json_int_t)out->created_ms);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- confirmation ---- */

struct confirm_body {
	struct anfu_str confirmation_id, request_id, payment_pin, sms_code;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield confirm_fields[] = {
	{ "confirmation_id", ANFU_JT_STRING, offsetof(struct confirm_body, confirmation_id), true,
	  1, ANFU_ID_MAX - 1, NULL },
	{ "request_id", ANFU_JT_STRING, offsetof(struct confirm_body, request_id), true, 1,
	  ANFU_LIMIT_WALLET_REQUEST_ID_BYTES, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct confirm_body, amount), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "payment_pin", ANFU_JT_SECRET, offsetof(struct confirm_body, payment_pin), true, 1, 16,
	  NULL },
	{ "sms_code", ANFU_JT_SECRET, offsetof(struct confirm_body, sms_code), false, 1, 16, NULL },
};

static int transfer_out(struct anfu_resp *resp, const struct anfu_wallet_transfer *t)
{
	resp->status = t->existed ? 200 : 201;
	resp->body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:I, s:s, s:I, s:s, s:I, s:s, s:b}", "id",
			       t->id, "status", "succeeded", "payee", "name", t->payee_name,
			       "login", t->payee_login, "amount", (json_int_t)t->amount, "currency",
			       "CNY", "created_ms", (json_int_t)t->created_ms, "auth", t->auth,
			       "balance", (json_int_t)t->balance, "ledger_transfer", t->ledger_id,
			       "replayed", t->existed);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_wallet_api_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct confirm_body b;
	struct anfu_wallet_confirm_req cr;
	struct anfu_wallet_transfer *out = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_pin_ok pin = { 0 };
	struct anfu_iam_ctx ctx;
	struct anfu_actor actor;
	int r;

	memset(&b, 0, sizeof(b));
	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_req_json(req, confirm_fields, NFIELDS(confirm_fields), &b);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*out), (void **)&out);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	/* The PIN first: its failures count and lock (iam, IAM-LOCK-03). */
	r = anfu_iam_verify_payment_password_deferred(app->iam, &ctx, p, cstr(b.payment_pin), &pin,
						      &e);
	if (r < 0)
		return e.code ? anfu_req_fail(req, r, e.code, e.field) : r;
	/* The right PIN is recorded with the transfer: one commit less. */
	cr = (struct anfu_wallet_confirm_req){ p->user_id,
					       cstr(b.confirmation_id),
					       cstr(b.request_id),
					       b.amount.v,
					       p->mfa_ms,
					       p->mfa_method,
					       &pin,
					       cstr(b.sms_code) };
	actor_of(req, &actor);
	r = anfu_wallet_confirm(w, &actor, &cr, out);
	if (r < 0)
		return r;
	if (out->code)
		return refused(req, out->code, out->field);
	return transfer_out(resp, out);
}

/* ---- balance and history ---- */

int anfu_wallet_api_balance(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct anfu_wallet_balance b;
	int r;

	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_wallet_balance(w, p->user_id, &b);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "currency", "CNY", "available",
			       (json_int_t)b.available, "held", (json_int_t)b.held, "posted",
			       (json_int_t)b.posted, "incoming", (json_int_t)b.incoming, "state",
			       b.state);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* A query integer in [lo, hi], or the request's failure naming it. */
static int query_i64(struct anfu_req *req, const char *name, long long lo, long long hi,
		     long long def, long long *ret)
{
	const char *t = anfu_req_query(req, name);
	long long v = def;

	if (t && (anfu_parse_i64(anfu_str_c(t), &v) < 0 || v < lo || v > hi))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, name);
	*ret = v;
	return 0;
}

/* A type name: [a-z_], 1..32 (transfer_in, a ledger code). */
static bool type_ok(const char *t)
{
	size_t n = strlen(t);

	if (n < 1 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || t[i] == '_'))
			return false;
	return true;
}

static json_t *entries_json(const struct anfu_wallet_entry *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		const struct anfu_wallet_entry *e = &v[i];

		if (json_array_append_new(
			    a, json_pack("{s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:b}", "id",
					 e->id, "time_ms", (json_int_t)e->time_ms, "type", e->type,
					 "direction", e->credit ? "in" : "out", "amount",
					 (json_int_t)e->amount, "currency", "CNY", "balance",
					 (json_int_t)e->balance, "counterparty", e->counterparty,
					 "memo", e->memo, "pending", e->pending)) < 0)
			abort();
	}
	return a;
}

int anfu_wallet_api_transactions(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct anfu_wallet_history_req hr;
	struct anfu_wallet_entry *v = NULL;
	const char *type = anfu_req_query(req, "type");
	const char *cursor = anfu_req_query(req, "cursor");
	char next[ANFU_WALLET_CURSOR_MAX];
	long long from = 0, to = 0, limit = 20;
	size_t n = 0;
	int r;

	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = query_i64(req, "from", 0, INT64_MAX / 2, 0, &from);
	if (r == 0)
		r = query_i64(req, "to", 0, INT64_MAX / 2, 0, &to);
	if (r == 0)
		r = query_i64(req, "limit", 1, ANFU_LIMIT_WALLET_HISTORY, 20, &limit);
	if (r < 0)
		return r;
	if (type && !type_ok(type))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "type");
	if (cursor && strlen(cursor) >= ANFU_WALLET_CURSOR_MAX)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "cursor");
	r = anfu_arena_alloc(req->arena, sizeof(*v) * (size_t)limit, (void **)&v);
	if (r < 0)
		return r;
	hr = (struct anfu_wallet_history_req){ p->user_id, from, to, type, cursor, (size_t)limit };
	r = anfu_wallet_history(w, &hr, v, (size_t)limit, &n, next);
	if (r == ANFU_EINVAL && cursor && cursor[0])
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "cursor");
	if (r < 0)
		return r;
	resp->body = json_pack("{s:o, s:s?}", "items", entries_json(v, n), "next_cursor",
			       next[0] ? next : NULL);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- the customer's own limits (RISK-LIM-04) ---- */

static json_t *limit_json(const struct anfu_wallet_limit *l)
{
	return json_pack("{s:I, s:I, s:s, s:s}", "single_max", (json_int_t)l->single_max,
			 "daily_max", (json_int_t)l->daily_max, "single_name", l->single_name,
			 "daily_name", l->daily_name);
}

/* {currency, methods: [{method, system, effective}], own: {...} | null}. */
static int limits_out(struct anfu_wallet *w, struct anfu_db *db, const char *user_id,
		      struct anfu_resp *resp)
{
	struct anfu_wallet_own_limits own;
	json_t *methods = json_array(), *o = NULL;
	int r = anfu_wallet_own_limits_get(db, user_id, &own);

	for (int a = 0; r == 0 && methods && a < ANFU_WALLET_AUTH_N; a++) {
		struct anfu_wallet_limit sys, eff;

		r = anfu_wallet_limit_of(w, (enum anfu_wallet_auth)a, &sys);
		eff = sys;
		anfu_wallet_limit_lower(&eff, &own);
		if (r == 0 &&
		    json_array_append_new(methods,
					  json_pack("{s:s, s:o, s:o}", "method",
						    anfu_wallet_auth_name((enum anfu_wallet_auth)a),
						    "system", limit_json(&sys), "effective",
						    limit_json(&eff))) < 0)
			r = ANFU_EINTERNAL;
	}
	if (r == 0 && own.single_max > 0)
		o = json_pack("{s:I, s:I, s:I}", "single_max", (json_int_t)own.single_max,
			      "daily_max", (json_int_t)own.daily_max, "updated_ms",
			      (json_int_t)own.updated_ms);
	if (r < 0 || !methods) {
		json_decref(methods);
		json_decref(o);
		return r < 0 ? r : ANFU_EINTERNAL;
	}
	resp->status = 200;
	resp->body = json_pack("{s:s, s:o, s:o?}", "currency", "CNY", "methods", methods, "own",
			       o ? o : json_null());
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_wallet_api_limits_get(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct anfu_db *db = NULL;
	int r;

	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r < 0)
		return r;
	return limits_out(w, db, p->user_id, resp);
}

struct limits_body {
	struct anfu_opt_i64 single_max, daily_max;
};

static const struct anfu_jfield limits_fields[] = {
	{ "single_max", ANFU_JT_INT, offsetof(struct limits_body, single_max), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "daily_max", ANFU_JT_INT, offsetof(struct limits_body, daily_max), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
};

int anfu_wallet_api_limits_put(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_wallet *w = service(req);
	const struct anfu_principal *p = customer(req);
	struct limits_body b;
	struct anfu_actor actor;
	struct anfu_db *db = NULL;
	const char *refusal = NULL, *field = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!w)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_req_json(req, limits_fields, NFIELDS(limits_fields), &b);
	if (r < 0)
		return r;
	actor_of(req, &actor);
	r = anfu_wallet_own_limits_set(w, &actor, p->user_id, b.single_max.v, b.daily_max.v,
				       anfu_iam_stepped_up(app->iam, p, anfu_clock_now_ms()),
				       &refusal, &field);
	if (r < 0)
		return r;
	if (refusal)
		return anfu_req_fail(req,
				     strcmp(refusal, ANFU_R_STEP_UP_REQUIRED) == 0 ? ANFU_EPERM
										   : ANFU_EINVAL,
				     refusal, field);
	r = anfu_store_db(app->store, &db);
	if (r < 0)
		return r;
	return limits_out(w, db, p->user_id, resp);
}
