/*
 * iam/lockout: failure counting and lockout — of the login (password,
 * second factor, current password: IAM-LOCK-01, -02, -04) and of the
 * payment password (IAM-LOCK-03, -04) — and the clearing of the counts on
 * success or reset. login.c, self.c and reset.c call these; the account
 * status moves through the table of iam/status.c.
 *
 * Owns the writes of iam_user.failures, locked_until_ms, pay_failures and
 * pay_locked_until_ms. Everything runs in the caller's write transaction,
 * on a user record the caller re-read inside it (so a concurrent failure
 * is counted, never lost). The per-IP throttle of credential stuffing is
 * login.c's (IAM-ANOM-02): it counts attempts, not an account's failures.
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/refusal.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "iam/lockout.h"
#include "iam/status.h"
#include "store/store.h"

/* ---- login failures (IAM-LOCK-01, -02, -04) ------------------------------------------- */

static int lock_account(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct iam_user *u, int n, int64_t now)
{
	struct anfu_db *db = anfu_tx_db(tx);
	bool staff = u->kind == ANFU_USER_STAFF;
	int64_t until = staff ? 0 : now + iam->cfg->lockout.user_minutes * IAM_MINUTE_MS;
	char minutes[24];
	const char *args[1] = { minutes };
	struct anfu_param p[2] = { ANFU_PI(n), until ? ANFU_PI(until) : ANFU_PNULL };
	int64_t changed = 0;
	json_t *det;
	int r;

	r = iam_status_update(db, u->id, IAM_STATUS_FAILURES_REACHED,
			      "failures = $2, locked_until_ms = $3", NULL, p, 2, &changed);
	if (r == 0 && changed != 1) {
		anfu_log_warn("iam.status", "lock of %s refused by the status table", u->id);
		r = ANFU_ECONFLICT;
	}
	if (r < 0)
		return r;
	(void)snprintf(minutes, sizeof(minutes), "%lld", (long long)iam->cfg->lockout.user_minutes);
	r = iam_notice(iam, tx, u, ANFU_MFA_SMS | ANFU_MFA_EMAIL,
		       staff ? "lockout_staff" : "lockout", args, 1);
	if (r < 0)
		return r;
	det = until ? json_pack("{sisI}", "failures", n, "locked_until_ms", (json_int_t)until)
		    : json_pack("{siss}", "failures", n, "locked_until", "unlock");
	r = iam_audit(iam, tx, ctx, NULL, u->id, "auth.locked", "user", u->id, "success", det);
	json_decref(det);
	return r;
}

int iam_failure_count(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const struct iam_user *u, bool *ret_locked)
{
	int64_t now = anfu_clock_now_ms(), thr;
	bool lock_over;
	int n, r;

	if (!iam || !tx || !u)
		return ANFU_EINVAL;
	/* Already locked (a concurrent request got there first): nothing to add. */
	if (iam_user_status(u, now) != ANFU_ACCOUNT_ACTIVE) {
		if (ret_locked)
			*ret_locked = false;
		return 0;
	}
	/* A timed lock that ran out starts the count afresh. */
	lock_over = u->status == ANFU_ACCOUNT_LOCKED && u->locked_until_ms > 0;
	n = (lock_over ? 0 : u->failures) + 1;
	/* The count below the threshold is all an active account can hold. */
	ANFU_ASSERT(n >= 1);
	thr = u->kind == ANFU_USER_STAFF ? iam->cfg->lockout.staff_threshold
					 : iam->cfg->lockout.user_threshold;
	if (n >= thr) {
		r = lock_account(iam, tx, ctx, u, n, now);
		if (r == 0 && ret_locked)
			*ret_locked = true;
		return r;
	}
	{
		struct anfu_param p[2] = { ANFU_PI(n), iam_ps(u->id) };
		char st[ANFU_LIMIT_IAM_STATUS_SQL], sql[2 * ANFU_LIMIT_IAM_STATUS_SQL];

		r = iam_status_case(IAM_STATUS_LOCK_OVER, NULL, st, sizeof(st));
		ANFU_ASSERT(r == 0);
		r = snprintf(sql, sizeof(sql),
			     "UPDATE iam_user SET failures = $1, status = %s,"
			     " locked_until_ms = NULL WHERE id = $2",
			     st);
		ANFU_ASSERT(r > 0 && (size_t)r < sizeof(sql));
		r = anfu_db_exec(anfu_tx_db(tx), sql, p, 2, NULL, NULL, NULL);
		if (r == 0 && ret_locked)
			*ret_locked = false;
		return r;
	}
}

/* Completing a login: failures cleared, last use recorded. A login that
 * still owes a second factor leaves the counter alone, so a password
 * alone cannot reset the count of wrong codes; but a timed lock that ran
 * out is over with its count (as iam_failure_count() has it), or the next
 * failure would be counted on top of the old ones and lock again at once. */
