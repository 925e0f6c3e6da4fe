/*
 * iam/admin_types: the approval types that gate staff accounts and role
 * changes (IAM-ACCT-02, -03, IAM-RBAC-02, IAM-SOD-01, -03): their
 * validate and execute functions and the table iam's module descriptor
 * registers (anfu_iam_approvals).
 *
 * Owns the approval types "create_operator", "grant_role", "revoke_role",
 * "disable_staff", "enable_staff", "staff_validity" and "handover_staff".
 * Trusts approval.c to call validate when a request is filed and execute,
 * inside the deciding transaction, when a checker (not the maker, not the
 * account the request is about) approves it. Trusts nothing in an
 * approval payload: payloads are read from an allowlist of keys and
 * validated again at execution, since the world may have changed between
 * filing and approval. A change made by an approval is recorded as the
 * checker's (iam_approval_checker), with the approval's id.
 *
 * Where a request delivers a credential (a new operator's initial
 * password, a handover's temporary password), the checker must type the
 * email and/or phone again (contacts_confirm), so a credential never goes
 * to a channel that only the maker named. The changes themselves are the
 * direct operations' (admin_actions.c, admin_tenure.c, admin_users.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/validate.h"
#include "iam/admin.h"
#include "iam/admin_internal.h"
#include "iam/approval.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/rbac.h"
#include "iam/status.h"

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
			iam_err_set(err, ANFU_JERR_UNKNOWN_FIELD, "payload");
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

	if (!v || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, key);
		return ANFU_EINVAL;
	}
	*ret = json_string_value(v);
	return 0;
}

static void masked_name(const char *login, char out[ANFU_MASK_MAX])
{
	if (anfu_mask_nickname(login, strlen(login), out, ANFU_MASK_MAX) < 0)
		(void)snprintf(out, ANFU_MASK_MAX, "***");
}

/* ---- create_operator ------------------------------------------------------------- */

struct op_req {
	struct iam_acct_fields f;
	const char *roles[ANFU_LIMIT_OPERATOR_ROLES];
	size_t nroles;
};

static int op_roles(const json_t *payload, struct op_req *q, struct anfu_iam_err *err)
{
	const json_t *a = json_object_get(payload, "roles");
	size_t n = json_array_size(a);

	if (!a) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "roles");
		return ANFU_EINVAL;
	}
	if (!json_is_array(a) || n == 0 || n > ANFU_LIMIT_OPERATOR_ROLES)
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
	iam_err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
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
		iam_err_set(err, ANFU_JERR_INVALID_FIELD,
			    exp && !json_is_integer(exp) ? "expires_ms" : "temporary");
		return ANFU_EINVAL;
	}
	r = iam_admin_check_account(iam, username, email, phone, exp ? json_integer_value(exp) : 0,
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
			iam_err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
			return ANFU_EINVAL;
		}
	}
	r = anfu_rbac_check_set(db, q->roles, q->nroles, reason, sizeof(reason));
	if (r == ANFU_ECONFLICT)
		iam_err_set(err, ANFU_R_ROLE_CONFLICT, "roles");
	if (r < 0)
		return r;
	return iam_admin_login_free(iam, db, q->f.login, err);
}

static int op_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
		       char *summary, size_t cap, struct anfu_iam_err *err)
{
	struct op_req q;
	char masked[ANFU_MASK_MAX], to[ANFU_MASK_MAX + 8];
	char roles[ANFU_LIMIT_OPERATOR_ROLES * ANFU_PERM_NAME_MAX] = "";
	size_t used = 0;
	int r;

	memset(&q, 0, sizeof(q));
	r = op_parse(iam, payload, &q, err);
	if (r == 0)
		r = op_check(iam, db, &q, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < q.nroles; i++) {
		used += (size_t)snprintf(roles + used, sizeof(roles) - used, "%s%s", i ? "," : "",
					 q.roles[i]);
		/* op_roles() bounds the count and each name's length. */
		ANFU_ASSERT(used < sizeof(roles));
	}
	masked_name(q.f.login, masked);
	iam_admin_masked_delivery(&q.f, to, sizeof(to));
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
				       iam_admin_lang(ctx),
				       q->f.expires_ms,
				       q->f.temporary,
				       by,
				       checker,
				       approval_id };
	r = iam_account_create(iam, db, &s, pw, sizeof(pw), id);
	if (r < 0) {
		iam_admin_account_err(r, &q->f, err);
		goto out;
	}
	r = iam_admin_deliver_initial(iam, tx, id, &q->f, iam_admin_lang(ctx), pw, ret_channel);
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
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, q->user_id ? "role" : "user_id");
		return ANFU_EINVAL;
	}
	if (!anfu_id_valid("usr", q->user_id, strlen(q->user_id))) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		return ANFU_EINVAL;
	}
	r = iam_user_load(db, q->user_id, &q->u);
	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, "user_id");
	return r;
}

