/*
 * Unit tests for the pay module's pure parts: the order state table
 * (pay/states.c) over every (state, event) pair, the fee and its rounding
 * (pay/rules.c), the merchant order number's and the URLs' formats, and
 * the bill lines' arithmetic.
 *
 * Trusts pay/pay.h. The service's behaviour through the API is proved in
 * tests/api/test_pay_orders.py and test_pay_general.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/json.h"
#include "base/refusal.h"
#include "pay/pay.h"

/* ---- the state table ------------------------------------------------------ */

#define C ANFU_PAY_CREATED
#define G ANFU_PAY_PAYING
#define P ANFU_PAY_PAID
#define X ANFU_PAY_CLOSED
#define PR ANFU_PAY_PARTIALLY_REFUNDED
#define R ANFU_PAY_REFUNDED
#define H ANFU_PAY_ESCROW_HELD
#define L ANFU_PAY_ESCROW_RELEASED
#define NO (-1)

/* The table as docs/payments.md draws it: [state][event] -> state, or NO.
 * Events in enum order: pay_start, pay_succeed, pay_fail, cancel, expire,
 * escrow_hold, escrow_release, refund_partial, refund_full. */
static const int expected[ANFU_PAY_STATE_N][ANFU_PAY_EVENT_N] = {
	[C] = { G, P, NO, X, X, H, NO, NO, NO },      [G] = { NO, P, C, X, X, H, NO, NO, NO },
	[P] = { NO, NO, NO, NO, NO, NO, NO, PR, R },  [X] = { NO, NO, NO, NO, NO, NO, NO, NO, NO },
	[PR] = { NO, NO, NO, NO, NO, NO, NO, PR, R }, [R] = { NO, NO, NO, NO, NO, NO, NO, NO, NO },
	[H] = { NO, NO, NO, NO, NO, NO, L, H, R },    [L] = { NO, NO, NO, NO, NO, NO, NO, PR, R },
};

/* Every pair: the legal ones go where the diagram says, every other one
 * is refused and leaves the output alone. req: FUNC-PAY-06 */
static void test_every_state_event_pair(void **state)
{
	int legal = 0;

	(void)state;
	for (int s = 0; s < ANFU_PAY_STATE_N; s++)
		for (int e = 0; e < ANFU_PAY_EVENT_N; e++) {
			enum anfu_pay_state next = (enum anfu_pay_state)99;
			int r = anfu_pay_transition((enum anfu_pay_state)s, (enum anfu_pay_event)e,
						    &next);

			if (expected[s][e] == NO) {
				if (r != ANFU_ECONFLICT || next != (enum anfu_pay_state)99)
					fail_msg("%s --%s--> should be refused",
						 anfu_pay_state_name((enum anfu_pay_state)s),
						 anfu_pay_event_name((enum anfu_pay_event)e));
			} else {
				if (r != 0 || (int)next != expected[s][e])
					fail_msg("%s --%s--> should reach %s (r=%d)",
						 anfu_pay_state_name((enum anfu_pay_state)s),
						 anfu_pay_event_name((enum anfu_pay_event)e),
						 anfu_pay_state_name(
							 (enum anfu_pay_state)expected[s][e]),
						 r);
				legal++;
			}
		}
	assert_int_equal(legal, 19);
}

static void test_transition_refuses_values_out_of_the_enums(void **state)
{
	enum anfu_pay_state next = ANFU_PAY_CREATED;

	(void)state;
	assert_int_equal(anfu_pay_transition((enum anfu_pay_state)ANFU_PAY_STATE_N,
					     ANFU_PAY_EV_CANCEL, &next),
			 ANFU_EINVAL);
	assert_int_equal(
		anfu_pay_transition(ANFU_PAY_CREATED, (enum anfu_pay_event)ANFU_PAY_EVENT_N, &next),
		ANFU_EINVAL);
	assert_int_equal(anfu_pay_transition(ANFU_PAY_CREATED, ANFU_PAY_EV_CANCEL, NULL),
			 ANFU_EINVAL);
	assert_int_equal(next, ANFU_PAY_CREATED);
}

