/*
 * iam/admin_tenure: who holds an account and until when -- an
 * administrator's temporary password (IAM-PWD-12, -15), the validity
 * period of merchant and staff accounts (IAM-ACCT-06, -07) and the
 * handover of an account to another person (IAM-ACCT-12, -01).
 *
 * Owns anfu_iam_admin_reset_password, anfu_iam_admin_set_validity and
 * anfu_iam_admin_handover, and the parts the staff approval types reuse
 * ("staff_validity", "handover_staff"; admin_internal.h). A temporary
 * password is made and delivered like an initial one, to the account's
 * own bound email or phone (for a handover: the new person's), with a
 * forced change at the next login; every session of the account ends.
 * Nobody does any of this to their own account; staff accounts only an
 * administrator, and then only through four eyes (a request is filed
 * instead, IAM-ACCT-03). Trusts the principal handed in but checks its
 * permission again (iam_admin_gate); trusts nothing in a request.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "iam/admin.h"
#include "iam/admin_internal.h"
#include "iam/approval.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "iam/rbac.h"
#include "store/store.h"
#include "vault/vault.h"

/* ---- temporary password ---------------------------------------------------------------- */

static const char *by_id(const struct iam_act_by *by)
{
	return by->p ? by->p->user_id : by->id;
}

void iam_temp_pw_clear(struct iam_temp_pw *t)
{
	iam_user_clear(&t->u);
	iam_personal_clear(&t->pe);
	anfu_wipe(t->pw, sizeof(t->pw));
}

/* For t->u (loaded): where the password goes, the password and its hash. */
int iam_temp_pw_make(struct anfu_iam *iam, struct anfu_db *db, struct iam_temp_pw *t,
		     struct anfu_iam_err *err)
{
	enum anfu_role_class cls = ANFU_CLASS_CUSTOMER;
	struct anfu_pw_personal pd;
	int r = iam_user_class(db, &t->u, &cls);

	if (r == 0)
		r = iam_personal_load(iam, db, &t->u, &t->pe);
	if (r < 0)
		return r;
	/* Only to the user's own channel, never to the administrator. */
	if (t->pe.email && t->pe.email[0]) {
		t->channel = "email";
		t->target = t->pe.email;
	} else if (t->pe.phone && t->pe.phone[0]) {
		t->channel = "sms";
		t->target = t->pe.phone;
	} else {
		iam_err_set(err, ANFU_R_NO_DELIVERY_CHANNEL, NULL);
		return ANFU_ECONFLICT;
	}
	pd = (struct anfu_pw_personal){ t->pe.login,
					t->pe.name,
					t->pe.nickname,
					t->pe.phone,
					t->pe.email,
					t->pe.idno,
					t->pe.birthday[0] ? t->pe.birthday : NULL };
	r = iam_password_random(&iam->cfg->password[cls], &pd, t->pw);
	if (r == 0)
		r = anfu_pwhash_hash(iam->pwhash, t->pw, strlen(t->pw), t->hash);
	return r;
}

/* Loads the target, checks the object-level rules and makes the password. */
static int temp_pw_prepare(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_principal *p,
			   const char *user_id, struct iam_temp_pw *t, struct anfu_iam_err *err)
{
	int r = iam_user_load(db, user_id, &t->u);

	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	/* Not one's own (that is /me/password); staff only by an administrator. */
	if (strcmp(p->user_id, t->u.id) == 0 ||
	    (t->u.kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	return iam_temp_pw_make(iam, db, t, err);
}

/* In the write transaction: the new password with a forced change, every
 * session ended, the password queued to the user, the audit record. */
static int temp_pw_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct iam_act_by *by, const struct iam_temp_pw *t,
			 const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *args[2] = { t->pe.login, t->pw };
	json_t *d;
	int r = iam_password_store(db, t->u.id, "login", t->hash, "admin_reset", by_id(by), true,
				   anfu_clock_now_ms());

	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r == 0)
		r = iam_session_end(iam, db, t->u.id, NULL, NULL, "password_reset_by_admin");
	if (r == 0)
		r = iam_notice_to(iam, tx, t->u.id, t->channel, t->target, t->u.lang,
				  "temporary_password", args, 2);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:s,s:s,s:b}", "action", "reset_password", "reason", reason, "kind",
		      iam_kind_name(t->u.kind), "delivered_to", t->channel, "must_change", 1);
	if (!d)
		abort();
	r = iam_admin_by_audit(iam, tx, ctx, by, "user.password_reset_by_admin", t->u.id, d);
	json_decref(d);
	return r;
}

