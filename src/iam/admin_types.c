/*
 * iam/admin: account administration behind /admin/v1 and the approval
 * types that gate staff accounts and role changes (IAM-ACCT-02, -03,
 * IAM-PWD-12, -15, IAM-RBAC-02, -06, IAM-SOD-01, -03, DATA-MASK-08).
 *
 * Owns the approval types "create_operator", "grant_role", "revoke_role",
 * "disable_staff", "enable_staff", "staff_validity" and "handover_staff"
 * and the admin operations of iam.h (list, get, create a merchant user,
 * disable / enable / unlock / force a password change, reset a password,
 * validity, handover). Trusts the principal handed in (authenticated by
 * anfu_iam_authenticate) but checks its permission again in every
 * operation, together with the object-level rules: nobody disables,
 * enables or unlocks their own account, only an administrator (role class
 * admin) acts on staff accounts, a merchant user manages only staff of its
 * own merchant. Trusts nothing in a request or an approval payload:
 * payloads are read from an allowlist of keys and validated again at
 * execution, since the world may have changed between filing and
 * approval.
 *
 * Staff accounts are created, disabled, enabled, given a new validity
 * period or handed over only through four eyes (IAM-ACCT-03): for a staff
 * target the operation files the request, as the administrator, and the
 * change happens when a checker approves it, recorded as the checker's.
 * Unlock, a forced password change and a reset (to the account's own
 * channel) stay direct. Where a request delivers a credential (a new
 * operator's initial password, a handover's temporary password), the
 * checker must type the email and/or phone again (contacts_confirm), so a
 * credential never goes to a channel that only the maker named.
 *
 * Every operation that changes an account, and filing or deciding a
 * request, needs a second factor proved within mfa.stepup_window
 * (IAM-MFA-02). A checker may not decide a request about their own
 * account (the type's subject). Disabling, unlocking and forcing a
 * password change tell the user on the bound channels, queued in the same
 * transaction.
 *
 * A temporary password (an administrator's reset, IAM-PWD-12, -15) is made
 * and delivered like an initial one, to the account's own bound email or
 * phone, with a forced change at the next login; every session of the
 * account ends. Nobody resets their own password this way.
 *
 * Initial passwords (IAM-PWD-12) go only to the new user's own channel:
 * email when given, else SMS, queued in the creating transaction; a staff
 * or merchant account cannot be created without one of them, so no
 * password ever passes through an approver or an API response. Every
 * change is audited in its transaction with the reason given; refusals
 * for lack of permission are audited as "denied" (and alerted,
 * iam/alert.c).
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
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/validate.h"
#include "iam/admin.h"
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

/* Roles one create_operator request may ask for. */
#define OP_MAX_ROLES 8
/* Longest reason an admin action keeps. */
#define ADMIN_REASON_MAX 500
/* Users per page of the admin list (default and most). */
#define ADMIN_LIST_DEFAULT 50
#define ADMIN_LIST_MAX 200
#define DAY_MS (24LL * 60 * 60 * 1000)

static void err_set(struct anfu_iam_err *err, const char *code, const char *field)
{
	if (err) {
		err->code = code;
		err->field = field;
	}
}

static const char *kind_name(enum anfu_user_kind k)
{
	switch (k) {
	case ANFU_USER_CUSTOMER: return "customer";
	case ANFU_USER_MERCHANT: return "merchant";
	default: return "staff";
	}
}

static const char *lang_of(const struct anfu_iam_ctx *ctx)
{
	return ctx && ctx->lang && strcmp(ctx->lang, "en") == 0 ? "en" : "zh";
}

/* ---- reading payloads ------------------------------------------------------------ */

static int keys_allowed(const json_t *o, const char *const *keys, size_t n,
			struct anfu_iam_err *err)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		size_t i = 0;

		while (i < n && strcmp(k, keys[i]) != 0)
			i++;
		if (i == n) {
			err_set(err, ANFU_JERR_UNKNOWN_FIELD, "payload");
			return ANFU_EINVAL;
		}
	}
	return 0;
}

/* A string member (NULL when absent) of at most max bytes. */
static int opt_string(const json_t *o, const char *key, size_t max, const char **ret,
		      struct anfu_iam_err *err)
{
	const json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, key);
		return ANFU_EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

/* The checked and normalised fields every new account has. */
struct acct_fields {
	char login[256];
	char email[256];
	char phone[16];
	bool has_email, has_phone;
	int64_t expires_ms;
	bool temporary;
};

static int check_username(const char *username, struct acct_fields *f, struct anfu_iam_err *err)
{
	const char *kind = NULL;

	if (!username) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "username");
		return ANFU_EINVAL;
	}
	if (!anfu_valid_username(username, strlen(username)) ||
	    iam_login_normalize(username, f->login, sizeof(f->login), &kind) < 0 || !kind ||
	    strcmp(kind, "username") != 0) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "username");
		return ANFU_EINVAL;
	}
	if (iam_name_reserved(f->login)) {
		err_set(err, "reserved_name", "username");
		return ANFU_EINVAL;
	}
	return 0;
}

/* The personal channel the initial password goes to (IAM-PWD-12). */
static int check_channel(const char *email, const char *phone, struct acct_fields *f,
			 struct anfu_iam_err *err)
{
	const char *kind = NULL;

	if (email) {
		if (!anfu_valid_email(email, strlen(email)) ||
		    iam_login_normalize(email, f->email, sizeof(f->email), &kind) < 0) {
			err_set(err, ANFU_JERR_INVALID_FIELD, "email");
			return ANFU_EINVAL;
		}
		f->has_email = true;
	}
	if (phone) {
		if (!anfu_valid_mobile_cn(phone, strlen(phone)) ||
		    anfu_mobile_normalize(phone, strlen(phone), f->phone, sizeof(f->phone)) < 0) {
			err_set(err, ANFU_JERR_INVALID_FIELD, "phone");
			return ANFU_EINVAL;
		}
		f->has_phone = true;
	}
	if (!f->has_email && !f->has_phone) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "email");
		return ANFU_EINVAL;
	}
	return 0;
}

/* Validity period: temporary accounts must expire, and within
 * accounts.temporary_max_days (IAM-ACCT-06, -07). */
static int check_validity(struct anfu_iam *iam, int64_t expires_ms, bool temporary,
			  struct acct_fields *f, struct anfu_iam_err *err)
{
	int64_t now = anfu_clock_now_ms();
	int64_t max_days = iam->cfg->accounts.temporary_max_days;

	if (expires_ms < 0 || (expires_ms > 0 && expires_ms <= now)) {
		err_set(err, ANFU_JERR_OUT_OF_RANGE, "expires_ms");
		return ANFU_EINVAL;
	}
	if (temporary && expires_ms == 0) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "expires_ms");
		return ANFU_EINVAL;
	}
	if (temporary && max_days > 0 && expires_ms - now > max_days * DAY_MS) {
		err_set(err, ANFU_JERR_OUT_OF_RANGE, "expires_ms");
		return ANFU_EINVAL;
	}
	f->expires_ms = expires_ms;
	f->temporary = temporary;
	return 0;
}

static int check_account(struct anfu_iam *iam, const char *username, const char *email,
			 const char *phone, int64_t expires_ms, bool temporary,
			 struct acct_fields *f, struct anfu_iam_err *err)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = check_username(username, f, err);
	if (r == 0)
		r = check_channel(email, phone, f, err);
	if (r == 0)
		r = check_validity(iam, expires_ms, temporary, f, err);
	return r;
}

/* ANFU_EEXIST (already_exists) when the login name is taken. */
static int check_login_free(struct anfu_iam *iam, struct anfu_db *db, const char *login,
			    struct anfu_iam_err *err)
{
	struct iam_user u;
	int r;

	memset(&u, 0, sizeof(u));
	r = iam_user_find_login(iam, db, login, &u);
	if (r == ANFU_ENOTFOUND)
		return 0;
	if (r == 0) {
		iam_user_clear(&u);
		err_set(err, "already_exists", "username");
		return ANFU_EEXIST;
	}
	return r;
}

static void masked_name(const char *login, char out[ANFU_MASK_MAX])
{
	if (anfu_mask_nickname(login, strlen(login), out, ANFU_MASK_MAX) < 0)
		(void)snprintf(out, ANFU_MASK_MAX, "***");
}

/* "email ali**@e**.com" or "phone ****1050": where deliver_initial() will
 * send the initial password, masked (DATA-MASK-01, -03). */
