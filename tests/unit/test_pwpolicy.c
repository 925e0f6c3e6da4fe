/*
 * Unit tests for iam/pwpolicy: the password rules (IAM-PWD-01..05), the
 * strength score (IAM-PWD-13) and the payment-PIN rules (IAM-PWD-14).
 *
 * Table-driven: each row is one password, the policy and personal data it
 * is checked with, and the rule expected (NULL: accepted). Rows sit on the
 * boundaries (7 vs 8 characters, 3 vs 4 classes, "abc" vs "abd", a phone's
 * last 4 digits vs its last 3) and every rule is refused with its code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "iam/config.h"
#include "iam/pwpolicy.h"

/* Catalog defaults: staff need all 4 classes, customers 3 of 4. */
static const struct anfu_config_password staff = { 8, 4, 5, 30, 14 };
static const struct anfu_config_password customer = { 8, 3, 5, 180, 14 };

#define GOOD "Tq7#vLm9!zR"

static const struct anfu_pw_personal person = {
	.login = "jqzhv",
	.name = "欧阳娜娜",
	.nickname = "kvzt",
	.phone = "13904728156",
	.email = "zqx_b7@163.com",
	.id_number = "11010519491231002X",
	.birthday = "19870612",
};

/* Only a resident ID: the birthday is taken from it (1949-12-31). */
static const struct anfu_pw_personal id_only = {
	.id_number = "11010519491231002X",
};

/* A person whose fields are all too short to count (< 3 characters). */
static const struct anfu_pw_personal short_fields = {
	.login = "zr",
	.name = "张三",
	.nickname = "Tq",
};

struct pw_case {
	const char *req;
	const struct anfu_config_password *pol;
	const char *pw;
	const struct anfu_pw_personal *pd;
	const char *rule; /* NULL: accepted */
};

