/*
 * Unit tests for the wallet's limit arithmetic (src/wallet/limits.c): the
 * decision of a transfer against a method's single and daily limits, and
 * the Asia/Shanghai calendar day of a time. The check that records the
 * usage in a writer command is proved through the API
 * (tests/api/test_wallet_transfers.py, two concurrent transfers).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/refusal.h"
#include "wallet/wallet.h"

static const struct anfu_wallet_limit lim = { 100000, 500000, "x_single", "x_daily" };

/* At each limit passes, one fen over is refused naming the limit.
 * req: RISK-LIM-02, RISK-LIM-03 */
static void test_limits_decide_at_the_limits_and_one_fen_over(void **state)
{
	static const struct {
		int64_t used, amount;
		const char *code, *limit;
	} cases[] = {
		{ 0, 1, NULL, NULL },
		{ 0, 100000, NULL, NULL },
		{ 0, 100001, ANFU_R_WALLET_LIMIT_SINGLE, "x_single" },
		{ 400000, 100000, NULL, NULL },
		{ 400001, 100000, ANFU_R_WALLET_LIMIT_DAILY, "x_daily" },
		{ 499999, 1, NULL, NULL },
		{ 500000, 1, ANFU_R_WALLET_LIMIT_DAILY, "x_daily" },
		/* The single limit is named first when both are hit. */
		{ 500000, 100001, ANFU_R_WALLET_LIMIT_SINGLE, "x_single" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *limit = "untouched";
		const char *code =
			anfu_wallet_limits_decide(&lim, cases[i].used, cases[i].amount, &limit);

		if (!cases[i].code) {
			assert_null(code);
			assert_string_equal(limit, "untouched");
		} else {
			assert_non_null(code);
			assert_string_equal(code, cases[i].code);
			assert_string_equal(limit, cases[i].limit);
		}
	}
}

/* A day's total that would overflow is refused, not wrapped. */
static void test_limits_decide_refuses_overflowing_total(void **state)
{
	const struct anfu_wallet_limit big = { INT64_MAX, INT64_MAX, "s", "d" };
	const char *limit = NULL;

	(void)state;
	assert_string_equal(anfu_wallet_limits_decide(&big, INT64_MAX, 1, &limit),
			    ANFU_R_WALLET_LIMIT_DAILY);
	assert_string_equal(limit, "d");
}

/* Days change at 16:00 UTC (midnight in Asia/Shanghai, UTC+8), and times
 * before the epoch floor. */
static void test_day_cn_changes_at_shanghai_midnight(void **state)
{
	const int64_t day = 86400000, h = 3600000;

	(void)state;
	assert_int_equal(anfu_clock_day_cn(0), 0);
	assert_int_equal(anfu_clock_day_cn(16 * h - 1), 0);
	assert_int_equal(anfu_clock_day_cn(16 * h), 1);
	assert_int_equal(anfu_clock_day_cn(day + 16 * h - 1), 1);
	assert_int_equal(anfu_clock_day_cn(day + 16 * h), 2);
	assert_int_equal(anfu_clock_day_cn(-8 * h), 0);
	assert_int_equal(anfu_clock_day_cn(-8 * h - 1), -1);
	/* 2026-12-06 15:59:59.999Z is still 6 December in Beijing. */
	assert_int_equal(anfu_clock_day_cn(1796572799999LL), 20793);
	assert_int_equal(anfu_clock_day_cn(1796572800000LL), 20794);
}

/* The customer's own limits lower a method's only where they are lower
 * and set; the lowered limit is then named as the customer's.
 * req: RISK-LIM-04 */
static void test_limit_lower_takes_the_lower_and_names_it(void **state)
{
	static const struct {
		int64_t own_single, own_daily, single, daily;
		const char *single_name, *daily_name;
	} cases[] = {
		{ 0, 0, 100000, 500000, "x_single", "x_daily" },
		{ 99999, 0, 99999, 500000, ANFU_WALLET_OWN_SINGLE, "x_daily" },
		{ 100000, 500000, 100000, 500000, "x_single", "x_daily" },
		{ 200000, 499999, 100000, 499999, "x_single", ANFU_WALLET_OWN_DAILY },
		{ 1, 1, 1, 1, ANFU_WALLET_OWN_SINGLE, ANFU_WALLET_OWN_DAILY },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_wallet_limit l = lim;
		const struct anfu_wallet_own_limits own = { cases[i].own_single, cases[i].own_daily,
							    0 };

		anfu_wallet_limit_lower(&l, &own);
		assert_int_equal(l.single_max, cases[i].single);
		assert_int_equal(l.daily_max, cases[i].daily);
		assert_string_equal(l.single_name, cases[i].single_name);
		assert_string_equal(l.daily_name, cases[i].daily_name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_decide_at_the_limits_and_one_fen_over),
		cmocka_unit_test(test_limits_decide_refuses_overflowing_total),
		cmocka_unit_test(test_day_cn_changes_at_shanghai_midnight),
		cmocka_unit_test(test_limit_lower_takes_the_lower_and_names_it),
	};

	return cmocka_run_group_tests_name("wallet_limits", tests, NULL, NULL);
}
