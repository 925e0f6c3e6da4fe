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

/* escrow.c, a refund of amount out of order_id's held escrow going to the
 * payer's bound card (docs/payments.md, "Escrow orders"), inside the
 * refund's writer command tx: the hold posted whole if it is not yet (key
 * pay.<order>.escrow.post) and the row counting the refund (refunded +=
 * amount); ret_escrow_acc (ANFU_ID_MAX) the escrow account the card's
 * credit holds it on. ANFU_ECONFLICT with *ret_code: the post refused (a
 * wallet frozen both ways: account_frozen), order_state_invalid (no row,
 * released), pending_amount_exceeded (more than is left). */
int pay_escrow_card_in(struct anfu_pay *p, struct anfu_tx *tx, const char *order_id, int64_t amount,
		       char *ret_escrow_acc, const char **ret_code);
/* escrow.c: the bank failed the card credit of amount held on
 * hold_account for a refund of order_id, in the bank's result command:
 * when that is the order's escrow account, the row counts it no more
 * (refunded -= amount): the amount stays in the escrow for the release;
 * returns 1. Another account (a refund from the merchant's balance):
 * nothing, returns 0. */
int pay_escrow_card_failed_in(struct anfu_tx *tx, const char *order_id, const char *hold_account,
			      int64_t amount);

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

/* order.c: the order q (a merchant's request) stands for, before anything
 * is written: the order of its merchant order number made before
 * (*ret_existed; the same content), a refusal (*ret_code, *ret_field:
 * out_trade_no_conflict, merchant_not_found, merchant_disabled, ttl_s out
 * of range, the lines'), else *ret is the new order (id, times, lines)
 * for pay_order_insert_in. ANFU_EINVAL for bad arguments (as
 * anfu_pay_order_create); the store's errors. */
int pay_order_new(struct anfu_pay *p, const struct anfu_pay_order_req *q,
		  struct anfu_pay_order *ret, bool *ret_existed, const char **ret_code,
		  const char **ret_field);
/* order.c: inside a writer command: inserts new order o (pay_order_new)
 * of q with its lines and stages "pay.order.created" (weight 1).
 * ANFU_ECONFLICT and *ret_raced true when another command inserted its
 * merchant order number first; the store's and the audit's errors. */
int pay_order_insert_in(struct anfu_tx *tx, const struct anfu_pay_order_req *q,
			const struct anfu_pay_order *o, bool *ret_raced);
/* payment.c: makes order q (pay_order_new) and pays it with req (its
 * order_id and request_id "<prefix>.<order id>" set here) in ONE writer
 * command: the order's insert and record, then anfu_pay_pay's checks,
 * req->within, the transfers and records. A refusal in the command undoes
 * all of it: no order, no lines, no record, nothing of req->within (the
 * project's rule: a refusal changes nothing; a retry tries again). An
 * order of the same number and content made before (or by a racing
 * command) is paid as it is by anfu_pay_pay (an earlier payment of the
 * same request answers existed). Returns 0 with *ret (ret->code: the
 * order's or the payment's refusal) and ret_order_id (the order's id, ""
 * when no order exists); errors as anfu_pay_pay. */
int pay_order_pay(struct anfu_pay *p, const struct anfu_actor *actor,
		  const struct anfu_pay_order_req *q, struct anfu_pay_pay_req *req,
		  const char *prefix, char ret_order_id[ANFU_ID_MAX], struct anfu_pay_payment *ret);

#endif
