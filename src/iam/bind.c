/*
 * iam/bind: binding a new phone number or email address to one's own
 * account (IAM-MFA-02, IAM-MFA-09).
 *
 * Owns the change of iam_user.phone_enc / phone_index and email_enc /
 * email_index after creation. The caller proves a second factor within
 * mfa.stepup_window and holds the new target: the "bind" code that
 * challenge.c sent to it (purpose "bind", target the blind index of the
 * value, context "<user id>:<blind index>"), so neither a session alone
 * nor a code meant for someone else binds anything. Whether the target
 * belongs to another account is told only after its code was right (which
 * proves the caller holds it), so the route reveals no one's number. The
 * value is sealed and indexed as at registration; the phone or email bound
 * before is told in the same transaction ("binding_changed"); the audit
 * record carries masked values only. The login identifier does not change.
 *
 * Trusts the principal from anfu_iam_authenticate() and the helpers of
 * iam/internal.h; nothing in the request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "base/validate.h"
#include "iam/admin.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/internal.h"
#include "store/store.h"
#include "vault/vault.h"

#define TARGET_MAX 254 /* longest email address (RFC 5321 path) */

/* One binding request, checked and normalised. */
struct bind_req {
	bool phone;		     /* else email */
	const char *field;	     /* vault field and index kind */
	const char *channel;	     /* "sms" / "email" */
	const char *action;	     /* "user.phone_bound" / "user.email_bound" */
	const char *failed;	     /* its failure action */
	char target[TARGET_MAX + 1]; /* normalised, in clear (wiped) */
	char index[IAM_HASH_HEX];
	char context[ANFU_ID_MAX + 1 + IAM_HASH_HEX];
	char masked[ANFU_MASK_MAX];
};

/* The mobile number as 11 digits, the email address in lower case. */
static int normalise(bool phone, const char *in, char out[TARGET_MAX + 1])
{
	size_t n = in ? strnlen(in, TARGET_MAX + 1) : 0;

	if (n == 0 || n > TARGET_MAX)
		return ANFU_EINVAL;
	if (phone) {
		if (!anfu_valid_mobile_cn(in, n))
			return ANFU_EINVAL;
		return anfu_mobile_normalize(in, n, out, TARGET_MAX + 1);
	}
	if (!anfu_valid_email(in, n))
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return 0;
}

static void mask_value(bool phone, const char *v, char out[ANFU_MASK_MAX])
{
	int r = phone ? anfu_mask_mobile(v, strlen(v), out, ANFU_MASK_MAX)
		      : anfu_mask_email(v, strlen(v), out, ANFU_MASK_MAX);

	if (r < 0)
		(void)anfu_strlcpy(out, "***", ANFU_MASK_MAX);
}

/* Shape of the request; the target's blind index and the code's context
 * exactly as challenge.c made them. */
static int bind_plan(struct anfu_iam *iam, const struct anfu_principal *p, const char *kind,
		     const char *target, struct bind_req *b, struct anfu_iam_err *err)
{
	int n, r;

	if (!kind || (strcmp(kind, "phone") != 0 && strcmp(kind, "email") != 0)) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "kind");
		return ANFU_EINVAL;
	}
	b->phone = kind[0] == 'p';
	b->field = b->phone ? "phone" : "email";
	b->channel = b->phone ? "sms" : "email";
	b->action = b->phone ? "user.phone_bound" : "user.email_bound";
	b->failed = b->phone ? "user.phone_bind_failed" : "user.email_bind_failed";
	if (normalise(b->phone, target, b->target) < 0) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, b->field);
		return ANFU_EINVAL;
	}
	r = anfu_vault_index(iam->vault, b->field, b->target, strlen(b->target), b->index);
	if (r < 0)
		return r;
	n = snprintf(b->context, sizeof(b->context), "%s:%s", p->user_id, b->index);
	if (n < 0 || (size_t)n >= sizeof(b->context))
		return ANFU_EINVAL;
	mask_value(b->phone, b->target, b->masked);
	return 0;
}

/* A wrong or expired code: the attempt stays counted on the code and is
 * audited (the caller keeps it). */
static int bind_failed(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const struct bind_req *b, int v,
		       struct anfu_iam_err *err)
{
	json_t *d = json_pack("{s:s,s:s}", "target", b->masked, "reason",
			      v == ANFU_EEXPIRED ? ANFU_R_CODE_EXPIRED : ANFU_R_CODE_INVALID);
	int r;

	if (!d)
		abort();
	r = iam_audit(iam, tx, ctx, p, NULL, b->failed, "user", p->user_id, "failure", d);
	json_decref(d);
	iam_err_set(err, v == ANFU_EEXPIRED ? ANFU_R_CODE_EXPIRED : ANFU_R_CODE_INVALID, "code");
	return r;
}

static int owner_row(void *ud, const struct anfu_row *r)
{
	const char *id = anfu_row_text(r, 0, NULL);

	(void)anfu_strlcpy(ud, id ? id : "", ANFU_ID_MAX);
	return 1;
}

/* ANFU_ECONFLICT when u has the target bound already, ANFU_EEXIST when
 * another account has it as its phone, email or login name. */
