/*
 * pay/statement: a merchant's balance and balance history (FUNC-PAY-15:
 * each movement with the resulting balance): the ledger rows of its
 * merchant_pending account (the money it is owed until settlement),
 * newest first, through the ledger's statement (ledger/statement.c).
 *
 * Owns nothing. Reads one snapshot of the calling thread's connection.
 * The cursor's MAC is the caller's (the API's keys, its own purpose).
 * Trusts the ledger's rows.
 */
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/str.h"
#include "ledger/ledger.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"

static int merchant_account(struct anfu_pay *p, const char *merchant_id,
			    struct anfu_ledger_account *ret)
{
	const struct anfu_ledger_account_spec spec = { "merchant_pending", "CNY", "merchant",
						       merchant_id };

	return anfu_ledger_account_find(p->ledger, &spec, ret);
}

static void balance_of(const struct anfu_ledger_account *a, struct anfu_pay_merchant_balance *ret)
{
	ret->posted = a->credits_posted - a->debits_posted;
	ret->held = a->debits_pending;
	ret->incoming = a->credits_pending;
	ret->available = ret->posted - ret->held;
}

int anfu_pay_merchant_balance(struct anfu_pay *p, const char *merchant_id,
			      struct anfu_pay_merchant_balance *ret)
{
	struct anfu_ledger_account a;
	int r;

	if (!p || !merchant_id || !ret)
		return ANFU_EINVAL;
	r = merchant_account(p, merchant_id, &a);
	if (r == 0)
		balance_of(&a, ret);
	return r;
}

struct walk {
	const struct anfu_pay_statement_req *req;
	struct anfu_pay_statement_row *out;
};

/* The statement's row function: the rows the ledger shows (a hold while
 * pending: a refund's money held for the bank), of the type asked. */
static int row_from(void *ud, const struct anfu_ledger_entry *e, int64_t balance_after,
		    size_t index, bool *ret_keep)
{
	struct walk *k = ud;
	struct anfu_pay_statement_row *o = &k->out[index];

	*ret_keep =
		anfu_ledger_entry_shown(e) && (!k->req->type || strcmp(k->req->type, e->code) == 0);
	if (!*ret_keep)
		return 0;
	memset(o, 0, sizeof(*o));
	(void)anfu_strlcpy(o->id, e->id, sizeof(o->id));
	(void)anfu_strlcpy(o->type, e->code, sizeof(o->type));
	(void)anfu_strlcpy(o->ref, e->ref, sizeof(o->ref));
	o->time_ms = e->ts_us / 1000;
	o->credit = !e->debit;
	o->pending = (e->flags & ANFU_LEDGER_TRF_PENDING) != 0;
	o->amount = e->amount;
	o->balance = balance_after;
	return 0;
}

int anfu_pay_merchant_statement(struct anfu_pay *p, const struct anfu_pay_statement_req *req,
				struct anfu_pay_statement_row *out, size_t cap, size_t *ret_n,
				char next[ANFU_LEDGER_STATEMENT_CURSOR_MAX],
				struct anfu_pay_merchant_balance *ret_balance)
{
	struct anfu_ledger_account a;
	struct anfu_db *db = NULL;
	struct walk k = { req, out };
	struct anfu_ledger_statement_req q;
	int r;

	if (!p || !req || !req->merchant_id || !req->scope || !req->mac || !out || !ret_n ||
	    !next || !ret_balance || req->limit < 1 || req->limit > ANFU_LIMIT_LEDGER_HISTORY ||
	    cap < req->limit)
		return ANFU_EINVAL;
	r = pay_db(p, &db);
	/* One snapshot: the balance now and the rows below it agree. */
	if (r == 0)
		r = anfu_db_begin_read(db);
	if (r < 0)
		return r;
	r = merchant_account(p, req->merchant_id, &a);
	if (r == 0) {
		q = (struct anfu_ledger_statement_req){
			.account = a.id,
			.scope = req->scope,
			.cursor = req->cursor,
			.from_ms = req->from_ms,
			.to_ms = req->to_ms,
			.limit = req->limit,
			.scan_max = ANFU_LIMIT_PAY_STATEMENT_SCAN,
			.mac = req->mac,
			.mac_ud = req->mac_ud,
			.row = row_from,
			.row_ud = &k,
		};
		balance_of(&a, ret_balance);
		r = anfu_ledger_statement(p->ledger, &q, ret_balance->posted, ret_n, next);
	}
	(void)anfu_db_end_read(db);
	return r;
}
