/*
 * iam/login: password login, the second factor, step-up and logout —
 * with lockout, credential-stuffing throttling, captcha, login history
 * and anomaly detection.
 *
 * Owns the SQL on iam_login_attempt and iam_device (writes) and the
 * failure counters of iam_user. Trusts nothing in the request: unknown
 * names, wrong passwords, wrong listeners and locked, disabled or expired
 * accounts all get the same refusal after the same Argon2 work (a dummy
 * hash when there is no real one). Argon2 runs before the write
 * transaction, so the database write lock is never held for it; what the
 * failure count depends on is re-read inside the transaction.
 */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/internal.h"
#include "iam/lockout.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "store/store.h"
#include "vault/vault.h"

/* A completed login (IAM-HIST-02, the usual networks of IAM-ANOM-01): a
 * "success" whose password step did not still owe a second factor; that
 * step is recorded as "success" with reason "mfa_pending" and the factor
 * as a second row. */
#define COMPLETED "result = 'success' AND reason <> 'mfa_pending'"
/* Attempt results that count as failures (per IP and since a login). */
#define FAILING_RESULTS "('failure', 'locked', 'disabled', 'expired', 'mfa_failure')"
/* Vault token-hash purpose of trusted-device secrets. */
#define DEVICE_SECRET "device_secret"

/* What one login call works with. */
struct login {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	struct anfu_db *db; /* the thread's connection; reads outside transactions */
	struct anfu_tx *tx; /* the running transaction (its connection is db), or NULL */
	struct iam_user u;
	bool found;
	int64_t now;
	char dev[IAM_HASH_HEX];
	char net[64];
	char idx[IAM_HASH_HEX];	  /* blind index of the login name given, or "" */
	const char *device_token; /* trusted-device secret presented, or NULL */
};

int iam_attempt_record(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
		       const char *user_id, const char *result, const char *reason)
{
	return iam_attempt_record_login(iam, db, ctx, user_id, NULL, result, reason);
}

int iam_attempt_record_login(struct anfu_iam *iam, struct anfu_db *db,
			     const struct anfu_iam_ctx *ctx, const char *user_id,
			     const char *login_index, const char *result, const char *reason)
{
	char id[ANFU_ID_MAX], dev[IAM_HASH_HEX], net[64];
	const char *ip = ctx && ctx->ip ? ctx->ip : "";
	int r;

	if (!iam || !db || !ctx || !result || !reason)
		return ANFU_EINVAL;
	r = anfu_id_new("att", id, sizeof(id));
	if (r == 0)
		r = iam_device_hash(iam, ctx, dev);
	if (r < 0)
		return r;
	iam_network_of(ip, net, sizeof(net));
	{
		struct anfu_param p[10] = { iam_ps(id),
					    iam_ps(user_id),
					    ANFU_PI(anfu_clock_now_ms()),
					    ANFU_PSN(ip, strnlen(ip, 64)),
					    iam_ps(net),
					    iam_ps(dev),
					    ANFU_PI(ctx->admin ? 1 : 0),
					    iam_ps(result),
					    iam_ps(reason),
					    iam_ps(login_index) };
		r = anfu_db_exec(db,
				 "INSERT INTO iam_login_attempt (id, user_id, ts_ms, ip, network,"
				 " device_hash, admin, result, reason, login_index)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
				 p, 10, NULL, NULL, NULL);
	}
	return r;
}

/* An attempt of login l, with the name it gave. */
static int attempt(struct login *l, const char *user_id, const char *result, const char *reason)
{
	return iam_attempt_record_login(l->iam, l->db, l->ctx, user_id, l->idx[0] ? l->idx : NULL,
					result, reason);
}

/* ---- second factors -------------------------------------------------------------------- */

static int verify_totp(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		       const char *code, struct anfu_iam_err *err)
{
	char *secret = NULL;
	int64_t step = 0, changed = 0;
	int r;

	if (!u->totp_confirmed || !u->totp_enc) {
		iam_err_set(err, ANFU_R_METHOD_UNAVAILABLE, "method");
		return ANFU_EPERM;
	}
	r = iam_user_reveal(iam, db, u, "totp", &secret);
	if (r == 0 && !secret)
		r = ANFU_EINTERNAL;
	if (r < 0)
		return r;
	r = anfu_totp_verify(secret, code, anfu_clock_now_ms(), u->totp_last_step, &step);
	anfu_free_secret(secret);
	if (r == 0) {
		/* The guard makes a concurrent second use of the code fail. */
		struct anfu_param p[2] = { ANFU_PI(step), iam_ps(u->id) };
		r = anfu_db_exec(db,
				 "UPDATE iam_user SET totp_last_step = $1 WHERE id = $2"
				 " AND totp_last_step < $1",
				 p, 2, NULL, NULL, &changed);
		if (r == 0 && changed == 0)
			r = ANFU_EAUTH;
	}
	if (r == ANFU_EAUTH || r == ANFU_EINVAL) {
		iam_err_set(err, ANFU_R_CODE_INVALID, "code");
		return ANFU_EAUTH;
	}
	return r;
}