static const struct pw_case cases[] = {
	/* req: IAM-PWD-05 (empty) */
	{ "IAM-PWD-05", &staff, "", NULL, ANFU_PW_EMPTY },
	/* characters: controls and malformed UTF-8 */
	{ "IAM-PWD-01", &staff, "Tq7#vL\x01m9!zR", NULL, ANFU_PW_INVALID_CHARS },
	{ "IAM-PWD-01", &staff, "Tq7#vL\x7fm9!zR", NULL, ANFU_PW_INVALID_CHARS },
	{ "IAM-PWD-01", &staff, "Tq7#vL\xc2\x85m9!zR", NULL, ANFU_PW_INVALID_CHARS },
	{ "IAM-PWD-01", &staff, "Tq7#vL\xffm9!zR", NULL, ANFU_PW_INVALID_CHARS },
	{ "IAM-PWD-01", &staff, "Tq7#vL\xc0\xafm9!zR", NULL, ANFU_PW_INVALID_CHARS },
	/* req: IAM-PWD-01 (length 7 vs 8, counted in characters) */
	{ "IAM-PWD-01", &staff, "Tq7#vLm", NULL, ANFU_PW_TOO_SHORT },
	{ "IAM-PWD-01", &staff, "Tq7#vLm9", NULL, NULL },
	{ "IAM-PWD-01", &customer, "Tq7#vLm", NULL, ANFU_PW_TOO_SHORT },
	{ "IAM-PWD-01", &staff, "密Tq7#vL", NULL, ANFU_PW_TOO_SHORT },
	{ "IAM-PWD-01", &staff, "密码Tq7#vL9", NULL, NULL },
	/* req: IAM-PWD-03 (digits only), before the class rule */
	{ "IAM-PWD-03", &customer, "73924816", NULL, ANFU_PW_DIGITS_ONLY },
	{ "IAM-PWD-03", &staff, "12345678", NULL, ANFU_PW_DIGITS_ONLY },
	/* req: IAM-PWD-02 (4 classes for staff, 3 of 4 for customers) */
	{ "IAM-PWD-02", &staff, "tq7#vlm9!zr", NULL, ANFU_PW_CLASSES },
	{ "IAM-PWD-02", &customer, "tq7#vlm9!zr", NULL, NULL },
	{ "IAM-PWD-02", &customer, "tq7vlm9xzr", NULL, ANFU_PW_CLASSES },
	{ "IAM-PWD-02", &staff, GOOD, NULL, NULL },
	{ "IAM-PWD-02", &customer, GOOD, NULL, NULL },
	{ "IAM-PWD-02", &staff, "Password", NULL, ANFU_PW_CLASSES },
	/* req: IAM-PWD-05 (default and common passwords, leetspeak undone) */
	{ "IAM-PWD-05", &staff, "P@ssw0rd", NULL, ANFU_PW_DEFAULT },
	{ "IAM-PWD-05", &staff, "Admin@123", NULL, ANFU_PW_DEFAULT },
	{ "IAM-PWD-05", &customer, "Changeme1", NULL, ANFU_PW_DICTIONARY },
	/* req: IAM-PWD-03 (dictionary words, leetspeak, pinyin) */
	{ "IAM-PWD-03", &staff, "P@ssw0rd!2024X", NULL, ANFU_PW_DICTIONARY },
	{ "IAM-PWD-03", &staff, "Xq#9Dragon", NULL, ANFU_PW_DICTIONARY },
	{ "IAM-PWD-03", &staff, "Ho1iday#7Q", NULL, ANFU_PW_DICTIONARY },
	{ "IAM-PWD-03", &staff, "W0@1n1#Qx", NULL, ANFU_PW_DICTIONARY },
	{ "IAM-PWD-03", &staff, "Zh0ngGu0#9", NULL, ANFU_PW_DICTIONARY },
	{ "IAM-PWD-03", &staff, "Qx#5201314z", NULL, ANFU_PW_DICTIONARY },
	/* req: IAM-PWD-04 (personal data) */
	{ "IAM-PWD-04", &staff, "Jqzhv#7Tm9", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "JQZHV#7Tm9", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "欧阳娜娜Tq7#", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Kvzt#7Qm9", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#x8156Lm", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#728156m", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#x9156Lm", &person, NULL },
	{ "IAM-PWD-04", &staff, "Zqx_b7#Tm", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#31002xLm", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#v0612Lm", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#v870612m", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#v1987Lm", &person, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#v1949Lm", &id_only, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, "Tq#v1231Lm", &id_only, ANFU_PW_PERSONAL },
	{ "IAM-PWD-04", &staff, GOOD, &person, NULL },
	{ "IAM-PWD-04", &staff, GOOD, &short_fields, NULL },
	/* req: IAM-PWD-03 (sequences: abc vs abd, descending, digits, case) */
	{ "IAM-PWD-03", &staff, "Tq#abcLm9", NULL, ANFU_PW_SEQUENCE },
	{ "IAM-PWD-03", &staff, "Tq#abdLm9", NULL, NULL },
	{ "IAM-PWD-03", &staff, "Tq#cbaLm9", NULL, ANFU_PW_SEQUENCE },
	{ "IAM-PWD-03", &staff, "Tq#aBcLm9", NULL, ANFU_PW_SEQUENCE },
	{ "IAM-PWD-03", &staff, "Tq#v321Lm", NULL, ANFU_PW_SEQUENCE },
	{ "IAM-PWD-03", &staff, "Tq#v357Lm", NULL, NULL },
	{ "IAM-PWD-03", &staff, "Tq#xyzLm9", NULL, ANFU_PW_SEQUENCE },
	/* req: IAM-PWD-03 (keyboard runs: rows, columns, shifted keys) */
	{ "IAM-PWD-03", &staff, "Tq#qweLm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq#ewqLm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tv#1qaLm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tv#zaqLm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq#zxcLm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq7!@#Lm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq#890Lm", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq#0p;Lm9", NULL, ANFU_PW_KEYBOARD },
	{ "IAM-PWD-03", &staff, "Tq#qwrLm9", NULL, NULL },
	/* repeated characters: 3 in a row vs 2 */
	{ "IAM-PWD-03", &staff, "Tq#vvvLm9", NULL, ANFU_PW_REPEATED },
	{ "IAM-PWD-03", &staff, "Tq#vVvLm9", NULL, ANFU_PW_REPEATED },
	{ "IAM-PWD-03", &staff, "Tq#777Lm9", NULL, ANFU_PW_REPEATED },
	{ "IAM-PWD-03", &staff, "Tq#vvLm9z", NULL, NULL },
	{ "IAM-PWD-03", &staff, "Tq#v密密密Lm9", NULL, ANFU_PW_REPEATED },
};

static void test_pwpolicy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pw_case *c = &cases[i];
		const char *rule = "untouched";
		int r = anfu_pwpolicy_check(c->pol, c->pw, strlen(c->pw), c->pd, &rule);

		if (c->rule) {
			if (r != ANFU_EINVAL || strcmp(rule, c->rule) != 0)
				fail_msg("%s row %zu \"%s\": got %d %s, want %s", c->req, i, c->pw,
					 r, rule, c->rule);
		} else if (r != 0 || strcmp(rule, "untouched") != 0) {
			fail_msg("%s row %zu \"%s\": refused with %s", c->req, i, c->pw, rule);
		}
	}
}

/* Personal fields of exactly 3 characters count (the shortest that does),
 * whether ASCII or Chinese; the same password without them passes.
 * req: IAM-PWD-04 */
static void test_pwpolicy_personal_fields_of_three_characters(void **state)
{
	static const struct anfu_pw_personal three = {
		.login = "qzx",
		.name = "李小龙",
		.nickname = "Kvw",
	};
	static const char *const refused[] = { "Tq7#qzxLm9!", "Tq7#QZXLm9!", "李小龙Tq7#x9",
					       "Tq7#kvwLm9!" };
	const char *rule = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		rule = "untouched";
		if (anfu_pwpolicy_check(&staff, refused[i], strlen(refused[i]), &three, &rule) !=
			    ANFU_EINVAL ||
		    strcmp(rule, ANFU_PW_PERSONAL) != 0)
			fail_msg("\"%s\": got %s, want %s", refused[i], rule, ANFU_PW_PERSONAL);
	}
	rule = "untouched";
	assert_int_equal(anfu_pwpolicy_check(&staff, GOOD, strlen(GOOD), &three, &rule), 0);
	assert_string_equal(rule, "untouched");
}

