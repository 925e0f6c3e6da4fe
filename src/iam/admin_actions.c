/*
 * iam/admin_actions: the direct actions on one account behind
 * /admin/v1/users/{id}/{action}: disable, enable, unlock and a forced
 * password change (IAM-ACCT-03, IAM-PWD-15, IAM-RBAC-04, -05), and the
 * gate every operation on one account passes (a reason, the permission,
 * a recent second factor; IAM-MFA-02).
 *
 * Owns anfu_iam_admin_act, the action table and the object-level rules:
 * nobody disables, enables or unlocks their own account, only an
 * administrator (role class admin) acts on staff accounts, a merchant
 * user manages only staff of its own merchant. Disabling or enabling a
 * staff account files a four-eyes request instead (IAM-ACCT-03,
 * admin_types.c), which carries the action out through
 * iam_admin_act_write as the checker. Trusts the principal handed in but
 * checks its permission again; refusals for lack of permission or
 * step-up are audited as "denied" (and alerted, iam/alert.c). Disabling,
 * unlocking and forcing a password change tell the user on the bound
 * channels, queued in the same transaction.
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
#include "base/refusal.h"
#include "iam/admin.h"
#include "iam/admin_internal.h"
#include "iam/approval.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/rbac.h"
#include "iam/status.h"
#include "store/store.h"

/* ---- account actions ------------------------------------------------------------------- */

struct iam_admin_action {
	const char *name;
	const char *perm;
	bool not_self;
	const char *audit;
	const char *sql; /* $1 user id, $2 now (when nparams is 2) */
	int nparams;
	const char *end_sessions; /* reason, or NULL */
	const char *notice;	  /* template told to the user, or NULL */
	bool status;		  /* a status change: ev of iam/status.c, sql its other columns */
	enum iam_status_event ev;
};

static const struct iam_admin_action actions[] = {
	{ "disable", "iam.user.disable", true, "user.disabled", NULL, 1, "account_disabled",
	  "account_disabled", true, IAM_STATUS_DISABLE },
	{ "enable", "iam.user.disable", true, "user.enabled", NULL, 1, NULL, NULL, true,
	  IAM_STATUS_ENABLE },
	{ "unlock", "iam.user.unlock", true, "user.unlocked",
	  "locked_until_ms = NULL, failures = 0", 1, NULL, "account_unlocked", true,
	  IAM_STATUS_UNLOCK },
	/* IAM-PWD-15: the user must change it at the next login, and that
	 * change is recorded as forced (IAM-PWD-11). */
	{ "force_password_change", "iam.user.force_password", false, "user.password_change_forced",
	  "UPDATE iam_user SET pwd_must_change = 1, pwd_forced_ms = $2 WHERE id = $1", 2,
	  "password_change_forced", "password_change_forced" },
};

const struct iam_admin_action *iam_admin_action_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

/* True when p acts as a merchant administrator (merchant.staff.manage):
 * it may disable and enable merchant_staff of its own merchant, which it
 * created (IAM-RBAC-05: a delegation that can be revoked). */
static bool merchant_delegate(const struct anfu_principal *p, const struct iam_admin_action *a)
{
	return p->kind == ANFU_USER_MERCHANT && anfu_principal_can(p, "merchant.staff.manage") &&
	       (strcmp(a->name, "disable") == 0 || strcmp(a->name, "enable") == 0);
}

/* Object-level rules, with the target loaded. */
static int act_allowed(struct anfu_db *db, const struct iam_admin_action *a,
		       const struct anfu_principal *p, const struct iam_user *u,
		       struct anfu_iam_err *err)
{
	struct anfu_param q[1] = { ANFU_PS(u->id) };
	int64_t admins = 1;
	int r;

