/*
 * pay/api/merchants: operators' routes of merchants' payment profiles
 * (docs/payments.md, "Merchants"):
 *
 * POST /admin/v1/merchants {merchant_id, name_zh, name_en, fee_bps?,
 *   escrow_days?} -> 201 the profile (pay.merchant.manage)
 * GET /admin/v1/merchants?after&limit -> 200 {merchants, next_cursor}
 * GET /admin/v1/merchants/{merchant_id} -> 200 the profile
 * PATCH /admin/v1/merchants/{merchant_id} {name_zh?, name_en?, fee_bps?,
 *   escrow_days?, state?} -> 200 the profile
 *
 * The router checked the operator's permission; decodes from allowlists,
 * maps the service's refusals to their codes. Trusts the service for
 * every rule.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* A merchant id as iam and the ledger take it: [A-Za-z0-9_.-], 1..64. */
static bool merchant_id_ok(const char *s, size_t len)
{
	if (len < 1 || len > ANFU_LIMIT_LEDGER_OWNER_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static json_t *merchant_json(const struct anfu_pay *p, const struct anfu_pay_merchant *m)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:s, s:s, s:I, s:I}", "merchant_id",
			 m->merchant_id, "name_zh", m->name_zh, "name_en", m->name_en, "fee_bps",
			 (json_int_t)m->fee_bps, "escrow_days",
			 m->escrow_days ? json_integer(m->escrow_days) : json_null(),
			 "escrow_days_effective", (json_int_t)anfu_pay_escrow_days(p, m), "state",
			 m->state, "account_id", m->account_id, "created_ms",
			 (json_int_t)m->created_ms, "updated_ms", (json_int_t)m->updated_ms);
}

struct merchant_body {
	struct anfu_str merchant_id, name_zh, name_en, state;
	struct anfu_opt_i64 fee_bps, escrow_days;
};

static const struct anfu_jfield create_fields[] = {
	{ "merchant_id", ANFU_JT_STRING, offsetof(struct merchant_body, merchant_id), true, 1,
	  ANFU_LIMIT_LEDGER_OWNER_BYTES, merchant_id_ok },
	{ "name_zh", ANFU_JT_STRING, offsetof(struct merchant_body, name_zh), true, 1,
	  ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES / 4, NULL },
	{ "name_en", ANFU_JT_STRING, offsetof(struct merchant_body, name_en), true, 1,
	  ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES / 4, NULL },
	{ "fee_bps", ANFU_JT_INT, offsetof(struct merchant_body, fee_bps), false, 0, 10000, NULL },
	{ "escrow_days", ANFU_JT_INT, offsetof(struct merchant_body, escrow_days), false, 0,
	  ANFU_LIMIT_PAY_ESCROW_DAYS, NULL },
};

static const struct anfu_jfield patch_fields[] = {
	{ "name_zh", ANFU_JT_STRING, offsetof(struct merchant_body, name_zh), false, 1,
	  ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES / 4, NULL },
	{ "name_en", ANFU_JT_STRING, offsetof(struct merchant_body, name_en), false, 1,
	  ANFU_LIMIT_PAY_MERCHANT_NAME_BYTES / 4, NULL },
	{ "fee_bps", ANFU_JT_INT, offsetof(struct merchant_body, fee_bps), false, 0, 10000, NULL },
	{ "escrow_days", ANFU_JT_INT, offsetof(struct merchant_body, escrow_days), false, 0,
	  ANFU_LIMIT_PAY_ESCROW_DAYS, NULL },
	{ "state", ANFU_JT_STRING, offsetof(struct merchant_body, state), false, 1, 16, NULL },
};

static int answer(struct anfu_req *req, struct anfu_resp *resp, int status,
		  const struct anfu_pay_merchant *m)
{
	resp->status = status;
	resp->body = merchant_json(anfu_pay_api_service(req), m);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

static void to_req(const struct merchant_body *b, struct anfu_pay_merchant_req *q)
{
	*q = (struct anfu_pay_merchant_req){
		.merchant_id = b->merchant_id.ptr,
		.name_zh = b->name_zh.ptr,
		.name_en = b->name_en.ptr,
		.fee_set = b->fee_bps.set,
		.fee_bps = b->fee_bps.v,
		.escrow_set = b->escrow_days.set,
		.escrow_days = b->escrow_days.v,
		.state = b->state.ptr,
	};
}

int anfu_pay_api_merchant_create(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct merchant_body b;
	struct anfu_pay_merchant_req q;
	struct anfu_pay_merchant m;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_req_json(req, create_fields, NFIELDS(create_fields), &b);
	if (r < 0)
		return r;
	to_req(&b, &q);
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_merchant_create(p, &actor, &q, &m, &code, &field);
	if (r < 0)
		return r;
	if (code)
		return anfu_req_fail(req, ANFU_ECONFLICT, code, field);
	return answer(req, resp, 201, &m);
}

/* The {merchant_id} of the path, or the request's 404. */
static int path_merchant(struct anfu_req *req, char out[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1])
{
	struct anfu_str s = anfu_req_param(req, "merchant_id");

	if (!s.ptr || !merchant_id_ok(s.ptr, s.len))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_PAY_MERCHANT_NOT_FOUND, NULL);
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return 0;
}

int anfu_pay_api_merchant_get(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	char id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	struct anfu_pay_merchant m;
	struct anfu_db *db = NULL;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = path_merchant(req, id);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_merchant_get(db, id, &m);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_PAY_MERCHANT_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return answer(req, resp, 200, &m);
}

int anfu_pay_api_merchant_patch(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	char id[ANFU_LIMIT_LEDGER_OWNER_BYTES + 1];
	struct merchant_body b;
	struct anfu_pay_merchant_req q;
	struct anfu_pay_merchant m;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	r = path_merchant(req, id);
	if (r == 0)
		r = anfu_req_json(req, patch_fields, NFIELDS(patch_fields), &b);
	if (r < 0)
		return r;
	if (b.state.ptr && strcmp(b.state.ptr, "active") != 0 &&
	    strcmp(b.state.ptr, "disabled") != 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "state");
	to_req(&b, &q);
	q.merchant_id = id;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_merchant_update(p, &actor, &q, &m, &code, &field);
	if (r < 0)
		return r;
	if (code)
		return anfu_req_fail(req, ANFU_ECONFLICT, code, field);
	return answer(req, resp, 200, &m);
}

int anfu_pay_api_merchants(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const char *after = anfu_req_query(req, "after");
	const char *lim = anfu_req_query(req, "limit");
	struct anfu_pay_merchant *out = NULL;
	struct anfu_db *db = NULL;
	long long limit = 50;
	size_t n = 0;
	json_t *items;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	if (lim && (anfu_parse_i64(anfu_str_c(lim), &limit) < 0 || limit < 1 ||
		    limit > ANFU_LIMIT_PAY_PAGE))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
	if (after && !merchant_id_ok(after, strlen(after)))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "after");
	r = anfu_arena_alloc(req->arena, sizeof(*out) * (size_t)limit, (void **)&out);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_merchant_list(db, after, out, (size_t)limit, &n);
	if (r < 0)
		return r;
	items = json_array();
	for (size_t i = 0; items && i < n; i++)
		(void)json_array_append_new(items, merchant_json(p, &out[i]));
	resp->body = json_pack("{s:o, s:s?}", "merchants", items, "next_cursor",
			       n == (size_t)limit ? out[n - 1].merchant_id : NULL);
	return resp->body ? 0 : ANFU_EINTERNAL;
}