/* req: IAM-PWD-05 */
static void test_pwpolicy_null_password_is_empty(void **state)
{
	const char *rule = NULL;

	(void)state;
	assert_int_equal(anfu_pwpolicy_check(&staff, NULL, 0, NULL, &rule), ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PW_EMPTY);
	/* The rule pointer is optional. */
	assert_int_equal(anfu_pwpolicy_check(&staff, "", 0, NULL, NULL), ANFU_EINVAL);
}

/* Builds a len-byte password from GOOD repeated (no rule fires across the
 * joins). */
static void repeat_good(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = GOOD[i % (sizeof(GOOD) - 1)];
	buf[len] = '\0';
}

/* req: IAM-PWD-01 (upper bound: ANFU_PASSWORD_MAX bytes) */
static void test_pwpolicy_length_upper_bound(void **state)
{
	char buf[ANFU_PASSWORD_MAX + 2];
	const char *rule = NULL;

	(void)state;
	repeat_good(buf, ANFU_PASSWORD_MAX);
	assert_int_equal(anfu_pwpolicy_check(&staff, buf, ANFU_PASSWORD_MAX, NULL, &rule), 0);
	repeat_good(buf, ANFU_PASSWORD_MAX + 1);
	assert_int_equal(anfu_pwpolicy_check(&staff, buf, ANFU_PASSWORD_MAX + 1, NULL, &rule),
			 ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PW_TOO_LONG);
}

/* Without a policy the catalog defaults apply (8 characters, 4 classes). */
static void test_pwpolicy_null_policy_uses_defaults(void **state)
{
	const char *rule = NULL;

	(void)state;
	assert_int_equal(anfu_pwpolicy_check(NULL, GOOD, strlen(GOOD), NULL, &rule), 0);
	assert_int_equal(anfu_pwpolicy_check(NULL, "tq7#vlm9!zr", 11, NULL, &rule), ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PW_CLASSES);
	assert_int_equal(anfu_pwpolicy_check(NULL, "Tq7#vLm", 7, NULL, &rule), ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PW_TOO_SHORT);
}

