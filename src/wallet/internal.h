/*
 * wallet/internal: what the wallet's files share (not for other modules).
 */
#ifndef ANFU_WALLET_INTERNAL_H
#define ANFU_WALLET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/rand.h"
#include "iam/iam.h"
#include "wallet/wallet.h"

struct anfu_db;

struct anfu_wallet {
	struct anfu_wallet_config cfg;
	struct anfu_ledger *ledger;
	struct anfu_tx_exec *tx;
	struct anfu_iam *iam;
	const struct anfu_keys *keys;
};

/* The caller name of the wallet's ledger transfers (idempotency keys are
 * unique per caller). */
#define WALLET_CALLER "wallet"
/* How long a wallet request waits for the ledger writer. */
#define WALLET_DEADLINE_MS 10000

/* The payee the payer means by `to` (iam: an active customer whose login,
 * or bound phone, it is). ANFU_ENOTFOUND when none. *ret only on success.
 * Reads on the calling thread's connection. */
int wallet_payee_find(struct anfu_wallet *w, const char *to, struct anfu_iam_party *ret);
/* The party user_id as iam shows it (masked). ANFU_ENOTFOUND when none. */
int wallet_party_get(struct anfu_wallet *w, const char *user_id, struct anfu_iam_party *ret);

/* The CNY wallet account of a customer (through the ledger). */
struct anfu_ledger_account;
int wallet_account(struct anfu_wallet *w, const char *user_id, struct anfu_ledger_account *ret);

/* The auth method's name in rows and answers. */
const char *wallet_auth_name(enum anfu_wallet_auth a);
/* The method named name in a row ("pin_otp", "pin_totp"; else PIN). */
enum anfu_wallet_auth wallet_auth_of_name(const char *name);

#endif
