/*
 * iam/reset: self-service password reset with two independent factors
 * (IAM-RST-01..03).
 *
 * Owns the SQL on iam_reset and iam_reset_decoy. Beginning a reset always
 * answers with a fresh reset id and expiry, whether or not the account
 * exists, and does the same work: a row is stored either way (user_id NULL
 * for an unknown, inactive or single-factor account), and there are always
 * two delivery slots, SMS and email. A slot of a real factor issues its
 * code and queues the reset_code notice to the bound channel; any other
 * slot is a decoy of the same statements and cryptography: the same
 * target-index look-up, a code row bound to a random target (nobody can
 * use it: the reset has no account or does not use that channel), a
 * ciphertext opened as the target is revealed, and a sealed message row
 * in iam_reset_decoy that nothing sends. So an unknown name, an
 * ineligible account and an eligible one cost the same (docs/iam.md).
 * Finishing checks the codes first, so the password rules (which know the
 * person) answer only someone who already holds both factors; the history
 * rule, one Argon2 per old password, is even run only for them, so that a
 * finish with wrong codes costs one Argon2 whether or not the account
 * exists. Staff accounts are never reset from the main listener (the only
 * one with reset routes). Trusts nothing in the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
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
#include "notify/notify.h"
#include "store/store.h"
#include "vault/vault.h"

#define RESET_PURPOSE "reset"

/* Factor sets a reset may use, strongest first. */
#define F_SMS_EMAIL "sms+email"
#define F_SMS_TOTP "sms+totp"
#define F_EMAIL_TOTP "email+totp"

/* The two factors of u, or "" when it has fewer than two. */
static const char *factors_of(const struct iam_user *u)
{
	unsigned m = iam_user_methods(u);

	if ((m & ANFU_MFA_SMS) && (m & ANFU_MFA_EMAIL))
		return F_SMS_EMAIL;
	if ((m & ANFU_MFA_SMS) && (m & ANFU_MFA_TOTP))
		return F_SMS_TOTP;
	if ((m & ANFU_MFA_EMAIL) && (m & ANFU_MFA_TOTP))
		return F_EMAIL_TOTP;
	return "";
}

/* A reset is for an active account, or one in a timed lock (the reset
 * clears it); never for disabled, expired or staff-locked accounts, and
 * never for staff from the public listener, where staff cannot even log
 * in: there a staff login name is just as unknown as a made-up one. */
static bool eligible(const struct anfu_iam_ctx *ctx, const struct iam_user *u, int64_t now)
{
	enum anfu_account_status st = iam_user_status(u, now);

	if (u->kind == ANFU_USER_STAFF && !ctx->admin)
		return false;
	if (st == ANFU_ACCOUNT_ACTIVE)
		return true;
	return st == ANFU_ACCOUNT_LOCKED && u->locked_until_ms > 0;
}

static int send_code(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		     const char *channel, const char *reset_id)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char idx[IAM_HASH_HEX], id[ANFU_ID_MAX], code[8], minutes[24];
	const char *args[2] = { code, minutes };
	struct anfu_code_issue ci = {
		RESET_PURPOSE, channel, idx, u->id, reset_id, iam->cfg->mfa.code_ttl_s * 1000, 0
	};
	int64_t exp = 0;
	int r = iam_user_target_index(db, u->id, channel, idx);

	if (r == 0)
		r = anfu_code_issue(db, iam->vault, &ci, id, code, &exp);
	if (r == 0) {
		(void)snprintf(minutes, sizeof(minutes), "%lld",
			       (long long)((iam->cfg->mfa.code_ttl_s + 59) / 60));
		r = iam_notice(iam, tx, u,
			       strcmp(channel, "sms") == 0 ? ANFU_MFA_SMS : ANFU_MFA_EMAIL,
			       "reset_code", args, 2);
	}
	anfu_wipe(code, sizeof(code));
	return r;
}