/* A configured minimum above 8 is honoured. req: IAM-PWD-01 */
static void test_pwpolicy_configured_min_length(void **state)
{
	const struct anfu_config_password long_pol = { 12, 4, 5, 30, 14 };
	const char *rule = NULL;

	(void)state;
	assert_int_equal(anfu_pwpolicy_check(&long_pol, GOOD, strlen(GOOD), NULL, &rule),
			 ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PW_TOO_SHORT);
	assert_int_equal(anfu_pwpolicy_check(&long_pol, GOOD "k", strlen(GOOD) + 1, NULL, &rule),
			 0);
}

/* Worst cases for the leetspeak dictionary walk finish (no timing
 * asserted: the walk is bounded by the listed prefixes). req: IAM-PWD-03 */
static void test_pwpolicy_dictionary_worst_case_input(void **state)
{
	static const char *const fills[] = { "1", "1!", "@4", "s5$", "IlIl" };
	char buf[ANFU_PASSWORD_MAX + 1];
	const char *rule = NULL;

	(void)state;
	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		size_t n = strlen(fills[f]);
		int r;

		for (size_t i = 0; i < ANFU_PASSWORD_MAX; i++)
			buf[i] = fills[f][i % n];
		buf[ANFU_PASSWORD_MAX] = '\0';
		r = anfu_pwpolicy_check(&customer, buf, ANFU_PASSWORD_MAX, NULL, &rule);
		assert_true(r == 0 || r == ANFU_EINVAL);
	}
}

/* The word lists are compiled in: one entry from each, exact lower case. */
static void test_pwpolicy_is_word(void **state)
{
	(void)state;
	assert_true(anfu_pwpolicy_is_word("password", 8));
	assert_true(anfu_pwpolicy_is_word("5201314", 7));
	assert_true(anfu_pwpolicy_is_word("woaini", 6));
	assert_true(anfu_pwpolicy_is_word("zhangwei", 8));
	assert_true(anfu_pwpolicy_is_word("holiday", 7));
	assert_true(anfu_pwpolicy_is_word("passwordxyz", 8));
	assert_false(anfu_pwpolicy_is_word("PASSWORD", 8));
	assert_false(anfu_pwpolicy_is_word("tq7vlmzr", 8));
	assert_false(anfu_pwpolicy_is_word("", 0));
	assert_false(anfu_pwpolicy_is_word(NULL, 4));
}

/* req: IAM-PWD-13 */
static void test_pwpolicy_strength_ordering(void **state)
{
	static const char *const ladder[] = {
		"password",
		"Bluebird#5",
		GOOD,
		GOOD "-k8Px&w2",
	};
	int prev = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		int s = anfu_pwpolicy_strength(ladder[i], strlen(ladder[i]));

		assert_in_range(s, 0, 4);
		if (s <= prev)
			fail_msg("strength(%s) = %d, not above %d", ladder[i], s, prev);
		prev = s;
	}
	assert_int_equal(anfu_pwpolicy_strength(GOOD "-k8Px&w2", strlen(GOOD) + 8), 4);
}

/* req: IAM-PWD-13 */
static void test_pwpolicy_strength_floor_cases(void **state)
{
	(void)state;
	assert_int_equal(anfu_pwpolicy_strength("", 0), 0);
	assert_int_equal(anfu_pwpolicy_strength(NULL, 0), 0);
	assert_int_equal(anfu_pwpolicy_strength("P@ssw0rd", 8), 0);
	assert_int_equal(anfu_pwpolicy_strength("Tq7#v", 5), 0);
	assert_int_equal(anfu_pwpolicy_strength("Tq\x01#vLm9!zR", 10), 0);
	assert_int_equal(anfu_pwpolicy_strength("abcdefgh", 8), 0);
	/* Long and varied, but with a word the policy refuses: at most fair. */
	assert_int_equal(anfu_pwpolicy_strength("Correct-Horse-9!", 16), 2);
	/* Digits only or under 8 characters never rate above 1. */
	assert_int_equal(anfu_pwpolicy_strength("73924816502948", 14), 1);
	assert_int_equal(anfu_pwpolicy_strength("Tq7#vLm", 7), 1);
}

