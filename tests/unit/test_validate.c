/*
 * Unit tests for base/validate: resident identity numbers (GB 11643),
 * bank cards (Luhn), mainland mobile numbers, emails and usernames.
 *
 * Valid samples are computed here with our own implementation of the
 * check-digit algorithms (ISO 7064 MOD 11-2 with weights derived as powers
 * of 2, and Luhn), independently of the lookup tables in validate.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/validate.h"

/* ---- helpers: check characters computed from first principles -------- */

/* ISO 7064 MOD 11-2 over the 17-digit base: weight of position i (0-based,
 * left to right) is 2^(17-i) mod 11; the check value c makes
 * (sum + c) mod 11 == 1, and 10 is written 'X'. */
static char mod11_2_check(const char *base17)
{
	int sum = 0;

	for (int i = 0; i < 17; i++) {
		int w = 1;

		for (int k = 0; k < 17 - i; k++)
			w = (w * 2) % 11;
		sum += (base17[i] - '0') * w;
	}
	int c = (12 - sum % 11) % 11;

	return c == 10 ? 'X' : (char)('0' + c);
}

/* Writes base17 plus its check character into out[19]. */
static void make_id(const char *base17, char out[19])
{
	memcpy(out, base17, 17);
	out[17] = mod11_2_check(base17);
	out[18] = '\0';
}

