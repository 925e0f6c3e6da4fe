/*
 * wallet/payee: finds the payee of a transfer by the mobile number, email
 * or login name the payer typed, and the parties' masked names and notice
 * contacts, reading iam's user table (iam_user) read-only: its blind
 * indexes (login_index, phone_index) and its sealed columns, opened
 * through the vault and masked at once (DATA-MASK-*).
 *
 * iam has no exported look-up of another user yet; this file is the one
 * place the wallet reads iam's table, and it moves behind an iam function
 * when iam offers one (docs/wallet.md, "Debts"). The normalisation below
 * is iam's (iam/user.c iam_login_normalize): mobile numbers without a
 * +86 prefix, emails and login names in lower case.
 *
 * Trusts the vault and iam's rows; the typed text is untrusted (it only
 * ever reaches a keyed index).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mask.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/validate.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "vault/vault.h"
#include "wallet/internal.h"

#define IDX_HEX (2 * ANFU_HASH_LEN + 1)
#define NORM_MAX 256

void wallet_person_clear(struct wallet_person *p)
{
	if (!p)
		return;
	anfu_free_secret(p->target);
	memset(p, 0, sizeof(*p));
}

/* to as iam stores login names; *ret_mobile: it is a mobile number. */
static int normalize(const char *to, char out[NORM_MAX], bool *ret_mobile)
{
	size_t len = to ? strlen(to) : 0;

	if (len == 0 || len >= NORM_MAX)
		return ANFU_ENOTFOUND;
	if (anfu_valid_mobile_cn(to, len)) {
		*ret_mobile = true;
		return anfu_mobile_normalize(to, len, out, NORM_MAX) < 0 ? ANFU_ENOTFOUND : 0;
	}
	if (!anfu_valid_email(to, len) && !anfu_valid_username(to, len))
		return ANFU_ENOTFOUND;
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)to[i]);
	*ret_mobile = false;
	return 0;
}

/* A row of iam_user as read here; the sealed texts are copies. */
struct user_row {
	bool found;
	char id[ANFU_ID_MAX];
	char kind[16], status[16], login_kind[16], lang[4];
	char *login_enc, *phone_enc, *email_enc, *name_enc;
};

static void user_row_clear(struct user_row *u)
{
	free(u->login_enc);
	free(u->phone_enc);
	free(u->email_enc);
	free(u->name_enc);
	memset(u, 0, sizeof(*u));
}

static char *dup_col(const struct anfu_row *r, int col)
{
	const char *s = anfu_row_text(r, col, NULL);

	return s && s[0] ? anfu_xstrdup(s) : NULL;
}

static int user_row_fn(void *ud, const struct anfu_row *r)
{
	struct user_row *u = ud;
	const char *s;

	u->found = true;
	s = anfu_row_text(r, 0, NULL);
	(void)anfu_strlcpy(u->id, s ? s : "", sizeof(u->id));
	s = anfu_row_text(r, 1, NULL);
	(void)anfu_strlcpy(u->kind, s ? s : "", sizeof(u->kind));
	s = anfu_row_text(r, 2, NULL);
	(void)anfu_strlcpy(u->status, s ? s : "", sizeof(u->status));
	s = anfu_row_text(r, 3, NULL);
	(void)anfu_strlcpy(u->login_kind, s ? s : "", sizeof(u->login_kind));
	s = anfu_row_text(r, 4, NULL);
	(void)anfu_strlcpy(u->lang, s ? s : "zh", sizeof(u->lang));
	u->login_enc = dup_col(r, 5);
	u->phone_enc = dup_col(r, 6);
	u->email_enc = dup_col(r, 7);
	u->name_enc = dup_col(r, 8);
	return 1;
}

#define USER_COLS "id, kind, status, login_kind, lang, login_enc, phone_enc, email_enc, name_enc"

/* Opens one sealed column of u and masks it with mask into out ("" when
 * the column is empty, "***" when the value has not the mask's shape);
 * *ret_clear (may be NULL) gets the clear text to keep (the caller wipes
 * it). */
static int open_masked(struct anfu_wallet *w, struct anfu_db *db, const char *field,
		       const struct user_row *u, const char *ct,
		       int (*mask)(const char *, size_t, char *, size_t), char out[ANFU_MASK_MAX],
		       char **ret_clear)
{
	char *pt = NULL;
	size_t len = 0;
	int r;

	out[0] = '\0';
	if (!ct)
		return 0;
	r = anfu_vault_open_field(w->vault, db, field, u->id, ct, &pt, &len);
	if (r < 0)
		return r;
	if (mask(pt, len, out, ANFU_MASK_MAX) < 0)
		(void)anfu_strlcpy(out, "***", ANFU_MASK_MAX);
	if (ret_clear)
		*ret_clear = pt;
	else
		anfu_free_secret(pt);
	return 0;
}

