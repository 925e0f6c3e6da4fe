/*
 * pay/api/refunds: the routes of refunds (docs/payments.md, "Refunds"):
 *
 * POST /api/v1/merchant/orders/{id}/refunds {out_refund_no, amount,
 *   currency, reason} -> 201 the refund (200 with "existed": true for the
 *   same refund number with the same content)
 * POST /api/v1/merchant/refund-batches {items[{order_id, out_refund_no,
 *   amount, currency, reason}]} -> 200 {results[{index, status, refund |
 *   error}], accepted, refused}: item by item (FUNC-SETL-09)
 * GET /api/v1/merchant/refunds/{id} -> 200 the refund
 * POST /api/v1/merchant/refunds/{id}/accept | /decline -> 200 the refund
 *   (a customer's request)
 * POST /api/v1/me/orders/{id}/refund-requests {amount, currency, reason, request_id?}
 *   -> 201 the request (requested)
 * POST /admin/v1/refunds/{id}/approve -> 200 the refund
 * POST /admin/v1/refunds/{id}/reject -> 200 the refund
 * POST /admin/v1/refunds/{id}/card {card_id} -> 200 the refund: the
 *   payer's bound card it goes to should it go to a card
 *   (anfu_pay_refund_choose_card)
 * POST /admin/v1/refunds/{id}/resend {card_id} -> 200 the refund: a failed
 *   refund sent again to another bound card of the payer, sending
 *   (anfu_pay_refund_resend)
 * Operators' answers carry the operators' fields too (payer_id,
 * approved_by, chosen_card_id, chosen_card, attempt).
 *
 * A merchant user works on its own merchant's orders and refunds (the
 * session's merchant_id, never the body's): another merchant's are not
 * found. Operators review (the router checked the permission).
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct anfu_principal *merchant_user(struct anfu_req *req)
{
	const struct anfu_principal *pr = req->principal;

	return pr && pr->kind == ANFU_USER_MERCHANT && pr->merchant_id[0] ? pr : NULL;
}

static json_t *refund_json(const struct anfu_pay_refund *x)
{
	bool card = strcmp(x->destination, "card") == 0;

	return json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s?, s:s?, "
		"s:I, s:I, s:s, s:s?}",
		"id", x->id, "order_id", x->order_id, "merchant_id", x->merchant_id,
		"out_refund_no", x->out_refund_no, "state", anfu_pay_refund_state_name(x->state),
		"amount", (json_int_t)x->amount, "currency", "CNY", "fee_back",
		(json_int_t)x->fee_back, "reason", x->reason, "origin", x->origin, "reviewed_by",
		x->reviewed_by, "ledger_transfer", x->ledger_id[0] ? x->ledger_id : NULL,
		"fee_ledger_transfer", x->fee_ledger_id[0] ? x->fee_ledger_id : NULL, "created_ms",
		(json_int_t)x->created_ms, "updated_ms", (json_int_t)x->updated_ms, "destination",
		card ? "card" : "wallet", "card", card ? x->card : NULL);
}

/* The refund as operators see it: the refund's JSON, the payer, the first
 * approver of four eyes (the second must be another operator), the
 * card an operator chose (null: none, the payer's newest bound card) and
 * the attempt of its card credit (0: none; 2 and up: re-sent). */
