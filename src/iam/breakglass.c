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

/* Clears the lock of u inside the open transaction and audits it. */
static int unlock_tx(struct anfu_iam *iam, struct anfu_db *db, const struct iam_user *u)
{
	const struct anfu_param p[] = { ANFU_PS(u->id) };
	json_t *d = json_pack("{s:s}", "via", "cli");
	int64_t changed = 0;
	int r;

	r = anfu_db_exec(
		db,
		"UPDATE iam_user SET status = 'active', failures = 0, locked_until_ms = NULL"
		" WHERE id = $1 AND status = 'locked'",
		p, 1, NULL, NULL, &changed);
	if (r == 0 && changed != 1)
		r = ANFU_ECONFLICT;
	if (r == 0)
		r = iam_audit(iam, db, &cli_ctx, NULL, "system", "user.unlocked", "user", u->id,
			      "success", d);
	json_decref(d);
	return r;
}

int anfu_iam_breakglass_unlock(struct anfu_iam *iam, const char *username)
{
	struct iam_user u;
	struct anfu_db *db = NULL;
	int r;

	memset(&u, 0, sizeof(u));
	if (!iam || !username)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r < 0)
		return r;
	r = anfu_db_begin(db);
	if (r < 0)
		return r;
	r = iam_user_find_login(iam, db, username, &u);
	if (r == 0 && u.kind != ANFU_USER_STAFF)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = unlock_tx(iam, db, &u);
	if (r == 0)
		r = anfu_db_commit(db);
	if (r < 0)
		(void)anfu_db_rollback(db);
	iam_user_clear(&u);
	return r;
}