static int temp_pw_tx(struct anfu_tx *tx, void *ud)
{
	const struct iam_admin_op *c = ud;

	return temp_pw_apply(c->iam, tx, c->ctx, c->by, c->t, c->reason, c->err);
}

int anfu_iam_admin_reset_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *user_id,
				  const char *reason, const char **ret_channel,
				  struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.password_reset_by_admin";
	const struct iam_act_by by = { p, NULL, NULL };
	struct iam_admin_op op;
	struct anfu_db *db = NULL;
	struct iam_temp_pw t;
	int r;

	if (!iam || !p || !user_id || !ret_channel)
		return ANFU_EINVAL;
	r = iam_admin_gate(iam, ctx, p, "iam.user.force_password", false, audit_action, user_id,
			   reason, err);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&t, 0, sizeof(t));
	r = temp_pw_prepare(iam, db, p, user_id, &t, err);
	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, audit_action, "user", user_id, ANFU_R_FORBIDDEN);
	if (r < 0)
		goto out;
	op = (struct iam_admin_op){
		.iam = iam, .ctx = ctx, .by = &by, .t = &t, .reason = reason, .err = err
	};
	r = iam_tx(iam, temp_pw_tx, &op, err);
	if (r < 0)
		goto out;
	*ret_channel = t.channel;
out:
	iam_temp_pw_clear(&t);
	return r;
}

/* ---- validity period ----------------------------------------------------------------- */

/* Whether changing u's end to expires_ms retains a temporary account past
 * the end it had (or revives an expired one): then its password must be
 * reset (IAM-ACCT-07). */
bool iam_retains_temporary(const struct iam_user *u, int64_t expires_ms)
{
	return u->temporary && (expires_ms == 0 || expires_ms > u->expires_ms);
}

/* In the write transaction: the new end, the reset when retained, the
 * audit record. */
int iam_validity_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const struct iam_temp_pw *t, int64_t expires_ms,
		       bool reset, const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[3] = { iam_ps(t->u.id), expires_ms ? ANFU_PI(expires_ms) : ANFU_PNULL,
				   t->u.expires_ms ? ANFU_PI(t->u.expires_ms) : ANFU_PNULL };
	int64_t changed = 0;
	json_t *d;
	int r = anfu_db_exec(db,
			     "UPDATE iam_user SET expires_ms = $2 WHERE id = $1"
			     " AND expires_ms IS NOT DISTINCT FROM $3",
			     q, 3, NULL, NULL, &changed);

	if (r == 0 && changed == 0) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL); /* changed meanwhile */
		r = ANFU_ECONFLICT;
	}
	if (r == 0 && reset)
		r = temp_pw_apply(iam, tx, ctx, by, t, reason, err);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:o,s:o,s:b,s:b}", "reason", reason, "kind",
		      iam_kind_name(t->u.kind), "old_expires_ms",
		      t->u.expires_ms ? json_integer(t->u.expires_ms) : json_null(),
		      "new_expires_ms", expires_ms ? json_integer(expires_ms) : json_null(),
		      "temporary", t->u.temporary, "temporary_issued", reset);
	if (!d)
		abort();
	r = iam_admin_by_audit(iam, tx, ctx, by, "user.validity_changed", t->u.id, d);
	json_decref(d);
	return r;
}

static int validity_tx(struct anfu_tx *tx, void *ud)
{
	const struct iam_admin_op *c = ud;

	return iam_validity_apply(c->iam, tx, c->ctx, c->by, c->t, c->expires_ms, c->reset,
				  c->reason, c->err);
}

