/*
 * bank/api/withdrawals: the withdrawal routes (docs/bank.md "Withdrawal"):
 *
 * POST /api/v1/me/withdrawals {card_id, amount, currency, request_id,
 *      payment_pin}          customer session + CSRF; the PIN first (iam)
 *   -> 201 the withdrawal (200: the same request_id again)
 * GET  /api/v1/me/withdrawals, /api/v1/me/withdrawals/{id}
 * GET  /admin/v1/bank/withdrawals?state=   bank.withdrawal.read
 * POST /admin/v1/bank/withdrawals/{id}/approve {}        bank.withdrawal.review
 * POST /admin/v1/bank/withdrawals/{id}/reject {reason}   bank.withdrawal.review
 * GET  /admin/v1/bank/withdraw-rules                     bank.withdrawal.read
 * POST /admin/v1/bank/withdraw-rules {the eight rules}
 *                              bank.approval.withdraw_rules.request -> 202
 * POST /admin/v1/bank/approvals/{id}/approve {note?}, .../reject {note?}
 *                              bank.approval.withdraw_rules.approve
 *
 * and the four-eyes type "withdraw_rules" (anfu_bank_approvals): an
 * operator files the rules, a risk officer approves; the executor writes
 * the rules row in the decision's transaction.
 *
 * Decode, call the service, encode; no SQL. Trusts the authenticator for
 * the principal and the route's permission, iam for the PIN and the four
 * eyes; checks shapes here.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "bank/api/module.h"
#include "bank/bank.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "http/http.h"
#include "config/config.h"
#include "iam/approval.h"
#include "iam/iam.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static struct anfu_actor actor_of(const struct anfu_req *req)
{
	const char *dev = anfu_req_header(req, "X-Device-Id");

	return (struct anfu_actor){
		.id = req->actor_id,
		.type = req->actor_type ? req->actor_type : "",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = dev ? dev : "",
		.request_id = req->request_id,
	};
}

static int body_of(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

static int refused(struct anfu_req *req, const char *code)
{
	if (strcmp(code, ANFU_R_NOT_FOUND) == 0)
		return anfu_req_fail(req, ANFU_ENOTFOUND, code, NULL);
	if (strcmp(code, ANFU_R_BANK_UNAVAILABLE) == 0)
		return anfu_req_fail(req, ANFU_EOVERLOAD, code, NULL);
	return anfu_req_fail(req, ANFU_ECONFLICT, code, NULL);
}

static json_t *wd_json(const struct anfu_bank_withdrawal *w, bool staff)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", w->id,
			      "card_id", w->card_id, "card", w->card_masked, "amount",
			      (json_int_t)w->amount, "fee", (json_int_t)w->fee, "currency", "CNY",
			      "state", w->state, "review", w->review, "request_id", w->request_id,
			      "reason", w->reason, "created_ms", (json_int_t)w->created_ms,
			      "updated_ms", (json_int_t)w->updated_ms, "send_after_ms",
			      (json_int_t)w->send_after_ms);

	if (o && staff) {
		anfu_json_set(o, "user_id", json_string(w->user_id));
		anfu_json_set(o, "maker_id", json_string(w->maker_id));
		anfu_json_set(o, "checker_id", json_string(w->checker_id));
		anfu_json_set(o, "hold_id", json_string(w->hold_id));
		anfu_json_set(o, "payment_id", json_string(w->payment_id));
	}
	return o;
}

/* ---- the customer's ---------------------------------------------------------- */

static bool request_id_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return len > 0;
}

static bool cny(const char *s, size_t len)
{
	return len == 3 && memcmp(s, "CNY", 3) == 0;
}

struct wd_body {
	struct anfu_str card_id, currency, request_id, payment_pin;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield wd_fields[] = {
	{ "card_id", ANFU_JT_STRING, offsetof(struct wd_body, card_id), true, 1, ANFU_ID_MAX - 1,
	  NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct wd_body, amount), true, 1,
	  ANFU_BANK_WD_AMOUNT_MAX * 10, NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct wd_body, currency), true, 3, 3, cny },
	{ "request_id", ANFU_JT_STRING, offsetof(struct wd_body, request_id), true, 1,
	  ANFU_BANK_REQ_ID_MAX - 1, request_id_ok },
	{ "payment_pin", ANFU_JT_SECRET, offsetof(struct wd_body, payment_pin), true, 1, 16, NULL },
};

