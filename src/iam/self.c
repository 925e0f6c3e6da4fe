/*
 * iam/self: what users do to their own account — their profile, login
 * history, sessions and trusted devices, their login password, payment
 * password and TOTP authenticator.
 *
 * Every function acts on the principal's own user only: an id of another
 * user's session or device is "not found" (IAM-RBAC-04). Sensitive
 * changes (passwords, payment password, TOTP enrolment, ending other
 * sessions, removing a trusted device) need a recent step-up (IAM-MFA-02)
 * unless the session is in the required action that asks for them; a
 * refused one is audited as denied. A password change or a TOTP
 * confirmation gives the session a new id and CSRF token (IAM-SESS-07).
 * Argon2 work runs before the write transaction. Trusts the principal
 * (made by anfu_iam_authenticate) and nothing in the other arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/admin.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/internal.h"
#include "iam/lockout.h"
#include "iam/pinmac.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "keys/keys.h"
#include "store/store.h"
#include "vault/vault.h"

static int load_self(struct anfu_iam *iam, const struct anfu_principal *p, struct anfu_db **db,
		     struct iam_user *u)
{
	int r = iam_db(iam, db);

	if (r == 0)
		r = iam_user_load(*db, p->user_id, u);
	return r;
}

int anfu_iam_me(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		const struct anfu_principal *p, struct anfu_user_view *ret)
{
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	r = load_self(iam, p, &db, &u);
	if (r == 0)
		r = iam_user_view(iam, db, &u, ret);
	iam_user_clear(&u);
	return r;
}

/* ---- history, sessions, devices --------------------------------------------------- */

/* Room for one more entry in a list of n, growing *cap by doubling. */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 8;
	return anfu_xrealloc(v, *cap * size);
}

static char *dup_text(const char *s)
{
	return anfu_xstrdup(s ? s : "");
}

void anfu_login_list_clear(struct anfu_login_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].ip);
		free(l->v[i].device);
		free(l->v[i].result);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct login_rows {
	struct anfu_login_list l;
	size_t cap;
};

static int login_row(void *ud, const struct anfu_row *r)
{
	struct login_rows *c = ud;
	const char *dev = anfu_row_text(r, 2, NULL), *label = anfu_row_text(r, 4, NULL);
	struct anfu_login_entry *e;
	char devtxt[24];

	(void)snprintf(devtxt, sizeof(devtxt), "%.12s", dev ? dev : "");
	c->l.v = grow(c->l.v, c->l.n, &c->cap, sizeof(*c->l.v));
	e = &c->l.v[c->l.n++];
	e->time_ms = anfu_row_int(r, 0);
	e->ip = dup_text(anfu_row_text(r, 1, NULL));
	e->device = dup_text(label ? label : devtxt);
	e->result = dup_text(anfu_row_text(r, 3, NULL));
	return 0;
}

int anfu_iam_my_logins(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, int limit, struct anfu_login_list *ret)
{
	struct anfu_db *db = NULL;
	struct login_rows c = { { NULL, 0 }, 0 };
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	if (limit <= 0)
		limit = ANFU_LIMIT_IAM_LOGINS_DEFAULT;
	if (limit > ANFU_LIMIT_IAM_LOGINS_MAX)
		limit = ANFU_LIMIT_IAM_LOGINS_MAX;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	{
		struct anfu_param q[2] = { iam_ps(p->user_id), ANFU_PI(limit) };
		r = anfu_db_exec(db,
				 "SELECT a.ts_ms, a.ip, a.device_hash, a.result,"
				 " (SELECT d.label FROM iam_device d WHERE d.user_id = a.user_id"
				 " AND d.fp_hash = a.device_hash ORDER BY d.trusted_ms DESC"
				 " LIMIT 1)"
				 " FROM iam_login_attempt a"
				 " WHERE a.user_id = $1 ORDER BY a.ts_ms DESC LIMIT $2",
				 q, 2, login_row, &c, NULL);
	}
	if (r < 0) {
		anfu_login_list_clear(&c.l);
		return r;
	}
	ANFU_ASSERT(c.l.n <= (size_t)limit);
	*ret = c.l;
	return 0;
}

void anfu_session_list_clear(struct anfu_session_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].ip);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct sess_rows {
	struct anfu_session_list l;
	size_t cap;
	const struct anfu_iam *iam;
	const char *current;
	int64_t now;
};