	/* Nobody lifts or imposes a lock on themselves; staff accounts are
	 * administrators' business (an operator unlocks customers only). */
	if ((a->not_self && strcmp(p->user_id, u->id) == 0) ||
	    (u->kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN))
		goto forbidden;
	if (p->kind != ANFU_USER_MERCHANT)
		return 0;
	/* A merchant administrator: only merchant_staff of its own merchant. */
	if (u->kind != ANFU_USER_MERCHANT || strcmp(u->merchant_id, p->merchant_id) != 0)
		goto forbidden;
	r = anfu_db_query_int(db,
			      "SELECT COUNT(*) FROM iam_user_role WHERE user_id = $1"
			      " AND role <> 'merchant_staff'",
			      q, 1, &admins);
	if (r < 0)
		return r;
	if (admins == 0)
		return 0;
forbidden:
	iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
	return ANFU_EPERM;
}

/* Tells the user what an administrator did, on the bound channels. */
static int act_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_admin_action *a,
		      const char *user_id)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u;
	char when[32];
	const char *args[1] = { when };
	int r;

	if (!a->notice)
		return 0;
	memset(&u, 0, sizeof(u));
	iam_time_text(anfu_clock_now_ms(), when);
	r = iam_user_load(db, user_id, &u);
	if (r == 0)
		r = iam_notice(iam, tx, &u, ANFU_MFA_SMS | ANFU_MFA_EMAIL, a->notice, args, 1);
	iam_user_clear(&u);
	return r;
}
/* Audits a change of user_id by by (details d, borrowed; the approval is
 * added when there is one), in the caller's transaction. */
int iam_admin_by_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const char *action, const char *user_id,
		       json_t *d)
{
	if (by->approval_id)
		anfu_json_set(d, "approval_id", json_string(by->approval_id));
	return iam_audit(iam, tx, ctx, by->p, by->p ? NULL : by->id, action, "user", user_id,
			 "success", d);
}

/* Applies a to u (loaded, allowed) in the caller's transaction: the
 * change, the end of its sessions, the audit record, the notice. */
int iam_admin_act_write(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct iam_act_by *by, const struct iam_admin_action *a,
			const struct iam_user *u, const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[2] = { iam_ps(u->id), ANFU_PI(anfu_clock_now_ms()) };
	int64_t changes = 0;
	json_t *d = NULL;
	int r = a->status ? iam_status_update(db, u->id, a->ev, a->sql, NULL, NULL, 0, &changes)
			  : anfu_db_exec(db, a->sql, q, a->nparams, NULL, NULL, &changes);

	if (r == 0 && changes == 0) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0 && a->end_sessions)
		r = iam_session_end(iam, db, u->id, NULL, NULL, a->end_sessions);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:s}", "action", a->name, "reason", reason, "kind",
		      iam_kind_name(u->kind));
	if (!d)
		abort();
	r = iam_admin_by_audit(iam, tx, ctx, by, a->audit, u->id, d);
	if (r == 0)
		r = act_notice(iam, tx, a, u->id);
	json_decref(d);
	return r;
}

static int act_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const struct iam_admin_action *a,
		     const char *user_id, const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct iam_act_by by = { p, NULL, NULL };
	struct iam_user u;
	int r;

	memset(&u, 0, sizeof(u));
	r = iam_user_load(db, user_id, &u);
	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, NULL);
	if (r == 0)
		r = act_allowed(db, a, p, &u, err);
	if (r == 0 && strcmp(a->name, "unlock") == 0 &&
	    iam_user_status(&u, anfu_clock_now_ms()) != ANFU_ACCOUNT_LOCKED) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0)
		r = iam_admin_act_write(iam, tx, ctx, &by, a, &u, reason, err);
	iam_user_clear(&u);
	return r;
}

/* The checks every operation on one account makes before it reads
 * anything: a reason, the permission (perm, or allowed for another cause),
 * a second factor within mfa.stepup_window (IAM-MFA-02). Refusals of the
 * permission or the step-up are audited as denied under action. */
