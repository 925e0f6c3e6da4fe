/*
 * pay/api/orders: merchant users' routes of orders (docs/payments.md,
 * "Orders"):
 *
 * POST /api/v1/merchant/orders {out_trade_no, amount, currency, subject,
 *   kind, lines[{name, quantity, unit_amount, amount}], ttl_s?,
 *   return_url?, notify_url?} -> 201 the order (200 with "existed": true
 *   for the same number with the same content)
 * GET /api/v1/merchant/orders?out_trade_no | ?cursor&limit -> 200
 *   {orders, next_cursor}
 * GET /api/v1/merchant/orders/{id} -> 200 the order
 * POST /api/v1/merchant/orders/{id}/cancel -> 200 the order (closed)
 *
 * The principal is the session's merchant user (the router checked the
 * permission); every call is about its own merchant (the session's
 * merchant_id, never the body's): another merchant's order is not found.
 * The body has an array, which the field decoder does not take: it is
 * parsed here from an allowlist with the same rules (text rule, sizes,
 * ranges, no unknown or duplicate keys).
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
#include "base/refusal.h"
#include "base/str.h"
#include "base/text.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "store/store.h"

/* Only merchant users with a merchant have orders. */
static json_t *lines_json(const struct anfu_pay_order *o)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < o->nlines; i++)
		(void)json_array_append_new(
			a, json_pack("{s:s, s:I, s:I, s:I}", "name", o->lines[i].name, "quantity",
				     (json_int_t)o->lines[i].quantity, "unit_amount",
				     (json_int_t)o->lines[i].unit_amount, "amount",
				     (json_int_t)o->lines[i].amount));
	return a;
}

/* The order as its merchant sees it. */
static json_t *order_json(const struct anfu_pay_order *o, bool with_lines)
{
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "id",
		o->id, "merchant_id", o->merchant_id, "out_trade_no", o->out_trade_no, "kind",
		o->kind, "state", anfu_pay_state_name(o->state), "amount", (json_int_t)o->amount,
		"currency", "CNY", "subject", o->subject, "return_url", o->return_url, "notify_url",
		o->notify_url, "created_ms", (json_int_t)o->created_ms, "expires_ms",
		(json_int_t)o->expires_ms, "updated_ms", (json_int_t)o->updated_ms, "fee",
		(json_int_t)o->fee, "paid_ms", (json_int_t)o->paid_ms);

	if (j && with_lines)
		(void)anfu_json_set(j, "lines", lines_json(o));
	if (j)
		(void)anfu_json_set(j, "payment_id",
				    o->payment_id[0] ? json_string(o->payment_id) : json_null());
	return j;
}

/* ---- the body ---- */

struct body_err {
	const char *code;
	const char *field;
};

static bool fail(struct body_err *e, const char *code, const char *field)
{
	e->code = code;
	e->field = field;
	return false;
}

/* A string member of o: absent (NULL, unless required), or 1..max_cp
 * code points of text (already NFC, control characters refused). */
static bool str_of(json_t *o, const char *key, bool required, size_t max_bytes, const char **ret,
		   struct body_err *e)
{
	json_t *v = json_object_get(o, key);
	size_t len;

	*ret = NULL;
	if (!v)
		return required ? fail(e, ANFU_JERR_MISSING_FIELD, key) : true;
	if (!json_is_string(v))
		return fail(e, ANFU_JERR_INVALID_FIELD, key);
	len = json_string_length(v);
	if (len < 1 || len > max_bytes || strlen(json_string_value(v)) != len)
		return fail(e, ANFU_JERR_OUT_OF_RANGE, key);
	*ret = json_string_value(v);
	return true;
}

static bool int_of(json_t *o, const char *key, bool required, int64_t lo, int64_t hi, int64_t *ret,
		   struct body_err *e)
{
	json_t *v = json_object_get(o, key);

	*ret = 0;
	if (!v)
		return required ? fail(e, ANFU_JERR_MISSING_FIELD, key) : true;
	if (!json_is_integer(v))
		return fail(e, ANFU_JERR_INVALID_FIELD, key);
	if (json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(e, ANFU_JERR_OUT_OF_RANGE, key);
	*ret = json_integer_value(v);
	return true;
}

/* Every key of o is one of keys[0..n). */
static bool only(json_t *o, const char *const *keys, size_t n, struct body_err *e)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		size_t i = 0;

