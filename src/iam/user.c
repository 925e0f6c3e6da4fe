/*
 * iam/user: the user record — loading, finding by login identifier,
 * inserting with sealed personal data, the masked view, password storage
 * and history, and the personal data the password rules need.
 *
 * Owns the SQL on iam_user and iam_password_history. Personal data is
 * sealed and indexed through src/vault/ (never stored in clear) and masked
 * for output only through base/mask.h. Trusts the caller's transaction for
 * writes; trusts nothing in login identifiers (they are validated and
 * normalised here).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/validate.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "iam/pinmac.h"
#include "iam/pwhash.h"
#include "iam/rbac.h"
#include "store/store.h"
#include "vault/vault.h"

#define USER_COLS                                                                          \
	"id, kind, login_kind, login_enc, status, locked_until_ms, expires_ms, temporary," \
	" created_ms, last_used_ms, pwd_hash, pwd_changed_ms, pwd_must_change,"            \
	" pwd_reminded_ms, failures, pay_hash, pay_failures, pay_locked_until_ms,"         \
	" phone_enc, email_enc, name_enc, idno_enc, totp_enc, nickname, totp_confirmed,"   \
	" totp_last_step, merchant_id, lang, pwd_forced_ms"

void iam_user_clear(struct iam_user *u)
{
	if (!u)
		return;
	free(u->login_enc);
	anfu_free_secret(u->pwd_hash);
	anfu_free_secret(u->pay_hash);
	free(u->phone_enc);
	free(u->email_enc);
	free(u->name_enc);
	free(u->idno_enc);
	free(u->totp_enc);
	free(u->nickname);
	memset(u, 0, sizeof(*u));
}

static char *dup_col(const struct anfu_row *r, int col)
{
	const char *s = anfu_row_text(r, col, NULL);

	return s ? anfu_xstrdup(s) : NULL;
}

static void copy_col(const struct anfu_row *r, int col, char *out, size_t cap)
{
	const char *s = anfu_row_text(r, col, NULL);

	(void)anfu_strlcpy(out, s ? s : "", cap);
}

static enum anfu_user_kind kind_of(const char *s)
{
	if (s && strcmp(s, "merchant") == 0)
		return ANFU_USER_MERCHANT;
	if (s && strcmp(s, "staff") == 0)
		return ANFU_USER_STAFF;
	return ANFU_USER_CUSTOMER;
}

struct user_q {
	struct iam_user *u;
	bool found;
};

static int user_row(void *ud, const struct anfu_row *r)
{
	struct user_q *q = ud;
	struct iam_user *u = q->u;

	copy_col(r, 0, u->id, sizeof(u->id));
	u->kind = kind_of(anfu_row_text(r, 1, NULL));
	copy_col(r, 2, u->login_kind, sizeof(u->login_kind));
	u->login_enc = dup_col(r, 3);
	/* Written only from the table of iam/status.c; anything else reads
	 * as active, as it always has. */
	if (iam_status_parse(anfu_row_text(r, 4, NULL), &u->status) < 0)
		u->status = ANFU_ACCOUNT_ACTIVE;
	u->locked_until_ms = anfu_row_int(r, 5);
	u->expires_ms = anfu_row_int(r, 6);
	u->temporary = anfu_row_int(r, 7) != 0;
	u->created_ms = anfu_row_int(r, 8);
	u->last_used_ms = anfu_row_int(r, 9);
	u->pwd_hash = dup_col(r, 10);
	u->pwd_changed_ms = anfu_row_int(r, 11);
	u->pwd_must_change = anfu_row_int(r, 12) != 0;
	u->pwd_reminded_ms = anfu_row_int(r, 13);
	u->failures = (int)anfu_row_int(r, 14);
	u->pay_hash = dup_col(r, 15);
	u->pay_failures = (int)anfu_row_int(r, 16);
	u->pay_locked_until_ms = anfu_row_int(r, 17);
	u->phone_enc = dup_col(r, 18);
	u->email_enc = dup_col(r, 19);
	u->name_enc = dup_col(r, 20);
	u->idno_enc = dup_col(r, 21);
	u->totp_enc = dup_col(r, 22);
	u->nickname = dup_col(r, 23);
	u->totp_confirmed = anfu_row_int(r, 24) != 0;
	u->totp_last_step = anfu_row_int(r, 25);
	copy_col(r, 26, u->merchant_id, sizeof(u->merchant_id));
	copy_col(r, 27, u->lang, sizeof(u->lang));
	u->pwd_forced_ms = anfu_row_int(r, 28);
	q->found = true;
	return 1;
}