int anfu_iam_admin_set_validity(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				const struct anfu_principal *p, const char *user_id,
				int64_t expires_ms, const char *reason, const char **ret_channel,
				struct anfu_approval_view *ret_approval, struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.validity_changed";
	const struct iam_act_by by = { p, NULL, NULL };
	struct iam_admin_op op;
	struct anfu_db *db = NULL;
	struct anfu_approval_view filed = { 0 };
	struct iam_acct_fields f;
	struct iam_temp_pw t;
	bool reset = false;
	int r;

	if (!iam || !p || !user_id || !ret_channel || !ret_approval)
		return ANFU_EINVAL;
	r = iam_admin_gate(iam, ctx, p, "iam.user.create", false, audit_action, user_id, reason,
			   err);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	r = iam_user_load(db, user_id, &t.u);
	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		goto out;
	/* Customers have no validity period; staff are administrators'. */
	if (t.u.kind == ANFU_USER_CUSTOMER || strcmp(p->user_id, t.u.id) == 0 ||
	    (t.u.kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		iam_audit_denied(iam, ctx, p, audit_action, "user", user_id, ANFU_R_FORBIDDEN);
		r = ANFU_EPERM;
		goto out;
	}
	r = iam_admin_check_validity(iam, expires_ms, t.u.temporary, &f, err);
	if (r < 0)
		goto out;
	if (t.u.kind == ANFU_USER_STAFF) {
		r = iam_admin_file_staff(iam, ctx, p, "staff_validity",
					 json_pack("{s:s,s:I,s:s}", "user_id", user_id,
						   "expires_ms", (json_int_t)expires_ms, "reason",
						   reason),
					 &filed, err);
		if (r == 0)
			goto done;
		goto out;
	}
	reset = iam_retains_temporary(&t.u, expires_ms);
	if (reset) {
		/* temp_pw_prepare loads the account again, with its data. */
		iam_user_clear(&t.u);
		r = temp_pw_prepare(iam, db, p, user_id, &t, err);
		if (r < 0)
			goto out;
	}
	op = (struct iam_admin_op){ .iam = iam,
				    .ctx = ctx,
				    .by = &by,
				    .t = &t,
				    .reason = reason,
				    .expires_ms = expires_ms,
				    .reset = reset,
				    .err = err };
	r = iam_tx(iam, validity_tx, &op, err);
	if (r < 0)
		goto out;
done:
	*ret_channel = t.channel;
	*ret_approval = filed;
out:
	iam_temp_pw_clear(&t);
	return r;
}

/* ---- handover (IAM-ACCT-12, IAM-ACCT-01) ----------------------------------------------- */

/* Blind indexes of the new contacts, as contact and as login name. */
int iam_handover_indexes(struct anfu_iam *iam, struct iam_handover *h)
{
	int r = 0;

	if (h->f.has_email) {
		r = anfu_vault_index(iam->vault, "email", h->f.email, strlen(h->f.email),
				     h->email_idx);
		if (r == 0)
			r = anfu_vault_index(iam->vault, "login", h->f.email, strlen(h->f.email),
					     h->email_login);
	}
	if (r == 0 && h->f.has_phone) {
		r = anfu_vault_index(iam->vault, "phone", h->f.phone, strlen(h->f.phone),
				     h->phone_idx);
		if (r == 0)
			r = anfu_vault_index(iam->vault, "login", h->f.phone, strlen(h->f.phone),
					     h->phone_login);
	}
	return r;
}

/* The object-level rules of a handover by p of u: accounts of people
 * employed for the job (not customers' own), not one's own, staff only by
 * an administrator. */
static int handover_allowed(const struct anfu_principal *p, const struct iam_user *u,
			    struct anfu_iam_err *err)
{
	if (u->kind == ANFU_USER_CUSTOMER || strcmp(p->user_id, u->id) == 0 ||
	    (u->kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	return 0;
}

/* For h->t.u (loaded): the new person's password, made for them (its
 * policy checks the new person's data), and where it goes. */
int iam_handover_make(struct anfu_iam *iam, struct anfu_db *db, struct iam_handover *h)
{
	enum anfu_role_class cls = ANFU_CLASS_MERCHANT;
	struct anfu_pw_personal pd;
	struct iam_temp_pw *t = &h->t;
	int r = iam_user_class(db, &t->u, &cls);

	if (r == 0)
		r = iam_personal_load(iam, db, &t->u, &t->pe);
	if (r == 0)
		r = iam_handover_indexes(iam, h);
	if (r < 0)
		return r;
	t->channel = h->f.has_email ? "email" : "sms";
	t->target = h->f.has_email ? h->f.email : h->f.phone;
	pd = (struct anfu_pw_personal){ t->pe.login,
					h->name,
					NULL,
					h->f.has_phone ? h->f.phone : NULL,
					h->f.has_email ? h->f.email : NULL,
					NULL,
					NULL };
	r = iam_password_random(&iam->cfg->password[cls], &pd, t->pw);
	if (r == 0)
		r = anfu_pwhash_hash(iam->pwhash, t->pw, strlen(t->pw), t->hash);
	return r;
}

/* An anfu_row_fn: the first column of the first row into ud, a
 * char[ANFU_ID_MAX]. */
static int owner_id_row(void *ud, const struct anfu_row *r)
{
	const char *id = anfu_row_text(r, 0, NULL);

	(void)anfu_strlcpy(ud, id ? id : "", ANFU_ID_MAX);
	return 1;
}

/* ANFU_EEXIST when another account has one of the new contacts as its
 * phone, email or login name. */
int iam_handover_free(struct anfu_db *db, const struct iam_handover *h, struct anfu_iam_err *err)
{
	struct anfu_param q[5] = { iam_ps(h->t.u.id), iam_ps(h->email_idx), iam_ps(h->phone_idx),
				   iam_ps(h->email_login), iam_ps(h->phone_login) };
	char other[ANFU_ID_MAX] = "";
	int r = anfu_db_exec(
		db,
		"SELECT id FROM iam_user WHERE id <> $1 AND (email_index = $2"
		" OR phone_index = $3 OR login_index = $4 OR login_index = $5) LIMIT 1",
		q, 5, owner_id_row, other, NULL);

	if (r == 0 && other[0]) {
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, h->f.has_email ? "email" : "phone");
		r = ANFU_EEXIST;
	}
	return r;
}

/* Tells the contacts of the person who had the account that it is theirs
 * no longer. */
static int handover_tell_old(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_handover *h)
{
	const struct iam_temp_pw *t = &h->t;
	char when[32];
	const char *args[2] = { t->pe.login, when };
	int r = 0;

	iam_time_text(anfu_clock_now_ms(), when);
	if (t->pe.email && t->pe.email[0])
		r = iam_notice_to(iam, tx, t->u.id, "email", t->pe.email, t->u.lang,
				  "account_handed_over", args, 2);
	if (r == 0 && t->pe.phone && t->pe.phone[0])
		r = iam_notice_to(iam, tx, t->u.id, "sms", t->pe.phone, t->u.lang,
				  "account_handed_over", args, 2);
	return r;
}

/* In the write transaction: the new person's name and contacts replace the
 * old ones, the old person's authenticator and trusted devices go, and
 * the new person gets a temporary password that must be changed before
 * the account is used (temp_pw_apply ends every session). */
int iam_handover_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const struct iam_handover *h,
		       const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct iam_temp_pw *t = &h->t;
	char *name_enc = NULL, *email_enc = NULL, *phone_enc = NULL;
	json_t *d;
	int r = iam_handover_free(db, h, err);

	if (r == 0)
		r = handover_tell_old(iam, tx, h);
	if (r == 0)
		r = anfu_vault_seal(iam->vault, "name", t->u.id, h->name, strlen(h->name),
				    &name_enc);
	if (r == 0 && h->f.has_email)
		r = anfu_vault_seal(iam->vault, "email", t->u.id, h->f.email, strlen(h->f.email),
				    &email_enc);
	if (r == 0 && h->f.has_phone)
		r = anfu_vault_seal(iam->vault, "phone", t->u.id, h->f.phone, strlen(h->f.phone),
				    &phone_enc);
	if (r == 0) {
		struct anfu_param q[6] = {
			iam_ps(t->u.id),   iam_ps(name_enc),
			iam_ps(email_enc), iam_ps(h->f.has_email ? h->email_idx : NULL),
			iam_ps(phone_enc), iam_ps(h->f.has_phone ? h->phone_idx : NULL)
		};

		r = anfu_db_exec(
			db,
			"UPDATE iam_user SET name_enc = $2, email_enc = $3, email_index = $4,"
			" phone_enc = $5, phone_index = $6, totp_enc = NULL,"
			" totp_confirmed = 0, totp_last_step = 0, failures = 0"
			" WHERE id = $1",
			q, 6, NULL, NULL, NULL);
	}
	if (r == ANFU_EEXIST) /* taken by a concurrent request meanwhile */
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, h->f.has_email ? "email" : "phone");
	if (r == 0) {
		struct anfu_param q[2] = { iam_ps(t->u.id), ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(db,
				 "UPDATE iam_device SET revoked_ms = $2 WHERE user_id = $1"
				 " AND revoked_ms IS NULL",
				 q, 2, NULL, NULL, NULL);
	}
	if (r == 0)
		r = temp_pw_apply(iam, tx, ctx, by, t, reason, err);
	free(name_enc);
	free(email_enc);
	free(phone_enc);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:s,s:b}", "reason", reason, "kind", iam_kind_name(t->u.kind),
		      "delivered_to", t->channel, "authenticator_cleared", t->u.totp_confirmed);
	if (!d)
		abort();
	r = iam_admin_by_audit(iam, tx, ctx, by, "user.handed_over", t->u.id, d);
	json_decref(d);
	return r;
}

