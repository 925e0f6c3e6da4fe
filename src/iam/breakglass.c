/*
 * iam/breakglass: unlocking a staff account from the host.
 *
 * Staff locks last until an administrator unlocks them (IAM-LOCK-02); when
 * the locked account is the only one that could, the host operator (trusted,
 * docs/security.md) unlocks it with `anfu staff unlock`. The unlock is
 * audited like an administrator's, with the CLI named as the way.
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "iam/internal.h"
#include "store/store.h"

static const struct anfu_iam_ctx cli_ctx = { "", "", "", "", "en", false };

/* The unlock's transaction. */
struct unlock {
	struct anfu_iam *iam;
	const char *username;
};

/* Finds the staff account, clears its lock and audits it. */
static int unlock_tx(struct anfu_tx *tx, void *ud)
{
	const struct unlock *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct iam_user u;
	json_t *d = NULL;
	int64_t changed = 0;
	int r;

	memset(&u, 0, sizeof(u));
	r = iam_user_find_login(c->iam, db, c->username, &u);
	if (r == 0 && u.kind != ANFU_USER_STAFF)
		r = ANFU_ENOTFOUND;
	if (r == 0) {
		r = iam_status_update(db, u.id, IAM_STATUS_BREAKGLASS_RESTORE,
				      "failures = 0, locked_until_ms = NULL", NULL, NULL, 0,
				      &changed);
	}
	if (r == 0 && changed != 1)
		r = ANFU_ECONFLICT;
	if (r == 0) {
		d = json_pack("{s:s}", "via", "cli");
		r = iam_audit(c->iam, tx, &cli_ctx, NULL, "system", "user.unlocked", "user", u.id,
			      "success", d);
	}
	json_decref(d);
	iam_user_clear(&u);
	return r;
}

int anfu_iam_breakglass_unlock(struct anfu_iam *iam, const char *username)
{
	struct unlock c = { iam, username };

	if (!iam || !username)
		return ANFU_EINVAL;
	return iam_tx(iam, unlock_tx, &c, NULL);
}
