/*
 * Unit tests for base/str: {ptr,len} comparisons, UTF-8 validation and
 * counting, bounded copying and int64 parsing.
 *
 * Trusts only base/str.h. Inputs are given as explicit byte arrays with
 * lengths, never as NUL-terminated text, because that is how bytes from the
 * network arrive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/str.h"

struct bytes_case {
	const char *name;
	const char *p;
	size_t len;
	bool want;
};

#define B(name, lit, want)                             \
	{                                              \
		(name), (lit), sizeof(lit) - 1, (want) \
	}

static void check_utf8(const struct bytes_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (anfu_utf8_valid(c[i].p, c[i].len) != c[i].want)
			fail_msg("%s: want %s", c[i].name, c[i].want ? "valid" : "invalid");
}

/* req: WEB-SQL-01 (illegal characters are filtered) */
static void test_utf8_accepts_well_formed_text(void **state)
{
	static const struct bytes_case cases[] = {
		B("empty", "", true),
		B("ascii", "hello, world", true),
		B("CJK 安付", "\xe5\xae\x89\xe4\xbb\x98", true),
		B("U+0080", "\xc2\x80", true),
		B("U+07FF", "\xdf\xbf", true),
		B("U+0800", "\xe0\xa0\x80", true),
		B("U+D7FF", "\xed\x9f\xbf", true),
		B("U+E000", "\xee\x80\x80", true),
		B("U+FFFF", "\xef\xbf\xbf", true),
		B("U+10000", "\xf0\x90\x80\x80", true),
		B("emoji U+1F600", "\xf0\x9f\x98\x80", true),
		B("U+10FFFF", "\xf4\x8f\xbf\xbf", true),
		B("DEL", "\x7f", true),
		B("mixed",
		  "a\xe5\xae\x89"
		  "b\xf0\x9f\x98\x80"
		  "c",
		  true),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_utf8_refuses_overlongs(void **state)
{
	static const struct bytes_case cases[] = {
		B("C0 80 (NUL)", "\xc0\x80", false),
		B("C0 AF ('/')", "\xc0\xaf", false),
		B("C1 BF", "\xc1\xbf", false),
		B("E0 80 80", "\xe0\x80\x80", false),
		B("E0 9F BF", "\xe0\x9f\xbf", false),
		B("F0 80 80 80", "\xf0\x80\x80\x80", false),
		B("F0 8F BF BF", "\xf0\x8f\xbf\xbf", false),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_utf8_refuses_surrogates(void **state)
{
	static const struct bytes_case cases[] = {
		B("ED A0 80 (U+D800)", "\xed\xa0\x80", false),
		B("ED AF BF (U+DBFF)", "\xed\xaf\xbf", false),
		B("ED B0 80 (U+DC00)", "\xed\xb0\x80", false),
		B("ED BF BF (U+DFFF)", "\xed\xbf\xbf", false),
		B("CESU pair", "\xed\xa0\xbd\xed\xb8\x80", false),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_utf8_refuses_above_u10ffff(void **state)
{
	static const struct bytes_case cases[] = {
		B("F4 90 80 80 (U+110000)", "\xf4\x90\x80\x80", false),
		B("F5 80 80 80", "\xf5\x80\x80\x80", false),
		B("F7 BF BF BF", "\xf7\xbf\xbf\xbf", false),
		B("F8 88 80 80 80", "\xf8\x88\x80\x80\x80", false),
		B("FE", "\xfe", false),
		B("FF", "\xff", false),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_utf8_refuses_truncated_and_stray_bytes(void **state)
{
	static const struct bytes_case cases[] = {
		B("lone C3", "\xc3", false),
		B("E5 AE (2 of 3)", "\xe5\xae", false),
		B("F0 9F 98 (3 of 4)", "\xf0\x9f\x98", false),
		B("truncated then ASCII",
		  "\xe5\xae"
		  "a",
		  false),
		B("lead then lead", "\xc3\xc3\xa9", false),
		B("lone continuation", "\x80", false),
		B("continuation after ASCII", "a\xbf", false),
		B("text then truncated", "\xe5\xae\x89\xe4\xbb", false),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

/* NUL is not text: it would cut the string short for C libraries.
 * req: WEB-SQL-01 */
static void test_utf8_refuses_nul(void **state)
{
	static const struct bytes_case cases[] = {
		B("NUL alone", "\0", false),
		B("NUL inside", "ab\0cd", false),
		B("NUL at end", "abc\0", false),
	};

	(void)state;
	check_utf8(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_utf8_valid_reads_only_len_bytes(void **state)
{
	(void)state;
	/* The invalid byte lies beyond len. */
	assert_true(anfu_utf8_valid("abc\xff", 3));
	/* A multi-byte sequence cut by len is truncated. */
	assert_false(anfu_utf8_valid("\xe5\xae\x89", 2));
	assert_true(anfu_utf8_valid(NULL, 0));
}

static void test_utf8_count_counts_code_points(void **state)
{
	static const struct {
		const char *p;
		size_t len;
		size_t want;
	} cases[] = {
		{ "", 0, 0 },
		{ "abc", 3, 3 },
		{ "\xe5\xae\x89\xe4\xbb\x98", 6, 2 },	   /* 安付 */
		{ "a\xe5\xae\x89\xf0\x9f\x98\x80", 8, 3 }, /* a安😀 */
		{ "\xc2\xa5"
		  "100",
		  5, 4 }, /* ¥100 */
		{ "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf", 8, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = anfu_utf8_count(cases[i].p, cases[i].len);

		if (n != cases[i].want)
			fail_msg("case %zu: %zu code points, want %zu", i, n, cases[i].want);
	}
}

struct i64_case {
	const char *s;
	int want_r;
	long long want;
};

#define I64_SENTINEL 0x5a5a5a5a5a5aLL

static void check_i64(const struct i64_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long long out = I64_SENTINEL;
		int r = anfu_parse_i64(anfu_str_c(c[i].s), &out);

		if (r != c[i].want_r)
			fail_msg("\"%s\": r=%d want %d", c[i].s, r, c[i].want_r);
		if (r == 0 && out != c[i].want)
			fail_msg("\"%s\": got %lld want %lld", c[i].s, out, c[i].want);
		if (r != 0 && out != I64_SENTINEL)
			fail_msg("\"%s\": output written on failure", c[i].s);
	}
}

static void test_parse_i64_accepts_boundaries(void **state)
{
	static const struct i64_case cases[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "1", 0, 1 },
		{ "-1", 0, -1 },
		{ "42", 0, 42 },
		{ "9223372036854775807", 0, LLONG_MAX },
		{ "-9223372036854775808", 0, LLONG_MIN },
		{ "9223372036854775806", 0, LLONG_MAX - 1 },
		{ "-9223372036854775807", 0, LLONG_MIN + 1 },
	};

	(void)state;
	check_i64(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: SDLC-08 */
static void test_parse_i64_refuses_one_beyond_each_end(void **state)
{
	static const struct i64_case cases[] = {
		{ "9223372036854775808", ANFU_ERANGE, 0 },
		{ "-9223372036854775809", ANFU_ERANGE, 0 },
		{ "9223372036854775810", ANFU_ERANGE, 0 },
		{ "18446744073709551616", ANFU_ERANGE, 0 },
		{ "99999999999999999999999999", ANFU_ERANGE, 0 },
		{ "-99999999999999999999999999", ANFU_ERANGE, 0 },
	};

	(void)state;
	check_i64(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_parse_i64_refuses_non_numbers(void **state)
{
	static const struct i64_case cases[] = {
		{ "", ANFU_EINVAL, 0 },
		{ "-", ANFU_EINVAL, 0 },
		{ "+1", ANFU_EINVAL, 0 },
		{ "1a", ANFU_EINVAL, 0 },
		{ "a1", ANFU_EINVAL, 0 },
		{ " 1", ANFU_EINVAL, 0 },
		{ "1 ", ANFU_EINVAL, 0 },
		{ "--1", ANFU_EINVAL, 0 },
		{ "1-", ANFU_EINVAL, 0 },
		{ "1.0", ANFU_EINVAL, 0 },
		{ "1e3", ANFU_EINVAL, 0 },
		{ "0x10", ANFU_EINVAL, 0 },
		{ "1,000", ANFU_EINVAL, 0 },
		{ "\xef\xbc\x91", ANFU_EINVAL, 0 },
		/* A bad character wins over an overflow before it. */
		{ "99999999999999999999999x", ANFU_EINVAL, 0 },
	};

	(void)state;
	check_i64(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_parse_i64_reads_only_len_bytes(void **state)
{
	long long out = I64_SENTINEL;

	(void)state;
	assert_int_equal(anfu_parse_i64((struct anfu_str){ "123456", 3 }, &out), 0);
	assert_int_equal(out, 123);
	out = I64_SENTINEL;
	assert_int_equal(anfu_parse_i64((struct anfu_str){ "12\0"
							   "3",
							   4 },
					&out),
			 ANFU_EINVAL);
	assert_int_equal(anfu_parse_i64((struct anfu_str){ NULL, 0 }, &out), ANFU_EINVAL);
	assert_true(out == I64_SENTINEL);
}

static void test_strlcpy_copies_when_it_fits(void **state)
{
	char dst[8];

	(void)state;
	memset(dst, 'Z', sizeof(dst));
	assert_int_equal(anfu_strlcpy(dst, "abc", sizeof(dst)), 0);
	assert_string_equal(dst, "abc");
	/* Exactly cap - 1 bytes fit. */
	assert_int_equal(anfu_strlcpy(dst, "1234567", sizeof(dst)), 0);
	assert_string_equal(dst, "1234567");
	assert_int_equal(anfu_strlcpy(dst, "", sizeof(dst)), 0);
	assert_string_equal(dst, "");
}

static void test_strlcpy_truncates_and_reports_elimit(void **state)
{
	char dst[9];

	(void)state;
	memset(dst, 'Z', sizeof(dst));
	assert_int_equal(anfu_strlcpy(dst, "12345678", 8), ANFU_ELIMIT);
	assert_string_equal(dst, "1234567");
	assert_int_equal(dst[8], 'Z'); /* nothing written past cap */
	assert_int_equal(anfu_strlcpy(dst, "x", 1), ANFU_ELIMIT);
	assert_string_equal(dst, "");
}

static void test_strlcpy_refuses_zero_capacity_untouched(void **state)
{
	char dst[4] = "abc";

	(void)state;
	assert_int_equal(anfu_strlcpy(dst, "x", 0), ANFU_ELIMIT);
	assert_string_equal(dst, "abc");
}

static void test_str_eq_compares_bytes_and_lengths(void **state)
{
	(void)state;
	assert_true(anfu_str_eq(ANFU_STR("abc"), ANFU_STR("abc")));
	assert_false(anfu_str_eq(ANFU_STR("abc"), ANFU_STR("abd")));
	assert_false(anfu_str_eq(ANFU_STR("abc"), ANFU_STR("ab")));
	assert_true(anfu_str_eq((struct anfu_str){ NULL, 0 }, ANFU_STR("")));
	assert_true(anfu_str_eq(ANFU_STR("a\0b"), ANFU_STR("a\0b")));
	assert_false(anfu_str_eq(ANFU_STR("a\0b"), ANFU_STR("a\0c")));
	assert_true(anfu_str_eqc((struct anfu_str){ "abcdef", 3 }, "abc"));
	assert_false(anfu_str_eqc((struct anfu_str){ "abcdef", 3 }, "abcd"));
	assert_false(anfu_str_eqc(ANFU_STR("abc"), NULL));
}

static void test_str_caseeq_ignores_ascii_case_only(void **state)
{
	(void)state;
	assert_true(anfu_str_caseeq(ANFU_STR("Content-Type"), ANFU_STR("content-type")));
	assert_false(anfu_str_caseeq(ANFU_STR("abc"), ANFU_STR("abcd")));
	assert_false(anfu_str_caseeq(ANFU_STR("\xc3\x84"), ANFU_STR("\xc3\xa4"))); /* Ä ä */
	assert_true(anfu_str_caseeq((struct anfu_str){ NULL, 0 }, (struct anfu_str){ NULL, 0 }));
}

static void test_str_startswith_checks_prefix(void **state)
{
	(void)state;
	assert_true(anfu_str_startswith(ANFU_STR("/api/v1/users"), "/api/"));
	assert_false(anfu_str_startswith(ANFU_STR("/ap"), "/api/"));
	assert_false(anfu_str_startswith(ANFU_STR("/open/v1"), "/api/"));
	assert_true(anfu_str_startswith(ANFU_STR("abc"), ""));
	assert_true(anfu_str_startswith((struct anfu_str){ NULL, 0 }, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_accepts_well_formed_text),
		cmocka_unit_test(test_utf8_refuses_overlongs),
		cmocka_unit_test(test_utf8_refuses_surrogates),
		cmocka_unit_test(test_utf8_refuses_above_u10ffff),
		cmocka_unit_test(test_utf8_refuses_truncated_and_stray_bytes),
		cmocka_unit_test(test_utf8_refuses_nul),
		cmocka_unit_test(test_utf8_valid_reads_only_len_bytes),
		cmocka_unit_test(test_utf8_count_counts_code_points),
		cmocka_unit_test(test_parse_i64_accepts_boundaries),
		cmocka_unit_test(test_parse_i64_refuses_one_beyond_each_end),
		cmocka_unit_test(test_parse_i64_refuses_non_numbers),
		cmocka_unit_test(test_parse_i64_reads_only_len_bytes),
		cmocka_unit_test(test_strlcpy_copies_when_it_fits),
		cmocka_unit_test(test_strlcpy_truncates_and_reports_elimit),
		cmocka_unit_test(test_strlcpy_refuses_zero_capacity_untouched),
		cmocka_unit_test(test_str_eq_compares_bytes_and_lengths),
		cmocka_unit_test(test_str_caseeq_ignores_ascii_case_only),
		cmocka_unit_test(test_str_startswith_checks_prefix),
	};

	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
