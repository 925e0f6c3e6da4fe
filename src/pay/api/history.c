/*
 * pay/api/history: transaction history, its CSV download and merchants'
 * receipts (FUNC-PAY-14/15/16; docs/payments.md "History and download"):
 * GET /api/v1/me/payments                a customer's payments and refunds
 * GET /api/v1/merchant/transactions      a merchant user's merchant's
 * GET /admin/v1/transactions             operators with pay.transaction.read
 * GET /api/v1/merchant/receipts/{kind}/{ref}  a merchant's receipts: kind
 *     "payment" (pmt_) and "refund" (rfd_, once succeeded), of the caller's
 *     merchant only (the receipt service checks the party), pay.order.read
 * Rows are payments and refunds (type "payment" | "refund") in one time
 * order. Each list takes from, to (ms), type, status, counterparty (customers: a
 * merchant id; merchants: payer, the payer's mobile, email or login; operators:
 * customer, merchant), cursor, limit; format=csv
 * answers the same query as a CSV file of at most ANFU_LIMIT_PAY_CSV_ROWS
 * rows (more: field_out_of_range "to"), and every download is audited
 * "pay.transactions.download" (who, the filter, the rows).
 *
 * The scope comes from the session (the merchant id, the customer id),
 * never from the query. Cursors are "<ms>.<id>.<mac>", the MAC (keys,
 * purpose "pay.history") over the scope and the position: a cursor works
 * only for the scope that got it. Trusts the router's authentication.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "pay/api/module.h"
#include "pay/pay.h"
#include "receipt/receipt.h"
#include "tx/tx.h"

#define MAC_CHARS 32
#define CURSOR_MAX ANFU_PAY_API_CURSOR_MAX

enum view {
	VIEW_CUSTOMER,
	VIEW_MERCHANT,
	VIEW_OPERATOR
};

struct hq {
	enum view view;
	struct anfu_pay_tx_query q;
	const char *scope; /* what the cursor MAC binds: "c:usr_..", "m:..", "o:" */
	bool csv;
	char payer[ANFU_ID_MAX]; /* a merchant's payer filter, as iam found it */
};

/* A merchant's payer filter that names no active customer: no row has
 * this payer ("-" is no user id), so the answer is an empty list, as for
 * a customer who never paid the merchant (nobody learns which). */
#define NO_PAYER "-"

/* The merchant's payer=<mobile, email or login name>: the customer iam
 * finds by it (as a transfer's payee is found), or NO_PAYER. Returns false
 * for a value that cannot be one. */
static bool payer_param(struct anfu_req *req, struct hq *h, int *ret_err)
{
	const struct anfu_app *app = req->app;
	const char *s = anfu_req_query(req, "payer");
	struct anfu_iam_party party;
	size_t n;
	int r;

	*ret_err = 0;
	if (!s)
		return true;
	n = strlen(s);
	if (n == 0 || n > ANFU_LIMIT_WALLET_PAYEE_BYTES)
		return false;
	r = anfu_iam_customer_find(app->iam, s, &party);
	if (r == 0)
		(void)anfu_strlcpy(h->payer, party.id, sizeof(h->payer));
	else if (r == ANFU_ENOTFOUND)
		(void)anfu_strlcpy(h->payer, NO_PAYER, sizeof(h->payer));
	else
		*ret_err = r;
	h->q.payer_id = h->payer;
	return true;
}

/* The cursor helpers are also the refund lists' (pay/api/refund_list.c). */
static int cursor_mac(const struct anfu_req *req, const char *scope, int64_t ms, const char *id,
		      char out[MAC_CHARS + 1])
{
	const struct anfu_app *app = req->app;
	char text[256], hex[2 * ANFU_HASH_LEN + 1];
	uint8_t mac[ANFU_HASH_LEN];
	int n = snprintf(text, sizeof(text), "%s|%" PRId64 "|%s", scope, ms, id);
	int r;

	if (n < 0 || (size_t)n >= sizeof(text))
		return ANFU_EINVAL;
	r = anfu_keys_mac(app->keys, "pay.history", text, (size_t)n, mac);
	if (r == 0) {
		anfu_hex_encode(mac, sizeof(mac), hex);
		(void)anfu_strlcpy(out, hex, MAC_CHARS + 1);
	}
	return r;
}