/* ---- payment PIN (IAM-PWD-14) ------------------------------------------------ */

struct pin_case {
	const char *pin;
	const char *birthday;
	const char *rule; /* NULL: accepted */
};

static const struct pin_case pins[] = {
	{ "730419", "19870612", NULL },
	{ "730419", NULL, NULL },
	{ "582931", NULL, NULL },
	{ "", NULL, ANFU_PIN_FORMAT },
	{ "73041", NULL, ANFU_PIN_FORMAT },
	{ "7304192", NULL, ANFU_PIN_FORMAT },
	{ "73a419", NULL, ANFU_PIN_FORMAT },
	{ "73 419", NULL, ANFU_PIN_FORMAT },
	{ "\xef\xbc\x97\xef\xbc\x93", NULL, ANFU_PIN_FORMAT },
	{ "111111", NULL, ANFU_PIN_REPEATED },
	{ "000000", NULL, ANFU_PIN_REPEATED },
	{ "123456", NULL, ANFU_PIN_SEQUENCE },
	{ "654321", NULL, ANFU_PIN_SEQUENCE },
	{ "234567", NULL, ANFU_PIN_SEQUENCE },
	{ "890123", NULL, ANFU_PIN_SEQUENCE },
	{ "210987", NULL, ANFU_PIN_SEQUENCE },
	{ "123457", NULL, NULL },
	{ "121212", NULL, ANFU_PIN_PATTERN },
	{ "989898", NULL, ANFU_PIN_PATTERN },
	{ "123123", NULL, ANFU_PIN_PATTERN },
	{ "707707", NULL, ANFU_PIN_PATTERN },
	{ "121213", NULL, NULL },
	{ "870612", "19870612", ANFU_PIN_BIRTHDAY },
	{ "550612", "19870612", ANFU_PIN_BIRTHDAY },
	{ "061255", "19870612", ANFU_PIN_BIRTHDAY },
	{ "870613", "19870612", NULL },
	{ "870612", NULL, NULL },
	{ "870612", "1987-06-12", NULL },
};

/* req: IAM-PWD-14 */
static void test_pin_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		const struct pin_case *c = &pins[i];
		const char *rule = "untouched";
		int r = anfu_pin_check(c->pin, strlen(c->pin), c->birthday, &rule);

		if (c->rule) {
			if (r != ANFU_EINVAL || strcmp(rule, c->rule) != 0)
				fail_msg("pin row %zu \"%s\": got %d %s, want %s", i, c->pin, r,
					 rule, c->rule);
		} else if (r != 0 || strcmp(rule, "untouched") != 0) {
			fail_msg("pin row %zu \"%s\": refused with %s", i, c->pin, rule);
		}
	}
}

/* req: IAM-PWD-14 */
static void test_pin_null_and_length_mismatch(void **state)
{
	const char *rule = NULL;

	(void)state;
	assert_int_equal(anfu_pin_check(NULL, 6, NULL, &rule), ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PIN_FORMAT);
	/* The length given wins over the NUL: 6 bytes of a longer string. */
	assert_int_equal(anfu_pin_check("7304199", 6, NULL, NULL), 0);
	assert_int_equal(anfu_pin_check("730419", 5, NULL, &rule), ANFU_EINVAL);
	assert_string_equal(rule, ANFU_PIN_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwpolicy_table),
		cmocka_unit_test(test_pwpolicy_null_password_is_empty),
		cmocka_unit_test(test_pwpolicy_personal_fields_of_three_characters),
		cmocka_unit_test(test_pwpolicy_length_upper_bound),
		cmocka_unit_test(test_pwpolicy_null_policy_uses_defaults),
		cmocka_unit_test(test_pwpolicy_configured_min_length),
		cmocka_unit_test(test_pwpolicy_dictionary_worst_case_input),
		cmocka_unit_test(test_pwpolicy_is_word),
		cmocka_unit_test(test_pwpolicy_strength_ordering),
		cmocka_unit_test(test_pwpolicy_strength_floor_cases),
		cmocka_unit_test(test_pin_table),
		cmocka_unit_test(test_pin_null_and_length_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
