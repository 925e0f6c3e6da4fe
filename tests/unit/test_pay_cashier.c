/*
 * Unit tests of pay/cashier.c: an amount in Chinese capital numerals
 * (大写金额) for the cashier page (docs/payments.md, "Cashier page").
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

static void expect_words(int64_t fen, const char *words)
{
	struct anfu_buf b;

	anfu_buf_init(&b, 256);
	assert_int_equal(anfu_pay_amount_words_zh(fen, &b), 0);
	assert_int_equal(anfu_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, words);
	anfu_buf_free(&b);
}

/* req: FUNC-PAY-19 */
static void test_words(void **state)
{
	(void)state;
	expect_words(0, "零元整");
	expect_words(1, "壹分");
	expect_words(10, "壹角");
	expect_words(11, "壹角壹分");
	expect_words(100, "壹元整");
	expect_words(101, "壹元零壹分");
	expect_words(110, "壹元壹角");
	expect_words(1000, "壹拾元整");
	expect_words(10084, "壹佰元捌角肆分");
	expect_words(100500, "壹仟零伍元整");
	expect_words(1000500, "壹万零伍元整");
	expect_words(1010000, "壹万零壹佰元整");
	expect_words(10000000, "壹拾万元整");
	expect_words(100000000000LL, "壹拾亿元整");
	expect_words(10000000001LL, "壹亿元零壹分");
	expect_words(10000100000LL, "壹亿零壹仟元整");
	expect_words(123456789012LL, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分");
	expect_words(100000000000000000LL, "壹仟万亿元整");
	expect_words(1000000000000000LL, "壹拾万亿元整");
	expect_words(999999999999999999LL,
		     "玖仟玖佰玖拾玖万亿玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分");
}

static void test_words_refused(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 256);
	assert_int_equal(anfu_pay_amount_words_zh(-1, &b), ANFU_EINVAL);
	assert_int_equal(anfu_pay_amount_words_zh(INT64_MAX, &b), ANFU_EINVAL);
	assert_int_equal(anfu_pay_amount_words_zh(1000000000000000000LL, &b), ANFU_EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(anfu_pay_amount_words_zh(1, NULL), ANFU_EINVAL);
	anfu_buf_free(&b);
	/* A cap too small: ANFU_ELIMIT, not a short amount. */
	anfu_buf_init(&b, 6);
	assert_int_equal(anfu_pay_amount_words_zh(10084, &b), ANFU_ELIMIT);
	anfu_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