static void masked_delivery(const struct acct_fields *f, char *out, size_t cap)
{
	char m[ANFU_MASK_MAX];
	int r = f->has_email ? anfu_mask_email(f->email, strlen(f->email), m, sizeof(m))
			     : anfu_mask_mobile(f->phone, strlen(f->phone), m, sizeof(m));

	(void)snprintf(out, cap, "%s %s", f->has_email ? "email" : "phone", r < 0 ? "***" : m);
}

/* Queues the initial password to the user's own channel. */
static int deliver_initial(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			   const struct acct_fields *f, const char *lang, const char *pw,
			   const char **ret_channel)
{
	const char *args[2] = { f->login, pw };
	const char *channel = f->has_email ? "email" : "sms";
	int r = iam_notice_to(iam, tx, user_id, channel, f->has_email ? f->email : f->phone, lang,
			      "initial_password", args, 2);

	if (r < 0)
		return r;
	*ret_channel = channel;
	return 0;
}

/* Maps a refusal of iam_account_create to what people see. The login
 * name was checked free just before in the same transaction, so a
 * duplicate there is the phone or the email (IAM-ACCT-02). */
static void account_err(int r, const struct acct_fields *f, struct anfu_iam_err *err)
{
	if (r == ANFU_EEXIST)
		err_set(err, "already_exists",
			f->has_email && f->has_phone ? NULL
			: f->has_email		     ? "email"
						     : "phone");
	else if (r == ANFU_ECONFLICT)
		err_set(err, "role_conflict", "roles");
	else if (r == ANFU_EINVAL)
		err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
}

/* ---- create_operator ------------------------------------------------------------- */

struct op_req {
	struct acct_fields f;
	const char *roles[OP_MAX_ROLES];
	size_t nroles;
};

static int op_roles(const json_t *payload, struct op_req *q, struct anfu_iam_err *err)
{
	const json_t *a = json_object_get(payload, "roles");
	size_t n = json_array_size(a);

	if (!a) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "roles");
		return ANFU_EINVAL;
	}
	if (!json_is_array(a) || n == 0 || n > OP_MAX_ROLES)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_array_get(a, i);

		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= ANFU_PERM_NAME_MAX)
			goto bad;
		for (size_t j = 0; j < i; j++)
			if (strcmp(q->roles[j], json_string_value(v)) == 0)
				goto bad;
		q->roles[i] = json_string_value(v);
	}
	q->nroles = n;
	return 0;
bad:
	err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
	return ANFU_EINVAL;
}

static int op_parse(struct anfu_iam *iam, const json_t *payload, struct op_req *q,
		    struct anfu_iam_err *err)
{
	static const char *const keys[] = { "username", "roles",      "email",
					    "phone",	"expires_ms", "temporary" };
	const json_t *exp = json_object_get(payload, "expires_ms");
	const json_t *tmp = json_object_get(payload, "temporary");
	const char *username = NULL, *email = NULL, *phone = NULL;
	int r = keys_allowed(payload, keys, 6, err);

	if (r == 0)
		r = opt_string(payload, "username", 64, &username, err);
	if (r == 0)
		r = opt_string(payload, "email", 254, &email, err);
	if (r == 0)
		r = opt_string(payload, "phone", 32, &phone, err);
	if (r < 0)
		return r;
	if ((exp && !json_is_integer(exp)) || (tmp && !json_is_boolean(tmp))) {
		err_set(err, ANFU_JERR_INVALID_FIELD,
			exp && !json_is_integer(exp) ? "expires_ms" : "temporary");
		return ANFU_EINVAL;
	}
	r = check_account(iam, username, email, phone, exp ? json_integer_value(exp) : 0,
			  tmp && json_is_true(tmp), &q->f, err);
	if (r < 0)
		return r;
	return op_roles(payload, q, err);
}

/* What must still hold when the request is filed and when it executes. */
static int op_check(struct anfu_iam *iam, struct anfu_db *db, const struct op_req *q,
		    struct anfu_iam_err *err)
{
	char reason[128];
	bool fits = false;
	int r;

	for (size_t i = 0; i < q->nroles; i++) {
		r = anfu_rbac_role_fits(db, q->roles[i], "staff", &fits);
		if (r < 0)
			return r;
		if (!fits) {
			err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
			return ANFU_EINVAL;
		}
	}
	r = anfu_rbac_check_set(db, q->roles, q->nroles, reason, sizeof(reason));
	if (r == ANFU_ECONFLICT)
		err_set(err, "role_conflict", "roles");
	if (r < 0)
		return r;
	return check_login_free(iam, db, q->f.login, err);
}

static int op_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
		       char *summary, size_t cap, struct anfu_iam_err *err)
{
	struct op_req q;
	char masked[ANFU_MASK_MAX], to[ANFU_MASK_MAX + 8];
	char roles[OP_MAX_ROLES * ANFU_PERM_NAME_MAX] = "";
	size_t used = 0;
	int r;

	memset(&q, 0, sizeof(q));
	r = op_parse(iam, payload, &q, err);
	if (r == 0)
		r = op_check(iam, db, &q, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < q.nroles; i++)
		used += (size_t)snprintf(roles + used, sizeof(roles) - used, "%s%s", i ? "," : "",
					 q.roles[i]);
	masked_name(q.f.login, masked);
	masked_delivery(&q.f, to, sizeof(to));
	/* The checker sees where the password goes before the roles, which
	 * are what a long summary loses first. */
	(void)snprintf(summary, cap,
		       "create staff account %s (initial password to %s)%s with roles %s", masked,
		       to, q.f.temporary ? " (temporary)" : "", roles);
	return 0;
}

static json_t *roles_json(const char *const *roles, size_t n)
{
	json_t *a = json_array();

	if (!a)
		abort();
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(roles[i])) < 0)
			abort();
	return a;
}

/* Creates the account, queues its password, audits "user.created". */
static int op_create(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const char *approval_id, const struct op_req *q, char id[ANFU_ID_MAX],
		     const char **ret_channel, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char pw[IAM_INITIAL_PASSWORD_MAX], checker[ANFU_ID_MAX], by[ANFU_ID_MAX + 16];
	struct iam_account_spec s;
	json_t *d = NULL;
	int r = iam_approval_checker(db, approval_id, checker);

	if (r < 0)
		return r;
	(void)snprintf(by, sizeof(by), "approval:%s", approval_id);
	s = (struct iam_account_spec){ ANFU_USER_STAFF,
				       q->f.login,
				       NULL,
				       q->roles,
				       q->nroles,
				       q->f.has_email ? q->f.email : NULL,
				       q->f.has_phone ? q->f.phone : NULL,
				       lang_of(ctx),
				       q->f.expires_ms,
				       q->f.temporary,
				       by,
				       checker,
				       approval_id };
	r = iam_account_create(iam, db, &s, pw, sizeof(pw), id);
	if (r < 0) {
		account_err(r, &q->f, err);
		goto out;
	}
	r = deliver_initial(iam, tx, id, &q->f, lang_of(ctx), pw, ret_channel);
	if (r < 0)
		goto out;
	d = json_pack("{s:s,s:o,s:s,s:s,s:b,s:b}", "kind", "staff", "roles",
		      roles_json(q->roles, q->nroles), "approval_id", approval_id, "delivered_to",
		      *ret_channel, "must_change", 1, "temporary", q->f.temporary);
	if (!d)
		abort();
	r = iam_audit(iam, tx, ctx, NULL, checker, "user.created", "user", id, "success", d);
	if (r == 0)
		r = iam_audit_grants(iam, tx, ctx, NULL, checker, id, &s);
out:
	anfu_wipe(pw, sizeof(pw));
	json_decref(d);
	return r;
}

static int op_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		      const char *approval_id, const json_t *payload, json_t **result,
		      struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct op_req q;
	char id[ANFU_ID_MAX];
	const char *channel = NULL;
	int r;

	memset(&q, 0, sizeof(q));
	r = op_parse(iam, payload, &q, err);
	if (r == 0)
		r = op_check(iam, db, &q, err);
	if (r == 0)
		r = op_create(iam, tx, ctx, approval_id, &q, id, &channel, err);
	if (r < 0)
		return r;
	*result = json_pack("{s:s,s:s}", "user_id", id, "delivered_to", channel);
	if (!*result)
		abort();
	return 0;
}

/* ---- grant_role / revoke_role ------------------------------------------------------ */

struct role_req {
	const char *user_id;
	const char *role;
	struct iam_user u;
};

