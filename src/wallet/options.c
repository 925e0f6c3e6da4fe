/*
 * wallet/options: the option table of the wallet module: its section,
 * [wallet], parsed into struct anfu_wallet_config.
 *
 * The defaults are the PBOC's caps for payment institutions' balance
 * payments (中国人民银行公告〔2015〕第43号《非银行支付机构网络支付业务管理办法》
 * art. 24): 1,000 yuan a day with fewer than two factors, 5,000 yuan a day
 * with two factors without a digital certificate. Trusts nothing; the
 * order of the limits is checked when the service is made.
 */
#include <stddef.h>

#include "base/limits.h"
#include "config/option.h"
#include "wallet/wallet.h"

#define ANFU_CONFIG_STRUCT struct anfu_wallet_config

static const struct anfu_config_option wallet_options[] = {
	ANFU_OPT_INT("wallet", "pin_single_max", pin_single_max, 1, ANFU_LIMIT_WALLET_AMOUNT,
		     100000, "fen", "RISK-LIM-01, RISK-LIM-02",
		     "Largest transfer confirmed with the payment PIN alone; above it the "
		     "customer also presents a second factor (SMS or email code, TOTP)."),
	ANFU_OPT_INT("wallet", "pin_daily_max", pin_daily_max, 1, ANFU_LIMIT_WALLET_AMOUNT, 100000,
		     "fen", "RISK-LIM-01, RISK-LIM-03",
		     "Largest outgoing total of one calendar day (Asia/Shanghai) that transfers "
		     "confirmed with the PIN alone may reach; beyond it a second factor is "
		     "needed."),
	ANFU_OPT_INT("wallet", "otp_single_max", otp_single_max, 1, ANFU_LIMIT_WALLET_AMOUNT,
		     500000, "fen", "RISK-LIM-01, RISK-LIM-02, IAM-MFA-04, TX-CONFIRM-02",
		     "Largest transfer confirmed with the PIN and an SMS or email code; above "
		     "it a TOTP code is needed (up to totp_single_max)."),
	ANFU_OPT_INT("wallet", "otp_daily_max", otp_daily_max, 1, ANFU_LIMIT_WALLET_AMOUNT, 500000,
		     "fen", "RISK-LIM-01, RISK-LIM-03",
		     "Largest outgoing total of one calendar day (Asia/Shanghai) with the PIN "
		     "and an SMS or email code; beyond it a TOTP code is needed (up to "
		     "totp_daily_max)."),
	ANFU_OPT_INT("wallet", "totp_single_max", totp_single_max, 1, ANFU_LIMIT_WALLET_AMOUNT,
		     500000, "fen", "RISK-LIM-01, RISK-LIM-02, IAM-MFA-04",
		     "Largest transfer confirmed with the PIN and a TOTP code (a factor the "
		     "customer holds, stronger than an SMS or email code); at least "
		     "otp_single_max. The default equals it: a TOTP app is no digital "
		     "certificate (PBOC 2015 No. 43 art. 24)."),
	ANFU_OPT_INT("wallet", "totp_daily_max", totp_daily_max, 1, ANFU_LIMIT_WALLET_AMOUNT,
		     500000, "fen", "RISK-LIM-01, RISK-LIM-03",
		     "Largest outgoing total of one calendar day (Asia/Shanghai) with the PIN "
		     "and a TOTP code; at least otp_daily_max. Beyond it a transfer is refused "
		     "(limit_daily_exceeded)."),
	ANFU_OPT_INT("wallet", "confirm_ttl_s", confirm_ttl_s, 30, ANFU_LIMIT_WALLET_CONFIRM_TTL_S,
		     300, "seconds", "TX-CONFIRM-01",
		     "How long a transfer's preview (the payee, amount and time shown) may be "
		     "confirmed; after it the customer previews again."),
	/* Default: the PIN-only single limit, the strictest sensible value:
	 * every transfer that needs more than the PIN also needs a code that
	 * names its amount and payee (a session's step-up code names
	 * neither). Lower would text a code for amounts the PIN alone may
	 * move. */
	ANFU_OPT_INT("wallet", "sms_confirm_over", sms_confirm_over, 1, ANFU_LIMIT_WALLET_AMOUNT,
		     100000, "fen", "IAM-MFA-11, TX-CONFIRM-02",
		     "Above this amount a transfer's preview also texts the payer a one-time "
		     "code naming the amount and the masked payee, bound to that confirmation; "
		     "the confirm needs it (sms_code) besides the PIN. The default equals "
		     "pin_single_max's; the largest value turns it off."),
};

const struct anfu_config_table anfu_wallet_config_table = {
	.owner = "wallet",
	.options = wallet_options,
	.noptions = sizeof(wallet_options) / sizeof(wallet_options[0]),
	.size = sizeof(struct anfu_wallet_config),
};