static int my_session_row(void *ud, const struct anfu_row *r)
{
	struct sess_rows *c = ud;
	const char *pid = anfu_row_text(r, 0, NULL);
	int cls = (int)anfu_row_int(r, 4);
	int64_t seen = anfu_row_int(r, 2), abs_ms = anfu_row_int(r, 5);
	struct anfu_session_entry *e;

	if (!pid || cls < 0 || cls >= ANFU_CLASS_COUNT)
		return 0;
	/* Past their limits they are over, even before anyone ended them. */
	if (c->now >= abs_ms ||
	    c->now - seen >= c->iam->cfg->session[cls].idle_minutes * IAM_MINUTE_MS)
		return 0;
	c->l.v = grow(c->l.v, c->l.n, &c->cap, sizeof(*c->l.v));
	e = &c->l.v[c->l.n++];
	memset(e, 0, sizeof(*e));
	(void)anfu_strlcpy(e->id, pid, sizeof(e->id));
	e->created_ms = anfu_row_int(r, 1);
	e->last_seen_ms = seen;
	e->ip = dup_text(anfu_row_text(r, 3, NULL));
	e->current = strcmp(pid, c->current) == 0;
	return 0;
}

int anfu_iam_my_sessions(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, struct anfu_session_list *ret)
{
	struct anfu_db *db = NULL;
	struct sess_rows c = { { NULL, 0 }, 0, iam, NULL, anfu_clock_now_ms() };
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	c.current = p->session_id;
	{
		struct anfu_param q[1] = { iam_ps(p->user_id) };
		r = anfu_db_exec(db,
				 "SELECT public_id, created_ms, last_seen_ms, ip, role_class,"
				 " absolute_ms FROM iam_session WHERE user_id = $1"
				 " AND revoked_ms IS NULL ORDER BY created_ms",
				 q, 1, my_session_row, &c, NULL);
	}
	if (r < 0) {
		anfu_session_list_clear(&c.l);
		return r;
	}
	*ret = c.l;
	return 0;
}

/* A sensitive change without a recent second factor: refused and audited
 * as denied (IAM-MFA-02). */
static int need_step_up(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, const char *action, const char *object_type,
			const char *object_id, struct anfu_iam_err *err)
{
	if (iam_stepped_up(iam, p, anfu_clock_now_ms()))
		return 0;
	iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
	iam_audit_denied(iam, ctx, p, action, object_type, object_id, ANFU_R_STEP_UP_REQUIRED);
	return ANFU_EPERM;
}

/* What one self-service transaction works with. */
struct self_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *object; /* a session or device id, or NULL for all */
	struct anfu_iam_err *err;
};

static int end_sessions_tx(struct anfu_tx *tx, void *ud)
{
	const struct self_op *c = ud;
	const char *session_id = c->object;
	json_t *det;
	/* Another user's session is simply not found (IAM-RBAC-04). */
	int r = iam_session_end(c->iam, anfu_tx_db(tx), c->p->user_id, session_id,
				session_id ? NULL : c->p->session_id, "user");

	det = json_pack("{ss}", "scope", session_id ? "one" : "others");
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "session.ended", "session",
			      session_id ? session_id : "", "success", det);
	json_decref(det);
	return r;
}

int anfu_iam_end_sessions(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *session_id,
			  struct anfu_iam_err *err)
{
	struct self_op c = { iam, ctx, p, session_id, err };
	int r;

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	/* Ending one's own session is a logout; ending the others throws
	 * someone out, which may be the rightful owner. */
	if (!session_id || strcmp(session_id, p->session_id) != 0) {
		r = need_step_up(iam, ctx, p, "session.ended", "session",
				 session_id ? session_id : "", err);
		if (r < 0)
			return r;
	}
	return iam_tx(iam, end_sessions_tx, &c, NULL);
}

void anfu_device_list_clear(struct anfu_device_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].label);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct device_rows {
	struct anfu_device_list l;
	size_t cap;
};

static int device_row(void *ud, const struct anfu_row *r)
{
	struct device_rows *c = ud;
	struct anfu_device_entry *e;

	c->l.v = grow(c->l.v, c->l.n, &c->cap, sizeof(*c->l.v));
	e = &c->l.v[c->l.n++];
	e->id = dup_text(anfu_row_text(r, 0, NULL));
	e->label = dup_text(anfu_row_text(r, 1, NULL));
	e->trusted_ms = anfu_row_int(r, 2);
	e->trusted_until_ms = anfu_row_int(r, 5);
	e->created_ms = anfu_row_int(r, 3);
	e->last_seen_ms = anfu_row_int(r, 4);
	return 0;
}