static int role_parse(struct anfu_db *db, const json_t *payload, struct role_req *q,
		      struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "role" };
	int r = keys_allowed(payload, keys, 2, err);

	if (r == 0)
		r = opt_string(payload, "user_id", ANFU_ID_MAX - 1, &q->user_id, err);
	if (r == 0)
		r = opt_string(payload, "role", ANFU_PERM_NAME_MAX - 1, &q->role, err);
	if (r < 0)
		return r;
	if (!q->user_id || !q->role) {
		err_set(err, ANFU_JERR_MISSING_FIELD, q->user_id ? "role" : "user_id");
		return ANFU_EINVAL;
	}
	if (!anfu_id_valid("usr", q->user_id, strlen(q->user_id))) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		return ANFU_EINVAL;
	}
	r = iam_user_load(db, q->user_id, &q->u);
	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", "user_id");
	return r;
}

static int role_held(struct anfu_db *db, const char *user_id, const char *role, bool *ret)
{
	char roles[512];
	size_t n = strlen(role);
	int r = anfu_rbac_roles(db, user_id, roles, sizeof(roles));

	if (r < 0)
		return r;
	*ret = false;
	for (const char *s = roles; *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == n && memcmp(s, role, n) == 0)
			*ret = true;
		s += len + (e ? 1 : 0);
	}
	return 0;
}

static int grant_check(struct anfu_db *db, struct role_req *q, struct anfu_iam_err *err)
{
	char reason[128];
	bool ok = false;
	int r = anfu_rbac_role_fits(db, q->role, kind_name(q->u.kind), &ok);

	if (r < 0)
		return r;
	if (!ok) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = role_held(db, q->user_id, q->role, &ok);
	if (r < 0)
		return r;
	if (ok) {
		err_set(err, "already_exists", "role");
		return ANFU_EEXIST;
	}
	r = anfu_rbac_check_grant(db, q->user_id, q->role, reason, sizeof(reason));
	if (r == ANFU_ECONFLICT)
		err_set(err, "role_conflict", "role");
	return r;
}

static int revoke_check(struct anfu_db *db, struct role_req *q, struct anfu_iam_err *err)
{
	bool held = false;
	int r = role_held(db, q->user_id, q->role, &held);

	if (r < 0)
		return r;
	if (!held) {
		err_set(err, "not_found", "role");
		return ANFU_ENOTFOUND;
	}
	return 0;
}

/* Checks a grant (or revocation) request and writes its summary. */
static int role_validate(struct anfu_db *db, const json_t *payload, bool grant, char *summary,
			 size_t cap, struct anfu_iam_err *err)
{
	struct role_req q;
	int r;

	memset(&q, 0, sizeof(q));
	r = role_parse(db, payload, &q, err);
	if (r == 0)
		r = grant ? grant_check(db, &q, err) : revoke_check(db, &q, err);
	if (r == 0)
		(void)snprintf(summary, cap, "%s role %s %s %s account %s",
			       grant ? "grant" : "revoke", q.role, grant ? "to" : "from",
			       kind_name(q.u.kind), q.user_id);
	iam_user_clear(&q.u);
	return r;
}

static int grant_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	return role_validate(db, payload, true, summary, cap, err);
}

static int revoke_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			   char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	return role_validate(db, payload, false, summary, cap, err);
}

/* Applies a grant or revocation, audits it and ends the target's sessions
 * so that the new permissions apply from its next login. */
static int role_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const char *approval_id, const json_t *payload, bool grant, json_t **result,
			struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct role_req q;
	char checker[ANFU_ID_MAX], reason[128];
	json_t *d = NULL;
	int r;

	memset(&q, 0, sizeof(q));
	r = role_parse(db, payload, &q, err);
	if (r == 0)
		r = grant ? grant_check(db, &q, err) : revoke_check(db, &q, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r < 0)
		goto out;
	if (grant)
		r = anfu_rbac_grant(db, q.user_id, q.role, checker, approval_id,
				    anfu_clock_now_ms(), reason, sizeof(reason));
	else
		r = anfu_rbac_revoke(db, q.user_id, q.role);
	if (r == ANFU_ECONFLICT)
		err_set(err, "role_conflict", "role");
	else if (r == ANFU_EEXIST)
		err_set(err, "already_exists", "role");
	else if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", "role");
	if (r < 0)
		goto out;
	d = json_pack("{s:s,s:s}", "role", q.role, "approval_id", approval_id);
	if (!d)
		abort();
	r = iam_audit(iam, tx, ctx, NULL, checker, grant ? "role.granted" : "role.revoked", "user",
		      q.user_id, "success", d);
	if (r == 0)
		r = iam_session_end(iam, db, q.user_id, NULL, NULL, "role_changed");
	if (r == 0) {
		*result = json_pack("{s:s,s:s}", "user_id", q.user_id, "role", q.role);
		if (!*result)
			abort();
	}
out:
	iam_user_clear(&q.u);
	json_decref(d);
	return r;
}

static int grant_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const char *approval_id, const json_t *payload, json_t **result,
			 struct anfu_iam_err *err)
{
	return role_execute(iam, tx, ctx, approval_id, payload, true, result, err);
}

static int revoke_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const char *approval_id, const json_t *payload, json_t **result,
			  struct anfu_iam_err *err)
{
	return role_execute(iam, tx, ctx, approval_id, payload, false, result, err);
}

/* ---- listing and reading users ---------------------------------------------------- */

static bool one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static int id_row_cb(void *ud, const struct anfu_row *r)
{
	if (json_array_append_new(ud, json_string(anfu_row_text(r, 0, NULL))) < 0)
		abort();
	return 0;
}

/* The masked view of one user as JSON. */
static int user_json(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		     json_t **ret)
{
	struct anfu_user_view v;
	json_t *o;
	int r;

	memset(&v, 0, sizeof(v));
	r = iam_user_view(iam, db, u, &v);
	if (r < 0)
		return r;
	o = anfu_user_view_json(&v);
	if (!o)
		abort();
	*ret = o;
	return 0;
}

static int filter_check(const struct anfu_user_filter *f)
{
	static const char *const kinds[] = { "customer", "merchant", "staff" };
	static const char *const states[] = { "active", "locked", "disabled", "expired" };

	if (f->kind && !one_of(f->kind, kinds, 3))
		return ANFU_EINVAL;
	if (f->status && !one_of(f->status, states, 4))
		return ANFU_EINVAL;
	if (f->after && !anfu_id_valid("usr", f->after, strlen(f->after)))
		return ANFU_EINVAL;
	return 0;
}

/* The ids of one page; "expired" also finds accounts past their expiry
 * whose stored status is still active. */
static int page_ids(struct anfu_db *db, const struct anfu_user_filter *f, const char *merchant_id,
		    int limit, json_t *ids)
{
	struct anfu_param p[6] = {
		ANFU_PS(f->kind), ANFU_PS(f->status),		ANFU_PS(f->after ? f->after : ""),
		ANFU_PI(limit),	  ANFU_PI(anfu_clock_now_ms()), ANFU_PS(merchant_id)
	};

	return anfu_db_exec(db,
			    "SELECT id FROM iam_user WHERE kind = COALESCE($1, kind) "
			    "AND (status = COALESCE($2, status) OR ($2 = 'expired' AND "
			    "expires_ms IS NOT NULL AND expires_ms <= $5)) "
			    "AND merchant_id IS NOT DISTINCT FROM COALESCE($6, merchant_id) "
			    "AND id > $3 ORDER BY id LIMIT $4",
			    p, 6, id_row_cb, ids, NULL);
}

int anfu_iam_admin_list_users(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			      const struct anfu_principal *p, const struct anfu_user_filter *f,
			      json_t **ret)
{
	struct anfu_db *db = NULL;
	json_t *ids = NULL, *users = NULL;
	int limit, r;

	/* A merchant administrator sees its own merchant's accounts only. */
	bool own_merchant = p && p->kind == ANFU_USER_MERCHANT &&
			    anfu_principal_can(p, "merchant.staff.manage") && p->merchant_id[0];
	struct anfu_user_filter mf;

	(void)ctx;
	if (!iam || !p || !f || !ret || filter_check(f) < 0)
		return ANFU_EINVAL;
	if (!own_merchant && !anfu_principal_can(p, "iam.user.read"))
		return ANFU_EPERM;
	if (own_merchant) {
		mf = *f;
		mf.kind = "merchant";
		f = &mf;
	}
	limit = f->limit <= 0		    ? ADMIN_LIST_DEFAULT
		: f->limit > ADMIN_LIST_MAX ? ADMIN_LIST_MAX
					    : f->limit;
	/* The page is a JSON array of masked views in id order; the next page
	 * starts after the last id (key-set pagination). */
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	ids = json_array();
	users = json_array();
	if (!ids || !users)
		abort();
	r = page_ids(db, f, own_merchant ? p->merchant_id : NULL, limit, ids);
	for (size_t i = 0; r == 0 && i < json_array_size(ids); i++) {
		struct iam_user u;
		json_t *o = NULL;

		memset(&u, 0, sizeof(u));
		r = iam_user_load(db, json_string_value(json_array_get(ids, i)), &u);
		if (r == 0)
			r = user_json(iam, db, &u, &o);
		iam_user_clear(&u);
		if (r == 0 && json_array_append_new(users, o) < 0)
			abort();
	}
	if (r == 0) {
		*ret = users;
		users = NULL;
	}
	json_decref(ids);
	json_decref(users);
	return r;
}

