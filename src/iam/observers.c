/*
 * iam/observers: who is told after a registration commits, and the typed
 * list of user ids other services sweep (the ledger opens every
 * customer's accounts: src/ledger/wallets.c).
 *
 * Owns the observer list of the service (filled before the service takes
 * requests, read-only afterwards: no lock). Trusts observers to return
 * quickly and never to call back into a registration.
 */
#include <string.h>

#include "base/err.h"
#include "base/str.h"
#include "iam/internal.h"
#include "store/store.h"

int anfu_iam_on_registered(struct anfu_iam *iam, anfu_iam_registered_fn fn, void *ud)
{
	if (!iam || !fn)
		return ANFU_EINVAL;
	if (iam->nobservers >= ANFU_LIMIT_IAM_OBSERVERS)
		return ANFU_ELIMIT;
	iam->observers[iam->nobservers].fn = fn;
	iam->observers[iam->nobservers].ud = ud;
	iam->nobservers++;
	return 0;
}

void iam_tell_registered(struct anfu_iam *iam, const char *user_id, enum anfu_user_kind kind)
{
	for (size_t i = 0; i < iam->nobservers; i++)
		iam->observers[i].fn(iam->observers[i].ud, user_id, kind);
}

struct id_list {
	char (*ids)[ANFU_ID_MAX];
	size_t cap, n;
};

static int id_row(void *ud, const struct anfu_row *row)
{
	struct id_list *l = ud;
	const char *id = anfu_row_text(row, 0, NULL);

	if (l->n >= l->cap)
		return ANFU_EINTERNAL; /* the query's LIMIT */
	if (!id || anfu_strlcpy(l->ids[l->n], id, ANFU_ID_MAX) < 0)
		return ANFU_ESCHEMA;
	l->n++;
	return 0;
}

int anfu_iam_user_ids(struct anfu_iam *iam, enum anfu_user_kind kind, const char *after,
		      char (*ids)[ANFU_ID_MAX], size_t cap, size_t *ret_n)
{
	struct id_list l = { ids, cap, 0 };
	struct anfu_db *db = NULL;
	int r;

	if (!iam || !after || !ids || cap == 0 || !ret_n || kind < ANFU_USER_CUSTOMER ||
	    kind > ANFU_USER_STAFF)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PS(iam_kind_name(kind)), ANFU_PS(after),
						ANFU_PI((int64_t)cap) };

		r = anfu_db_exec(db,
				 "SELECT id FROM iam_user WHERE kind = $1 AND id > $2 ORDER BY id "
				 "LIMIT $3",
				 p, 3, id_row, &l, NULL);
	}
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}
