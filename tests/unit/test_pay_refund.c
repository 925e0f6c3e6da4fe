/*
 * Unit tests of pay's refund rules: the refund state table
 * (src/pay/states.c, its second table) over every pair, and the fee that
 * goes back with a refund (src/pay/refund.c, anfu_pay_refund_fee).
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
#include "pay/pay.h"

#define RQ ANFU_PAY_RF_REQUESTED
#define DC ANFU_PAY_RF_DECLINED
#define RV ANFU_PAY_RF_REVIEWING
#define AP ANFU_PAY_RF_APPROVED
#define RJ ANFU_PAY_RF_REJECTED
#define WF ANFU_PAY_RF_WAITING_FUNDS
#define OK ANFU_PAY_RF_SUCCEEDED
#define SD ANFU_PAY_RF_SENDING
#define FL ANFU_PAY_RF_FAILED
#define NO (-1)

/* The table as docs/payments.md draws it: [state][event] -> state, or NO.
 * Events: accept, decline, approve, reject, wait_funds, succeed,
 * send_card, card_failed, choose_card (an operator's choice of the card:
 * in review and while waiting for funds only, the state unchanged), resend
 * (an operator sends a failed refund to another card: failed only). */
static const int expected[ANFU_PAY_RF_STATE_N][ANFU_PAY_RF_EVENT_N] = {
	[RQ] = { RV, DC, NO, NO, NO, NO, NO, NO, NO, NO },
	[DC] = { NO, NO, NO, NO, NO, NO, NO, NO, NO, NO },
	[RV] = { NO, NO, AP, RJ, NO, NO, NO, NO, RV, NO },
	[AP] = { NO, NO, NO, NO, WF, OK, SD, NO, NO, NO },
	[RJ] = { NO, NO, NO, NO, NO, NO, NO, NO, NO, NO },
	[WF] = { NO, NO, NO, NO, NO, OK, SD, NO, WF, NO },
	[OK] = { NO, NO, NO, NO, NO, NO, NO, NO, NO, NO },
	[SD] = { NO, NO, NO, NO, NO, OK, NO, FL, NO, NO },
	[FL] = { NO, NO, NO, NO, NO, NO, NO, NO, NO, SD },
};

/* Every pair: the legal ones go where the diagram says, every other one
 * is refused with nothing written. req: FUNC-SETL-08, FUNC-OPS-04 */
static void test_every_refund_state_event_pair(void **state)
{
	(void)state;
	for (int s = 0; s < ANFU_PAY_RF_STATE_N; s++)
		for (int e = 0; e < ANFU_PAY_RF_EVENT_N; e++) {
			enum anfu_pay_refund_state next = (enum anfu_pay_refund_state)99;
			int r = anfu_pay_refund_transition((enum anfu_pay_refund_state)s,
							   (enum anfu_pay_refund_event)e, &next);

			if (expected[s][e] == NO) {
				assert_int_equal(r, ANFU_ECONFLICT);
				assert_int_equal(next, 99);
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(next, expected[s][e]);
			}
		}
}

static void test_refund_transition_refuses_values_out_of_the_enums(void **state)
{
	enum anfu_pay_refund_state next;

	(void)state;
	assert_int_equal(anfu_pay_refund_transition((enum anfu_pay_refund_state)ANFU_PAY_RF_STATE_N,
						    ANFU_PAY_RF_EV_ACCEPT, &next),
			 ANFU_EINVAL);
	assert_int_equal(anfu_pay_refund_transition(
				 RQ, (enum anfu_pay_refund_event)ANFU_PAY_RF_EVENT_N, &next),
			 ANFU_EINVAL);
	assert_int_equal(anfu_pay_refund_transition(RQ, ANFU_PAY_RF_EV_ACCEPT, NULL), ANFU_EINVAL);
}

static void test_refund_state_names_round_trip(void **state)
{
	(void)state;
	for (int s = 0; s < ANFU_PAY_RF_STATE_N; s++) {
		enum anfu_pay_refund_state back;
		const char *name = anfu_pay_refund_state_name((enum anfu_pay_refund_state)s);

		assert_true(name[0]);
		assert_int_equal(anfu_pay_refund_state_parse(name, &back), 0);
		assert_int_equal(back, s);
	}
	assert_string_equal(anfu_pay_refund_state_name(WF), "waiting_funds");
	assert_string_equal(anfu_pay_refund_state_name((enum anfu_pay_refund_state)99), "");
	assert_int_equal(anfu_pay_refund_state_parse("executing", NULL), ANFU_EINVAL);
}

/* The fee back is cumulative and rounds down: never more in total than
 * the fee charged, exactly all of it at a full refund. req: FUNC-SETL-08 */
static void test_refund_fee_never_exceeds_the_fee_charged(void **state)
{
	int64_t f = -1, total = 0, refunded = 0;

	(void)state;
	/* 61 fen of fee on 10084: a half refund gives floor(61 * 5042 / 10084) = 30. */
	assert_int_equal(anfu_pay_refund_fee(61, 10084, 0, 0, 5042, &f), 0);
	assert_int_equal(f, 30);
	/* The other half: 61 - 30 = 31, all of it back. */
	assert_int_equal(anfu_pay_refund_fee(61, 10084, 5042, 30, 5042, &f), 0);
	assert_int_equal(f, 31);
	/* 1 fen at a time of a 3-fen order with a 1-fen fee: 0, 0, then 1. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(anfu_pay_refund_fee(1, 3, refunded, total, 1, &f), 0);
		assert_int_equal(f, i == 2 ? 1 : 0);
		total += f;
		refunded += 1;
	}
	assert_int_equal(total, 1);
	/* Many small refunds never give back more than the fee. */
	total = refunded = 0;
	for (int i = 0; i < 97; i++) {
		assert_int_equal(anfu_pay_refund_fee(59, 9700, refunded, total, 100, &f), 0);
		total += f;
		refunded += 100;
		assert_true(total <= 59);
	}
	assert_int_equal(total, 59);
	/* No fee: nothing back. Large values: no overflow. */
	assert_int_equal(anfu_pay_refund_fee(0, 500, 0, 0, 500, &f), 0);
	assert_int_equal(f, 0);
	assert_int_equal(anfu_pay_refund_fee(INT64_MAX / 2, INT64_MAX, 0, 0, INT64_MAX, &f), 0);
	assert_true(f == INT64_MAX / 2);
}

static void test_refund_fee_refuses_inconsistent_totals(void **state)
{
	int64_t f = 7;

	(void)state;
	/* More than what is left of the order. */
	assert_int_equal(anfu_pay_refund_fee(10, 100, 60, 6, 41, &f), ANFU_EINVAL);
	assert_int_equal(anfu_pay_refund_fee(-1, 100, 0, 0, 1, &f), ANFU_EINVAL);
	assert_int_equal(anfu_pay_refund_fee(1, 0, 0, 0, 0, &f), ANFU_EINVAL);
	/* More fee given back before than the share allows. */
	assert_int_equal(anfu_pay_refund_fee(10, 100, 10, 5, 10, &f), ANFU_EINVAL);
	assert_int_equal(anfu_pay_refund_fee(10, 100, 0, 0, 1, NULL), ANFU_EINVAL);
	assert_int_equal(f, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_refund_state_event_pair),
		cmocka_unit_test(test_refund_transition_refuses_values_out_of_the_enums),
		cmocka_unit_test(test_refund_state_names_round_trip),
		cmocka_unit_test(test_refund_fee_never_exceeds_the_fee_charged),
		cmocka_unit_test(test_refund_fee_refuses_inconsistent_totals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
