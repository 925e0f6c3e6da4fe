/*
 * Unit tests for the pure part of the pay module's download
 * (pay/history.c): one CSV cell — RFC 4180 quoting and the neutralising of
 * cells a spreadsheet would run as formulas (FUNC-PAY-16) — and the
 * status filter's names (payments' and refunds' states). The queries,
 * scopes, cursors and the audit are proved in tests/api/test_pay_history.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "pay/pay.h"

static void check_cell(const char *in, const char *want)
{
	struct anfu_buf b;

	anfu_buf_init(&b, 1024);
	assert_int_equal(anfu_pay_csv_cell(&b, in), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	anfu_buf_free(&b);
}

/* req: FUNC-PAY-16 */
static void test_cells_are_quoted_and_formulas_neutralised(void **state)
{
	(void)state;
	check_cell("", "\"\"");
	check_cell("绿茶", "\"绿茶\"");
	check_cell("a,b", "\"a,b\"");
	check_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
	check_cell("line\r\nbreak", "\"line\r\nbreak\"");
	check_cell("=1+1", "\"'=1+1\"");
	check_cell("+86", "\"'+86\"");
	check_cell("-2", "\"'-2\"");
	check_cell("@SUM(A1)", "\"'@SUM(A1)\"");
	check_cell("\tx", "\"'\tx\"");
	check_cell("\rx", "\"'\rx\"");
	check_cell("=\"x\"", "\"'=\"\"x\"\"\"");
	/* Only the first character counts. */
	check_cell("1=1", "\"1=1\"");
	check_cell("10.00", "\"10.00\"");
}

static void test_a_full_buffer_is_an_error(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 4);
	assert_int_equal(anfu_pay_csv_cell(&b, "abcdef"), ANFU_ELIMIT);
	anfu_buf_free(&b);
}

/* The history's status filter takes an order state (payments) or a
 * refund state (refunds) and nothing else. req: FUNC-PAY-14 */
static void test_status_is_an_order_or_a_refund_state(void **state)
{
	static const char *const ok[] = {
		"created",     "paid",	    "closed",	 "refunded",	  "partially_refunded",
		"escrow_held", "requested", "reviewing", "waiting_funds", "succeeded",
		"rejected"
	};
	static const char *const bad[] = { "",	      "PAID",	 "refund", "payment",
					   "succeed", "waiting", "paid ",  "lost" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(anfu_pay_tx_status_ok(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(anfu_pay_tx_status_ok(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cells_are_quoted_and_formulas_neutralised),
		cmocka_unit_test(test_a_full_buffer_is_an_error),
		cmocka_unit_test(test_status_is_an_order_or_a_refund_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
