/*
 * pay/dispute: a paid order as a dispute subject (kind "order";
 * docs/disputes.md, docs/payments.md "Refunds"): the payer lodges, the
 * merchant is the other party, a resolution's refund is a refund of the
 * order (origin "dispute") through pay/refund.c, reviewed already by the
 * operator who resolved the dispute.
 *
 * Trusts the dispute module for the asking user (the session's) and for
 * the amount's bound by the subject's amount; the refund's own bound (the
 * order's refunds within the amount paid) is checked in its command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "dispute/dispute.h"
#include "iam/iam.h"
#include "pay/internal.h"
#include "pay/pay.h"

static int order_lookup(void *ud, const char *ref, const char *user_id,
			struct anfu_dispute_subject *ret)
{
	struct anfu_pay *p = ud;
	struct anfu_pay_order *o = anfu_xcalloc(1, sizeof(*o));
	struct anfu_dispute_subject s = { { 0 } };
	struct anfu_pay_merchant m;
	struct anfu_db *db = NULL;
	int r = pay_db(p, &db);

	if (r == 0)
		r = anfu_pay_order_get(db, ref, o);
	/* Only the payer of a paid order lodges about it. */
	if (r == 0 && (!o->payer_id[0] || strcmp(o->payer_id, user_id) != 0))
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = anfu_pay_merchant_get(db, o->merchant_id, &m);
	if (r == 0 && (anfu_strlcpy(s.customer_id, o->payer_id, sizeof(s.customer_id)) < 0 ||
		       anfu_strlcpy(s.merchant_id, o->merchant_id, sizeof(s.merchant_id)) < 0))
		r = ANFU_EINTERNAL;
	if (r == 0) {
		int n = snprintf(s.description, sizeof(s.description), "付款给 %s（订单 %s）",
				 m.name_zh, o->out_trade_no);

		if (n < 0 || (size_t)n >= sizeof(s.description))
			r = ANFU_EINTERNAL;
		(void)anfu_strlcpy(s.currency, "CNY", sizeof(s.currency));
		s.amount = o->amount;
		s.time_ms = o->paid_ms;
	}
	if (r == 0)
		*ret = s;
	free(o);
	return r;
}

static int order_refund(void *ud, const struct anfu_actor *actor, const char *ref, int64_t amount,
			const char *reason, const char *key, struct anfu_dispute_refund_result *ret)
{
	struct anfu_pay *p = ud;
	struct anfu_pay_order *o = anfu_xcalloc(1, sizeof(*o));
	struct anfu_pay_refund *x = anfu_xcalloc(1, sizeof(*x));
	char no[ANFU_LIMIT_PAY_OUT_TRADE_NO + 1];
	const char *code = NULL, *field = NULL;
	struct anfu_db *db = NULL;
	bool existed = false;
	int r = anfu_strlcpy(no, key, sizeof(no)) < 0 ? ANFU_ELIMIT : 0;

	/* "dispute.<id>.refund" -> "dispute-<id>-refund": a refund number. */
	for (char *c = no; r == 0 && *c; c++)
		if (*c == '.')
			*c = '-';
	if (r == 0 && !anfu_pay_out_trade_no_ok(no, strlen(no)))
		r = ANFU_EINVAL;
	if (r == 0)
		r = pay_db(p, &db);
	if (r == 0)
		r = anfu_pay_order_get(db, ref, o);
	if (r == 0) {
		const struct anfu_pay_refund_req q = {
			.merchant_id = o->merchant_id,
			.user_id = actor && actor->id ? actor->id : "system",
			.order_id = o->id,
			.out_refund_no = no,
			.amount = amount,
			.reason = reason && reason[0] ? reason : "dispute",
			.origin = "dispute",
			.reviewer = actor && actor->id && actor->id[0] ? actor->id : "system",
		};

		r = anfu_pay_refund_apply(p, actor, &q, x, &existed, &code, &field);
	}
	/* A refusal: it did not happen (the dispute stays pending, logged). */
	if (r == 0 && code)
		r = ANFU_ECONFLICT;
	if (r == 0 && anfu_strlcpy(ret->ref, x->id, sizeof(ret->ref)) < 0)
		r = ANFU_EINTERNAL;
	free(x);
	free(o);
	return r;
}

/* The merchant party's notice of a change of a dispute about one of its
 * orders: to its users through iam, as pay tells a merchant of a refund
 * waiting for funds (pay/refund_list.c). The texts are the dispute
 * module's (what the merchant may see of it). */
static int order_notice(void *ud, struct anfu_tx *tx, const char *ref, const char *merchant_id,
			const char *zh, const char *en)
{
	struct anfu_pay *p = ud;
	const struct anfu_iam_notice n = { "dispute", "交易纠纷通知", zh, "Dispute notice", en };

	(void)ref;
	return anfu_iam_notify_merchant(p->iam, tx, merchant_id, &n, NULL);
}

static const struct anfu_dispute_subject_ops order_ops = { order_lookup, order_refund,
							   order_notice };

int anfu_pay_dispute_register(struct anfu_pay *p, struct anfu_disputes *d)
{
	if (!p || !d)
		return ANFU_EINVAL;
	return anfu_dispute_register(d, "order", &order_ops, p);
}
