/*
 * points/internal: what the points service's files share (not for other
 * modules): the service struct, the ledger accounts it owns, and the
 * helpers of a writer command (history entry, balance, notice).
 */
#ifndef ANFU_POINTS_INTERNAL_H
#define ANFU_POINTS_INTERNAL_H

#include "ledger/ledger.h"
#include "points/points.h"

/* The caller name of every ledger transfer this module posts: ledger
 * idempotency keys are unique per caller. */
#define POINTS_CALLER "points"
/* The owner id of the platform accounts this module opens. */
#define POINTS_OWNER "points"
/* How long a command may wait for the writer (monotonic). */
#define POINTS_DEADLINE_MS 5000

struct anfu_points {
	const struct anfu_points_config *cfg;
	struct anfu_tx_exec *tx;
	struct anfu_ledger *l;
	char liability[ANFU_ID_MAX]; /* points_liability, POINTS */
	char fund[ANFU_ID_MAX];	     /* platform_fee-kind "points" account, CNY */
	anfu_points_notice_fn notice;
	void *notice_ud;
};

/* The customer's account of kind ("customer_points" / "customer_wallet")
 * and asset, on the calling thread (inside a command: as it sees it). */
int points_customer_account(struct anfu_points *p, const char *customer_id, const char *kind,
			    const char *asset, struct anfu_ledger_account *ret);
/* Available balance of a liability account. */
int64_t points_available(const struct anfu_ledger_account *a);
/* Inside a writer command: reads the customer's points balance as the
 * command sees it, and appends the history entry with it. */
int points_entry_add(struct anfu_points *p, struct anfu_tx *tx, const char *customer_id,
		     int64_t delta, const char *reason, const char *ref, int64_t *ret_balance);
/* The notice (kind; args fill the template of notices.c) to customer_id
 * through the hook, if any. */
int points_notify(struct anfu_points *p, struct anfu_tx *tx, const char *customer_id,
		  const char *kind, int64_t points, int64_t balance, int64_t value_fen);

#endif
