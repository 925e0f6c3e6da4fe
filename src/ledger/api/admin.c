/*
 * ledger/api/admin: the ledger's operator routes on the admin listener
 * (docs/ledger.md "Account states and operator changes"):
 *
 * GET  /admin/v1/ledger/accounts/{id}               ledger.account.read
 *   -> 200 {"account": {id, kind, asset, owner_type, state, flags, the
 *      four balances, created_ms}}
 * POST /admin/v1/ledger/accounts/{id}/state {state, reason}
 *                                     ledger.approval.account_state.request
 *   -> 202 {"approval"}: the change filed as a four-eyes request
 *      (freeze_account, unfreeze_account or close_account by the state)
 * POST /admin/v1/ledger/approvals/{id}/approve {confirm_account_id,
 *   confirm_state, note?}            ledger.approval.account_state.approve
 *   -> 200 {"approval"} (status executed, or failed with result.error
 *      the ledger's refusal)
 * POST /admin/v1/ledger/approvals/{id}/reject {note?}   (the same)
 *   -> 200 {"approval"} (status rejected)
 *
 * The route's permission is checked by the authenticator; iam's approval
 * service checks the maker and checker (four eyes, step-up, the type's
 * permission) and audits; the ledger's approval types
 * (ledger/api/approvals.c) check the payload and run the change through
 * the writer. Ids in paths are checked for shape before any lookup.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static int json_out(struct anfu_resp *resp, int status, json_t *body)
{
	resp->status = status;
	resp->body = body;
	return body ? 0 : ANFU_EINTERNAL;
}

static int iam_fail(struct anfu_req *req, int r, const struct anfu_iam_err *e)
{
	return e->code ? anfu_req_fail(req, r, e->code, e->field) : r;
}

/* An approval as the admin API shows it (as iam's routes do, without the
 * payload); releases what v holds. */
static json_t *approval_json(struct anfu_approval_view *v)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s}", "id", v->id, "number",
			      (json_int_t)v->number, "type", v->type, "summary", v->summary,
			      "maker_id", v->maker_id, "created_ms", (json_int_t)v->created_ms,
			      "status", v->status);

	if (!o)
		abort();
	anfu_json_set(o, "checker_id", v->checker_id[0] ? json_string(v->checker_id) : json_null());
	anfu_json_set(o, "decided_ms", v->decided ? json_integer(v->decided_ms) : json_null());
	anfu_json_set(o, "note", v->has_note ? json_string(v->note) : json_null());
	anfu_json_set(o, "result", v->result ? json_incref(v->result) : json_null());
	anfu_approval_view_clear(v);
	return o;
}

int anfu_ledger_api_admin_account(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_ledger *l = anfu_api_service(req->app, &anfu_ledger_module);
	struct anfu_ledger_account a;
	char *id = NULL;
	int r = anfu_api_path_id(req, "acc", &id);

	if (r < 0)
		return r;
	if (!l)
		return ANFU_EINTERNAL;
	r = anfu_ledger_account_get(l, id, &a);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_LEDGER_ACCOUNT_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	return json_out(
		resp, 200,
		json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}}", "account",
			  "id", a.id, "kind", a.kind, "asset", a.asset, "owner_type", a.owner_type,
			  "state", a.state, "flags", (json_int_t)a.flags, "debits_pending",
			  (json_int_t)a.debits_pending, "debits_posted",
			  (json_int_t)a.debits_posted, "credits_pending",
			  (json_int_t)a.credits_pending, "credits_posted",
			  (json_int_t)a.credits_posted, "created_ms", (json_int_t)a.created_ms));
}

struct state_body {
	struct anfu_str state, reason;
};

static const struct anfu_jfield state_fields[] = {
	{ "state", ANFU_JT_STRING, offsetof(struct state_body, state), true, 1,
	  ANFU_LEDGER_NAME_MAX - 1, NULL },
	{ "reason", ANFU_JT_STRING, offsetof(struct state_body, reason), true, 1,
	  ANFU_LIMIT_ADMIN_REASON_API, NULL },
};

int anfu_ledger_api_admin_state(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct state_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_approval_view out = { 0 };
	struct anfu_iam_ctx ctx;
	const char *type;
	json_t *payload;
	char *id = NULL;
	int r = anfu_api_path_id(req, "acc", &id);

	if (r == 0)
		r = anfu_req_json(req, state_fields, NFIELDS(state_fields), &b);
	if (r < 0)
		return r;
	type = anfu_ledger_api_state_type(b.state.ptr);
	if (!type)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "state");
	payload = json_pack("{s:s, s:s, s:s}", "account_id", id, "state", b.state.ptr, "reason",
			    b.reason.ptr);
	if (!payload)
		abort();
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_file(app->iam, &ctx, req->principal, type, payload, &out, &e);
	json_decref(payload);
	if (r < 0)
		return iam_fail(req, r, &e);
	return json_out(resp, 202, json_pack("{s:o}", "approval", approval_json(&out)));
}

/* A decision: the note and, to approve, the account id and state typed
 * again by the checker. */
struct decide_body {
	struct anfu_str confirm_account_id, confirm_state, note;
};

static const struct anfu_jfield approve_fields[] = {
	{ "confirm_account_id", ANFU_JT_STRING, offsetof(struct decide_body, confirm_account_id),
	  true, 1, ANFU_ID_MAX - 1, NULL },
	{ "confirm_state", ANFU_JT_STRING, offsetof(struct decide_body, confirm_state), true, 1,
	  ANFU_LEDGER_NAME_MAX - 1, NULL },
	{ "note", ANFU_JT_STRING, offsetof(struct decide_body, note), false, 1,
	  ANFU_LIMIT_DECISION_NOTE, NULL },
};

static const struct anfu_jfield reject_fields[] = {
	{ "note", ANFU_JT_STRING, offsetof(struct decide_body, note), false, 1,
	  ANFU_LIMIT_DECISION_NOTE, NULL },
};

static int decide(struct anfu_req *req, struct anfu_resp *resp, bool approve)
{
	struct anfu_app *app = req->app;
	struct decide_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_approval_view a = { 0 };
	struct anfu_iam_ctx ctx;
	json_t *confirm = NULL;
	char *id = NULL;
	int r = anfu_api_path_id(req, "apr", &id);

	if (r == 0 && approve)
		r = anfu_req_json(req, approve_fields, NFIELDS(approve_fields), &b);
	else if (r == 0 && req->body_len > 0)
		r = anfu_req_json(req, reject_fields, NFIELDS(reject_fields), &b);
	if (r < 0)
		return r;
	if (approve) {
		confirm = json_pack("{s:s, s:s}", "account_id", b.confirm_account_id.ptr, "state",
				    b.confirm_state.ptr);
		if (!confirm)
			abort();
	}
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_approval_decide(app->iam, &ctx, req->principal, id, approve, b.note.ptr,
				     confirm, &a, &e);
	json_decref(confirm);
	if (r < 0)
		return iam_fail(req, r, &e);
	return json_out(resp, 200, json_pack("{s:o}", "approval", approval_json(&a)));
}

int anfu_ledger_api_admin_approve(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, true);
}

int anfu_ledger_api_admin_reject(struct anfu_req *req, struct anfu_resp *resp)
{
	return decide(req, resp, false);
}
