/*
 * ledger/wallets: every customer has a CNY wallet (customer_wallet) and a
 * points account (customer_points). New customers get them when iam
 * tells the module of a registration (ledger/api/module.c calls
 * anfu_ledger_open_wallets); customers from before the ledger, and any
 * registration whose post-commit call was lost (a crash between the
 * commit and the call), get them from the wallet pass: at the module's
 * start and in the job "ledger.wallets", in bounded pages of customer ids
 * from a source the module sets (iam's anfu_iam_user_ids).
 *
 * Owns the pass's cursor (l->wallet_after, under l->mu). Opens through
 * the writer (anfu_ledger_open: idempotent), as the system actor; the
 * account rows are read on the calling thread's connection.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "jobs/jobs.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

/* The accounts every customer has: kind and asset. */
static const struct {
	const char *kind, *asset;
} wallet_kinds[] = {
	{ "customer_wallet", "CNY" },
	{ "customer_points", "POINTS" },
};
#define WALLET_KINDS (sizeof(wallet_kinds) / sizeof(wallet_kinds[0]))

static const struct anfu_actor system_actor = { "system", "system", "", "", "", "" };

int anfu_ledger_set_customers(struct anfu_ledger *l, anfu_ledger_customers_fn fn, void *ud)
{
	if (!l || !fn)
		return ANFU_EINVAL;
	pthread_mutex_lock(&l->mu);
	l->customers = fn;
	l->customers_ud = ud;
	pthread_mutex_unlock(&l->mu);
	return 0;
}

int anfu_ledger_open_wallets(struct anfu_ledger *l, const char *customer_id, int64_t deadline_ms)
{
	int r = 0;

	if (!l || !customer_id)
		return ANFU_EINVAL;
	for (size_t i = 0; i < WALLET_KINDS && r == 0; i++) {
		const struct anfu_ledger_account_spec s = { wallet_kinds[i].kind,
							    wallet_kinds[i].asset, "customer",
							    customer_id };
		struct anfu_ledger_account a;

		r = anfu_ledger_open(l, &system_actor, &s, deadline_ms, &a);
	}
	return r;
}

/* Opens the missing accounts of the n customers ids; *opened counts the
 * customers that lacked one. One indexed count per customer (the unique
 * owner/kind/asset index). */
static int fill_page(struct anfu_ledger *l, char (*ids)[ANFU_ID_MAX], size_t n, int64_t deadline_ms,
		     int64_t *opened)
{
	struct anfu_db *db = NULL;
	int r = anfu_store_db(anfu_tx_exec_store(l->tx), &db);

	for (size_t i = 0; i < n && r == 0; i++) {
		const struct anfu_param p[] = { ANFU_PS(ids[i]) };
		int64_t have = 0;

		r = anfu_db_query_int(db,
				      "SELECT count(*) FROM ledger_account WHERE owner_type = "
				      "'customer' AND owner_id = $1 AND ((kind = 'customer_wallet' "
				      "AND asset = 'CNY') OR (kind = 'customer_points' AND asset = "
				      "'POINTS'))",
				      p, 1, &have);
		if (r < 0 || have == (int64_t)WALLET_KINDS)
			continue;
		r = anfu_ledger_open_wallets(l, ids[i], deadline_ms);
		if (r == 0)
			(*opened)++;
	}
	return r;
}

int anfu_ledger_wallet_pass(struct anfu_ledger *l, int64_t deadline_ms,
			    struct anfu_ledger_wallet_report *ret)
{
	struct anfu_ledger_wallet_report rep;
	char(*ids)[ANFU_ID_MAX];
	char after[ANFU_ID_MAX];
	anfu_ledger_customers_fn fn;
	void *ud;
	int r = 0;

	if (!l || !ret)
		return ANFU_EINVAL;
	pthread_mutex_lock(&l->mu);
	fn = l->customers;
	ud = l->customers_ud;
	memcpy(after, l->wallet_after, sizeof(after));
	pthread_mutex_unlock(&l->mu);
	if (!fn)
		return ANFU_EINVAL;
	memset(&rep, 0, sizeof(rep));
	ids = anfu_xcalloc(ANFU_LIMIT_LEDGER_WALLET_PAGE, ANFU_ID_MAX);
	for (int page = 0; page < ANFU_LIMIT_LEDGER_WALLET_PAGES && r == 0; page++) {
		size_t n = 0;

		r = fn(ud, after, ids, ANFU_LIMIT_LEDGER_WALLET_PAGE, &n);
		if (r == 0 && n > ANFU_LIMIT_LEDGER_WALLET_PAGE)
			r = ANFU_EINTERNAL;
		if (r == 0 && n > 0)
			r = fill_page(l, ids, n, deadline_ms, &rep.opened);
		if (r < 0)
			break;
		rep.pages++;
		rep.customers += (int64_t)n;
		if (n > 0)
			memcpy(after, ids[n - 1], sizeof(after));
		if (n < ANFU_LIMIT_LEDGER_WALLET_PAGE) {
			after[0] = '\0'; /* the sweep is complete: the next starts over */
			rep.complete = true;
			break;
		}
	}
	free(ids);
	if (r < 0)
		return r;
	pthread_mutex_lock(&l->mu);
	memcpy(l->wallet_after, after, sizeof(after));
	pthread_mutex_unlock(&l->mu);
	*ret = rep;
	return 0;
}
