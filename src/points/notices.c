/*
 * points/notices: the customer notices of the points module in Simplified
 * Chinese and English (earned, redeemed, cancelled), handed to the notice
 * hook inside the command that made the change (so a notice is queued
 * exactly when the change commits).
 *
 * Owns the texts. Trusts the hook (the module wires it to the notifier).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "points/internal.h"

struct text {
	const char *kind;
	const char *subject_zh, *subject_en;
	const char *body_zh, *body_en; /* printf: points, balance, yuan, fen */
};

static const struct text texts[] = {
	{ "points.earned", "积分到账", "Points earned",
	  "您获得 %" PRId64 " 积分，当前积分余额 %" PRId64 "。",
	  "You earned %" PRId64 " points; your points balance is now %" PRId64 "." },
	{ "points.redeemed", "积分兑换成功", "Points redeemed",
	  "您已使用 %" PRId64 " 积分完成兑换，当前积分余额 %" PRId64 "。",
	  "You redeemed %" PRId64 " points; your points balance is now %" PRId64 "." },
	{ "points.cancelled", "积分兑换已取消", "Points redemption cancelled",
	  "您的兑换已取消，%" PRId64 " 积分已退回，当前积分余额 %" PRId64 "。",
	  "Your redemption was cancelled and %" PRId64 " points were returned; your points "
	  "balance is now %" PRId64 "." },
};

int points_notify(struct anfu_points *p, struct anfu_tx *tx, const char *customer_id,
		  const char *kind, int64_t points, int64_t balance, int64_t value_fen)
{
	char zh[256], en[256];
	const struct text *t = NULL;

	(void)value_fen;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].kind, kind) == 0)
			t = &texts[i];
	if (!t)
		return ANFU_EINVAL;
	if (!p->notice) {
		anfu_log_debug("points.notice", "no notice hook: %s not sent", kind);
		return 0;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	(void)snprintf(zh, sizeof(zh), t->body_zh, points, balance);
	(void)snprintf(en, sizeof(en), t->body_en, points, balance);
#pragma GCC diagnostic pop
	{
		const struct anfu_points_notice n = { t->kind, t->subject_zh, t->subject_en, zh,
						      en };

		return p->notice(p->notice_ud, tx, customer_id, &n);
	}
}