/* Adds the unmasked personal data of u under "revealed" and returns the
 * names of the fields shown (for the audit record). */
static int reveal_into(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		       json_t *o, json_t *fields)
{
	static const char *const vault_fields[] = { "login", "phone", "email", "name", "idno" };
	static const char *const keys[] = { "login", "phone", "email", "real_name", "id_number" };
	json_t *rev = json_object();
	int r = 0;

	if (!rev)
		abort();
	for (size_t i = 0; r == 0 && i < 5; i++) {
		char *v = NULL;

		r = iam_user_reveal(iam, db, u, vault_fields[i], &v);
		if (r == 0 && v) {
			anfu_json_set(rev, keys[i], json_string(v));
			if (json_array_append_new(fields, json_string(keys[i])) < 0)
				abort();
		}
		anfu_free_secret(v);
	}
	if (r == 0)
		anfu_json_set(o, "revealed", json_incref(rev));
	json_decref(rev);
	return r;
}

/* A reveal's transaction. */
struct reveal {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct iam_user *u;
	json_t *o;
};

static int reveal_tx(struct anfu_tx *tx, void *ud)
{
	const struct reveal *c = ud;
	json_t *fields = json_array();
	json_t *d = NULL;
	int r;

	if (!fields)
		abort();
	r = reveal_into(c->iam, anfu_tx_db(tx), c->u, c->o, fields);
	if (r < 0)
		goto out;
	d = json_pack("{s:O}", "fields", fields);
	if (!d)
		abort();
	r = iam_audit(c->iam, tx, c->ctx, c->p, NULL, "user.pii_revealed", "user", c->u->id,
		      "success", d);
out:
	json_decref(fields);
	json_decref(d);
	return r;
}

/* Reveal and its audit record (DATA-MASK-08, IAM-RBAC-06) commit together:
 * nothing is shown that was not recorded. */
static int reveal_audited(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			  const struct anfu_principal *p, const struct iam_user *u, json_t *o)
{
	struct reveal c = { iam, ctx, p, u, o };

	return iam_tx(iam, reveal_tx, &c, NULL);
}

int anfu_iam_admin_get_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *user_id, bool reveal,
			    json_t **ret)
{
	struct anfu_db *db = NULL;
	struct iam_user u;
	json_t *o = NULL;
	int r;

	if (!iam || !p || !user_id || !ret)
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, "iam.user.read") ||
	    (reveal && !anfu_principal_can(p, "iam.user.pii.reveal"))) {
		iam_audit_denied(iam, ctx, p, reveal ? "user.pii_revealed" : "user.read", "user",
				 user_id, "forbidden");
		return ANFU_EPERM;
	}
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&u, 0, sizeof(u));
	r = iam_user_load(db, user_id, &u);
	if (r == 0)
		r = user_json(iam, db, &u, &o);
	if (r == 0 && reveal)
		r = reveal_audited(iam, ctx, p, &u, o);
	iam_user_clear(&u);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*ret = o;
	return 0;
}

/* ---- creating merchant users --------------------------------------------------------- */

static bool merchant_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= ANFU_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Who may create a merchant user: staff holding iam.user.create, or a
 * merchant administrator for the staff of its own merchant (IAM-RBAC-04,
 * -05: delegation within one's own scope). */
static bool may_create_merchant_user(const struct anfu_principal *p,
				     const struct anfu_admin_create *c)
{
	if (p->kind == ANFU_USER_STAFF)
		return anfu_principal_can(p, "iam.user.create");
	return p->kind == ANFU_USER_MERCHANT && anfu_principal_can(p, "merchant.staff.manage") &&
	       c->merchant_id && strcmp(c->merchant_id, p->merchant_id) == 0 && c->role &&
	       strcmp(c->role, "merchant_staff") == 0;
}

static int create_check(struct anfu_iam *iam, struct anfu_db *db, const struct anfu_admin_create *c,
			struct acct_fields *f, struct anfu_iam_err *err)
{
	bool fits = false;
	int r;

	if (!c->kind || strcmp(c->kind, "merchant") != 0) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "kind");
		return ANFU_EINVAL;
	}
	if (!merchant_id_ok(c->merchant_id)) {
		err_set(err, c->merchant_id ? ANFU_JERR_INVALID_FIELD : ANFU_JERR_MISSING_FIELD,
			"merchant_id");
		return ANFU_EINVAL;
	}
	if (!c->role) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = anfu_rbac_role_fits(db, c->role, "merchant", &fits);
	if (r < 0)
		return r;
	if (!fits) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = check_account(iam, c->username, c->email, c->phone, c->expires_ms, c->temporary, f,
			  err);
	if (r == 0)
		r = check_login_free(iam, db, f->login, err);
	return r;
}

static int create_merchant(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const struct anfu_admin_create *c,
			   json_t **ret, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *roles[1] = { c->role };
	char pw[IAM_INITIAL_PASSWORD_MAX], id[ANFU_ID_MAX];
	const char *channel = NULL;
	struct acct_fields f;
	struct iam_account_spec s;
	struct iam_user u;
	json_t *d = NULL, *o = NULL;
	int r = create_check(iam, db, c, &f, err);

	memset(&u, 0, sizeof(u));
	if (r < 0)
		goto out;
	s = (struct iam_account_spec){ ANFU_USER_MERCHANT,
				       f.login,
				       c->merchant_id,
				       roles,
				       1,
				       f.has_email ? f.email : NULL,
				       f.has_phone ? f.phone : NULL,
				       lang_of(ctx),
				       f.expires_ms,
				       f.temporary,
				       p->user_id,
				       p->user_id,
				       NULL };
	r = iam_account_create(iam, db, &s, pw, sizeof(pw), id);
	if (r < 0) {
		account_err(r, &f, err);
		goto out;
	}
	r = deliver_initial(iam, tx, id, &f, lang_of(ctx), pw, &channel);
	if (r < 0)
		goto out;
	d = json_pack("{s:s,s:s,s:s,s:s,s:b}", "kind", "merchant", "merchant_id", c->merchant_id,
		      "role", c->role, "delivered_to", channel, "must_change", 1);
	if (!d)
		abort();
	r = iam_audit(iam, tx, ctx, p, NULL, "user.created", "user", id, "success", d);
	if (r == 0)
		r = iam_audit_grants(iam, tx, ctx, p, NULL, id, &s);
	if (r == 0)
		r = iam_user_load(db, id, &u);
	if (r == 0)
		r = user_json(iam, db, &u, &o);
	if (r < 0)
		goto out;
	anfu_json_set(o, "delivered_to", json_string(channel));
	*ret = o;
	o = NULL;
out:
	anfu_wipe(pw, sizeof(pw));
	iam_user_clear(&u);
	json_decref(d);
	json_decref(o);
	return r;
}

/* One administrative write as a transaction: who, on what, with which
 * input (the fields its function reads), and what it returns. */
struct admin_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct act_by *by;
	const struct anfu_admin_create *create;
	const struct admin_action *action;
	const char *user_id;
	const struct temp_pw *t;
	const struct handover *h;
	const char *reason;
	int64_t expires_ms;
	bool reset;
	json_t *out;
	struct anfu_iam_err *err;
};

static int create_tx(struct anfu_tx *tx, void *ud)
{
	struct admin_op *c = ud;

	return create_merchant(c->iam, tx, c->ctx, c->p, c->create, &c->out, c->err);
}

int anfu_iam_admin_create_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const struct anfu_admin_create *c,
			       json_t **ret, struct anfu_iam_err *err)
{
	struct admin_op op = { .iam = iam, .ctx = ctx, .p = p, .create = c, .err = err };
	int r;

	if (!iam || !p || !c || !ret)
		return ANFU_EINVAL;
	if (!may_create_merchant_user(p, c)) {
		err_set(err, "forbidden", NULL);
		iam_audit_denied(iam, ctx, p, "user.created", "user", "", "forbidden");
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		err_set(err, "step_up_required", NULL);
		iam_audit_denied(iam, ctx, p, "user.created", "user", "", "step_up_required");
		return ANFU_EPERM;
	}
	r = iam_tx(iam, create_tx, &op, err);
	if (r < 0) {
		json_decref(op.out);
		return r;
	}
	*ret = op.out;
	return 0;
}

