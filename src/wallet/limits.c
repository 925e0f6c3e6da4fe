/*
 * wallet/limits: the payment limits (RISK-LIM-01..03): per
 * authentication method, per transaction and per calendar day in
 * Asia/Shanghai, the day's usage kept in wallet_limit_usage.
 *
 * The decision is a pure function (unit-tested); the check that other
 * services call runs inside their writer command and records the usage in
 * the same transaction. Trusts its callers for the user id and the
 * authentication method they established.
 *
 * A customer's own lower limits (RISK-LIM-04) live in
 * wallet_customer_limit; every check takes the lower of them and the
 * method's.
 */
#include <string.h>

#include "audit/audit.h"
#include "base/err.h"
#include "base/json.h"
#include "base/money.h"
#include "base/clock.h"
#include "base/refusal.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tx/tx.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

int anfu_wallet_limit_of(const struct anfu_wallet *w, enum anfu_wallet_auth auth,
			 struct anfu_wallet_limit *ret)
{
	if (!w || !ret)
		return ANFU_EINVAL;
	switch (auth) {
	case ANFU_WALLET_AUTH_PIN:
		*ret = (struct anfu_wallet_limit){ w->cfg.pin_single_max, w->cfg.pin_daily_max,
						   "pin_single_max", "pin_daily_max" };
		return 0;
	case ANFU_WALLET_AUTH_PIN_OTP:
		*ret = (struct anfu_wallet_limit){ w->cfg.otp_single_max, w->cfg.otp_daily_max,
						   "otp_single_max", "otp_daily_max" };
		return 0;
	case ANFU_WALLET_AUTH_PIN_TOTP:
		*ret = (struct anfu_wallet_limit){ w->cfg.totp_single_max, w->cfg.totp_daily_max,
						   "totp_single_max", "totp_daily_max" };
		return 0;
	}
	return ANFU_EINVAL;
}

const char *anfu_wallet_limits_decide(const struct anfu_wallet_limit *lim, int64_t used,
				      int64_t amount, const char **ret_limit)
{
	int64_t total;

	if (amount > lim->single_max) {
		*ret_limit = lim->single_name;
		return ANFU_R_WALLET_LIMIT_SINGLE;
	}
	if (anfu_money_add(used, amount, &total) < 0 || total > lim->daily_max) {
		*ret_limit = lim->daily_name;
		return ANFU_R_WALLET_LIMIT_DAILY;
	}
	return NULL;
}

int anfu_wallet_limits_used(struct anfu_db *db, const char *user_id, int64_t day, int64_t *ret_used)
{
	struct anfu_param p[2] = { ANFU_PS(user_id), ANFU_PI(day) };
	int64_t used = 0;
	int r;

	if (!db || !user_id || !ret_used)
		return ANFU_EINVAL;
	r = anfu_db_query_int(db,
			      "SELECT used FROM wallet_limit_usage WHERE user_id = $1 AND day = $2",
			      p, 2, &used);
	if (r == ANFU_ENOTFOUND) {
		used = 0;
		r = 0;
	}
	if (r == 0)
		*ret_used = used;
	return r;
}

/* Adds amount to the day's row when the total stays within daily_max: a
 * conditional update, so that on PostgreSQL a second node's writer waits
 * for this row's lock and then sees the new total. *ret_done: it fitted. */
static int record(struct anfu_db *db, const char *user_id, int64_t day, int64_t amount,
		  int64_t daily_max, bool *ret_done)
{
	struct anfu_param ins[2] = { ANFU_PS(user_id), ANFU_PI(day) };
	struct anfu_param upd[4] = { ANFU_PI(amount), ANFU_PS(user_id), ANFU_PI(day),
				     ANFU_PI(daily_max) };
	int64_t changes = 0;
	int r = anfu_db_exec(db,
			     "INSERT INTO wallet_limit_usage (user_id, day, used, count)"
			     " VALUES ($1, $2, 0, 0) ON CONFLICT (user_id, day) DO NOTHING",
			     ins, 2, NULL, NULL, NULL);

	if (r == 0)
		r = anfu_db_exec(db,
				 "UPDATE wallet_limit_usage SET used = used + $1, count = count + 1"
				 " WHERE user_id = $2 AND day = $3 AND used + $1 <= $4",
				 upd, 4, NULL, NULL, &changes);
	if (r == 0)
		*ret_done = changes == 1;
	return r;
}

int anfu_wallet_limits_check_in(struct anfu_wallet *w, struct anfu_tx *tx, const char *user_id,
				enum anfu_wallet_auth auth, int64_t amount, int64_t now_ms,
				const char **ret_refusal, const char **ret_limit)
{
	struct anfu_wallet_limit lim;
	struct anfu_wallet_own_limits own;
	struct anfu_db *db = tx ? anfu_tx_db(tx) : NULL;
	const char *refusal = NULL, *limit = NULL;
	int64_t day = anfu_clock_day_cn(now_ms), used = 0;
	bool done = false;
	int r;

	if (!w || !db || !user_id || !ret_refusal || !ret_limit || amount <= 0)
		return ANFU_EINVAL;
	r = anfu_wallet_limit_of(w, auth, &lim);
	if (r == 0)
		r = anfu_wallet_own_limits_get(db, user_id, &own);
	if (r == 0)
		r = anfu_wallet_limits_used(db, user_id, day, &used);
	if (r < 0)
		return r;
	anfu_wallet_limit_lower(&lim, &own);
	refusal = anfu_wallet_limits_decide(&lim, used, amount, &limit);
	if (!refusal) {
		r = record(db, user_id, day, amount, lim.daily_max, &done);
		if (r < 0)
			return r;
		/* Another node's writer took the rest of the day meanwhile. */
		if (!done) {
			refusal = ANFU_R_WALLET_LIMIT_DAILY;
			limit = lim.daily_name;
		}
	}
	*ret_refusal = refusal;
	*ret_limit = refusal ? limit : NULL;
	return 0;
}

