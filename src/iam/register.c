/*
 * iam/register: customer self-registration with a code sent to the phone
 * or email that becomes the login (IAM-ACCT-02, IAM-PWD-*).
 *
 * Owns no table of its own: it creates the user through iam/user.c and
 * grants the customer role through iam/rbac.h. Trusts nothing in the
 * request: the login is normalised and validated, the code checked against
 * iam_code (purpose "register", bound to the target's blind index), the
 * password against the customer policy with the person's own data, the
 * resident id number against GB 11643.
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "base/text.h"
#include "base/validate.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/factors.h"
#include "iam/internal.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"
#include "iam/rbac.h"
#include "store/store.h"
#include "vault/vault.h"

/* Longest nickname and real name, in characters. */
#define NAME_CHARS_MAX 32

/* A registration after its inputs were checked. */
struct reg {
	char login[256];
	const char *kind;	/* "mobile" or "email" */
	char idx[IAM_HASH_HEX]; /* blind index of the phone or email */
	char hash[ANFU_PWHASH_STR_LEN];
};

static bool name_ok(const char *s)
{
	size_t n;

	if (!s || !s[0])
		return true;
	n = strlen(s);
	return n <= 4 * NAME_CHARS_MAX && anfu_utf8_valid(s, n) &&
	       anfu_utf8_count(s, n) <= NAME_CHARS_MAX;
}

/* Names are text (base/text.h): the decoder refused control and format
 * characters and normalised to NFC already; checked again here, where
 * they are stored, for callers that are not the JSON decoder. */
static int text_ok(const char *s, const char *field, struct anfu_iam_err *err)
{
	if (s && anfu_text_check(s, strlen(s), NULL) != ANFU_TEXT_OK) {
		iam_err_set(err, ANFU_JERR_INVALID_TEXT, field);
		return ANFU_EINVAL;
	}
	return 0;
}

/* Shape of the request: a mobile or email login, a code, valid optional
 * fields. */
static int check_fields(const struct anfu_register_req *req, struct reg *g,
			struct anfu_iam_err *err)
{
	if (!req->login ||
	    iam_login_normalize(req->login, g->login, sizeof(g->login), &g->kind) < 0 ||
	    strcmp(g->kind, "username") == 0) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "login");
		return ANFU_EINVAL;
	}
	if (!req->code || !req->code[0]) {
		iam_err_set(err, ANFU_R_CODE_INVALID, "code");
		return ANFU_EINVAL;
	}
	if (req->id_number && req->id_number[0] &&
	    !anfu_valid_resident_id(req->id_number, strlen(req->id_number))) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "id_number");
		return ANFU_EINVAL;
	}
	if (text_ok(req->nickname, "nickname", err) < 0 ||
	    text_ok(req->real_name, "real_name", err) < 0)
		return ANFU_EINVAL;
	if (!name_ok(req->nickname)) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "nickname");
		return ANFU_EINVAL;
	}
	if (!name_ok(req->real_name)) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "real_name");
		return ANFU_EINVAL;
	}
	return 0;
}

/* The customer password rules with the person's data (IAM-PWD-01..05). */
static int check_password(struct anfu_iam *iam, const struct anfu_register_req *req,
			  const struct reg *g, struct anfu_iam_err *err)
{
	bool mobile = strcmp(g->kind, "mobile") == 0;
	char birthday[9] = "";
	struct anfu_pw_personal pd = { 0 };
	const char *pw = req->password ? req->password : "";
	const char *rule = NULL;
	int r;

	if (req->id_number && req->id_number[0] &&
	    anfu_resident_id_birth(req->id_number, strlen(req->id_number), birthday) < 0)
		birthday[0] = '\0';
	pd.login = g->login;
	pd.name = req->real_name;
	pd.nickname = req->nickname;
	pd.phone = mobile ? g->login : NULL;
	pd.email = mobile ? NULL : g->login;
	pd.id_number = req->id_number;
	pd.birthday = birthday[0] ? birthday : NULL;
	r = anfu_pwpolicy_check(&iam->cfg->password[ANFU_CLASS_CUSTOMER], pw,
				strnlen(pw, ANFU_PASSWORD_MAX + 1), &pd, &rule);
	if (r < 0) {
		iam_err_set(err, rule ? rule : ANFU_PW_EMPTY, "password");
		return ANFU_EINVAL;
	}
	return 0;
}

/* The login is taken: tell its owner someone tried (on that channel),
 * audit, and refuse. Kept by the caller. */
static int taken(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		 const struct reg *g, const struct iam_user *owner)
{
	bool mobile = strcmp(g->kind, "mobile") == 0;
	json_t *det = json_pack("{ss}", "login_kind", g->kind);
	int r = iam_notice_to(iam, tx, owner->id, mobile ? "sms" : "email", g->login, owner->lang,
			      "register_attempt", NULL, 0);

	if (r == 0)
		r = iam_audit(iam, tx, ctx, NULL, NULL, "user.register_refused", "user", owner->id,
			      "denied", det);
	json_decref(det);
	return r;
}

