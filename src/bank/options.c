/*
 * bank/options: the option table of the bank module: its section, [bank],
 * parsed into struct anfu_bank_config.
 *
 * Trusts nothing; static data checked at compile time (field types) and
 * when a configuration is made (defaults parse under their range).
 */
#include <stddef.h>

#include "bank/bank.h"
#include "config/option.h"

#define ANFU_CONFIG_STRUCT struct anfu_bank_config

static const char *const connectors[] = { "none", "simulator", NULL };

static const struct anfu_config_option bank_options[] = {
	ANFU_OPT_ENUM_TEXT("bank", "connector", connector, connectors, "none", "FUNC-PAY-08",
			   "The bank connector: none (no bank: cards and top-ups answer 503 "
			   "bank_unavailable) or simulator (anfu-banksim; a production anfud "
			   "refuses it unless [server] allow_simulators = true)."),
	ANFU_OPT_TEXT("bank", "bank_id", ANFU_OPT_STRING, bank_id, "sim", NULL,
		      "The bank's code ([a-z0-9_], 1..16): owner of its bank_reserve and "
		      "bank_clearing ledger accounts, and the {bank_id} of its callback path."),
	ANFU_OPT_TEXT("bank", "url", ANFU_OPT_STRING, url, "https://127.0.0.1:8643", NULL,
		      "Base URL of the simulator bank (HTTPS)."),
	ANFU_OPT_PATH("bank", "ca_file", ca_file, "banksim/tls/server.crt", NULL,
		      "The simulator's TLS certificate: the only one its connection trusts."),
	ANFU_OPT_PATH("bank", "public_key", public_key, "banksim/keys/banksim.pub", NULL,
		      "The bank's signing public key (an anfu-key .pub file): callbacks "
		      "signed by anything else are refused."),
	ANFU_OPT_INT("bank", "timeout_ms", timeout_ms, 100, 60000, 5000, "ms", NULL,
		     "How long one request to the bank may take; past it the request has no "
		     "answer and is resolved by querying, never by sending again."),
	ANFU_OPT_INT("bank", "query_after_s", query_after_s, 1, 86400, 300, "s", NULL,
		     "A payment in transit (or unanswered) this long is queried by the "
		     "bank.query job."),
	ANFU_OPT_INT("bank", "callback_window_s", callback_window_s, 10, 3600, 300, "s", NULL,
		     "A bank callback's timestamp must be within this of the clock."),
	ANFU_OPT_INT("bank", "topup_max", topup_max, 1, 100000000, 5000000, "fen", "RISK-LIM-02",
		     "Largest single top-up (fen; default 50 000 yuan)."),
	ANFU_OPT_INT("bank", "topup_daily_max", topup_daily_max, 1, 1000000000, 20000000, "fen",
		     "RISK-LIM-03",
		     "Most a customer may top up in one calendar day (Asia/Shanghai), failed "
		     "top-ups not counted (fen; default 200 000 yuan)."),
};

const struct anfu_config_table anfu_bank_config_table = {
	.owner = "bank",
	.options = bank_options,
	.noptions = sizeof(bank_options) / sizeof(bank_options[0]),
	.size = sizeof(struct anfu_bank_config),
};