int iam_factor_verify(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		      const char *method, const char *code, const char *purpose,
		      const char *context, struct anfu_iam_err *err)
{
	char idx[IAM_HASH_HEX];
	int r;

	if (!iam || !db || !u || !purpose || !context)
		return ANFU_EINVAL;
	if (!method || !code || !code[0] || strlen(code) > 16) {
		iam_err_set(err, ANFU_R_CODE_INVALID, "code");
		return ANFU_EAUTH;
	}
	if (strcmp(method, "totp") == 0)
		return verify_totp(iam, db, u, code, err);
	if (strcmp(method, "sms") != 0 && strcmp(method, "email") != 0) {
		iam_err_set(err, ANFU_R_METHOD_UNAVAILABLE, "method");
		return ANFU_EPERM;
	}
	r = iam_user_target_index(db, u->id, method, idx);
	if (r == ANFU_ENOTFOUND) {
		iam_err_set(err, ANFU_R_METHOD_UNAVAILABLE, "method");
		return ANFU_EPERM;
	}
	if (r < 0)
		return r;
	r = anfu_code_verify(db, iam->vault, purpose, idx, context, code,
			     (int)iam->cfg->mfa.code_max_attempts);
	if (r == ANFU_EEXPIRED)
		iam_err_set(err, ANFU_R_CODE_EXPIRED, "code");
	else if (r == ANFU_EAUTH || r == ANFU_ENOTFOUND || r == ANFU_EINVAL) {
		iam_err_set(err, ANFU_R_CODE_INVALID, "code");
		r = ANFU_EAUTH;
	}
	return r;
}

/* ---- credential stuffing (IAM-ANOM-02) ------------------------------------------------ */

static int count_ip(struct anfu_db *db, const char *ip, int64_t from, int64_t to,
		    const char *results, int64_t *ret)
{
	char sql[256];
	struct anfu_param p[3] = { iam_ps(ip), ANFU_PI(from), ANFU_PI(to) };

	(void)snprintf(sql, sizeof(sql),
		       "SELECT COUNT(*) FROM iam_login_attempt WHERE ip = $1 AND ts_ms > $2"
		       " AND ts_ms <= $3 AND result IN %s",
		       results);
	return anfu_db_query_int(db, sql, p, 3, ret);
}

/* Failed password logins that gave the login name with blind index idx in
 * (from, to], since its last successful password step. */
static int count_name(struct anfu_db *db, const char *idx, int64_t from, int64_t to, int64_t *ret)
{
	struct anfu_param p[3] = { iam_ps(idx), ANFU_PI(from), ANFU_PI(to) };

	return anfu_db_query_int(
		db,
		"SELECT COUNT(*) FROM iam_login_attempt WHERE login_index = $1 AND ts_ms > $2"
		" AND ts_ms <= $3 AND result IN " FAILING_RESULTS " AND ts_ms > COALESCE(("
		"SELECT MAX(ts_ms) FROM iam_login_attempt WHERE login_index = $1"
		" AND result = 'success'), 0)",
		p, 3, ret);
}

/* True when the IP reached lockout.ip_failures within lockout.ip_window,
 * now or at its latest failure less than lockout.ip_block ago. */
static int ip_blocked(struct anfu_iam *iam, struct anfu_db *db, const char *ip, int64_t now,
		      bool *ret)
{
	int64_t win = iam->cfg->lockout.ip_window_s * 1000, n = 0, last = 0;
	struct anfu_param p[1] = { iam_ps(ip) };
	bool blocked = false;
	int r;

	if (!ip || !ip[0])
		goto done;
	r = count_ip(db, ip, now - win, now, FAILING_RESULTS, &n);
	if (r < 0)
		return r;
	if (n >= iam->cfg->lockout.ip_failures) {
		blocked = true;
		goto done;
	}
	r = anfu_db_query_int(db,
			      "SELECT MAX(ts_ms) FROM iam_login_attempt WHERE ip = $1"
			      " AND result IN " FAILING_RESULTS,
			      p, 1, &last);
	if (r == ANFU_ENOTFOUND)
		goto done;
	if (r == 0 && now - last < iam->cfg->lockout.ip_block_s * 1000) {
		r = count_ip(db, ip, last - win, last, FAILING_RESULTS, &n);
		blocked = n >= iam->cfg->lockout.ip_failures;
	}
	if (r < 0)
		return r;
done:
	*ret = blocked;
	return 0;
}

int iam_login_ip_blocked(struct anfu_iam *iam, struct anfu_db *db, const char *ip, int64_t now,
			 bool *ret)
{
	if (!iam || !db || !ret)
		return ANFU_EINVAL;
	return ip_blocked(iam, db, ip, now, ret);
}

/* Runs fn(l) in one transaction with l->tx set while it runs. */
struct login_step {
	struct login *l;
	int (*fn)(struct login *l, void *ud);
	void *ud;
};

static int login_step_tx(struct anfu_tx *tx, void *ud)
{
	struct login_step *s = ud;
	int r;

	s->l->tx = tx;
	r = s->fn(s->l, s->ud);
	s->l->tx = NULL;
	return r;
}

static int login_tx(struct login *l, int (*fn)(struct login *l, void *ud), void *ud,
		    struct anfu_iam_err *err)
{
	struct login_step s = { l, fn, ud };

	return iam_tx(l->iam, login_step_tx, &s, err);
}

static int throttle_tx(struct login *l, void *ud)
{
	int64_t seen = 0, win = l->iam->cfg->lockout.ip_window_s * 1000;
	int r;

	(void)ud;
	r = count_ip(l->db, l->ctx->ip, l->now - win, l->now, "('throttled')", &seen);
	if (r == 0 && seen == 0) {
		json_t *det = json_pack("{ss}", "network", l->net);
		r = iam_audit(l->iam, l->tx, l->ctx, NULL, NULL, "security.credential_stuffing",
			      "ip", "", "denied", det);
		json_decref(det);
	}
	if (r == 0)
		r = attempt(l, l->found ? l->u.id : NULL, "throttled", "ip_failures");
	return r;
}