int anfu_iam_my_devices(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, struct anfu_device_list *ret)
{
	struct anfu_db *db = NULL;
	struct device_rows c = { { NULL, 0 }, 0 };
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	{
		/* trusted_until_ms: the trust ends at expires_ms, or sooner
		 * when mfa.device_trust_days was lowered since. */
		struct anfu_param q[3] = { iam_ps(p->user_id),
					   ANFU_PI(iam->cfg->mfa.device_trust_days * IAM_DAY_MS),
					   ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(db,
				 "SELECT id, label, trusted_ms, created_ms, last_seen_ms,"
				 " CASE WHEN trusted_ms + $2 < expires_ms THEN trusted_ms + $2"
				 " ELSE expires_ms END FROM iam_device"
				 " WHERE user_id = $1 AND revoked_ms IS NULL AND expires_ms > $3"
				 " AND trusted_ms + $2 > $3 ORDER BY created_ms, id",
				 q, 3, device_row, &c, NULL);
	}
	if (r < 0) {
		anfu_device_list_clear(&c.l);
		return r;
	}
	*ret = c.l;
	return 0;
}

static int remove_device_tx(struct anfu_tx *tx, void *ud)
{
	const struct self_op *c = ud;
	const char *device_id = c->object;
	int64_t changed = 0;
	int r;

	{
		/* device_id NULL: every trusted device of the user ($2 IS NULL).
		 * The rows go: a removed secret matches nothing any more. */
		struct anfu_param q[3] = { ANFU_PI(anfu_clock_now_ms()), ANFU_PS(device_id),
					   iam_ps(c->p->user_id) };
		r = anfu_db_exec(anfu_tx_db(tx),
				 "DELETE FROM iam_device"
				 " WHERE ($2 IS NULL OR id = $2) AND user_id = $3"
				 " AND revoked_ms IS NULL AND expires_ms > $1",
				 q, 3, NULL, NULL, &changed);
	}
	if (r == 0 && changed == 0 && device_id)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "device.removed", "device",
			      device_id ? device_id : "all", "success", NULL);
	return r;
}

int anfu_iam_remove_device(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const char *device_id,
			   struct anfu_iam_err *err)
{
	struct self_op c = { iam, ctx, p, device_id, err };
	const char *object = device_id ? device_id : "all";
	int r;

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	r = need_step_up(iam, ctx, p, "device.removed", "device", object, err);
	if (r < 0)
		return r;
	return iam_tx(iam, remove_device_tx, &c, NULL);
}

/* ---- login password (IAM-PWD-*) ---------------------------------------------------------- */

/* After the user's required actions changed: the session's new state
 * (optionally with a second factor now: its method) under a new id and CSRF token
 * (IAM-SESS-07), written into *ret. */
static int session_renew(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_principal *p,
			 const char *mfa_method, struct anfu_login_result *ret)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u = { 0 };
	enum anfu_role_class cls;
	unsigned ra = 0;
	int r = iam_user_load(db, p->user_id, &u);

	if (r == 0)
		r = iam_user_class(db, &u, &cls);
	if (r == 0) {
		ra = iam_required_actions(iam, &u, cls, anfu_clock_now_ms());
		r = iam_session_rotate(iam, tx, p,
				       ra ? ANFU_SESSION_REQUIRED_ACTIONS : ANFU_SESSION_ACTIVE,
				       mfa_method, ret);
	}
	if (r == 0)
		ret->required = ra;
	iam_user_clear(&u);
	return r;
}

static int wrong_current_tx(struct anfu_tx *tx, void *ud)
{
	const struct self_op *c = ud;
	struct iam_user u = { 0 };
	int r = iam_user_load(anfu_tx_db(tx), c->p->user_id, &u);

	if (r == 0)
		r = iam_failure_count(c->iam, tx, c->ctx, &u, NULL);
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, c->object, "user", c->p->user_id,
			      "failure", NULL);
	iam_user_clear(&u);
	return r;
}

/* A wrong current password (or first TOTP code) counts as a failed
 * authentication, audited as action. */
static int wrong_current(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, const char *action,
			 struct anfu_iam_err *err)
{
	struct self_op c = { iam, ctx, p, action, err };
	int r = iam_tx(iam, wrong_current_tx, &c, err);

	/* Not counted: no refusal code, so it cannot pass for a wrong password
	 * while a right one fails the same way. */
	if (r < 0)
		return r;
	iam_err_set(err, ANFU_R_INVALID_CREDENTIALS, "current_password");
	return ANFU_EAUTH;
}

/* The new password against the rules of the user's class, their personal
 * data and their history (IAM-PWD-01..06). */
static int new_password_ok(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
			   enum anfu_role_class cls, const char *pw, size_t len,
			   struct anfu_iam_err *err)
{
	struct iam_personal pe = { 0 };
	struct anfu_pw_personal pd;
	const char *rule = NULL;
	int r = iam_personal_load(iam, db, u, &pe);

	if (r < 0)
		return r;
	pd = (struct anfu_pw_personal){ pe.login,
					pe.name,
					pe.nickname,
					pe.phone,
					pe.email,
					pe.idno,
					pe.birthday[0] ? pe.birthday : NULL };
	if (anfu_pwpolicy_check(&iam->cfg->password[cls], pw, len, &pd, &rule) < 0) {
		iam_err_set(err, rule ? rule : ANFU_PW_EMPTY, "new_password");
		r = ANFU_EINVAL;
	} else {
		r = iam_password_in_history(iam, db, u->id, "login", pw, len,
					    (int)iam->cfg->password[cls].history);
		if (r == ANFU_EEXIST) {
			iam_err_set(err, ANFU_PW_REUSED, "new_password");
			r = ANFU_EINVAL;
		}
	}
	iam_personal_clear(&pe);
	return r;
}