static json_t *operator_json(const struct anfu_pay_refund *x)
{
	json_t *j = refund_json(x);
	bool chosen = x->chosen_card_id[0] != '\0';

	if (j && (json_object_set_new(j, "payer_id", json_string(x->payer_id)) < 0 ||
		  json_object_set_new(j, "approved_by",
				      x->approved_by[0] ? json_string(x->approved_by)
							: json_null()) < 0 ||
		  json_object_set_new(j, "chosen_card_id",
				      chosen ? json_string(x->chosen_card_id) : json_null()) < 0 ||
		  json_object_set_new(j, "chosen_card",
				      chosen ? json_string(x->chosen_card) : json_null()) < 0 ||
		  json_object_set_new(j, "attempt", json_integer((json_int_t)x->attempt)) < 0)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int refusal(struct anfu_req *req, const char *code, const char *field)
{
	bool nf = strcmp(code, ANFU_R_PAY_ORDER_NOT_FOUND) == 0 ||
		  strcmp(code, ANFU_R_PAY_REFUND_NOT_FOUND) == 0;

	return anfu_req_fail(req, nf ? ANFU_ENOTFOUND : ANFU_ECONFLICT, code, field);
}

/* A merchant's refund number: as an order number, but not in the
 * namespaces of disputes' refunds ("dispute-...", pay/dispute.c) and of
 * customers' requests ("customer-..."). */
static bool refund_no_ok(const char *s, size_t len)
{
	return anfu_pay_out_trade_no_ok(s, len) && !(len >= 8 && memcmp(s, "dispute-", 8) == 0) &&
	       !(len >= 9 && memcmp(s, "customer-", 9) == 0);
}

struct refund_body {
	struct anfu_str out_refund_no, currency, reason;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield refund_fields[] = {
	{ "out_refund_no", ANFU_JT_STRING, offsetof(struct refund_body, out_refund_no), true, 1,
	  ANFU_LIMIT_PAY_OUT_TRADE_NO, refund_no_ok },
	{ "amount", ANFU_JT_INT, offsetof(struct refund_body, amount), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct refund_body, currency), true, 3, 3, NULL },
	{ "reason", ANFU_JT_STRING, offsetof(struct refund_body, reason), true, 1,
	  ANFU_LIMIT_PAY_SUBJECT_BYTES, NULL },
};

int anfu_pay_api_refund_create(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = merchant_user(req);
	struct anfu_pay_refund *x = NULL;
	struct anfu_pay_refund_req q;
	struct refund_body b;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	bool existed = false;
	char *id = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_api_path_id(req, "ord", &id);
	if (r == 0)
		r = anfu_req_json(req, refund_fields, NFIELDS(refund_fields), &b);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r < 0)
		return r;
	if (strcmp(b.currency.ptr, "CNY") != 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "currency");
	q = (struct anfu_pay_refund_req){ pr->merchant_id,     pr->user_id, id,
					  b.out_refund_no.ptr, b.amount.v,  b.reason.ptr };
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_refund_apply(p, &actor, &q, x, &existed, &code, &field);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code, field);
	resp->status = existed ? 200 : 201;
	resp->body = refund_json(x);
	if (resp->body)
		(void)anfu_json_set(resp->body, "existed", json_boolean(existed));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- batch refunds (FUNC-SETL-09) ---- */

struct batch_item {
	const char *order_id, *out_refund_no, *reason;
	int64_t amount;
};

static const char *const item_keys[] = { "order_id", "out_refund_no", "amount", "currency",
					 "reason" };

/* The string member key of o: 1..max bytes (already NFC), or NULL. */
static const char *item_str(json_t *o, const char *key, size_t max)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	if (!json_is_string(v))
		return NULL;
	len = json_string_length(v);
	if (len < 1 || len > max || strlen(json_string_value(v)) != len)
		return NULL;
	return json_string_value(v);
}

/* One item's fields, or the field that is wrong (*ret_field). */
static bool item_of(json_t *v, struct batch_item *it, const char **ret_field)
{
	const char *k, *cur;
	json_t *m, *a;

	*ret_field = "items";
	if (!json_is_object(v))
		return false;
	json_object_foreach(v, k, m)
	{
		size_t i = 0;

		(void)m;
		while (i < NFIELDS(item_keys) && strcmp(item_keys[i], k) != 0)
			i++;
		if (i == NFIELDS(item_keys))
			return false;
	}
	it->order_id = item_str(v, "order_id", ANFU_ID_MAX - 1);
	it->out_refund_no = item_str(v, "out_refund_no", ANFU_LIMIT_PAY_OUT_TRADE_NO);
	it->reason = item_str(v, "reason", ANFU_LIMIT_PAY_SUBJECT_BYTES);
	cur = item_str(v, "currency", 3);
	a = json_object_get(v, "amount");
	if (!it->order_id || !anfu_id_valid("ord", it->order_id, strlen(it->order_id)))
		return (*ret_field = "order_id", false);
	if (!it->out_refund_no || !refund_no_ok(it->out_refund_no, strlen(it->out_refund_no)))
		return (*ret_field = "out_refund_no", false);
	if (!it->reason)
		return (*ret_field = "reason", false);
	if (!cur || strcmp(cur, "CNY") != 0)
		return (*ret_field = "currency", false);
	if (!json_is_integer(a) || json_integer_value(a) < 1 ||
	    json_integer_value(a) > ANFU_LIMIT_WALLET_AMOUNT)
		return (*ret_field = "amount", false);
	it->amount = json_integer_value(a);
	return true;
}

