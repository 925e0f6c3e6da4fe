/*
 * iam/admin_users: listing, reading and creating accounts behind
 * /admin/v1/users (IAM-ACCT-02, IAM-PWD-12, IAM-RBAC-04, -05, -06,
 * DATA-MASK-08), and the checks of a new account's fields that the
 * create_operator approval type shares (admin_internal.h).
 *
 * Owns anfu_iam_admin_list_users, anfu_iam_admin_get_user (with its
 * audited reveal of personal data) and anfu_iam_admin_create_user (a
 * merchant user; staff accounts are created only through a
 * "create_operator" request, admin_types.c). Trusts the principal handed
 * in (authenticated by anfu_iam_authenticate) but checks its permission
 * again in every operation; a merchant user holding merchant.staff.manage
 * sees and creates only staff of its own merchant. Trusts nothing in a
 * request.
 *
 * Initial passwords (IAM-PWD-12) go only to the new user's own channel:
 * email when given, else SMS, queued in the creating transaction; a staff
 * or merchant account cannot be created without one of them, so no
 * password ever passes through an approver or an API response. Creating
 * needs a second factor proved within mfa.stepup_window (IAM-MFA-02);
 * refusals for lack of permission are audited as "denied" (and alerted,
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
#include "base/assert.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "base/validate.h"
#include "iam/admin.h"
#include "iam/admin_internal.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "iam/rbac.h"
#include "iam/status.h"
#include "store/store.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

/* ---- the fields of a new account ------------------------------------------------------ */

static int check_username(const char *username, struct iam_acct_fields *f, struct anfu_iam_err *err)
{
	const char *kind = NULL;

	if (!username) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "username");
		return ANFU_EINVAL;
	}
	if (!anfu_valid_username(username, strlen(username)) ||
	    iam_login_normalize(username, f->login, sizeof(f->login), &kind) < 0 || !kind ||
	    strcmp(kind, "username") != 0) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "username");
		return ANFU_EINVAL;
	}
	if (iam_name_reserved(f->login)) {
		iam_err_set(err, ANFU_R_RESERVED_NAME, "username");
		return ANFU_EINVAL;
	}
	return 0;
}

/* The personal channel the initial password goes to (IAM-PWD-12). */
int iam_admin_check_channel(const char *email, const char *phone, struct iam_acct_fields *f,
			    struct anfu_iam_err *err)
{
	const char *kind = NULL;

	if (email) {
		if (!anfu_valid_email(email, strlen(email)) ||
		    iam_login_normalize(email, f->email, sizeof(f->email), &kind) < 0) {
			iam_err_set(err, ANFU_JERR_INVALID_FIELD, "email");
			return ANFU_EINVAL;
		}
		f->has_email = true;
	}
	if (phone) {
		if (!anfu_valid_mobile_cn(phone, strlen(phone)) ||
		    anfu_mobile_normalize(phone, strlen(phone), f->phone, sizeof(f->phone)) < 0) {
			iam_err_set(err, ANFU_JERR_INVALID_FIELD, "phone");
			return ANFU_EINVAL;
		}
		f->has_phone = true;
	}
	if (!f->has_email && !f->has_phone) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "email");
		return ANFU_EINVAL;
	}
	return 0;
}

/* Validity period: temporary accounts must expire, and within
 * accounts.temporary_max_days (IAM-ACCT-06, -07). */
int iam_admin_check_validity(struct anfu_iam *iam, int64_t expires_ms, bool temporary,
			     struct iam_acct_fields *f, struct anfu_iam_err *err)
{
	int64_t now = anfu_clock_now_ms();
	int64_t max_days = iam->cfg->accounts.temporary_max_days;

	if (expires_ms < 0 || (expires_ms > 0 && expires_ms <= now)) {
		iam_err_set(err, ANFU_JERR_OUT_OF_RANGE, "expires_ms");
		return ANFU_EINVAL;
	}
	if (temporary && expires_ms == 0) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "expires_ms");
		return ANFU_EINVAL;
	}
	if (temporary && max_days > 0 && expires_ms - now > max_days * DAY_MS) {
		iam_err_set(err, ANFU_JERR_OUT_OF_RANGE, "expires_ms");
		return ANFU_EINVAL;
	}
	f->expires_ms = expires_ms;
	f->temporary = temporary;
	return 0;
}

int iam_admin_check_account(struct anfu_iam *iam, const char *username, const char *email,
			    const char *phone, int64_t expires_ms, bool temporary,
			    struct iam_acct_fields *f, struct anfu_iam_err *err)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = check_username(username, f, err);
	if (r == 0)
		r = iam_admin_check_channel(email, phone, f, err);
	if (r == 0)
		r = iam_admin_check_validity(iam, expires_ms, temporary, f, err);
	return r;
}

