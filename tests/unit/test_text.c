/*
 * Unit tests for base/text (names and free text: strict UTF-8, no Cc / Cf /
 * Zl / Zp characters, NFC) and for its use by the JSON decoder, which
 * passes every STRING field through it and leaves SECRET fields alone.
 *
 * The expected categories are written from the Unicode Character Database
 * by hand, one code point per row, so a wrong table or a wrong category
 * test in text.c shows up here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/text.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct row {
	const char *name;
	const char *utf8;
	enum anfu_text_fault want;
};

/* One character between two letters, so the offset of the fault is 1. */
static const struct row characters[] = {
	/* Cc: C0, DEL, C1 (none of them allowed, not even TAB or LF) */
	{ "U+0000 NUL", "a\0b", ANFU_TEXT_CONTROL },
	{ "U+0009 TAB", "a\tb", ANFU_TEXT_CONTROL },
	{ "U+000A LF", "a\nb", ANFU_TEXT_CONTROL },
	{ "U+000D CR", "a\rb", ANFU_TEXT_CONTROL },
	{ "U+001F",
	  "a\x1f"
	  "b",
	  ANFU_TEXT_CONTROL },
	{ "U+007F DEL",
	  "a\x7f"
	  "b",
	  ANFU_TEXT_CONTROL },
	{ "U+0080",
	  "a\xc2\x80"
	  "b",
	  ANFU_TEXT_CONTROL },
	{ "U+0085 NEL",
	  "a\xc2\x85"
	  "b",
	  ANFU_TEXT_CONTROL },
	{ "U+009F",
	  "a\xc2\x9f"
	  "b",
	  ANFU_TEXT_CONTROL },
	/* Cf */
	{ "U+00AD soft hyphen",
	  "a\xc2\xad"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+061C arabic letter mark",
	  "a\xd8\x9c"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+180E mongolian vowel separator",
	  "a\xe1\xa0\x8e"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+200B zero width space",
	  "a\xe2\x80\x8b"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+200C ZWNJ",
	  "a\xe2\x80\x8c"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+200D ZWJ",
	  "a\xe2\x80\x8d"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+200E LRM",
	  "a\xe2\x80\x8e"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+200F RLM",
	  "a\xe2\x80\x8f"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+202A LRE",
	  "a\xe2\x80\xaa"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+202B RLE",
	  "a\xe2\x80\xab"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+202C PDF",
	  "a\xe2\x80\xac"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+202D LRO",
	  "a\xe2\x80\xad"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+202E RLO",
	  "a\xe2\x80\xae"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+2060 word joiner",
	  "a\xe2\x81\xa0"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+2066 LRI",
	  "a\xe2\x81\xa6"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+2067 RLI",
	  "a\xe2\x81\xa7"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+2068 FSI",
	  "a\xe2\x81\xa8"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+2069 PDI",
	  "a\xe2\x81\xa9"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+FEFF BOM",
	  "a\xef\xbb\xbf"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+FFF9 interlinear annotation",
	  "a\xef\xbf\xb9"
	  "b",
	  ANFU_TEXT_FORMAT },
	{ "U+E0001 language tag",
	  "a\xf3\xa0\x80\x81"
	  "b",
	  ANFU_TEXT_FORMAT },
	/* Zl, Zp */
	{ "U+2028 line separator",
	  "a\xe2\x80\xa8"
	  "b",
	  ANFU_TEXT_SEPARATOR },
	{ "U+2029 paragraph separator",
	  "a\xe2\x80\xa9"
	  "b",
	  ANFU_TEXT_SEPARATOR },
	/* neighbours and ordinary text: accepted */
	{ "U+0020 space", "a b", ANFU_TEXT_OK },
	{ "U+007E tilde", "a~b", ANFU_TEXT_OK },
	{ "U+00A0 no-break space",
	  "a\xc2\xa0"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+00AC not sign",
	  "a\xc2\xac"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+00AE registered",
	  "a\xc2\xae"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+200A hair space",
	  "a\xe2\x80\x8a"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+2010 hyphen",
	  "a\xe2\x80\x90"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+202F narrow no-break space",
	  "a\xe2\x80\xaf"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+3000 ideographic space",
	  "a\xe3\x80\x80"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+00B7 middle dot (names)",
	  "a\xc2\xb7"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+0301 combining acute",
	  "a\xcc\x81"
	  "b",
	  ANFU_TEXT_OK },
	{ "U+1F600 emoji",
	  "a\xf0\x9f\x98\x80"
	  "b",
	  ANFU_TEXT_OK },
	{ "CJK name 张三",
	  "a\xe5\xbc\xa0\xe4\xb8\x89"
	  "b",
	  ANFU_TEXT_OK },
};