static int mask_login(const char *s, size_t len, char *out, size_t cap)
{
	if (anfu_valid_mobile_cn(s, len))
		return anfu_mask_mobile(s, len, out, cap);
	if (anfu_valid_email(s, len))
		return anfu_mask_email(s, len, out, cap);
	return anfu_mask_nickname(s, len, out, cap);
}

static int person_from_row(struct anfu_wallet *w, struct anfu_db *db, const struct user_row *u,
			   bool with_contact, struct wallet_person *ret)
{
	struct wallet_person p;
	int r;

	memset(&p, 0, sizeof(p));
	(void)anfu_strlcpy(p.id, u->id, sizeof(p.id));
	p.customer = strcmp(u->kind, "customer") == 0;
	p.active = strcmp(u->status, "active") == 0;
	(void)anfu_strlcpy(p.lang, strcmp(u->lang, "en") == 0 ? "en" : "zh", sizeof(p.lang));
	r = open_masked(w, db, "name", u, u->name_enc, anfu_mask_name, p.name_masked, NULL);
	if (r == 0)
		r = open_masked(w, db, "login", u, u->login_enc, mask_login, p.login_masked, NULL);
	if (r == 0 && with_contact && u->phone_enc) {
		char scratch[ANFU_MASK_MAX];

		r = open_masked(w, db, "phone", u, u->phone_enc, anfu_mask_mobile, scratch,
				&p.target);
		(void)anfu_strlcpy(p.channel, "sms", sizeof(p.channel));
	} else if (r == 0 && with_contact && u->email_enc) {
		char scratch[ANFU_MASK_MAX];

		r = open_masked(w, db, "email", u, u->email_enc, anfu_mask_email, scratch,
				&p.target);
		(void)anfu_strlcpy(p.channel, "email", sizeof(p.channel));
	}
	if (r < 0) {
		wallet_person_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}

int wallet_person_find(struct anfu_wallet *w, struct anfu_db *db, const char *to,
		       struct wallet_person *ret)
{
	char norm[NORM_MAX], login_idx[IDX_HEX], phone_idx[IDX_HEX];
	struct user_row u;
	bool mobile = false;
	int r;

	if (!w || !db || !ret)
		return ANFU_EINVAL;
	memset(&u, 0, sizeof(u));
	phone_idx[0] = '\0';
	r = normalize(to, norm, &mobile);
	if (r == 0)
		r = anfu_vault_index(w->vault, "login", norm, strlen(norm), login_idx);
	if (r == 0 && mobile)
		r = anfu_vault_index(w->vault, "phone", norm, strlen(norm), phone_idx);
	anfu_wipe(norm, sizeof(norm));
	if (r == 0) {
		struct anfu_param p[2] = { ANFU_PSN(login_idx, strlen(login_idx)),
					   ANFU_PSN(phone_idx, strlen(phone_idx)) };

		/* A login name first: a phone bound to another account as
		 * its contact never hides the account whose login it is. */
		r = anfu_db_exec(db,
				 "SELECT " USER_COLS " FROM iam_user WHERE login_index = $1"
				 " OR (phone_index = $2 AND $2 <> '')"
				 " ORDER BY CASE WHEN login_index = $1 THEN 0 ELSE 1 END LIMIT 1",
				 p, 2, user_row_fn, &u, NULL);
	}
	if (r == 0 && !u.found)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = person_from_row(w, db, &u, false, ret);
	user_row_clear(&u);
	return r;
}

int wallet_person_get(struct anfu_wallet *w, struct anfu_db *db, const char *id, bool with_contact,
		      struct wallet_person *ret)
{
	struct anfu_param p[1] = { ANFU_PS(id) };
	struct user_row u;
	int r;

	if (!w || !db || !id || !ret)
		return ANFU_EINVAL;
	memset(&u, 0, sizeof(u));
	r = anfu_db_exec(db, "SELECT " USER_COLS " FROM iam_user WHERE id = $1", p, 1, user_row_fn,
			 &u, NULL);
	if (r == 0 && !u.found)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = person_from_row(w, db, &u, with_contact, ret);
	user_row_clear(&u);
	return r;
}
