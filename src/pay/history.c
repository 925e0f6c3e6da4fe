/*
 * pay/history: merchants', customers' and operators' transaction history
 * of the pay module (FUNC-PAY-14/15) and its CSV form (FUNC-PAY-16),
 * docs/payments.md "History and download".
 *
 * Rows are completed payments (pay_payment with its order and merchant),
 * newest first by (time, id); refunds are not rows yet (their table is
 * another change). The scope (a merchant's, a payer's) is always part of
 * the query, so a cursor can only move within what the caller may see;
 * the route layer MACs cursors anyway (pay/api/history.c).
 * Owns nothing; trusts its own rows; masks the payer through iam.
 */
#include <inttypes.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "iam/iam.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"

struct tx_rows {
	struct anfu_pay_tx_row *out;
	size_t cap, n;
};

static int tx_row(void *ud, const struct anfu_row *row)
{
	struct tx_rows *t = ud;
	struct anfu_pay_tx_row *o;
	enum anfu_pay_state st;
	char state[24];

	if (t->n >= t->cap)
		return 1;
	o = &t->out[t->n];
	memset(o, 0, sizeof(*o));
	(void)anfu_strlcpy(o->type, "payment", sizeof(o->type));
	pay_col(row, 0, o->id, sizeof(o->id));
	pay_col(row, 1, o->order_id, sizeof(o->order_id));
	pay_col(row, 2, o->out_trade_no, sizeof(o->out_trade_no));
	pay_col(row, 3, o->merchant_id, sizeof(o->merchant_id));
	pay_col(row, 4, o->merchant_name, sizeof(o->merchant_name));
	pay_col(row, 5, o->payer_id, sizeof(o->payer_id));
	pay_col(row, 6, state, sizeof(state));
	o->status = anfu_pay_state_parse(state, &st) == 0 ? st : ANFU_PAY_PAID;
	o->amount = anfu_row_int(row, 7);
	o->fee = anfu_row_int(row, 8);
	o->time_ms = anfu_row_int(row, 9);
	pay_col(row, 10, o->subject, sizeof(o->subject));
	t->n++;
	return 0;
}

/* The payer as iam masks them: real name, else login; "***" when gone. */
static int payer_shown(struct anfu_pay *p, struct anfu_pay_tx_row *o)
{
	struct anfu_iam_party party;
	int r = anfu_iam_party_get(p->iam, o->payer_id, &party);

	if (r == ANFU_ENOTFOUND) {
		(void)anfu_strlcpy(o->payer_shown, "***", sizeof(o->payer_shown));
		return 0;
	}
	if (r == 0)
		(void)anfu_strlcpy(o->payer_shown,
				   party.real_name[0] ? party.real_name : party.login,
				   sizeof(o->payer_shown));
	return r;
}

int anfu_pay_transactions(struct anfu_pay *p, const struct anfu_pay_tx_query *q,
			  struct anfu_pay_tx_row *out, size_t cap, size_t *ret_n)
{
	struct tx_rows t = { out, 0, 0 };
	struct anfu_db *db = NULL;
	const char *status = "";
	int r;

	if (!p || !q || !out || !ret_n || q->limit < 1 || cap < q->limit ||
	    (q->status && q->status[0] &&
	     anfu_pay_state_parse(q->status, &(enum anfu_pay_state){ 0 }) < 0) ||
	    (q->type && q->type[0] && strcmp(q->type, "payment") != 0))
		return ANFU_EINVAL;
	if (q->status)
		status = q->status;
	t.cap = q->limit;
	{
		const struct anfu_param v[8] = {
			ANFU_PS(q->merchant_id ? q->merchant_id : ""),
			ANFU_PS(q->payer_id ? q->payer_id : ""),
			ANFU_PI(q->from_ms > 0 ? q->from_ms : 0),
			ANFU_PI(q->to_ms > 0 ? q->to_ms : INT64_MAX),
			ANFU_PS(status),
			ANFU_PI(q->after_id && q->after_id[0] ? q->after_ms : INT64_MAX),
			ANFU_PS(q->after_id && q->after_id[0] ? q->after_id : ""),
			ANFU_PI((int64_t)q->limit),
		};

		r = pay_db(p, &db);
		if (r == 0)
			r = anfu_db_exec(
				db,
				"SELECT pp.id, o.id, o.out_trade_no, o.merchant_id, m.name_zh,"
				" pp.payer_id, o.state, pp.amount, pp.fee, pp.created_ms, o.subject"
				" FROM pay_payment pp JOIN pay_order o ON o.id = pp.order_id"
				" JOIN pay_merchant m ON m.merchant_id = o.merchant_id"
				" WHERE ($1 = '' OR o.merchant_id = $1) AND ($2 = '' OR "
				"pp.payer_id = $2)"
				" AND pp.created_ms >= $3 AND pp.created_ms < $4"
				" AND ($5 = '' OR o.state = $5)"
				" AND ($7 = '' OR pp.created_ms < $6 OR (pp.created_ms = $6 AND "
				"pp.id < $7))"
				" ORDER BY pp.created_ms DESC, pp.id DESC LIMIT $8",
				v, 8, tx_row, &t, NULL);
	}
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = payer_shown(p, &out[i]);
	if (r < 0)
		return r;
	*ret_n = t.n;
	return 0;
}

/* Starts of a cell a spreadsheet would read as a formula (OWASP "CSV
 * injection"): = + - @, and tab / carriage return. */
static bool formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

int anfu_pay_csv_cell(struct anfu_buf *out, const char *s)
{
	int r = anfu_buf_append(out, "\"", 1);

	if (r == 0 && s[0] && formula_start(s[0]))
		r = anfu_buf_append(out, "'", 1);
	for (const char *c = s; r == 0 && *c; c++)
		r = *c == '"' ? anfu_buf_append(out, "\"\"", 2) : anfu_buf_append(out, c, 1);
	if (r == 0)
		r = anfu_buf_append(out, "\"", 1);
	return r;
}