/* A password change's transaction. */
struct change {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *reason, *hash;
	struct anfu_login_result res;
};

static int change_tx(struct anfu_tx *tx, void *ud)
{
	struct change *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	const struct anfu_principal *p = c->p;
	const char *reason = c->reason;
	struct iam_user u = { 0 };
	int64_t now = anfu_clock_now_ms();
	char when[32];
	const char *args[1] = { when };
	json_t *det = json_pack("{ss}", "reason", reason);
	int r = iam_password_store(db, p->user_id, "login", c->hash, reason, p->user_id, false,
				   now);

	/* Everyone else who had the old password is out (IAM-PWD-15), and
	 * so is every device trusted under it. */
	if (r == 0)
		r = iam_session_end(iam, db, p->user_id, NULL, p->session_id, "password_changed");
	if (r == 0)
		r = iam_devices_forget(db, p->user_id);
	if (r == 0)
		r = session_renew(iam, tx, p, NULL, &c->res);
	if (r == 0)
		r = iam_user_load(db, p->user_id, &u);
	iam_time_text(now, when);
	if (r == 0)
		r = iam_notice(iam, tx, &u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "password_changed", args,
			       1);
	if (r == 0)
		r = iam_audit(iam, tx, c->ctx, p, NULL, "user.password_changed", "user", p->user_id,
			      "success", det);
	json_decref(det);
	iam_user_clear(&u);
	return r;
}

/* Why the password changes, for the history (IAM-PWD-11): an
 * administrator's force first, then an expired password. */
static const char *change_reason(const struct anfu_iam *iam, const struct iam_user *u,
				 enum anfu_role_class cls, int64_t now)
{
	int64_t exp = iam_password_expires(iam, u, cls);

	if (u->pwd_forced_ms > 0)
		return "admin_force";
	return exp > 0 && now >= exp ? "expiry" : "user_change";
}

int anfu_iam_change_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			     const struct anfu_principal *p, const char *current,
			     const char *new_password, struct anfu_login_result *ret,
			     struct anfu_iam_err *err)
{
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	struct change c;
	enum anfu_role_class cls;
	char hash[ANFU_PWHASH_STR_LEN];
	const char *cur = current ? current : "", *pw = new_password ? new_password : "";
	size_t len = strnlen(pw, ANFU_PASSWORD_MAX + 1);
	int64_t now = anfu_clock_now_ms();
	bool ra = p && p->state == ANFU_SESSION_REQUIRED_ACTIONS &&
		  (p->required & ANFU_RA_CHANGE_PASSWORD);
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	if (!ra && !iam_stepped_up(iam, p, now)) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		return ANFU_EPERM;
	}
	memset(&c, 0, sizeof(c));
	r = load_self(iam, p, &db, &u);
	if (r == 0)
		r = iam_user_class(db, &u, &cls);
	if (r < 0)
		goto out;
	if (anfu_pwhash_check(iam->pwhash, u.pwd_hash, cur, strnlen(cur, ANFU_PASSWORD_MAX)) != 0) {
		r = wrong_current(iam, ctx, p, "user.password_change_failed", err);
		goto out;
	}
	r = new_password_ok(iam, db, &u, cls, pw, len, err);
	if (r == 0)
		r = anfu_pwhash_hash(iam->pwhash, pw, len, hash);
	if (r < 0)
		goto out;
	c.iam = iam;
	c.ctx = ctx;
	c.p = p;
	c.reason = change_reason(iam, &u, cls, now);
	c.hash = hash;
	r = iam_tx(iam, change_tx, &c, NULL);
	if (r == 0)
		*ret = c.res;
out:
	anfu_wipe(hash, sizeof(hash));
	anfu_wipe(&c.res, sizeof(c.res));
	iam_user_clear(&u);
	return r;
}

/* ---- payment password (IAM-PWD-14, IAM-LOCK-03) ---------------------------------------- */

/* A payment password's transactions: setting it, or checking one. */
struct pay_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	struct iam_user *u; /* setting: the user, loaded before */
	const char *hash;   /* setting: the new record */
	const char *old;    /* checking: the record the PIN was checked against */
	const char *fresh;  /* checking: its replacement (a MAC record), or NULL */
	bool right;	    /* checking: the PIN matched */
	bool locked;	    /* checking: found locked inside the transaction */
	int verdict;	    /* checking: the refusal of a wrong PIN, kept */
	struct anfu_iam_err *err;
};