/* Refuses a throttled IP: the attempt is recorded, and the security event
 * audited once per window. */
static int throttle(struct login *l, struct anfu_iam_err *err)
{
	int r = login_tx(l, throttle_tx, NULL, err);

	if (r < 0)
		return r;
	iam_err_set(err, ANFU_R_TOO_MANY_FAILURES, NULL);
	return ANFU_ERATE;
}

/* ---- captcha (IAM-CAP-01) ----------------------------------------------------------- */

static int captcha_needed(struct login *l, bool *ret)
{
	const struct anfu_iam_config *cfg = l->iam->cfg;
	int64_t n = 0, win = cfg->lockout.ip_window_s * 1000;
	int r = 0;

	*ret = true;
	if (strcmp(cfg->captcha.mode, "after_failures") != 0)
		return 0;
	/* Failures of the name given, counted alike whether an account has it
	 * or not (never the account's own counter), so that whether a captcha
	 * is asked tells nothing about which names exist. */
	if (l->idx[0])
		r = count_name(l->db, l->idx, l->now - win, l->now, &n);
	if (r == 0 && n >= cfg->captcha.after_failures)
		return 0;
	if (r == 0 && l->ctx->ip && l->ctx->ip[0])
		r = count_ip(l->db, l->ctx->ip, l->now - win, l->now, FAILING_RESULTS, &n);
	if (r == 0)
		*ret = n >= cfg->captcha.after_failures;
	return r;
}

/* The captcha's transaction: missing, or checked (c). */
struct captcha_gate {
	const struct anfu_login_req *req;
	bool missing;
	int c;
};

static int captcha_tx(struct login *l, void *ud)
{
	struct captcha_gate *g = ud;
	const struct anfu_login_req *req = g->req;
	int r = 0;

	/* Every attempt is recorded (IAM-HIST-03), one without its captcha
	 * too; neither counts toward the IP's failures. */
	if (!req->captcha_id || !req->captcha_id[0] || !req->captcha_answer ||
	    !req->captcha_answer[0]) {
		g->missing = true;
		return attempt(l, l->found ? l->u.id : NULL, "captcha_failed", "captcha_missing");
	}
	g->c = anfu_captcha_check(
		l->db, l->iam->vault, req->captcha_id, req->captcha_answer,
		&(const struct anfu_captcha_use){ ANFU_CAPTCHA_LOGIN, l->ctx->admin });
	if (g->c < 0)
		r = attempt(l, l->found ? l->u.id : NULL, "captcha_failed", "captcha");
	return r;
}

/* Consumes the captcha in a transaction of its own (it is used up by any
 * attempt, right or wrong), before any Argon2 work is spent. */
static int captcha_gate(struct login *l, const struct anfu_login_req *req, struct anfu_iam_err *err)
{
	struct captcha_gate g = { req, false, 0 };
	bool need = true;
	int r = captcha_needed(l, &need);

	if (r < 0 || !need)
		return r;
	r = login_tx(l, captcha_tx, &g, err);
	if (r < 0)
		return r;
	if (g.missing) {
		iam_err_set(err, ANFU_R_CAPTCHA_REQUIRED, "captcha_id");
		return ANFU_EINVAL;
	}
	if (g.c < 0) {
		iam_err_set(err, ANFU_R_CAPTCHA_INVALID, "captcha_answer");
		return ANFU_EINVAL;
	}
	return 0;
}

/* ---- refusals ------------------------------------------------------------------------ */

/* A refused attempt as record_refusal() writes it. */
struct refusal {
	const char *user_id, *result, *reason;
};

static int refusal_tx(struct login *l, void *ud)
{
	const struct refusal *f = ud;
	json_t *det = json_pack("{ssss}", "result", f->result, "reason", f->reason);
	int r = attempt(l, f->user_id, f->result, f->reason);

	if (r == 0)
		r = iam_audit(l->iam, l->tx, l->ctx, NULL, f->user_id, "auth.login_failed", "user",
			      f->user_id ? f->user_id : "",
			      strcmp(f->result, "denied") == 0 ? "denied" : "failure", det);
	json_decref(det);
	return r;
}

/* Records a refused attempt and its audit record in a transaction of
 * their own. */
static int record_refusal(struct login *l, const char *user_id, const char *result,
			  const char *reason)
{
	struct refusal f = { user_id, result, reason };

	return login_tx(l, refusal_tx, &f, NULL);
}

/* Records a refused attempt and answers with the uniform refusal. When
 * the record cannot be written the answer is that failure, with no refusal
 * code: a refusal that was not recorded (nor counted) must not look like
 * one, or it would differ from a right password's failure only there. */
static int refuse(struct login *l, const char *user_id, const char *result, const char *reason,
		  struct anfu_iam_err *err)
{
	int r = record_refusal(l, user_id, result, reason);

	if (r < 0)
		return r;
	iam_err_set(err, ANFU_R_INVALID_CREDENTIALS, NULL);
	return ANFU_EAUTH;
}