		(void)v;
		while (i < n && strcmp(keys[i], k) != 0)
			i++;
		if (i == n)
			return fail(e, ANFU_JERR_UNKNOWN_FIELD, "body");
	}
	return true;
}

static const char *const order_keys[] = { "out_trade_no", "amount",	"currency",
					  "subject",	  "kind",	"lines",
					  "ttl_s",	  "return_url", "notify_url" };
static const char *const line_keys[] = { "name", "quantity", "unit_amount", "amount" };

static bool line_of(json_t *v, struct anfu_pay_line *l, struct body_err *e)
{
	const char *name = NULL;

	if (!json_is_object(v))
		return fail(e, ANFU_JERR_INVALID_FIELD, "lines");
	if (!only(v, line_keys, 4, e) ||
	    !str_of(v, "name", true, ANFU_LIMIT_PAY_LINE_NAME_BYTES, &name, e) ||
	    !int_of(v, "quantity", true, 1, ANFU_LIMIT_PAY_LINE_QUANTITY, &l->quantity, e) ||
	    !int_of(v, "unit_amount", true, 1, ANFU_LIMIT_WALLET_AMOUNT, &l->unit_amount, e) ||
	    !int_of(v, "amount", true, 1, ANFU_LIMIT_WALLET_AMOUNT, &l->amount, e))
		return false;
	(void)anfu_strlcpy(l->name, name, sizeof(l->name));
	return true;
}

/* Decodes the order body into q (strings pointing into root). */
static bool order_of(json_t *root, struct anfu_pay_order_req *q, struct anfu_pay_line *lines,
		     struct body_err *e)
{
	const char *currency = NULL;
	json_t *arr, *v;
	size_t i;

	if (!json_is_object(root))
		return fail(e, ANFU_JERR_INVALID_JSON, NULL);
	if (!only(root, order_keys, sizeof(order_keys) / sizeof(order_keys[0]), e) ||
	    !str_of(root, "out_trade_no", true, ANFU_LIMIT_PAY_OUT_TRADE_NO, &q->out_trade_no, e) ||
	    !int_of(root, "amount", true, 1, ANFU_LIMIT_WALLET_AMOUNT, &q->amount, e) ||
	    !str_of(root, "currency", true, 3, &currency, e) ||
	    !str_of(root, "subject", true, ANFU_LIMIT_PAY_SUBJECT_BYTES, &q->subject, e) ||
	    !str_of(root, "kind", true, ANFU_PAY_KIND_MAX - 1, &q->kind, e) ||
	    !int_of(root, "ttl_s", false, 1, ANFU_LIMIT_PAY_ORDER_TTL_S, &q->ttl_s, e) ||
	    !str_of(root, "return_url", false, ANFU_LIMIT_PAY_URL_BYTES, &q->return_url, e) ||
	    !str_of(root, "notify_url", false, ANFU_LIMIT_PAY_URL_BYTES, &q->notify_url, e))
		return false;
	if (strcmp(currency, "CNY") != 0)
		return fail(e, ANFU_JERR_INVALID_FIELD, "currency");
	if (!anfu_pay_out_trade_no_ok(q->out_trade_no, strlen(q->out_trade_no)))
		return fail(e, ANFU_JERR_INVALID_FIELD, "out_trade_no");
	if (strcmp(q->kind, "general") != 0 && strcmp(q->kind, "escrow") != 0 &&
	    strcmp(q->kind, "agreement") != 0)
		return fail(e, ANFU_JERR_INVALID_FIELD, "kind");
	if (q->return_url && !anfu_pay_url_ok(q->return_url, strlen(q->return_url)))
		return fail(e, ANFU_JERR_INVALID_FIELD, "return_url");
	if (q->notify_url && !anfu_pay_url_ok(q->notify_url, strlen(q->notify_url)))
		return fail(e, ANFU_JERR_INVALID_FIELD, "notify_url");
	arr = json_object_get(root, "lines");
	if (!arr)
		return fail(e, ANFU_JERR_MISSING_FIELD, "lines");
	if (!json_is_array(arr))
		return fail(e, ANFU_JERR_INVALID_FIELD, "lines");
	if (json_array_size(arr) < 1 || json_array_size(arr) > ANFU_LIMIT_PAY_LINES)
		return fail(e, ANFU_JERR_OUT_OF_RANGE, "lines");
	json_array_foreach(arr, i, v)
	{
		memset(&lines[i], 0, sizeof(lines[i]));
		if (!line_of(v, &lines[i], e))
			return false;
	}
	q->lines = lines;
	q->nlines = json_array_size(arr);
	return true;
}

