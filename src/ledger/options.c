/*
 * ledger/options: the option table of the ledger module: its section,
 * [ledger], parsed into struct anfu_ledger_config.
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "base/limits.h"
#include "config/option.h"
#include "ledger/ledger.h"

#define ANFU_CONFIG_STRUCT struct anfu_ledger_config

static const struct anfu_config_option ledger_options[] = {
	ANFU_OPT_INT("ledger", "batch_max", batch_max, ANFU_LIMIT_LEDGER_BATCH_MIN,
		     ANFU_LIMIT_LEDGER_BATCH, 1000, "transfers", NULL,
		     "Most transfers the ledger writer commits in one batch (one transaction, "
		     "one fsync). A request is never split: one larger than this is a batch "
		     "of its own."),
	ANFU_OPT_INT("ledger", "batch_wait_us", batch_wait_us, 0, ANFU_LIMIT_LEDGER_BATCH_WAIT_US,
		     1000, "microseconds", NULL,
		     "How long the ledger writer waits for more requests before it commits a "
		     "batch that is not full, when its batch before held more than one "
		     "request (a lone caller never waits); 0 takes what is queued at once."),
	ANFU_OPT_INT("ledger", "queue_max", queue_max, ANFU_LIMIT_LEDGER_QUEUE_MIN,
		     ANFU_LIMIT_LEDGER_QUEUE, ANFU_LIMIT_LEDGER_QUEUE, "requests", NULL,
		     "Requests that may wait for the ledger writer; beyond it a request is "
		     "refused at once (503 overloaded)."),
};

const struct anfu_config_table anfu_ledger_config_table = {
	.owner = "ledger",
	.options = ledger_options,
	.noptions = sizeof(ledger_options) / sizeof(ledger_options[0]),
	.size = sizeof(struct anfu_ledger_config),
};
