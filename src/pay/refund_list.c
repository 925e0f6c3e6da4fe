/*
 * pay/refund_list: lists of refunds (docs/payments.md "Refund lists"): a
 * merchant's, a customer's, and the operators' (the review queue: refunds
 * in reviewing, and those in waiting_funds), filtered by state, order,
 * time and party, newest first by (created_ms, id) with a cursor.
 *
 * The scope (a merchant's, a payer's) is always part of the query, so a
 * cursor can only move within what the caller may see. A page is its ids
 * first, then each refund as anfu_pay_refund_get reads it (one reader of
 * pay_refund rows). Owns nothing; trusts its own rows.
 *
 * Also the report of a refund that waits for the merchant's funds
 * (FUNC-OPS-05): a notice to the merchant's users through iam.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/money.h"
#include "iam/iam.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"

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

int anfu_pay_refunds(struct anfu_pay *p, const struct anfu_pay_refund_query *q,
		     struct anfu_pay_refund *out, size_t cap, size_t *ret_n)
{
	struct ids t = { NULL, 0, 0 };
	struct anfu_db *db = NULL;
	int r;

	if (!p || !q || !out || !ret_n || q->limit < 1 || cap < q->limit ||
	    (q->status && q->status[0] &&
	     anfu_pay_refund_state_parse(q->status, &(enum anfu_pay_refund_state){ 0 }) < 0))
		return ANFU_EINVAL;
	t.cap = q->limit;
	t.id = anfu_xcalloc(t.cap, sizeof(*t.id));
	{
		const struct anfu_param v[9] = {
			ANFU_PS(q->merchant_id ? q->merchant_id : ""),
			ANFU_PS(q->payer_id ? q->payer_id : ""),
			ANFU_PS(q->order_id ? q->order_id : ""),
			ANFU_PS(q->status ? q->status : ""),
			ANFU_PI(q->from_ms > 0 ? q->from_ms : 0),
			ANFU_PI(q->to_ms > 0 ? q->to_ms : INT64_MAX),
			ANFU_PI(q->after_id && q->after_id[0] ? q->after_ms : INT64_MAX),
			ANFU_PS(q->after_id && q->after_id[0] ? q->after_id : ""),
			ANFU_PI((int64_t)q->limit),
		};

		r = pay_db(p, &db);
		if (r == 0)
			r = anfu_db_exec(db,
					 "SELECT id FROM pay_refund"
					 " WHERE ($1 = '' OR merchant_id = $1)"
					 " AND ($2 = '' OR payer_id = $2)"
					 " AND ($3 = '' OR order_id = $3)"
					 " AND ($4 = '' OR state = $4)"
					 " AND created_ms >= $5 AND created_ms < $6"
					 " AND ($8 = '' OR created_ms < $7 OR"
					 " (created_ms = $7 AND id < $8))"
					 " ORDER BY created_ms DESC, id DESC LIMIT $9",
					 v, 9, id_row, &t, NULL);
	}
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = anfu_pay_refund_get(db, t.id[i], &out[i]);
	free(t.id);
	if (r < 0)
		return r;
	*ret_n = t.n;
	return 0;
}

int pay_refund_waiting_notice_in(struct anfu_pay *p, struct anfu_tx *tx,
				 const struct anfu_pay_order *o, const struct anfu_pay_refund *x)
{
	char figures[32], zh[512], en[512];
	const struct anfu_iam_notice n = { "pay.refund.waiting_funds", "退款待处理通知", zh,
					   "Refund waiting for funds", en };
	int r;

	if (!p || !tx || !o || !x)
		return ANFU_EINVAL;
	r = anfu_money_format(x->amount, 2, figures, sizeof(figures));
	if (r < 0)
		return r;
	(void)snprintf(zh, sizeof(zh),
		       "【安付】退款 %s（订单 %s，%s 元）因商户余额不足暂未完成，"
		       "余额足够后将自动重试。请及时补足余额。",
		       x->id, o->out_trade_no, figures);
	(void)snprintf(en, sizeof(en),
		       "[anfu] Refund %s of order %s (CNY %s) is waiting: the merchant balance is "
		       "short. It is retried automatically once the balance covers it; please "
		       "top up.",
		       x->id, o->out_trade_no, figures);
	return anfu_iam_notify_merchant(p->iam, tx, x->merchant_id, &n, NULL);
}
