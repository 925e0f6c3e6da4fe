/*
 * iam/status: the account status (iam_user.status) and its one transition
 * table: for each event, the statuses it may start from and the status it
 * leads to. Every write of the column is made here, from the table, as one
 * conditional statement; the effective state of an account (a timed lock
 * that ran out, a validity that ended) is derived from the same table.
 *
 * Trusts nothing in the stored text (an unknown status reads as active,
 * as it always has: the column is only ever written from this table);
 * trusts its callers for the extra SQL they add (constants of the code,
 * never input).
 */
#include <stdio.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/limits.h"
#include "iam/internal.h"
#include "iam/status.h"

#define BIT(s) (1u << (s))

/* The names as stored. The only place in the tree where the statuses are
 * spelled (tests/api/test_refusal_codes.py allows them here). */
static const char *const names[ANFU_ACCOUNT_STATUS_COUNT] = {
	[ANFU_ACCOUNT_ACTIVE] = "active",
	[ANFU_ACCOUNT_LOCKED] = "locked",
	[ANFU_ACCOUNT_DISABLED] = "disabled",
	[ANFU_ACCOUNT_EXPIRED] = "expired",
};

struct transition {
	const char *name;
	unsigned from; /* BIT() of each status the event may start from */
	enum anfu_account_status to;
};

/* The table. An event from any other status is refused (ANFU_ECONFLICT). */
static const struct transition table[IAM_STATUS_EVENT_COUNT] = {
	[IAM_STATUS_FAILURES_REACHED] = { "failures_reached",
					  BIT(ANFU_ACCOUNT_ACTIVE) | BIT(ANFU_ACCOUNT_LOCKED),
					  ANFU_ACCOUNT_LOCKED },
	[IAM_STATUS_LOCK_OVER] = { "lock_over", BIT(ANFU_ACCOUNT_LOCKED), ANFU_ACCOUNT_ACTIVE },
	[IAM_STATUS_RESET] = { "reset", BIT(ANFU_ACCOUNT_LOCKED), ANFU_ACCOUNT_ACTIVE },
	[IAM_STATUS_UNLOCK] = { "unlock", BIT(ANFU_ACCOUNT_LOCKED), ANFU_ACCOUNT_ACTIVE },
	[IAM_STATUS_BREAKGLASS_RESTORE] = { "breakglass_restore", BIT(ANFU_ACCOUNT_LOCKED),
					    ANFU_ACCOUNT_ACTIVE },
	[IAM_STATUS_DISABLE] = { "disable",
				 BIT(ANFU_ACCOUNT_ACTIVE) | BIT(ANFU_ACCOUNT_LOCKED) |
					 BIT(ANFU_ACCOUNT_EXPIRED),
				 ANFU_ACCOUNT_DISABLED },
	[IAM_STATUS_ENABLE] = { "enable", BIT(ANFU_ACCOUNT_DISABLED), ANFU_ACCOUNT_ACTIVE },
	[IAM_STATUS_VALIDITY_ENDED] = { "validity_ended",
					BIT(ANFU_ACCOUNT_ACTIVE) | BIT(ANFU_ACCOUNT_LOCKED) |
						BIT(ANFU_ACCOUNT_EXPIRED),
					ANFU_ACCOUNT_EXPIRED },
};

#define SQL_MAX ANFU_LIMIT_IAM_STATUS_SQL

const char *iam_status_name(enum anfu_account_status s)
{
	ANFU_ASSERT(s >= 0 && s < ANFU_ACCOUNT_STATUS_COUNT);
	return names[s];
}

int iam_status_parse(const char *name, enum anfu_account_status *ret)
{
	if (!name || !ret)
		return ANFU_EINVAL;
	for (int s = 0; s < ANFU_ACCOUNT_STATUS_COUNT; s++) {
		if (strcmp(name, names[s]) == 0) {
			*ret = (enum anfu_account_status)s;
			return 0;
		}
	}
	return ANFU_EINVAL;
}

const char *iam_status_event_name(enum iam_status_event ev)
{
	ANFU_ASSERT(ev >= 0 && ev < IAM_STATUS_EVENT_COUNT);
	return table[ev].name;
}

int iam_status_next(enum anfu_account_status from, enum iam_status_event ev,
		    enum anfu_account_status *ret_to)
{
	if (from < 0 || from >= ANFU_ACCOUNT_STATUS_COUNT || ev < 0 ||
	    ev >= IAM_STATUS_EVENT_COUNT || !ret_to)
		return ANFU_EINVAL;
	if (!(table[ev].from & BIT(from)))
		return ANFU_ECONFLICT;
	*ret_to = table[ev].to;
	return 0;
}

