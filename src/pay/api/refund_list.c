/*
 * pay/api/refund_list: lists of refunds (docs/payments.md "Refund lists"):
 * GET /api/v1/merchant/refunds   a merchant user's merchant's (pay.refund.read)
 * GET /admin/v1/refunds          operators (pay.refund.list): any merchant's;
 *                                the review queue is status=reviewing, the
 *                                refunds waiting for funds status=waiting_funds
 * GET /api/v1/me/refunds         a customer's own refunds, of any merchant
 * Each takes status (a refund state), order (ord_...), from, to (ms of
 * created_ms), cursor, limit (1..ANFU_LIMIT_PAY_PAGE, 20); operators also
 * merchant and customer, customers counterparty (a merchant id). Answers
 * {refunds: [the refund as its routes show it], next_cursor}; operators'
 * items also carry payer_id, approved_by (four eyes' first, or null) and
 * the card an operator chose (chosen_card_id, chosen_card, or null).
 *
 * The scope comes from the session (the merchant id, the customer id),
 * never from the query; cursors are the history's (pay/api/history.c),
 * their MAC bound to "refunds.<scope>". Trusts the router's
 * authentication and permission check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"

enum view {
	VIEW_CUSTOMER,
	VIEW_MERCHANT,
	VIEW_OPERATOR
};

/* The query's filters into q; a refusal already answered otherwise. */
static int parse_query(struct anfu_req *req, enum view view, const char *scope,
		       struct anfu_pay_refund_query *q, char after_id[ANFU_ID_MAX],
		       bool *ret_refused)
{
	const char *status = anfu_req_query(req, "status");
	const char *lim = anfu_req_query(req, "limit");
	const char *cursor = anfu_req_query(req, "cursor");
	const char *bad = NULL, *code = ANFU_JERR_INVALID_FIELD;
	long long limit = 20;

	*ret_refused = true;
	if (lim && (anfu_parse_i64(anfu_str_c(lim), &limit) < 0 || limit < 1 ||
		    limit > ANFU_LIMIT_PAY_PAGE))
		bad = "limit", code = ANFU_JERR_OUT_OF_RANGE;
	if (!bad && !anfu_pay_api_ms_param(req, "from", &q->from_ms))
		bad = "from";
	if (!bad && !anfu_pay_api_ms_param(req, "to", &q->to_ms))
		bad = "to";
	if (!bad && status &&
	    anfu_pay_refund_state_parse(status, &(enum anfu_pay_refund_state){ 0 }) < 0)
		bad = "status";
	if (!bad && !anfu_pay_api_id_param(req, "order", &q->order_id))
		bad = "order";
	if (!bad && view == VIEW_CUSTOMER &&
	    !anfu_pay_api_id_param(req, "counterparty", &q->merchant_id))
		bad = "counterparty";
	if (!bad && view == VIEW_OPERATOR && !anfu_pay_api_id_param(req, "customer", &q->payer_id))
		bad = "customer";
	if (!bad && view == VIEW_OPERATOR &&
	    !anfu_pay_api_id_param(req, "merchant", &q->merchant_id))
		bad = "merchant";
	if (!bad && cursor &&
	    anfu_pay_api_cursor_parse(req, scope, cursor, &q->after_ms, after_id) < 0)
		bad = "cursor";
	if (bad)
		return anfu_req_fail(req, ANFU_EINVAL, code, bad);
	q->status = status;
	q->after_id = cursor ? after_id : NULL;
	q->limit = (size_t)limit;
	*ret_refused = false;
	return 0;
}

static int list(struct anfu_req *req, struct anfu_resp *resp, enum view view, const char *scope,
		struct anfu_pay_refund_query *q)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_refund *rows = NULL;
	char after_id[ANFU_ID_MAX], next[ANFU_PAY_API_CURSOR_MAX];
	bool refused = false, more;
	size_t n = 0;
	json_t *items;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = parse_query(req, view, scope, q, after_id, &refused);
	if (refused || r < 0)
		return r;
	/* One row more than asked tells whether there is more. */
	rows = anfu_xcalloc(q->limit + 1, sizeof(*rows));
	q->limit++;
	r = anfu_pay_refunds(p, q, rows, q->limit, &n);
	q->limit--;
	more = r == 0 && n > q->limit;
	next[0] = '\0';
	if (more) {
		n = q->limit;
		r = anfu_pay_api_cursor_make(req, scope, rows[n - 1].created_ms, rows[n - 1].id,
					     next);
	}
	items = r == 0 ? json_array() : NULL;
	for (size_t i = 0; items && i < n; i++) {
		/* Operators also see the payer, the first approver of four eyes
		 * (the second operator must be another one) and the card an
		 * operator chose. */
		json_t *j = view == VIEW_OPERATOR ? anfu_pay_api_refund_operator_json(&rows[i])
						  : anfu_pay_api_refund_json(&rows[i]);

		(void)json_array_append_new(items, j);
	}
	if (r == 0) {
		resp->body = json_pack("{s:o, s:s?}", "refunds", items, "next_cursor",
				       next[0] ? next : NULL);
		r = resp->body ? 0 : ANFU_EINTERNAL;
	}
	free(rows);
	return r;
}

int anfu_pay_api_merchant_refunds(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = req->principal;
	char scope[ANFU_LIMIT_LEDGER_OWNER_BYTES + 16];
	struct anfu_pay_refund_query q;

	if (!pr || pr->kind != ANFU_USER_MERCHANT || !pr->merchant_id[0])
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	memset(&q, 0, sizeof(q));
	q.merchant_id = pr->merchant_id;
	(void)snprintf(scope, sizeof(scope), "refunds.m:%s", pr->merchant_id);
	return list(req, resp, VIEW_MERCHANT, scope, &q);
}

int anfu_pay_api_admin_refunds(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_pay_refund_query q;

	memset(&q, 0, sizeof(q));
	return list(req, resp, VIEW_OPERATOR, "refunds.o:", &q);
}

int anfu_pay_api_me_refunds(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *pr = req->principal;
	char scope[ANFU_ID_MAX + 16];
	struct anfu_pay_refund_query q;

	if (!pr || pr->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	memset(&q, 0, sizeof(q));
	q.payer_id = pr->user_id;
	(void)snprintf(scope, sizeof(scope), "refunds.c:%s", pr->user_id);
	return list(req, resp, VIEW_CUSTOMER, scope, &q);
}
