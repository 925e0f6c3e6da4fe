/*
 * pay/internal: what the pay module's files share (not for other modules).
 */
#ifndef ANFU_PAY_INTERNAL_H
#define ANFU_PAY_INTERNAL_H

#include <stdint.h>

#include "pay/pay.h"

struct anfu_db;
struct anfu_row;

struct anfu_pay {
	struct anfu_pay_config cfg;
	struct anfu_ledger *ledger;
	struct anfu_tx_exec *tx;
	struct anfu_iam *iam;
	struct anfu_wallet *wallet;
	struct anfu_bank *bank; /* NULL: refunds go to the wallet only */
};

/* The caller name of pay's ledger transfers (idempotency keys are unique
 * per caller). */
#define PAY_CALLER "pay"
/* How long a pay request waits for the ledger writer. */
#define PAY_DEADLINE_MS 10000

/* The calling thread's connection. */
int pay_db(struct anfu_pay *p, struct anfu_db **ret);
/* The writer's deadline of a request starting now (monotonic ms). */
int64_t pay_deadline(void);
/* Copies column col of r (NULL: "") into out (cap bytes, cut). */
void pay_col(const struct anfu_row *r, int col, char *out, size_t cap);
/* Writes the order's new state (and the time columns the state sets) if
 * it is still from; *ret_ok false when another command moved it first. */
int pay_order_set_state(struct anfu_db *db, const char *id, enum anfu_pay_state from,
			enum anfu_pay_state to, int64_t now, bool *ret_ok);

/* escrow.c: writes the escrow row of order o (kind escrow) that payment
 * hold_id (wallet_acc -> escrow_acc, PENDING) just held, in the payment's
 * writer command; the release is due at now + the merchant's escrow days. */
int pay_escrow_hold_in(struct anfu_pay *p, struct anfu_db *db, const struct anfu_pay_order *o,
		       const struct anfu_pay_merchant *m, const char *hold_id,
		       const char *wallet_acc, const char *escrow_acc, int64_t now);

/* behalf.c: the refusal of a payment of order_id through the link token
 * at now, or NULL (share_not_found: no such link, or another order's;
 * share_expired). */
int pay_share_check(struct anfu_db *db, const char *token, const char *order_id, int64_t now,
		    const char **ret_code);
/* behalf.c: the refusal of customer_id's cancel of order_id, or NULL:
 * order_not_found when another customer shared it. */
int pay_share_cancel_check(struct anfu_db *db, const char *order_id, const char *customer_id,
			   const char **ret_code);

/* refund_list.c: the notice of refund x of order o entering
 * waiting_funds (FUNC-OPS-05) to its merchant's users, zh-CN and English,
 * inside the refund's writer command tx (sent when it commits). The
 * caller calls it on the move into waiting_funds only, so it goes once
 * per refund, not on every retry. */
struct anfu_pay_refund;
int pay_refund_waiting_notice_in(struct anfu_pay *p, struct anfu_tx *tx,
				 const struct anfu_pay_order *o, const struct anfu_pay_refund *x);

#endif
