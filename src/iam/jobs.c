/*
 * iam/jobs: the identity module's scheduled jobs — password-expiry
 * reminders (IAM-PWD-08) and the purge of spent captchas, codes, resets
 * and sessions — and the job table the module descriptor declares (with
 * the account review of review.c).
 *
 * Each job runs on the scheduler's thread; every write goes through
 * iam_tx() (one transaction per reminded user, one for the purge).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "iam/admin.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "jobs/jobs.h"
#include "store/store.h"

/* Spent rows are kept this long after they stop mattering. */
#define PURGE_AGE_MS IAM_DAY_MS
#define PURGE_INTERVAL_MS (60 * IAM_MINUTE_MS)
#define JOB_FIRST_DELAY_MS IAM_MINUTE_MS

/* ---- job: password-expiry reminders (IAM-PWD-08) ----------------------------- */

struct id_batch {
	char ids[ANFU_LIMIT_IAM_REMIND_BATCH][ANFU_ID_MAX];
	int n;
};

static int id_row(void *ud, const struct anfu_row *r)
{
	struct id_batch *b = ud;
	const char *id = anfu_row_text(r, 0, NULL);

	/* The query asks for at most a batch (LIMIT). */
	ANFU_ASSERT(b->n < ANFU_LIMIT_IAM_REMIND_BATCH);
	if (id)
		(void)anfu_strlcpy(b->ids[b->n++], id, ANFU_ID_MAX);
	return 0;
}

/* Earliest password change time that can be inside some class's reminder
 * window now: older passwords are the only candidates. */
static int64_t remind_cutoff(const struct anfu_iam_config *cfg, int64_t now)
{
	int64_t lead = INT64_MAX;

	for (int c = 0; c < ANFU_CLASS_COUNT; c++) {
		int64_t d = cfg->password[c].max_age_days - cfg->password[c].remind_days;
		if (d < lead)
			lead = d;
	}
	if (lead < 0)
		lead = 0;
	return now - lead * IAM_DAY_MS;
}

/* One reminder's transaction. */
struct remind {
	struct anfu_iam *iam;
	const char *id;
	int64_t now;
	bool sent;
};

/* Reminds one user if due: queues the notice, marks pwd_reminded_ms and
 * audits, in one transaction. */
static int remind_tx(struct anfu_tx *tx, void *ud)
{
	struct remind *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u = { 0 };
	enum anfu_role_class cls;
	int64_t expires, start, now = c->now;
	char date[32], days[24];
	const char *args[2] = { date, days };
	json_t *det = NULL;
	int r;

	r = iam_user_load(db, c->id, &u);
	if (r < 0)
		goto out;
	r = iam_user_class(db, &u, &cls);
	if (r < 0)
		goto out;
	expires = iam_password_expires(iam, &u, cls);
	start = expires - iam->cfg->password[cls].remind_days * IAM_DAY_MS;
	if (expires == 0 || u.pwd_must_change || now < start || now >= expires ||
	    u.pwd_reminded_ms >= start) {
		r = 0;
		goto out;
	}
	anfu_clock_format(expires, date);
	date[10] = '\0';
	(void)snprintf(days, sizeof(days), "%lld",
		       (long long)((expires - now + IAM_DAY_MS - 1) / IAM_DAY_MS));
	r = iam_notice(iam, tx, &u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "password_expiry", args, 2);
	if (r < 0)
		goto out;
	{
		struct anfu_param p[2] = { ANFU_PI(now), iam_ps(u.id) };
		r = anfu_db_exec(db, "UPDATE iam_user SET pwd_reminded_ms = $1 WHERE id = $2", p, 2,
				 NULL, NULL, NULL);
	}
	if (r < 0)
		goto out;
	det = json_pack("{sI}", "expires_ms", (json_int_t)expires);
	r = iam_audit(iam, tx, NULL, NULL, "system", "user.password_expiry_reminded", "user", u.id,
		      "success", det);
	c->sent = r == 0;
out:
	json_decref(det);
	iam_user_clear(&u);
	return r;
}

static int remind_one(struct anfu_iam *iam, const char *id, int64_t now, int *count)
{
	struct remind c = { iam, id, now, false };
	int r = iam_tx(iam, remind_tx, &c, NULL);

	if (r == 0 && c.sent)
		(*count)++;
	return r;
}