/* ANFU_EEXIST (already_exists) when the login name is taken. */
int iam_admin_login_free(struct anfu_iam *iam, struct anfu_db *db, const char *login,
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
		iam_err_set(err, ANFU_R_ALREADY_EXISTS, "username");
		return ANFU_EEXIST;
	}
	return r;
}

/* "email ali**@e**.com" or "phone ****1050": where iam_admin_deliver_initial() will
 * send the initial password, masked (DATA-MASK-01, -03). */
void iam_admin_masked_delivery(const struct iam_acct_fields *f, char *out, size_t cap)
{
	char m[ANFU_MASK_MAX];
	int r = f->has_email ? anfu_mask_email(f->email, strlen(f->email), m, sizeof(m))
			     : anfu_mask_mobile(f->phone, strlen(f->phone), m, sizeof(m));

	(void)snprintf(out, cap, "%s %s", f->has_email ? "email" : "phone", r < 0 ? "***" : m);
}

/* Queues the initial password to the user's own channel. */
int iam_admin_deliver_initial(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			      const struct iam_acct_fields *f, const char *lang, const char *pw,
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
void iam_admin_account_err(int r, const struct iam_acct_fields *f, struct anfu_iam_err *err)
{
	if (r == ANFU_EEXIST)
		iam_err_set(err, ANFU_R_ALREADY_EXISTS,
			    f->has_email && f->has_phone ? NULL
			    : f->has_email		 ? "email"
							 : "phone");
	else if (r == ANFU_ECONFLICT)
		iam_err_set(err, ANFU_R_ROLE_CONFLICT, "roles");
	else if (r == ANFU_EINVAL)
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "roles");
}

/* ---- listing and reading users ---------------------------------------------------- */

static bool one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

/* One page of ids (an anfu_row_fn): at most cap of them. */
struct page {
	char (*ids)[ANFU_ID_MAX];
	size_t n, cap;
};

static int id_row_cb(void *ud, const struct anfu_row *r)
{
	struct page *pg = ud;
	const char *id = anfu_row_text(r, 0, NULL);

	/* The query's LIMIT is the page's capacity. */
	ANFU_ASSERT(pg->n < pg->cap);
	(void)anfu_strlcpy(pg->ids[pg->n], id ? id : "", ANFU_ID_MAX);
	pg->n++;
	return 0;
}