/* The body as JSON with the text rule applied, or the request's failure. */
static int body_json(struct anfu_req *req, json_t **ret)
{
	struct anfu_jerr jerr = { 0 };
	json_t *root;

	if (!req->body || req->body_len == 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_JSON, NULL);
	if (anfu_json_normalize_strings(root, &jerr) < 0) {
		json_decref(root);
		return anfu_req_fail(req, ANFU_EINVAL, jerr.code,
				     jerr.field[0] ? jerr.field : NULL);
	}
	*ret = root;
	return 0;
}

int anfu_pay_api_order_create(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay_api_order_in in;
	struct anfu_pay_order *o = NULL;
	const char *code = NULL, *field = NULL;
	bool existed = false;
	int r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);

	if (r == 0)
		r = anfu_pay_api_order_begin(req, NULL, NULL, 0, NULL, &in);
	if (r < 0)
		return r;
	r = anfu_pay_order_create(in.p, &in.actor, &in.q, o, &existed, &code, &field);
	json_decref(in.root);
	if (r < 0)
		return r;
	if (code)
		return anfu_req_fail(req, ANFU_ECONFLICT, code, field);
	return anfu_pay_api_order_reply(resp, o, existed);
}

/* The order {id} of the caller's merchant, or the request's 404. */
static int own_order(struct anfu_req *req, const struct anfu_principal *pr,
		     struct anfu_pay_order *o, char **ret_id)
{
	struct anfu_db *db = NULL;
	char *id = NULL;
	int r = anfu_api_path_id(req, "ord", &id);

	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_order_get(db, id, o);
	if (r == ANFU_ENOTFOUND || (r == 0 && strcmp(o->merchant_id, pr->merchant_id) != 0))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

int anfu_pay_api_order_get(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = anfu_pay_api_merchant_user(req);
	struct anfu_pay_order *o = NULL;
	int r;

	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);
	if (r == 0)
		r = own_order(req, pr, o, NULL);
	if (r < 0)
		return r;
	resp->body = order_json(o, true);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_order_cancel(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = NULL;
	struct anfu_pay_order *o = NULL;
	const char *code = NULL;
	int r = anfu_pay_api_cancel(req, true, &pr, &o, &code);

	if (r < 0)
		return r;
	if (code)
		return anfu_pay_api_refuse(req, code, NULL, ANFU_R_PAY_ORDER_NOT_FOUND, NULL);
	resp->body = order_json(o, true);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_orders(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = anfu_pay_api_merchant_user(req);
	const char *otn = anfu_req_query(req, "out_trade_no");
	const char *cursor = anfu_req_query(req, "cursor");
	const char *lim = anfu_req_query(req, "limit");
	struct anfu_pay_order *out = NULL;
	struct anfu_db *db = NULL;
	long long limit = 20;
	size_t n = 0;
	json_t *items;
	int r;

	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	if (lim && (anfu_parse_i64(anfu_str_c(lim), &limit) < 0 || limit < 1 ||
		    limit > ANFU_LIMIT_PAY_PAGE))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
	if (otn && !anfu_pay_out_trade_no_ok(otn, strlen(otn)))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "out_trade_no");
	if (cursor && strlen(cursor) >= ANFU_ID_MAX)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "cursor");
	r = anfu_arena_alloc(req->arena, sizeof(*out) * (size_t)limit, (void **)&out);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0 && otn) {
		r = anfu_pay_order_by_out_trade_no(db, pr->merchant_id, otn, out);
		n = r == 0 ? 1 : 0;
		if (r == ANFU_ENOTFOUND)
			r = 0;
		limit = 0; /* no next page */
	} else if (r == 0) {
		r = anfu_pay_order_list(db, pr->merchant_id, cursor, out, (size_t)limit, &n);
		if (r == ANFU_EINVAL)
			return anfu_req_fail(req, r, ANFU_JERR_INVALID_FIELD, "cursor");
	}
	if (r < 0)
		return r;
	items = json_array();
	for (size_t i = 0; items && i < n; i++)
		(void)json_array_append_new(items, order_json(&out[i], otn != NULL));
	resp->body = json_pack("{s:o, s:s?}", "orders", items, "next_cursor",
			       n > 0 && n == (size_t)limit ? out[n - 1].id : NULL);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* ---- shared with the payment-code and agreement routes (module.h) ---- */

