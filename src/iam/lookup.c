/*
 * iam/lookup: other services' view of a user they did not authenticate —
 * the payee a payer names by mobile number, email or login name, and the
 * parties of a transfer by id (struct anfu_iam_party): ids, kind, status,
 * language and the masked real name and login; nothing unmasked leaves.
 *
 * Owns no table of its own: reads iam_user through its blind indexes and
 * iam/user.c's loader, normalises what was typed with iam's login rule
 * (iam_login_normalize, the one used at login) and masks through
 * iam_user_masked (base/mask.h). Trusts iam's rows; the typed text is
 * untrusted (it only ever reaches a keyed index).
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "store/store.h"
#include "vault/vault.h"

struct found_id {
	char id[ANFU_ID_MAX];
	bool found;
};

static int id_row(void *ud, const struct anfu_row *r)
{
	struct found_id *f = ud;
	const char *s = anfu_row_text(r, 0, NULL);

	(void)anfu_strlcpy(f->id, s ? s : "", sizeof(f->id));
	f->found = true;
	return 1;
}

/* The id of the account whose login is typed, else of the one that bound
 * it as its phone (a mobile number only). */
static int find_id(struct anfu_iam *iam, struct anfu_db *db, const char *typed,
		   struct found_id *ret)
{
	char norm[256], login_idx[IAM_HASH_HEX], phone_idx[IAM_HASH_HEX];
	const char *kind = NULL;
	struct found_id f = { { 0 }, false };
	int r;

	/* Something that cannot be a login identifier is no account. */
	if (iam_login_normalize(typed, norm, sizeof(norm), &kind) < 0)
		return ANFU_ENOTFOUND;
	phone_idx[0] = '\0';
	r = anfu_vault_index(iam->vault, "login", norm, strlen(norm), login_idx);
	if (r == 0 && strcmp(kind, "mobile") == 0)
		r = anfu_vault_index(iam->vault, "phone", norm, strlen(norm), phone_idx);
	anfu_wipe(norm, sizeof(norm));
	if (r == 0) {
		struct anfu_param p[2] = { iam_ps(login_idx), iam_ps(phone_idx) };

		/* The login first: a phone bound to another account as its
		 * contact never hides the account whose login it is. */
		r = anfu_db_exec(db,
				 "SELECT id FROM iam_user WHERE login_index = $1"
				 " OR (phone_index = $2 AND $2 <> '')"
				 " ORDER BY CASE WHEN login_index = $1 THEN 0 ELSE 1 END LIMIT 1",
				 p, 2, id_row, &f, NULL);
	}
	if (r == 0 && !f.found)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		*ret = f;
	return r;
}

static int party_of(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u,
		    struct anfu_iam_party *ret)
{
	struct anfu_iam_party v;
	int r;

	memset(&v, 0, sizeof(v));
	(void)anfu_strlcpy(v.id, u->id, sizeof(v.id));
	v.kind = u->kind;
	v.status = iam_user_state(u, anfu_clock_now_ms());
	(void)anfu_strlcpy(v.lang, strcmp(u->lang, "en") == 0 ? "en" : "zh", sizeof(v.lang));
	r = iam_user_masked(iam, db, u, "name", v.real_name, sizeof(v.real_name));
	if (r == 0)
		r = iam_user_masked(iam, db, u, "login", v.login, sizeof(v.login));
	if (r == 0)
		*ret = v;
	return r;
}

int anfu_iam_customer_find(struct anfu_iam *iam, const char *typed, struct anfu_iam_party *ret)
{
	struct anfu_db *db = NULL;
	struct iam_user u;
	struct found_id f;
	int r;

	if (!iam || !typed || !ret)
		return ANFU_EINVAL;
	memset(&u, 0, sizeof(u));
	r = iam_db(iam, &db);
	if (r == 0)
		r = find_id(iam, db, typed, &f);
	if (r == 0)
		r = iam_user_load(db, f.id, &u);
	if (r == 0 && (u.kind != ANFU_USER_CUSTOMER ||
		       iam_user_status(&u, anfu_clock_now_ms()) != ANFU_ACCOUNT_ACTIVE))
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = party_of(iam, db, &u, ret);
	iam_user_clear(&u);
	return r;
}

int anfu_iam_party_get(struct anfu_iam *iam, const char *user_id, struct anfu_iam_party *ret)
{
	struct anfu_db *db = NULL;
	struct iam_user u;
	int r;

	if (!iam || !user_id || !ret)
		return ANFU_EINVAL;
	memset(&u, 0, sizeof(u));
	r = iam_db(iam, &db);
	if (r == 0)
		r = iam_user_load(db, user_id, &u);
	if (r == 0)
		r = party_of(iam, db, &u, ret);
	iam_user_clear(&u);
	return r;
}