static const struct anfu_principal *customer(struct anfu_req *req)
{
	const struct anfu_principal *p = req->principal;

	return p && p->kind == ANFU_USER_CUSTOMER ? p : NULL;
}

int anfu_bank_api_withdraw(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_principal *p = customer(req);
	const struct anfu_actor actor = actor_of(req);
	struct wd_body in = { 0 };
	struct anfu_bank_withdrawal *w = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *refusal = NULL;
	char *card = NULL, *rid = NULL, *pin = NULL;
	bool existed = false;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	if (!p)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_req_json(req, wd_fields, NFIELDS(wd_fields), &in);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, in.card_id.ptr, in.card_id.len, &card);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, in.request_id.ptr, in.request_id.len, &rid);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, in.payment_pin.ptr, in.payment_pin.len, &pin);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*w), (void **)&w);
	if (r < 0)
		return r;
	if (!anfu_id_valid("bcd", card, strlen(card)))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, "card_id");
	/* Know + have (IAM-MFA-04): above [bank] withdraw_stepup_over a
	 * second factor within iam's step-up window, checked before the PIN
	 * so that this refusal changes nothing (no PIN attempt counted). */
	if (anfu_bank_wd_needs_step_up(b, in.amount.v) &&
	    !anfu_iam_stepped_up(((struct anfu_app *)req->app)->iam, p, anfu_clock_now_ms()))
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_STEP_UP_REQUIRED, NULL);
	anfu_api_ctx(req, &ctx);
	/* The PIN first: its failures count and lock (iam). */
	r = anfu_iam_verify_payment_password(((struct anfu_app *)req->app)->iam, &ctx, p, pin, &e);
	anfu_wipe(pin, strlen(pin));
	if (r < 0)
		return e.code ? anfu_req_fail(req, r, e.code, e.field) : r;
	r = anfu_bank_withdraw(b, &actor, card, in.amount.v, rid, w, &existed, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return refused(req, refusal);
	return body_of(resp, existed ? 200 : 201, wd_json(w, false));
}

static int withdrawal_read(struct anfu_bank *b, const char *user_id, const char *id, json_t **ret)
{
	struct anfu_bank_withdrawal w;
	int r = anfu_bank_withdrawal_get(b, user_id, id, &w);

	if (r == 0)
		*ret = wd_json(&w, false);
	return r;
}

int anfu_bank_api_withdrawal_get(struct anfu_req *req, struct anfu_resp *resp)
{
	return anfu_bank_api_get_own(req, resp, "bwd", withdrawal_read);
}

static int list_out(struct anfu_req *req, struct anfu_resp *resp, const char *user_id,
		    const char *state, bool staff)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_withdrawal *list;
	json_t *arr = NULL;
	size_t n = 0;
	int r;

	if (!b)
		return ANFU_EINTERNAL;
	list = calloc(ANFU_BANK_WITHDRAWALS_MAX, sizeof(*list));
	if (!list)
		return ANFU_EINTERNAL;
	r = anfu_bank_withdrawals_list(b, user_id, state, list, ANFU_BANK_WITHDRAWALS_MAX, &n);
	if (r == 0) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, wd_json(&list[i], staff)) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		r = arr ? body_of(resp, 200, json_pack("{s:o}", "withdrawals", arr))
			: ANFU_EINTERNAL;
	}
	free(list);
	return r;
}

int anfu_bank_api_withdrawals(struct anfu_req *req, struct anfu_resp *resp)
{
	if (!req->actor_id)
		return ANFU_EINTERNAL;
	return list_out(req, resp, req->actor_id, NULL, false);
}

/* ---- the operators' ------------------------------------------------------------ */

static const char *const wd_states[] = { "submitted", "review", "approved", "sent",
					 "succeeded", "failed", "returned", "rejected" };

int anfu_bank_api_admin_withdrawals(struct anfu_req *req, struct anfu_resp *resp)
{
	const char *state = anfu_req_query(req, "state");
	bool ok = !state;

	for (size_t i = 0; state && i < NFIELDS(wd_states); i++)
		ok = ok || strcmp(state, wd_states[i]) == 0;
	if (!ok)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "state");
	return list_out(req, resp, NULL, state, true);
}