/* Luhn check digit for a payload (the digits before the check digit). */
static char luhn_check(const char *payload)
{
	size_t n = strlen(payload);
	int sum = 0;

	/* Counting from the right of the payload, the first digit is doubled
	 * (it becomes second from the right once the check digit is added). */
	for (size_t i = 0; i < n; i++) {
		int d = payload[n - 1 - i] - '0';

		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

static void make_card(const char *payload, char *out, size_t cap)
{
	size_t n = strlen(payload);

	assert_true(n + 2 <= cap);
	memcpy(out, payload, n);
	out[n] = luhn_check(payload);
	out[n + 1] = '\0';
}

static bool valid_id(const char *s)
{
	return anfu_valid_resident_id(s, strlen(s));
}

/* ---- resident identity numbers ---------------------------------------- */

/* req: WEB-SQL-01 */
static void test_resident_id_accepts_public_examples(void **state)
{
	(void)state;
	/* The example printed in GB 11643-1999 and its commentaries. */
	assert_true(valid_id("11010519491231002X"));
	assert_int_equal(mod11_2_check("11010519491231002"), 'X');
	/* The standard's other example has a correct check digit but a birth
	 * date (1880) before the supported range, so it is refused. */
	assert_int_equal(mod11_2_check("44052418800101001"), '4');
	assert_false(valid_id("440524188001010014"));
}

/* For each check character 0-9 and X, find a base that yields it, and
 * check that exactly that character is accepted. */
static void test_resident_id_accepts_every_check_character(void **state)
{
	static const char checks[] = "0123456789X";
	char found[11][18];
	bool have[11] = { false };
	int nfound = 0;

	(void)state;
	for (unsigned seq = 0; seq < 1000 && nfound < 11; seq++) {
		char base[18];
		char c;
		int idx;

		(void)snprintf(base, sizeof(base), "11010519900101%03u", seq);
		c = mod11_2_check(base);
		idx = (int)(strchr(checks, c) - checks);
		if (!have[idx]) {
			have[idx] = true;
			memcpy(found[idx], base, sizeof(base));
			nfound++;
		}
	}
	assert_int_equal(nfound, 11);
	for (int i = 0; i < 11; i++) {
		char id[19];

		memcpy(id, found[i], 17);
		id[18] = '\0';
		for (int j = 0; j < 11; j++) {
			bool ok;

			id[17] = checks[j];
			ok = anfu_valid_resident_id(id, 18);
			if (ok != (i == j))
				fail_msg("%s: accepted=%d, expected check %c", id, ok, checks[i]);
		}
	}
}

/* req: WEB-SQL-01 */
static void test_resident_id_refuses_lowercase_x(void **state)
{
	(void)state;
	assert_true(valid_id("11010519491231002X"));
	assert_false(valid_id("11010519491231002x"));
}

/* req: WEB-SQL-01 */
static void test_resident_id_refuses_wrong_check_digit(void **state)
{
	(void)state;
	assert_false(valid_id("110105194912310020"));
	assert_false(valid_id("110105194912310029"));
	assert_false(valid_id("440524188001010015"));
	/* A single changed base digit changes the expected check. */
	assert_false(valid_id("11010519491231003X"));
}

/* Birth dates: every date in the table carries the correct check
 * character, so only the date decides. */
static void test_resident_id_checks_birth_date(void **state)
{
	static const struct {
		const char *date; /* YYYYMMDD */
		bool ok;
	} cases[] = {
		{ "19900101", true },  { "20000229", true },
		{ "20240229", true },  { "19000101", true },
		{ "20991231", true },  { "19491231", true },
		{ "19960430", true },  { "19960131", true },
		{ "19000229", false }, /* 1900 is not a leap year */
		{ "20230229", false }, { "21000229", false },
		{ "20240230", false }, { "19901301", false }, /* month 13 */
		{ "19900001", false },			      /* month 0 */
		{ "19900100", false },			      /* day 0 */
		{ "19900132", false }, { "19900431", false },
		{ "18991231", false }, { "21000101", false },
		{ "00000101", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char base[18], id[19];

		(void)snprintf(base, sizeof(base), "110105%s123", cases[i].date);
		make_id(base, id);
		if (valid_id(id) != cases[i].ok)
			fail_msg("%s: want %s", id, cases[i].ok ? "valid" : "invalid");
	}
}

/* req: WEB-SQL-01 */
static void test_resident_id_refuses_wrong_length_and_non_digits(void **state)
{
	static const char *const bad[] = {
		"",
		"11010519491231002",   /* 17 */
		"11010519491231002X0", /* 19 */
		"110105194912310",     /* old 15-digit form */
		"1101051949123100 X",
		"A1010519491231002X",
		"110105-9491231002X",
		"11010519491231002\xc3\x97",
		"X10105194912310020",
		"11010519491231X002",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid_id(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(anfu_valid_resident_id(NULL, 18));
	/* Length is taken from len, not from a terminator. */
	assert_false(anfu_valid_resident_id("11010519491231002X", 17));
	assert_true(anfu_valid_resident_id("11010519491231002X+", 18));
}

/* Embedded NUL must not end the check early. */
static void test_resident_id_refuses_embedded_nul(void **state)
{
	(void)state;
	assert_false(anfu_valid_resident_id("1101051949123100\0X", 18));
}

static void test_resident_id_birth_extracts_date(void **state)
{
	char out[9] = "untouch";

	(void)state;
	assert_int_equal(anfu_resident_id_birth("11010519491231002X", 18, out), 0);
	assert_string_equal(out, "19491231");
	memcpy(out, "untouch", 8);
	assert_int_equal(anfu_resident_id_birth("110105194912310020", 18, out), ANFU_EINVAL);
	assert_string_equal(out, "untouch");
}

/* ---- bank cards -------------------------------------------------------- */

static bool valid_card(const char *s)
{
	return anfu_valid_bank_card(s, strlen(s));
}

/* req: WEB-SQL-01 */
static void test_bank_card_accepts_luhn_valid_numbers(void **state)
{
	static const char *const payloads[] = {
		"411111111111111",    /* 16 digits: the Visa test number */
		"622202123456789012", /* 19 digits, UnionPay BIN */
		"62284800123456789",  /* 18 */
		"12345678901",	      /* 12: shortest allowed */
		"620000000000000000", /* 19: longest allowed */
		"00000000000",
	};

	(void)state;
	assert_true(valid_card("4111111111111111"));
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		char card[32];

		make_card(payloads[i], card, sizeof(card));
		if (!valid_card(card))
			fail_msg("%s refused", card);
	}
}

/* Luhn detects every single-digit error: change each digit of a valid
 * number to each other digit and expect a refusal. */
static void test_bank_card_refuses_any_one_digit_change(void **state)
{
	char card[32];
	size_t n;

	(void)state;
	make_card("622202123456789012", card, sizeof(card));
	n = strlen(card);
	assert_int_equal(n, 19);
	assert_true(valid_card(card));
	for (size_t i = 0; i < n; i++) {
		char orig = card[i];

		for (char d = '0'; d <= '9'; d++) {
			if (d == orig)
				continue;
			card[i] = d;
			if (valid_card(card))
				fail_msg("%s accepted (position %zu changed)", card, i);
		}
		card[i] = orig;
	}
}

/* req: WEB-SQL-01 */
static void test_bank_card_refuses_length_11_and_20(void **state)
{
	char card11[16], card20[32];

	(void)state;
	make_card("1234567890", card11, sizeof(card11));
	make_card("6222021234567890123", card20, sizeof(card20));
	assert_int_equal(strlen(card11), 11);
	assert_int_equal(strlen(card20), 20);
	assert_false(valid_card(card11));
	assert_false(valid_card(card20));
}

/* req: WEB-SQL-01 */
static void test_bank_card_refuses_non_digits(void **state)
{
	static const char *const bad[] = {
		"",
		"4111 1111 1111 1111",
		"4111-1111-1111-1111",
		"411111111111111a",
		"+4111111111111111",
		"\xef\xbc\x94"
		"111111111111111",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid_card(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(anfu_valid_bank_card(NULL, 16));
}

/* ---- mobile numbers ---------------------------------------------------- */

static bool valid_mobile(const char *s)
{
	return anfu_valid_mobile_cn(s, strlen(s));
}

/* req: WEB-SQL-01, IAM-MFA-08 (codes go to a well-formed bound number) */
static void test_mobile_accepts_mainland_numbers(void **state)
{
	static const char *const good[] = {
		"13800001050", "+8613800001050", "8613800001050",
		"19912345678", "15000000000",	 "17712345678",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!valid_mobile(good[i]))
			fail_msg("\"%s\" refused", good[i]);
}

/* req: WEB-SQL-01 */
static void test_mobile_refuses_malformed_numbers(void **state)
{
	static const char *const bad[] = {
		"",
		"12800001050", /* second digit 2 */
		"11800001050", /* second digit 1 */
		"10800001050",
		"23800001050",	   /* does not start with 1 */
		"1380000105",	   /* 10 digits */
		"138000010500",	   /* 12 digits */
		"+861380000105",   /* +86 and 10 digits */
		"+86138000010500", /* +86 and 12 digits */
		"861380000105",	   /* 86 and 10 digits */
		"+8612800001050",
		"8612800001050",
		"+85213800001050", /* wrong country code */
		"0086138000010",
		"1380000105a",
		"138OOOO1050",
		"138 0000 1050",
		"138-0000-1050",
		"+86 13800001050",
		"\xef\xbc\x91"
		"3800001050",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid_mobile(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(anfu_valid_mobile_cn(NULL, 11));
}

static void test_mobile_normalize_strips_country_code(void **state)
{
	static const char *const in[] = { "13800001050", "+8613800001050", "8613800001050" };

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char out[12] = "";

		assert_int_equal(anfu_mobile_normalize(in[i], strlen(in[i]), out, sizeof(out)), 0);
		assert_string_equal(out, "13800001050");
	}
}

static void test_mobile_normalize_refuses_invalid_or_small_output(void **state)
{
	char out[16] = "untouched";

	(void)state;
	assert_int_equal(anfu_mobile_normalize("12800001050", 11, out, sizeof(out)), ANFU_EINVAL);
	assert_string_equal(out, "untouched");
	assert_int_equal(anfu_mobile_normalize("13800001050", 11, out, 11), ANFU_EINVAL);
	assert_string_equal(out, "untouched");
}

/* ---- emails ------------------------------------------------------------ */

static bool valid_email(const char *s)
{
	return anfu_valid_email(s, strlen(s));
}

/* req: WEB-SQL-01 */
static void test_email_accepts_plain_addresses(void **state)
{
	static const char *const good[] = {
		"tt@163.com",	      "a.b@example.com",	  "user+tag@mail.example.cn",
		"x_y-z@qq.com",	      "A1@EXAMPLE.ORG",		  "a@b.co",
		"o'brien@example.ie", "u@sub-domain.example.com",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!valid_email(good[i]))
			fail_msg("\"%s\" refused", good[i]);
}

/* req: WEB-SQL-01 */
static void test_email_refuses_malformed_addresses(void **state)
{
	static const char *const bad[] = {
		"",
		"plain",
		"@example.com",
		"a@",
		"a@b",
		"a@b.c", /* one-letter top-level domain */
		"a..b@example.com",
		".a@example.com",
		"a.@example.com",
		"a@example..com",
		"a@.example.com",
		"a@example.com.",
		"a@exa mple.com",
		"a b@example.com",
		"a@b@example.com",
		"a@exa_mple.com",
		"a@example-.com",
		"a@-example.com", /* a label may not start with a hyphen */
		"a@example.-com",
		"a@example.co-", /* nor end with one */
		"\xe5\xbc\xa0@example.com",
		"a@\xe4\xbe\x8b.com",
		"<a@example.com>",
		"a@example.com\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid_email(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(anfu_valid_email("a\0b@example.com", 15));
	assert_false(anfu_valid_email(NULL, 10));
}

/* Writes local_len 'a's, '@', twenty "bbbbbbbbb." labels and "com":
 * local_len + 204 bytes, with every label a legal length. */
static void make_long_email(char *s, size_t local_len)
{
	size_t n = 0;

	memset(s, 'a', local_len);
	n = local_len;
	s[n++] = '@';
	for (int i = 0; i < 20; i++) {
		memcpy(s + n, "bbbbbbbbb.", 10);
		n += 10;
	}
	memcpy(s + n, "com", 4);
}

/* req: WEB-SQL-01 */
static void test_email_enforces_length_limits(void **state)
{
	char s[300];

	(void)state;
	/* Local part: 64 allowed, 65 refused. */
	memset(s, 'a', 64);
	memcpy(s + 64, "@example.com", 13);
	assert_true(valid_email(s));
	memset(s, 'a', 65);
	memcpy(s + 65, "@example.com", 13);
	assert_false(valid_email(s));
	/* Whole address: 254 allowed, 255 refused. */
	make_long_email(s, 50);
	assert_int_equal(strlen(s), 254);
	assert_true(valid_email(s));
	make_long_email(s, 51);
	assert_int_equal(strlen(s), 255);
	assert_false(valid_email(s));
}

/* ---- usernames --------------------------------------------------------- */

/* req: WEB-SQL-01 */
static void test_username_accepts_allowed_shapes(void **state)
{
	static const char *const good[] = {
		"abc", "Alice99", "a.b_c-d", "z12", "abcdefghijklmnopqrstuvwxyz012345", /* 32 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!anfu_valid_username(good[i], strlen(good[i])))
			fail_msg("\"%s\" refused", good[i]);
}

/* req: WEB-SQL-01 */
static void test_username_refuses_other_shapes(void **state)
{
	static const char *const bad[] = {
		"",	 "ab",	 "abcdefghijklmnopqrstuvwxyz0123456", /* 33 */
		"1abc",	 "_abc", ".abc",
		"-abc",	 "ab c", "ab@c",
		"ab/c",	 "ab'c", "\xe7\x94\xa8\xe6\x88\xb7\xe5\x90\x8d", /* 用户名 */
		"abc\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (anfu_valid_username(bad[i], strlen(bad[i])))
			fail_msg("\"%s\" accepted", bad[i]);
	assert_false(anfu_valid_username("ab\0c", 4));
	assert_false(anfu_valid_username(NULL, 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resident_id_accepts_public_examples),
		cmocka_unit_test(test_resident_id_accepts_every_check_character),
		cmocka_unit_test(test_resident_id_refuses_lowercase_x),
		cmocka_unit_test(test_resident_id_refuses_wrong_check_digit),
		cmocka_unit_test(test_resident_id_checks_birth_date),
		cmocka_unit_test(test_resident_id_refuses_wrong_length_and_non_digits),
		cmocka_unit_test(test_resident_id_refuses_embedded_nul),
		cmocka_unit_test(test_resident_id_birth_extracts_date),
		cmocka_unit_test(test_bank_card_accepts_luhn_valid_numbers),
		cmocka_unit_test(test_bank_card_refuses_any_one_digit_change),
		cmocka_unit_test(test_bank_card_refuses_length_11_and_20),
		cmocka_unit_test(test_bank_card_refuses_non_digits),
		cmocka_unit_test(test_mobile_accepts_mainland_numbers),
		cmocka_unit_test(test_mobile_refuses_malformed_numbers),
		cmocka_unit_test(test_mobile_normalize_strips_country_code),
		cmocka_unit_test(test_mobile_normalize_refuses_invalid_or_small_output),
		cmocka_unit_test(test_email_accepts_plain_addresses),
		cmocka_unit_test(test_email_refuses_malformed_addresses),
		cmocka_unit_test(test_email_enforces_length_limits),
		cmocka_unit_test(test_username_accepts_allowed_shapes),
		cmocka_unit_test(test_username_refuses_other_shapes),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