static int set_pay_tx(struct anfu_tx *tx, void *ud)
{
	const struct pay_op *c = ud;
	char when[32];
	const char *args[1] = { when };
	int r = iam_password_store(anfu_tx_db(tx), c->u->id, "payment", c->hash,
				   c->u->pay_hash ? "user_change" : "initial", c->u->id, false,
				   anfu_clock_now_ms());

	iam_time_text(anfu_clock_now_ms(), when);
	if (r == 0)
		r = iam_notice(c->iam, tx, c->u, ANFU_MFA_SMS | ANFU_MFA_EMAIL,
			       "payment_password_changed", args, 1);
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "user.payment_password_set", "user",
			      c->u->id, "success", NULL);
	return r;
}

int anfu_iam_set_payment_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *pin,
				  struct anfu_iam_err *err)
{
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	struct iam_personal pe = { 0 };
	struct pay_op c;
	enum anfu_role_class cls;
	char hash[ANFU_LIMIT_PIN_RECORD_BYTES];
	const char *rule = NULL;
	size_t len = pin ? strnlen(pin, 16) : 0;
	int r;

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	if (p->kind != ANFU_USER_CUSTOMER) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		return ANFU_EPERM;
	}
	r = load_self(iam, p, &db, &u);
	if (r == 0)
		r = iam_user_class(db, &u, &cls);
	if (r == 0)
		r = iam_personal_load(iam, db, &u, &pe);
	if (r < 0)
		goto out;
	/* A 6-digit PIN can never equal the login password, which the policy
	 * refuses when it is digits only: "must differ" holds by rule. */
	if (anfu_pin_check(pin ? pin : "", len, pe.birthday[0] ? pe.birthday : NULL, &rule) < 0) {
		iam_err_set(err, rule ? rule : ANFU_PIN_FORMAT, "pin");
		r = ANFU_EINVAL;
		goto out;
	}
	r = iam_password_in_history(iam, db, u.id, "payment", pin, len,
				    (int)iam->cfg->password[cls].history);
	if (r == ANFU_EEXIST) {
		iam_err_set(err, ANFU_PW_REUSED, "pin");
		r = ANFU_EINVAL;
	}
	if (r == 0)
		r = iam_pin_record(iam->keys, u.id, pin, len, hash);
	if (r < 0)
		goto out;
	c = (struct pay_op){ .iam = iam, .ctx = ctx, .p = p, .u = &u, .hash = hash };
	r = iam_tx(iam, set_pay_tx, &c, NULL);
out:
	anfu_wipe(hash, sizeof(hash));
	iam_personal_clear(&pe);
	iam_user_clear(&u);
	return r;
}

/* Replaces the record the right PIN was checked against (an Argon2id hash,
 * or a MAC under an older key) by c->fresh, a MAC record under the current
 * key, in the transaction of the right entry: in iam_user and in the
 * history row that holds the same record, unless the PIN changed meanwhile
 * (then nothing). Audited. */
static int pay_convert(const struct pay_op *c, struct anfu_tx *tx, const struct iam_user *u)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[3] = { iam_ps(u->id), iam_ps(c->fresh), iam_ps(c->old) };
	int64_t changed = 0;
	char kid[ANFU_KID_MAX];
	json_t *det;
	int r = anfu_db_exec(db,
			     "UPDATE iam_user SET pay_hash = $2 WHERE id = $1 AND pay_hash = $3", q,
			     3, NULL, NULL, &changed);

	if (r < 0 || changed == 0)
		return r;
	r = anfu_db_exec(db,
			 "UPDATE iam_password_history SET hash = $2"
			 " WHERE user_id = $1 AND kind = 'payment' AND hash = $3",
			 q, 3, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_keys_pin_kid(c->iam->keys, kid);
	if (r < 0)
		return r;
	det = json_pack("{ssss}", "from", iam_pin_is_argon2(c->old) ? "argon2id" : "older_key",
			"kid", kid);
	r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "user.payment_password_converted", "user",
		      u->id, "success", det);
	json_decref(det);
	return r;
}

static int pay_tx(struct anfu_tx *tx, void *ud)
{
	struct pay_op *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u = { 0 };
	int r = iam_user_load(db, c->p->user_id, &u);

	c->locked = r == 0 && iam_pay_locked(&u, anfu_clock_now_ms());
	if (c->locked) {
		iam_err_set(c->err, ANFU_R_PAYMENT_LOCKED, "pin");
		r = ANFU_ELOCKED;
	} else if (r == 0 && !c->right) {
		c->verdict = iam_pay_failure_count(c->iam, tx, c->ctx, c->p, &u, c->err);
		r = c->verdict == ANFU_EAUTH || c->verdict == ANFU_ELOCKED ? 0 : c->verdict;
	} else if (r == 0) {
		r = iam_pay_failures_clear(db, u.id);
		if (r == 0 && c->fresh)
			r = pay_convert(c, tx, &u);
		if (r == 0)
			r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "payment.password_verified",
				      "user", u.id, "success", NULL);
	}
	iam_user_clear(&u);
	return r;
}