struct reject_body {
	struct anfu_str reason;
};

static const struct anfu_jfield reject_fields[] = {
	{ "reason", ANFU_JT_STRING, offsetof(struct reject_body, reason), true, 1,
	  ANFU_LIMIT_ADMIN_REASON_API, NULL },
};

static int decide(struct anfu_req *req, struct anfu_resp *resp, bool approve)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	const struct anfu_actor actor = actor_of(req);
	struct reject_body in = { 0 };
	struct anfu_bank_withdrawal w;
	const char *refusal = NULL;
	char *id = NULL, *reason = NULL;
	int r;

	if (!b || !req->actor_id)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, "bwd", &id);
	if (r == 0 && !approve)
		r = anfu_req_json(req, reject_fields, NFIELDS(reject_fields), &in);
	if (r == 0 && !approve)
		r = anfu_arena_strndup(req->arena, in.reason.ptr, in.reason.len, &reason);
	if (r < 0)
		return r;
	for (const char *c = reason; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "reason");
	r = anfu_bank_withdraw_decide(b, &actor, id, approve, reason, &w, &refusal);
	if (r < 0)
		return r;
	if (refusal)
		return strcmp(refusal, ANFU_R_BANK_WITHDRAW_CHECKER_IS_MAKER) == 0
			       ? anfu_req_fail(req, ANFU_EPERM, refusal, NULL)
			       : refused(req, refusal);
	return body_of(resp, 200, wd_json(&w, true));
}

int anfu_bank_api_admin_wd_approve(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, true);
}

int anfu_bank_api_admin_wd_reject(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, false);
}

/* ---- the rules and their four eyes ------------------------------------------------ */

static json_t *rules_json(const struct anfu_bank_wd_rules *r)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "min", (json_int_t)r->min,
			      "max", (json_int_t)r->max, "daily_count", (json_int_t)r->daily_count,
			      "daily_max", (json_int_t)r->daily_max, "fee_fixed",
			      (json_int_t)r->fee_fixed, "fee_bp", (json_int_t)r->fee_bp, "auto_max",
			      (json_int_t)r->auto_max, "large_over", (json_int_t)r->large_over,
			      "updated_ms", (json_int_t)r->updated_ms);

	if (o)
		anfu_json_set(o, "approval_id",
			      r->approval_id[0] ? json_string(r->approval_id) : json_null());
	return o;
}

int anfu_bank_api_admin_rules(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_bank *b = anfu_bank_api_service(req);
	struct anfu_bank_wd_rules r;
	int rc;

	if (!b)
		return ANFU_EINTERNAL;
	rc = anfu_bank_wd_rules_get(b, &r);
	if (rc < 0)
		return rc;
	return body_of(resp, 200, json_pack("{s:o}", "rules", rules_json(&r)));
}

static const char *const rule_keys[] = { "min",	      "max",	"daily_count", "daily_max",
					 "fee_fixed", "fee_bp", "auto_max",    "large_over" };

/* A payload of exactly the eight rules, each an integer. */
static int rules_read(const json_t *payload, struct anfu_bank_wd_rules *r, const char **ret_field)
{
	int64_t *f[] = { &r->min,	&r->max,    &r->daily_count, &r->daily_max,
			 &r->fee_fixed, &r->fee_bp, &r->auto_max,    &r->large_over };
	const char *k;
	json_t *v;

	memset(r, 0, sizeof(*r));
	*ret_field = "payload";
	if (!json_is_object(payload) || json_object_size(payload) != NFIELDS(rule_keys))
		return ANFU_EINVAL;
	json_object_foreach((json_t *)payload, k, v)
	{
		size_t i = 0;

		while (i < NFIELDS(rule_keys) && strcmp(k, rule_keys[i]) != 0)
			i++;
		if (i == NFIELDS(rule_keys))
			return ANFU_EINVAL;
		*ret_field = rule_keys[i];
		if (!json_is_integer(v))
			return ANFU_EINVAL;
		*f[i] = json_integer_value(v);
	}
	*ret_field = anfu_bank_wd_rules_invalid(r);
	return *ret_field ? ANFU_EINVAL : 0;
}

