/*
 * points/points: the points service: making it (and the platform's points
 * accounts), the history entries and balances every command writes and
 * reads, the history read API.
 *
 * Owns struct anfu_points and the rows of points_entry. Trusts the ledger
 * for balances; reads on the calling thread's connection outside the
 * writer, on the command's inside it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "points/internal.h"
#include "store/store.h"
#include "tx/tx.h"

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

int anfu_points_new(const struct anfu_points_config *cfg, struct anfu_tx_exec *tx,
		    struct anfu_ledger *l, struct anfu_points **ret)
{
	const struct anfu_ledger_account_spec liab = { "points_liability", "POINTS", "platform",
						       POINTS_OWNER };
	const struct anfu_ledger_account_spec fund = { "platform_fee", "CNY", "platform",
						       POINTS_OWNER };
	struct anfu_ledger_account a;
	struct anfu_points *p = NULL;
	int64_t deadline = anfu_clock_mono_us() / 1000 + POINTS_DEADLINE_MS;
	int r;

	if (!cfg || !tx || !l || !ret)
		return ANFU_EINVAL;
	p = anfu_xcalloc(1, sizeof(*p));
	p->cfg = cfg;
	p->tx = tx;
	p->l = l;
	r = anfu_ledger_open(l, &system_actor, &liab, deadline, &a);
	if (r == 0)
		r = anfu_strlcpy(p->liability, a.id, sizeof(p->liability));
	if (r == 0)
		r = anfu_ledger_open(l, &system_actor, &fund, deadline, &a);
	if (r == 0)
		r = anfu_strlcpy(p->fund, a.id, sizeof(p->fund));
	if (r < 0) {
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

void anfu_points_free(struct anfu_points *p)
{
	free(p);
}

void anfu_points_set_notice(struct anfu_points *p, anfu_points_notice_fn fn, void *ud)
{
	if (!p)
		return;
	p->notice = fn;
	p->notice_ud = ud;
}

const struct anfu_points_config *anfu_points_config(const struct anfu_points *p)
{
	return p ? p->cfg : NULL;
}

int points_customer_account(struct anfu_points *p, const char *customer_id, const char *kind,
			    const char *asset, struct anfu_ledger_account *ret)
{
	const struct anfu_ledger_account_spec s = { kind, asset, "customer", customer_id };

	return anfu_ledger_account_find(p->l, &s, ret);
}

int64_t points_available(const struct anfu_ledger_account *a)
{
	/* The writer keeps debits_posted + debits_pending <= credits_posted
	 * on a liability account (its flag). */
	return a->credits_posted - a->debits_posted - a->debits_pending;
}

int anfu_points_balance(struct anfu_points *p, const char *customer_id, int64_t *ret)
{
	struct anfu_ledger_account a;
	int r;

	if (!p || !customer_id || !ret)
		return ANFU_EINVAL;
	r = points_customer_account(p, customer_id, "customer_points", "POINTS", &a);
	if (r < 0)
		return r;
	*ret = points_available(&a);
	return 0;
}

int points_entry_add(struct anfu_points *p, struct anfu_tx *tx, const char *customer_id,
		     int64_t delta, const char *reason, const char *ref, int64_t *ret_balance)
{
	struct anfu_ledger_account a;
	const struct anfu_param q[] = { ANFU_PS(customer_id) };
	int64_t n = 0, bal;
	int r;

	r = points_customer_account(p, customer_id, "customer_points", "POINTS", &a);
	if (r < 0)
		return r;
	bal = points_available(&a);
	/* The writer is the only one to append: max + 1 cannot race. */
	r = anfu_db_query_int(anfu_tx_db(tx),
			      "SELECT COALESCE(MAX(n), 0) FROM points_entry WHERE customer_id = $1",
			      q, 1, &n);
	if (r < 0)
		return r;
	{
		const struct anfu_param e[] = { ANFU_PS(customer_id),
						ANFU_PI(n + 1),
						ANFU_PI(delta),
						ANFU_PI(bal),
						ANFU_PS(reason),
						ANFU_PS(ref),
						ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(
			anfu_tx_db(tx),
			"INSERT INTO points_entry (customer_id, n, delta, balance, reason, "
			"ref, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			e, 7, NULL, NULL, NULL);
	}
	if (r < 0)
		return r;
	*ret_balance = bal;
	return 0;
}

struct history {
	struct anfu_points_entry *out;
	size_t cap, n;
};

static int entry_row(void *ud, const struct anfu_row *row)
{
	struct history *h = ud;
	struct anfu_points_entry *e;
	const char *reason = anfu_row_text(row, 3, NULL), *ref = anfu_row_text(row, 4, NULL);

	if (h->n >= h->cap)
		return 1;
	e = &h->out[h->n];
	e->n = anfu_row_int(row, 0);
	e->change = anfu_row_int(row, 1);
	e->balance = anfu_row_int(row, 2);
	if (!reason || !ref || anfu_strlcpy(e->reason, reason, sizeof(e->reason)) < 0 ||
	    anfu_strlcpy(e->ref, ref, sizeof(e->ref)) < 0)
		return ANFU_ESCHEMA;
	e->created_ms = anfu_row_int(row, 5);
	h->n++;
	return 0;
}

/* A cursor is the decimal n of the last entry a page showed. */
static int cursor_parse(const char *c, int64_t *ret)
{
	int64_t v = 0;
	size_t len = c ? strlen(c) : 0;

	if (len == 0) {
		*ret = INT64_MAX;
		return 0;
	}
	if (len > 18 || c[0] == '0')
		return ANFU_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (c[i] < '0' || c[i] > '9')
			return ANFU_EINVAL;
		v = v * 10 + (c[i] - '0');
	}
	*ret = v;
	return 0;
}

int anfu_points_history(struct anfu_points *p, const char *customer_id, const char *cursor,
			size_t limit, struct anfu_points_entry *out, size_t *ret_n,
			char next[ANFU_POINTS_CURSOR_MAX])
{
	/* One row more than the page tells whether a next page exists. */
	struct history h = { out, limit, 0 };
	struct anfu_points_entry extra[1];
	struct anfu_db *db = NULL;
	int64_t below;
	int r;

	if (!p || !customer_id || !out || !ret_n || !next || limit < 1 ||
	    limit > ANFU_LIMIT_POINTS_PAGE || cursor_parse(cursor, &below) < 0)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(p->tx), &db);
	if (r == 0) {
		const struct anfu_param q[] = { ANFU_PS(customer_id), ANFU_PI(below),
						ANFU_PI(limit) };

		r = anfu_db_exec(
			db,
			"SELECT n, delta, balance, reason, ref, created_ms FROM points_entry "
			"WHERE customer_id = $1 AND n < $2 ORDER BY n DESC LIMIT $3",
			q, 3, entry_row, &h, NULL);
	}
	if (r == 0 && h.n == limit) {
		const struct anfu_param q[] = { ANFU_PS(customer_id), ANFU_PI(out[h.n - 1].n) };
		struct history more = { extra, 1, 0 };

		r = anfu_db_exec(
			db,
			"SELECT n, delta, balance, reason, ref, created_ms FROM points_entry "
			"WHERE customer_id = $1 AND n < $2 ORDER BY n DESC LIMIT 1",
			q, 2, entry_row, &more, NULL);
		if (r == 0 && more.n == 1)
			(void)snprintf(next, ANFU_POINTS_CURSOR_MAX, "%" PRId64, out[h.n - 1].n);
		else if (r == 0)
			next[0] = '\0';
	} else if (r == 0) {
		next[0] = '\0';
	}
	if (r < 0)
		return r;
	*ret_n = h.n;
	return 0;
}