static int role_held(struct anfu_db *db, const char *user_id, const char *role, bool *ret)
{
	char roles[512];
	size_t n = strlen(role);
	bool held = false;
	int r = anfu_rbac_roles(db, user_id, roles, sizeof(roles));

	if (r < 0)
		return r;
	for (const char *s = roles; *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == n && memcmp(s, role, n) == 0)
			held = true;
		s += len + (e ? 1 : 0);
	}
	*ret = held;
	return 0;
}

static int grant_check(struct anfu_db *db, struct role_req *q, struct anfu_iam_err *err)
{
	char reason[128];
	bool ok = false;
	int r = anfu_rbac_role_fits(db, q->role, iam_kind_name(q->u.kind), &ok);

	if (r < 0)
		return r;
	if (!ok) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = role_held(db, q->user_id, q->role, &ok);
	if (r < 0)
		return r;
	if (ok) {
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, "role");
		return ANFU_EEXIST;
	}
	r = anfu_rbac_check_grant(db, q->user_id, q->role, reason, sizeof(reason));
	if (r == ANFU_ECONFLICT)
		iam_err_set(err, ANFU_R_ROLE_CONFLICT, "role");
	return r;
}

static int revoke_check(struct anfu_db *db, struct role_req *q, struct anfu_iam_err *err)
{
	bool held = false;
	int r = role_held(db, q->user_id, q->role, &held);

	if (r < 0)
		return r;
	if (!held) {
		iam_err_set(err, ANFU_R_NOT_FOUND, "role");
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
			       iam_kind_name(q.u.kind), q.user_id);
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
		iam_err_set(err, ANFU_R_ROLE_CONFLICT, "role");
	else if (r == ANFU_EEXIST)
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, "role");
	else if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, "role");
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
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, field);
		return ANFU_EINVAL;
	}
	if (!want && !got)
		return 0;
	if (want && !got) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, field);
		return ANFU_EINVAL;
	}
	if (!want || norm_contact(key, want, a) < 0 || strcmp(a, b) != 0) {
		iam_err_set(err, ANFU_R_CONFIRMATION_MISMATCH, field);
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
		r = opt_string(payload, "reason", ANFU_LIMIT_ADMIN_REASON, &q->reason, err);
	if (r < 0)
		return r;
	if (!q->user_id || !q->reason) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, q->user_id ? "reason" : "user_id");
		return ANFU_EINVAL;
	}
	if (!anfu_id_valid("usr", q->user_id, strlen(q->user_id))) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		return ANFU_EINVAL;
	}
	r = iam_user_load(db, q->user_id, &q->u);
	if (r == ANFU_ENOTFOUND)
		iam_err_set(err, ANFU_R_NOT_FOUND, "user_id");
	if (r == 0 && q->u.kind != ANFU_USER_STAFF) {
		/* Other accounts change at once, without a request. */
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "user_id");
		r = ANFU_EINVAL;
	}
	return r;
}

/* ---- disable_staff / enable_staff ---- */

/* The action a disable_staff (or enable_staff) request carries out, and
 * whether the account is in the state it applies to. */
static const struct iam_admin_action *state_action(bool disable, const struct iam_user *u,
						   struct anfu_iam_err *err)
{
	bool disabled = u->status == ANFU_ACCOUNT_DISABLED;

	if (disable == disabled) {
		iam_err_set(err, ANFU_R_CONFLICT, NULL);
		return NULL;
	}
	return iam_admin_action_find(disable ? "disable" : "enable");
}