static int fail_password_tx(struct login *l, void *ud)
{
	struct iam_user u = { 0 };
	json_t *det = json_pack("{ssss}", "result", "failure", "reason", "bad_password");
	int r;

	(void)ud;
	r = iam_user_load(l->db, l->u.id, &u);
	if (r == 0)
		r = iam_failure_count(l->iam, l->tx, l->ctx, &u, NULL);
	if (r == 0)
		r = attempt(l, u.id, "failure", "bad_password");
	if (r == 0)
		r = iam_audit(l->iam, l->tx, l->ctx, NULL, u.id, "auth.login_failed", "user", u.id,
			      "failure", det);
	json_decref(det);
	iam_user_clear(&u);
	return r;
}

/* A wrong password: counts toward the lock in one transaction. */
static int fail_password(struct login *l, struct anfu_iam_err *err)
{
	int r = login_tx(l, fail_password_tx, NULL, err);

	if (r < 0)
		return r; /* not counted: no refusal code (see refuse()) */
	iam_err_set(err, ANFU_R_INVALID_CREDENTIALS, NULL);
	return ANFU_EAUTH;
}

static bool listener_ok(const struct iam_user *u, bool admin)
{
	return (u->kind == ANFU_USER_STAFF) == admin;
}

/* ---- history and anomalies (IAM-HIST-02, IAM-ANOM-01) -------------------------------- */

/* A label for people from a client-supplied string: printable ASCII only,
 * cut to ANFU_LIMIT_IAM_DEVICE_LABEL; "device" when nothing is left. */
