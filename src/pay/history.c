/*
 * pay/history: merchants', customers' and operators' transaction history
 * of the pay module (FUNC-PAY-14/15) and its CSV form (FUNC-PAY-16),
 * docs/payments.md "History and download".
 *
 * Rows are completed payments (pay_payment with its order and merchant)
 * and refunds (pay_refund, any state, with its order and merchant), one
 * UNION ALL, newest first by (time, id): a payment's time is when it was
 * paid, a refund's when it was applied for. The scope (a merchant's, a payer's) is always part of
 * the query, so a cursor can only move within what the caller may see;
 * the route layer MACs cursors anyway (pay/api/history.c). A refund row
 * names where its money goes (the wallet, or the bound card, masked).
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
	enum anfu_pay_refund_state rs;
	enum anfu_pay_state st;
	char state[24], dest[8];

	if (t->n >= t->cap)
		return 1;
	o = &t->out[t->n];
	memset(o, 0, sizeof(*o));
	pay_col(row, 0, o->type, sizeof(o->type));
	pay_col(row, 1, o->id, sizeof(o->id));
	pay_col(row, 2, o->order_id, sizeof(o->order_id));
	pay_col(row, 3, o->out_trade_no, sizeof(o->out_trade_no));
	pay_col(row, 4, o->merchant_id, sizeof(o->merchant_id));
	pay_col(row, 5, o->merchant_name, sizeof(o->merchant_name));
	pay_col(row, 6, o->payer_id, sizeof(o->payer_id));
	pay_col(row, 7, state, sizeof(state));
	o->amount = anfu_row_int(row, 8);
	o->fee = anfu_row_int(row, 9);
	o->time_ms = anfu_row_int(row, 10);
	pay_col(row, 11, o->subject, sizeof(o->subject));
	pay_col(row, 12, o->out_refund_no, sizeof(o->out_refund_no));
	if (strcmp(o->type, "refund") == 0) {
		pay_col(row, 13, dest, sizeof(dest));
		(void)anfu_strlcpy(o->destination, strcmp(dest, "card") == 0 ? "card" : "wallet",
				   sizeof(o->destination));
		if (strcmp(dest, "card") == 0)
			pay_col(row, 14, o->card, sizeof(o->card));
		o->status = ANFU_PAY_PAID;
		o->status_name = anfu_pay_refund_state_parse(state, &rs) == 0
					 ? anfu_pay_refund_state_name(rs)
					 : "";
	} else {
		o->status = anfu_pay_state_parse(state, &st) == 0 ? st : ANFU_PAY_PAID;
		o->status_name = anfu_pay_state_name(o->status);
	}
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

bool anfu_pay_tx_status_ok(const char *name)
{
	return anfu_pay_state_parse(name, &(enum anfu_pay_state){ 0 }) == 0 ||
	       anfu_pay_refund_state_parse(name, &(enum anfu_pay_refund_state){ 0 }) == 0;
}

int anfu_pay_transactions(struct anfu_pay *p, const struct anfu_pay_tx_query *q,
			  struct anfu_pay_tx_row *out, size_t cap, size_t *ret_n)
{
	struct tx_rows t = { out, 0, 0 };
	struct anfu_db *db = NULL;
	const char *status = "";
	int r;

	if (!p || !q || !out || !ret_n || q->limit < 1 || cap < q->limit ||
	    (q->status && q->status[0] && !anfu_pay_tx_status_ok(q->status)) ||
	    (q->type && q->type[0] && strcmp(q->type, "payment") != 0 &&
	     strcmp(q->type, "refund") != 0))
		return ANFU_EINVAL;
	if (q->status)
		status = q->status;
	t.cap = q->limit;
	{
		const struct anfu_param v[9] = {
			ANFU_PS(q->merchant_id ? q->merchant_id : ""),
			ANFU_PS(q->payer_id ? q->payer_id : ""),
			ANFU_PI(q->from_ms > 0 ? q->from_ms : 0),
			ANFU_PI(q->to_ms > 0 ? q->to_ms : INT64_MAX),
			ANFU_PS(status),
			ANFU_PI(q->after_id && q->after_id[0] ? q->after_ms : INT64_MAX),
			ANFU_PS(q->after_id && q->after_id[0] ? q->after_id : ""),
			ANFU_PI((int64_t)q->limit),
			ANFU_PS(q->type ? q->type : ""),
		};

		/* Both branches carry the scope and the filters; the cursor
		 * and the order are the union's. */
		r = pay_db(p, &db);
		if (r == 0)
			r = anfu_db_exec(
				db,
				"SELECT h.type, h.id, h.order_id, h.out_trade_no, h.merchant_id,"
				" h.name_zh, h.payer_id, h.state, h.amount, h.fee, h.t, h.subject,"
				" h.out_refund_no, h.destination, h.card FROM ("
				"SELECT 'payment' AS type, pp.id AS id, o.id AS order_id,"
				" o.out_trade_no AS out_trade_no, o.merchant_id AS merchant_id,"
				" m.name_zh AS name_zh, pp.payer_id AS payer_id, o.state AS state,"
				" pp.amount AS amount, pp.fee AS fee, pp.created_ms AS t,"
				" o.subject AS subject, '' AS out_refund_no, '' AS destination,"
				" '' AS card"
				" FROM pay_payment pp JOIN pay_order o ON o.id = pp.order_id"
				" JOIN pay_merchant m ON m.merchant_id = o.merchant_id"
				" WHERE ($9 = '' OR $9 = 'payment')"
				" AND ($1 = '' OR o.merchant_id = $1) AND ($2 = '' OR "
				"pp.payer_id = $2)"
				" AND pp.created_ms >= $3 AND pp.created_ms < $4"
				" AND ($5 = '' OR o.state = $5)"
				" UNION ALL "
				"SELECT 'refund', rf.id, o.id, o.out_trade_no, rf.merchant_id,"
				" m.name_zh, rf.payer_id, rf.state, rf.amount, rf.fee_back,"
				" rf.created_ms, o.subject, rf.out_refund_no,"
				" rf.destination, rf.card"
				" FROM pay_refund rf JOIN pay_order o ON o.id = rf.order_id"
				" JOIN pay_merchant m ON m.merchant_id = rf.merchant_id"
				" WHERE ($9 = '' OR $9 = 'refund')"
				" AND ($1 = '' OR rf.merchant_id = $1) AND ($2 = '' OR "
				"rf.payer_id = $2)"
				" AND rf.created_ms >= $3 AND rf.created_ms < $4"
				" AND ($5 = '' OR rf.state = $5)"
				") h"
				" WHERE ($7 = '' OR h.t < $6 OR (h.t = $6 AND h.id < $7))"
				" ORDER BY h.t DESC, h.id DESC LIMIT $8",
				v, 9, tx_row, &t, NULL);
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