/* "status IN ('a', 'b')" for the from-states of ev, into out. */
static int from_sql(enum iam_status_event ev, char *out, size_t cap)
{
	size_t len;
	int n = snprintf(out, cap, "status IN (");

	for (int s = 0; s < ANFU_ACCOUNT_STATUS_COUNT && n > 0 && (size_t)n < cap; s++) {
		if (!(table[ev].from & BIT(s)))
			continue;
		len = (size_t)n;
		n += snprintf(out + len, cap - len, "%s'%s'", out[len - 1] == '(' ? "" : ", ",
			      names[s]);
	}
	if (n > 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, ")");
	return n > 0 && (size_t)n < cap ? 0 : ANFU_ELIMIT;
}

int iam_status_when(enum iam_status_event ev, const char *cond, char *out, size_t cap)
{
	char from[SQL_MAX];
	int n, r;

	if (ev < 0 || ev >= IAM_STATUS_EVENT_COUNT || !out || cap == 0)
		return ANFU_EINVAL;
	r = from_sql(ev, from, sizeof(from));
	if (r < 0)
		return r;
	n = snprintf(out, cap, "%s%s%s", from, cond ? " AND " : "", cond ? cond : "");
	return n > 0 && (size_t)n < cap ? 0 : ANFU_ELIMIT;
}

int iam_status_case(enum iam_status_event ev, const char *cond, char *out, size_t cap)
{
	char when[SQL_MAX];
	int n, r;

	if (ev < 0 || ev >= IAM_STATUS_EVENT_COUNT || !out || cap == 0)
		return ANFU_EINVAL;
	r = iam_status_when(ev, cond, when, sizeof(when));
	if (r < 0)
		return r;
	n = snprintf(out, cap, "CASE WHEN %s THEN '%s' ELSE status END", when, names[table[ev].to]);
	return n > 0 && (size_t)n < cap ? 0 : ANFU_ELIMIT;
}

int iam_status_update(struct anfu_db *db, const char *user_id, enum iam_status_event ev,
		      const char *also, const char *cond, const struct anfu_param *p, size_t np,
		      int64_t *ret_changed)
{
	struct anfu_param q[ANFU_LIMIT_IAM_STATUS_PARAMS + 1];
	char from[SQL_MAX], sql[4 * SQL_MAX];
	int64_t changed = 0;
	int n, r;

	if (!db || !user_id || ev < 0 || ev >= IAM_STATUS_EVENT_COUNT ||
	    np > ANFU_LIMIT_IAM_STATUS_PARAMS || (np > 0 && !p))
		return ANFU_EINVAL;
	r = from_sql(ev, from, sizeof(from));
	if (r < 0)
		return r;
	n = snprintf(sql, sizeof(sql),
		     "UPDATE iam_user SET status = '%s'%s%s WHERE id = $1 AND %s%s%s%s",
		     names[table[ev].to], also ? ", " : "", also ? also : "", from,
		     cond ? " AND (" : "", cond ? cond : "", cond ? ")" : "");
	if (n <= 0 || (size_t)n >= sizeof(sql))
		return ANFU_ELIMIT;
	q[0] = ANFU_PS(user_id);
	for (size_t i = 0; i < np; i++)
		q[i + 1] = p[i];
	r = anfu_db_exec(db, sql, q, np + 1, NULL, NULL, &changed);
	if (r < 0)
		return r;
	ANFU_ASSERT(changed == 0 || changed == 1); /* id is the key */
	if (ret_changed)
		*ret_changed = changed;
	return 0;
}

/* ---- the effective state ------------------------------------------------------ */

enum anfu_account_status iam_user_status(const struct iam_user *u, int64_t now_ms)
{
	enum anfu_account_status s = u->status, to;

	if (u->expires_ms > 0 && now_ms >= u->expires_ms &&
	    iam_status_next(s, IAM_STATUS_VALIDITY_ENDED, &to) == 0)
		s = to;
	/* A timed lock is over at exactly locked_until (IAM-LOCK-02). */
	if (s == ANFU_ACCOUNT_LOCKED && u->locked_until_ms != 0 && now_ms >= u->locked_until_ms &&
	    iam_status_next(s, IAM_STATUS_LOCK_OVER, &to) == 0)
		s = to;
	return s;
}

const char *iam_user_state(const struct iam_user *u, int64_t now_ms)
{
	return iam_status_name(iam_user_status(u, now_ms));
}