/* The payload of the handover_staff request for in (strings copied). */
static json_t *handover_payload(const struct anfu_admin_handover *in)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "user_id", in->user_id, "responsible_name",
			      in->responsible_name, "reason", in->reason);

	if (!o)
		abort();
	if (in->email)
		anfu_json_set(o, "email", json_string(in->email));
	if (in->phone)
		anfu_json_set(o, "phone", json_string(in->phone));
	return o;
}

static int handover_tx(struct anfu_tx *tx, void *ud)
{
	const struct iam_admin_op *c = ud;

	return iam_handover_apply(c->iam, tx, c->ctx, c->by, c->h, c->reason, c->err);
}

int anfu_iam_admin_handover(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const struct anfu_admin_handover *in,
			    const char **ret_channel, struct anfu_approval_view *ret_approval,
			    struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.handed_over";
	const struct iam_act_by by = { p, NULL, NULL };
	struct iam_admin_op op;
	struct anfu_approval_view filed = { 0 };
	struct anfu_db *db = NULL;
	struct iam_handover h;
	int r;

	if (!iam || !p || !in || !in->user_id || !ret_channel || !ret_approval)
		return ANFU_EINVAL;
	if (!in->responsible_name || !in->responsible_name[0] ||
	    strlen(in->responsible_name) > ANFU_LIMIT_RESPONSIBLE_NAME) {
		iam_err_set(err,
			    in->responsible_name && in->responsible_name[0]
				    ? ANFU_JERR_OUT_OF_RANGE
				    : ANFU_JERR_MISSING_FIELD,
			    "responsible_name");
		return ANFU_EINVAL;
	}
	memset(&h, 0, sizeof(h));
	h.name = in->responsible_name;
	r = iam_admin_check_channel(in->email, in->phone, &h.f, err);
	if (r == 0)
		r = iam_admin_gate(iam, ctx, p, "iam.user.create", false, audit_action, in->user_id,
				   in->reason, err);
	if (r == 0)
		r = iam_db(iam, &db);
	if (r < 0)
		return r;
	r = iam_user_load(db, in->user_id, &h.t.u);
	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r == 0)
		r = handover_allowed(p, &h.t.u, err);
	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, audit_action, "user", in->user_id, ANFU_R_FORBIDDEN);
	if (r < 0)
		goto out;
	/* A staff account changes hands only through four eyes, and the
	 * checker confirms where its password goes (IAM-ACCT-03). */
	if (h.t.u.kind == ANFU_USER_STAFF) {
		r = iam_admin_file_staff(iam, ctx, p, "handover_staff", handover_payload(in),
					 &filed, err);
		if (r == 0)
			goto done;
		goto out;
	}
	r = iam_handover_make(iam, db, &h);
	if (r < 0)
		goto out;
	op = (struct iam_admin_op){
		.iam = iam, .ctx = ctx, .by = &by, .h = &h, .reason = in->reason, .err = err
	};
	r = iam_tx(iam, handover_tx, &op, err);
	if (r < 0)
		goto out;
done:
	*ret_channel = h.t.channel;
	*ret_approval = filed;
out:
	iam_temp_pw_clear(&h.t);
	return r;
}
