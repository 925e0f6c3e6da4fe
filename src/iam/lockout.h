/*
 * iam/lockout (private to src/iam/): failure counting and lockout of the
 * login and of the payment password (iam/lockout.c). Every function runs
 * in the caller's write transaction (tx, or its connection db).
 */
#ifndef ANFU_IAM_LOCKOUT_H
#define ANFU_IAM_LOCKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "iam/internal.h"

/* Counts one failed authentication of u (password, second factor, current
 * password) on the user's failure counter; locks the account at the
 * threshold (IAM-LOCK-01, -02), notifies (IAM-LOCK-04) and audits
 * "auth.locked". u must have been re-read inside the transaction.
 * *ret_locked (may be NULL) says whether this failure locked it. */
int iam_failure_count(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const struct iam_user *u, bool *ret_locked);

/* A login of user_id went through its password (complete: and needs no
 * more factor): records the use (last_used_ms) and clears the failure
 * count; a login still owing a factor only ends a timed lock that ran
 * out, with its count. */
int iam_lockout_login_ok(struct anfu_db *db, const char *user_id, bool complete, int64_t now);

/* A password reset of user_id: clears the failure count and lifts a timed
 * lock (never a staff lock). */
int iam_lockout_reset(struct anfu_db *db, const char *user_id);

/* True while u's payments are locked. */
bool iam_pay_locked(const struct iam_user *u, int64_t now_ms);

/* Counts a wrong payment password of u (re-read in tx): at
 * lockout.pay_threshold locks payments for pay_minutes, notifies and
 * audits "payment.locked", else audits "payment.password_failed". Returns
 * the refusal to answer with (ANFU_ELOCKED or ANFU_EAUTH, err set) once
 * the failure is recorded, or the error that kept it from being
 * recorded. */
int iam_pay_failure_count(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const struct iam_user *u,
			  struct anfu_iam_err *err);

/* A right payment password: the count and any lock are cleared. */
int iam_pay_failures_clear(struct anfu_db *db, const char *user_id);

#endif
