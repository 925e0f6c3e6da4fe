/*
 * bank/internal: what the files of src/bank/ share; nothing outside the
 * module includes it.
 */
#ifndef ANFU_BANK_INTERNAL_H
#define ANFU_BANK_INTERNAL_H

#include "audit/audit.h"
#include "bank/bank.h"
#include "tx/tx.h"

struct anfu_bank {
	const struct anfu_bank_config *cfg;
	struct anfu_tx_exec *tx;
	struct anfu_ledger *ledger;
	struct anfu_vault *vault;
	struct anfu_notify *notify;
	const struct anfu_bank_ops *ops;
	const struct anfu_sigkey *bank_pub;
	anfu_bank_identity_fn identity;
	void *identity_ud;
	anfu_bank_notice_fn notice;
	void *notice_ud;
	char reserve_id[ANFU_ID_MAX];  /* bank_reserve of cfg->bank_id */
	char clearing_id[ANFU_ID_MAX]; /* bank_clearing of cfg->bank_id */
	char fee_id[ANFU_ID_MAX];      /* platform_fee of "platform": withdrawal fees */
	int64_t cutoff_ms;	       /* withdraw_cutoff as ms after Shanghai midnight; -1 none */
	anfu_bank_refund_fn refund_hook; /* NULL: no refund credits end anywhere */
	void *refund_ud;
};

/* The actor of what the bank module does on its own (callbacks, jobs). */
extern const struct anfu_actor bank_system_actor;

/* bank.c */
int bank_payment_move(struct anfu_tx *tx, struct anfu_bank_payment *p, enum anfu_bank_event ev,
		      const char *reason, const char *bank_ref, const char **ret_to);
int bank_notify_topup(struct anfu_bank *b, struct anfu_tx *tx, const struct anfu_bank_payment *p,
		      const char *phone);
/* result.c: applies a bank's report on payment serial (a callback's or a
 * query's) in one writer command; *ret_refusal as anfu_bank_callback. */
int bank_apply_result(struct anfu_bank *b, const char *serial, enum anfu_bank_event ev,
		      int64_t amount, const char *bank_ref, const char *nonce, int64_t nonce_ts,
		      const char **ret_refusal);
/* bank.c: one payment by serial, or by a user's request id, on db. */
int bank_payment_by_serial(struct anfu_db *db, const char *serial, struct anfu_bank_payment *ret);
int bank_payment_by_id(struct anfu_db *db, const char *id, struct anfu_bank_payment *ret);
int bank_payment_by_request(struct anfu_db *db, const char *user_id, const char *req_id,
			    struct anfu_bank_payment *ret);
/* cards.c: the masked number and the sealed number in clear of bound card
 * card_id of user_id (*ret_number: anfu_free_secret). */
int bank_card_for_payment(struct anfu_bank *b, const char *user_id, const char *card_id,
			  char masked[ANFU_BANK_MASKED_MAX], char **ret_number,
			  const char **ret_refusal);

/* withdraw.c: a bank's report on the credit payment p of a withdrawal,
 * inside result.c's writer command, before p moves: the withdrawal's move
 * (sent, succeeded: the hold posted and the money moved on; returned: the
 * hold voided), its audit record and the customer's notice. Nothing when
 * the table has no row (a duplicate). */
int bank_wd_on_result(struct anfu_bank *b, struct anfu_tx *tx, const struct anfu_bank_payment *p,
		      enum anfu_bank_event ev);

#endif