/* ---- the customer's own limits (RISK-LIM-04) ---- */

static int own_row(void *ud, const struct anfu_row *row)
{
	struct anfu_wallet_own_limits *o = ud;

	o->single_max = anfu_row_int(row, 0);
	o->daily_max = anfu_row_int(row, 1);
	o->updated_ms = anfu_row_int(row, 2);
	return 1;
}

int anfu_wallet_own_limits_get(struct anfu_db *db, const char *user_id,
			       struct anfu_wallet_own_limits *ret)
{
	struct anfu_param p[1] = { ANFU_PS(user_id) };
	struct anfu_wallet_own_limits o = { 0 };
	int r;

	if (!db || !user_id || !ret)
		return ANFU_EINVAL;
	r = anfu_db_exec(db,
			 "SELECT single_max, daily_max, updated_ms FROM wallet_customer_limit"
			 " WHERE user_id = $1",
			 p, 1, own_row, &o, NULL);
	if (r == 0)
		*ret = o;
	return r;
}

void anfu_wallet_limit_lower(struct anfu_wallet_limit *lim,
			     const struct anfu_wallet_own_limits *own)
{
	if (own->single_max > 0 && own->single_max < lim->single_max) {
		lim->single_max = own->single_max;
		lim->single_name = ANFU_WALLET_OWN_SINGLE;
	}
	if (own->daily_max > 0 && own->daily_max < lim->daily_max) {
		lim->daily_max = own->daily_max;
		lim->daily_name = ANFU_WALLET_OWN_DAILY;
	}
}

void anfu_wallet_limit_ceiling(const struct anfu_wallet *w, struct anfu_wallet_limit *ret)
{
	(void)anfu_wallet_limit_of(w, (enum anfu_wallet_auth)(ANFU_WALLET_AUTH_N - 1), ret);
}

struct own_set {
	const char *user_id;
	int64_t single_max, daily_max, now_ms;
};

static int own_set_fn(struct anfu_tx *tx, void *ud)
{
	const struct own_set *c = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_wallet_own_limits old;
	struct anfu_param v[4] = { ANFU_PS(c->user_id), ANFU_PI(c->single_max),
				   ANFU_PI(c->daily_max), ANFU_PI(c->now_ms) };
	int r = anfu_wallet_own_limits_get(db, c->user_id, &old);

	if (r == 0)
		r = anfu_db_exec(
			db,
			"INSERT INTO wallet_customer_limit (user_id, single_max, daily_max,"
			" updated_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE"
			" SET single_max = excluded.single_max, daily_max = excluded.daily_max,"
			" updated_ms = excluded.updated_ms",
			v, 4, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_tx_audit(tx, "wallet.limits.changed", "user", c->user_id, "success",
				  json_pack("{s:I, s:I, s:I, s:I}", "old_single_max",
					    (json_int_t)old.single_max, "old_daily_max",
					    (json_int_t)old.daily_max, "single_max",
					    (json_int_t)c->single_max, "daily_max",
					    (json_int_t)c->daily_max));
	return r;
}

int anfu_wallet_own_limits_set(struct anfu_wallet *w, const struct anfu_actor *actor,
			       const char *user_id, int64_t single_max, int64_t daily_max,
			       bool stepped_up, const char **ret_refusal, const char **ret_field)
{
	struct anfu_wallet_limit top;
	struct own_set c = { user_id, single_max, daily_max, anfu_clock_now_ms() };
	const char *refusal = NULL, *field = NULL;
	int r = 0;

	if (!w || !actor || !user_id || !ret_refusal || !ret_field || single_max < 1 ||
	    daily_max < 1)
		return ANFU_EINVAL;
	anfu_wallet_limit_ceiling(w, &top);
	if (!stepped_up) {
		refusal = ANFU_R_STEP_UP_REQUIRED;
	} else if (single_max > top.single_max) {
		refusal = ANFU_JERR_OUT_OF_RANGE;
		field = "single_max";
	} else if (daily_max > top.daily_max) {
		refusal = ANFU_JERR_OUT_OF_RANGE;
		field = "daily_max";
	} else if (single_max > daily_max) {
		refusal = ANFU_R_INVALID_REQUEST;
		field = "single_max";
	}
	if (!refusal)
		r = anfu_ledger_run_weighted(w->ledger, actor, own_set_fn, &c, 1,
					     anfu_clock_mono_us() / 1000 + WALLET_DEADLINE_MS);
	if (r < 0)
		return r;
	*ret_refusal = refusal;
	*ret_field = field;
	return 0;
}
