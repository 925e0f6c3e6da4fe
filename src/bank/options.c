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
	/* Withdrawal rules (docs/bank.md "Withdrawal"): the defaults; operators
	 * override them through four eyes (bank_withdraw_rules). The bounds are
	 * ANFU_BANK_WD_* (bank/bank.h), also the four-eyes payload's. */
	ANFU_OPT_INT("bank", "withdraw_min", withdraw_min, 1, ANFU_BANK_WD_AMOUNT_MAX, 100, "fen",
		     "FUNC-OPS-02", "Smallest withdrawal (fen; default 1 yuan)."),
	ANFU_OPT_INT("bank", "withdraw_max", withdraw_max, 1, ANFU_BANK_WD_AMOUNT_MAX, 5000000,
		     "fen", "FUNC-OPS-02", "Largest single withdrawal (fen; default 50 000 yuan)."),
	ANFU_OPT_INT("bank", "withdraw_daily_count", withdraw_daily_count, 1,
		     ANFU_BANK_WD_COUNT_MAX, 3, NULL, "FUNC-OPS-02",
		     "Most withdrawals a customer may request in one calendar day (Asia/Shanghai); "
		     "rejected, failed and returned ones not counted."),
	ANFU_OPT_INT("bank", "withdraw_daily_max", withdraw_daily_max, 1, ANFU_BANK_WD_DAILY_MAX,
		     5000000, "fen", "FUNC-OPS-02",
		     "Most a customer may withdraw in one calendar day (Asia/Shanghai), rejected, "
		     "failed and returned withdrawals not counted (fen; default 50 000 yuan)."),
	ANFU_OPT_INT("bank", "withdraw_fee_fixed", withdraw_fee_fixed, 0,
		     ANFU_BANK_WD_FEE_FIXED_MAX, 0, "fen", "FUNC-OPS-02",
		     "Fixed part of a withdrawal's fee (fen)."),
	ANFU_OPT_INT("bank", "withdraw_fee_bp", withdraw_fee_bp, 0, ANFU_BANK_WD_FEE_BP_MAX, 10,
		     "bp", "FUNC-OPS-02",
		     "Proportional part of a withdrawal's fee in basis points of the amount, "
		     "rounded down to the fen (default 0.1 %)."),
	ANFU_OPT_INT("bank", "withdraw_auto_max", withdraw_auto_max, 0, ANFU_BANK_WD_AMOUNT_MAX,
		     100000, "fen", "FUNC-OPS-02",
		     "A withdrawal at or below this is approved by the rules alone; above it an "
		     "operator reviews it (fen; default 1 000 yuan; 0: every one reviewed)."),
	ANFU_OPT_INT("bank", "withdraw_large_over", withdraw_large_over, 0, ANFU_BANK_WD_AMOUNT_MAX,
		     1000000, "fen", "FUNC-OPS-02",
		     "A withdrawal above this needs two different operators to approve it "
		     "(maker and checker; fen; default 10 000 yuan). Not below withdraw_auto_max."),
	ANFU_OPT_INT("bank", "withdraw_stepup_over", withdraw_stepup_over, 0,
		     ANFU_BANK_WD_AMOUNT_MAX, 0, "fen", "IAM-MFA-04",
		     "A withdrawal above this needs, besides the payment PIN, a second factor "
		     "(step-up) proved within [mfa] stepup_window; else 403 step_up_required "
		     "(fen; default 0: every withdrawal)."),
	ANFU_OPT_TEXT("bank", "withdraw_cutoff", ANFU_OPT_STRING, withdraw_cutoff, "none",
		      "FUNC-OPS-02",
		      "The daily cut-off of withdrawals, HH:MM (00:00..23:59) in Asia/Shanghai: "
		      "one approved at or after it is sent to the bank from the next Shanghai "
		      "midnight on (send_after_ms); none: every one is sent at once. A value "
		      "that is neither refuses to start."),
};

const struct anfu_config_table anfu_bank_config_table = {
	.owner = "bank",
	.options = bank_options,
	.noptions = sizeof(bank_options) / sizeof(bank_options[0]),
	.size = sizeof(struct anfu_bank_config),
};
