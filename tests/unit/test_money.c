/*
 * Unit tests for base/money: checked int64 arithmetic on minor units,
 * currency exponents, and parsing/formatting of decimal amounts.
 *
 * Trusts only base/money.h. Every failing call is checked to leave its
 * output untouched (STYLE.md: ret_ outputs are written only on success).
 * DESIGN.md rule 1: money is int64 minor units, overflow is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/money.h"

#define SENTINEL ((int64_t)0x5a5a5a5a5a5a5a5a)

enum op {
	ADD,
	SUB,
	MUL
};

struct arith_case {
	enum op op;
	int64_t a, b;
	int want_r;
	int64_t want; /* meaningful when want_r == 0 */
};

static int run_op(enum op op, int64_t a, int64_t b, int64_t *ret)
{
	switch (op) {
	case ADD: return anfu_money_add(a, b, ret);
	case SUB: return anfu_money_sub(a, b, ret);
	case MUL: return anfu_money_mul(a, b, ret);
	}
	return ANFU_EINTERNAL;
}

static void check_arith(const struct arith_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t out = SENTINEL;
		int r = run_op(c[i].op, c[i].a, c[i].b, &out);

		if (r != c[i].want_r)
			fail_msg("case %zu: r=%d want %d", i, r, c[i].want_r);
		if (r == 0 && out != c[i].want)
			fail_msg("case %zu: got %lld want %lld", i, (long long)out,
				 (long long)c[i].want);
		if (r != 0 && out != SENTINEL)
			fail_msg("case %zu: output written on failure", i);
	}
}

