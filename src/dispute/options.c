/*
 * dispute/options: the option table of the dispute module: its section,
 * [dispute], parsed into struct anfu_dispute_config (docs/disputes.md,
 * "Deadlines").
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "config/option.h"
#include "dispute/dispute.h"

#define ANFU_CONFIG_STRUCT struct anfu_dispute_config

static const struct anfu_config_option dispute_options[] = {
	ANFU_OPT_INT("dispute", "take_hours", take_hours, 1, 720, 24, "hours", "FUNC-PAY-13",
		     "An open dispute no operator has taken this long after it was lodged "
		     "(after a reopen: after it was reopened) raises one reminder to the "
		     "operators in that round (an audit record dispute.reminder and an "
		     "alert in the log)."),
	ANFU_OPT_INT("dispute", "handle_days", handle_days, 1, 180, 7, "days", "FUNC-PAY-13",
		     "A dispute not resolved this long after it was lodged (after a reopen: "
		     "after it was reopened) raises one reminder to the operators in that "
		     "round."),
	ANFU_OPT_INT("dispute", "confirm_days", confirm_days, 1, 180, 7, "days", "FUNC-PAY-13",
		     "A resolution the customer has neither confirmed nor answered this long "
		     "after it was made is confirmed by the dispute.deadlines job, and the "
		     "customer is told."),
};

const struct anfu_config_table anfu_dispute_config_table = {
	.owner = "dispute",
	.options = dispute_options,
	.noptions = sizeof(dispute_options) / sizeof(dispute_options[0]),
	.size = sizeof(struct anfu_dispute_config),
};
