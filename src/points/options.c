/*
 * points/options: the option table of the points module, [points], parsed
 * into struct anfu_points_config (docs/points.md "Configuration").
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "base/limits.h"
#include "config/option.h"
#include "points/points.h"

#define ANFU_CONFIG_STRUCT struct anfu_points_config

static const struct anfu_config_option points_options[] = {
	ANFU_OPT_INT("points", "earn_per_yuan", earn_per_yuan, 0, 1000, 1, "points", "FUNC-PAY-10",
		     "Points a customer earns per whole yuan paid, before a merchant campaign's "
		     "multiplier and bonus; fractions of a point are dropped (floor). 0 earns "
		     "nothing but campaign bonuses."),
	ANFU_OPT_INT("points", "redeem_unit_points", redeem_unit_points, 1, 1000000, 100, "points",
		     "FUNC-PAY-11",
		     "A value redemption's unit: the points a customer redeems must be a positive "
		     "multiple of this, and each unit buys redeem_unit_fen fen of wallet value."),
	ANFU_OPT_INT("points", "redeem_unit_fen", redeem_unit_fen, 1, 1000000, 100, "fen",
		     "FUNC-PAY-11",
		     "Wallet value (fen) one unit of redeem_unit_points buys (default: 100 points "
		     "= 1 yuan)."),
	ANFU_OPT_INT("points", "grant_max_points", grant_max_points, 1, ANFU_LIMIT_POINTS_AMOUNT,
		     10000, "points", "FUNC-PAY-10",
		     "The most points one operator grant may give (a grant is audited with its "
		     "reason)."),
};

const struct anfu_config_table anfu_points_config_table = {
	.owner = "points",
	.options = points_options,
	.noptions = sizeof(points_options) / sizeof(points_options[0]),
	.size = sizeof(struct anfu_points_config),
};
