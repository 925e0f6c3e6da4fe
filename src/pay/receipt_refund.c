/*
 * pay/receipt_refund: the facts of a refund's electronic receipt (kind
 * "refund"; docs/receipts.md, docs/payments.md "Refunds"): a succeeded
 * refund, the merchant paying the customer back; its ledger transfer is
 * the money back (the fee back is between the merchant and the platform
 * and is not on the customer's receipt).
 *
 * Trusts the receipt service to check the viewer against the parties.
 */
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "receipt/receipt.h"
#include "store/store.h"

int anfu_pay_refund_receipt_facts(void *ud, struct anfu_db *db, const char *ref,
				  struct anfu_receipt_facts *ret)
{
	struct anfu_pay_refund x;
	struct anfu_pay_merchant m;
	struct anfu_receipt_facts f;
	int r;

	(void)ud;
	if (!db || !ref || !ret)
		return ANFU_EINVAL;
	r = anfu_pay_refund_get(db, ref, &x);
	/* Only a refund that moved the money has a receipt. */
	if (r == 0 && (x.state != ANFU_PAY_RF_SUCCEEDED || !x.ledger_id[0]))
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = anfu_pay_merchant_get(db, x.merchant_id, &m);
	if (r < 0)
		return r;
	memset(&f, 0, sizeof(f));
	(void)anfu_strlcpy(f.kind, ANFU_PAY_REFUND_RECEIPT_KIND, sizeof(f.kind));
	(void)anfu_strlcpy(f.ref, x.id, sizeof(f.ref));
	f.time_ms = x.updated_ms;
	f.amount = x.amount;
	(void)anfu_strlcpy(f.currency, "CNY", sizeof(f.currency));
	(void)anfu_strlcpy(f.state, "refunded", sizeof(f.state));
	(void)anfu_strlcpy(f.payer.type, "merchant", sizeof(f.payer.type));
	(void)anfu_strlcpy(f.payer.id, x.merchant_id, sizeof(f.payer.id));
	(void)anfu_strlcpy(f.payer.shown, m.name_zh, sizeof(f.payer.shown));
	(void)anfu_strlcpy(f.payee.type, "customer", sizeof(f.payee.type));
	(void)anfu_strlcpy(f.payee.id, x.payer_id, sizeof(f.payee.id));
	/* Paid to a bound card: the card's masked number names where it went. */
	if (strcmp(x.destination, "card") == 0)
		(void)anfu_strlcpy(f.payee.shown, x.card, sizeof(f.payee.shown));
	(void)anfu_strlcpy(f.memo, x.reason, sizeof(f.memo));
	f.ntransfers = 1;
	(void)anfu_strlcpy(f.transfers[0], x.ledger_id, sizeof(f.transfers[0]));
	*ret = f;
	return 0;
}
