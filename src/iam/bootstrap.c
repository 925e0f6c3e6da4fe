/*
 * iam/bootstrap: accounts that start with a system-made password — the
 * first administrator and the first staff (CLI, `anfu init`), and the
 * shared creation path the approval executor and the admin API use
 * (IAM-ADM-01, IAM-ACCT-10, IAM-PWD-12).
 *
 * Owns the initial-password generator and the list of reserved default
 * names. Trusts the caller for authorisation (the CLI runs locally as the
 * platform's owner; admin_*.c check permissions and approvals) and for
 * delivering the password: the bootstrap functions hand it back once to
 * the CLI, which prints it; nothing stores it except as its Argon2id hash.
 * Every account made here must change its password at first login.
 *
 * The bootstrap is a chicken-and-egg breaker: staff accounts are normally
 * created through a four-eyes approval, which needs a second person who
 * can approve. anfu_iam_bootstrap_staff is therefore allowed only while no
 * active account holds the approve permission for staff creation; once a
 * checker exists, every further staff account goes through approval.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/validate.h"
#include "iam/admin.h"
#include "iam/config.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "iam/rbac.h"
#include "store/store.h"

#define BOOTSTRAP_ACTOR "system:init"
#define CREATE_OPERATOR_APPROVE "iam.approval.create_operator.approve"

/* Default account names of common systems (IAM-ACCT-10: no default
 * accounts; a default name invites password guessing). */
static const char *const reserved_names[] = {
	"admin", "root",  "administrator", "system", "sa",
	"test",	 "guest", "operator",	   "user",   "default",
};

bool iam_name_reserved(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
		if (strcasecmp(name, reserved_names[i]) == 0)
			return true;
	return false;
}

/* Character classes of initial passwords; look-alikes (0 O 1 l I) are
 * left out because a person may have to type it from a message. */
static const char *const pw_classes[4] = {
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnopqrstuvwxyz",
	"23456789",
	"!#%+-=?@^_",
};

static void draw_password(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* The first four positions guarantee every class. */
		uint32_t c = i < 4 ? (uint32_t)i : anfu_rand_uniform(4);
		size_t n = strlen(pw_classes[c]);

		out[i] = pw_classes[c][anfu_rand_uniform((uint32_t)n)];
	}
	for (size_t i = len - 1; i > 0; i--) {
		uint32_t j = anfu_rand_uniform((uint32_t)(i + 1));
		char t = out[i];

		out[i] = out[j];
		out[j] = t;
	}
	out[len] = '\0';
}

int iam_password_random(const struct anfu_config_password *pol, const struct anfu_pw_personal *pd,
			char out[IAM_INITIAL_PASSWORD_MAX])
{
	size_t len = IAM_INITIAL_PASSWORD_LEN;
	const char *rule = NULL;

	if (pol->min_length > (int64_t)len)
		len = (size_t)pol->min_length;
	if (len > IAM_INITIAL_PASSWORD_MAX - 1 || len > ANFU_PASSWORD_MAX)
		return ANFU_EINVAL;
	for (int i = 0; i < ANFU_LIMIT_IAM_INITIAL_PASSWORD_TRIES; i++) {
		draw_password(out, len);
		if (anfu_pwpolicy_check(pol, out, len, pd, &rule) == 0)
			return 0;
	}
	anfu_wipe(out, IAM_INITIAL_PASSWORD_MAX);
	anfu_log_error("iam.bootstrap", "no random password passes the policy (last: %s)",
		       rule ? rule : "?");
	return ANFU_EINTERNAL;
}

/* The policy class of a new account with roles. */
static int new_account_class(struct anfu_db *db, const struct iam_account_spec *s,
			     enum anfu_role_class *ret)
{
	int64_t privileged = 0;

	if (s->kind == ANFU_USER_MERCHANT) {
		*ret = ANFU_CLASS_MERCHANT;
		return 0;
	}
	for (size_t i = 0; i < s->nroles; i++) {
		struct anfu_param p[1] = { ANFU_PS(s->roles[i]) };
		int64_t v = 0;
		int r = anfu_db_query_int(db, "SELECT privileged FROM iam_role WHERE name = $1", p,
					  1, &v);

		if (r < 0)
			return r;
		privileged |= v;
	}
	*ret = privileged ? ANFU_CLASS_ADMIN : ANFU_CLASS_OPERATOR;
	return 0;
}

/* Roles exist, fit the kind and do not conflict. */
static int check_roles(struct anfu_db *db, const struct iam_account_spec *s)
{
	const char *kind = s->kind == ANFU_USER_STAFF ? "staff" : "merchant";
	char reason[128];
	bool fits = false;
	int r;

	if (s->nroles == 0)
		return ANFU_EINVAL;
	for (size_t i = 0; i < s->nroles; i++) {
		r = anfu_rbac_role_fits(db, s->roles[i], kind, &fits);
		if (r < 0)
			return r;
		if (!fits)
			return ANFU_EINVAL;
	}
	r = anfu_rbac_check_set(db, s->roles, s->nroles, reason, sizeof(reason));
	if (r == ANFU_ENOTFOUND)
		return ANFU_EINVAL;
	return r;
}