int anfu_pay_api_refund_batch(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = merchant_user(req);
	struct anfu_jerr jerr = { 0 };
	struct batch_item *items = NULL;
	struct anfu_pay_refund *x = NULL;
	struct anfu_actor actor;
	json_t *root = NULL, *arr = NULL, *v, *results = NULL;
	const char *field = NULL;
	size_t i, n, ok = 0;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	if (!req->body || req->body_len == 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!root || !json_is_object(root))
		r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	else if (anfu_json_normalize_strings(root, &jerr) < 0)
		r = anfu_req_fail(req, ANFU_EINVAL, jerr.code, jerr.field[0] ? jerr.field : NULL);
	else if (json_object_size(root) != 1 || !(arr = json_object_get(root, "items")))
		r = anfu_req_fail(req, ANFU_EINVAL,
				  json_object_get(root, "items") ? ANFU_JERR_UNKNOWN_FIELD
								 : ANFU_JERR_MISSING_FIELD,
				  json_object_get(root, "items") ? "body" : "items");
	else if (!json_is_array(arr))
		r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "items");
	else if (json_array_size(arr) < 1 || json_array_size(arr) > ANFU_LIMIT_PAY_REFUND_BATCH)
		r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "items");
	else
		r = anfu_arena_alloc(req->arena, sizeof(*items) * ANFU_LIMIT_PAY_REFUND_BATCH,
				     (void **)&items);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	/* Every item well formed, or the whole batch is refused: nothing applied. */
	n = r == 0 ? json_array_size(arr) : 0;
	for (i = 0; r == 0 && i < n; i++)
		if (!item_of(json_array_get(arr, i), &items[i], &field))
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, field);
	if (r == 0) {
		results = json_array();
		r = results ? 0 : ANFU_EINTERNAL;
	}
	anfu_pay_api_actor(req, &actor);
	/* Item by item, each its own writer command: partial success. */
	for (i = 0; r == 0 && i < n; i++) {
		struct anfu_pay_refund_req q = { pr->merchant_id,   pr->user_id,
						 items[i].order_id, items[i].out_refund_no,
						 items[i].amount,   items[i].reason };
		const char *code = NULL, *f = NULL;
		bool existed = false;

		r = anfu_pay_refund_apply(p, &actor, &q, x, &existed, &code, &f);
		if (r < 0)
			break;
		v = code ? json_pack("{s:I, s:s, s:{s:s, s:s?}}", "index", (json_int_t)i, "status",
				     "refused", "error", "code", code, "field", f)
			 : json_pack("{s:I, s:s, s:o}", "index", (json_int_t)i, "status",
				     existed ? "existed" : "applied", "refund", refund_json(x));
		ok += code ? 0 : 1;
		(void)json_array_append_new(results, v);
	}
	json_decref(root);
	if (r < 0) {
		json_decref(results);
		return r;
	}
	resp->body = json_pack("{s:o, s:I, s:I}", "results", results, "accepted", (json_int_t)ok,
			       "refused", (json_int_t)(n - ok));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_refund_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = merchant_user(req);
	struct anfu_pay_refund *x = NULL;
	struct anfu_db *db = NULL;
	char *id = NULL;
	int r;

	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_api_path_id(req, "rfd", &id);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_refund_get(db, id, x);
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(x->merchant_id, pr->merchant_id) != 0))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_PAY_REFUND_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	resp->body = refund_json(x);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- a customer's request and the merchant's answer ---- */

struct request_body {
	struct anfu_str currency, reason, request_id;
	struct anfu_opt_i64 amount;
};

static const struct anfu_jfield request_fields[] = {
	{ "amount", ANFU_JT_INT, offsetof(struct request_body, amount), true, 1,
	  ANFU_LIMIT_WALLET_AMOUNT, NULL },
	{ "currency", ANFU_JT_STRING, offsetof(struct request_body, currency), true, 3, 3, NULL },
	{ "reason", ANFU_JT_STRING, offsetof(struct request_body, reason), true, 1,
	  ANFU_LIMIT_PAY_SUBJECT_BYTES, NULL },
	{ "request_id", ANFU_JT_STRING, offsetof(struct request_body, request_id), false, 1,
	  ANFU_LIMIT_PAY_REFUND_REQUEST_ID_BYTES, NULL },
};

