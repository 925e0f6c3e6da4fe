/*
 * iam/service: the service object, its audit helper and its scheduled
 * jobs (password-expiry reminders, purge of spent captchas, codes, resets
 * and sessions; with the account review of review.c, the job table iam's
 * module descriptor declares).
 *
 * Owns struct anfu_iam's lifetime. Trusts its dependencies (config, store,
 * keys, audit, vault, notify) to be open and to outlive it; trusts nothing
 * a caller passes in a context beyond it being NUL-terminated strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "iam/admin.h"
#include "iam/challenge.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "jobs/jobs.h"
#include "notify/notify.h"
#include "store/store.h"

/* Users looked at per batch by the reminder job (bounds one query). */
#define REMIND_BATCH 100
/* Spent rows are kept this long after they stop mattering. */
#define PURGE_AGE_MS IAM_DAY_MS
#define PURGE_INTERVAL_MS (60 * IAM_MINUTE_MS)
#define JOB_FIRST_DELAY_MS IAM_MINUTE_MS
/* Bytes of a client's device id an audit record keeps (the sessions table
 * keeps as many). */
#define AUDIT_DEVICE_MAX 128

int anfu_iam_new(const struct anfu_iam_deps *d, struct anfu_iam **ret)
{
	struct anfu_iam *iam = NULL;
	int r;

	if (!d || !ret || !d->cfg || !d->platform || !d->store || !d->audit || !d->tx ||
	    !d->vault)
		return ANFU_EINVAL;
	iam = anfu_xcalloc(1, sizeof(*iam));
	iam->cfg = d->cfg;
	iam->platform = d->platform;
	iam->store = d->store;
	iam->keys = d->keys;
	iam->audit = d->audit;
	iam->tx = d->tx;
	iam->vault = d->vault;
	iam->notify = d->notify;
	r = anfu_pwhash_new(d->cfg->argon2.opslimit, d->cfg->argon2.memlimit_kib,
			    d->cfg->argon2.max_concurrent, &iam->pwhash);
#ifdef ANFU_TEST_HOOKS
	if (r == 0)
		r = iam_test_captchas_new(&iam->test_captchas);
#endif
	if (r < 0)
		goto out;
	*ret = iam;
	iam = NULL;
	r = 0;
out:
	anfu_iam_free(iam);
	return r;
}

void anfu_iam_free(struct anfu_iam *iam)
{
	if (!iam)
		return;
	anfu_pwhash_free(iam->pwhash);
#ifdef ANFU_TEST_HOOKS
	iam_test_captchas_free(iam->test_captchas);
#endif
	free(iam);
}

int iam_db(struct anfu_iam *iam, struct anfu_db **ret)
{
	if (!iam || !ret)
		return ANFU_EINVAL;
	return anfu_store_db(iam->store, ret);
}

bool anfu_principal_can(const struct anfu_principal *p, const char *perm)
{
	if (!p || !perm || !perm[0])
		return false;
	for (int i = 0; i < p->nperms && i < ANFU_PRINCIPAL_MAX_PERMS; i++)
		if (strcmp(p->perms[i], perm) == 0)
			return true;
	return false;
}

void iam_err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

/* What iam_tx() hands the executor: fn, and what fn returned. */
struct iam_run {
	anfu_tx_fn fn;
	void *ud;
	int rv;
};

static int iam_run_tx(struct anfu_tx *tx, void *ud)
{
	struct iam_run *c = ud;

	c->rv = c->fn(tx, c->ud);
	return c->rv;
}

int iam_tx(struct anfu_iam *iam, anfu_tx_fn fn, void *ud, struct anfu_iam_err *err)
{
	struct iam_run c = { fn, ud, 0 };
	int r;

	if (!iam || !fn)
		return ANFU_EINVAL;
	r = anfu_tx_run(iam->tx, NULL, iam_run_tx, &c);
	if (r == ANFU_EAUDIT && c.rv != ANFU_EAUDIT)
		iam_err_set(err, NULL, NULL);
	return r;
}

const char *iam_kind_name(enum anfu_user_kind k)
{
	switch (k) {
	case ANFU_USER_MERCHANT: return "merchant";
	case ANFU_USER_STAFF: return "staff";
	case ANFU_USER_CUSTOMER:
	default: return "customer";
	}
}

/* ---- audit ---------------------------------------------------------------- */

static int kind_row(void *ud, const struct anfu_row *r)
{
	const char *k = anfu_row_text(r, 0, NULL);

	if (k)
		(void)anfu_strlcpy(ud, k, 16);
	return 1;
}

/* The actor type of a user id: its kind, or "system" for "system". */
static void actor_type(struct anfu_db *db, const char *actor_id, char out[16])
{
	struct anfu_param p[1] = { iam_ps(actor_id) };

	(void)anfu_strlcpy(out, "system", 16);
	if (strcmp(actor_id, "system") == 0)
		return;
	(void)anfu_db_exec(db, "SELECT kind FROM iam_user WHERE id = $1", p, 1, kind_row, out,
			   NULL);
}

/* The device id as an audit record shows it. It is a header the client
 * chose: one the audit would refuse (too long, not UTF-8, controls) must
 * not make the record, and with it the change or the refusal it records,
 * fail; so printable ASCII only ('?' for anything else), cut short. */
static void device_text(const char *in, char out[AUDIT_DEVICE_MAX + 1])
{
	size_t i = 0;

	for (; in && in[i] && i < AUDIT_DEVICE_MAX; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

int iam_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
	      const struct anfu_principal *p, const char *actor_id, const char *action,
	      const char *object_type, const char *object_id, const char *outcome,
	      const json_t *details)
{
	struct anfu_actor a = { 0 };
	char type[16], device[AUDIT_DEVICE_MAX + 1];
	json_t *copy = NULL;

	if (!iam || !tx || !action)
		return ANFU_EINVAL;
	/* The record is appended at commit: it keeps the details as they are
	 * now, whatever the caller does with its object afterwards. */
	if (details) {
		copy = json_deep_copy(details);
		if (!copy)
			abort();
	}
	if (p) {
		a.id = p->user_id;
		a.type = iam_kind_name(p->kind);
		a.role = p->roles;
	} else if (actor_id) {
		actor_type(anfu_tx_db(tx), actor_id, type);
		a.id = actor_id;
		a.type = type;
		a.role = "";
	} else {
		a.id = "";
		a.type = "anonymous";
		a.role = "";
	}
	a.ip = ctx && ctx->ip ? ctx->ip : "";
	device_text(ctx ? ctx->device_id : NULL, device);
	a.device = device;
	a.request_id = ctx && ctx->request_id ? ctx->request_id : "";
	return anfu_tx_audit_as(tx, &a, action, object_type, object_id,
				outcome ? outcome : "success", copy);
}

/* ---- job: password-expiry reminders (IAM-PWD-08) ----------------------------- */

struct id_batch {
	char ids[REMIND_BATCH][ANFU_ID_MAX];
	int n;
};

static int id_row(void *ud, const struct anfu_row *r)
{
	struct id_batch *b = ud;
	const char *id = anfu_row_text(r, 0, NULL);

	if (id && b->n < REMIND_BATCH)
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
					   ANFU_PI(REMIND_BATCH) };
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
		if (r < 0 || b->n < REMIND_BATCH)
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

#ifdef ANFU_TEST_HOOKS
uint64_t anfu_iam_test_pwhash_total(struct anfu_iam *iam)
{
	return iam ? anfu_pwhash_total(iam->pwhash) : 0;
}
#endif