static void device_label(const char *src, char out[ANFU_LIMIT_IAM_DEVICE_LABEL + 1])
{
	size_t i = 0;

	for (; src && i < ANFU_LIMIT_IAM_DEVICE_LABEL && src[i]; i++)
		out[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	out[i] = '\0';
	if (i == 0)
		(void)anfu_strlcpy(out, "device", ANFU_LIMIT_IAM_DEVICE_LABEL + 1);
}

struct prev_q {
	int64_t ts;
	char ip[48];
};

static int prev_row(void *ud, const struct anfu_row *r)
{
	struct prev_q *q = ud;
	const char *ip = anfu_row_text(r, 1, NULL);

	q->ts = anfu_row_int(r, 0);
	(void)anfu_strlcpy(q->ip, ip ? ip : "", sizeof(q->ip));
	return 1;
}

/* The previous successful login and the failures since it. */
static int history(struct anfu_db *db, const char *user_id, struct anfu_login_result *res)
{
	struct anfu_param p[1] = { iam_ps(user_id) };
	struct prev_q q = { 0, "" };
	int64_t n = 0;
	int r;

	r = anfu_db_exec(db,
			 "SELECT ts_ms, ip FROM iam_login_attempt WHERE user_id = $1"
			 " AND " COMPLETED " ORDER BY ts_ms DESC LIMIT 1",
			 p, 1, prev_row, &q, NULL);
	if (r == 0) {
		struct anfu_param c[2] = { iam_ps(user_id), ANFU_PI(q.ts) };
		r = anfu_db_query_int(db,
				      "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1"
				      " AND ts_ms > $2 AND result IN " FAILING_RESULTS,
				      c, 2, &n);
	}
	if (r < 0)
		return r;
	res->previous_login_ms = q.ts;
	(void)anfu_strlcpy(res->previous_ip, q.ip, sizeof(res->previous_ip));
	res->failures_since = (int)n;
	return 0;
}

struct net_q {
	const char *net;
	bool seen;
};

static int net_row(void *ud, const struct anfu_row *r)
{
	struct net_q *q = ud;
	const char *n = anfu_row_text(r, 0, NULL);

	if (n && strcmp(n, q->net) == 0)
		q->seen = true;
	return 0;
}

/* What the login looks like against the user's profile: whether the device
 * was seen (its fingerprint, for the notice) or is trusted (a secret the
 * server issued to it), whether the network is usual. */
struct profile {
	bool device_seen, trusted, usual_net;
};

/* Whether the trusted-device secret presented with the login is one the
 * server issued to this user, unexpired and not revoked (IAM-MFA-01
 * possession). Headers the client chooses (X-Device-Id, User-Agent) prove
 * nothing here. A match is touched (last_seen_ms). */
static int device_trusted(struct login *l, bool *ret)
{
	char h[IAM_HASH_HEX];
	int64_t changed = 0;
	int r;

	if (!iam_token_shape_ok(l->device_token)) {
		*ret = false;
		return 0;
	}
	r = anfu_vault_token_hash(l->iam->vault, DEVICE_SECRET, l->device_token, IAM_TOKEN_HEX, h);
	if (r == 0) {
		/* A trust runs out at expires_ms, and sooner when
		 * mfa.device_trust_days was lowered since. */
		struct anfu_param p[4] = { iam_ps(l->u.id), iam_ps(h), ANFU_PI(l->now),
					   ANFU_PI(l->now - l->iam->cfg->mfa.device_trust_days *
								    IAM_DAY_MS) };

		r = anfu_db_exec(l->db,
				 "UPDATE iam_device SET last_seen_ms = $3 WHERE user_id = $1"
				 " AND secret_hash = $2 AND expires_ms > $3 AND trusted_ms > $4"
				 " AND revoked_ms IS NULL",
				 p, 4, NULL, NULL, &changed);
	}
	if (r < 0)
		return r;
	*ret = changed == 1;
	return 0;
}

static int profile_of(struct login *l, struct profile *pr)
{
	struct anfu_param p[2] = { iam_ps(l->u.id), iam_ps(l->dev) };
	struct anfu_param pn[2] = { iam_ps(l->u.id), ANFU_PI(IAM_USUAL_LOGINS) };
	struct net_q q = { l->net, false };
	int64_t n = 0;
	int r;

	memset(pr, 0, sizeof(*pr));
	r = anfu_db_exec(l->db,
			 "SELECT network FROM iam_login_attempt WHERE user_id = $1"
			 " AND " COMPLETED " ORDER BY ts_ms DESC LIMIT $2",
			 pn, 2, net_row, &q, NULL);
	if (r == 0)
		r = anfu_db_query_int(l->db,
				      "SELECT COUNT(*) FROM iam_login_attempt WHERE user_id = $1"
				      " AND " COMPLETED " AND device_hash = $2",
				      p, 2, &n);
	pr->usual_net = q.seen;
	pr->device_seen = n > 0;
	if (r == 0)
		r = device_trusted(l, &pr->trusted);
	return r;
}

/* ---- success --------------------------------------------------------------------------- */

/* The session state a correct password leads to (IAM-MFA-01, -03, -13). */
static enum anfu_session_state decide(struct login *l, const struct profile *pr, unsigned ra)
{
	if (l->u.kind == ANFU_USER_STAFF)
		return l->u.totp_confirmed ? ANFU_SESSION_MFA_PENDING
					   : ANFU_SESSION_REQUIRED_ACTIONS;
	if (l->iam->cfg->mfa.customer_always || !pr->trusted || !pr->usual_net)
		return ANFU_SESSION_MFA_PENDING;
	return ra ? ANFU_SESSION_REQUIRED_ACTIONS : ANFU_SESSION_ACTIVE;
}

/* Tells the user about a login from a new device or network. */
static int notice_new(struct login *l, const struct profile *pr, struct anfu_login_result *res)
{
	char when[32], label[ANFU_LIMIT_IAM_DEVICE_LABEL + 1];
	const char *args[3] = { when, l->net, label };

	/* A first login is from a new device too: the user hears of it. */
	if (pr->device_seen && pr->usual_net)
		return 0;
	device_label(l->ctx->user_agent, label);
	iam_time_text(l->now, when);
	res->new_device = true;
	return iam_notice(l->iam, l->tx, &l->u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "new_device", args,
			  3);
}

static void expiry_hint(struct anfu_iam *iam, const struct iam_user *u, enum anfu_role_class cls,
			int64_t now, struct anfu_login_result *res)
{
	int64_t exp = iam_password_expires(iam, u, cls);

	if (exp > 0 && now >= exp - iam->cfg->password[cls].remind_days * IAM_DAY_MS)
		res->password_expires_ms = exp;
}

static int audit_login(struct login *l, const struct anfu_login_result *res, const char *action)
{
	static const char *const names[] = { "mfa_pending", "required_actions", "active" };
	json_t *det =
		json_pack("{sssb}", "state", names[res->state], "new_device", res->new_device);
	int r = iam_audit(l->iam, l->tx, l->ctx, NULL, l->u.id, action, "user", l->u.id, "success",
			  det);

	json_decref(det);
	return r;
}

/* The password was right: decide the state, open the session, record and
 * audit, all in the caller's transaction. */
static int login_ok(struct login *l, struct anfu_login_result *res, struct anfu_iam_err *err)
{
	struct profile pr;
	enum anfu_role_class cls;
	enum anfu_session_state st;
	unsigned ra;
	int r;

	r = iam_user_class(l->db, &l->u, &cls);
	if (r == 0)
		r = history(l->db, l->u.id, res);
	if (r == 0)
		r = profile_of(l, &pr);
	if (r < 0)
		return r;
	ra = iam_required_actions(l->iam, &l->u, cls, l->now);
	st = decide(l, &pr, ra);
	res->mfa_methods = st == ANFU_SESSION_MFA_PENDING ? iam_user_methods(&l->u) : 0;
	if (st == ANFU_SESSION_MFA_PENDING && res->mfa_methods == 0) {
		iam_err_set(err, ANFU_R_METHOD_UNAVAILABLE, NULL);
		return ANFU_EPERM;
	}
	res->required = st == ANFU_SESSION_REQUIRED_ACTIONS ? ra : 0;
	r = iam_lockout_login_ok(l->db, l->u.id, st != ANFU_SESSION_MFA_PENDING, l->now);
	if (r == 0)
		r = iam_session_create(l->iam, l->tx, l->ctx, &l->u, cls, st, 0, res, err);
	if (r == 0)
		r = notice_new(l, &pr, res);
	if (r == 0)
		r = attempt(l, l->u.id, "success",
			    st == ANFU_SESSION_MFA_PENDING ? "mfa_pending" : "password");
	if (r == 0)
		r = audit_login(l, res, "auth.login");
	if (r == 0)
		r = iam_user_view(l->iam, l->db, &l->u, &res->user);
	if (r == 0)
		expiry_hint(l->iam, &l->u, cls, l->now, res);
	return r;
}

/* Replaces the hash of the password just verified by one made with the
 * current argon2.* parameters (fresh), unless the password changed
 * meanwhile; audited. In the caller's transaction. */
static int rehash(struct login *l, const char *old_hash, const char *fresh)
{
	struct anfu_param q[3] = { iam_ps(l->u.id), iam_ps(fresh), iam_ps(old_hash) };
	const struct anfu_iam_config *cfg = l->iam->cfg;
	int64_t changed = 0;
	json_t *det;
	int r = anfu_db_exec(l->db,
			     "UPDATE iam_user SET pwd_hash = $2 WHERE id = $1 AND pwd_hash = $3", q,
			     3, NULL, NULL, &changed);

	if (r < 0 || changed == 0)
		return r;
	det = json_pack("{sIsI}", "opslimit", (json_int_t)cfg->argon2.opslimit, "memlimit_kib",
			(json_int_t)cfg->argon2.memlimit_kib);
	r = iam_audit(l->iam, l->tx, l->ctx, NULL, l->u.id, "user.password_rehashed", "user",
		      l->u.id, "success", det);
	json_decref(det);
	return r;
}

/* The transaction of a right password. */
struct success {
	const char *id;
	const char *old_hash;
	const char *fresh;
	struct anfu_login_result res;
	struct anfu_iam_err *err;
	bool inactive; /* the re-read account is not active: nothing written */
	int rv;	       /* what the work returned */
};

static int succeed_tx(struct login *l, void *ud)
{
	struct success *s = ud;
	int r;

	/* Re-read: a concurrent failure may have locked the account since. */
	iam_user_clear(&l->u);
	r = iam_user_load(l->db, s->id, &l->u);
	if (r == 0 && iam_user_status(&l->u, l->now) != ANFU_ACCOUNT_ACTIVE) {
		s->inactive = true;
		r = ANFU_EAUTH;
	}
	if (r == 0 && s->fresh)
		r = rehash(l, s->old_hash, s->fresh);
	if (r == 0)
		r = login_ok(l, &s->res, s->err);
	s->rv = r;
	return r;
}

static int succeed(struct login *l, const char *fresh, struct anfu_login_result *ret,
		   struct anfu_iam_err *err)
{
	char id[ANFU_ID_MAX], old_hash[ANFU_PWHASH_STR_LEN];
	struct success s;
	int r;

	memset(&s, 0, sizeof(s));
	(void)anfu_strlcpy(id, l->u.id, sizeof(id));
	(void)anfu_strlcpy(old_hash, l->u.pwd_hash ? l->u.pwd_hash : "", sizeof(old_hash));
	s.id = id;
	s.old_hash = old_hash;
	s.fresh = fresh;
	s.err = err;
	r = login_tx(l, succeed_tx, &s, err);
	if (s.inactive) {
		r = refuse(l, l->u.id, iam_user_state(&l->u, l->now), "state", err);
	} else if (r == s.rv && (r == ANFU_EPERM || r == ANFU_ECONFLICT)) {
		/* Right password, but no session: no factor to ask for, or
		 * sessions.on_limit = refuse. Recorded, not counted. */
		int d = record_refusal(l, id, "denied",
				       r == ANFU_EPERM ? "no_second_factor" : ANFU_R_SESSION_LIMIT);
		if (d < 0) {
			iam_err_set(err, NULL, NULL);
			r = d;
		}
	} else if (r == 0) {
		*ret = s.res;
	}
	anfu_wipe(&s.res, sizeof(s.res));
	return r;
}

/* Checks the password of a found user, or the dummy, and routes the
 * outcome. All refusals cost one Argon2 verification. */
static int check_password(struct login *l, const struct anfu_login_req *req,
			  struct anfu_login_result *ret, struct anfu_iam_err *err)
{
	const char *pw = req->password ? req->password : "";
	size_t len = strnlen(pw, ANFU_PASSWORD_MAX + 1);
	const char *state;
	int v;

	if (!l->found) {
		(void)anfu_pwhash_check(l->iam->pwhash, NULL, pw, len);
		return refuse(l, NULL, "failure", "unknown_login", err);
	}
	v = len > ANFU_PASSWORD_MAX ? anfu_pwhash_check(l->iam->pwhash, NULL, pw, len)
				    : anfu_pwhash_check(l->iam->pwhash, l->u.pwd_hash, pw, len);
	if (!listener_ok(&l->u, l->ctx->admin))
		return refuse(l, l->u.id, "failure", "wrong_listener", err);
	if (iam_user_status(&l->u, l->now) != ANFU_ACCOUNT_ACTIVE) {
		state = iam_user_state(&l->u, l->now);
		return refuse(l, l->u.id, state, state, err);
	}
	if (!l->u.pwd_hash)
		return refuse(l, l->u.id, "failure", "no_password", err);
	if (v != 0)
		return fail_password(l, err);
	/* Hashes made before an argon2.* change are replaced at the next
	 * right password (outside the transaction: Argon2id is slow). */
	if (anfu_pwhash_outdated(l->iam->pwhash, l->u.pwd_hash)) {
		char fresh[ANFU_PWHASH_STR_LEN];
		int r = anfu_pwhash_hash(l->iam->pwhash, pw, len, fresh);

		/* Without a new hash the login still succeeds with the old. */
		r = succeed(l, r < 0 ? NULL : fresh, ret, err);
		anfu_wipe(fresh, sizeof(fresh));
		return r;
	}
	return succeed(l, NULL, ret, err);
}

int anfu_iam_login(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		   const struct anfu_login_req *req, struct anfu_login_result *ret,
		   struct anfu_iam_err *err)
{
	struct login l;
	bool blocked = false;
	int r;

	if (!iam || !ctx || !req || !ret)
		return ANFU_EINVAL;
	memset(&l, 0, sizeof(l));
	l.iam = iam;
	l.ctx = ctx;
	l.device_token = req->device_token;
	l.now = anfu_clock_now_ms();
	iam_network_of(ctx->ip, l.net, sizeof(l.net));
	r = iam_db(iam, &l.db);
	if (r == 0)
		r = iam_device_hash(iam, ctx, l.dev);
	if (r < 0)
		goto out;
	/* The account first, so that a throttled attempt is recorded in its
	 * login history too (IAM-HIST-03); the lookup is made whatever
	 * follows, so the answers do not differ in timing by it. */
	r = iam_login_index(iam, req->login ? req->login : "", l.idx);
	if (r == ANFU_ENOTFOUND) {
		l.idx[0] = '\0';
		r = 0;
	}
	if (r == 0 && l.idx[0])
		r = iam_user_find_login(iam, l.db, req->login, &l.u);
	l.found = r == 0 && l.idx[0];
	if (r == ANFU_ENOTFOUND)
		r = 0;
	if (r == 0)
		r = ip_blocked(iam, l.db, ctx->ip, l.now, &blocked);
	if (r == 0 && blocked)
		r = throttle(&l, err);
	if (r == 0)
		r = captcha_gate(&l, req, err);
	if (r == 0)
		r = check_password(&l, req, ret, err);
out:
	iam_user_clear(&l.u);
	return r;
}

/* ---- MFA, step-up, logout ------------------------------------------------------------ */

/* A wrong second factor: counted toward the lock (IAM-LOCK-03), recorded
 * and audited; the caller keeps it (anfu_tx_keep). */
static int factor_failed(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct iam_user *u, const char *method, const char *action,
			 int verdict)
{
	json_t *det = json_pack("{ss}", "method", method ? method : "");
	int r = 0;

	if (verdict == ANFU_EAUTH)
		r = iam_failure_count(iam, tx, ctx, u, NULL);
	if (r == 0)
		r = iam_attempt_record(iam, anfu_tx_db(tx), ctx, u->id, "mfa_failure",
				       method ? method : "");
	if (r == 0)
		r = iam_audit(iam, tx, ctx, NULL, u->id, action, "user", u->id, "failure", det);
	json_decref(det);
	return r;
}

/* Keeps at most ANFU_LIMIT_TRUSTED_DEVICES - 1 live trusted devices of
 * user_id (the newest), so that one more fits; expired and revoked rows go
 * too. */
static int devices_make_room(struct anfu_db *db, const char *user_id, int64_t now)
{
	struct anfu_param p[3] = { iam_ps(user_id), ANFU_PI(now),
				   ANFU_PI(ANFU_LIMIT_TRUSTED_DEVICES - 1) };

	return anfu_db_exec(db,
			    "DELETE FROM iam_device WHERE user_id = $1 AND (expires_ms <= $2"
			    " OR revoked_ms IS NOT NULL OR id NOT IN (SELECT id FROM iam_device"
			    " WHERE user_id = $1 ORDER BY trusted_ms DESC, id DESC LIMIT $3))",
			    p, 3, NULL, NULL, NULL);
}

int iam_devices_forget(struct anfu_db *db, const char *user_id)
{
	struct anfu_param p[1] = { iam_ps(user_id) };

	return anfu_db_exec(db, "DELETE FROM iam_device WHERE user_id = $1", p, 1, NULL, NULL,
			    NULL);
}

/* Trusts the device that completed this MFA (IAM-MFA-01 possession): a
 * random secret (256 bits) is issued to it in res->device_token, valid for
 * mfa.device_trust_days; only its keyed hash is stored. Staff never get
 * one (their logins always ask for a second factor, IAM-MFA-13). */
static int trust_device(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct anfu_principal *p, int64_t now, struct anfu_login_result *res)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char id[ANFU_ID_MAX], dev[IAM_HASH_HEX], label[ANFU_LIMIT_IAM_DEVICE_LABEL + 1];
	char tok[IAM_TOKEN_HEX + 1], h[IAM_HASH_HEX];
	int64_t exp = now + iam->cfg->mfa.device_trust_days * IAM_DAY_MS;
	json_t *det;
	int r;

	if (p->kind == ANFU_USER_STAFF)
		return 0;
	/* People recognise their browser more easily than a device id. */
	device_label(ctx->user_agent && ctx->user_agent[0] ? ctx->user_agent : ctx->device_id,
		     label);
	r = anfu_id_new("dev", id, sizeof(id));
	if (r == 0)
		r = iam_device_hash(iam, ctx, dev);
	if (r == 0)
		r = iam_token_new(iam, DEVICE_SECRET, tok, h);
	if (r == 0)
		r = devices_make_room(db, p->user_id, now);
	if (r == 0) {
		struct anfu_param q[7] = { iam_ps(id),	iam_ps(p->user_id), iam_ps(h),
					   iam_ps(dev), iam_ps(label),	    ANFU_PI(now),
					   ANFU_PI(exp) };
		r = anfu_db_exec(db,
				 "INSERT INTO iam_device (id, user_id, secret_hash, fp_hash, label,"
				 " trusted_ms, expires_ms, created_ms, last_seen_ms)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $6)",
				 q, 7, NULL, NULL, NULL);
	}
	if (r == 0) {
		det = json_pack("{sssI}", "label", label, "expires_ms", (json_int_t)exp);
		r = iam_audit(iam, tx, ctx, p, NULL, "device.trusted", "device", id, "success",
			      det);
		json_decref(det);
	}
	if (r == 0) {
		memcpy(res->device_token, tok, sizeof(tok));
		res->device_expires_ms = exp;
	}
	anfu_wipe(tok, sizeof(tok));
	return r;
}

