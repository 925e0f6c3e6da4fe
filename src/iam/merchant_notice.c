/*
 * iam/merchant_notice: a notice to a merchant, i.e. to its users (the
 * merchant module knows merchants only by id: docs/payments.md, "Refund
 * lists", a refund waiting for the merchant's funds, FUNC-OPS-05).
 *
 * Reads iam_user (its own table) inside the caller's transaction and
 * queues the notice per user through anfu_iam_notify_user, so the users'
 * languages and bound channels decide as for any notice. Never logs a
 * text.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "iam/iam.h"
#include "store/store.h"
#include "tx/tx.h"

struct users {
	char id[ANFU_LIMIT_IAM_MERCHANT_NOTICE_USERS][ANFU_ID_MAX];
	size_t n;
};

static int user_row(void *ud, const struct anfu_row *row)
{
	struct users *u = ud;
	size_t len = 0;
	const char *s = anfu_row_text(row, 0, &len);

	if (u->n >= ANFU_LIMIT_IAM_MERCHANT_NOTICE_USERS)
		return 1;
	if (!s || len == 0 || len >= ANFU_ID_MAX)
		return 0;
	memcpy(u->id[u->n], s, len);
	u->id[u->n][len] = '\0';
	u->n++;
	return 0;
}

int anfu_iam_notify_merchant(struct anfu_iam *iam, struct anfu_tx *tx, const char *merchant_id,
			     const struct anfu_iam_notice *n, size_t *ret_users)
{
	const struct anfu_param v[2] = {
		ANFU_PS(merchant_id ? merchant_id : ""),
		ANFU_PI(ANFU_LIMIT_IAM_MERCHANT_NOTICE_USERS),
	};
	struct users *u;
	int r;

	if (!iam || !tx || !merchant_id || !merchant_id[0] || !n)
		return ANFU_EINVAL;
	u = anfu_xcalloc(1, sizeof(*u));
	r = anfu_db_exec(anfu_tx_db(tx),
			 "SELECT id FROM iam_user WHERE kind = 'merchant' AND merchant_id = $1"
			 " AND status IN ('active', 'locked') ORDER BY created_ms, id LIMIT $2",
			 v, 2, user_row, u, NULL);
	for (size_t i = 0; r == 0 && i < u->n; i++)
		r = anfu_iam_notify_user(iam, tx, u->id[i], n);
	if (r == 0 && ret_users)
		*ret_users = u->n;
	free(u);
	return r;
}
