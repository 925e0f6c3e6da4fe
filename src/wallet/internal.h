/*
 * wallet/internal: what the wallet's files share (not for other modules).
 */
#ifndef ANFU_WALLET_INTERNAL_H
#define ANFU_WALLET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/mask.h"
#include "base/rand.h"
#include "wallet/wallet.h"

struct anfu_db;

struct anfu_wallet {
	struct anfu_wallet_config cfg;
	struct anfu_ledger *ledger;
	struct anfu_tx_exec *tx;
	struct anfu_vault *vault;
	struct anfu_notify *notify;
};

/* The caller name of the wallet's ledger transfers (idempotency keys are
 * unique per caller). */
#define WALLET_CALLER "wallet"
/* How long a wallet request waits for the ledger writer. */
#define WALLET_DEADLINE_MS 10000

/* A customer as a transfer needs them (wallet/payee.c). */
struct wallet_person {
	char id[ANFU_ID_MAX];
	bool customer, active;
	char lang[4];			 /* "zh" | "en" */
	char name_masked[ANFU_MASK_MAX]; /* "" without a real name */
	char login_masked[ANFU_MASK_MAX];
	char channel[8]; /* "sms" | "email" | "" (no contact) */
	char *target;	 /* the phone or email in clear, or NULL; wiped by clear */
};

/* Wipes and frees what p holds (NULL-safe). */
void wallet_person_clear(struct wallet_person *p);
/* The user whose login name, or bound phone, is `to` (normalised as iam
 * does), on db. ANFU_ENOTFOUND when none. *ret only on success. */
int wallet_person_find(struct anfu_wallet *w, struct anfu_db *db, const char *to,
		       struct wallet_person *ret);
/* The user id. ANFU_ENOTFOUND when none. with_contact: also reveal the
 * notice target. *ret only on success. */
int wallet_person_get(struct anfu_wallet *w, struct anfu_db *db, const char *id, bool with_contact,
		      struct wallet_person *ret);

/* The CNY wallet account of a customer (through the ledger). */
struct anfu_ledger_account;
int wallet_account(struct anfu_wallet *w, const char *user_id, struct anfu_ledger_account *ret);

/* The auth method's name in rows and answers. */
const char *wallet_auth_name(enum anfu_wallet_auth a);

#endif
