/*
 * pay/customer_orders: a customer's orders (docs/payments.md,
 * "Pay-on-behalf"; FUNC-PAY-17 "visible to both"): the orders they paid
 * (pay_order.payer_id) and those they asked another customer to pay
 * (pay_share.requester_id), each once, newest first by (created_ms, id)
 * with a cursor, filtered by state and creation time.
 *
 * The customer is always part of both branches of the query, so a cursor
 * can only move within their own orders. The paid branch walks
 * pay_order_payer (migration 0008) backwards from the cursor and stops at
 * the page; the shared branch finds the customer's shares by
 * pay_share_requester (0003) and their orders by key, and sorts those (a
 * customer's shares are few: one per order they asked someone to pay). A
 * page is its ids, then each order, its merchant and its share as the
 * single read reads them, all in one read snapshot. Owns nothing; trusts
 * its callers for the customer's id (the session's).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"

/* Both branches carry the customer, the filters, the cursor and the page
 * (so neither reads more than a page); UNION keeps an order that is both
 * paid and shared by the customer once; the outer order and limit are the
 * page's. $3 is the one upper bound of the index range (the filter's `to`
 * and the cursor's time, whichever is lower); the OR breaks a tie on the
 * cursor's time by the id. */
#define BRANCH_WHERE                                    \
	" AND o.created_ms >= $2 AND o.created_ms < $3" \
	" AND (o.created_ms < $5 OR o.id < $6)"         \
	" AND ($4 = '' OR o.state = $4)"                \
	" ORDER BY o.created_ms DESC, o.id DESC LIMIT $7"

const char anfu_pay_customer_orders_sql[] = "SELECT x.id, x.t FROM ("
					    "SELECT a.id AS id, a.t AS t FROM ("
					    "SELECT o.id AS id, o.created_ms AS t FROM pay_order o"
					    " WHERE o.payer_id = $1" BRANCH_WHERE ") a"
					    " UNION "
					    "SELECT b.id, b.t FROM ("
					    "SELECT o.id AS id, o.created_ms AS t FROM pay_share s"
					    " JOIN pay_order o ON o.id = s.order_id"
					    " WHERE s.requester_id = $1" BRANCH_WHERE ") b"
					    ") x ORDER BY x.t DESC, x.id DESC LIMIT $7";

struct ids {
	char (*id)[ANFU_ID_MAX];
	size_t cap, n;
};

static int id_row(void *ud, const struct anfu_row *row)
{
	struct ids *t = ud;

	if (t->n >= t->cap)
		return 1;
	pay_col(row, 0, t->id[t->n++], ANFU_ID_MAX);
	return 0;
}

/* Order id, its merchant and whether customer_id requested it, as the
 * single read reads them. */
static int read_one(struct anfu_db *db, const char *id, const char *customer_id,
		    struct anfu_pay_customer_order *out)
{
	struct anfu_pay_share share;
	int r = anfu_pay_order_get(db, id, &out->order);

	if (r == 0)
		r = anfu_pay_merchant_get(db, out->order.merchant_id, &out->merchant);
	if (r == ANFU_ENOTFOUND)
		return ANFU_ECORRUPT; /* the id query found it, with its merchant's key */
	if (r == 0)
		r = anfu_pay_share_get(db, id, &share);
	out->requested_by_me = r == 0 && strcmp(share.requester_id, customer_id) == 0;
	return r == ANFU_ENOTFOUND ? 0 : r;
}

int anfu_pay_customer_orders(struct anfu_pay *p, const struct anfu_pay_customer_order_query *q,
			     struct anfu_pay_customer_order *out, size_t cap, size_t *ret_n)
{
	struct ids t = { NULL, 0, 0 };
	struct anfu_db *db = NULL;
	int64_t upper;
	bool cursor;
	int r;

	if (!p || !q || !q->customer_id || !q->customer_id[0] || !out || !ret_n || q->limit < 1 ||
	    cap < q->limit ||
	    (q->status && q->status[0] &&
	     anfu_pay_state_parse(q->status, &(enum anfu_pay_state){ 0 }) < 0))
		return ANFU_EINVAL;
	cursor = q->after_id && q->after_id[0];
	upper = q->to_ms > 0 ? q->to_ms : INT64_MAX;
	/* Past the cursor: created_ms <= after_ms (no overflow: below upper). */
	if (cursor && q->after_ms < upper)
		upper = q->after_ms + 1;
	r = pay_db(p, &db);
	/* One snapshot: the page's ids and the orders read are the same. */
	if (r == 0)
		r = anfu_db_begin_read(db);
	if (r < 0)
		return r;
	t.cap = q->limit;
	t.id = anfu_xcalloc(t.cap, sizeof(*t.id));
	{
		const struct anfu_param v[7] = {
			ANFU_PS(q->customer_id),
			ANFU_PI(q->from_ms > 0 ? q->from_ms : 0),
			ANFU_PI(upper),
			ANFU_PS(q->status ? q->status : ""),
			ANFU_PI(cursor ? q->after_ms : INT64_MAX),
			ANFU_PS(cursor ? q->after_id : ""),
			ANFU_PI((int64_t)q->limit),
		};

		r = anfu_db_exec(db, anfu_pay_customer_orders_sql, v, 7, id_row, &t, NULL);
	}
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = read_one(db, t.id[i], q->customer_id, &out[i]);
	(void)anfu_db_end_read(db);
	free(t.id);
	if (r < 0)
		return r;
	*ret_n = t.n;
	return 0;
}
