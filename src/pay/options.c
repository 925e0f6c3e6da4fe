/*
 * pay/options: the option table of the pay module: its section, [pay],
 * parsed into struct anfu_pay_config. Trusts nothing; the order of the
 * escrow bounds is checked when the service is made.
 */
#include <stddef.h>

#include "base/limits.h"
#include "config/option.h"
#include "pay/pay.h"

#define ANFU_CONFIG_STRUCT struct anfu_pay_config

static const struct anfu_config_option pay_options[] = {
	ANFU_OPT_INT("pay", "order_ttl_default_s", order_ttl_default_s, 60,
		     ANFU_LIMIT_PAY_ORDER_TTL_S, 900, "seconds", "FUNC-PAY-19",
		     "How long an order stays payable when the merchant names no ttl_s; then "
		     "it closes by itself (the job pay.expire). 15 minutes, as the common "
		     "cashiers' default."),
	ANFU_OPT_INT("pay", "order_ttl_max_s", order_ttl_max_s, 60, ANFU_LIMIT_PAY_ORDER_TTL_S,
		     7 * 86400, "seconds", "FUNC-PAY-19",
		     "The longest ttl_s a merchant may give an order (longer: "
		     "field_out_of_range)."),
	/* Default 0: a fee is a commercial term between the platform and each
	 * merchant, set by an operator when registering it; a non-zero
	 * platform default would charge merchants nobody agreed a rate with. */
	ANFU_OPT_INT("pay", "fee_bps_default", fee_bps_default, 0, 10000, 0, "basis points",
		     "FUNC-PAY-01",
		     "The fee rate of a merchant registered without one (1 bp = 0.01%); the "
		     "fee is amount * bps / 10000 rounded half up to the fen, posted from the "
		     "merchant's balance to the platform's fee income with each payment."),
	ANFU_OPT_INT("pay", "escrow_days_default", escrow_days_default, 1,
		     ANFU_LIMIT_PAY_ESCROW_DAYS, 10, "days", "FUNC-PAY-02, FUNC-PAY-03",
		     "Days after an escrow payment at which the money is released to the "
		     "merchant when the customer has not confirmed receipt."),
	ANFU_OPT_INT("pay", "escrow_days_min", escrow_days_min, 1, ANFU_LIMIT_PAY_ESCROW_DAYS, 3,
		     "days", "FUNC-PAY-03",
		     "The shortest escrow release a merchant's profile may set (at most "
		     "escrow_days_default)."),
	ANFU_OPT_INT("pay", "escrow_days_max", escrow_days_max, 1, ANFU_LIMIT_PAY_ESCROW_DAYS, 30,
		     "days", "FUNC-PAY-03",
		     "The longest escrow release a merchant's profile may set (at least "
		     "escrow_days_default)."),
	ANFU_OPT_INT("pay", "second_factor_fresh_s", second_factor_fresh_s, 30, 3600, 300,
		     "seconds", "RISK-LIM-01",
		     "A second factor the customer presented in the session this recently "
		     "counts for a payment: its method's (higher) limits apply; older, only "
		     "the PIN-only limits."),
	ANFU_OPT_INT("pay", "expire_interval_s", expire_interval_s, 1, 86400, 1, "seconds",
		     "FUNC-PAY-19",
		     "How often the job pay.expire looks for orders whose expiry passed. An "
		     "order is unpayable from its expiry on whatever the job does; the job "
		     "only moves it to closed (and audits it)."),
	ANFU_OPT_INT("pay", "share_ttl_s", share_ttl_s, 60, ANFU_LIMIT_PAY_ORDER_TTL_S, 86400,
		     "seconds", "FUNC-PAY-17",
		     "How long a pay-on-behalf link stays valid (never past the order's own "
		     "expiry). A day: long enough to reach the person who pays."),

	/* ---- refunds (pay/refund.c) ---- */
	ANFU_OPT_INT("pay", "refund_auto_max", refund_auto_max, 0, ANFU_LIMIT_WALLET_AMOUNT, 50000,
		     "fen", "FUNC-SETL-08, FUNC-OPS-04",
		     "A merchant's refund up to this amount is approved by the rules and executes "
		     "at once; above it an operator reviews it. 0: every refund is reviewed."),
	ANFU_OPT_INT("pay", "refund_four_eyes_min", refund_four_eyes_min, 0,
		     ANFU_LIMIT_WALLET_AMOUNT, 1000000, "fen", "FUNC-OPS-04",
		     "A refund above this amount needs the approvals of two different operators "
		     "(maker and checker; default 10 000 yuan), as a large withdrawal does."),
	ANFU_OPT_INT("pay", "refund_retry_interval_s", refund_retry_interval_s, 1, 86400, 300,
		     "seconds", "FUNC-SETL-08",
		     "How often the job pay.refund_retry executes again the refunds waiting for "
		     "the merchant's funds (on the clock)."),

	/* Payment code (issue 11, wave 2). No catalogue row names a value: 200
	 * yuan is below the common wallets' own no-PIN defaults for barcode
	 * payments, so a stolen screen pays little. */
	ANFU_OPT_INT("pay", "paycode_nopin_max", paycode_nopin_max, 0, ANFU_LIMIT_WALLET_AMOUNT,
		     20000, "fen", "FUNC-PAY-01",
		     "A payment-code payment of at most this many fen is paid at once without "
		     "the PIN; a larger one waits (paying) for the customer's confirmation with "
		     "the PIN in the wallet. 0: every payment-code payment is confirmed."),
};

const struct anfu_config_table anfu_pay_config_table = {
	.owner = "pay",
	.options = pay_options,
	.noptions = sizeof(pay_options) / sizeof(pay_options[0]),
	.size = sizeof(struct anfu_pay_config),
};
