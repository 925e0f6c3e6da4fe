/*
 * wallet/receipt: the facts of a wallet transfer for its electronic
 * receipt (kind "wallet_transfer", src/receipt/, docs/receipts.md).
 *
 * Owns nothing; reads wallet_transfer, whose row exists only once the
 * writer command that posted its ledger transfer committed (a row is a
 * completed transfer). Trusts the row: its parties were masked when it
 * ran, as the histories show them.
 */
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "receipt/receipt.h"
#include "store/store.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

static void col(const struct anfu_row *row, int i, char *out, size_t cap)
{
	const char *t = anfu_row_text(row, i, NULL);

	(void)anfu_strlcpy(out, t ? t : "", cap);
}

/* A masked name, else the masked login (as wallet/history.c shows). */
static void shown(const struct anfu_row *row, int name, int login, char *out, size_t cap)
{
	const char *n = anfu_row_text(row, name, NULL);

	col(row, n && n[0] ? name : login, out, cap);
}

static int facts_row(void *ud, const struct anfu_row *row)
{
	struct anfu_receipt_facts *f = ud;

	col(row, 0, f->payer.id, sizeof(f->payer.id));
	col(row, 1, f->payee.id, sizeof(f->payee.id));
	f->amount = anfu_row_int(row, 2);
	col(row, 3, f->currency, sizeof(f->currency));
	col(row, 4, f->memo, sizeof(f->memo));
	shown(row, 5, 6, f->payer.shown, sizeof(f->payer.shown));
	shown(row, 7, 8, f->payee.shown, sizeof(f->payee.shown));
	col(row, 9, f->transfers[0], sizeof(f->transfers[0]));
	f->ntransfers = 1;
	f->time_ms = anfu_row_int(row, 10);
	return 1;
}

int anfu_wallet_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
			      struct anfu_receipt_facts *ret)
{
	const struct anfu_param p[1] = { ANFU_PS(ref) };
	struct anfu_receipt_facts f;
	int r;

	(void)ud;
	if (!db || !ref || !ret)
		return ANFU_EINVAL;
	memset(&f, 0, sizeof(f));
	r = anfu_db_exec(db,
			 "SELECT payer_id, payee_id, amount, currency, memo, payer_name,"
			 " payer_login, payee_name, payee_login, ledger_id, created_ms"
			 " FROM wallet_transfer WHERE id = $1",
			 p, 1, facts_row, &f, NULL);
	if (r < 0)
		return r;
	if (!f.ntransfers)
		return ANFU_ENOTFOUND;
	(void)anfu_strlcpy(f.kind, ANFU_WALLET_RECEIPT_KIND, sizeof(f.kind));
	(void)anfu_strlcpy(f.ref, ref, sizeof(f.ref));
	(void)anfu_strlcpy(f.state, "completed", sizeof(f.state));
	(void)anfu_strlcpy(f.payer.type, "customer", sizeof(f.payer.type));
	(void)anfu_strlcpy(f.payee.type, "customer", sizeof(f.payee.type));
	*ret = f;
	return 0;
}
