/*
 * pay/api/statement: a merchant's balance and its history (FUNC-PAY-15):
 *
 * GET /api/v1/merchant/balance    -> 200 {currency, posted, available, held, incoming}
 * GET /api/v1/merchant/statement?from&to&type&cursor&limit
 *                                 -> 200 {balance{...}, items[{id, time_ms, date, time, type,
 *                                         direction, pending, amount, balance, ref}],
 *                                         next_cursor}
 *
 * Both for the merchant's users with pay.order.read; the merchant is the
 * session's, never a parameter. Cursors are MAC'd (keys, purpose
 * "pay.statement") over the merchant and the position, so a cursor works
 * only for the merchant that got it and cannot carry another balance.
 * Trusts the router's authentication.
 */
#include <string.h>

#include "api/api.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "pay/api/module.h"
#include "pay/pay.h"

static int statement_mac(void *ud, const char *text, size_t len, uint8_t out[32])
{
	const struct anfu_app *app = ud;

	return anfu_keys_mac(app->keys, "pay.statement", text, len, out);
}

static const struct anfu_principal *merchant_of(struct anfu_req *req)
{
	const struct anfu_principal *pr = req->principal;

	return pr && pr->kind == ANFU_USER_MERCHANT && pr->merchant_id[0] ? pr : NULL;
}

static json_t *balance_json(const struct anfu_pay_merchant_balance *b)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I}", "currency", "CNY", "posted",
			 (json_int_t)b->posted, "available", (json_int_t)b->available, "held",
			 (json_int_t)b->held, "incoming", (json_int_t)b->incoming);
}

int anfu_pay_api_merchant_balance(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = merchant_of(req);
	struct anfu_pay_merchant_balance b;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_pay_merchant_balance(p, pr->merchant_id, &b);
	if (r < 0)
		return r;
	resp->body = balance_json(&b);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

static json_t *row_json(const struct anfu_pay_statement_row *o)
{
	char date[16], tod[16];

	anfu_clock_format_cn(o->time_ms, date, tod);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s, s:s}", "id", o->id,
			 "time_ms", (json_int_t)o->time_ms, "date", date, "time", tod, "type",
			 o->type, "direction", o->credit ? "in" : "out", "pending", o->pending,
			 "amount", (json_int_t)o->amount, "balance", (json_int_t)o->balance,
			 "currency", "CNY", "ref", o->ref);
}

int anfu_pay_api_merchant_statement(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	const struct anfu_principal *pr = merchant_of(req);
	const char *lim = anfu_req_query(req, "limit");
	const char *bad = NULL, *code = ANFU_JERR_INVALID_FIELD;
	char scope[ANFU_LIMIT_LEDGER_OWNER_BYTES + 4], next[ANFU_LEDGER_STATEMENT_CURSOR_MAX];
	struct anfu_pay_statement_req q;
	struct anfu_pay_statement_row *rows = NULL;
	struct anfu_pay_merchant_balance b;
	long long limit = 20;
	size_t n = 0;
	json_t *items = NULL;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	if (!pr)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	memset(&q, 0, sizeof(q));
	(void)snprintf(scope, sizeof(scope), "m:%s", pr->merchant_id);
	q.merchant_id = pr->merchant_id;
	q.scope = scope;
	q.cursor = anfu_req_query(req, "cursor");
	q.type = anfu_req_query(req, "type");
	q.mac = statement_mac;
	q.mac_ud = (void *)req->app;
	if (lim && (anfu_parse_i64(anfu_str_c(lim), &limit) < 0 || limit < 1 ||
		    limit > ANFU_LIMIT_LEDGER_HISTORY))
		bad = "limit", code = ANFU_JERR_OUT_OF_RANGE;
	if (!bad && !anfu_pay_api_ms_param(req, "from", &q.from_ms))
		bad = "from";
	if (!bad && !anfu_pay_api_ms_param(req, "to", &q.to_ms))
		bad = "to";
	if (!bad && q.type && !anfu_ledger_code_ok(q.type))
		bad = "type";
	if (!bad && q.cursor && strlen(q.cursor) >= ANFU_LEDGER_STATEMENT_CURSOR_MAX)
		bad = "cursor";
	if (bad)
		return anfu_req_fail(req, ANFU_EINVAL, code, bad);
	q.limit = (size_t)limit;
	rows = anfu_xcalloc(q.limit, sizeof(*rows));
	r = anfu_pay_merchant_statement(p, &q, rows, q.limit, &n, next, &b);
	if (r == ANFU_EINVAL) {
		/* The arguments are checked above: what is left is the cursor. */
		free(rows);
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_INVALID_FIELD, "cursor");
	}
	if (r == 0)
		items = json_array();
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *j = row_json(&rows[i]);

		if (!j || json_array_append_new(items, j) < 0)
			r = ANFU_EINTERNAL;
	}
	free(rows);
	if (r == 0 && !items)
		r = ANFU_EINTERNAL;
	if (r == 0) {
		resp->body = json_pack("{s:o, s:o, s:s?}", "balance", balance_json(&b), "items",
				       items, "next_cursor", next[0] ? next : NULL);
		items = NULL;
		if (!resp->body)
			r = ANFU_EINTERNAL;
	}
	json_decref(items);
	return r;
}