/* The rows' strings hold a NUL, so their length is the literal's: the
 * row test measures up to the final 'b'. */
static size_t row_len(const char *s)
{
	size_t n = 1;

	while (s[n] != 'b')
		n++;
	return n + 1;
}

static void test_text_check_classifies_each_category(void **state)
{
	(void)state;
	for (size_t i = 0; i < NITEMS(characters); i++) {
		const struct row *c = &characters[i];
		size_t at = 99;
		enum anfu_text_fault f = anfu_text_check(c->utf8, row_len(c->utf8), &at);

		if (f != c->want)
			fail_msg("%s: got %s, want %s", c->name, anfu_text_fault_name(f),
				 anfu_text_fault_name(c->want));
		if (f != ANFU_TEXT_OK && at != 1)
			fail_msg("%s: fault at %zu, want 1", c->name, at);
	}
}

static const struct row malformed[] = {
	{ "overlong '/'", "\xc0\xaf", ANFU_TEXT_INVALID_UTF8 },
	{ "overlong NUL", "\xc0\x80", ANFU_TEXT_INVALID_UTF8 },
	{ "overlong 3-byte", "\xe0\x80\xaf", ANFU_TEXT_INVALID_UTF8 },
	{ "surrogate U+D800", "\xed\xa0\x80", ANFU_TEXT_INVALID_UTF8 },
	{ "surrogate U+DFFF", "\xed\xbf\xbf", ANFU_TEXT_INVALID_UTF8 },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", ANFU_TEXT_INVALID_UTF8 },
	{ "truncated", "\xe5\xae", ANFU_TEXT_INVALID_UTF8 },
	{ "lone continuation", "\x80", ANFU_TEXT_INVALID_UTF8 },
	{ "0xFF", "\xff", ANFU_TEXT_INVALID_UTF8 },
};

static void test_text_check_refuses_malformed_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < NITEMS(malformed); i++) {
		enum anfu_text_fault f =
			anfu_text_check(malformed[i].utf8, strlen(malformed[i].utf8), NULL);

		if (f != ANFU_TEXT_INVALID_UTF8)
			fail_msg("%s: got %s", malformed[i].name, anfu_text_fault_name(f));
	}
	/* U+10FFFF and U+D7FF, the neighbours, are well formed. */
	assert_int_equal(anfu_text_check("\xf4\x8f\xbf\xbf", 4, NULL), ANFU_TEXT_OK);
	assert_int_equal(anfu_text_check("\xed\x9f\xbf", 3, NULL), ANFU_TEXT_OK);
}

struct nfc_row {
	const char *name, *in, *out;
};

static const struct nfc_row nfc_rows[] = {
	{ "e + U+0301 -> U+00E9", "e\xcc\x81", "\xc3\xa9" },
	{ "composed stays", "\xc3\xa9", "\xc3\xa9" },
	{ "A + ring -> U+00C5", "A\xcc\x8a", "\xc3\x85" },
	{ "U+212B angstrom sign -> U+00C5", "\xe2\x84\xab", "\xc3\x85" },
	{ "Hangul jamo -> syllable", "\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80" },
	{ "CJK unchanged", "\xe5\xbc\xa0\xe4\xb8\x89", "\xe5\xbc\xa0\xe4\xb8\x89" },
	{ "ASCII unchanged", "Alice Smith", "Alice Smith" },
	{ "empty", "", "" },
};

static void test_text_normalize_gives_nfc(void **state)
{
	(void)state;
	for (size_t i = 0; i < NITEMS(nfc_rows); i++) {
		char *out = NULL;
		size_t n = 0;

		assert_int_equal(
			anfu_text_normalize(nfc_rows[i].in, strlen(nfc_rows[i].in), &out, &n, NULL),
			0);
		if (n != strlen(nfc_rows[i].out) || strcmp(out, nfc_rows[i].out) != 0)
			fail_msg("%s: got \"%s\"", nfc_rows[i].name, out);
		free(out);
	}
}