/* The masked view of one loaded user. */
static int user_view(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		     struct anfu_user_view *ret)
{
	struct anfu_user_view v;
	int r;

	memset(&v, 0, sizeof(v));
	r = iam_user_view(iam, db, u, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

static int filter_check(const struct anfu_user_filter *f)
{
	static const char *const kinds[] = { "customer", "merchant", "staff" };
	enum anfu_account_status st;

	if (f->kind && !one_of(f->kind, kinds, 3))
		return ANFU_EINVAL;
	if (f->status && iam_status_parse(f->status, &st) < 0)
		return ANFU_EINVAL;
	if (f->after && !anfu_id_valid("usr", f->after, strlen(f->after)))
		return ANFU_EINVAL;
	return 0;
}

/* The ids of one page (pg->cap at most); "expired" also finds accounts
 * past their expiry whose stored status is still active. */
static int page_ids(struct anfu_db *db, const struct anfu_user_filter *f, const char *merchant_id,
		    struct page *pg)
{
	struct anfu_param p[6] = { ANFU_PS(f->kind),
				   ANFU_PS(f->status),
				   ANFU_PS(f->after ? f->after : ""),
				   ANFU_PI((int64_t)pg->cap),
				   ANFU_PI(anfu_clock_now_ms()),
				   ANFU_PS(merchant_id) };

	return anfu_db_exec(db,
			    "SELECT id FROM iam_user WHERE kind = COALESCE($1, kind) "
			    "AND (status = COALESCE($2, status) OR ($2 = 'expired' AND "
			    "expires_ms IS NOT NULL AND expires_ms <= $5)) "
			    "AND merchant_id IS NOT DISTINCT FROM COALESCE($6, merchant_id) "
			    "AND id > $3 ORDER BY id LIMIT $4",
			    p, 6, id_row_cb, pg, NULL);
}

/* How many users a page holds: f->limit (0 or less: the default), never
 * more than the most a page has nor than the caller's array. */
static size_t page_size(const struct anfu_user_filter *f, size_t cap)
{
	size_t n = f->limit <= 0				  ? ANFU_LIMIT_ADMIN_LIST_DEFAULT
		   : (size_t)f->limit > ANFU_LIMIT_ADMIN_LIST_MAX ? ANFU_LIMIT_ADMIN_LIST_MAX
								  : (size_t)f->limit;

	return n < cap ? n : cap;
}

int anfu_iam_admin_list_users(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			      const struct anfu_principal *p, const struct anfu_user_filter *f,
			      struct anfu_user_view *ret_users, size_t cap, size_t *ret_n)
{
	char ids[ANFU_LIMIT_ADMIN_LIST_MAX][ANFU_ID_MAX];
	struct page pg = { ids, 0, 0 };
	struct anfu_db *db = NULL;
	size_t i;
	int r;

	/* A merchant administrator sees its own merchant's accounts only. */
	bool own_merchant = p && p->kind == ANFU_USER_MERCHANT &&
			    anfu_principal_can(p, "merchant.staff.manage") && p->merchant_id[0];
	struct anfu_user_filter mf;

	(void)ctx;
	if (!iam || !p || !f || !ret_users || cap == 0 || !ret_n || filter_check(f) < 0)
		return ANFU_EINVAL;
	if (!own_merchant && !anfu_principal_can(p, "iam.user.read"))
		return ANFU_EPERM;
	if (own_merchant) {
		mf = *f;
		mf.kind = "merchant";
		f = &mf;
	}
	pg.cap = page_size(f, cap);
	/* The page holds masked views in id order; the next page starts after
	 * the last id (key-set pagination). */
	r = iam_db(iam, &db);
	if (r == 0)
		r = page_ids(db, f, own_merchant ? p->merchant_id : NULL, &pg);
	for (i = 0; r == 0 && i < pg.n; i++) {
		struct iam_user u;

		/* page_size() kept the page within the caller's array. */
		ANFU_ASSERT(i < cap);
		memset(&u, 0, sizeof(u));
		r = iam_user_load(db, ids[i], &u);
		if (r == 0)
			r = user_view(iam, db, &u, &ret_users[i]);
		iam_user_clear(&u);
	}
	if (r < 0)
		return r;
	*ret_n = pg.n;
	return 0;
}

void anfu_admin_user_clear(struct anfu_admin_user *u)
{
	if (!u)
		return;
	anfu_free_secret(u->login);
	anfu_free_secret(u->phone);
	anfu_free_secret(u->email);
	anfu_free_secret(u->real_name);
	anfu_free_secret(u->id_number);
	memset(u, 0, sizeof(*u));
}

/* Reads the unmasked personal data of u into out (which owns it then)
 * and lists the names of the fields shown in fields (for the audit
 * record). */
static int reveal_into(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		       struct anfu_admin_user *out, json_t *fields)
{
	static const char *const vault_fields[] = { "login", "phone", "email", "name", "idno" };
	static const char *const keys[] = { "login", "phone", "email", "real_name", "id_number" };
	char **slots[] = { &out->login, &out->phone, &out->email, &out->real_name,
			   &out->id_number };
	int r = 0;

	_Static_assert(sizeof(slots) / sizeof(slots[0]) == sizeof(keys) / sizeof(keys[0]),
		       "one slot per revealed field");
	for (size_t i = 0; r == 0 && i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = NULL;

		r = iam_user_reveal(iam, db, u, vault_fields[i], &v);
		if (r == 0 && v) {
			if (json_array_append_new(fields, json_string(keys[i])) < 0)
				abort();
			*slots[i] = v;
			v = NULL;
		}
		anfu_free_secret(v);
	}
	if (r == 0)
		out->revealed = true;
	return r;
}

/* A reveal's transaction. */
struct reveal {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct iam_user *u;
	struct anfu_admin_user *out;
};

static int reveal_tx(struct anfu_tx *tx, void *ud)
{
	const struct reveal *c = ud;
	json_t *fields = json_array();
	json_t *d = NULL;
	int r;

	if (!fields)
		abort();
	r = reveal_into(c->iam, anfu_tx_db(tx), c->u, c->out, fields);
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
			  const struct anfu_principal *p, const struct iam_user *u,
			  struct anfu_admin_user *out)
{
	struct reveal c = { iam, ctx, p, u, out };

	return iam_tx(iam, reveal_tx, &c, NULL);
}

int anfu_iam_admin_get_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *user_id, bool reveal,
			    struct anfu_admin_user *ret)
{
	struct anfu_admin_user o;
	struct anfu_db *db = NULL;
	struct iam_user u;
	int r;

	if (!iam || !p || !user_id || !ret)
		return ANFU_EINVAL;
	if (!anfu_principal_can(p, "iam.user.read") ||
	    (reveal && !anfu_principal_can(p, "iam.user.pii.reveal"))) {
		iam_audit_denied(iam, ctx, p, reveal ? "user.pii_revealed" : "user.read", "user",
				 user_id, ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	memset(&u, 0, sizeof(u));
	memset(&o, 0, sizeof(o));
	r = iam_user_load(db, user_id, &u);
	if (r == 0)
		r = user_view(iam, db, &u, &o.view);
	if (r == 0 && reveal)
		r = reveal_audited(iam, ctx, p, &u, &o);
	iam_user_clear(&u);
	if (r < 0) {
		anfu_admin_user_clear(&o);
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
			struct iam_acct_fields *f, struct anfu_iam_err *err)
{
	bool fits = false;
	int r;

	if (!c->kind || strcmp(c->kind, "merchant") != 0) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "kind");
		return ANFU_EINVAL;
	}
	if (!merchant_id_ok(c->merchant_id)) {
		iam_err_set(err, c->merchant_id ? ANFU_JERR_INVALID_FIELD : ANFU_JERR_MISSING_FIELD,
			    "merchant_id");
		return ANFU_EINVAL;
	}
	if (!c->role) {
		iam_err_set(err, ANFU_JERR_MISSING_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = anfu_rbac_role_fits(db, c->role, "merchant", &fits);
	if (r < 0)
		return r;
	if (!fits) {
		iam_err_set(err, ANFU_JERR_INVALID_FIELD, "role");
		return ANFU_EINVAL;
	}
	r = iam_admin_check_account(iam, c->username, c->email, c->phone, c->expires_ms,
				    c->temporary, f, err);
	if (r == 0)
		r = iam_admin_login_free(iam, db, f->login, err);
	return r;
}

static int create_merchant(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			   const struct anfu_principal *p, const struct anfu_admin_create *c,
			   struct anfu_admin_user *ret, struct anfu_iam_err *err)
{
	struct anfu_db *db = anfu_tx_db(tx);
	const char *roles[1] = { c->role };
	char pw[IAM_INITIAL_PASSWORD_MAX], id[ANFU_ID_MAX];
	const char *channel = NULL;
	struct iam_acct_fields f;
	struct iam_account_spec s;
	struct iam_user u;
	struct anfu_user_view v;
	json_t *d = NULL;
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
				       iam_admin_lang(ctx),
				       f.expires_ms,
				       f.temporary,
				       p->user_id,
				       p->user_id,
				       NULL };
	r = iam_account_create(iam, db, &s, pw, sizeof(pw), id);
	if (r < 0) {
		iam_admin_account_err(r, &f, err);
		goto out;
	}
	r = iam_admin_deliver_initial(iam, tx, id, &f, iam_admin_lang(ctx), pw, &channel);
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
		r = user_view(iam, db, &u, &v);
	if (r < 0)
		goto out;
	memset(ret, 0, sizeof(*ret));
	ret->view = v;
	ret->delivered_to = channel;
out:
	anfu_wipe(pw, sizeof(pw));
	iam_user_clear(&u);
	json_decref(d);
	return r;
}

/* A merchant user's creation as a transaction. */
struct create_op {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const struct anfu_admin_create *c;
	struct anfu_admin_user out;
	struct anfu_iam_err *err;
};

static int create_tx(struct anfu_tx *tx, void *ud)
{
	struct create_op *op = ud;

	return create_merchant(op->iam, tx, op->ctx, op->p, op->c, &op->out, op->err);
}

int anfu_iam_admin_create_user(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
			       const struct anfu_principal *p, const struct anfu_admin_create *c,
			       struct anfu_admin_user *ret, struct anfu_iam_err *err)
{
	struct create_op op = { .iam = iam, .ctx = ctx, .p = p, .c = c, .err = err };
	int r;

	if (!iam || !p || !c || !ret)
		return ANFU_EINVAL;
	if (!may_create_merchant_user(p, c)) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		iam_audit_denied(iam, ctx, p, "user.created", "user", "", ANFU_R_FORBIDDEN);
		return ANFU_EPERM;
	}
	if (!iam_stepped_up(iam, p, anfu_clock_now_ms())) {
		iam_err_set(err, ANFU_R_STEP_UP_REQUIRED, NULL);
		iam_audit_denied(iam, ctx, p, "user.created", "user", "", ANFU_R_STEP_UP_REQUIRED);
		return ANFU_EPERM;
	}
	r = iam_tx(iam, create_tx, &op, err);
	if (r < 0)
		return r;
	*ret = op.out;
	return 0;
}