/* Stand-ins for what a decoy slot reveals and says, as long as a real
 * target and the reset_code text. */
static const char *decoy_target(const char *channel)
{
	return strcmp(channel, "sms") == 0 ? "13800000000" : "nobody.decoy@example.invalid";
}

#define DECOY_SUBJECT "Your password reset code"
#define DECOY_BODY                                                                           \
	"[anfu] Your code to reset your anfu password is %s, valid for %s minutes. If this " \
	"was not you, ignore it and keep your account safe."

/* The notice half of a decoy slot: a ciphertext opened (as iam_notice
 * reveals the bound target), then target, subject and body sealed and
 * stored (as anfu_notify_enqueue does) in iam_reset_decoy, and the
 * delivery thread woken after the commit (as anfu_notify_enqueue has it). */
static int decoy_notice(struct anfu_iam *iam, struct anfu_tx *tx, const char *channel,
			const char *rid, const char *code, const char *minutes)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *field = strcmp(channel, "sms") == 0 ? "phone" : "email";
	const char *target = decoy_target(channel);
	char id[ANFU_ID_MAX], body[256];
	char *ct = NULL, *pt = NULL, *t = NULL, *sub = NULL, *b = NULL;
	size_t len = 0;
	int r = anfu_id_new("dcy", id, sizeof(id));

	(void)snprintf(body, sizeof(body), DECOY_BODY, code, minutes);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, field, id, target, strlen(target), &ct);
	if (r == 0)
		r = anfu_vault_open_field(iam->vault, db, field, id, ct, &pt, &len);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, "notify.target", id, pt, len, &t);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, "notify.subject", id, DECOY_SUBJECT,
				    strlen(DECOY_SUBJECT), &sub);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, "notify.body", id, body, strlen(body), &b);
	if (r == 0) {
		struct anfu_param p[7] = { iam_ps(id),
					   iam_ps(rid),
					   iam_ps(channel),
					   iam_ps(t),
					   iam_ps(sub),
					   iam_ps(b),
					   ANFU_PI(anfu_clock_now_ms()) };
		r = anfu_db_exec(db,
				 "INSERT INTO iam_reset_decoy (id, reset_id, channel, target_enc,"
				 " subject_enc, body_enc, created_ms) VALUES ($1, $2, $3, $4, $5,"
				 " $6, $7)",
				 p, 7, NULL, NULL, NULL);
	}
	if (r == 0 && iam->notify)
		r = anfu_notify_wake_on_commit(iam->notify, tx);
	anfu_wipe(body, sizeof(body));
	free(ct);
	anfu_free_secret(pt);
	free(t);
	free(sub);
	free(b);
	return r;
}

/* A decoy slot: what send_code() does, for no one. user_id may be "". */
static int decoy_code(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
		      const char *channel, const char *rid)
{
	struct anfu_db *db = anfu_tx_db(tx);
	unsigned char raw[ANFU_HASH_LEN];
	char idx[IAM_HASH_HEX], id[ANFU_ID_MAX], code[8], minutes[24];
	struct anfu_code_issue ci = {
		RESET_PURPOSE, channel, idx, NULL, rid, iam->cfg->mfa.code_ttl_s * 1000, 0
	};
	int64_t exp = 0;
	int r = iam_user_target_index(db, user_id, channel, idx);

	/* The look-up is made for its cost; the code is bound to a random
	 * target, which no one can receive. */
	if (r == 0 || r == ANFU_ENOTFOUND) {
		anfu_crypto_random(raw, sizeof(raw));
		anfu_hex_encode(raw, sizeof(raw), idx);
		r = anfu_code_issue(db, iam->vault, &ci, id, code, &exp);
	}
	if (r == 0) {
		(void)snprintf(minutes, sizeof(minutes), "%lld",
			       (long long)((iam->cfg->mfa.code_ttl_s + 59) / 60));
		r = decoy_notice(iam, tx, channel, rid, code, minutes);
	}
	anfu_wipe(code, sizeof(code));
	return r;
}