/* "<ms>.<id>.<mac>" into (ms, id) when the MAC is ours for scope. */
int anfu_pay_api_cursor_parse(const struct anfu_req *req, const char *scope, const char *c,
			      int64_t *ret_ms, char id[ANFU_ID_MAX])
{
	size_t len = strnlen(c, CURSOR_MAX);
	const char *d1 = memchr(c, '.', len), *d2;
	char num[24], mac[MAC_CHARS + 1], tid[ANFU_ID_MAX];
	long long v;

	if (len >= CURSOR_MAX || !d1)
		return ANFU_EINVAL;
	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - c));
	if (!d2 || d1 == c || (size_t)(d1 - c) >= sizeof(num) || d2 == d1 + 1 ||
	    (size_t)(d2 - d1 - 1) >= ANFU_ID_MAX || strlen(d2 + 1) != MAC_CHARS)
		return ANFU_EINVAL;
	memcpy(num, c, (size_t)(d1 - c));
	num[d1 - c] = '\0';
	memcpy(tid, d1 + 1, (size_t)(d2 - d1 - 1));
	tid[d2 - d1 - 1] = '\0';
	if (anfu_parse_i64(anfu_str_c(num), &v) < 0)
		return ANFU_EINVAL;
	if (cursor_mac(req, scope, (int64_t)v, tid, mac) < 0 ||
	    !anfu_crypto_equal(mac, d2 + 1, MAC_CHARS))
		return ANFU_EINVAL;
	*ret_ms = (int64_t)v;
	(void)anfu_strlcpy(id, tid, ANFU_ID_MAX);
	return 0;
}

int anfu_pay_api_cursor_make(const struct anfu_req *req, const char *scope, int64_t ms,
			     const char *id, char out[ANFU_PAY_API_CURSOR_MAX])
{
	char mac[MAC_CHARS + 1];
	int r = cursor_mac(req, scope, ms, id, mac);
	int n;

	if (r < 0)
		return r;
	n = snprintf(out, CURSOR_MAX, "%" PRId64 ".%s.%s", ms, id, mac);
	return n < 0 || n >= CURSOR_MAX ? ANFU_ELIMIT : 0;
}

/* An optional non-negative ms query parameter. */
bool anfu_pay_api_ms_param(const struct anfu_req *req, const char *name, int64_t *ret)
{
	const char *s = anfu_req_query(req, name);
	long long v;

	if (!s)
		return true;
	if (anfu_parse_i64(anfu_str_c(s), &v) < 0 || v < 0)
		return false;
	*ret = (int64_t)v;
	return true;
}

/* An optional id-like query parameter ([A-Za-z0-9_.-], < ANFU_ID_MAX). */
bool anfu_pay_api_id_param(const struct anfu_req *req, const char *name, const char **ret)
{
	const char *s = anfu_req_query(req, name);
	size_t n;

	if (!s)
		return true;
	n = strlen(s);
	if (n == 0 || n >= ANFU_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	*ret = s;
	return true;
}

/* The lists' own filters into h (the rest of the query is every list's,
 * anfu_pay_api_page_query): type, status; customers counterparty,
 * operators customer and merchant, merchants payer. */
static const char *history_filters(struct anfu_req *req, const char *status, void *ud, int *ret_err)
{
	struct hq *h = ud;
	const char *type = anfu_req_query(req, "type");

	if (type && strcmp(type, "payment") != 0 && strcmp(type, "refund") != 0)
		return "type";
	if (status && !anfu_pay_tx_status_ok(status))
		return "status";
	if (h->view == VIEW_CUSTOMER &&
	    !anfu_pay_api_id_param(req, "counterparty", &h->q.merchant_id))
		return "counterparty";
	if (h->view == VIEW_OPERATOR && !anfu_pay_api_id_param(req, "customer", &h->q.payer_id))
		return "customer";
	if (h->view == VIEW_OPERATOR && !anfu_pay_api_id_param(req, "merchant", &h->q.merchant_id))
		return "merchant";
	if (h->view == VIEW_MERCHANT && !payer_param(req, h, ret_err))
		return "payer";
	h->q.type = type;
	return NULL;
}

/* The query into h (format, then the page query): a CSV download takes
 * up to ANFU_LIMIT_PAY_CSV_ROWS rows (all of them by default) and no
 * cursor. Returns 0, or the refusal answered on req, or an error. */
static int parse_query(struct anfu_req *req, struct hq *h, struct anfu_pay_api_page *pg)
{
	const char *fmt = anfu_req_query(req, "format");
	int r;

	if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "format");
	h->csv = fmt && strcmp(fmt, "csv") == 0;
	r = anfu_pay_api_page_query(
		req,
		&(struct anfu_pay_api_page_rules){
			.scope = h->csv ? NULL : h->scope,
			.limit_default =
				h->csv ? ANFU_LIMIT_PAY_CSV_ROWS : ANFU_PAY_API_PAGE_DEFAULT,
			.limit_max = h->csv ? ANFU_LIMIT_PAY_CSV_ROWS : ANFU_LIMIT_PAY_PAGE,
			.filters = history_filters,
			.ud = h,
		},
		pg);
	if (r < 0)
		return r;
	h->q.from_ms = pg->from_ms;
	h->q.to_ms = pg->to_ms;
	h->q.status = pg->status;
	h->q.after_ms = pg->after_ms;
	h->q.after_id = pg->after_id;
	h->q.limit = pg->limit;
	return 0;
}