/* Loads the one user matching "WHERE <col> = $1". */
static int user_query(struct anfu_db *db, const char *sql, const char *key, struct iam_user *ret)
{
	struct iam_user u = { 0 };
	struct user_q q = { &u, false };
	struct anfu_param p[1] = { iam_ps(key) };
	int r;

	r = anfu_db_exec(db, sql, p, 1, user_row, &q, NULL);
	if (r == 0 && !q.found)
		r = ANFU_ENOTFOUND;
	if (r < 0) {
		iam_user_clear(&u);
		return r;
	}
	*ret = u;
	return 0;
}

int iam_user_load(struct anfu_db *db, const char *id, struct iam_user *ret)
{
	if (!db || !id || !ret)
		return ANFU_EINVAL;
	return user_query(db, "SELECT " USER_COLS " FROM iam_user WHERE id = $1", id, ret);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

int iam_login_normalize(const char *login, char *out, size_t cap, const char **ret_kind)
{
	size_t len;

	if (!login || !out || cap < 256 || !ret_kind)
		return ANFU_EINVAL;
	len = strlen(login);
	if (len == 0 || len >= cap)
		return ANFU_EINVAL;
	if (anfu_valid_mobile_cn(login, len)) {
		if (anfu_mobile_normalize(login, len, out, cap) < 0)
			return ANFU_EINVAL;
		*ret_kind = "mobile";
		return 0;
	}
	if (anfu_valid_email(login, len))
		*ret_kind = "email";
	else if (anfu_valid_username(login, len))
		*ret_kind = "username";
	else
		return ANFU_EINVAL;
	memcpy(out, login, len + 1);
	lower_ascii(out);
	return 0;
}

int iam_login_index(struct anfu_iam *iam, const char *login, char *idx)
{
	char norm[256];
	const char *kind;
	int r;

	if (!iam || !idx)
		return ANFU_EINVAL;
	/* Something that cannot be a login identifier is no account. */
	if (iam_login_normalize(login, norm, sizeof(norm), &kind) < 0)
		return ANFU_ENOTFOUND;
	r = anfu_vault_index(iam->vault, "login", norm, strlen(norm), idx);
	anfu_wipe(norm, sizeof(norm));
	return r;
}

int iam_user_find_login(struct anfu_iam *iam, struct anfu_db *db, const char *login,
			struct iam_user *ret)
{
	char idx[IAM_HASH_HEX];
	int r;

	if (!iam || !db || !ret)
		return ANFU_EINVAL;
	r = iam_login_index(iam, login, idx);
	if (r < 0)
		return r;
	return user_query(db, "SELECT " USER_COLS " FROM iam_user WHERE login_index = $1", idx,
			  ret);
}

static const char *sealed_col(const struct iam_user *u, const char *field)
{
	if (strcmp(field, "login") == 0)
		return u->login_enc;
	if (strcmp(field, "phone") == 0)
		return u->phone_enc;
	if (strcmp(field, "email") == 0)
		return u->email_enc;
	if (strcmp(field, "name") == 0)
		return u->name_enc;
	if (strcmp(field, "idno") == 0)
		return u->idno_enc;
	if (strcmp(field, "totp") == 0)
		return u->totp_enc;
	return NULL;
}

int iam_user_reveal(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		    const char *field, char **ret)
{
	const char *ct;
	char *pt = NULL;
	size_t len = 0;
	int r;

	if (!iam || !u || !field || !ret)
		return ANFU_EINVAL;
	ct = sealed_col(u, field);
	if (!ct || !ct[0]) {
		*ret = NULL;
		return 0;
	}
	r = anfu_vault_open_field(iam->vault, db, field, u->id, ct, &pt, &len);
	if (r < 0) {
		anfu_log_error("iam.reveal", "field %s of %s does not open: %s", field, u->id,
			       anfu_strerror(r));
		return r;
	}
	*ret = pt;
	return 0;
}

int iam_user_class(struct anfu_db *db, const struct iam_user *u, enum anfu_role_class *ret)
{
	if (!db || !u || !ret)
		return ANFU_EINVAL;
	return anfu_rbac_class(db, u->id, iam_kind_name(u->kind), ret);
}

/* ---- the masked view (DATA-MASK-*) ------------------------------------------------ */

typedef int (*mask_fn)(const char *s, size_t len, char *out, size_t cap);

/* Masks a value into out; a value the rule does not accept shows "***". */
static void mask_into(mask_fn fn, const char *v, char *out, size_t cap)
{
	out[0] = '\0';
	if (!v)
		return;
	if (fn(v, strlen(v), out, cap) < 0)
		(void)anfu_strlcpy(out, "***", cap);
}

static mask_fn login_mask(const char *login_kind)
{
	if (strcmp(login_kind, "mobile") == 0)
		return anfu_mask_mobile;
	if (strcmp(login_kind, "email") == 0)
		return anfu_mask_email;
	return anfu_mask_nickname;
}

/* The one masking rule of each sealed field shown to anyone. */
static mask_fn field_mask(const struct iam_user *u, const char *field)
{
	if (strcmp(field, "login") == 0)
		return login_mask(u->login_kind);
	if (strcmp(field, "phone") == 0)
		return anfu_mask_mobile;
	if (strcmp(field, "email") == 0)
		return anfu_mask_email;
	if (strcmp(field, "name") == 0)
		return anfu_mask_name;
	if (strcmp(field, "idno") == 0)
		return anfu_mask_id_number;
	return NULL;
}

int iam_user_masked(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		    const char *field, char *out, size_t cap)
{
	mask_fn fn;
	char *v = NULL;
	int r;

	if (!iam || !u || !field || !out || cap == 0)
		return ANFU_EINVAL;
	fn = field_mask(u, field);
	if (!fn)
		return ANFU_EINVAL;
	r = iam_user_reveal(iam, db, u, field, &v);
	if (r < 0)
		return r;
	mask_into(fn, v, out, cap);
	anfu_free_secret(v);
	return 0;
}

int iam_user_view(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		  struct anfu_user_view *ret)
{
	struct anfu_user_view v = { 0 };
	enum anfu_role_class cls;
	int r;

	if (!iam || !db || !u || !ret)
		return ANFU_EINVAL;
	(void)anfu_strlcpy(v.id, u->id, sizeof(v.id));
	v.kind = iam_kind_name(u->kind);
	v.status = iam_user_state(u, anfu_clock_now_ms());
	r = iam_user_masked(iam, db, u, "login", v.login, sizeof(v.login));
	if (r == 0)
		r = iam_user_masked(iam, db, u, "phone", v.phone, sizeof(v.phone));
	if (r == 0)
		r = iam_user_masked(iam, db, u, "email", v.email, sizeof(v.email));
	if (r == 0)
		r = iam_user_masked(iam, db, u, "name", v.real_name, sizeof(v.real_name));
	if (r == 0)
		r = iam_user_masked(iam, db, u, "idno", v.id_number, sizeof(v.id_number));
	if (r < 0)
		return r;
	mask_into(anfu_mask_nickname, u->nickname, v.nickname, sizeof(v.nickname));
	r = anfu_rbac_roles(db, u->id, v.roles, sizeof(v.roles));
	if (r < 0)
		return r;
	r = iam_user_class(db, u, &cls);
	if (r < 0)
		return r;
	v.totp = u->totp_confirmed;
	v.payment_password = u->pay_hash != NULL;
	v.created_ms = u->created_ms;
	v.last_used_ms = u->last_used_ms;
	v.password_expires_ms = iam_password_expires(iam, u, cls);
	*ret = v;
	return 0;
}

/* ---- insert ----------------------------------------------------------------------- */

/* Sealed column and blind index of one optional personal field. */
struct sealed {
	char *enc;
	char idx[IAM_HASH_HEX];
	bool has_idx;
};

static int seal_field(struct anfu_iam *iam, const char *field, const char *index_kind,
		      const char *owner, const char *value, struct sealed *s)
{
	int r;

	if (!value || !value[0])
		return 0;
	r = anfu_vault_seal(iam->vault, field, owner, value, strlen(value), &s->enc);
	if (r < 0 || !index_kind)
		return r;
	r = anfu_vault_index(iam->vault, index_kind, value, strlen(value), s->idx);
	s->has_idx = r == 0;
	return r;
}

#define NSEALED 5 /* login, phone, email, name, idno */

static int insert_row(struct anfu_db *db, const struct iam_new_user *nu, const char *id,
		      const struct sealed *s, int64_t now)
{
	static const char sql[] =
		"INSERT INTO iam_user (id, kind, login_kind, login_index, login_enc, status,"
		" expires_ms, temporary, created_ms, created_by, pwd_hash, pwd_changed_ms,"
		" pwd_must_change, phone_enc, phone_index, email_enc, email_index, name_enc,"
		" idno_enc, idno_index, nickname, merchant_id, lang)"
		" VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12, $13, $14,"
		" $15, $16, $17, $18, $19, $20, $21, $22)";
	const char *lang = nu->lang && strcmp(nu->lang, "en") == 0 ? "en" : "zh";
	struct anfu_param p[22] = {
		iam_ps(id),
		iam_ps(iam_kind_name(nu->kind)),
		iam_ps(nu->login_kind),
		iam_ps(s[0].idx),
		iam_ps(s[0].enc),
		nu->expires_ms > 0 ? ANFU_PI(nu->expires_ms) : ANFU_PNULL,
		ANFU_PI(nu->temporary ? 1 : 0),
		ANFU_PI(now),
		iam_ps(nu->created_by ? nu->created_by : id),
		iam_ps(nu->password_hash),
		nu->password_hash ? ANFU_PI(now) : ANFU_PNULL,
		ANFU_PI(nu->must_change ? 1 : 0),
		iam_ps(s[1].enc),
		s[1].has_idx ? iam_ps(s[1].idx) : ANFU_PNULL,
		iam_ps(s[2].enc),
		s[2].has_idx ? iam_ps(s[2].idx) : ANFU_PNULL,
		iam_ps(s[3].enc),
		iam_ps(s[4].enc),
		s[4].has_idx ? iam_ps(s[4].idx) : ANFU_PNULL,
		iam_ps(nu->nickname && nu->nickname[0] ? nu->nickname : NULL),
		iam_ps(nu->merchant_id && nu->merchant_id[0] ? nu->merchant_id : NULL),
		iam_ps(lang),
	};

	return anfu_db_exec(db, sql, p, 22, NULL, NULL, NULL);
}

int iam_user_insert(struct anfu_iam *iam, struct anfu_db *db, const struct iam_new_user *nu,
		    char id_out[ANFU_ID_MAX])
{
	struct sealed s[NSEALED];
	char id[ANFU_ID_MAX];
	int64_t now = anfu_clock_now_ms();
	int r;

	if (!iam || !db || !nu || !id_out || !nu->login || !nu->login_kind)
		return ANFU_EINVAL;
	memset(s, 0, sizeof(s));
	r = anfu_id_new("usr", id, sizeof(id));
	if (r < 0)
		return r;
	r = seal_field(iam, "login", "login", id, nu->login, &s[0]);
	if (r == 0 && !s[0].has_idx)
		r = ANFU_EINVAL;
	if (r == 0)
		r = seal_field(iam, "phone", "phone", id, nu->phone, &s[1]);
	if (r == 0)
		r = seal_field(iam, "email", "email", id, nu->email, &s[2]);
	if (r == 0)
		r = seal_field(iam, "name", NULL, id, nu->real_name, &s[3]);
	if (r == 0)
		r = seal_field(iam, "idno", "idno", id, nu->id_number, &s[4]);
	if (r == 0)
		r = insert_row(db, nu, id, s, now);
	if (r == 0 && nu->password_hash)
		r = iam_password_store(db, id, "login", nu->password_hash,
				       nu->pwd_reason ? nu->pwd_reason : "initial",
				       nu->created_by ? nu->created_by : id, nu->must_change, now);
	for (int i = 0; i < NSEALED; i++)
		free(s[i].enc);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(id_out, id, ANFU_ID_MAX);
	return 0;
}

/* ---- passwords ---------------------------------------------------------------------- */

int iam_password_store(struct anfu_db *db, const char *user_id, const char *kind, const char *hash,
		       const char *reason, const char *actor_id, bool must_change, int64_t now_ms)
{
	struct anfu_param up[4] = { iam_ps(user_id), iam_ps(hash), ANFU_PI(now_ms),
				    ANFU_PI(must_change ? 1 : 0) };
	char hid[ANFU_ID_MAX];
	int64_t changed = 0;
	bool login;
	int r;

	if (!db || !user_id || !kind || !hash || !reason || !actor_id)
		return ANFU_EINVAL;
	login = strcmp(kind, "login") == 0;
	if (!login && strcmp(kind, "payment") != 0)
		return ANFU_EINVAL;
	r = anfu_db_exec(
		db,
		login ? "UPDATE iam_user SET pwd_hash = $2, pwd_changed_ms = $3,"
			" pwd_must_change = $4, pwd_forced_ms = NULL, pwd_reminded_ms = NULL"
			" WHERE id = $1"
		      : "UPDATE iam_user SET pay_hash = $2, pay_failures = 0,"
			" pay_locked_until_ms = NULL WHERE id = $1",
		up, login ? 4 : 2, NULL, NULL, &changed);
	if (r < 0)
		return r;
	if (changed == 0)
		return ANFU_ENOTFOUND;
	r = anfu_id_new("pwh", hid, sizeof(hid));
	if (r < 0)
		return r;
	{
		struct anfu_param hp[7] = { iam_ps(hid),     iam_ps(user_id), iam_ps(kind),
					    iam_ps(hash),    ANFU_PI(now_ms), iam_ps(reason),
					    iam_ps(actor_id) };
		r = anfu_db_exec(
			db,
			"INSERT INTO iam_password_history (id, user_id, kind, hash,"
			" changed_ms, reason, actor_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			hp, 7, NULL, NULL, NULL);
	}
	return r;
}

struct hist_q {
	char *hashes[ANFU_LIMIT_IAM_HISTORY_SCAN];
	int n;
};

static int hist_row(void *ud, const struct anfu_row *r)
{
	struct hist_q *q = ud;
	const char *h = anfu_row_text(r, 0, NULL);

	if (h && q->n < ANFU_LIMIT_IAM_HISTORY_SCAN)
		q->hashes[q->n++] = anfu_xstrdup(h);
	return 0;
}

int iam_password_in_history(struct anfu_iam *iam, struct anfu_db *db, const char *user_id,
			    const char *kind, const char *pw, size_t len, int n)
{
	/* The last n changes; changes within the same millisecond as the
	 * n-th are included too (a refusal too many beats one too few). */
	static const char sql[] =
		"SELECT hash FROM iam_password_history WHERE user_id = $1 AND kind = $2"
		" AND changed_ms >= (SELECT MIN(t.changed_ms) FROM (SELECT changed_ms"
		" FROM iam_password_history WHERE user_id = $1 AND kind = $2"
		" ORDER BY changed_ms DESC LIMIT $3) t)"
		" ORDER BY changed_ms DESC LIMIT $4";
	struct anfu_param p[4] = { iam_ps(user_id), iam_ps(kind), ANFU_PI(n),
				   ANFU_PI(ANFU_LIMIT_IAM_HISTORY_SCAN) };
	struct hist_q q = { { 0 }, 0 };
	bool pay;
	int r, found = 0;

	if (!iam || !db || !user_id || !kind || !pw)
		return ANFU_EINVAL;
	pay = strcmp(kind, "payment") == 0;
	if (n <= 0)
		return 0;
	r = anfu_db_exec(db, sql, p, 4, hist_row, &q, NULL);
	for (int i = 0; i < q.n; i++) {
		/* Payment PINs: MAC records or old Argon2id hashes (iam/pinmac.h);
		 * one under a key no longer held cannot be compared, so it does
		 * not count as a reuse. */
		if (r == 0 && !found &&
		    (pay ? iam_pin_check(iam->keys, iam->pwhash, user_id, q.hashes[i], pw, len)
			 : anfu_pwhash_check(iam->pwhash, q.hashes[i], pw, len)) == 0)
			found = 1;
		anfu_free_secret(q.hashes[i]);
	}
	if (r < 0)
		return r;
	return found ? ANFU_EEXIST : 0;
}

/* ---- personal data for the password rules --------------------------------------------- */

void iam_personal_clear(struct iam_personal *p)
{
	if (!p)
		return;
	anfu_free_secret(p->login);
	anfu_free_secret(p->name);
	anfu_free_secret(p->nickname);
	anfu_free_secret(p->phone);
	anfu_free_secret(p->email);
	anfu_free_secret(p->idno);
	anfu_wipe(p, sizeof(*p));
}

int iam_personal_load(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		      struct iam_personal *ret)
{
	struct iam_personal p = { 0 };
	int r;

	if (!iam || !u || !ret)
		return ANFU_EINVAL;
	r = iam_user_reveal(iam, db, u, "login", &p.login);
	if (r == 0)
		r = iam_user_reveal(iam, db, u, "name", &p.name);
	if (r == 0)
		r = iam_user_reveal(iam, db, u, "phone", &p.phone);
	if (r == 0)
		r = iam_user_reveal(iam, db, u, "email", &p.email);
	if (r == 0)
		r = iam_user_reveal(iam, db, u, "idno", &p.idno);
	if (r < 0) {
		iam_personal_clear(&p);
		return r;
	}
	p.nickname = u->nickname ? anfu_xstrdup(u->nickname) : NULL;
	if (p.idno && anfu_resident_id_birth(p.idno, strlen(p.idno), p.birthday) < 0)
		p.birthday[0] = '\0';
	*ret = p;
	return 0;
}

/* ---- small shared rules ------------------------------------------------------------------- */

struct idx_q {
	char *out;
	bool found;
};

static int idx_row(void *ud, const struct anfu_row *r)
{
	struct idx_q *q = ud;
	const char *s = anfu_row_text(r, 0, NULL);

	if (s && strlen(s) == IAM_HASH_HEX - 1) {
		memcpy(q->out, s, IAM_HASH_HEX);
		q->found = true;
	}
	return 1;
}

int iam_user_target_index(struct anfu_db *db, const char *user_id, const char *channel,
			  char out[IAM_HASH_HEX])
{
	struct anfu_param p[1] = { iam_ps(user_id) };
	struct idx_q q = { out, false };
	const char *sql;
	int r;

	if (!db || !user_id || !channel || !out)
		return ANFU_EINVAL;
	if (strcmp(channel, "sms") == 0)
		sql = "SELECT phone_index FROM iam_user WHERE id = $1";
	else if (strcmp(channel, "email") == 0)
		sql = "SELECT email_index FROM iam_user WHERE id = $1";
	else
		return ANFU_EINVAL;
	r = anfu_db_exec(db, sql, p, 1, idx_row, &q, NULL);
	if (r < 0)
		return r;
	return q.found ? 0 : ANFU_ENOTFOUND;
}

int64_t iam_password_expires(const struct anfu_iam *iam, const struct iam_user *u,
			     enum anfu_role_class cls)
{
	if (!u->pwd_hash || u->pwd_changed_ms <= 0 || (int)cls < 0 || cls >= ANFU_CLASS_COUNT)
		return 0;
	return u->pwd_changed_ms + iam->cfg->password[cls].max_age_days * IAM_DAY_MS;
}

unsigned iam_required_actions(const struct anfu_iam *iam, const struct iam_user *u,
			      enum anfu_role_class cls, int64_t now_ms)
{
	unsigned ra = 0;
	int64_t exp = iam_password_expires(iam, u, cls);

	/* IAM-PWD-07, IAM-PWD-12, IAM-ADM-01 */
	if (u->pwd_must_change || (exp > 0 && now_ms >= exp))
		ra |= ANFU_RA_CHANGE_PASSWORD;
	/* IAM-MFA-13: staff always have a second factor */
	if (u->kind == ANFU_USER_STAFF && !u->totp_confirmed)
		ra |= ANFU_RA_ENROL_TOTP;
	return ra;
}

unsigned iam_user_methods(const struct iam_user *u)
{
	unsigned m = 0;

	if (u->totp_confirmed && u->totp_enc)
		m |= ANFU_MFA_TOTP;
	if (u->phone_enc)
		m |= ANFU_MFA_SMS;
	if (u->email_enc)
		m |= ANFU_MFA_EMAIL;
	return m;
}