/* Stores the reset row and works both delivery slots: codes to the real
 * factors of an eligible account, decoys for the rest. */
static int begin_work(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const char *login, const char *rid, int64_t now, int64_t exp)
{
	struct anfu_db *db = anfu_tx_db(tx);
	static const char *const channels[2] = { "sms", "email" };
	struct iam_user u = { 0 };
	const char *f = "";
	json_t *det;
	int r = iam_user_find_login(iam, db, login ? login : "", &u);

	if (r == ANFU_ENOTFOUND)
		r = 0;
	else if (r == 0 && eligible(ctx, &u, now))
		f = factors_of(&u);
	if (r == 0) {
		struct anfu_param d[1] = { ANFU_PI(now - IAM_DAY_MS) };
		r = anfu_db_exec(db, "DELETE FROM iam_reset_decoy WHERE created_ms < $1", d, 1,
				 NULL, NULL, NULL);
	}
	if (r == 0) {
		struct anfu_param p[5] = { iam_ps(rid), iam_ps(f[0] ? u.id : NULL), ANFU_PI(now),
					   ANFU_PI(exp), iam_ps(f) };
		r = anfu_db_exec(
			db,
			"INSERT INTO iam_reset (id, user_id, created_ms, expires_ms, factors)"
			" VALUES ($1, $2, $3, $4, $5)",
			p, 5, NULL, NULL, NULL);
	}
	for (size_t i = 0; i < 2 && r == 0; i++) {
		if (strstr(f, channels[i]))
			r = send_code(iam, tx, &u, channels[i], rid);
		else
			r = decoy_code(iam, tx, u.id[0] ? u.id : "", channels[i], rid);
	}
	if (r == 0) {
		det = json_pack("{so}", "user_id", f[0] ? json_string(u.id) : json_null());
		r = iam_audit(iam, tx, ctx, NULL, NULL, "user.password_reset_requested", "reset",
			      rid, "success", det);
		json_decref(det);
	}
	iam_user_clear(&u);
	return r;
}

/* The transaction of a reset's start: the captcha is used up whatever
 * follows (c its verdict). */
struct reset_begin {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const char *login, *captcha_id, *captcha_answer, *rid;
	int64_t now, exp;
	int c;
};

static int reset_begin_tx(struct anfu_tx *tx, void *ud)
{
	struct reset_begin *b = ud;

	b->c = anfu_captcha_check(
		anfu_tx_db(tx), b->iam->vault, b->captcha_id, b->captcha_answer,
		&(const struct anfu_captcha_use){ ANFU_CAPTCHA_RESET, b->ctx->admin });
	if (b->c < 0)
		return 0;
	return begin_work(b->iam, tx, b->ctx, b->login, b->rid, b->now, b->exp);
}

int anfu_iam_reset_begin(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *login,
			 const char *captcha_id, const char *captcha_answer,
			 struct anfu_reset_start *ret, struct anfu_iam_err *err)
{
	struct reset_begin b;
	char rid[ANFU_ID_MAX];
	int64_t now = anfu_clock_now_ms(), exp;
	int r;

	if (!iam || !ctx || !ret)
		return ANFU_EINVAL;
	if (!captcha_id || !captcha_id[0] || !captcha_answer || !captcha_answer[0]) {
		iam_err_set(err, ANFU_R_CAPTCHA_REQUIRED, "captcha_id");
		return ANFU_EINVAL;
	}
	exp = now + iam->cfg->mfa.reset_ttl_s * 1000;
	r = anfu_id_new("rst", rid, sizeof(rid));
	if (r < 0)
		return r;
	b = (struct reset_begin){ iam, ctx, login, captcha_id, captcha_answer, rid, now, exp, 0 };
	r = iam_tx(iam, reset_begin_tx, &b, err);
	if (r < 0)
		return r;
	if (b.c < 0) {
		iam_err_set(err, ANFU_R_CAPTCHA_INVALID, "captcha_answer");
		return ANFU_EINVAL;
	}
	(void)anfu_strlcpy(ret->id, rid, sizeof(ret->id));
	ret->expires_ms = exp;
	return 0;
}