static int target_free(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		       const struct bind_req *b, struct anfu_iam_err *err)
{
	char login_idx[IAM_HASH_HEX], other[ANFU_ID_MAX] = "", mine[IAM_HASH_HEX];
	int r = iam_user_target_index(db, u->id, b->channel, mine);

	if (r == 0 && strcmp(mine, b->index) == 0) {
		iam_err_set(err, ANFU_R_CONFLICT, b->field);
		return ANFU_ECONFLICT;
	}
	if (r < 0 && r != ANFU_ENOTFOUND)
		return r;
	r = anfu_vault_index(iam->vault, "login", b->target, strlen(b->target), login_idx);
	if (r == 0) {
		struct anfu_param q[3] = { iam_ps(b->index), iam_ps(login_idx), iam_ps(u->id) };

		r = anfu_db_exec(db,
				 b->phone ? "SELECT id FROM iam_user WHERE (phone_index = $1"
					    " OR login_index = $2) AND id <> $3 LIMIT 1"
					  : "SELECT id FROM iam_user WHERE (email_index = $1"
					    " OR login_index = $2) AND id <> $3 LIMIT 1",
				 q, 3, owner_row, other, NULL);
	}
	if (r == 0 && other[0]) {
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, b->field);
		r = ANFU_EEXIST;
	}
	return r;
}

/* Tells the phone or email bound until now that it no longer is. */
static int tell_old(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
		    const struct bind_req *b, const char *old)
{
	char when[32];
	const char *args[2] = { when, b->masked };

	if (!old)
		return 0;
	iam_time_text(anfu_clock_now_ms(), when);
	return iam_notice_to(iam, tx, u->id, b->channel, old, u->lang, "binding_changed", args, 2);
}

/* Seals and stores the new value, tells the old one, audits. */
static int bind_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const struct iam_user *u,
		      const struct bind_req *b, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char *enc = NULL, *old = NULL, old_masked[ANFU_MASK_MAX];
	json_t *d = NULL;
	int r = iam_user_reveal(iam, db, u, b->field, &old);

	if (r == 0)
		r = anfu_vault_seal(iam->vault, b->field, u->id, b->target, strlen(b->target),
				    &enc);
	if (r == 0) {
		struct anfu_param q[3] = { iam_ps(enc), iam_ps(b->index), iam_ps(u->id) };

		r = anfu_db_exec(db,
				 b->phone ? "UPDATE iam_user SET phone_enc = $1, phone_index = $2"
					    " WHERE id = $3"
					  : "UPDATE iam_user SET email_enc = $1, email_index = $2"
					    " WHERE id = $3",
				 q, 3, NULL, NULL, NULL);
	}
	if (r == ANFU_EEXIST) /* taken by a concurrent request meanwhile */
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, b->field);
	if (r == 0)
		r = tell_old(iam, tx, u, b, old);
	if (r == 0) {
		if (old)
			mask_value(b->phone, old, old_masked);
		d = json_pack("{s:o,s:s}", "old", old ? json_string(old_masked) : json_null(),
			      "new", b->masked);
		if (!d)
			abort();
		r = iam_audit(iam, tx, ctx, p, NULL, b->action, "user", u->id, "success", d);
	}
	json_decref(d);
	anfu_free_secret(old);
	free(enc);
	return r;
}

/* A binding's transaction. */
struct binding {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct bind_req *b;
	const char *code;
	struct anfu_iam_err *err;
};

/* The write transaction: the code first, then whether the target is free,
 * then the change. Returns the refusal for the caller to answer; a
 * counted wrong code is kept. */
static int bind_tx(struct anfu_tx *tx, void *ud)
{
	const struct binding *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	const struct bind_req *b = c->b;
	struct iam_user u = { 0 };
	int r, v;

	v = anfu_code_verify(db, iam->vault, ANFU_CODE_BIND, b->index, b->context,
			     c->code ? c->code : "", (int)iam->cfg->mfa.code_max_attempts);
	if (v == ANFU_EAUTH || v == ANFU_EEXPIRED || v == ANFU_EINVAL) {
		r = bind_failed(iam, tx, c->ctx, c->p, b, v, c->err);
		if (r < 0)
			return r;
		anfu_tx_keep(tx);
		return v == ANFU_EEXPIRED ? ANFU_EEXPIRED : ANFU_EAUTH;
	}
	if (v < 0)
		return v;
	r = iam_user_load(db, c->p->user_id, &u);
	if (r == 0)
		r = target_free(iam, db, &u, b, c->err);
	if (r == 0)
		r = bind_apply(iam, tx, c->ctx, c->p, &u, b, c->err);
	iam_user_clear(&u);
	return r;
}

/* Binds a new phone or email: see iam.h. */
int anfu_iam_bind_contact(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const char *kind, const char *target,
			  const char *code, struct anfu_user_view *ret, struct anfu_iam_err *err)
{
	struct bind_req *b = NULL;
	struct binding c;
	struct anfu_db *db = NULL;
	struct iam_user u = { 0 };
	int r;

	if (!iam || !ctx || !p || !ret)
		return ANFU_EINVAL;
	b = anfu_xcalloc(1, sizeof(*b));
	r = bind_plan(iam, p, kind, target, b, err);
	if (r == 0 && !iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		iam_audit_denied(iam, ctx, p, b->action, "user", p->user_id,
				 ANFU_R_STEP_UP_REQUIRED);
		r = ANFU_EPERM;
	}
	if (r == 0)
		r = iam_db(iam, &db);
	if (r < 0)
		goto out;
	/* bind_failed sets a wrong code's refusal whatever becomes of its
	 * record: err is not cleared. */
	c = (struct binding){ iam, ctx, p, b, code, err };
	r = iam_tx(iam, bind_tx, &c, NULL);
	if (r == ANFU_EEXIST || r == ANFU_ECONFLICT)
		iam_audit_denied(iam, ctx, p, b->action, "user", p->user_id,
				 r == ANFU_EEXIST ? ANFU_R_ALREADY_EXISTS : ANFU_R_CONFLICT);
	if (r < 0)
		goto out;
	r = iam_user_load(db, p->user_id, &u);
	if (r == 0)
		r = iam_user_view(iam, db, &u, ret);
out:
	iam_user_clear(&u);
	anfu_wipe(b, sizeof(*b));
	free(b);
	return r;
}
