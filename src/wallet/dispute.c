/*
 * wallet/dispute: a transfer between customers as the subject of a
 * dispute (docs/disputes.md, "Providers"): its parties, amount, time and a
 * masked description, as one of its parties sees it. The dispute module
 * adapts this to its provider interface (it comes after the wallet in the
 * module list, so the wallet knows nothing of it). No refund: a transfer
 * between customers is not refunded by the platform.
 *
 * Owns nothing; reads wallet_transfer (committed rows). Trusts the caller
 * for user_id (the session's customer).
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "store/store.h"
#include "tx/tx.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

struct facts_read {
	const char *user_id;
	struct anfu_wallet_transfer_facts f;
	bool found;
};

static int facts_row(void *ud, const struct anfu_row *row)
{
	struct facts_read *q = ud;
	const char *payer = anfu_row_text(row, 0, NULL), *payee = anfu_row_text(row, 1, NULL);
	const char *payee_name = anfu_row_text(row, 4, NULL);
	const char *payer_name = anfu_row_text(row, 5, NULL);
	const char *cur = anfu_row_text(row, 3, NULL);
	bool is_payer;
	int n;

	if (!payer || !payee || !payee_name || !payer_name || !cur)
		return ANFU_ESCHEMA;
	is_payer = strcmp(payer, q->user_id) == 0;
	if (!is_payer && strcmp(payee, q->user_id) != 0)
		return 0;
	q->f.payer = is_payer;
	if (anfu_strlcpy(q->f.party_id, q->user_id, sizeof(q->f.party_id)) < 0 ||
	    anfu_strlcpy(q->f.counterparty_id, is_payer ? payee : payer,
			 sizeof(q->f.counterparty_id)) < 0 ||
	    anfu_strlcpy(q->f.currency, cur, sizeof(q->f.currency)) < 0)
		return ANFU_ESCHEMA;
	q->f.amount = anfu_row_int(row, 2);
	q->f.created_ms = anfu_row_int(row, 6);
	n = snprintf(q->f.description, sizeof(q->f.description), "%s %s",
		     is_payer ? "转账给 / transfer to" : "转账来自 / transfer from",
		     is_payer ? payee_name : payer_name);
	if (n < 0 || (size_t)n >= sizeof(q->f.description))
		q->f.description[sizeof(q->f.description) - 1] = '\0';
	q->found = true;
	return 0;
}

int anfu_wallet_transfer_facts(struct anfu_wallet *w, const char *transfer_id, const char *user_id,
			       struct anfu_wallet_transfer_facts *ret)
{
	struct facts_read q = { .user_id = user_id };
	const struct anfu_param p[] = { ANFU_PS(transfer_id) };
	struct anfu_db *db = NULL;
	int r;

	if (!w || !transfer_id || !user_id || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(w->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT payer_id, payee_id, amount, currency, payee_name, "
				 "payer_name, created_ms FROM wallet_transfer WHERE id = $1",
				 p, 1, facts_row, &q, NULL);
	if (r < 0)
		return r;
	if (!q.found)
		return ANFU_ENOTFOUND;
	*ret = q.f;
	return 0;
}
