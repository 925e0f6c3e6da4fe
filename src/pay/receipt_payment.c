/*
 * pay/receipt_payment: the facts of a completed payment for its
 * electronic receipt (kind "payment", src/receipt/, docs/receipts.md,
 * docs/payments.md "Receipts"). Both parties may download it: the payer
 * (customer) and the order's merchant (its users).
 *
 * Owns nothing; reads pay_payment with its order and the merchant's
 * profile. A pay_payment row exists only once the writer command that
 * posted its ledger transfers committed, so a row is a completed payment.
 * The payer is shown as iam masks them (real name, else login); the
 * merchant by its Chinese display name (a business name, not personal
 * data). Trusts its own rows.
 */
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "iam/iam.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "receipt/receipt.h"
#include "store/store.h"

struct pay_facts_row {
	bool found;
	struct anfu_receipt_facts *f;
};

static int facts_row(void *ud, const struct anfu_row *row)
{
	struct pay_facts_row *m = ud;
	struct anfu_receipt_facts *f = m->f;

	pay_col(row, 0, f->payer.id, sizeof(f->payer.id));
	pay_col(row, 1, f->payee.id, sizeof(f->payee.id));
	f->amount = anfu_row_int(row, 2);
	pay_col(row, 3, f->memo, sizeof(f->memo));
	pay_col(row, 4, f->transfers[0], sizeof(f->transfers[0]));
	pay_col(row, 5, f->transfers[1], sizeof(f->transfers[1]));
	f->ntransfers = f->transfers[1][0] ? 2 : 1;
	f->time_ms = anfu_row_int(row, 6);
	pay_col(row, 7, f->payee.shown, sizeof(f->payee.shown));
	m->found = true;
	return 1;
}

int anfu_pay_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
			   struct anfu_receipt_facts *ret)
{
	struct anfu_pay *p = ud;
	const struct anfu_param v[1] = { ANFU_PS(ref) };
	struct anfu_receipt_facts f;
	struct anfu_iam_party payer;
	struct pay_facts_row m = { false, &f };
	int r;

	if (!p || !db || !ref || !ret)
		return ANFU_EINVAL;
	memset(&f, 0, sizeof(f));
	r = anfu_db_exec(db,
			 "SELECT pp.payer_id, o.merchant_id, pp.amount, o.subject, pp.ledger_id,"
			 " pp.fee_ledger_id, pp.created_ms, m.name_zh"
			 " FROM pay_payment pp JOIN pay_order o ON o.id = pp.order_id"
			 " JOIN pay_merchant m ON m.merchant_id = o.merchant_id WHERE pp.id = $1",
			 v, 1, facts_row, &m, NULL);
	if (r < 0)
		return r;
	if (!m.found)
		return ANFU_ENOTFOUND;
	r = anfu_iam_party_get(p->iam, f.payer.id, &payer);
	if (r == ANFU_ENOTFOUND)
		(void)anfu_strlcpy(f.payer.shown, "***", sizeof(f.payer.shown));
	else if (r < 0)
		return r;
	else
		(void)anfu_strlcpy(f.payer.shown,
				   payer.real_name[0] ? payer.real_name : payer.login,
				   sizeof(f.payer.shown));
	(void)anfu_strlcpy(f.kind, ANFU_PAY_RECEIPT_KIND, sizeof(f.kind));
	(void)anfu_strlcpy(f.ref, ref, sizeof(f.ref));
	(void)anfu_strlcpy(f.currency, "CNY", sizeof(f.currency));
	(void)anfu_strlcpy(f.state, "completed", sizeof(f.state));
	(void)anfu_strlcpy(f.payer.type, "customer", sizeof(f.payer.type));
	(void)anfu_strlcpy(f.payee.type, "merchant", sizeof(f.payee.type));
	*ret = f;
	return 0;
}