/* Checks the PIN's verdict in a transaction: a wrong one is counted and
 * kept, then refused with its verdict. */
static int pay_check(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, bool right, const char *old, const char *fresh,
		     struct anfu_iam_err *err)
{
	struct pay_op c = { .iam = iam,
			    .ctx = ctx,
			    .p = p,
			    .old = old,
			    .fresh = fresh,
			    .right = right,
			    .err = err };
	int r = iam_tx(iam, pay_tx, &c, err);

	/* Locked by a concurrent failure since the check before the hash. */
	if (c.locked)
		iam_audit_denied(iam, ctx, p, "payment.password_refused", "user", p->user_id,
				 ANFU_R_PAYMENT_LOCKED);
	return r < 0 ? r : c.verdict;
}

/* The right PIN's success, staged in tx: see anfu_iam_pin_ok_record_in(). */
static int pin_ok_stage(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_pin_ok *ok)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u = { 0 };
	int r = iam_user_load(db, ok->p->user_id, &u);

	if (r == 0 && iam_pay_locked(&u, anfu_clock_now_ms()))
		r = ANFU_ELOCKED;
	/* Only a concurrent wrong entry left something to clear. */
	if (r == 0 && (u.pay_failures != 0 || u.pay_locked_until_ms != 0))
		r = iam_pay_failures_clear(db, u.id);
	if (r == 0)
		r = iam_audit(iam, tx, ok->ctx, ok->p, NULL, "payment.password_verified", "user",
			      u.id, "success", NULL);
	iam_user_clear(&u);
	return r;
}

int anfu_iam_pin_ok_record_in(struct anfu_iam *iam, struct anfu_tx *tx, struct anfu_iam_pin_ok *ok)
{
	int r;

	if (!iam || !tx || !ok)
		return ANFU_EINVAL;
	if (!ok->pending)
		return 0;
	if (!ok->ctx || !ok->p)
		return ANFU_EINVAL;
	r = pin_ok_stage(iam, tx, ok);
	if (r == 0)
		ok->pending = false;
	return r;
}

struct pin_ok_op {
	struct anfu_iam *iam;
	const struct anfu_iam_pin_ok *ok;
};

static int pin_ok_tx(struct anfu_tx *tx, void *ud)
{
	const struct pin_ok_op *c = ud;

	return pin_ok_stage(c->iam, tx, c->ok);
}

int anfu_iam_pin_ok_record(struct anfu_iam *iam, struct anfu_iam_pin_ok *ok)
{
	struct pin_ok_op c = { iam, ok };
	int r;

	if (!iam || !ok)
		return ANFU_EINVAL;
	if (!ok->pending)
		return 0;
	if (!ok->ctx || !ok->p)
		return ANFU_EINVAL;

	r = iam_tx(iam, pin_ok_tx, &c, NULL);
	if (r == ANFU_ELOCKED) {
		iam_audit_denied(iam, ok->ctx, ok->p, "payment.password_refused", "user",
				 ok->p->user_id, ANFU_R_PAYMENT_LOCKED);
		r = 0;
	}
	if (r == 0)
		ok->pending = false;
	return r;
}

int anfu_iam_verify_payment_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				     const struct anfu_principal *p, const char *pin,
				     struct anfu_iam_err *err)
{
	return anfu_iam_verify_payment_password_deferred(iam, ctx, p, pin, NULL, err);
}

