/*
 * iam/status (private to src/iam/): the account status of iam_user and
 * its one transition table (iam/status.c).
 *
 * Every write of iam_user.status goes through iam_status_update() or
 * iam_status_case(), which take the from-states and the to-state of an
 * event from the table, so the SQL stays one atomic statement (no read
 * then write): a status the table does not allow for the event is left as
 * it is, and the update changes no row.
 */
#ifndef ANFU_IAM_STATUS_H
#define ANFU_IAM_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The values of iam_user.status (names: iam_status_name()). */
enum anfu_account_status {
	ANFU_ACCOUNT_ACTIVE,
	ANFU_ACCOUNT_LOCKED,
	ANFU_ACCOUNT_DISABLED,
	ANFU_ACCOUNT_EXPIRED,
	ANFU_ACCOUNT_STATUS_COUNT
};

/* What moves an account from one status to another. */
enum iam_status_event {
	/* The failure threshold was reached (IAM-LOCK-01): an active account
	 * locks; so does one whose timed lock ran out (stored "locked"). */
	IAM_STATUS_FAILURES_REACHED,
	/* A timed lock ran out (IAM-LOCK-02), seen at a login or a failure. */
	IAM_STATUS_LOCK_OVER,
	/* The user reset the password (IAM-LOCK-02): a timed lock is lifted
	 * (the caller adds the condition that the lock is a timed one). */
	IAM_STATUS_RESET,
	/* An administrator unlocked the account (IAM-LOCK-02). */
	IAM_STATUS_UNLOCK,
	/* The break-glass CLI restored a locked staff account. */
	IAM_STATUS_BREAKGLASS_RESTORE,
	/* An administrator disabled the account. */
	IAM_STATUS_DISABLE,
	/* An administrator enabled a disabled account. */
	IAM_STATUS_ENABLE,
	/* The account's validity (expires_ms) ended (IAM-ACCT-06): the
	 * effective state of iam_user_status(). */
	IAM_STATUS_VALIDITY_ENDED,
	IAM_STATUS_EVENT_COUNT
};

/* "active", "locked", "disabled", "expired"; "active" for a value out of
 * range (never happens: ANFU_ASSERT'd). */
const char *iam_status_name(enum anfu_account_status s);
/* The status of a stored name into *ret; ANFU_EINVAL for any other text. */
int iam_status_parse(const char *name, enum anfu_account_status *ret);

/* The table: the status ev leads from from to, into *ret_to (written
 * only on success); ANFU_ECONFLICT when the table has no such move. */
int iam_status_next(enum anfu_account_status from, enum iam_status_event ev,
		    enum anfu_account_status *ret_to);

/* Applies ev to user_id in one statement, on the caller's connection and
 * transaction:
 *   UPDATE iam_user SET status = <to>[, <also>]
 *   WHERE id = $1 AND status IN (<from-states of ev>)[ AND (<cond>)]
 * also and cond (may be NULL) are SQL of the caller, which may use $2 ..
 * $(np + 1) for p[0 .. np - 1]. *ret_changed (may be NULL): rows changed,
 * 0 when the stored status does not allow ev (the caller refuses with
 * ANFU_ECONFLICT, see iam_status_refused()) or there is no such user. */
int iam_status_update(struct anfu_db *db, const char *user_id, enum iam_status_event ev,
		      const char *also, const char *cond, const struct anfu_param *p, size_t np,
		      int64_t *ret_changed);

/* For a statement that writes other columns whatever the status: writes
 * "CASE WHEN status IN (<from-states of ev>)[ AND <cond>] THEN '<to>'
 * ELSE status END" into out (cap bytes). ANFU_ELIMIT when it does not
 * fit (a caller's buffer too small: a bug, asserted by the callers). */
int iam_status_case(enum iam_status_event ev, const char *cond, char *out, size_t cap);

/* The condition under which ev applies, for a statement's other columns
 * that follow the status move: "status IN (<from-states of ev>)[ AND
 * <cond>]" into out (cap bytes); ANFU_ELIMIT when it does not fit. */
int iam_status_when(enum iam_status_event ev, const char *cond, char *out, size_t cap);

/* The name of ev for logs and audit ("unlock", ...). */
const char *iam_status_event_name(enum iam_status_event ev);

#endif