int anfu_pay_api_me_refund_request(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = req->principal;
	struct anfu_pay_refund *x = NULL;
	struct request_body b;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	char *id = NULL;
	bool existed = false;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	if (!pr || pr->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_api_path_id(req, "ord", &id);
	if (r == 0)
		r = anfu_req_json(req, request_fields, NFIELDS(request_fields), &b);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r < 0)
		return r;
	if (strcmp(b.currency.ptr, "CNY") != 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "currency");
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_refund_request(p, &actor, id, pr->user_id, b.amount.v, b.reason.ptr,
				    b.request_id.ptr, x, &existed, &code, &field);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code, field);
	resp->status = existed ? 200 : 201;
	resp->body = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "id", x->id, "order_id",
			       x->order_id, "state", anfu_pay_refund_state_name(x->state), "amount",
			       (json_int_t)x->amount, "currency", "CNY", "reason", x->reason,
			       "created_ms", (json_int_t)x->created_ms);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

static int answer(struct anfu_req *req, struct anfu_resp *resp, bool accept)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = merchant_user(req);
	struct anfu_pay_refund *x = NULL;
	struct anfu_actor actor;
	const char *code = NULL, *field = NULL;
	char *id = NULL;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_api_path_id(req, "rfd", &id);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_refund_answer(p, &actor, pr->merchant_id, id, accept, x, &code, &field);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code, field);
	resp->body = refund_json(x);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_refund_accept(struct anfu_req *req, struct anfu_resp *resp)
{
	return answer(req, resp, true);
}

int anfu_pay_api_refund_decline(struct anfu_req *req, struct anfu_resp *resp)
{
	return answer(req, resp, false);
}

static int review(struct anfu_req *req, struct anfu_resp *resp, bool approve)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_refund *x = NULL;
	struct anfu_actor actor;
	const char *code = NULL;
	char *id = NULL;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, "rfd", &id);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = anfu_pay_refund_review(p, &actor, id, approve, x, &code);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code, NULL);
	resp->body = operator_json(x);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_refund_approve(struct anfu_req *req, struct anfu_resp *resp)
{
	return review(req, resp, true);
}

int anfu_pay_api_refund_reject(struct anfu_req *req, struct anfu_resp *resp)
{
	return review(req, resp, false);
}

/* ---- an operator's choice of the payer's card ---- */

struct card_body {
	struct anfu_str card_id;
};

static bool card_id_ok(const char *s, size_t len)
{
	return anfu_id_valid("bcd", s, len) != 0;
}

static const struct anfu_jfield card_fields[] = {
	{ "card_id", ANFU_JT_STRING, offsetof(struct card_body, card_id), true, 1, ANFU_ID_MAX - 1,
	  card_id_ok },
};

/* What the card choice and the re-send share: the refund in the path, the
 * card in the body, the operator's refund as the answer. */
typedef int (*card_action_fn)(struct anfu_pay *p, const struct anfu_actor *actor, const char *id,
			      const char *card_id, struct anfu_pay_refund *out,
			      const char **ret_code);

static int card_action(struct anfu_req *req, struct anfu_resp *resp, card_action_fn act)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_refund *x = NULL;
	struct anfu_actor actor;
	struct card_body b;
	const char *code = NULL;
	char *id = NULL;
	int r;

	memset(&b, 0, sizeof(b));
	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_api_path_id(req, "rfd", &id);
	if (r == 0)
		r = anfu_req_json(req, card_fields, NFIELDS(card_fields), &b);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*x), (void **)&x);
	if (r < 0)
		return r;
	anfu_pay_api_actor(req, &actor);
	r = act(p, &actor, id, b.card_id.ptr, x, &code);
	if (r < 0)
		return r;
	if (code)
		return refusal(req, code,
			       strcmp(code, ANFU_R_PAY_REFUND_CARD_INVALID) == 0 ? "card_id"
										 : NULL);
	resp->body = operator_json(x);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_refund_choose_card(struct anfu_req *req, struct anfu_resp *resp)
{
	return card_action(req, resp, anfu_pay_refund_choose_card);
}

/* ---- a failed refund sent again to another card ---- */

int anfu_pay_api_refund_resend(struct anfu_req *req, struct anfu_resp *resp)
{
	return card_action(req, resp, anfu_pay_refund_resend);
}

#ifdef ANFU_TEST_HOOKS
int anfu_pay_api_test_refund_retry(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	int64_t done = 0;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_pay_refund_retry_due(p, &done);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:I}", "succeeded", (json_int_t)done);
	return resp->body ? 0 : ANFU_EINTERNAL;
}
#endif

/* The refund's JSON for the refund lists (pay/api/refund_list.c). */
json_t *anfu_pay_api_refund_json(const struct anfu_pay_refund *x)
{
	return refund_json(x);
}

json_t *anfu_pay_api_refund_operator_json(const struct anfu_pay_refund *x)
{
	return operator_json(x);
}