/* ret_ok NULL: the right PIN is recorded at once (the plain function). */
int anfu_iam_verify_payment_password_deferred(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
					      const struct anfu_principal *p, const char *pin,
					      struct anfu_iam_pin_ok *ret_ok,
					      struct anfu_iam_err *err)
{
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	char fresh[ANFU_LIMIT_PIN_RECORD_BYTES];
	size_t len = pin ? strnlen(pin, 16) : 0;
	bool convert = false;
	int r, v;

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	r = load_self(iam, p, &db, &u);
	if (r < 0)
		goto out;
	if (!u.pay_hash) {
		iam_err_set(err, ANFU_R_PAYMENT_PASSWORD_UNSET, NULL);
		r = ANFU_ECONFLICT;
		goto out;
	}
	if (iam_pay_locked(&u, anfu_clock_now_ms())) {
		/* Refused without a check, and recorded (AUD-CNT-02). */
		iam_err_set(err, ANFU_R_PAYMENT_LOCKED, "pin");
		iam_audit_denied(iam, ctx, p, "payment.password_refused", "user", u.id,
				 ANFU_R_PAYMENT_LOCKED);
		r = ANFU_ELOCKED;
		goto out;
	}
	v = iam_pin_check(iam->keys, iam->pwhash, u.id, u.pay_hash, pin, len);
	if (v != 0 && v != ANFU_EAUTH) {
		/* A record under a key src/keys does not hold, or one that does
		 * not parse: no PIN can match it, and it is not the customer's
		 * wrong entry either, so nothing is counted (fails closed). */
		iam_err_set(err, ANFU_R_PAYMENT_PASSWORD_UNVERIFIABLE, "pin");
		iam_audit_denied(iam, ctx, p, "payment.password_refused", "user", u.id,
				 ANFU_R_PAYMENT_PASSWORD_UNVERIFIABLE);
		r = v == ANFU_ENOTFOUND || v == ANFU_ECORRUPT ? ANFU_ECRYPTO : v;
		goto out;
	}
	/* An Argon2id hash (or a MAC under an older key) is converted with the
	 * right entry; without a new record it still verifies with the old. */
	if (v == 0 && iam_pin_outdated(iam->keys, u.pay_hash))
		convert = iam_pin_record(iam->keys, u.id, pin, len, fresh) == 0;
	/* A right PIN that changes nothing: the payment's own transaction
	 * records it (and re-checks the lock there). */
	if (ret_ok && v == 0 && !convert && u.pay_failures == 0 && u.pay_locked_until_ms == 0) {
		*ret_ok = (struct anfu_iam_pin_ok){ .pending = true, .ctx = ctx, .p = p };
		r = 0;
		goto out;
	}
	r = pay_check(iam, ctx, p, v == 0, u.pay_hash, convert ? fresh : NULL, err);
	if (r == 0 && ret_ok)
		*ret_ok = (struct anfu_iam_pin_ok){ .pending = false, .ctx = ctx, .p = p };
out:
	anfu_wipe(fresh, sizeof(fresh));
	iam_user_clear(&u);
	return r;
}

/* ---- TOTP enrolment (IAM-MFA-01, -13) ------------------------------------------------------ */

void anfu_totp_enrolment_clear(struct anfu_totp_enrolment *e)
{
	if (!e)
		return;
	free(e->qr_png);
	anfu_wipe(e, sizeof(*e));
}

/* The secret, its URI and QR code for u (account = the masked login). */
static int totp_make(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		     struct anfu_totp_enrolment *en, char **ret_enc)
{
	struct anfu_user_view v;
	int r = iam_user_view(iam, db, u, &v);

	if (r == 0)
		r = anfu_totp_secret(en->secret);
	if (r == 0)
		r = anfu_totp_uri(iam->cfg->mfa.totp_issuer, v.login, en->secret, en->uri,
				  sizeof(en->uri));
	if (r == 0)
		r = anfu_totp_qr_png(en->uri, &en->qr_png, &en->qr_png_len);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, "totp", u->id, en->secret, strlen(en->secret),
				    ret_enc);
	return r;
}

/* A TOTP transaction: enrolment, removal or confirmation. */
struct totp_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	struct iam_user *u;
	const char *enc;	      /* begin: the sealed secret */
	const char *code;	      /* confirm: the first code */
	struct anfu_iam_err *err;     /* remove, confirm */
	bool wrong;		      /* confirm: the first code was wrong */
	struct anfu_login_result res; /* confirm */
};

static int totp_begin_tx(struct anfu_tx *tx, void *ud)
{
	const struct totp_op *c = ud;
	struct anfu_param q[2] = { iam_ps(c->enc), iam_ps(c->u->id) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE iam_user SET totp_enc = $1, totp_confirmed = 0,"
			     " totp_last_step = 0 WHERE id = $2 AND totp_confirmed = 0",
			     q, 2, NULL, NULL, NULL);

	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "mfa.totp_begin", "user", c->u->id,
			      "success", NULL);
	return r;
}

int anfu_iam_totp_begin(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, struct anfu_totp_enrolment *ret,
			struct anfu_iam_err *err)
{
	struct anfu_totp_enrolment en;
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	struct totp_op c;
	char *enc = NULL;
	bool ra = p && p->state == ANFU_SESSION_REQUIRED_ACTIONS &&
		  (p->required & ANFU_RA_ENROL_TOTP);
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	if (!ra && !iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		return ANFU_EPERM;
	}
	memset(&en, 0, sizeof(en));
	r = load_self(iam, p, &db, &u);
	if (r == 0 && u.totp_confirmed) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0)
		r = totp_make(iam, db, &u, &en, &enc);
	if (r < 0)
		goto out;
	c = (struct totp_op){ .iam = iam, .ctx = ctx, .p = p, .u = &u, .enc = enc };
	r = iam_tx(iam, totp_begin_tx, &c, NULL);
	if (r == 0) {
		*ret = en;
		memset(&en, 0, sizeof(en));
	}
