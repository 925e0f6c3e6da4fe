/*
 * iam/admin_internal: what the administration files of src/iam/ share
 * (admin_types.c, admin_users.c, admin_actions.c, admin_tenure.c). The
 * approval types carry out the same changes as the direct operations, so
 * the checks of a new account (admin_users.c), the account actions
 * (admin_actions.c) and the temporary-password, validity and handover
 * steps (admin_tenure.c) are declared here. Not for use outside those
 * four files.
 */
#ifndef ANFU_IAM_ADMIN_INTERNAL_H
#define ANFU_IAM_ADMIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "base/limits.h"
#include "base/mask.h"
#include "iam/admin.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"

struct anfu_db;
struct anfu_tx;

/* "en" when the request asked for English, else "zh". */
static inline const char *iam_admin_lang(const struct anfu_iam_ctx *ctx)
{
	return ctx && ctx->lang && strcmp(ctx->lang, "en") == 0 ? "en" : "zh";
}

/* The checked and normalised fields every new account has. */
struct iam_acct_fields {
	char login[256];
	char email[256];
	char phone[16];
	bool has_email, has_phone;
	int64_t expires_ms;
	bool temporary;
};

/* Who acts on an account: an administrator directly (p), or the checker
 * (id) of the approval approval_id that carries the change out. */
struct iam_act_by {
	const struct anfu_principal *p;
	const char *id;
	const char *approval_id;
};

/* What the first, read-only phase of a reset found out: the target, where
 * its password goes, and the new password's hash (made outside the write
 * transaction: Argon2id takes 50-200 ms). */
struct iam_temp_pw {
	struct iam_user u;
	struct iam_personal pe;
	const char *channel; /* "email" or "sms" */
	const char *target;  /* borrowed from pe */
	char pw[IAM_INITIAL_PASSWORD_MAX];
	char hash[ANFU_PWHASH_STR_LEN];
};

struct iam_handover {
	struct iam_temp_pw t;	  /* the account, and the password for the new person */
	struct iam_acct_fields f; /* the new person's email and/or phone, normalised */
	const char *name;	  /* the new responsible person */
	char email_idx[IAM_HASH_HEX], phone_idx[IAM_HASH_HEX];
	char email_login[IAM_HASH_HEX], phone_login[IAM_HASH_HEX];
};

/* One administrative write as a transaction: who, on what, with which
 * input (the fields its function reads), and what it returns. */
struct iam_admin_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct iam_act_by *by;
	const struct iam_admin_action *action;
	const char *user_id;
	const struct iam_temp_pw *t;
	const struct iam_handover *h;
	const char *reason;
	int64_t expires_ms;
	bool reset;
	struct anfu_iam_err *err;
};

/* ---- the fields of a new account (admin_users.c) ---- */

/* Checks username, email / phone and the validity period of a new account
 * into f (cleared first); err names the field refused. */
int iam_admin_check_account(struct anfu_iam *iam, const char *username, const char *email,
			    const char *phone, int64_t expires_ms, bool temporary,
			    struct iam_acct_fields *f, struct anfu_iam_err *err);
/* The personal channel a password goes to (IAM-PWD-12): email and/or
 * phone, normalised into f; at least one. */
int iam_admin_check_channel(const char *email, const char *phone, struct iam_acct_fields *f,
			    struct anfu_iam_err *err);
/* Validity period: temporary accounts must expire, and within
 * accounts.temporary_max_days (IAM-ACCT-06, -07). */
int iam_admin_check_validity(struct anfu_iam *iam, int64_t expires_ms, bool temporary,
			     struct iam_acct_fields *f, struct anfu_iam_err *err);
/* ANFU_EEXIST (already_exists) when the login name is taken. */
int iam_admin_login_free(struct anfu_iam *iam, struct anfu_db *db, const char *login,
			 struct anfu_iam_err *err);
/* Where iam_admin_deliver_initial() will send the password, masked. */
void iam_admin_masked_delivery(const struct iam_acct_fields *f, char *out, size_t cap);
/* Queues the initial password to the user's own channel; *ret_channel is
 * "email" or "sms" (static). */
int iam_admin_deliver_initial(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			      const struct iam_acct_fields *f, const char *lang, const char *pw,
			      const char **ret_channel);
/* Maps a refusal of iam_account_create to what people see. */
void iam_admin_account_err(int r, const struct iam_acct_fields *f, struct anfu_iam_err *err);

/* ---- account actions (admin_actions.c) ---- */

struct iam_admin_action;

/* The action named name ("disable", "enable", "unlock",
 * "force_password_change"), or NULL. */
const struct iam_admin_action *iam_admin_action_find(const char *name);
/* Applies a to u (loaded, allowed) in the caller's transaction: the
 * change, the end of its sessions, the audit record, the notice. */
int iam_admin_act_write(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const struct iam_act_by *by, const struct iam_admin_action *a,
			const struct iam_user *u, const char *reason, struct anfu_iam_err *err);
/* Audits a change of user_id by by (details d, borrowed). */
int iam_admin_by_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const char *action, const char *user_id,
		       json_t *d);
/* A reason, the permission perm (or allowed), a recent step-up; refusals
 * of the permission or the step-up are audited as denied under action. */
int iam_admin_gate(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		   const struct anfu_principal *p, const char *perm, bool allowed,
		   const char *action, const char *user_id, const char *reason,
		   struct anfu_iam_err *err);
/* Files the four-eyes request of type that changes a staff account:
 * payload (consumed) names the account; *ret_approval is the request. */
int iam_admin_file_staff(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *p, const char *type, json_t *payload,
			 struct anfu_approval_view *ret_approval, struct anfu_iam_err *err);

/* ---- temporary passwords, validity, handover (admin_tenure.c) ---- */

/* Wipes the password and frees what t holds (NULL-safe fields). */
void iam_temp_pw_clear(struct iam_temp_pw *t);
/* For t->u (loaded): where the password goes, the password and its hash;
 * no_delivery_channel (ANFU_ECONFLICT) without a bound channel. */
int iam_temp_pw_make(struct anfu_iam *iam, struct anfu_db *db, struct iam_temp_pw *t,
		     struct anfu_iam_err *err);
/* Whether changing u's end to expires_ms retains a temporary account past
 * its end: then its password must be reset (IAM-ACCT-07). */
bool iam_retains_temporary(const struct iam_user *u, int64_t expires_ms);
/* In the write transaction: the new end, the reset when retained, the
 * audit record. */
int iam_validity_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const struct iam_temp_pw *t, int64_t expires_ms,
		       bool reset, const char *reason, struct anfu_iam_err *err);
/* Blind indexes of h's new contacts, as contact and as login name. */
int iam_handover_indexes(struct anfu_iam *iam, struct iam_handover *h);
/* ANFU_EEXIST when another account has one of the new contacts. */
int iam_handover_free(struct anfu_db *db, const struct iam_handover *h, struct anfu_iam_err *err);
/* For h->t.u (loaded): the new person's password and where it goes. */
int iam_handover_make(struct anfu_iam *iam, struct anfu_db *db, struct iam_handover *h);
/* In the write transaction: the handover itself (see admin_tenure.c). */
int iam_handover_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct iam_act_by *by, const struct iam_handover *h,
		       const char *reason, struct anfu_iam_err *err);

#endif