/* After a verified factor: the session moves on (IAM-SESS-07). */
static int factor_ok(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const struct iam_user *u, const char *method,
		     bool login, struct anfu_login_result *res, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	enum anfu_role_class cls;
	enum anfu_session_state next = p->state;
	unsigned ra = 0;
	int64_t now = anfu_clock_now_ms();
	int r = iam_user_class(db, u, &cls);

	if (r == 0)
		ra = iam_required_actions(iam, u, cls, now);
	if (login)
		next = ra ? ANFU_SESSION_REQUIRED_ACTIONS : ANFU_SESSION_ACTIVE;
	if (r == 0 && login)
		r = history(db, u->id, res);
	if (r == 0)
		r = iam_lockout_login_ok(db, u->id, true, now);
	if (r == 0)
		r = iam_session_rotate(iam, tx, p, next, method, res);
	if (r == ANFU_ECONFLICT)
		iam_err_set(err, ANFU_R_SESSION_LIMIT, NULL);
	if (r == 0 && login)
		r = iam_attempt_record(iam, db, ctx, u->id, "success", method);
	if (r == 0) {
		json_t *det = json_pack("{ss}", "method", method);
		r = iam_audit(iam, tx, ctx, p, NULL, login ? "auth.mfa" : "auth.step_up", "session",
			      p->session_id, "success", det);
		json_decref(det);
	}
	if (r == 0)
		r = iam_user_view(iam, db, u, &res->user);
	res->required = res->state == ANFU_SESSION_REQUIRED_ACTIONS ? ra : 0;
	if (r == 0)
		expiry_hint(iam, u, cls, now, res);
	return r;
}