int iam_lockout_login_ok(struct anfu_db *db, const char *user_id, bool complete, int64_t now)
{
	static const char over[] = "locked_until_ms <= $1";
	struct anfu_param p[2] = { ANFU_PI(now), iam_ps(user_id) };
	char st[ANFU_LIMIT_IAM_STATUS_SQL], when[ANFU_LIMIT_IAM_STATUS_SQL];
	char sql[4 * ANFU_LIMIT_IAM_STATUS_SQL];
	int r;

	r = iam_status_case(IAM_STATUS_LOCK_OVER, complete ? NULL : over, st, sizeof(st));
	if (r == 0)
		r = iam_status_when(IAM_STATUS_LOCK_OVER, over, when, sizeof(when));
	ANFU_ASSERT(r == 0);
	if (complete)
		r = snprintf(sql, sizeof(sql),
			     "UPDATE iam_user SET failures = 0, last_used_ms = $1, status = %s,"
			     " locked_until_ms = NULL WHERE id = $2",
			     st);
	else
		r = snprintf(sql, sizeof(sql),
			     "UPDATE iam_user SET"
			     " failures = CASE WHEN %s THEN 0 ELSE failures END,"
			     " locked_until_ms = CASE WHEN %s THEN NULL ELSE locked_until_ms END,"
			     " status = %s WHERE id = $2",
			     when, when, st);
	ANFU_ASSERT(r > 0 && (size_t)r < sizeof(sql));
	return anfu_db_exec(db, sql, p, 2, NULL, NULL, NULL);
}

/* A reset lifts a timed lock (a staff account's lock stays: only an
 * administrator unlocks it) and clears the failure count. */
int iam_lockout_reset(struct anfu_db *db, const char *user_id)
{
	struct anfu_param pu[1] = { iam_ps(user_id) };
	char st[ANFU_LIMIT_IAM_STATUS_SQL], sql[2 * ANFU_LIMIT_IAM_STATUS_SQL];
	int r = iam_status_case(IAM_STATUS_RESET, "locked_until_ms IS NOT NULL", st, sizeof(st));

	ANFU_ASSERT(r == 0);
	r = snprintf(sql, sizeof(sql),
		     "UPDATE iam_user SET failures = 0, status = %s, locked_until_ms = NULL"
		     " WHERE id = $1",
		     st);
	ANFU_ASSERT(r > 0 && (size_t)r < sizeof(sql));
	return anfu_db_exec(db, sql, pu, 1, NULL, NULL, NULL);
}

/* ---- payment-password failures (IAM-LOCK-03, -04) ------------------------------------- */

bool iam_pay_locked(const struct iam_user *u, int64_t now_ms)
{
	return u->pay_locked_until_ms > now_ms;
}

/* The notice of a wrong payment password that did not lock: when, and how
 * many wrong entries are left before the lock. */
static int fail_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		       int64_t now, int64_t left)
{
	char when[32], nleft[24];
	const char *args[2] = { when, nleft };

	iam_time_text(now, when);
	(void)snprintf(nleft, sizeof(nleft), "%lld", (long long)left);
	return iam_notice(iam, tx, u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "payment_password_failed",
			  args, 2);
}

/* A wrong payment password: counted, and at the threshold payments lock
 * for pay_minutes with a notice (IAM-LOCK-03, -04). */
int iam_pay_failure_count(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const struct iam_user *u,
			  struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct anfu_iam_config *cfg = iam->cfg;
	int64_t now = anfu_clock_now_ms(), until = 0;
	int n = u->pay_failures + 1, r;
	char minutes[24];
	const char *args[1] = { minutes };

	if (n >= cfg->lockout.pay_threshold) {
		until = now + cfg->lockout.pay_minutes * IAM_MINUTE_MS;
		n = 0; /* a fresh count once the lock is over */
	}
	/* Stored: a count below the threshold, a lock that ends in the future. */
	ANFU_ASSERT(n >= 0 && n < cfg->lockout.pay_threshold && (until == 0 || until > now));
	{
		struct anfu_param q[3] = { ANFU_PI(n), until ? ANFU_PI(until) : ANFU_PNULL,
					   iam_ps(u->id) };
		r = anfu_db_exec(db,
				 "UPDATE iam_user SET pay_failures = $1, pay_locked_until_ms = $2"
				 " WHERE id = $3",
				 q, 3, NULL, NULL, NULL);
	}
	(void)snprintf(minutes, sizeof(minutes), "%lld", (long long)cfg->lockout.pay_minutes);
	if (r == 0 && until)
		r = iam_notice(iam, tx, u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, ANFU_R_PAYMENT_LOCKED,
			       args, 1);
	/* Every other wrong entry is told too (issue 10): the customer learns
	 * of someone trying PINs before the lock. */
	if (r == 0 && !until)
		r = fail_notice(iam, tx, u, now, cfg->lockout.pay_threshold - n);
	if (r == 0)
		r = iam_audit(iam, tx, ctx, p, NULL,
			      until ? "payment.locked" : "payment.password_failed", "user", u->id,
			      "failure", NULL);
	if (r < 0)
		return r;
	iam_err_set(err, until ? ANFU_R_PAYMENT_LOCKED : ANFU_R_PAYMENT_PASSWORD_INVALID, "pin");
	return until ? ANFU_ELOCKED : ANFU_EAUTH;
}

int iam_pay_failures_clear(struct anfu_db *db, const char *user_id)
{
	struct anfu_param q[1] = { iam_ps(user_id) };

	return anfu_db_exec(db,
			    "UPDATE iam_user SET pay_failures = 0, pay_locked_until_ms = NULL"
			    " WHERE id = $1",
			    q, 1, NULL, NULL, NULL);
}