/* ---- finish ---------------------------------------------------------------------------- */

struct reset_row {
	bool found;
	char user_id[ANFU_ID_MAX];
	int64_t expires_ms;
	bool used;
	int attempts;
	char factors[24];
};

static int reset_row_cb(void *ud, const struct anfu_row *r)
{
	struct reset_row *s = ud;
	const char *t;

	s->found = true;
	(void)anfu_strlcpy(s->user_id, (t = anfu_row_text(r, 0, NULL)) ? t : "",
			   sizeof(s->user_id));
	s->expires_ms = anfu_row_int(r, 1);
	s->used = !anfu_row_is_null(r, 2);
	s->attempts = (int)anfu_row_int(r, 3);
	(void)anfu_strlcpy(s->factors, (t = anfu_row_text(r, 4, NULL)) ? t : "",
			   sizeof(s->factors));
	return 1;
}

/* Loads the reset; false when it cannot be completed any more. */
static int reset_live(struct anfu_iam *iam, struct anfu_db *db, const char *id, struct reset_row *s,
		      bool *ret)
{
	struct anfu_param p[1] = { iam_ps(id) };
	int r;

	memset(s, 0, sizeof(*s));
	r = anfu_db_exec(db,
			 "SELECT user_id, expires_ms, used_ms, attempts, factors FROM iam_reset"
			 " WHERE id = $1",
			 p, 1, reset_row_cb, s, NULL);
	if (r < 0)
		return r;
	*ret = s->found && !s->used && anfu_clock_now_ms() < s->expires_ms &&
	       s->attempts < iam->cfg->mfa.code_max_attempts;
	return 0;
}

/* What a finish decided outside the write lock: the policy verdict on the
 * new password and its hash (Argon2), and later its history verdict. */
struct prep {
	const char *rule; /* NULL when the password passes */
	char hash[ANFU_PWHASH_STR_LEN];
};

static int prepare(struct anfu_iam *iam, struct anfu_db *db, const struct reset_row *s,
		   const char *pw, struct prep *pp)
{
	struct iam_user u = { 0 };
	struct iam_personal pe = { 0 };
	enum anfu_role_class cls = ANFU_CLASS_CUSTOMER;
	struct anfu_pw_personal pd = { 0 };
	size_t len = strnlen(pw, ANFU_PASSWORD_MAX + 1);
	int r = 0;

	if (s->user_id[0]) {
		r = iam_user_load(db, s->user_id, &u);
		if (r == 0)
			r = iam_user_class(db, &u, &cls);
		if (r == 0)
			r = iam_personal_load(iam, db, &u, &pe);
	}
	pd = (struct anfu_pw_personal){ pe.login,
					pe.name,
					pe.nickname,
					pe.phone,
					pe.email,
					pe.idno,
					pe.birthday[0] ? pe.birthday : NULL };
	if (r == 0 && anfu_pwpolicy_check(&iam->cfg->password[cls], pw, len, &pd, &pp->rule) == 0)
		pp->rule = NULL;
	else if (r == 0 && !pp->rule)
		pp->rule = ANFU_PW_EMPTY;
	/* The history waits for the factors (history_check): its cost would
	 * tell a real account from none. */
	if (r == 0 && !pp->rule)
		r = anfu_pwhash_hash(iam->pwhash, pw, len, pp->hash);
	else if (r == 0)
		(void)anfu_pwhash_check(iam->pwhash, NULL, pw, len); /* same cost */
	iam_personal_clear(&pe);
	iam_user_clear(&u);
	return r;
}