/* Hashes a fresh initial password and inserts the user. */
static int insert_account(struct anfu_iam *iam, struct anfu_db *db,
			  const struct iam_account_spec *s, char pw[IAM_INITIAL_PASSWORD_MAX],
			  char id[ANFU_ID_MAX])
{
	struct anfu_pw_personal pd = { .login = s->username, .phone = s->phone, .email = s->email };
	char hash[ANFU_PWHASH_STR_LEN];
	enum anfu_role_class cls;
	struct iam_new_user nu;
	int r = new_account_class(db, s, &cls);

	if (r < 0)
		return r;
	r = iam_password_random(&iam->cfg->password[cls], &pd, pw);
	if (r < 0)
		return r;
	r = anfu_pwhash_hash(iam->pwhash, pw, strlen(pw), hash);
	if (r < 0)
		return r;
	nu = (struct iam_new_user){
		.kind = s->kind,
		.login = s->username,
		.login_kind = "username",
		.password_hash = hash,
		.must_change = true,
		.phone = s->phone,
		.email = s->email,
		.merchant_id = s->merchant_id,
		.lang = s->lang ? s->lang : "zh",
		.expires_ms = s->expires_ms,
		.temporary = s->temporary,
		.created_by = s->created_by,
		.pwd_reason = "initial",
	};
	return iam_user_insert(iam, db, &nu, id);
}

int iam_account_create(struct anfu_iam *iam, struct anfu_db *db, const struct iam_account_spec *s,
		       char *pw_out, size_t cap, char id_out[ANFU_ID_MAX])
{
	char pw[IAM_INITIAL_PASSWORD_MAX];
	char id[ANFU_ID_MAX];
	char reason[128];
	int64_t now = anfu_clock_now_ms();
	int r;

	if (!iam || !db || !s || !s->username || !s->created_by || !s->granted_by || !pw_out ||
	    cap < IAM_INITIAL_PASSWORD_MAX || !id_out ||
	    (s->kind != ANFU_USER_STAFF && s->kind != ANFU_USER_MERCHANT))
		return ANFU_EINVAL;
	r = check_roles(db, s);
	if (r < 0)
		return r;
	r = insert_account(iam, db, s, pw, id);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < s->nroles; i++) {
		r = anfu_rbac_grant(db, id, s->roles[i], s->granted_by, s->approval_id, now, reason,
				    sizeof(reason));
		if (r < 0)
			goto out;
	}
	memcpy(pw_out, pw, strlen(pw) + 1);
	memcpy(id_out, id, sizeof(id));
	r = 0;
out:
	anfu_wipe(pw, sizeof(pw));
	return r;
}

int iam_audit_grants(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		     const struct anfu_principal *p, const char *actor_id, const char *user_id,
		     const struct iam_account_spec *s)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < s->nroles; i++) {
		json_t *d =
			json_pack("{s:s,s:s?}", "role", s->roles[i], "approval_id", s->approval_id);

		if (!d)
			abort();
		r = iam_audit(iam, tx, ctx, p, actor_id, "role.granted", "user", user_id, "success",
			      d);
		json_decref(d);
	}
	return r;
}

/* ---- the bootstrap (CLI) -------------------------------------------------------- */

static const struct anfu_iam_ctx system_ctx = { "", "", "", "", "en", false };

/* Bytes the password of a new staff account needs (with its NUL). */
static size_t staff_pw_cap(const struct anfu_iam *iam)
{
	int64_t n = IAM_INITIAL_PASSWORD_LEN;

	if (iam->cfg->password[ANFU_CLASS_OPERATOR].min_length > n)
		n = iam->cfg->password[ANFU_CLASS_OPERATOR].min_length;
	if (iam->cfg->password[ANFU_CLASS_ADMIN].min_length > n)
		n = iam->cfg->password[ANFU_CLASS_ADMIN].min_length;
	return (size_t)n + 1;
}

/* Checks the name and the output buffers; the name normalised into login. */
static int bootstrap_args(const struct anfu_iam *iam, const char *username, size_t cap,
			  size_t id_cap, char login[256])
{
	const char *kind = NULL;

	if (!username || cap < staff_pw_cap(iam) || id_cap < ANFU_ID_MAX)
		return ANFU_EINVAL;
	if (!anfu_valid_username(username, strlen(username)))
		return ANFU_EINVAL;
	if (iam_login_normalize(username, login, 256, &kind) < 0 || !kind ||
	    strcmp(kind, "username") != 0)
		return ANFU_EINVAL;
	if (iam_name_reserved(login))
		return ANFU_EINVAL;
	return 0;
}