/* ---- account actions ------------------------------------------------------------------- */

struct admin_action {
	const char *name;
	const char *perm;
	bool not_self;
	const char *audit;
	const char *sql; /* $1 user id, $2 now (when nparams is 2) */
	int nparams;
	const char *end_sessions; /* reason, or NULL */
	const char *notice;	  /* template told to the user, or NULL */
};

static const struct admin_action actions[] = {
	{ "disable", "iam.user.disable", true, "user.disabled",
	  "UPDATE iam_user SET status = 'disabled' WHERE id = $1 AND status <> 'disabled'", 1,
	  "account_disabled", "account_disabled" },
	{ "enable", "iam.user.disable", true, "user.enabled",
	  "UPDATE iam_user SET status = 'active' WHERE id = $1 AND status = 'disabled'", 1, NULL,
	  NULL },
	{ "unlock", "iam.user.unlock", true, "user.unlocked",
	  "UPDATE iam_user SET status = CASE WHEN status = 'locked' THEN 'active' "
	  "ELSE status END, locked_until_ms = NULL, failures = 0 WHERE id = $1",
	  1, NULL, "account_unlocked" },
	/* IAM-PWD-15: the user must change it at the next login, and that
	 * change is recorded as forced (IAM-PWD-11). */
	{ "force_password_change", "iam.user.force_password", false, "user.password_change_forced",
	  "UPDATE iam_user SET pwd_must_change = 1, pwd_forced_ms = $2 WHERE id = $1", 2,
	  "password_change_forced", "password_change_forced" },
};

static const struct admin_action *action_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

/* True when p acts as a merchant administrator (merchant.staff.manage):
 * it may disable and enable merchant_staff of its own merchant, which it
 * created (IAM-RBAC-05: a delegation that can be revoked). */
static bool merchant_delegate(const struct anfu_principal *p, const struct admin_action *a)
{
	return p->kind == ANFU_USER_MERCHANT && anfu_principal_can(p, "merchant.staff.manage") &&
	       (strcmp(a->name, "disable") == 0 || strcmp(a->name, "enable") == 0);
}

/* Object-level rules, with the target loaded. */
static int act_allowed(struct anfu_db *db, const struct admin_action *a,
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
	err_set(err, "forbidden", NULL);
	return ANFU_EPERM;
}

/* Tells the user what an administrator did, on the bound channels. */
static int act_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct admin_action *a,
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

/* Who acts on an account: an administrator directly (p), or the checker
 * (id) of the approval approval_id that carries the change out. */
struct act_by {
	const struct anfu_principal *p;
	const char *id;
	const char *approval_id;
};

static const char *by_id(const struct act_by *by)
{
	return by->p ? by->p->user_id : by->id;
}

/* Audits a change of user_id by by (details d, borrowed; the approval is
 * added when there is one), in the caller's transaction. */
static int by_audit(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		    const struct act_by *by, const char *action, const char *user_id, json_t *d)
{
	if (by->approval_id)
		anfu_json_set(d, "approval_id", json_string(by->approval_id));
	return iam_audit(iam, tx, ctx, by->p, by->p ? NULL : by->id, action, "user", user_id,
			 "success", d);
}

/* Applies a to u (loaded, allowed) in the caller's transaction: the
 * change, the end of its sessions, the audit record, the notice. */
static int act_write(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct act_by *by, const struct admin_action *a,
		     const struct iam_user *u, const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_param q[2] = { iam_ps(u->id), ANFU_PI(anfu_clock_now_ms()) };
	int64_t changes = 0;
	json_t *d = NULL;
	int r = anfu_db_exec(db, a->sql, q, a->nparams, NULL, NULL, &changes);

	if (r == 0 && changes == 0) {
		err_set(err, "conflict", NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0 && a->end_sessions)
		r = iam_session_end(iam, db, u->id, NULL, NULL, a->end_sessions);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:s}", "action", a->name, "reason", reason, "kind",
		      kind_name(u->kind));
	if (!d)
		abort();
	r = by_audit(iam, tx, ctx, by, a->audit, u->id, d);
	if (r == 0)
		r = act_notice(iam, tx, a, u->id);
	json_decref(d);
	return r;
}

static int act_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const struct admin_action *a,
		     const char *user_id, const char *reason, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct act_by by = { p, NULL, NULL };
	struct iam_user u;
	int r;

	memset(&u, 0, sizeof(u));
	r = iam_user_load(db, user_id, &u);
	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", NULL);
	if (r == 0)
		r = act_allowed(db, a, p, &u, err);
	if (r == 0 && strcmp(a->name, "unlock") == 0 &&
	    strcmp(iam_user_state(&u, anfu_clock_now_ms()), "locked") != 0) {
		err_set(err, "conflict", NULL);
		r = ANFU_ECONFLICT;
	}
	if (r == 0)
		r = act_write(iam, tx, ctx, &by, a, &u, reason, err);
	iam_user_clear(&u);
	return r;
}

/* The checks every operation on one account makes before it reads
 * anything: a reason, the permission (perm, or allowed for another cause),
 * a second factor within mfa.stepup_window (IAM-MFA-02). Refusals of the
 * permission or the step-up are audited as denied under action. */
static int admin_gate(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *perm, bool allowed,
		      const char *action, const char *user_id, const char *reason,
		      struct anfu_iam_err *err)
{
	if (!reason || !reason[0] || strlen(reason) > ADMIN_REASON_MAX) {
		err_set(err, reason && reason[0] ? ANFU_JERR_OUT_OF_RANGE : ANFU_JERR_MISSING_FIELD,
			"reason");
		return ANFU_EINVAL;
	}
	if (!allowed && !anfu_principal_can(p, perm)) {
		err_set(err, "forbidden", NULL);
		iam_audit_denied(iam, ctx, p, action, "user", user_id, "forbidden");
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		err_set(err, "step_up_required", NULL);
		iam_audit_denied(iam, ctx, p, action, "user", user_id, "step_up_required");
		return ANFU_EPERM;
	}
	return 0;
}

/* Files the four-eyes request that changes a staff account instead of
 * changing it (IAM-ACCT-03): payload (consumed) names the account. */
static int file_staff(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_principal *p, const char *type, json_t *payload,
		      json_t **ret_approval, struct anfu_iam_err *err)
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
			  const struct anfu_principal *p, const struct admin_action *a,
			  const struct iam_user *u, const char *reason, json_t **ret_approval,
			  struct anfu_iam_err *err)
{
	int r = act_allowed(db, a, p, u, err);

	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, a->audit, "user", u->id, "forbidden");
	if (r < 0)
		return r;
	return file_staff(
		iam, ctx, p, strcmp(a->name, "disable") == 0 ? "disable_staff" : "enable_staff",
		json_pack("{s:s,s:s}", "user_id", u->id, "reason", reason), ret_approval, err);
}

static bool staff_gated(const struct admin_action *a)
{
	return strcmp(a->name, "disable") == 0 || strcmp(a->name, "enable") == 0;
}

static int act_tx(struct anfu_tx *tx, void *ud)
{
	const struct admin_op *c = ud;

	return act_apply(c->iam, tx, c->ctx, c->p, c->action, c->user_id, c->reason, c->err);
}

int anfu_iam_admin_act(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *p, const char *user_id, const char *action,
		       const char *reason, json_t **ret_approval, struct anfu_iam_err *err)
{
	const struct admin_action *a = action_find(action);
	struct admin_op op = { .iam = iam,
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
	*ret_approval = NULL;
	if (!a) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "action");
		return ANFU_EINVAL;
	}
	r = admin_gate(iam, ctx, p, a->perm, merchant_delegate(p, a), a->audit, user_id, reason,
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
		iam_audit_denied(iam, ctx, p, a->audit, "user", user_id, "forbidden");
	return r;
}

/* ---- temporary password ---------------------------------------------------------------- */

/* What the first, read-only phase of a reset found out: the target, where
 * its password goes, and the new password's hash (made outside the write
 * transaction: Argon2id takes 50-200 ms). */
struct temp_pw {
	struct iam_user u;
	struct iam_personal pe;
	const char *channel; /* "email" or "sms" */
	const char *target;  /* borrowed from pe */
	char pw[IAM_INITIAL_PASSWORD_MAX];
	char hash[ANFU_PWHASH_STR_LEN];
};