static int create(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		  const struct anfu_register_req *req, const struct reg *g,
		  struct anfu_user_view *view)
{
	struct anfu_db *db = anfu_tx_db(tx);
	bool mobile = strcmp(g->kind, "mobile") == 0;
	struct iam_new_user nu = {
		.kind = ANFU_USER_CUSTOMER,
		.login = g->login,
		.login_kind = g->kind,
		.password_hash = g->hash,
		.phone = mobile ? g->login : NULL,
		.email = mobile ? NULL : g->login,
		.real_name = req->real_name,
		.id_number = req->id_number,
		.nickname = req->nickname,
		.lang = ctx->lang,
		.pwd_reason = "registration",
	};
	struct iam_user u = { 0 };
	char id[ANFU_ID_MAX], reason[128];
	json_t *det = json_pack("{ss}", "login_kind", g->kind);
	int r = iam_user_insert(iam, db, &nu, id);

	if (r == 0)
		r = anfu_rbac_grant(db, id, "customer", id, NULL, anfu_clock_now_ms(), reason,
				    sizeof(reason));
	if (r == 0)
		r = iam_audit(iam, tx, ctx, NULL, id, "user.registered", "user", id, "success",
			      det);
	if (r == 0)
		r = iam_user_load(db, id, &u);
	if (r == 0)
		r = iam_user_view(iam, db, &u, view);
	iam_user_clear(&u);
	json_decref(det);
	return r;
}

/* A registration's transaction. */
struct registration {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_register_req *req;
	const struct reg *g;
	struct anfu_user_view view;
	struct anfu_iam_err *err;
	bool taken; /* the login belongs to someone: told and audited, kept */
};

/* After the commit: the observers learn of the new customer. */
static void registered_hook(void *ud)
{
	struct registration *c = ud;

	iam_tell_registered(c->iam, c->view.id, ANFU_USER_CUSTOMER);
}

/* Inside the transaction: the code, the uniqueness, the account. */
static int register_tx(struct anfu_tx *tx, void *ud)
{
	struct registration *c = ud;
	struct anfu_iam *iam = c->iam;
	struct anfu_db *db = anfu_tx_db(tx);
	const struct reg *g = c->g;
	struct iam_user owner = { 0 };
	int r, v;

	v = anfu_code_verify(db, iam->vault, ANFU_CODE_REGISTER, g->idx, g->idx, c->req->code,
			     (int)iam->cfg->mfa.code_max_attempts);
	if (v < 0) {
		/* The wrong try counts (kept); nothing else happens. */
		iam_err_set(c->err, v == ANFU_EEXPIRED ? ANFU_R_CODE_EXPIRED : ANFU_R_CODE_INVALID,
			    "code");
		anfu_tx_keep(tx);
		return v == ANFU_EEXPIRED ? ANFU_EEXPIRED : ANFU_EAUTH;
	}
	r = iam_user_find_login(iam, db, g->login, &owner);
	if (r == 0) {
		r = taken(iam, tx, c->ctx, g, &owner);
		iam_user_clear(&owner);
		if (r < 0)
			return r;
		c->taken = true;
		anfu_tx_keep(tx);
		return ANFU_EEXIST;
	}
	if (r != ANFU_ENOTFOUND)
		return r;
	r = create(iam, tx, c->ctx, c->req, g, &c->view);
	if (r == ANFU_EEXIST)
		iam_err_set(c->err, ANFU_R_ALREADY_EXISTS, "login");
	if (r == 0 && iam->nobservers > 0)
		r = anfu_tx_after_commit(tx, registered_hook, c);
	return r;
}

int anfu_iam_register(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
		      const struct anfu_register_req *req, struct anfu_user_view *ret,
		      struct anfu_iam_err *err)
{
	struct registration c;
	struct reg g;
	const char *pw;
	int r;

	if (!iam || !ctx || !req || !ret)
		return ANFU_EINVAL;
	memset(&g, 0, sizeof(g));
	r = check_fields(req, &g, err);
	if (r == 0)
		r = check_password(iam, req, &g, err);
	if (r == 0)
		r = anfu_vault_index(iam->vault, strcmp(g.kind, "mobile") == 0 ? "phone" : "email",
				     g.login, strlen(g.login), g.idx);
	pw = req->password ? req->password : "";
	/* Argon2 before the transaction: the write lock is not held for it. */
	if (r == 0)
		r = anfu_pwhash_hash(iam->pwhash, pw, strlen(pw), g.hash);
	if (r < 0)
		goto out;
	memset(&c, 0, sizeof(c));
	c.iam = iam;
	c.ctx = ctx;
	c.req = req;
	c.g = &g;
	c.err = err;
	r = iam_tx(iam, register_tx, &c, err);
	if (r == ANFU_EEXIST && c.taken)
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, "login");
	if (r == 0)
		*ret = c.view;
out:
	anfu_wipe(&g, sizeof(g));
	return r;
}