static void test_state_names_round_trip(void **state)
{
	enum anfu_pay_state s;

	(void)state;
	for (int i = 0; i < ANFU_PAY_STATE_N; i++) {
		assert_int_equal(
			anfu_pay_state_parse(anfu_pay_state_name((enum anfu_pay_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(anfu_pay_state_parse("cancelled", &s), ANFU_EINVAL);
	assert_string_equal(anfu_pay_state_name((enum anfu_pay_state)ANFU_PAY_STATE_N), "");
}

static void test_state_refusals_name_the_reason(void **state)
{
	(void)state;
	assert_string_equal(anfu_pay_state_refusal(ANFU_PAY_CLOSED), ANFU_R_PAY_ORDER_CLOSED);
	assert_string_equal(anfu_pay_state_refusal(ANFU_PAY_PAID), ANFU_R_PAY_ORDER_PAID);
	assert_string_equal(anfu_pay_state_refusal(ANFU_PAY_REFUNDED), ANFU_R_PAY_ORDER_PAID);
	assert_string_equal(anfu_pay_state_refusal(ANFU_PAY_ESCROW_HELD), ANFU_R_PAY_ORDER_PAID);
	assert_string_equal(anfu_pay_state_refusal(ANFU_PAY_PAYING), ANFU_R_PAY_ORDER_STATE);
}

/* ---- the fee ------------------------------------------------------------------ */

struct fee_case {
	int64_t amount, bps, fee;
};

/* Half up to the fen: .5 rounds up, just below .5 rounds down. */
static void test_fee_rounds_half_up(void **state)
{
	static const struct fee_case cases[] = {
		{ 100, 50, 1 },	   /* 0.5 fen -> 1 */
		{ 99, 50, 0 },	   /* 0.495 fen -> 0 */
		{ 1, 5000, 1 },	   /* 0.5 fen -> 1 */
		{ 1, 4999, 0 },	   /* 0.4999 fen -> 0 */
		{ 1, 10000, 1 },   /* the whole amount */
		{ 1, 0, 0 },	   /* 0 bps: no fee */
		{ 123456, 0, 0 },  /* 0 bps: no fee */
		{ 10000, 60, 60 }, /* 0.6% of 100 yuan */
		{ 10050, 60, 60 }, /* 60.3 -> 60 */
		{ 10084, 60, 61 }, /* 60.504 -> 61 */
		{ 3, 1667, 1 },	   /* 0.5001 -> 1 */
		{ 0, 100, 0 },
		{ INT64_MAX, 10000, INT64_MAX },   /* no overflow */
		{ INT64_MAX, 1, 922337203685478 }, /* 922337203685477.5807 -> up */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t fee = -1;

		assert_int_equal(anfu_pay_fee(cases[i].amount, cases[i].bps, &fee), 0);
		if (fee != cases[i].fee)
			fail_msg("fee(%lld, %lld) = %lld, want %lld", (long long)cases[i].amount,
				 (long long)cases[i].bps, (long long)fee, (long long)cases[i].fee);
	}
}

static void test_fee_refuses_bad_arguments(void **state)
{
	int64_t fee = 7;

	(void)state;
	assert_int_equal(anfu_pay_fee(-1, 10, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_pay_fee(100, -1, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_pay_fee(100, 10001, &fee), ANFU_EINVAL);
	assert_int_equal(anfu_pay_fee(100, 10, NULL), ANFU_EINVAL);
	assert_int_equal(fee, 7);
}

/* ---- formats ----------------------------------------------------------------- */

static void test_out_trade_no_format(void **state)
{
	char max[ANFU_LIMIT_PAY_OUT_TRADE_NO + 2];

	(void)state;
	memset(max, 'a', sizeof(max));
	assert_true(anfu_pay_out_trade_no_ok("A-z_09", 6));
	assert_true(anfu_pay_out_trade_no_ok(max, ANFU_LIMIT_PAY_OUT_TRADE_NO));
	assert_false(anfu_pay_out_trade_no_ok(max, ANFU_LIMIT_PAY_OUT_TRADE_NO + 1));
	assert_false(anfu_pay_out_trade_no_ok("", 0));
	assert_false(anfu_pay_out_trade_no_ok("a.b", 3));
	assert_false(anfu_pay_out_trade_no_ok("a b", 3));
	assert_false(anfu_pay_out_trade_no_ok("订单", strlen("订单")));
}

static void test_url_format(void **state)
{
	static const char *const good[] = { "https://shop.example/return",
					    "https://shop.example:8443/r?o=1&x=2#f" };
	static const char *const bad[] = { "http://shop.example/",
					   "https://",
					   "https:///path",
					   "javascript:alert(1)",
					   "https://shop.example/<script>",
					   "https://shop.example/a b",
					   "https://shop.example/\"x",
					   "HTTPS://shop.example/",
					   "https://@evil/" };
	char longurl[ANFU_LIMIT_PAY_URL_BYTES + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(anfu_pay_url_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (anfu_pay_url_ok(bad[i], strlen(bad[i])))
			fail_msg("%s accepted", bad[i]);
	memcpy(longurl, "https://a/", 10);
	memset(longurl + 10, 'x', sizeof(longurl) - 10);
	assert_true(anfu_pay_url_ok(longurl, ANFU_LIMIT_PAY_URL_BYTES));
	assert_false(anfu_pay_url_ok(longurl, ANFU_LIMIT_PAY_URL_BYTES + 1));
}

/* ---- lines -------------------------------------------------------------------- */

static void test_lines_must_add_up(void **state)
{
	struct anfu_pay_line l[2] = { { "tea", 2, 150, 300 }, { "cup", 1, 200, 200 } };
	int idx = 7;

	(void)state;
	assert_null(anfu_pay_lines_check(l, 2, 500, &idx));
	assert_string_equal(anfu_pay_lines_check(l, 2, 501, &idx), ANFU_R_PAY_LINES_MISMATCH);
	assert_int_equal(idx, -1);
	l[1].amount = 201;
	assert_string_equal(anfu_pay_lines_check(l, 2, 501, &idx), ANFU_R_PAY_LINES_MISMATCH);
	assert_int_equal(idx, 1);
	l[1].amount = 200;
	l[0].quantity = INT64_MAX / 100; /* the product overflows */
	assert_string_equal(anfu_pay_lines_check(l, 2, 500, &idx), ANFU_R_PAY_LINES_MISMATCH);
	assert_int_equal(idx, 0);
}

static void test_lines_count_bounds(void **state)
{
	static struct anfu_pay_line l[ANFU_LIMIT_PAY_LINES + 1];
	int idx;

	(void)state;
	for (size_t i = 0; i < ANFU_LIMIT_PAY_LINES + 1; i++)
		l[i] = (struct anfu_pay_line){ "x", 1, 1, 1 };
	assert_null(anfu_pay_lines_check(l, ANFU_LIMIT_PAY_LINES, ANFU_LIMIT_PAY_LINES, &idx));
	assert_string_equal(
		anfu_pay_lines_check(l, ANFU_LIMIT_PAY_LINES + 1, ANFU_LIMIT_PAY_LINES + 1, &idx),
		ANFU_JERR_OUT_OF_RANGE);
	assert_string_equal(anfu_pay_lines_check(l, 0, 0, &idx), ANFU_JERR_OUT_OF_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_event_pair),
		cmocka_unit_test(test_transition_refuses_values_out_of_the_enums),
		cmocka_unit_test(test_state_names_round_trip),
		cmocka_unit_test(test_state_refusals_name_the_reason),
		cmocka_unit_test(test_fee_rounds_half_up),
		cmocka_unit_test(test_fee_refuses_bad_arguments),
		cmocka_unit_test(test_out_trade_no_format),
		cmocka_unit_test(test_url_format),
		cmocka_unit_test(test_lines_must_add_up),
		cmocka_unit_test(test_lines_count_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