int iam_admin_gate(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		   const struct anfu_principal *p, const char *perm, bool allowed,
		   const char *action, const char *user_id, const char *reason,
		   struct anfu_iam_err *err)
{
	if (!reason || !reason[0] || strlen(reason) > ANFU_LIMIT_ADMIN_REASON) {
		iam_err_set(err,
			    reason && reason[0] ? ANFU_JERR_OUT_OF_RANGE : ANFU_JERR_MISSING_FIELD,
			    "reason");
		return ANFU_EINVAL;
	}
	if (!allowed && !anfu_principal_can(p, perm)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		iam_audit_denied(iam, ctx, p, action, "user", user_id, ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		iam_audit_denied(iam, ctx, p, action, "user", user_id, ANFU_R_STEP_UP_REQUIRED);
		return ANFU_EPERM;
	}
	return 0;
}

/* Files the four-eyes request that changes a staff account instead of
 * changing it (IAM-ACCT-03): payload (consumed) names the account. */
int iam_admin_file_staff(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, const char *type, json_t *payload,
			 struct anfu_approval_view *ret_approval, struct anfu_iam_err *err)
{
	int r;

	if (!payload)
		abort();
	r = anfu_iam_approval_file(iam, ctx, p, type, payload, ret_approval, err);
	json_decref(payload);
	return r;
}

/* Disabling or enabling a staff account: the maker passes the same
 * object-level rules as a direct action, then files the request. */
static int act_file_staff(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const struct iam_admin_action *a,
			  const struct iam_user *u, const char *reason,
			  struct anfu_approval_view *ret_approval, struct anfu_iam_err *err)
{
	int r = act_allowed(db, a, p, u, err);

	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, a->audit, "user", u->id, ANFU_R_FORBIDDEN);
	if (r < 0)
		return r;
	return iam_admin_file_staff(
		iam, ctx, p, strcmp(a->name, "disable") == 0 ? "disable_staff" : "enable_staff",
		json_pack("{s:s,s:s}", "user_id", u->id, "reason", reason), ret_approval, err);
}

static bool staff_gated(const struct iam_admin_action *a)
{
	return strcmp(a->name, "disable") == 0 || strcmp(a->name, "enable") == 0;
}

static int act_tx(struct anfu_tx *tx, void *ud)
{
	const struct iam_admin_op *c = ud;

	return act_apply(c->iam, tx, c->ctx, c->p, c->action, c->user_id, c->reason, c->err);
}

int anfu_iam_admin_act(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const char *user_id, const char *action,
		       const char *reason, struct anfu_approval_view *ret_approval,
		       struct anfu_iam_err *err)
{
	const struct iam_admin_action *a = iam_admin_action_find(action);
	struct iam_admin_op op = { .iam = iam,
				   .ctx = ctx,
				   .p = p,
				   .action = a,
				   .user_id = user_id,
				   .reason = reason,
				   .err = err };
	struct anfu_db *db = NULL;
	struct iam_user u;
	int r;

	if (!iam || !p || !user_id || !ret_approval)
		return ANFU_EINVAL;
	if (!a) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "action");
		return ANFU_EINVAL;
	}
	r = iam_admin_gate(iam, ctx, p, a->perm, merchant_delegate(p, a), a->audit, user_id, reason,
			   err);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&u, 0, sizeof(u));
	r = iam_user_load(db, user_id, &u);
	if (r == 0 && u.kind == ANFU_USER_STAFF && staff_gated(a)) {
		r = act_file_staff(iam, db, ctx, p, a, &u, reason, ret_approval, err);
		iam_user_clear(&u);
		return r;
	}
	iam_user_clear(&u);
	if (r < 0 && r != ANFU_ENOTFOUND)
		return r;
	r = iam_tx(iam, act_tx, &op, err);
	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, a->audit, "user", user_id, ANFU_R_FORBIDDEN);
	if (r < 0)
		return r;
	/* Done at once: nothing filed. */
	memset(ret_approval, 0, sizeof(*ret_approval));
	return 0;
}