static void temp_pw_clear(struct temp_pw *t)
{
	iam_user_clear(&t->u);
	iam_personal_clear(&t->pe);
	anfu_wipe(t->pw, sizeof(t->pw));
}

/* For t->u (loaded): where the password goes, the password and its hash. */
static int temp_pw_make(struct anfu_iam *iam, struct anfu_db *db, struct temp_pw *t,
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
		err_set(err, "no_delivery_channel", NULL);
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
			   const char *user_id, struct temp_pw *t, struct anfu_iam_err *err)
{
	int r = iam_user_load(db, user_id, &t->u);

	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", NULL);
	if (r < 0)
		return r;
	/* Not one's own (that is /me/password); staff only by an administrator. */
	if (strcmp(p->user_id, t->u.id) == 0 ||
	    (t->u.kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN)) {
		err_set(err, "forbidden", NULL);
		return ANFU_EPERM;
	}
	return temp_pw_make(iam, db, t, err);
}

/* In the write transaction: the new password with a forced change, every
 * session ended, the password queued to the user, the audit record. */
static int temp_pw_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct act_by *by, const struct temp_pw *t, const char *reason,
			 struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *args[2] = { t->pe.login, t->pw };
	json_t *d;
	int r = iam_password_store(db, t->u.id, "login", t->hash, "admin_reset", by_id(by), true,
				   anfu_clock_now_ms());

	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", NULL);
	if (r == 0)
		r = iam_session_end(iam, db, t->u.id, NULL, NULL, "password_reset_by_admin");
	if (r == 0)
		r = iam_notice_to(iam, tx, t->u.id, t->channel, t->target, t->u.lang,
				  "temporary_password", args, 2);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:s,s:s,s:b}", "action", "reset_password", "reason", reason, "kind",
		      kind_name(t->u.kind), "delivered_to", t->channel, "must_change", 1);
	if (!d)
		abort();
	r = by_audit(iam, tx, ctx, by, "user.password_reset_by_admin", t->u.id, d);
	json_decref(d);
	return r;
}

static int temp_pw_tx(struct anfu_tx *tx, void *ud)
{
	const struct admin_op *c = ud;

	return temp_pw_apply(c->iam, tx, c->ctx, c->by, c->t, c->reason, c->err);
}

int anfu_iam_admin_reset_password(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *user_id,
				  const char *reason, const char **ret_channel,
				  struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.password_reset_by_admin";
	const struct act_by by = { p, NULL, NULL };
	struct admin_op op;
	struct anfu_db *db = NULL;
	struct temp_pw t;
	int r;

	if (!iam || !p || !user_id || !ret_channel)
		return ANFU_EINVAL;
	r = admin_gate(iam, ctx, p, "iam.user.force_password", false, audit_action, user_id, reason,
		       err);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&t, 0, sizeof(t));
	r = temp_pw_prepare(iam, db, p, user_id, &t, err);
	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, audit_action, "user", user_id, "forbidden");
	if (r < 0)
		goto out;
	op = (struct admin_op){
		.iam = iam, .ctx = ctx, .by = &by, .t = &t, .reason = reason, .err = err
	};
	r = iam_tx(iam, temp_pw_tx, &op, err);
	if (r < 0)
		goto out;
	*ret_channel = t.channel;
out:
	temp_pw_clear(&t);
	return r;
}

/* ---- validity period ----------------------------------------------------------------- */

/* Whether changing u's end to expires_ms retains a temporary account past
 * the end it had (or revives an expired one): then its password must be
 * reset (IAM-ACCT-07). */
static bool retains_temporary(const struct iam_user *u, int64_t expires_ms)
{
	return u->temporary && (expires_ms == 0 || expires_ms > u->expires_ms);
}

/* In the write transaction: the new end, the reset when retained, the
 * audit record. */
static int validity_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const struct act_by *by, const struct temp_pw *t, int64_t expires_ms,
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
		err_set(err, "conflict", NULL); /* changed meanwhile */
		r = ANFU_ECONFLICT;
	}
	if (r == 0 && reset)
		r = temp_pw_apply(iam, tx, ctx, by, t, reason, err);
	if (r < 0)
		return r;
	d = json_pack("{s:s,s:s,s:o,s:o,s:b,s:b}", "reason", reason, "kind", kind_name(t->u.kind),
		      "old_expires_ms",
		      t->u.expires_ms ? json_integer(t->u.expires_ms) : json_null(),
		      "new_expires_ms", expires_ms ? json_integer(expires_ms) : json_null(),
		      "temporary", t->u.temporary, "temporary_issued", reset);
	if (!d)
		abort();
	r = by_audit(iam, tx, ctx, by, "user.validity_changed", t->u.id, d);
	json_decref(d);
	return r;
}

static int validity_tx(struct anfu_tx *tx, void *ud)
{
	const struct admin_op *c = ud;

	return validity_apply(c->iam, tx, c->ctx, c->by, c->t, c->expires_ms, c->reset, c->reason,
			      c->err);
}

int anfu_iam_admin_set_validity(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				const struct anfu_principal *p, const char *user_id,
				int64_t expires_ms, const char *reason, const char **ret_channel,
				json_t **ret_approval, struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.validity_changed";
	const struct act_by by = { p, NULL, NULL };
	struct admin_op op;
	struct anfu_db *db = NULL;
	struct acct_fields f;
	struct temp_pw t;
	bool reset = false;
	int r;

	if (!iam || !p || !user_id || !ret_channel || !ret_approval)
		return ANFU_EINVAL;
	*ret_channel = NULL;
	*ret_approval = NULL;
	r = admin_gate(iam, ctx, p, "iam.user.create", false, audit_action, user_id, reason, err);
	if (r < 0)
		return r;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	r = iam_user_load(db, user_id, &t.u);
	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", NULL);
	if (r < 0)
		goto out;
	/* Customers have no validity period; staff are administrators'. */
	if (t.u.kind == ANFU_USER_CUSTOMER || strcmp(p->user_id, t.u.id) == 0 ||
	    (t.u.kind == ANFU_USER_STAFF && p->role_class != ANFU_CLASS_ADMIN)) {
		err_set(err, "forbidden", NULL);
		iam_audit_denied(iam, ctx, p, audit_action, "user", user_id, "forbidden");
		r = ANFU_EPERM;
		goto out;
	}
	r = check_validity(iam, expires_ms, t.u.temporary, &f, err);
	if (r < 0)
		goto out;
	if (t.u.kind == ANFU_USER_STAFF) {
		r = file_staff(iam, ctx, p, "staff_validity",
			       json_pack("{s:s,s:I,s:s}", "user_id", user_id, "expires_ms",
					 (json_int_t)expires_ms, "reason", reason),
			       ret_approval, err);
		goto out;
	}
	reset = retains_temporary(&t.u, expires_ms);
	if (reset) {
		/* temp_pw_prepare loads the account again, with its data. */
		iam_user_clear(&t.u);
		r = temp_pw_prepare(iam, db, p, user_id, &t, err);
		if (r < 0)
			goto out;
	}
	op = (struct admin_op){ .iam = iam,
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
	*ret_channel = t.channel;
out:
	temp_pw_clear(&t);
	return r;
}

/* ---- handover (IAM-ACCT-12, IAM-ACCT-01) ----------------------------------------------- */

/* Longest name of a responsible person kept, in bytes. */
#define RESPONSIBLE_MAX 64

struct handover {
	struct temp_pw t;     /* the account, and the password for the new person */
	struct acct_fields f; /* the new person's email and/or phone, normalised */
	const char *name;     /* the new responsible person */
	char email_idx[IAM_HASH_HEX], phone_idx[IAM_HASH_HEX];
	char email_login[IAM_HASH_HEX], phone_login[IAM_HASH_HEX];
};

/* Blind indexes of the new contacts, as contact and as login name. */
static int handover_indexes(struct anfu_iam *iam, struct handover *h)
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
		err_set(err, "forbidden", NULL);
		return ANFU_EPERM;
	}
	return 0;
}

/* For h->t.u (loaded): the new person's password, made for them (its
 * policy checks the new person's data), and where it goes. */
static int handover_make(struct anfu_iam *iam, struct anfu_db *db, struct handover *h)
{
	enum anfu_role_class cls = ANFU_CLASS_MERCHANT;
	struct anfu_pw_personal pd;
	struct temp_pw *t = &h->t;
	int r = iam_user_class(db, &t->u, &cls);

	if (r == 0)
		r = iam_personal_load(iam, db, &t->u, &t->pe);
	if (r == 0)
		r = handover_indexes(iam, h);
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
static int handover_free(struct anfu_db *db, const struct handover *h, struct anfu_iam_err *err)
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
		err_set(err, "already_exists", h->f.has_email ? "email" : "phone");
		r = ANFU_EEXIST;
	}
	return r;
}