/* The history rule (IAM-PWD-06) for someone the factors admitted, outside
 * the write lock; a reuse becomes pp->rule. */
static int history_check(struct anfu_iam *iam, struct anfu_db *db, const struct reset_row *s,
			 const char *pw, struct prep *pp)
{
	struct iam_user u = { 0 };
	enum anfu_role_class cls;
	int r;

	if (pp->rule || !s->user_id[0])
		return 0;
	r = iam_user_load(db, s->user_id, &u);
	if (r == 0)
		r = iam_user_class(db, &u, &cls);
	if (r == 0)
		r = iam_password_in_history(iam, db, u.id, "login", pw,
					    strnlen(pw, ANFU_PASSWORD_MAX + 1),
					    (int)iam->cfg->password[cls].history);
	if (r == ANFU_EEXIST) {
		pp->rule = ANFU_PW_REUSED;
		r = 0;
	}
	iam_user_clear(&u);
	return r;
}

/* Both factors of the reset, in the transaction: 0 or ANFU_EAUTH. */
static int check_factors(struct anfu_iam *iam, struct anfu_db *db, const struct reset_row *s,
			 const char *rid, const struct anfu_reset_confirm *req)
{
	struct iam_user u = { 0 };
	struct anfu_iam_err e;
	int r;

	if (!s->user_id[0])
		return ANFU_EAUTH;
	r = iam_user_load(db, s->user_id, &u);
	if (r == 0 && strstr(s->factors, "sms"))
		r = iam_factor_verify(iam, db, &u, "sms", req->sms_code, RESET_PURPOSE, rid, &e);
	if (r == 0 && strstr(s->factors, "email"))
		r = iam_factor_verify(iam, db, &u, "email", req->email_code, RESET_PURPOSE, rid,
				      &e);
	if (r == 0 && strstr(s->factors, "totp"))
		r = iam_factor_verify(iam, db, &u, "totp", req->totp_code, RESET_PURPOSE, rid, &e);
	iam_user_clear(&u);
	if (r == ANFU_EEXPIRED || r == ANFU_EPERM || r == ANFU_ENOTFOUND)
		r = ANFU_EAUTH;
	return r;
}

/* The reset itself: new password, sessions ended, lock cleared, the user
 * told on the bound channels (IAM-RST-02), audited. */

static int apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		 const struct reset_row *s, const char *rid, const struct prep *pp)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u = { 0 };
	int64_t now = anfu_clock_now_ms();
	struct anfu_param pr[2] = { iam_ps(rid), ANFU_PI(now) };
	char when[32];
	const char *args[1] = { when };
	int r;

	r = iam_password_store(db, s->user_id, "login", pp->hash, "reset", s->user_id, false, now);
	if (r == 0)
		r = anfu_db_exec(db, "UPDATE iam_reset SET used_ms = $2 WHERE id = $1", pr, 2, NULL,
				 NULL, NULL);
	if (r == 0)
		r = iam_session_end(iam, db, s->user_id, NULL, NULL, "password_reset");
	if (r == 0)
		r = iam_devices_forget(db, s->user_id);
	if (r == 0)
		r = iam_lockout_reset(db, s->user_id);
	if (r == 0)
		r = iam_user_load(db, s->user_id, &u);
	iam_time_text(now, when);
	if (r == 0)
		r = iam_notice(iam, tx, &u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, "password_reset", args,
			       1);
	if (r == 0)
		r = iam_audit(iam, tx, ctx, NULL, s->user_id, "user.password_reset", "user",
			      s->user_id, "success", NULL);
	iam_user_clear(&u);
	return r;
}

/* A wrong or missing code: one more attempt on the reset, audited. */
struct attempt_count {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const char *rid;
};