static json_t *row_json(const struct hq *h, const struct anfu_pay_tx_row *o)
{
	char date[16], tod[16];
	json_t *j;

	anfu_clock_format_cn(o->time_ms, date, tod);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "type",
		      o->type, "id", o->id, "order_id", o->order_id, "merchant_id", o->merchant_id,
		      "merchant_name", o->merchant_name, "payer", o->payer_shown, "amount",
		      (json_int_t)o->amount, "currency", "CNY", "status", o->status_name, "time_ms",
		      (json_int_t)o->time_ms, "date", date, "time", tod);
	if (j && h->view != VIEW_CUSTOMER) {
		(void)json_object_set_new(j, "fee", json_integer(o->fee));
		(void)json_object_set_new(j, "out_trade_no", json_string(o->out_trade_no));
	}
	if (j && h->view == VIEW_OPERATOR)
		(void)json_object_set_new(j, "payer_id", json_string(o->payer_id));
	if (j && h->view != VIEW_CUSTOMER && o->out_refund_no[0])
		(void)json_object_set_new(j, "out_refund_no", json_string(o->out_refund_no));
	/* Where a refund's money goes: the wallet, or the bound card (masked). */
	if (j && strcmp(o->type, "refund") == 0) {
		(void)json_object_set_new(j, "destination", json_string(o->destination));
		(void)json_object_set_new(j, "card",
					  o->card[0] ? json_string(o->card) : json_null());
	}
	/* A succeeded refund's receipt (kind "refund", ref its id). */
	if (j && strcmp(o->type, "refund") == 0 && strcmp(o->status_name, "succeeded") == 0)
		(void)json_object_set_new(j, "receipt",
					  json_pack("{s:s, s:s}", "kind",
						    ANFU_PAY_REFUND_RECEIPT_KIND, "ref", o->id));
	if (j)
		(void)json_object_set_new(j, "subject", json_string(o->subject));
	if (j)
		(void)json_object_set_new(
			j, "counterparty",
			json_string(h->view == VIEW_CUSTOMER ? o->merchant_name : o->payer_shown));
	return j;
}

