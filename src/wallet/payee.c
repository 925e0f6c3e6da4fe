/*
 * wallet/payee: the people of a transfer, as iam shows them — the payee
 * the payer names by mobile number, email or login name, and a party by
 * id — masked (DATA-MASK-*). The wallet reads no iam table and opens no
 * sealed field: iam normalises what was typed as at login, finds the
 * account and masks it (iam/lookup.c).
 *
 * Trusts iam; the typed text is passed through untouched.
 */
#include "base/err.h"
#include "wallet/internal.h"

int wallet_payee_find(struct anfu_wallet *w, const char *to, struct anfu_iam_party *ret)
{
	if (!w || !to || !ret)
		return ANFU_EINVAL;
	return anfu_iam_customer_find(w->iam, to, ret);
}

int wallet_party_get(struct anfu_wallet *w, const char *user_id, struct anfu_iam_party *ret)
{
	if (!w || !user_id || !ret)
		return ANFU_EINVAL;
	return anfu_iam_party_get(w->iam, user_id, ret);
}