static int count_attempt_tx(struct anfu_tx *tx, void *ud)
{
	const struct attempt_count *c = ud;
	struct anfu_param p[1] = { iam_ps(c->rid) };
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE iam_reset SET attempts = attempts + 1 WHERE id = $1", p, 1,
			     NULL, NULL, NULL);

	if (r == 0)
		r = iam_audit(c->iam, tx, c->ctx, NULL, NULL, "user.password_reset_failed", "reset",
			      c->rid, "failure", NULL);
	return r;
}

static int count_attempt(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *rid)
{
	struct attempt_count c = { iam, ctx, rid };

	return iam_tx(iam, count_attempt_tx, &c, NULL);
}

/* One pass of a finish: its inputs, and what the transaction found. A
 * pass whose transaction must keep nothing (the factors failed, the
 * password breaks a rule, or a check without commit) ends it with
 * FINISH_UNDO, a refusal no one else returns, and says why in a flag. */
#define FINISH_UNDO ANFU_ECONFLICT

struct finish {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_reset_confirm *req;
	const struct prep *pp;
	bool commit;
	bool live, factors_failed, rule_broken, checked;
};

static int finish_tx(struct anfu_tx *tx, void *ud)
{
	struct finish *f = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct reset_row s;
	int r;

	r = reset_live(f->iam, db, f->req->reset_id, &s, &f->live);
	if (r < 0 || !f->live)
		return r;
	if (check_factors(f->iam, db, &s, f->req->reset_id, f->req) != 0) {
		f->factors_failed = true;
		return FINISH_UNDO;
	}
	if (f->pp->rule) {
		f->rule_broken = true;
		return FINISH_UNDO;
	}
	if (!f->commit) {
		f->checked = true;
		return FINISH_UNDO;
	}
	return apply(f->iam, tx, f->ctx, &s, f->req->reset_id, f->pp);
}

/* Checks the factors and, with commit, completes the reset. Without
 * commit it only learns that the factors hold: nothing is used up (the
 * transaction rolls back) unless they fail, which counts. */
static int finish_step(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_reset_confirm *req, const struct prep *pp, bool commit,
		       struct anfu_iam_err *err)
{
	struct finish f = { iam, ctx, req, pp, commit, false, false, false, false };
	int r = iam_tx(iam, finish_tx, &f, err);

	if (f.factors_failed) {
		r = count_attempt(iam, ctx, req->reset_id);
		f.live = false;
	} else if (f.rule_broken) {
		iam_err_set(err, pp->rule, "new_password");
		return ANFU_EINVAL;
	} else if (f.checked) {
		r = 0;
	}
	if (r == 0 && !f.live) {
		iam_err_set(err, ANFU_R_RESET_INVALID, NULL);
		return ANFU_EINVAL;
	}
	return r;
}

int anfu_iam_reset_finish(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_reset_confirm *req, struct anfu_iam_err *err)
{
	struct anfu_db *db = NULL;
	struct reset_row s;
	struct prep pp;
	bool live = false;
	int r;

	if (!iam || !ctx || !req)
		return ANFU_EINVAL;
	if (!req->reset_id || !req->reset_id[0]) {
		iam_err_set(err, ANFU_R_RESET_INVALID, NULL);
		return ANFU_EINVAL;
	}
	memset(&pp, 0, sizeof(pp));
	r = iam_db(iam, &db);
	if (r == 0)
		r = reset_live(iam, db, req->reset_id, &s, &live);
	if (r == 0 && !live) {
		iam_err_set(err, ANFU_R_RESET_INVALID, NULL);
		return ANFU_EINVAL;
	}
	if (r == 0)
		r = prepare(iam, db, &s, req->new_password ? req->new_password : "", &pp);
	if (r == 0)
		r = finish_step(iam, ctx, req, &pp, false, err);
	if (r == 0)
		r = history_check(iam, db, &s, req->new_password ? req->new_password : "", &pp);
	if (r == 0)
		r = finish_step(iam, ctx, req, &pp, true, err);
	anfu_wipe(&pp, sizeof(pp));
	return r;
}