/* The transaction of a second factor. */
struct second {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *method, *code;
	bool login, trust;
	struct anfu_login_result res;
	struct anfu_iam_err *err;
	bool failed; /* a wrong or expired code: counted, kept */
	int verdict;
};

static int second_tx(struct anfu_tx *tx, void *ud)
{
	struct second *s = ud;
	struct anfu_iam *iam = s->iam;
	struct iam_user u = { 0 };
	int r;

	r = iam_user_load(anfu_tx_db(tx), s->p->user_id, &u);
	if (r < 0)
		goto out;
	s->verdict = iam_factor_verify(iam, anfu_tx_db(tx), &u, s->method, s->code,
				       s->login ? ANFU_CODE_LOGIN : ANFU_CODE_STEP_UP,
				       s->p->session_id, s->err);
	if (s->verdict == ANFU_EAUTH || s->verdict == ANFU_EEXPIRED) {
		s->failed = true;
		r = factor_failed(iam, tx, s->ctx, &u, s->method,
				  s->login ? "auth.mfa_failed" : "auth.step_up_failed", s->verdict);
		if (r == 0) {
			anfu_tx_keep(tx);
			r = s->verdict;
		}
		goto out;
	}
	r = s->verdict;
	if (r == 0)
		r = factor_ok(iam, tx, s->ctx, s->p, &u, s->method, s->login, &s->res, s->err);
	if (r == 0 && s->trust)
		r = trust_device(iam, tx, s->ctx, s->p, anfu_clock_now_ms(), &s->res);
out:
	iam_user_clear(&u);
	return r;
}

