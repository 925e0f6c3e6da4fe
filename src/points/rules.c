/*
 * points/rules: the arithmetic of earning and of value redemption, pure
 * (docs/points.md "Earning", "Redemption"). Integers only, every product
 * checked; inputs are bounded by ANFU_LIMIT_POINTS_* so the checks never
 * fire on valid input.
 *
 * Owns nothing; trusts nothing.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "points/points.h"

int anfu_points_earned(int64_t paid_fen, int64_t per_yuan, const struct anfu_points_boost *boost,
		       int64_t *ret)
{
	int64_t mult = boost ? boost->multiplier_pct : 100;
	int64_t bonus = boost ? boost->bonus : 0;
	int64_t v, pts;

	if (!ret || paid_fen < 0 || per_yuan < 0 || per_yuan > 1000 || mult < 1 ||
	    mult > ANFU_LIMIT_POINTS_MULTIPLIER_PCT || bonus < 0 ||
	    bonus > ANFU_LIMIT_POINTS_AMOUNT)
		return ANFU_EINVAL;
	/* fen x per_yuan x pct / (100 fen a yuan x 100 percent), floored:
	 * no fraction of a point is ever given. */
	if (__builtin_mul_overflow(paid_fen, per_yuan, &v) || __builtin_mul_overflow(v, mult, &v))
		return ANFU_ERANGE;
	pts = v / 10000;
	if (__builtin_add_overflow(pts, bonus, &pts) || pts > ANFU_LIMIT_POINTS_AMOUNT)
		return ANFU_ERANGE;
	*ret = pts;
	return 0;
}

int anfu_points_value_fen(int64_t points, int64_t unit_points, int64_t unit_fen, int64_t *ret)
{
	int64_t v;

	if (!ret || points <= 0 || points > ANFU_LIMIT_POINTS_AMOUNT || unit_points <= 0 ||
	    unit_fen <= 0 || points % unit_points != 0)
		return ANFU_EINVAL;
	if (__builtin_mul_overflow(points / unit_points, unit_fen, &v))
		return ANFU_ERANGE;
	*ret = v;
	return 0;
}