static void test_text_decomposed_and_composed_are_one_value(void **state)
{
	char *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;

	(void)state;
	/* "José" both ways */
	assert_int_equal(anfu_text_normalize("Jose\xcc\x81", 6, &a, &na, NULL), 0);
	assert_int_equal(anfu_text_normalize("Jos\xc3\xa9", 5, &b, &nb, NULL), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
}

static void test_text_normalize_refuses_without_output(void **state)
{
	char *out = (char *)"untouched";
	size_t n = 77;
	enum anfu_text_fault f = ANFU_TEXT_OK;

	(void)state;
	assert_int_equal(anfu_text_normalize("a\xe2\x80\xae"
					     "b",
					     5, &out, &n, &f),
			 ANFU_EINVAL);
	assert_int_equal(f, ANFU_TEXT_FORMAT);
	assert_string_equal(out, "untouched");
	assert_int_equal(n, 77);
	assert_int_equal(anfu_text_normalize("\xc0\xaf", 2, &out, &n, &f), ANFU_EINVAL);
	assert_int_equal(f, ANFU_TEXT_INVALID_UTF8);
	assert_int_equal(anfu_text_normalize("a\nb", 3, &out, &n, NULL), ANFU_EINVAL);
	assert_string_equal(out, "untouched");
}

/* ---- the JSON decoder: STRING is text, SECRET is taken as sent ---------- */

struct body {
	struct anfu_str name, password;
};

static const struct anfu_jfield fields[] = {
	{ "name", ANFU_JT_STRING, offsetof(struct body, name), false, 1, 3, NULL },
	{ "password", ANFU_JT_SECRET, offsetof(struct body, password), false, 0, 0, NULL },
};

static int decode(const char *json, struct body *b, struct anfu_jerr *e)
{
	static const struct anfu_json_limits lim = { 8, 1024 };
	struct anfu_arena *a = anfu_arena_new(4096);
	int r;

	assert_non_null(a);
	memset(b, 0, sizeof(*b));
	r = anfu_json_decode(a, &lim, json, strlen(json), fields, NITEMS(fields), b, e);
	/* keep the strings for the caller: copy the name out before freeing */
	if (r == 0 && b->name.ptr) {
		static char keep[64];

		memcpy(keep, b->name.ptr, b->name.len + 1);
		b->name.ptr = keep;
	}
	if (r == 0 && b->password.ptr) {
		static char keep_pw[64];

		memcpy(keep_pw, b->password.ptr, b->password.len + 1);
		b->password.ptr = keep_pw;
	}
	anfu_arena_free(a);
	return r;
}

static void test_json_string_field_refuses_control_and_format(void **state)
{
	static const char *const bad[] = {
		"{\"name\":\"a\\u0009b\"}",
		"{\"name\":\"a\\nb\"}",
		"{\"name\":\"a\\u007fb\"}",
		"{\"name\":\"a\\u0085b\"}",
		"{\"name\":\"a\\u00adb\"}",
		"{\"name\":\"a\\u200bb\"}",
		"{\"name\":\"a\\u202eb\"}",
		"{\"name\":\"a\\u2066b\"}",
		"{\"name\":\"\\ufeffab\"}",
		"{\"name\":\"a\xe2\x80\xae"
		"b\"}",
	};
	(void)state;
	for (size_t i = 0; i < NITEMS(bad); i++) {
		struct body b;
		struct anfu_jerr e = { 0 };

		if (decode(bad[i], &b, &e) != ANFU_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(e.code, ANFU_JERR_INVALID_TEXT);
		assert_string_equal(e.field, "name");
	}
}

static void test_json_string_field_is_stored_nfc_and_counted_after(void **state)
{
	struct body b;
	struct anfu_jerr e = { 0 };

	(void)state;
	/* "e" + U+0301 twice + "x": 5 code points as sent, 3 in NFC (max 3). */
	assert_int_equal(decode("{\"name\":\"e\\u0301e\\u0301x\"}", &b, &e), 0);
	assert_string_equal(b.name.ptr, "\xc3\xa9\xc3\xa9x");
	assert_int_equal(b.name.len, 5);
}

static void test_json_secret_field_is_taken_as_sent(void **state)
{
	struct body b;
	struct anfu_jerr e = { 0 };

	(void)state;
	/* A password may hold what a name may not; its policy judges it. */
	assert_int_equal(decode("{\"password\":\"e\\u0301\\u200b\"}", &b, &e), 0);
	assert_string_equal(b.password.ptr, "e\xcc\x81\xe2\x80\x8b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_check_classifies_each_category),
		cmocka_unit_test(test_text_check_refuses_malformed_utf8),
		cmocka_unit_test(test_text_normalize_gives_nfc),
		cmocka_unit_test(test_text_decomposed_and_composed_are_one_value),
		cmocka_unit_test(test_text_normalize_refuses_without_output),
		cmocka_unit_test(test_json_string_field_refuses_control_and_format),
		cmocka_unit_test(test_json_string_field_is_stored_nfc_and_counted_after),
		cmocka_unit_test(test_json_secret_field_is_taken_as_sent),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
