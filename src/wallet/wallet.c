/*
 * wallet/wallet: the service object and what its files share (the
 * customer's CNY wallet account).
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "ledger/ledger.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

int anfu_wallet_new(const struct anfu_wallet_deps *d, struct anfu_wallet **ret)
{
	struct anfu_wallet *w;
	const struct anfu_wallet_config *c;

	if (!d || !d->cfg || !d->ledger || !d->tx || !d->iam || !d->keys || !ret)
		return ANFU_EINVAL;
	c = d->cfg;
	/* A stronger method never has a lower limit; a single transfer
	 * never exceeds the day. */
	if (c->pin_single_max > c->otp_single_max || c->pin_daily_max > c->otp_daily_max ||
	    c->otp_single_max > c->totp_single_max || c->otp_daily_max > c->totp_daily_max ||
	    c->pin_single_max > c->pin_daily_max || c->otp_single_max > c->otp_daily_max ||
	    c->totp_single_max > c->totp_daily_max)
		return ANFU_EINVAL;
	w = anfu_xcalloc(1, sizeof(*w));
	w->cfg = *c;
	w->ledger = d->ledger;
	w->tx = d->tx;
	w->iam = d->iam;
	w->keys = d->keys;
	*ret = w;
	return 0;
}

void anfu_wallet_free(struct anfu_wallet *w)
{
	free(w);
}

int wallet_account(struct anfu_wallet *w, const char *user_id, struct anfu_ledger_account *ret)
{
	const struct anfu_ledger_account_spec s = { "customer_wallet", "CNY", "customer", user_id };

	return anfu_ledger_account_find(w->ledger, &s, ret);
}

const char *anfu_wallet_auth_name(enum anfu_wallet_auth a)
{
	switch (a) {
	case ANFU_WALLET_AUTH_PIN_OTP: return "pin_otp";
	case ANFU_WALLET_AUTH_PIN_TOTP: return "pin_totp";
	case ANFU_WALLET_AUTH_PIN: break;
	}
	return "pin";
}

enum anfu_wallet_auth wallet_auth_of_name(const char *name)
{
	if (name && strcmp(name, "pin_totp") == 0)
		return ANFU_WALLET_AUTH_PIN_TOTP;
	if (name && strcmp(name, "pin_otp") == 0)
		return ANFU_WALLET_AUTH_PIN_OTP;
	return ANFU_WALLET_AUTH_PIN;
}

enum anfu_wallet_auth anfu_wallet_auth_of_factor(const char *mfa_method)
{
	return mfa_method && strcmp(mfa_method, "totp") == 0 ? ANFU_WALLET_AUTH_PIN_TOTP
							     : ANFU_WALLET_AUTH_PIN_OTP;
}

const char *wallet_auth_name(enum anfu_wallet_auth a)
{
	return anfu_wallet_auth_name(a);
}