/* req: SDLC-08 (integer overflow checks) */
static void test_money_add_refuses_overflow(void **state)
{
	static const struct arith_case cases[] = {
		{ ADD, INT64_MAX, 0, 0, INT64_MAX },
		{ ADD, INT64_MAX, 1, ANFU_ERANGE, 0 },
		{ ADD, 1, INT64_MAX, ANFU_ERANGE, 0 },
		{ ADD, INT64_MAX, INT64_MAX, ANFU_ERANGE, 0 },
		{ ADD, INT64_MIN, 0, 0, INT64_MIN },
		{ ADD, INT64_MIN, -1, ANFU_ERANGE, 0 },
		{ ADD, -1, INT64_MIN, ANFU_ERANGE, 0 },
		{ ADD, INT64_MIN, INT64_MIN, ANFU_ERANGE, 0 },
		{ ADD, INT64_MAX, INT64_MIN, 0, -1 },
		{ ADD, INT64_MAX - 1, 1, 0, INT64_MAX },
		{ ADD, INT64_MIN + 1, -1, 0, INT64_MIN },
		{ ADD, 1234, -1234, 0, 0 },
	};

	(void)state;
	check_arith(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: SDLC-08 */
static void test_money_sub_refuses_overflow(void **state)
{
	static const struct arith_case cases[] = {
		{ SUB, INT64_MIN, 1, ANFU_ERANGE, 0 },
		{ SUB, INT64_MIN, 0, 0, INT64_MIN },
		{ SUB, 0, INT64_MIN, ANFU_ERANGE, 0 },
		{ SUB, -1, INT64_MIN, 0, INT64_MAX },
		{ SUB, -1, INT64_MAX, 0, INT64_MIN },
		{ SUB, -2, INT64_MAX, ANFU_ERANGE, 0 },
		{ SUB, INT64_MAX, -1, ANFU_ERANGE, 0 },
		{ SUB, INT64_MAX, 0, 0, INT64_MAX },
		{ SUB, 100, 250, 0, -150 },
	};

	(void)state;
	check_arith(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: SDLC-08 */
static void test_money_mul_refuses_overflow(void **state)
{
	static const struct arith_case cases[] = {
		{ MUL, INT64_MAX, 1, 0, INT64_MAX },
		{ MUL, INT64_MAX, 2, ANFU_ERANGE, 0 },
		{ MUL, INT64_MAX, -1, 0, -INT64_MAX },
		{ MUL, INT64_MIN, 1, 0, INT64_MIN },
		{ MUL, INT64_MIN, -1, ANFU_ERANGE, 0 },
		{ MUL, -1, INT64_MIN, ANFU_ERANGE, 0 },
		{ MUL, INT64_MIN, 0, 0, 0 },
		{ MUL, (int64_t)1 << 62, 2, ANFU_ERANGE, 0 },
		{ MUL, -((int64_t)1 << 62), 2, 0, INT64_MIN },
		{ MUL, (int64_t)1 << 31, (int64_t)1 << 31, 0, (int64_t)1 << 62 },
		{ MUL, 4294967296LL, 2147483648LL, ANFU_ERANGE, 0 },
		{ MUL, 1999, 3, 0, 5997 },
	};

	(void)state;
	check_arith(cases, sizeof(cases) / sizeof(cases[0]));
}

struct muldiv_case {
	int64_t a, num, den;
	int want_r;
	int64_t want;
};

static void check_muldiv(const struct muldiv_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t out = SENTINEL;
		int r = anfu_money_muldiv(c[i].a, c[i].num, c[i].den, &out);

		if (r != c[i].want_r)
			fail_msg("case %zu (%lld*%lld/%lld): r=%d want %d", i, (long long)c[i].a,
				 (long long)c[i].num, (long long)c[i].den, r, c[i].want_r);
		if (r == 0 && out != c[i].want)
			fail_msg("case %zu (%lld*%lld/%lld): got %lld want %lld", i,
				 (long long)c[i].a, (long long)c[i].num, (long long)c[i].den,
				 (long long)out, (long long)c[i].want);
		if (r != 0 && out != SENTINEL)
			fail_msg("case %zu: output written on failure", i);
	}
}

/* Fees and pro-rata refunds round half away from zero. */
static void test_money_muldiv_rounds_half_away_from_zero(void **state)
{
	static const struct muldiv_case cases[] = {
		/* exact .5 */
		{ 5, 1, 2, 0, 3 },
		{ -5, 1, 2, 0, -3 },
		{ 5, -1, 2, 0, -3 },
		{ -5, -1, 2, 0, 3 },
		{ 1, 1, 2, 0, 1 },
		{ -1, 1, 2, 0, -1 },
		{ 7, 1, 2, 0, 4 },
		{ -7, 1, 2, 0, -4 },
		{ 25, 1, 10, 0, 3 },   /* 2.5 */
		{ -25, 1, 10, 0, -3 }, /* -2.5 */
		/* below .5 goes toward zero, above .5 away from it */
		{ 1, 1, 3, 0, 0 },
		{ -1, 1, 3, 0, 0 },
		{ 2, 1, 3, 0, 1 },
		{ -2, 1, 3, 0, -1 },
		{ 249, 1, 100, 0, 2 },
		{ -249, 1, 100, 0, -2 },
		{ 251, 1, 100, 0, 3 },
		{ -251, 1, 100, 0, -3 },
		/* exact results */
		{ 0, 5, 7, 0, 0 },
		{ 10000, 6, 1000, 0, 60 },
		{ -10000, 6, 1000, 0, -60 },
		/* a 0.38 % fee on 123.45 is 0.46911 -> 0.47 */
		{ 12345, 38, 10000, 0, 47 },
		/* pro-rata refund of one third */
		{ 1000, 1, 3, 0, 333 },
		{ 1001, 1, 3, 0, 334 },
	};

	(void)state;
	check_muldiv(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: SDLC-08 */
static void test_money_muldiv_refuses_overflow(void **state)
{
	static const struct muldiv_case cases[] = {
		/* The intermediate product is wider than 64 bits. */
		{ INT64_MAX, INT64_MAX, INT64_MAX, 0, INT64_MAX },
		{ INT64_MIN, INT64_MAX, INT64_MAX, 0, INT64_MIN },
		{ INT64_MAX, 2, 2, 0, INT64_MAX },
		{ INT64_MAX, 2, 1, ANFU_ERANGE, 0 },
		{ INT64_MAX, 3, 2, ANFU_ERANGE, 0 },
		{ INT64_MIN, 1, 1, 0, INT64_MIN },
		{ INT64_MIN, -1, 1, ANFU_ERANGE, 0 },
		/* (2^64 - 1) / 2 = 2^63 - 0.5: rounding away from zero crosses
		 * INT64_MAX, but reaches exactly INT64_MIN when negative. */
		{ 4294967295LL, 4294967297LL, 2, ANFU_ERANGE, 0 },
		{ -4294967295LL, 4294967297LL, 2, 0, INT64_MIN },
	};

	(void)state;
	check_muldiv(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_money_muldiv_refuses_nonpositive_denominator(void **state)
{
	static const struct muldiv_case cases[] = {
		{ 100, 1, 0, ANFU_EINVAL, 0 },	{ 100, 1, -1, ANFU_EINVAL, 0 },
		{ 100, 1, -2, ANFU_EINVAL, 0 }, { 100, 1, INT64_MIN, ANFU_EINVAL, 0 },
		{ 0, 0, 0, ANFU_EINVAL, 0 },
	};

	(void)state;
	check_muldiv(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_money_add_m_adds_same_currency(void **state)
{
	struct anfu_money a = { 1234, "CNY" }, b = { -34, "CNY" }, out = { 0, "" };

	(void)state;
	assert_int_equal(anfu_money_add_m(&a, &b, &out), 0);
	assert_int_equal(out.minor, 1200);
	assert_string_equal(out.currency, "CNY");
}

static void test_money_add_m_refuses_different_currencies(void **state)
{
	struct anfu_money a = { 100, "CNY" }, b = { 100, "USD" };
	struct anfu_money out = { SENTINEL, "ZZZ" };

	(void)state;
	assert_int_equal(anfu_money_add_m(&a, &b, &out), ANFU_EINVAL);
	assert_true(out.minor == SENTINEL);
	assert_string_equal(out.currency, "ZZZ");
}

/* req: SDLC-08 */
static void test_money_add_m_refuses_overflow(void **state)
{
	struct anfu_money a = { INT64_MAX, "CNY" }, b = { 1, "CNY" };
	struct anfu_money out = { SENTINEL, "ZZZ" };

	(void)state;
	assert_int_equal(anfu_money_add_m(&a, &b, &out), ANFU_ERANGE);
	assert_true(out.minor == SENTINEL);
	assert_string_equal(out.currency, "ZZZ");
}

static void test_currency_exponent_of_known_and_unknown_codes(void **state)
{
	static const struct {
		const char *code;
		int want;
	} cases[] = {
		{ "CNY", 2 },
		{ "USD", 2 },
		{ "HKD", 2 },
		{ "EUR", 2 },
		{ "JPY", 0 },
		{ "KRW", 0 },
		{ "MOP", 2 },
		{ "cny", ANFU_EINVAL },
		{ "XXX", ANFU_EINVAL },
		{ "CN", ANFU_EINVAL },
		{ "CNYX", ANFU_EINVAL },
		{ "", ANFU_EINVAL },
		{ "RMB", ANFU_EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = anfu_currency_exponent(anfu_str_c(cases[i].code));

		if (r != cases[i].want)
			fail_msg("%s: got %d want %d", cases[i].code, r, cases[i].want);
	}
	/* A prefix of a longer buffer is compared by length, not to NUL. */
	assert_int_equal(anfu_currency_exponent((struct anfu_str){ "JPYX", 3 }), 0);
}

struct parse_case {
	const char *s;
	int exponent;
	int want_r;
	int64_t want;
};

static void check_parse(const struct parse_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t out = SENTINEL;
		int r = anfu_money_parse(anfu_str_c(c[i].s), c[i].exponent, &out);

		if (r != c[i].want_r)
			fail_msg("\"%s\" (exp %d): r=%d want %d", c[i].s, c[i].exponent, r,
				 c[i].want_r);
		if (r == 0 && out != c[i].want)
			fail_msg("\"%s\" (exp %d): got %lld want %lld", c[i].s, c[i].exponent,
				 (long long)out, (long long)c[i].want);
		if (r != 0 && out != SENTINEL)
			fail_msg("\"%s\": output written on failure", c[i].s);
	}
}

/* req: WEB-SQL-01 (amounts are validated on the server) */
static void test_money_parse_accepts_decimal_amounts(void **state)
{
	static const struct parse_case cases[] = {
		{ "12.34", 2, 0, 1234 },
		{ "0.5", 2, 0, 50 },
		{ "100", 2, 0, 10000 },
		{ "-0.01", 2, 0, -1 },
		{ "0", 2, 0, 0 },
		{ "0.00", 2, 0, 0 },
		{ "1.2", 2, 0, 120 },
		{ "-12.34", 2, 0, -1234 },
		{ "100", 0, 0, 100 },
		{ "1.234", 3, 0, 1234 },
		{ "10.5", 1, 0, 105 },
		{ "92233720368547758.07", 2, 0, INT64_MAX },
		{ "9223372036854775807", 0, 0, INT64_MAX },
		{ "-9223372036854775807", 0, 0, -INT64_MAX },
		/* INT64_MIN is representable, so it parses (regression: it used
		 * to be refused as overflow while anfu_money_format prints it). */
		{ "-9223372036854775808", 0, 0, INT64_MIN },
		{ "-92233720368547758.08", 2, 0, INT64_MIN },
	};

	(void)state;
	check_parse(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: WEB-SQL-01 */
static void test_money_parse_refuses_malformed_amounts(void **state)
{
	static const struct parse_case cases[] = {
		{ "", 2, ANFU_EINVAL, 0 },
		{ "-", 2, ANFU_EINVAL, 0 },
		{ ".5", 2, ANFU_EINVAL, 0 },
		{ "-.5", 2, ANFU_EINVAL, 0 },
		{ "5.", 2, ANFU_EINVAL, 0 },
		{ "1.234", 2, ANFU_EINVAL, 0 },
		{ "1.5", 0, ANFU_EINVAL, 0 },
		{ "01", 2, ANFU_EINVAL, 0 },
		{ "00", 2, ANFU_EINVAL, 0 },
		{ "00.5", 2, ANFU_EINVAL, 0 },
		{ "-01", 2, ANFU_EINVAL, 0 },
		{ "1e5", 2, ANFU_EINVAL, 0 },
		{ " 1", 2, ANFU_EINVAL, 0 },
		{ "1 ", 2, ANFU_EINVAL, 0 },
		{ "1,000", 2, ANFU_EINVAL, 0 },
		{ "+1", 2, ANFU_EINVAL, 0 },
		{ "--1", 2, ANFU_EINVAL, 0 },
		{ "1-", 2, ANFU_EINVAL, 0 },
		{ "1.2.3", 2, ANFU_EINVAL, 0 },
		{ "1..2", 2, ANFU_EINVAL, 0 },
		{ "0x10", 2, ANFU_EINVAL, 0 },
		{ "\xef\xbc\x91", 2, ANFU_EINVAL, 0 }, /* fullwidth 1 */
		{ "NaN", 2, ANFU_EINVAL, 0 },
		{ "1.5", -1, ANFU_EINVAL, 0 },
		{ "1.5", 7, ANFU_EINVAL, 0 },
	};

	(void)state;
	check_parse(cases, sizeof(cases) / sizeof(cases[0]));
}

/* req: SDLC-08 */
static void test_money_parse_refuses_overflow(void **state)
{
	static const struct parse_case cases[] = {
		{ "92233720368547758.08", 2, ANFU_ERANGE, 0 },
		{ "-92233720368547758.09", 2, ANFU_ERANGE, 0 },
		/* overflows while scaling the missing decimals */
		{ "92233720368547759", 2, ANFU_ERANGE, 0 },
		{ "-92233720368547759", 2, ANFU_ERANGE, 0 },
		{ "9223372036854775808", 0, ANFU_ERANGE, 0 },
		{ "-9223372036854775809", 0, ANFU_ERANGE, 0 },
		{ "99999999999999999999999", 0, ANFU_ERANGE, 0 },
		{ "9223372036854.775808", 6, ANFU_ERANGE, 0 },
	};

	(void)state;
	check_parse(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_money_parse_reads_only_len_bytes(void **state)
{
	int64_t out = SENTINEL;

	(void)state;
	assert_int_equal(anfu_money_parse((struct anfu_str){ "12.34xyz", 5 }, 2, &out), 0);
	assert_int_equal(out, 1234);
	out = SENTINEL;
	assert_int_equal(anfu_money_parse((struct anfu_str){ NULL, 0 }, 2, &out), ANFU_EINVAL);
	assert_true(out == SENTINEL);
}

struct format_case {
	int64_t minor;
	int exponent;
	const char *want;
};

static void test_money_format_writes_major_units(void **state)
{
	static const struct format_case cases[] = {
		{ 1234, 2, "12.34" },
		{ -1, 2, "-0.01" },
		{ -99, 2, "-0.99" },
		{ -100, 2, "-1.00" },
		{ 0, 2, "0.00" },
		{ 5, 2, "0.05" },
		{ 10000, 2, "100.00" },
		{ 5, 0, "5" },
		{ -5, 0, "-5" },
		{ 0, 0, "0" },
		{ -12345, 3, "-12.345" },
		{ 1, 6, "0.000001" },
		{ INT64_MAX, 2, "92233720368547758.07" },
		{ INT64_MIN, 2, "-92233720368547758.08" },
		{ INT64_MIN, 0, "-9223372036854775808" },
		{ INT64_MAX, 0, "9223372036854775807" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];

		if (anfu_money_format(cases[i].minor, cases[i].exponent, out, sizeof(out)) != 0)
			fail_msg("%lld (exp %d): failed", (long long)cases[i].minor,
				 cases[i].exponent);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%lld (exp %d): got \"%s\" want \"%s\"", (long long)cases[i].minor,
				 cases[i].exponent, out, cases[i].want);
	}
}

static void test_money_format_refuses_small_buffer_untouched(void **state)
{
	char out[8];

	(void)state;
	/* "12.34" needs 6 bytes with the terminator. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(anfu_money_format(1234, 2, out, 6), 0);
	assert_string_equal(out, "12.34");
	memset(out, 'Z', sizeof(out));
	assert_int_equal(anfu_money_format(1234, 2, out, 5), ANFU_ELIMIT);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 'Z');
	assert_int_equal(anfu_money_format(1234, 2, out, 0), ANFU_ELIMIT);
	assert_int_equal(out[0], 'Z');
}

static void test_money_format_refuses_bad_exponent(void **state)
{
	char out[32] = "untouched";

	(void)state;
	assert_int_equal(anfu_money_format(1, -1, out, sizeof(out)), ANFU_EINVAL);
	assert_int_equal(anfu_money_format(1, 7, out, sizeof(out)), ANFU_EINVAL);
	assert_string_equal(out, "untouched");
}

static void test_money_format_then_parse_round_trips(void **state)
{
	static const int64_t values[] = {
		0,
		1,
		-1,
		9,
		-9,
		10,
		-10,
		99,
		-99,
		100,
		-100,
		101,
		-101,
		1234,
		-1234,
		1000000,
		-1000000,
		123456789,
		-123456789,
		INT64_MAX,
		INT64_MIN,
		INT64_MAX - 1,
		INT64_MIN + 1,
	};
	static const int exponents[] = { 0, 1, 2, 3, 6 };

	(void)state;
	for (size_t e = 0; e < sizeof(exponents) / sizeof(exponents[0]); e++) {
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			char text[64];
			int64_t back = SENTINEL;
			int r;

			assert_int_equal(
				anfu_money_format(values[i], exponents[e], text, sizeof(text)), 0);
			r = anfu_money_parse(anfu_str_c(text), exponents[e], &back);
			if (r != 0 || back != values[i])
				fail_msg("%lld (exp %d) -> \"%s\" -> r=%d %lld",
					 (long long)values[i], exponents[e], text, r,
					 (long long)back);
		}
	}
}

/* The words of a table of amounts, each a rule of the PBOC's way of
 * writing amounts: 整 after 元 only, one 零 per gap, 壹拾, 零 between 元
 * and 分 when the 角 is zero, no 元 below one yuan. */
static void test_money_words_zh_writes_capital_numerals(void **state)
{
	static const struct {
		int64_t fen;
		const char *words;
	} cases[] = {
		{ 0, "零元整" },
		{ 1, "壹分" },
		{ 50, "伍角" },
		{ 55, "伍角伍分" },
		{ 100, "壹元整" },
		{ 1000, "壹拾元整" },
		{ 1005, "壹拾元零伍分" },
		{ 1050, "壹拾元伍角" },
		{ 10000, "壹佰元整" },
		{ 10005, "壹佰元零伍分" },
		{ 100500, "壹仟零伍元整" },
		{ 168032, "壹仟陆佰捌拾元叁角贰分" },
		{ 1000000, "壹万元整" },
		{ 1005000, "壹万零伍拾元整" },
		{ 10000100, "壹拾万零壹元整" },
		{ 100000000, "壹佰万元整" },
		{ 10000000100, "壹亿零壹元整" },
		{ 10001000000, "壹亿零壹万元整" },
		{ 10000100000, "壹亿零壹仟元整" },
		{ 12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整" },
		{ 100000000000000, "壹万亿元整" },
		{ -10000, "负壹佰元整" },
		{ INT64_MAX,
		  "玖亿亿贰仟贰佰叁拾叁万亿柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾捌元零柒分" },
		{ INT64_MIN, "负玖亿亿贰仟贰佰叁拾叁万亿柒仟贰佰零叁亿陆仟捌佰伍拾肆万柒仟柒佰伍拾"
			     "捌元零捌分" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[ANFU_MONEY_WORDS_MAX];

		assert_int_equal(anfu_money_words_zh(cases[i].fen, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].words);
	}
}

/* A buffer one byte short is refused and left untouched; the exact size
 * passes. */
static void test_money_words_zh_refuses_small_buffer_untouched(void **state)
{
	char out[64];
	size_t need = strlen("壹佰元整") + 1;

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(anfu_money_words_zh(10000, out, need - 1), ANFU_ELIMIT);
	assert_int_equal(out[0], 'x');
	assert_int_equal(anfu_money_words_zh(10000, out, need), 0);
	assert_string_equal(out, "壹佰元整");
	assert_int_equal(anfu_money_words_zh(10000, NULL, 8), ANFU_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money_add_refuses_overflow),
		cmocka_unit_test(test_money_sub_refuses_overflow),
		cmocka_unit_test(test_money_mul_refuses_overflow),
		cmocka_unit_test(test_money_muldiv_rounds_half_away_from_zero),
		cmocka_unit_test(test_money_muldiv_refuses_overflow),
		cmocka_unit_test(test_money_muldiv_refuses_nonpositive_denominator),
		cmocka_unit_test(test_money_add_m_adds_same_currency),
		cmocka_unit_test(test_money_add_m_refuses_different_currencies),
		cmocka_unit_test(test_money_add_m_refuses_overflow),
		cmocka_unit_test(test_currency_exponent_of_known_and_unknown_codes),
		cmocka_unit_test(test_money_parse_accepts_decimal_amounts),
		cmocka_unit_test(test_money_parse_refuses_malformed_amounts),
		cmocka_unit_test(test_money_parse_refuses_overflow),
		cmocka_unit_test(test_money_parse_reads_only_len_bytes),
		cmocka_unit_test(test_money_format_writes_major_units),
		cmocka_unit_test(test_money_format_refuses_small_buffer_untouched),
		cmocka_unit_test(test_money_format_refuses_bad_exponent),
		cmocka_unit_test(test_money_format_then_parse_round_trips),
		cmocka_unit_test(test_money_words_zh_writes_capital_numerals),
		cmocka_unit_test(test_money_words_zh_refuses_small_buffer_untouched),
	};

	return cmocka_run_group_tests_name("money", tests, NULL, NULL);
}