/* Tells the contacts of the person who had the account that it is theirs
 * no longer. */
static int handover_tell_old(struct anfu_iam *iam, struct anfu_tx *tx, const struct handover *h)
{
	const struct temp_pw *t = &h->t;
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
static int handover_apply(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const struct act_by *by, const struct handover *h, const char *reason,
			  struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct temp_pw *t = &h->t;
	char *name_enc = NULL, *email_enc = NULL, *phone_enc = NULL;
	json_t *d;
	int r = handover_free(db, h, err);

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
		err_set(err, "already_exists", h->f.has_email ? "email" : "phone");
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
	d = json_pack("{s:s,s:s,s:s,s:b}", "reason", reason, "kind", kind_name(t->u.kind),
		      "delivered_to", t->channel, "authenticator_cleared", t->u.totp_confirmed);
	if (!d)
		abort();
	r = by_audit(iam, tx, ctx, by, "user.handed_over", t->u.id, d);
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
	const struct admin_op *c = ud;

	return handover_apply(c->iam, tx, c->ctx, c->by, c->h, c->reason, c->err);
}

int anfu_iam_admin_handover(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const struct anfu_admin_handover *in,
			    const char **ret_channel, json_t **ret_approval,
			    struct anfu_iam_err *err)
{
	static const char audit_action[] = "user.handed_over";
	const struct act_by by = { p, NULL, NULL };
	struct admin_op op;
	struct anfu_db *db = NULL;
	struct handover h;
	int r;

	if (!iam || !p || !in || !in->user_id || !ret_channel || !ret_approval)
		return ANFU_EINVAL;
	*ret_channel = NULL;
	*ret_approval = NULL;
	if (!in->responsible_name || !in->responsible_name[0] ||
	    strlen(in->responsible_name) > RESPONSIBLE_MAX) {
		err_set(err,
			in->responsible_name && in->responsible_name[0] ? ANFU_JERR_OUT_OF_RANGE
									: ANFU_JERR_MISSING_FIELD,
			"responsible_name");
		return ANFU_EINVAL;
	}
	memset(&h, 0, sizeof(h));
	h.name = in->responsible_name;
	r = check_channel(in->email, in->phone, &h.f, err);
	if (r == 0)
		r = admin_gate(iam, ctx, p, "iam.user.create", false, audit_action, in->user_id,
			       in->reason, err);
	if (r == 0)
		r = iam_db(iam, &db);
	if (r < 0)
		return r;
	r = iam_user_load(db, in->user_id, &h.t.u);
	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", NULL);
	if (r == 0)
		r = handover_allowed(p, &h.t.u, err);
	if (r == ANFU_EPERM)
		iam_audit_denied(iam, ctx, p, audit_action, "user", in->user_id, "forbidden");
	if (r < 0)
		goto out;
	/* A staff account changes hands only through four eyes, and the
	 * checker confirms where its password goes (IAM-ACCT-03). */
	if (h.t.u.kind == ANFU_USER_STAFF) {
		r = file_staff(iam, ctx, p, "handover_staff", handover_payload(in), ret_approval,
			       err);
		goto out;
	}
	r = handover_make(iam, db, &h);
	if (r < 0)
		goto out;
	op = (struct admin_op){
		.iam = iam, .ctx = ctx, .by = &by, .h = &h, .reason = in->reason, .err = err
	};
	r = iam_tx(iam, handover_tx, &op, err);
	if (r < 0)
		goto out;
	*ret_channel = h.t.channel;
out:
	temp_pw_clear(&h.t);
	return r;
}

/* ---- changes of staff accounts through four eyes (IAM-ACCT-03) ------------------------- */

/* A confirmed contact: present in the payload and in the checker's
 * confirmation, or in neither, and the same once normalised. */
static int norm_contact(const char *key, const char *v, char out[256])
{
	const char *kind = NULL;

	if (strcmp(key, "email") == 0)
		return anfu_valid_email(v, strlen(v)) &&
				       iam_login_normalize(v, out, 256, &kind) == 0
			       ? 0
			       : ANFU_EINVAL;
	return anfu_valid_mobile_cn(v, strlen(v)) &&
			       anfu_mobile_normalize(v, strlen(v), out, 256) == 0
		       ? 0
		       : ANFU_EINVAL;
}

static int confirm_one(const json_t *payload, const json_t *confirm, const char *key,
		       const char *field, struct anfu_iam_err *err)
{
	const char *want = json_string_value(json_object_get(payload, key));
	const json_t *v = json_is_object(confirm) ? json_object_get(confirm, key) : NULL;
	const char *got = json_string_value(v);
	char a[256], b[256];

	if (v && !json_is_null(v) && (!got || norm_contact(key, got, b) < 0)) {
		err_set(err, ANFU_JERR_INVALID_FIELD, field);
		return ANFU_EINVAL;
	}
	if (!want && !got)
		return 0;
	if (want && !got) {
		err_set(err, ANFU_JERR_MISSING_FIELD, field);
		return ANFU_EINVAL;
	}
	if (!want || norm_contact(key, want, a) < 0 || strcmp(a, b) != 0) {
		err_set(err, "confirmation_mismatch", field);
		return ANFU_ECONFLICT;
	}
	return 0;
}

/* The checker types the new person's email and/or phone again: a
 * credential never goes to a channel that only the maker named. */
static int contacts_confirm(const json_t *payload, const json_t *confirm, struct anfu_iam_err *err)
{
	int r = confirm_one(payload, confirm, "email", "confirm_email", err);

	if (r == 0)
		r = confirm_one(payload, confirm, "phone", "confirm_phone", err);
	return r;
}

/* A request about one staff account: its id, the reason, the account. */
struct staff_req {
	const char *user_id;
	const char *reason;
	struct iam_user u;
};

/* Reads user_id and reason (both required) of a payload whose keys are
 * among keys, and loads the account, which must be staff. */
static int staff_parse(struct anfu_db *db, const json_t *payload, const char *const *keys,
		       size_t nkeys, struct staff_req *q, struct anfu_iam_err *err)
{
	int r = keys_allowed(payload, keys, nkeys, err);

	if (r == 0)
		r = opt_string(payload, "user_id", ANFU_ID_MAX - 1, &q->user_id, err);
	if (r == 0)
		r = opt_string(payload, "reason", ADMIN_REASON_MAX, &q->reason, err);
	if (r < 0)
		return r;
	if (!q->user_id || !q->reason) {
		err_set(err, ANFU_JERR_MISSING_FIELD, q->user_id ? "reason" : "user_id");
		return ANFU_EINVAL;
	}
	if (!anfu_id_valid("usr", q->user_id, strlen(q->user_id))) {
		err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		return ANFU_EINVAL;
	}
	r = iam_user_load(db, q->user_id, &q->u);
	if (r == ANFU_ENOTFOUND)
		err_set(err, "not_found", "user_id");
	if (r == 0 && q->u.kind != ANFU_USER_STAFF) {
		/* Other accounts change at once, without a request. */
		err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		r = ANFU_EINVAL;
	}
	return r;
}

/* ---- disable_staff / enable_staff ---- */

/* The action a disable_staff (or enable_staff) request carries out, and
 * whether the account is in the state it applies to. */
static const struct admin_action *state_action(bool disable, const struct iam_user *u,
					       struct anfu_iam_err *err)
{
	bool disabled = strcmp(u->status, "disabled") == 0;

	if (disable == disabled) {
		err_set(err, "conflict", NULL);
		return NULL;
	}
	return action_find(disable ? "disable" : "enable");
}

static int state_check(struct anfu_db *db, const json_t *payload, bool disable, struct staff_req *q,
		       const struct admin_action **ret, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "reason" };
	const struct admin_action *a;
	int r = staff_parse(db, payload, keys, 2, q, err);

	if (r < 0)
		return r;
	a = state_action(disable, &q->u, err);
	if (!a)
		return ANFU_ECONFLICT;
	*ret = a;
	return 0;
}

static int state_validate(struct anfu_db *db, const json_t *payload, bool disable, char *summary,
			  size_t cap, struct anfu_iam_err *err)
{
	const struct admin_action *a = NULL;
	struct staff_req q;
	int r;

	memset(&q, 0, sizeof(q));
	r = state_check(db, payload, disable, &q, &a, err);
	if (r == 0)
		(void)snprintf(summary, cap, "%s staff account %s", disable ? "disable" : "enable",
			       q.user_id);
	iam_user_clear(&q.u);
	return r;
}

