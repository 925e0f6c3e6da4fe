/*
 * Unit tests for the bank reconciliation's pure parts (bank/recon.c): the
 * statement file parser (every line checked, the bad line named, no
 * serial twice, the line limit) and the day check of the admin routes.
 *
 * Trusts bank/recon.h. The comparison with bank_payment, its storage,
 * audit and idempotency run against the real simulator in
 * tests/api/test_bank_recon.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bank/recon.h"
#include "base/err.h"
#include "base/limits.h"

/* Parses a C string; *bad the bad line on failure. */
static int parse(const char *text, struct anfu_bank_stmt_line **ret, size_t *n, size_t *bad)
{
	*ret = NULL;
	*n = 0;
	*bad = 999;
	return anfu_bank_statement_parse(text, strlen(text), ret, n, bad);
}

static void test_parse_reads_the_simulators_format(void **state)
{
	struct anfu_bank_stmt_line *l;
	size_t n, bad;

	(void)state;
	assert_int_equal(parse("bsn_01ABCdef,debit,12345,succeeded\n"
			       "bsn_02,credit,9223372036854775807,failed\n",
			       &l, &n, &bad),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].serial, "bsn_01ABCdef");
	assert_string_equal(l[0].kind, "debit");
	assert_int_equal(l[0].amount, 12345);
	assert_int_equal(l[0].status, ANFU_BANK_ST_SUCCEEDED);
	assert_string_equal(l[1].serial, "bsn_02");
	assert_string_equal(l[1].kind, "credit");
	assert_true(l[1].amount == INT64_MAX);
	assert_int_equal(l[1].status, ANFU_BANK_ST_FAILED);
	free(l);
}

static void test_an_empty_file_is_a_day_without_payments(void **state)
{
	struct anfu_bank_stmt_line *l;
	size_t n, bad;

	(void)state;
	assert_int_equal(parse("", &l, &n, &bad), 0);
	assert_int_equal(n, 0);
	assert_null(l);
}

/* Each bad line is refused and named (the good line before it is line 1). */
static void test_parse_names_the_bad_line(void **state)
{
	static const char *const bad_lines[] = {
		"",				  /* an empty line */
		"bsn_03,debit,100\n",		  /* three fields */
		"bsn_03,debit,100,succeeded,x\n", /* five */
		"bsn_03,debit,100,pending\n",	  /* not final */
		"bsn_03,debit,100,Succeeded\n",	  /* case */
		"bsn_03,refund,100,failed\n",	  /* kind */
		"bsn_03,debit,0,failed\n",	  /* zero */
		"bsn_03,debit,-5,failed\n",	  /* sign */
		"bsn_03,debit,+5,failed\n",
		"bsn_03,debit,05,failed\n",		     /* leading zero */
		"bsn_03,debit,1.5,failed\n",		     /* fraction */
		"bsn_03,debit,9223372036854775808,failed\n", /* INT64_MAX + 1 */
		"bsn_03,debit,,failed\n",
		"bsn_,debit,5,failed\n",    /* empty serial */
		"bpy_03,debit,5,failed\n",  /* another prefix */
		"bsn_0-3,debit,5,failed\n", /* another character */
		"bsn_03 ,debit,5,failed\n",
		"bsn_03,debit,5,failed\r\n",				     /* CR */
		"bsn_012345678901234567890123456789012345,debit,5,failed\n", /* 40 chars */
		"bsn_03,debit,5,failed",				     /* no final newline */
		"bsn_01,debit,5,failed\n", /* the serial of line 1 again */
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		struct anfu_bank_stmt_line *l = NULL;
		size_t n = 0, bad = 0;

		(void)snprintf(text, sizeof(text), "bsn_01,debit,5,succeeded\n%s%s", bad_lines[i],
			       bad_lines[i][0] ? "" : "\n");
		assert_int_equal(parse(text, &l, &n, &bad), ANFU_EINVAL);
		assert_int_equal(bad, 2);
		assert_null(l);
		assert_int_equal(n, 0);
	}
}

static void test_a_serial_of_35_characters_is_the_longest(void **state)
{
	struct anfu_bank_stmt_line *l;
	size_t n, bad;

	(void)state;
	assert_int_equal(
		parse("bsn_01234567890123456789012345678901234,debit,5,failed\n", &l, &n, &bad), 0);
	assert_int_equal(strlen(l[0].serial), ANFU_BANK_SERIAL_MAX - 1);
	free(l);
}

static void test_the_line_limit(void **state)
{
	size_t cap = (size_t)(ANFU_LIMIT_BANK_STATEMENT_LINES + 1) * 32;
	char *text = malloc(cap);
	struct anfu_bank_stmt_line *l = NULL;
	size_t len = 0, n = 0, bad = 0;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < ANFU_LIMIT_BANK_STATEMENT_LINES; i++)
		len += (size_t)snprintf(text + len, cap - len, "bsn_%d,debit,1,failed\n", i);
	assert_int_equal(anfu_bank_statement_parse(text, len, &l, &n, &bad), 0);
	assert_int_equal(n, ANFU_LIMIT_BANK_STATEMENT_LINES);
	free(l);
	l = NULL;
	len += (size_t)snprintf(text + len, cap - len, "bsn_x,debit,1,failed\n");
	assert_int_equal(anfu_bank_statement_parse(text, len, &l, &n, &bad), ANFU_ELIMIT);
	assert_null(l);
	free(text);
}

static void test_nul_bytes_and_bad_arguments(void **state)
{
	static const char text[] = "bsn_01,debit,5,fail\0d\n";
	struct anfu_bank_stmt_line *l = NULL;
	size_t n = 0, bad = 0;

	(void)state;
	assert_int_equal(anfu_bank_statement_parse(text, sizeof(text) - 1, &l, &n, &bad),
			 ANFU_EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(anfu_bank_statement_parse(NULL, 1, &l, &n, &bad), ANFU_EINVAL);
	assert_int_equal(anfu_bank_statement_parse(text, 0, NULL, &n, &bad), ANFU_EINVAL);
}

static void test_day_valid(void **state)
{
	(void)state;
	assert_true(anfu_bank_day_valid(20261206));
	assert_true(anfu_bank_day_valid(20240229));
	assert_true(anfu_bank_day_valid(20001231));
	assert_true(anfu_bank_day_valid(19700101));
	assert_false(anfu_bank_day_valid(20260229));
	assert_false(anfu_bank_day_valid(21000229));
	assert_false(anfu_bank_day_valid(20261301));
	assert_false(anfu_bank_day_valid(20261200));
	assert_false(anfu_bank_day_valid(20260431));
	assert_false(anfu_bank_day_valid(19691231));
	assert_false(anfu_bank_day_valid(0));
	assert_false(anfu_bank_day_valid(-20261206));
	assert_false(anfu_bank_day_valid(100001231));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reads_the_simulators_format),
		cmocka_unit_test(test_an_empty_file_is_a_day_without_payments),
		cmocka_unit_test(test_parse_names_the_bad_line),
		cmocka_unit_test(test_a_serial_of_35_characters_is_the_longest),
		cmocka_unit_test(test_the_line_limit),
		cmocka_unit_test(test_nul_bytes_and_bad_arguments),
		cmocka_unit_test(test_day_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