/* The shared body of anfu_iam_mfa and anfu_iam_step_up. */
static int second_factor(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, const char *method, const char *code,
			 bool login, bool trust, struct anfu_login_result *ret,
			 struct anfu_iam_err *err)
{
	struct second s;
	int r;

	memset(&s, 0, sizeof(s));
	s.iam = iam;
	s.ctx = ctx;
	s.p = p;
	s.method = method;
	s.code = code;
	s.login = login;
	s.trust = trust;
	s.err = err;
	r = iam_tx(iam, second_tx, &s, err);
	/* A failure that was not counted is answered as the failure it is
	 * (see refuse()), without the code's refusal. */
	if (s.failed && r != s.verdict)
		iam_err_set(err, NULL, NULL);
	if (r == 0)
		*ret = s.res;
	anfu_wipe(&s.res, sizeof(s.res));
	return r;
}

int anfu_iam_mfa(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		 const struct anfu_principal *p, const char *method, const char *code,
		 bool trust_device_flag, struct anfu_login_result *ret, struct anfu_iam_err *err)
{
	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	if (p->state != ANFU_SESSION_MFA_PENDING) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		return ANFU_ECONFLICT;
	}
	return second_factor(iam, ctx, p, method, code, true, trust_device_flag, ret, err);
}

int anfu_iam_step_up(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *method, const char *code,
		     struct anfu_login_result *ret, struct anfu_iam_err *err)
{
	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	if (p->state != ANFU_SESSION_ACTIVE) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		return ANFU_ECONFLICT;
	}
	return second_factor(iam, ctx, p, method, code, false, false, ret, err);
}

/* The logout's transaction. */
struct logout {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
};

static int logout_tx(struct anfu_tx *tx, void *ud)
{
	const struct logout *c = ud;
	int r = iam_session_end(c->iam, anfu_tx_db(tx), c->p->user_id, c->p->session_id, NULL,
				"logout");

	if (r == ANFU_ENOTFOUND)
		r = 0;
	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "auth.logout", "session",
			      c->p->session_id, "success", NULL);
	return r;
}

int anfu_iam_logout(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		    const struct anfu_principal *p)
{
	struct logout c = { iam, ctx, p };

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	return iam_tx(iam, logout_tx, &c, NULL);
}