static int state_check(struct anfu_db *db, const json_t *payload, bool disable, struct staff_req *q,
		       const struct iam_admin_action **ret, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "reason" };
	const struct iam_admin_action *a;
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
	const struct iam_admin_action *a = NULL;
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
	const struct iam_admin_action *a = NULL;
	char checker[ANFU_ID_MAX];
	struct iam_act_by by = { NULL, checker, approval_id };
	struct staff_req q;
	int r;

	memset(&q, 0, sizeof(q));
	r = state_check(db, payload, disable, &q, &a, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = iam_admin_act_write(iam, tx, ctx, &by, a, &q.u, q.reason, err);
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
	struct iam_acct_fields f;
	int r = staff_parse(db, payload, keys, 3, &v->q, err);

	if (r < 0)
		return r;
	if (!exp || !json_is_integer(exp)) {
		iam_err_set(err, exp ? ANFU_JERR_INVALID_FIELD : ANFU_JERR_MISSING_FIELD,
			    "expires_ms");
		return ANFU_EINVAL;
	}
	v->expires_ms = json_integer_value(exp);
	memset(&f, 0, sizeof(f));
	r = iam_admin_check_validity(iam, v->expires_ms, v->q.u.temporary, &f, err);
	if (r < 0)
		return r;
	v->reset = iam_retains_temporary(&v->q.u, v->expires_ms);
	if (v->reset && !v->q.u.email_enc && !v->q.u.phone_enc) {
		iam_err_set(err, ANFU_R_NO_DELIVERY_CHANNEL, NULL);
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
	struct iam_act_by by = { NULL, checker, approval_id };
	struct validity_req v;
	struct iam_temp_pw t;
	int r;

	memset(&v, 0, sizeof(v));
	memset(&t, 0, sizeof(t));
	r = validity_check(iam, db, payload, &v, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = iam_user_load(db, v.q.user_id, &t.u);
	if (r == 0 && v.reset)
		r = iam_temp_pw_make(iam, db, &t, err);
	if (r == 0)
		r = iam_validity_apply(iam, tx, ctx, &by, &t, v.expires_ms, v.reset, v.q.reason,
				       err);
	if (r == 0) {
		*result = json_pack("{s:s,s:o,s:b,s:o}", "user_id", v.q.user_id, "expires_at_ms",
				    v.expires_ms ? json_integer(v.expires_ms) : json_null(),
				    "password_reset", v.reset, "delivered_to",
				    t.channel ? json_string(t.channel) : json_null());
		if (!*result)
			abort();
	}
	iam_temp_pw_clear(&t);
	iam_user_clear(&v.q.u);
	return r;
}

/* ---- handover_staff ---- */

/* Reads a handover_staff payload into h (h->t.u: the account) and checks
 * that the new contacts belong to no other account. */
static int handover_check(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			  struct staff_req *q, struct iam_handover *h, struct anfu_iam_err *err)
{
	static const char *const keys[] = { "user_id", "responsible_name", "email", "phone",
					    "reason" };
	const char *email = NULL, *phone = NULL;
	int r = staff_parse(db, payload, keys, 5, q, err);

	if (r == 0)
		r = opt_string(payload, "responsible_name", ANFU_LIMIT_RESPONSIBLE_NAME, &h->name,
			       err);
	if (r == 0 && !h->name) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "responsible_name");
		r = ANFU_EINVAL;
	}
	if (r == 0)
		r = opt_string(payload, "email", 254, &email, err);
	if (r == 0)
		r = opt_string(payload, "phone", 32, &phone, err);
	if (r == 0)
		r = iam_admin_check_channel(email, phone, &h->f, err);
	if (r == 0)
		r = iam_user_load(db, q->user_id, &h->t.u);
	if (r == 0)
		r = iam_handover_indexes(iam, h);
	if (r == 0)
		r = iam_handover_free(db, h, err);
	return r;
}

static int handover_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			     char *summary, size_t cap, struct anfu_iam_err *err)
{
	char to[ANFU_MASK_MAX + 8];
	struct staff_req q;
	struct iam_handover h;
	int r;

	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	r = handover_check(iam, db, payload, &q, &h, err);
	if (r == 0) {
		iam_admin_masked_delivery(&h.f, to, sizeof(to));
		(void)snprintf(summary, cap,
			       "hand staff account %s over to a new person (temporary password "
			       "to %s)",
			       q.user_id, to);
	}
	iam_temp_pw_clear(&h.t);
	iam_user_clear(&q.u);
	return r;
}

static int handover_execute(struct anfu_iam *iam, struct anfu_tx *tx,
			    const struct anfu_iam_ctx *ctx, const char *approval_id,
			    const json_t *payload, json_t **result, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char checker[ANFU_ID_MAX];
	struct iam_act_by by = { NULL, checker, approval_id };
	struct staff_req q;
	struct iam_handover h;
	int r;

	memset(&q, 0, sizeof(q));
	memset(&h, 0, sizeof(h));
	r = handover_check(iam, db, payload, &q, &h, err);
	if (r == 0)
		r = iam_approval_checker(db, approval_id, checker);
	if (r == 0)
		r = iam_handover_make(iam, db, &h);
	if (r == 0)
		r = iam_handover_apply(iam, tx, ctx, &by, &h, q.reason, err);
	if (r == 0) {
		*result = json_pack("{s:s,s:s,s:b}", "user_id", q.user_id, "delivered_to",
				    h.t.channel, "must_change", 1);
		if (!*result)
			abort();
	}
	iam_temp_pw_clear(&h.t);
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
