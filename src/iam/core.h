/*
 * iam/core: private helpers shared by the core files of src/iam/ (user,
 * session, login, lockout, register, reset, self, jobs). Not part of internal.h
 * because the other iam files have no use for them; everything here runs
 * on the caller's connection and, where it writes, inside the caller's
 * write transaction.
 */
#ifndef ANFU_IAM_CORE_H
#define ANFU_IAM_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "iam/internal.h"
#include "store/store.h"

#define IAM_MINUTE_MS INT64_C(60000)
#define IAM_DAY_MS INT64_C(86400000)
/* Hex of a keyed hash (vault index / token hash) plus NUL. */
#define IAM_HASH_HEX (2 * ANFU_HASH_LEN + 1)
/* Networks of this many recent successful logins form the usual set
 * (IAM-ANOM-01). */
#define IAM_USUAL_LOGINS 10

/* ANFU_PS as a function: the macro's NULL test warns when given an array. */
static inline struct anfu_param iam_ps(const char *s)
{
	return ANFU_PS(s);
}

/* The blind index stored for u's bound phone or email (channel "sms" or
 * "email") into out; ANFU_ENOTFOUND when that channel is not bound. */
int iam_user_target_index(struct anfu_db *db, const char *user_id, const char *channel,
			  char out[IAM_HASH_HEX]);

/* When u's login password expires (0: it has none). */
int64_t iam_password_expires(const struct anfu_iam *iam, const struct iam_user *u,
			     enum anfu_role_class cls);
/* Required actions of u now (ANFU_RA_*): a forced or due password change,
 * a TOTP enrolment staff still owe. */
unsigned iam_required_actions(const struct anfu_iam *iam, const struct iam_user *u,
			      enum anfu_role_class cls, int64_t now_ms);
/* Second factors u can use: ANFU_MFA_* bits. */
unsigned iam_user_methods(const struct iam_user *u);
/* True when p proved a second factor within mfa.stepup_window
 * (iam/session.c, which records the factor's time on the session). */
bool iam_stepped_up(const struct anfu_iam *iam, const struct anfu_principal *p, int64_t now_ms);

/* Appends one row of iam_login_attempt (IAM-HIST-03). user_id may be NULL. */
int iam_attempt_record(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
		       const char *user_id, const char *result, const char *reason);
/* The same for a password login, with the blind index of the login name
 * it gave (NULL: none). */
int iam_attempt_record_login(struct anfu_iam *iam, struct anfu_db *db,
			     const struct anfu_iam_ctx *ctx, const char *user_id,
			     const char *login_index, const char *result, const char *reason);

/* Verifies a second factor of u: method "totp" (replay-protected through
 * totp_last_step, updated here), "sms" or "email" (a code of purpose bound
 * to context). 0, ANFU_EAUTH (code_invalid), ANFU_EEXPIRED (code_expired)
 * or ANFU_EPERM (method_unavailable), with err->code set. Runs inside the
 * caller's write transaction. */
int iam_factor_verify(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		      const char *method, const char *code, const char *purpose,
		      const char *context, struct anfu_iam_err *err);

/* Ends expired or unwanted sessions of the user so that the per-user limit
 * holds for one more session (WEB-CONC-02); used when a session becomes
 * more than MFA_PENDING. ended_out (ANFU_ID_MAX, may be NULL) gets the
 * public id of a session ended by the limit. ANFU_ECONFLICT when
 * sessions.on_limit is "refuse" and the limit is reached. except_public_id
 * is the session being promoted (not counted), or NULL. */
int iam_session_make_room(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
			  enum anfu_role_class cls, bool admin, const char *except_public_id,
			  char *ended_out);

/* "2026-11-21 13:12 UTC": a time for notice texts. */
void iam_time_text(int64_t ms, char out[32]);

#ifdef ANFU_TEST_HOOKS
/* Test hook (unit tests): runs the reminder and purge jobs (iam/jobs.c)
 * on db now. */
int iam_test_run_jobs(struct anfu_iam *iam, struct anfu_db *db);
#endif

#endif