out:
	anfu_totp_enrolment_clear(&en);
	free(enc);
	iam_user_clear(&u);
	return r;
}

static int totp_remove_tx(struct anfu_tx *tx, void *ud)
{
	const struct totp_op *c = ud;
	char when[32];
	const char *args[1] = { when };
	int64_t changed = 0;
	int r;

	{
		struct anfu_param q[1] = { iam_ps(c->u->id) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "UPDATE iam_user SET totp_enc = NULL, totp_confirmed = 0,"
				 " totp_last_step = 0 WHERE id = $1 AND totp_enc IS NOT NULL",
				 q, 1, NULL, NULL, &changed);
	}
	if (r == 0 && changed == 0) {
		iam_err_set(c->err, ANFU_R_CONFLICT, NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "mfa.totp_removed", "user", c->u->id,
			      "success", NULL);
	iam_time_text(anfu_clock_now_ms(), when);
	if (r == 0)
		r = iam_notice(c->iam, tx, c->u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "totp_removed",
			       args, 1);
	return r;
}

int anfu_iam_totp_remove(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, struct anfu_iam_err *err)
{
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	struct totp_op c;
	int r;

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	/* Staff always log in with TOTP: without it the next login would
	 * enrol a new one on the password alone. */
	if (p->kind == ANFU_USER_STAFF) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		iam_audit_denied(iam, ctx, p, "mfa.totp_removed", "user", p->user_id,
				 ANFU_R_STEP_UP_REQUIRED);
		return ANFU_EPERM;
	}
	r = load_self(iam, p, &db, &u);
	if (r < 0)
		goto out;
	c = (struct totp_op){ .iam = iam, .ctx = ctx, .p = p, .u = &u, .err = err };
	r = iam_tx(iam, totp_remove_tx, &c, err);
out:
	iam_user_clear(&u);
	return r;
}

/* Checks the first code against the pending secret of u. */
static int totp_first_code(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
			   const char *code, int64_t *ret_step, struct anfu_iam_err *err)
{
	char *secret = NULL;
	int r;

	if (!u->totp_enc || u->totp_confirmed) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		return ANFU_ECONFLICT;
	}
	r = iam_user_reveal(iam, db, u, "totp", &secret);
	if (r == 0 && !secret)
		r = ANFU_EINTERNAL;
	if (r == 0 && anfu_totp_verify(secret, code ? code : "", anfu_clock_now_ms(),
				       u->totp_last_step, ret_step) != 0) {
		iam_err_set(err, ANFU_R_CODE_INVALID, "code");
		r = ANFU_EAUTH;
	}
	anfu_free_secret(secret);
	return r;
}

static int totp_confirm_tx(struct anfu_tx *tx, void *ud)
{
	struct totp_op *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int64_t step = 0;
	int r = iam_user_load(db, c->p->user_id, c->u);

	if (r == 0)
		r = totp_first_code(c->iam, db, c->u, c->code, &step, c->err);
	if (r == ANFU_EAUTH) {
		c->wrong = true;
		return r;
	}
	if (r == 0) {
		struct anfu_param q[2] = { ANFU_PI(step), iam_ps(c->u->id) };
		r = anfu_db_exec(db,
				 "UPDATE iam_user SET totp_confirmed = 1, totp_last_step = $1"
				 " WHERE id = $2",
				 q, 2, NULL, NULL, NULL);
	}
	/* The code just proved the new factor: it counts as a step-up. */
	if (r == 0)
		r = session_renew(c->iam, tx, c->p, "totp", &c->res);
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "mfa.totp_enrolled", "user", c->u->id,
			      "success", NULL);
	return r;
}

int anfu_iam_totp_confirm(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *code,
			  struct anfu_login_result *ret, struct anfu_iam_err *err)
{
	struct iam_user u = { 0 };
	struct totp_op c;
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	memset(&c, 0, sizeof(c));
	c.iam = iam;
	c.ctx = ctx;
	c.p = p;
	c.u = &u;
	c.code = code;
	c.err = err;
	r = iam_tx(iam, totp_confirm_tx, &c, err);
	iam_user_clear(&u);
	if (c.wrong) {
		/* A right code grants a step-up: wrong ones count toward the lock
		 * like any other second factor (IAM-LOCK-01), or six digits could
		 * be tried until one fits. */
		r = wrong_current(iam, ctx, p, "mfa.totp_confirm_failed", err);
		iam_err_set(err, r == ANFU_EAUTH ? ANFU_R_CODE_INVALID : NULL,
			    r == ANFU_EAUTH ? "code" : NULL);
		return r;
	}
	if (r == 0)
		*ret = c.res;
	anfu_wipe(&c.res, sizeof(c.res));
	return r;
}