int anfu_pay_api_body(struct anfu_req *req, json_t **ret)
{
	return body_json(req, ret);
}

int anfu_pay_api_order_decode(struct anfu_req *req, json_t *root, struct anfu_pay_order_req *q,
			      struct anfu_pay_line *lines)
{
	struct body_err e = { NULL, NULL };

	if (!order_of(root, q, lines, &e))
		return anfu_req_fail(req, ANFU_EINVAL, e.code, e.field);
	return 0;
}

json_t *anfu_pay_api_order_json(const struct anfu_pay_order *o)
{
	return order_json(o, true);
}

int anfu_pay_api_order_begin(struct anfu_req *req, const char *key, char *buf, size_t cap,
			     const char *kind, struct anfu_pay_api_order_in *in)
{
	struct anfu_pay_api_order_in x;
	struct anfu_pay_line *lines = NULL;
	json_t *root = NULL, *v = NULL;
	int r;

	memset(&x, 0, sizeof(x));
	r = anfu_pay_api_who(req, true, &x.p, &x.pr);
	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lines) * ANFU_LIMIT_PAY_LINES,
				     (void **)&lines);
	if (r == 0)
		r = body_json(req, &root);
	if (r < 0)
		return r;
	if (key) {
		v = json_is_object(root) ? json_object_get(root, key) : NULL;
		if (json_is_object(root) && !v)
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_MISSING_FIELD, key);
		else if (v && !json_is_string(v))
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, key);
		else if (v && (json_string_length(v) < 1 || json_string_length(v) >= cap))
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, key);
	}
	if (r == 0 && v) {
		(void)anfu_strlcpy(buf, json_string_value(v), cap);
		(void)json_object_del(root, key);
		/* The route decides the order's kind: not the body. */
		if (json_object_get(root, "kind"))
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_UNKNOWN_FIELD, "body");
		else
			(void)json_object_set_new(root, "kind", json_string(kind));
	}
	if (r == 0)
		r = anfu_pay_api_order_decode(req, root, &x.q, lines);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	x.q.merchant_id = x.pr->merchant_id;
	x.q.user_id = x.pr->user_id;
	anfu_pay_api_actor(req, &x.actor);
	x.root = root;
	*in = x;
	return 0;
}

int anfu_pay_api_order_reply(struct anfu_resp *resp, const struct anfu_pay_order *o, bool existed)
{
	resp->status = existed ? 200 : 201;
	resp->body = order_json(o, true);
	if (resp->body)
		(void)anfu_json_set(resp->body, "existed", json_boolean(existed));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_pay_api_order_end(struct anfu_req *req, struct anfu_resp *resp, int r, const char *code,
			   const char *field, const char *not_found, const char *id, bool existed)
{
	struct anfu_pay_order *o = NULL;
	struct anfu_db *db = NULL;

	if (r < 0)
		return r;
	if (code)
		return anfu_pay_api_refuse(req, code, field, not_found, NULL);
	r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	if (r == 0)
		r = anfu_pay_order_get(db, id, o);
	if (r < 0)
		return r;
	return anfu_pay_api_order_reply(resp, o, existed);
}