static int disable_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			    char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	return state_validate(db, payload, true, summary, cap, err);
}

static int enable_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			   char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	return state_validate(db, payload, false, summary, cap, err);
}

/* Disables or enables the account as the checker, as a direct action does
 * (sessions ended, the user told, audited with the approval). */
static int state_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const char *approval_id, const json_t *payload, bool disable,
			 json_t **result, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const struct admin_action *a = NULL;
	char checker[ANFU_ID_MAX];
	struct act_by by = { NULL, checker, approval_id };
	struct staff_req q;
	int r;

	memset(&q, 0, sizeof(q));
	r = state_check(db, payload, disable, &q, &a, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = act_write(iam, tx, ctx, &by, a, &q.u, q.reason, err);
	if (r == 0) {
		*result = json_pack("{s:s,s:s}", "user_id", q.user_id, "status",
				    disable ? "disabled" : "active");
		if (!*result)
			abort();
	}
	iam_user_clear(&q.u);
	return r;
}

static int disable_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			   const char *approval_id, const json_t *payload, json_t **result,
			   struct anfu_iam_err *err)
{
	return state_execute(iam, tx, ctx, approval_id, payload, true, result, err);
}

static int enable_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			  const char *approval_id, const json_t *payload, json_t **result,
			  struct anfu_iam_err *err)
{
	return state_execute(iam, tx, ctx, approval_id, payload, false, result, err);
}

/* ---- staff_validity ---- */

struct validity_req {
	struct staff_req q;
	int64_t expires_ms;
	bool reset; /* a temporary account retained: its password is reset */
};

static int validity_check(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  struct validity_req *v, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "expires_ms", "reason" };
	const json_t *exp = json_object_get(payload, "expires_ms");
	struct acct_fields f;
	int r = staff_parse(db, payload, keys, 3, &v->q, err);

	if (r < 0)
		return r;
	if (!exp || !json_is_integer(exp)) {
		err_set(err, exp ? ANFU_JERR_INVALID_FIELD : ANFU_JERR_MISSING_FIELD, "expires_ms");
		return ANFU_EINVAL;
	}
	v->expires_ms = json_integer_value(exp);
	memset(&f, 0, sizeof(f));
	r = check_validity(iam, v->expires_ms, v->q.u.temporary, &f, err);
	if (r < 0)
		return r;
	v->reset = retains_temporary(&v->q.u, v->expires_ms);
	if (v->reset && !v->q.u.email_enc && !v->q.u.phone_enc) {
		err_set(err, "no_delivery_channel", NULL);
		return ANFU_ECONFLICT;
	}
	return 0;
}

static int validity_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			     char *summary, size_t cap, struct anfu_iam_err *err)
{
	struct validity_req v;
	char until[32] = "none";
	int r;

	memset(&v, 0, sizeof(v));
	r = validity_check(iam, db, payload, &v, err);
	if (r == 0) {
		if (v.expires_ms)
			iam_time_text(v.expires_ms, until);
		(void)snprintf(summary, cap, "change the validity of staff account %s to %s%s",
			       v.q.user_id, until,
			       v.reset ? " (temporary password to its own channel)" : "");
	}
	iam_user_clear(&v.q.u);
	return r;
}

static int validity_execute(struct anfu_iam *iam, struct anfu_tx *tx,
			    const struct anfu_iam_ctx *ctx, const char *approval_id,
			    const json_t *payload, json_t **result, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char checker[ANFU_ID_MAX];
	struct act_by by = { NULL, checker, approval_id };
	struct validity_req v;
	struct temp_pw t;
	int r;

	memset(&v, 0, sizeof(v));
	memset(&t, 0, sizeof(t));
	r = validity_check(iam, db, payload, &v, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = iam_user_load(db, v.q.user_id, &t.u);
	if (r == 0 && v.reset)
		r = temp_pw_make(iam, db, &t, err);
	if (r == 0)
		r = validity_apply(iam, tx, ctx, &by, &t, v.expires_ms, v.reset, v.q.reason, err);
	if (r == 0) {
		*result = json_pack("{s:s,s:o,s:b,s:o}", "user_id", v.q.user_id, "expires_at_ms",
				    v.expires_ms ? json_integer(v.expires_ms) : json_null(),
				    "password_reset", v.reset, "delivered_to",
				    t.channel ? json_string(t.channel) : json_null());
		if (!*result)
			abort();
	}
	temp_pw_clear(&t);
	iam_user_clear(&v.q.u);
	return r;
}

/* ---- handover_staff ---- */

/* Reads a handover_staff payload into h (h->t.u: the account) and checks
 * that the new contacts belong to no other account. */
static int handover_check(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  struct staff_req *q, struct handover *h, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "responsible_name", "email", "phone",
					    "reason" };
	const char *email = NULL, *phone = NULL;
	int r = staff_parse(db, payload, keys, 5, q, err);

	if (r == 0)
		r = opt_string(payload, "responsible_name", RESPONSIBLE_MAX, &h->name, err);
	if (r == 0 && !h->name) {
		err_set(err, ANFU_JERR_MISSING_FIELD, "responsible_name");
		r = ANFU_EINVAL;
	}
	if (r == 0)
		r = opt_string(payload, "email", 254, &email, err);
	if (r == 0)
		r = opt_string(payload, "phone", 32, &phone, err);
	if (r == 0)
		r = check_channel(email, phone, &h->f, err);
	if (r == 0)
		r = iam_user_load(db, q->user_id, &h->t.u);
	if (r == 0)
		r = handover_indexes(iam, h);
	if (r == 0)
		r = handover_free(db, h, err);
	return r;
}

static int handover_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			     char *summary, size_t cap, struct anfu_iam_err *err)
{
	char to[ANFU_MASK_MAX + 8];
	struct staff_req q;
	struct handover h;
	int r;

	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	r = handover_check(iam, db, payload, &q, &h, err);
	if (r == 0) {
		masked_delivery(&h.f, to, sizeof(to));
		(void)snprintf(summary, cap,
			       "hand staff account %s over to a new person (temporary password "
			       "to %s)",
			       q.user_id, to);
	}
	temp_pw_clear(&h.t);
	iam_user_clear(&q.u);
	return r;
}

static int handover_execute(struct anfu_iam *iam, struct anfu_tx *tx,
			    const struct anfu_iam_ctx *ctx, const char *approval_id,
			    const json_t *payload, json_t **result, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char checker[ANFU_ID_MAX];
	struct act_by by = { NULL, checker, approval_id };
	struct staff_req q;
	struct handover h;
	int r;

	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	r = handover_check(iam, db, payload, &q, &h, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = handover_make(iam, db, &h);
	if (r == 0)
		r = handover_apply(iam, tx, ctx, &by, &h, q.reason, err);
	if (r == 0) {
		*result = json_pack("{s:s,s:s,s:b}", "user_id", q.user_id, "delivered_to",
				    h.t.channel, "must_change", 1);
		if (!*result)
			abort();
	}
	temp_pw_clear(&h.t);
	iam_user_clear(&q.u);
	return r;
}

/* ---- the types (iam's module descriptor registers them) ---- */

/* The account a request changes (its owner may neither decide it nor, for
 * the staff types, file it). */
static const char *user_subject(const json_t *payload)
{
	return json_string_value(json_object_get(payload, "user_id"));
}

#define STAFF_PREFIX "iam.approval.staff_account"

static const struct anfu_approval_type admin_types[] = {
	{ "create_operator", "iam.approval.create_operator", op_validate, op_execute, NULL,
	  contacts_confirm, false },
	{ "grant_role", "iam.approval.grant_role", grant_validate, grant_execute, user_subject,
	  NULL, false },
	{ "revoke_role", "iam.approval.grant_role", revoke_validate, revoke_execute, user_subject,
	  NULL, false },
	{ "disable_staff", STAFF_PREFIX, disable_validate, disable_execute, user_subject, NULL,
	  true },
	{ "enable_staff", STAFF_PREFIX, enable_validate, enable_execute, user_subject, NULL, true },
	{ "staff_validity", STAFF_PREFIX, validity_validate, validity_execute, user_subject, NULL,
	  true },
	{ "handover_staff", STAFF_PREFIX, handover_validate, handover_execute, user_subject,
	  contacts_confirm, true },
};

const struct anfu_approval_table anfu_iam_approvals = {
	admin_types,
	sizeof(admin_types) / sizeof(admin_types[0]),
};