/* A bootstrap's transaction and the account it made. */
struct bootstrap {
	struct anfu_iam *iam;
	const struct iam_account_spec *s;
	const char *action;
	bool (*allowed)(struct anfu_db *db, int *ret_err);
	char pw[IAM_INITIAL_PASSWORD_MAX], id[ANFU_ID_MAX];
};

static int bootstrap_tx(struct anfu_tx *tx, void *ud)
{
	struct bootstrap *c = ud;
	struct anfu_iam *iam = c->iam;
	const struct iam_account_spec *s = c->s;
	json_t *d = NULL;
	int r = 0;

	if (!c->allowed(anfu_tx_db(tx), &r))
		return r;
	r = iam_account_create(iam, anfu_tx_db(tx), s, c->pw, sizeof(c->pw), c->id);
	if (r < 0)
		return r;
	d = json_array();
	for (size_t i = 0; d && i < s->nroles; i++)
		(void)json_array_append_new(d, json_string(s->roles[i]));
	d = json_pack("{s:o,s:b}", "roles", d, "must_change", 1);
	if (!d)
		abort();
	r = iam_audit(iam, tx, &system_ctx, NULL, "system", c->action, "user", c->id, "success", d);
	if (r == 0)
		r = iam_audit_grants(iam, tx, &system_ctx, NULL, "system", c->id, s);
	json_decref(d);
	return r;
}

/* Creates the account and its audit record in one transaction. */
static int bootstrap_run(struct anfu_iam *iam, const struct iam_account_spec *s, const char *action,
			 bool (*allowed)(struct anfu_db *db, int *ret_err), char *password_out,
			 char *user_id_out)
{
	struct bootstrap c = { .iam = iam, .s = s, .action = action, .allowed = allowed };
	int r = iam_tx(iam, bootstrap_tx, &c, NULL);

	if (r == 0) {
		memcpy(password_out, c.pw, strlen(c.pw) + 1);
		memcpy(user_id_out, c.id, sizeof(c.id));
	}
	anfu_wipe(c.pw, sizeof(c.pw));
	return r;
}

/* The first administrator only while there is no staff account at all. */
static bool no_staff_yet(struct anfu_db *db, int *ret_err)
{
	int64_t n = 0;
	int r = anfu_db_query_int(db, "SELECT COUNT(*) FROM iam_user WHERE kind = 'staff'", NULL, 0,
				  &n);

	*ret_err = r < 0 ? r : ANFU_ECONFLICT;
	return r == 0 && n == 0;
}

/* Staff without approval only while no one could approve it. */
static bool no_checker_yet(struct anfu_db *db, int *ret_err)
{
	bool held = true;
	int r = anfu_rbac_anyone_holds(db, CREATE_OPERATOR_APPROVE, NULL, &held);

	*ret_err = r < 0 ? r : ANFU_ECONFLICT;
	return r == 0 && !held;
}

int anfu_iam_bootstrap_admin(struct anfu_iam *iam, const char *username, char *password_out,
			     size_t cap, char *user_id_out, size_t id_cap)
{
	static const char *const roles[] = { "sysadmin", "security_admin" };
	struct iam_account_spec s;
	char login[256];
	int r;

	if (!iam || !password_out || !user_id_out)
		return ANFU_EINVAL;
	r = bootstrap_args(iam, username, cap, id_cap, login);
	if (r < 0)
		return r;
	s = (struct iam_account_spec){
		.kind = ANFU_USER_STAFF,
		.username = login,
		.roles = roles,
		.nroles = 2,
		.created_by = BOOTSTRAP_ACTOR,
		.granted_by = BOOTSTRAP_ACTOR,
	};
	r = bootstrap_run(iam, &s, "user.bootstrap_admin", no_staff_yet, password_out, user_id_out);
	if (r < 0)
		anfu_log_warn("iam.bootstrap", "first administrator not created: %s",
			      anfu_strerror(r));
	return r;
}

int anfu_iam_bootstrap_staff(struct anfu_iam *iam, const char *username, const char *role,
			     char *password_out, size_t cap, char *user_id_out, size_t id_cap)
{
	const char *roles[1] = { role };
	struct iam_account_spec s;
	char login[256];
	int r;

	if (!iam || !role || !password_out || !user_id_out)
		return ANFU_EINVAL;
	r = bootstrap_args(iam, username, cap, id_cap, login);
	if (r < 0)
		return r;
	s = (struct iam_account_spec){
		.kind = ANFU_USER_STAFF,
		.username = login,
		.roles = roles,
		.nroles = 1,
		.created_by = BOOTSTRAP_ACTOR,
		.granted_by = BOOTSTRAP_ACTOR,
	};
	r = bootstrap_run(iam, &s, "user.bootstrap_staff", no_checker_yet, password_out,
			  user_id_out);
	if (r < 0)
		anfu_log_warn("iam.bootstrap", "staff account not created: %s", anfu_strerror(r));
	return r;
}