static int rules_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  char *summary, size_t cap, struct anfu_iam_err *err)
{
	struct anfu_bank_wd_rules r;
	const char *field = NULL;

	(void)iam;
	(void)db;
	if (rules_read(payload, &r, &field) < 0) {
		err->code = ANFU_JERR_INVALID_FIELD;
		err->field = field;
		return ANFU_EINVAL;
	}
	(void)snprintf(summary, cap,
		       "withdraw_rules min %lld max %lld daily %lld x / %lld fee %lld + %lld bp "
		       "auto <= %lld large > %lld",
		       (long long)r.min, (long long)r.max, (long long)r.daily_count,
		       (long long)r.daily_max, (long long)r.fee_fixed, (long long)r.fee_bp,
		       (long long)r.auto_max, (long long)r.large_over);
	return 0;
}

static int rules_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const char *approval_id, const json_t *payload, json_t **result,
			 struct anfu_iam_err *err)
{
	struct anfu_bank_wd_rules r;
	const char *field = NULL;
	int rc;

	(void)iam;
	(void)ctx;
	if (rules_read(payload, &r, &field) < 0) {
		err->code = ANFU_JERR_INVALID_FIELD;
		err->field = field;
		return ANFU_EINVAL;
	}
	rc = anfu_bank_wd_rules_set(tx, &r, approval_id);
	if (rc < 0)
		return rc;
	*result = rules_json(&r);
	return 0;
}

static const struct anfu_approval_type types[] = {
	{ .name = "withdraw_rules",
	  .perm_prefix = "bank.approval.withdraw_rules",
	  .validate = rules_validate,
	  .execute = rules_execute },
};

const struct anfu_approval_table anfu_bank_approvals = { types, NFIELDS(types) };

static json_t *approval_json(struct anfu_approval_view *v)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s}", "id", v->id, "number",
			      (json_int_t)v->number, "type", v->type, "summary", v->summary,
			      "maker_id", v->maker_id, "created_ms", (json_int_t)v->created_ms,
			      "status", v->status);

	if (!o)
		abort();
	anfu_json_set(o, "checker_id", v->checker_id[0] ? json_string(v->checker_id) : json_null());
	anfu_json_set(o, "result", v->result ? json_incref(v->result) : json_null());
	anfu_approval_view_clear(v);
	return o;
}

static int iam_fail(struct anfu_req *req, int r, const struct anfu_iam_err *e)
{
	return e->code ? anfu_req_fail(req, r, e->code, e->field) : r;
}

int anfu_bank_api_admin_rules_file(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_approval_view out = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	json_error_t jerr;
	json_t *payload;
	int r;

	if (!req->body || req->body_len == 0 || req->body_len > ANFU_LIMIT_BANK_BODY_BYTES)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "body");
	payload = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!payload)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "body");
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_file(((struct anfu_app *)req->app)->iam, &ctx, req->principal,
				   "withdraw_rules", payload, &out, &e);
	json_decref(payload);
	if (r < 0)
		return iam_fail(req, r, &e);
	return body_of(resp, 202, json_pack("{s:o}", "approval", approval_json(&out)));
}

struct note_body {
	struct anfu_str note;
};

static const struct anfu_jfield note_fields[] = {
	{ "note", ANFU_JT_STRING, offsetof(struct note_body, note), false, 1,
	  ANFU_LIMIT_DECISION_NOTE, NULL },
};

static int rules_decide(struct anfu_req *req, struct anfu_resp *resp, bool approve)
{
	struct note_body b = { 0 };
	struct anfu_approval_view a = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char *id = NULL;
	int r = anfu_api_path_id(req, "apr", &id);

	if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, note_fields, NFIELDS(note_fields), &b);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_decide(((struct anfu_app *)req->app)->iam, &ctx, req->principal, id,
				     approve, b.note.ptr, NULL, &a, &e);
	if (r < 0)
		return iam_fail(req, r, &e);
	return body_of(resp, 200, json_pack("{s:o}", "approval", approval_json(&a)));
}

int anfu_bank_api_admin_rules_approve(struct anfu_req *req, struct anfu_resp *resp)
{
	return rules_decide(req, resp, true);
}

int anfu_bank_api_admin_rules_reject(struct anfu_req *req, struct anfu_resp *resp)
{
	return rules_decide(req, resp, false);
}