/* Amount in yuan with two decimals, from fen (no floating point). */
static void yuan(int64_t fen, char out[32])
{
	(void)snprintf(out, 32, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
}

static int csv_row(struct anfu_buf *b, const struct hq *h, const struct anfu_pay_tx_row *o)
{
	char date[16], tod[16], amt[32], fee[32];
	const char *cells[14];
	size_t n = 0;
	int r = 0;

	anfu_clock_format_cn(o->time_ms, date, tod);
	yuan(o->amount, amt);
	yuan(o->fee, fee);
	cells[n++] = date;
	cells[n++] = tod;
	cells[n++] = o->type;
	cells[n++] = o->id;
	cells[n++] = o->order_id;
	cells[n++] = h->view == VIEW_CUSTOMER ? o->merchant_name : o->payer_shown;
	cells[n++] = amt;
	cells[n++] = "CNY";
	cells[n++] = o->status_name;
	cells[n++] = o->subject;
	if (h->view != VIEW_CUSTOMER) {
		cells[n++] = fee;
		/* What a merchant reconciles a row by: its own numbers. */
		cells[n++] = o->out_trade_no;
		cells[n++] = o->out_refund_no;
	}
	cells[n++] = o->destination; /* refunds: wallet | card; payments "" */
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (i > 0)
			r = anfu_buf_append(b, ",", 1);
		if (r == 0)
			r = anfu_pay_csv_cell(b, cells[i]);
	}
	if (r == 0)
		r = anfu_buf_append(b, "\r\n", 2);
	return r;
}

/* "pay.transactions.download" of who asked, the filter and the rows. */
static int audit_download(struct anfu_req *req, const struct hq *h, size_t rows,
			  const char *outcome)
{
	const struct anfu_app *app = req->app;
	struct anfu_actor a;
	json_t *d = json_pack("{s:s, s:s?, s:s?, s:I, s:I, s:s?, s:s?, s:I}", "scope", h->scope,
			      "merchant", h->q.merchant_id, "customer", h->q.payer_id, "from",
			      (json_int_t)h->q.from_ms, "to", (json_int_t)h->q.to_ms, "type",
			      h->q.type, "status", h->q.status, "rows", (json_int_t)rows);
	struct anfu_audit_event ev = {
		&a, "pay.transactions.download", "pay_transactions", h->scope, outcome, d
	};
	int r;

	anfu_pay_api_actor(req, &a);
	r = d ? anfu_tx_record(app->tx, &ev) : ANFU_EINTERNAL;
	json_decref(d);
	return r;
}

static int send_csv(struct anfu_req *req, struct anfu_resp *resp, const struct hq *h,
		    const struct anfu_pay_tx_row *rows, size_t n)
{
	static const char head_c[] =
		"\xEF\xBB\xBF\"date\",\"time\",\"type\",\"id\",\"order_id\",\"counterparty\","
		"\"amount_cny\",\"currency\",\"status\",\"subject\",\"destination\"\r\n";
	static const char head_m[] =
		"\xEF\xBB\xBF\"date\",\"time\",\"type\",\"id\",\"order_id\",\"counterparty\","
		"\"amount_cny\",\"currency\",\"status\",\"subject\",\"fee_cny\","
		"\"out_trade_no\",\"out_refund_no\",\"destination\"\r\n";
	struct anfu_buf b;
	char *copy = NULL;
	int r;

	anfu_buf_init(&b, ANFU_LIMIT_ARENA_SLACK * 4);
	r = anfu_buf_appends(&b, h->view == VIEW_CUSTOMER ? head_c : head_m);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = csv_row(&b, h, &rows[i]);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, b.data, b.len, &copy);
	if (r == 0)
		r = audit_download(req, h, n, "success");
	if (r == 0)
		r = anfu_resp_header(resp, "Content-Disposition",
				     "attachment; filename=\"transactions.csv\"");
	if (r == 0) {
		resp->raw = copy;
		resp->raw_len = b.len;
		resp->content_type = "text/csv; charset=utf-8";
	}
	anfu_buf_free(&b);
	return r;
}