static int job_remind(void *ud, struct anfu_db *db, const char **result)
{
	struct anfu_iam *iam = ud;
	struct id_batch *b = anfu_xcalloc(1, sizeof(*b));
	int64_t now = anfu_clock_now_ms();
	char last[ANFU_ID_MAX] = "";
	int count = 0, r = 0;

	for (;;) {
		struct anfu_param p[3] = { iam_ps(last), ANFU_PI(remind_cutoff(iam->cfg, now)),
					   ANFU_PI(ANFU_LIMIT_IAM_REMIND_BATCH) };
		b->n = 0;
		r = anfu_db_exec(db,
				 "SELECT id FROM iam_user WHERE id > $1 AND status = 'active'"
				 " AND pwd_hash IS NOT NULL AND pwd_changed_ms <= $2"
				 " ORDER BY id LIMIT $3",
				 p, 3, id_row, b, NULL);
		if (r < 0)
			break;
		for (int i = 0; i < b->n && r == 0; i++)
			r = remind_one(iam, b->ids[i], now, &count);
		if (r < 0 || b->n < ANFU_LIMIT_IAM_REMIND_BATCH)
			break;
		(void)anfu_strlcpy(last, b->ids[b->n - 1], sizeof(last));
	}
	free(b);
	if (count > 0)
		anfu_log_info("iam.remind", "password expiry reminders sent: %d", count);
	if (result)
		*result = r < 0 ? "failed" : "ok";
	return r;
}

/* ---- job: purge ------------------------------------------------------------- */

static int purge_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		      json_t *det, const char *key)
{
	int64_t n = 0;
	int r = anfu_db_exec(db, sql, p, np, NULL, NULL, &n);

	if (r == 0 && n > 0) {
		json_int_t prev = json_integer_value(json_object_get(det, key));
		(void)json_object_set_new(det, key, json_integer(prev + (json_int_t)n));
	}
	return r;
}

/* Ends sessions past their idle or absolute limit, class by class. */
static int purge_expire_sessions(struct anfu_iam *iam, struct anfu_db *db, int64_t now, json_t *det)
{
	int r = 0;

	for (int c = 0; c < ANFU_CLASS_COUNT && r == 0; c++) {
		struct anfu_param p[3] = { ANFU_PI(now), ANFU_PI(c),
					   ANFU_PI(now - iam->cfg->session[c].idle_minutes *
								 IAM_MINUTE_MS) };
		r = purge_exec(
			db,
			"UPDATE iam_session SET revoked_ms = $1, revoke_reason = 'idle'"
			" WHERE revoked_ms IS NULL AND role_class = $2 AND last_seen_ms <= $3",
			p, 3, det, "sessions_idle");
	}
	if (r == 0) {
		struct anfu_param p[1] = { ANFU_PI(now) };
		r = purge_exec(db,
			       "UPDATE iam_session SET revoked_ms = $1, revoke_reason = 'absolute'"
			       " WHERE revoked_ms IS NULL AND absolute_ms <= $1",
			       p, 1, det, "sessions_absolute");
	}
	return r;
}

static int purge_tx(struct anfu_tx *tx, void *ud)
{
	struct anfu_iam *iam = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t now = anfu_clock_now_ms();
	struct anfu_param p[1] = { ANFU_PI(now - PURGE_AGE_MS) };
	json_t *det = json_object();
	int r;

	r = purge_expire_sessions(iam, db, now, det);
	if (r == 0)
		r = purge_exec(db, "DELETE FROM iam_session WHERE revoked_ms < $1", p, 1, det,
			       "sessions_deleted");
	if (r == 0)
		r = purge_exec(db, "DELETE FROM iam_captcha WHERE expires_ms < $1", p, 1, det,
			       "captchas");
	if (r == 0)
		r = purge_exec(db, "DELETE FROM iam_code WHERE expires_ms < $1", p, 1, det,
			       "codes");
	if (r == 0)
		r = purge_exec(db, "DELETE FROM iam_reset WHERE expires_ms < $1", p, 1, det,
			       "resets");
	if (r == 0 && json_object_size(det) > 0)
		r = iam_audit(iam, tx, NULL, NULL, "system", "iam.purge", "", "", "success", det);
	json_decref(det);
	return r;
}

static int job_purge(void *ud, struct anfu_db *db, const char **result)
{
	int r;

	(void)db;
	r = iam_tx(ud, purge_tx, ud, NULL);
	if (result)
		*result = r < 0 ? "failed" : "ok";
	return r;
}

/* In the order the scheduler tries them. */
static const struct anfu_job_def jobs[] = {
	{ "iam.account_review", 0, -1, iam_review_interval, iam_review_job },
	{ "iam.password_reminders", IAM_DAY_MS, JOB_FIRST_DELAY_MS, NULL, job_remind },
	{ "iam.purge", PURGE_INTERVAL_MS, JOB_FIRST_DELAY_MS, NULL, job_purge },
};
const struct anfu_job_table anfu_iam_jobs = { jobs, sizeof(jobs) / sizeof(jobs[0]) };

#ifdef ANFU_TEST_HOOKS
int iam_test_run_jobs(struct anfu_iam *iam, struct anfu_db *db)
{
	int r = job_remind(iam, db, NULL);

	if (r == 0)
		r = job_purge(iam, db, NULL);
	return r;
}
#endif
