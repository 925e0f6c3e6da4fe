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
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/pay.h"

enum view {
	VIEW_CUSTOMER,
	VIEW_MERCHANT,
	VIEW_OPERATOR
};

struct filters {
	enum view view;
	struct anfu_pay_refund_query *q;
};

/* The lists' own filters into q (the rest of the query is every list's,
 * anfu_pay_api_page_query): status a refund state, order; customers
 * counterparty, operators customer and merchant. */
static const char *refund_filters(struct anfu_req *req, const char *status, void *ud, int *ret_err)
{
	const struct filters *f = ud;
	struct anfu_pay_refund_query *q = f->q;

	(void)ret_err;
	if (status && anfu_pay_refund_state_parse(status, &(enum anfu_pay_refund_state){ 0 }) < 0)
		return "status";
	if (!anfu_pay_api_id_param(req, "order", &q->order_id))
		return "order";
	if (f->view == VIEW_CUSTOMER &&
	    !anfu_pay_api_id_param(req, "counterparty", &q->merchant_id))
		return "counterparty";
	if (f->view == VIEW_OPERATOR && !anfu_pay_api_id_param(req, "customer", &q->payer_id))
		return "customer";
	if (f->view == VIEW_OPERATOR && !anfu_pay_api_id_param(req, "merchant", &q->merchant_id))
		return "merchant";
	return NULL;
}

static int list(struct anfu_req *req, struct anfu_resp *resp, enum view view, const char *scope,
		struct anfu_pay_refund_query *q)
{
	struct anfu_pay *p = anfu_pay_api_service(req);
	struct anfu_pay_refund *rows = NULL;
	struct anfu_pay_api_page pg;
	char next[ANFU_PAY_API_CURSOR_MAX];
	bool more;
	size_t n = 0;
	json_t *items;
	int r;

	if (!p)
		return ANFU_EINTERNAL;
	r = anfu_pay_api_page_query(req,
				    &(struct anfu_pay_api_page_rules){
					    .scope = scope,
					    .limit_default = ANFU_PAY_API_PAGE_DEFAULT,
					    .limit_max = ANFU_LIMIT_PAY_PAGE,
					    .filters = refund_filters,
					    .ud = &(struct filters){ view, q },
				    },
				    &pg);
	if (r < 0)
		return r;
	q->from_ms = pg.from_ms;
	q->to_ms = pg.to_ms;
	q->status = pg.status;
	q->after_ms = pg.after_ms;
	q->after_id = pg.after_id;
	q->limit = pg.limit;
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