static int list(struct anfu_req *req, struct anfu_resp *resp, struct hq *h)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_tx_row *rows = NULL;
	struct anfu_pay_api_page pg;
	char next[CURSOR_MAX];
	bool more;
	size_t n = 0;
	json_t *items;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = parse_query(req, h, &pg);
	if (r < 0)
		return r;
	/* One row more than asked tells whether there is more. */
	h->q.limit++;
	rows = anfu_xcalloc(h->q.limit, sizeof(*rows));
	r = anfu_pay_transactions(p, &h->q, rows, h->q.limit, &n);
	h->q.limit--;
	more = r == 0 && n > h->q.limit;
	if (r == 0 && h->csv && more) {
		/* Refused, and audited as such: nothing was downloaded. */
		r = audit_download(req, h, 0, "failure");
		if (r == 0)
			r = anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "to");
		goto out;
	}
	if (r < 0 || h->csv) {
		if (r == 0)
			r = send_csv(req, resp, h, rows, n);
		goto out;
	}
	next[0] = '\0';
	if (more)
		n = h->q.limit;
	if (more)
		r = anfu_pay_api_cursor_make(req, h->scope, rows[n - 1].time_ms, rows[n - 1].id,
					     next);
	items = r == 0 ? json_array() : NULL;
	for (size_t i = 0; items && i < n; i++)
		(void)json_array_append_new(items, row_json(h, &rows[i]));
	if (r == 0) {
		resp->body = json_pack("{s:o, s:s?}", "transactions", items, "next_cursor",
				       next[0] ? next : NULL);
		r = resp->body ? 0 : ANFU_EINTERNAL;
	}
out:
	free(rows);
	return r;
}

int anfu_pay_api_me_payments(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = req->principal;
	char scope[ANFU_ID_MAX + 4];
	struct hq h;

	if (!pr || pr->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	memset(&h, 0, sizeof(h));
	h.view = VIEW_CUSTOMER;
	h.q.payer_id = pr->user_id;
	(void)snprintf(scope, sizeof(scope), "c:%s", pr->user_id);
	h.scope = scope;
	return list(req, resp, &h);
}

int anfu_pay_api_merchant_transactions(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = req->principal;
	char scope[ANFU_LIMIT_LEDGER_OWNER_BYTES + 4];
	struct hq h;

	if (!pr || pr->kind != ANFU_USER_MERCHANT || !pr->merchant_id[0])
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	memset(&h, 0, sizeof(h));
	h.view = VIEW_MERCHANT;
	h.q.merchant_id = pr->merchant_id;
	(void)snprintf(scope, sizeof(scope), "m:%s", pr->merchant_id);
	h.scope = scope;
	return list(req, resp, &h);
}

int anfu_pay_api_admin_transactions(struct anfu_req *req, struct anfu_resp *resp)
{
	struct hq h;

	memset(&h, 0, sizeof(h));
	h.view = VIEW_OPERATOR;
	h.scope = "o:";
	return list(req, resp, &h);
}

/* A path segment of [A-Za-z0-9_], 1..cap-1 bytes, copied into out. */
static bool segment(const struct anfu_req *req, const char *name, char *out, size_t cap)
{
	struct anfu_str s = anfu_req_param(req, name);

	if (!s.ptr || s.len == 0 || s.len >= cap)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return true;
}

int anfu_pay_api_merchant_receipt(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = req->principal;
	const struct anfu_app *app = req->app;
	struct anfu_receipt *rs = NULL;
	struct anfu_receipt_viewer v = { ANFU_RECEIPT_VIEWER_MERCHANT, NULL };
	char kind[ANFU_RECEIPT_KIND_MAX], ref[ANFU_ID_MAX], id[ANFU_ID_MAX], disp[96];
	char *doc = NULL, *copy = NULL, *dispo = NULL;
	struct anfu_actor a;
	size_t len = 0;
	int r;

	if (!pr || pr->kind != ANFU_USER_MERCHANT || !pr->merchant_id[0])
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, "receipt") == 0 && app->services)
			rs = app->services[i];
	if (!rs)
		return ANFU_EINTERNAL;
	if (!segment(req, "kind", kind, sizeof(kind)) || !segment(req, "ref", ref, sizeof(ref)))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	v.id = pr->merchant_id;
	anfu_pay_api_actor(req, &a);
	r = anfu_receipt_get(rs, &a, &v, kind, ref, &doc, &len, id);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	r = anfu_arena_strndup(req->arena, doc, len, &copy);
	free(doc);
	(void)snprintf(disp, sizeof(disp), "attachment; filename=\"%s.json\"", id);
	if (r == 0)
		r = anfu_arena_strndup(req->arena, disp, strlen(disp), &dispo);
	if (r == 0)
		r = anfu_resp_header(resp, "Content-Disposition", dispo);
	if (r < 0)
		return r;
	resp->raw = copy;
	resp->raw_len = len;
	resp->content_type = "application/json";
	return 0;
}
