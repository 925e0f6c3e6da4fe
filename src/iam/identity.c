/*
 * iam/identity: the customer's identity as another service needs it in
 * clear (the bank module: a card's holder must be the customer; notices go
 * to the customer's phone): real name, resident ID number and phone.
 *
 * Owns nothing; reads iam_user on the calling thread's connection and
 * opens the sealed columns through the vault. Trusts its caller to keep
 * what it gets out of logs and to wipe it (anfu_iam_identity_clear).
 */
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "iam/internal.h"

void anfu_iam_identity_clear(struct anfu_iam_identity *id)
{
	if (!id)
		return;
	anfu_free_secret(id->real_name);
	anfu_free_secret(id->id_number);
	anfu_free_secret(id->phone);
	memset(id, 0, sizeof(*id));
}

int anfu_iam_identity(struct anfu_iam *iam, const char *user_id, struct anfu_iam_identity *ret)
{
	struct anfu_iam_identity id = { 0 };
	struct iam_user u = { 0 };
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !user_id || !ret)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r == 0)
		r = iam_user_load(db, user_id, &u);
	if (r == 0 && u.kind != ANFU_USER_CUSTOMER)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = iam_user_reveal(iam, db, &u, "name", &id.real_name);
	if (r == 0)
		r = iam_user_reveal(iam, db, &u, "idno", &id.id_number);
	if (r == 0)
		r = iam_user_reveal(iam, db, &u, "phone", &id.phone);
	if (r == 0 && !id.phone && strcmp(u.login_kind, "mobile") == 0)
		r = iam_user_reveal(iam, db, &u, "login", &id.phone);
	iam_user_clear(&u);
	if (r < 0) {
		anfu_iam_identity_clear(&id);
		return r;
	}
	*ret = id;
	return 0;
}
