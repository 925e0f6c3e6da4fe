/*
 * ledger/history: an account's transfers, newest first, a page at a time
 * (the read API later issues build on: a wallet's statement, a
 * merchant's movements).
 *
 * Owns nothing; reads committed journal rows on the calling thread's
 * connection (a page is a snapshot of one statement; the next page
 * continues below the cursor, so rows committed meanwhile never shift
 * it). The cursor is opaque to callers: "s" and the seq of the last row
 * returned. Trusts nothing in a cursor (parsed strictly).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* The seq a cursor names ("s" + 1..19 decimal digits, no leading zero,
 * within int64); NULL or "": the newest (INT64_MAX). */
static int cursor_parse(const char *c, int64_t *ret)
{
	int64_t v = 0;
	size_t n;

	if (!c || !c[0]) {
		*ret = INT64_MAX;
		return 0;
	}
	n = strnlen(c, ANFU_LEDGER_CURSOR_MAX);
	if (c[0] != 's' || n < 2 || n > 20 || c[1] == '0')
		return ANFU_EINVAL;
	for (size_t i = 1; i < n; i++) {
		if (c[i] < '0' || c[i] > '9' || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, c[i] - '0', &v))
			return ANFU_EINVAL;
	}
	*ret = v;
	return 0;
}

struct page {
	const char *account;
	struct anfu_ledger_entry *out;
	size_t limit, n;
	bool more; /* a row beyond the limit */
};

static int copy(char *dst, size_t cap, const char *src)
{
	return src && anfu_strlcpy(dst, src, cap) >= 0 ? 0 : ANFU_ESCHEMA;
}

static int entry_row(void *ud, const struct anfu_row *row)
{
	struct page *p = ud;
	struct anfu_ledger_entry *e;
	int r;

	if (p->n == p->limit) {
		p->more = true;
		return 1; /* the one extra row: stop */
	}
	e = &p->out[p->n];
	memset(e, 0, sizeof(*e));
	e->seq = anfu_row_int(row, 0);
	r = copy(e->id, sizeof(e->id), anfu_row_text(row, 1, NULL));
	if (r == 0)
		r = copy(e->debit_account, sizeof(e->debit_account), anfu_row_text(row, 2, NULL));
	if (r == 0)
		r = copy(e->credit_account, sizeof(e->credit_account), anfu_row_text(row, 3, NULL));
	if (r == 0)
		r = copy(e->asset, sizeof(e->asset), anfu_row_text(row, 5, NULL));
	if (r == 0)
		r = copy(e->code, sizeof(e->code), anfu_row_text(row, 6, NULL));
	if (r == 0)
		r = copy(e->ref, sizeof(e->ref), anfu_row_text(row, 7, NULL));
	if (r == 0 && !anfu_row_is_null(row, 9))
		r = copy(e->pending_id, sizeof(e->pending_id), anfu_row_text(row, 9, NULL));
	if (r == 0 && !anfu_row_is_null(row, 11))
		r = copy(e->hold_state, sizeof(e->hold_state), anfu_row_text(row, 11, NULL));
	if (r < 0)
		return r;
	e->amount = anfu_row_int(row, 4);
	e->flags = (uint32_t)anfu_row_int(row, 8);
	e->ts_us = anfu_row_int(row, 10);
	e->debit = strcmp(e->debit_account, p->account) == 0;
	p->n++;
	return 0;
}

int anfu_ledger_history(struct anfu_ledger *l, const char *account_id, const char *cursor,
			size_t limit, struct anfu_ledger_entry *out, size_t *ret_n,
			char next[ANFU_LEDGER_CURSOR_MAX])
{
	struct anfu_ledger_account a;
	struct page p = { account_id, out, limit, 0, false };
	struct anfu_db *db = NULL;
	int64_t below = 0;
	int r;

	if (!l || !account_id || !out || !ret_n || !next || limit == 0 ||
	    limit > ANFU_LIMIT_LEDGER_HISTORY || cursor_parse(cursor, &below) < 0)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(l->tx), &db);
	if (r == 0)
		r = ledger_account_read(db, account_id, &a);
	if (r == 0) {
		const struct anfu_param q[] = { ANFU_PS(account_id), ANFU_PI(below),
						ANFU_PI((int64_t)limit + 1) };

		/* Each side through its (account, seq) index, at most
		 * limit + 1 rows each; a transfer is never on both sides. */
		r = anfu_db_exec(
			db,
			"SELECT h.seq, h.id, h.debit_account, h.credit_account, h.amount, h.asset, "
			"h.code, h.ref, h.flags, h.pending_id, h.ts_us, lh.state FROM ("
			"SELECT * FROM (SELECT * FROM ledger_transfer WHERE debit_account = $1 "
			"AND seq < $2 ORDER BY seq DESC LIMIT $3) AS d UNION ALL "
			"SELECT * FROM (SELECT * FROM ledger_transfer WHERE credit_account = $1 "
			"AND seq < $2 ORDER BY seq DESC LIMIT $3) AS c) AS h "
			"LEFT JOIN ledger_hold AS lh ON lh.transfer_id = h.id "
			"ORDER BY h.seq DESC LIMIT $3",
			q, 3, entry_row, &p, NULL);
	}
	if (r < 0)
		return r;
	*ret_n = p.n;
	if (p.more)
		snprintf(next, ANFU_LEDGER_CURSOR_MAX, "s%" PRId64, out[p.n - 1].seq);
	else
		next[0] = '\0';
	return 0;
}
