/*
 * Unit tests for base/json: allowlist decoding of request bodies.
 *
 * Trusts only base/json.h. Each test decodes one body against the field
 * table of a small payment request and checks the return code, the stable
 * error code and the field it names. Bodies are passed with explicit
 * lengths and are not NUL-terminated where it matters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/validate.h"

struct pay_req {
	struct anfu_str name;
	struct anfu_opt_i64 amount;
	struct anfu_opt_bool save;
	struct anfu_str phone;
	struct anfu_str memo;
};

static const struct anfu_jfield pay_fields[] = {
	{ "name", ANFU_JT_STRING, offsetof(struct pay_req, name), true, 1, 4, NULL },
	{ "amount", ANFU_JT_INT, offsetof(struct pay_req, amount), true, 1, 1000000, NULL },
	{ "save", ANFU_JT_BOOL, offsetof(struct pay_req, save), false, 0, 0, NULL },
	{ "phone", ANFU_JT_STRING, offsetof(struct pay_req, phone), false, 0, 0,
	  anfu_valid_mobile_cn },
	{ "memo", ANFU_JT_STRING, offsetof(struct pay_req, memo), false, 0, 0, NULL },
};
#define NFIELDS (sizeof(pay_fields) / sizeof(pay_fields[0]))

static const struct anfu_json_limits lim = { .max_depth = 4, .max_string_bytes = 64 };

struct fixture {
	struct anfu_arena *arena;
	struct pay_req req;
	struct anfu_jerr err;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.arena = anfu_arena_new(64 * 1024);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	anfu_arena_free(f->arena);
	return 0;
}

static int decode_len(struct fixture *f, const char *body, size_t len)
{
	memset(&f->req, 0, sizeof(f->req));
	f->err.code = NULL;
	memset(f->err.field, 'Z', sizeof(f->err.field));
	return anfu_json_decode(f->arena, &lim, body, len, pay_fields, NFIELDS, &f->req, &f->err);
}

static int decode(struct fixture *f, const char *body)
{
	return decode_len(f, body, strlen(body));
}

/* Asserts that decoding body fails with code and names field. */
static void expect_error(struct fixture *f, const char *body, const char *code, const char *field)
{
	int r = decode(f, body);

	if (r != ANFU_EINVAL)
		fail_msg("%s: r=%d, want EINVAL", body, r);
	if (!f->err.code || strcmp(f->err.code, code) != 0)
		fail_msg("%s: code %s, want %s", body, f->err.code ? f->err.code : "(null)", code);
	if (strcmp(f->err.field, field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\"", body, f->err.field, field);
}

/* req: WEB-SQL-01 */
static void test_json_decode_fills_struct(void **state)
{
	struct fixture *f = *state;
	const char *body = "{\"name\":\"Li\",\"amount\":1234,\"save\":true,"
			   "\"phone\":\"+8613800001050\",\"memo\":\"lunch\"}";

	assert_int_equal(decode(f, body), 0);
	assert_string_equal(f->req.name.ptr, "Li");
	assert_int_equal(f->req.name.len, 2);
	assert_true(f->req.amount.set);
	assert_int_equal(f->req.amount.v, 1234);
	assert_true(f->req.save.set);
	assert_true(f->req.save.v);
	assert_string_equal(f->req.phone.ptr, "+8613800001050");
	assert_string_equal(f->req.memo.ptr, "lunch");
	/* The strings are copies in the request arena. */
	assert_true(anfu_arena_used(f->arena) > 0);
}

static void test_json_decode_leaves_absent_optionals_unset(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(decode(f, "{\"amount\":1,\"name\":\"a\"}"), 0);
	assert_false(f->req.save.set);
	assert_null(f->req.phone.ptr);
	assert_null(f->req.memo.ptr);
	assert_int_equal(decode(f, "{\"amount\":1,\"name\":\"a\",\"save\":false}"), 0);
	assert_true(f->req.save.set);
	assert_false(f->req.save.v);
}

/* The body is {ptr,len}: bytes after len are never read. */
static void test_json_decode_reads_only_len_bytes(void **state)
{
	struct fixture *f = *state;
	const char body[] = "{\"name\":\"ab\",\"amount\":7}GARBAGE";

	assert_int_equal(decode_len(f, body, strlen("{\"name\":\"ab\",\"amount\":7}")), 0);
	assert_int_equal(f->req.amount.v, 7);
}

static void test_json_decode_decodes_escapes(void **state)
{
	struct fixture *f = *state;

	/* \u5b89\u4ed8 is 安付: two code points, six bytes. */
	assert_int_equal(decode(f, "{\"name\":\"\\u5b89\\u4ed8\",\"amount\":1,"
				   "\"memo\":\"a\\\"b\\\\c\\/\"}"),
			 0);
	assert_string_equal(f->req.name.ptr, "\xe5\xae\x89\xe4\xbb\x98");
	assert_string_equal(f->req.memo.ptr, "a\"b\\c/");
}

/* req: WEB-SQL-01 (allow-list of fields) */
static void test_json_decode_refuses_unknown_field(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":\"a\",\"amount\":1,\"nickname\":\"x\"}", ANFU_JERR_UNKNOWN_FIELD,
		     "nickname");
	/* Field names are case-sensitive. */
	expect_error(f, "{\"Name\":\"a\",\"amount\":1}", ANFU_JERR_UNKNOWN_FIELD, "Name");
	/* A prefix of a known name is not that name. */
	expect_error(f, "{\"nam\":\"a\",\"amount\":1}", ANFU_JERR_UNKNOWN_FIELD, "nam");
}

/* The error names at most 63 bytes of a long unknown key. */
static void test_json_decode_truncates_long_unknown_field_name(void **state)
{
	struct fixture *f = *state;
	char body[256], want[64];

	memset(want, 'k', 63);
	want[63] = '\0';
	(void)snprintf(body, sizeof(body), "{\"%s%s\":1}", want, "kkkkkkkk");
	expect_error(f, body, ANFU_JERR_UNKNOWN_FIELD, want);
}

/* req: WEB-SQL-01 */
static void test_json_decode_refuses_missing_required_field(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":\"a\"}", ANFU_JERR_MISSING_FIELD, "amount");
	expect_error(f, "{\"amount\":5}", ANFU_JERR_MISSING_FIELD, "name");
	expect_error(f, "{}", ANFU_JERR_MISSING_FIELD, "name");
}

/* req: WEB-SQL-01 (type checks) */
static void test_json_decode_refuses_wrong_type(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
		{ "{\"name\":\"a\",\"amount\":\"5\"}", "amount" },
		{ "{\"name\":\"a\",\"amount\":1.5}", "amount" },
		{ "{\"name\":\"a\",\"amount\":1.0}", "amount" },
		{ "{\"name\":\"a\",\"amount\":true}", "amount" },
		{ "{\"name\":\"a\",\"amount\":null}", "amount" },
		{ "{\"name\":\"a\",\"amount\":[1]}", "amount" },
		{ "{\"name\":5,\"amount\":1}", "name" },
		{ "{\"name\":null,\"amount\":1}", "name" },
		{ "{\"name\":{},\"amount\":1}", "name" },
		{ "{\"name\":[\"a\"],\"amount\":1}", "name" },
		{ "{\"name\":\"a\",\"amount\":1,\"save\":\"true\"}", "save" },
		{ "{\"name\":\"a\",\"amount\":1,\"save\":1}", "save" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(f, cases[i].body, ANFU_JERR_INVALID_FIELD, cases[i].field);
}

/* req: WEB-SQL-01 (range checks) */
static void test_json_decode_checks_int_range(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(decode(f, "{\"name\":\"a\",\"amount\":1}"), 0);
	assert_int_equal(f->req.amount.v, 1);
	assert_int_equal(decode(f, "{\"name\":\"a\",\"amount\":1000000}"), 0);
	assert_int_equal(f->req.amount.v, 1000000);
	expect_error(f, "{\"name\":\"a\",\"amount\":0}", ANFU_JERR_OUT_OF_RANGE, "amount");
	expect_error(f, "{\"name\":\"a\",\"amount\":1000001}", ANFU_JERR_OUT_OF_RANGE, "amount");
	expect_error(f, "{\"name\":\"a\",\"amount\":-1}", ANFU_JERR_OUT_OF_RANGE, "amount");
	expect_error(f, "{\"name\":\"a\",\"amount\":9223372036854775807}", ANFU_JERR_OUT_OF_RANGE,
		     "amount");
	expect_error(f, "{\"name\":\"a\",\"amount\":-9223372036854775808}", ANFU_JERR_OUT_OF_RANGE,
		     "amount");
}

/* An integer beyond int64 is refused by the parser itself. */
static void test_json_decode_refuses_integer_beyond_int64(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":\"a\",\"amount\":9223372036854775808}", ANFU_JERR_INVALID_JSON,
		     "");
	expect_error(f, "{\"name\":\"a\",\"amount\":1e400}", ANFU_JERR_INVALID_JSON, "");
}

/* Limits count code points, not bytes: four CJK characters (12 bytes) fit
 * a 4-code-point limit, five do not. req: WEB-SQL-01 */
static void test_json_decode_limits_string_in_code_points(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(decode(f, "{\"name\":\"\xe5\xae\x89\xe4\xbb\x98\xe5\xae\x89\xe4\xbb\x98\","
				   "\"amount\":1}"),
			 0);
	assert_int_equal(f->req.name.len, 12);
	assert_int_equal(decode(f, "{\"name\":\"abcd\",\"amount\":1}"), 0);
	expect_error(f,
		     "{\"name\":\"\xe5\xae\x89\xe4\xbb\x98\xe5\xae\x89\xe4\xbb\x98\xe5\xae\x89\","
		     "\"amount\":1}",
		     ANFU_JERR_OUT_OF_RANGE, "name");
	expect_error(f, "{\"name\":\"abcde\",\"amount\":1}", ANFU_JERR_OUT_OF_RANGE, "name");
	/* Fewer than min (1) code points. */
	expect_error(f, "{\"name\":\"\",\"amount\":1}", ANFU_JERR_OUT_OF_RANGE, "name");
}

/* Any string is capped by max_string_bytes (64 here) even without a
 * per-field maximum. req: WEB-DOS-01 */
static void test_json_decode_limits_string_bytes(void **state)
{
	struct fixture *f = *state;
	char body[256];
	char memo[70];

	memset(memo, 'm', 64);
	memo[64] = '\0';
	(void)snprintf(body, sizeof(body), "{\"name\":\"a\",\"amount\":1,\"memo\":\"%s\"}", memo);
	assert_int_equal(decode(f, body), 0);
	assert_int_equal(f->req.memo.len, 64);
	memo[64] = 'm';
	memo[65] = '\0';
	(void)snprintf(body, sizeof(body), "{\"name\":\"a\",\"amount\":1,\"memo\":\"%s\"}", memo);
	expect_error(f, body, ANFU_JERR_OUT_OF_RANGE, "memo");
}

/* req: WEB-SQL-01 (format checks) */
static void test_json_decode_applies_check_function(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(decode(f, "{\"name\":\"a\",\"amount\":1,\"phone\":\"13800001050\"}"), 0);
	assert_string_equal(f->req.phone.ptr, "13800001050");
	expect_error(f, "{\"name\":\"a\",\"amount\":1,\"phone\":\"12800001050\"}",
		     ANFU_JERR_INVALID_FIELD, "phone");
	expect_error(f, "{\"name\":\"a\",\"amount\":1,\"phone\":\"\"}", ANFU_JERR_INVALID_FIELD,
		     "phone");
}

/* req: WEB-SQL-01 (illegal characters) */
static void test_json_decode_refuses_invalid_utf8(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":\"\xc0\x80\",\"amount\":1}", ANFU_JERR_INVALID_UTF8, "");
	expect_error(f, "{\"name\":\"\xed\xa0\x80\",\"amount\":1}", ANFU_JERR_INVALID_UTF8, "");
	expect_error(f, "{\"name\":\"\xff\",\"amount\":1}", ANFU_JERR_INVALID_UTF8, "");
	expect_error(f, "{\"na\xe5\xae\":\"a\",\"amount\":1}", ANFU_JERR_INVALID_UTF8, "");
}

/* A raw NUL byte is invalid text; an escaped \u0000 is refused too. */
static void test_json_decode_refuses_nul_in_string(void **state)
{
	struct fixture *f = *state;
	const char raw[] = "{\"name\":\"a\0b\",\"amount\":1}";

	assert_int_equal(decode_len(f, raw, sizeof(raw) - 1), ANFU_EINVAL);
	assert_string_equal(f->err.code, ANFU_JERR_INVALID_UTF8);
	assert_int_equal(decode(f, "{\"name\":\"a\\u0000b\",\"amount\":1}"), ANFU_EINVAL);
	/* jansson refuses it while parsing (no JSON_ALLOW_NUL); were that
	 * flag ever passed, the field check would refuse it instead. */
	assert_non_null(f->err.code);
	assert_true(strcmp(f->err.code, ANFU_JERR_INVALID_JSON) == 0 ||
		    strcmp(f->err.code, ANFU_JERR_INVALID_FIELD) == 0);
	assert_null(f->req.name.ptr);
}

/* req: WEB-DOS-01 (nesting limit) */
static void test_json_decode_refuses_depth_over_limit(void **state)
{
	struct fixture *f = *state;

	/* Depth 5 (the object plus four arrays) with a limit of 4. */
	expect_error(f, "{\"name\":[[[[1]]]],\"amount\":1}", ANFU_JERR_TOO_DEEP, "");
	expect_error(f, "{\"name\":{\"a\":{\"b\":{\"c\":{}}}},\"amount\":1}", ANFU_JERR_TOO_DEEP,
		     "");
	/* Deeply nested garbage is refused before the parser recurses. */
	{
		char body[20001];

		memset(body, '[', sizeof(body) - 1);
		body[sizeof(body) - 1] = '\0';
		expect_error(f, body, ANFU_JERR_TOO_DEEP, "");
	}
}

/* Exactly the limit passes the depth check (and then fails on type). */
static void test_json_decode_accepts_depth_at_limit(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":[[[1]]],\"amount\":1}", ANFU_JERR_INVALID_FIELD, "name");
}

/* Brackets inside strings do not count as nesting. */
static void test_json_decode_ignores_brackets_in_strings(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(decode(f, "{\"name\":\"[[{{\",\"amount\":1,\"memo\":\"\\\"[[[[[[[[[\"}"),
			 0);
	assert_string_equal(f->req.name.ptr, "[[{{");
}

/* req: WEB-SQL-01 */
static void test_json_decode_refuses_duplicate_keys(void **state)
{
	struct fixture *f = *state;

	expect_error(f, "{\"name\":\"a\",\"amount\":1,\"amount\":2}", ANFU_JERR_INVALID_JSON, "");
	expect_error(f, "{\"name\":\"a\",\"name\":\"a\",\"amount\":1}", ANFU_JERR_INVALID_JSON, "");
}

/* req: WEB-SQL-01 */
static void test_json_decode_refuses_non_object_root(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {
		"[]", "[{\"name\":\"a\",\"amount\":1}]", "\"x\"", "5", "null", "true",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_error(f, bodies[i], ANFU_JERR_INVALID_JSON, "");
}

/* req: WEB-SQL-01 */
static void test_json_decode_refuses_trailing_garbage(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {
		"{\"name\":\"a\",\"amount\":1} x",
		"{\"name\":\"a\",\"amount\":1}{}",
		"{\"name\":\"a\",\"amount\":1},",
		"{\"name\":\"a\",\"amount\":1}}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_error(f, bodies[i], ANFU_JERR_INVALID_JSON, "");
	/* Whitespace after the object is fine. */
	assert_int_equal(decode(f, "{\"name\":\"a\",\"amount\":1}\r\n "), 0);
}

/* req: WEB-SQL-01 */
static void test_json_decode_refuses_malformed_json(void **state)
{
	struct fixture *f = *state;
	static const char *const bodies[] = {
		"",
		"{",
		"{\"name\":\"a\",\"amount\":1",
		"{\"name\":\"a\",}",
		"{name:\"a\",\"amount\":1}",
		"{'name':'a','amount':1}",
		"{\"name\":\"a\" \"amount\":1}",
		"{\"name\":\"a\",\"amount\":01}",
		"{\"name\":\"a\",\"amount\":NaN}",
		"{\"name\":\"\\x41\",\"amount\":1}",
		"{\"name\":\"unterminated,\"amount\":1}",
		"\xef\xbb\xbf{\"name\":\"a\",\"amount\":1}", /* BOM */
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		expect_error(f, bodies[i], ANFU_JERR_INVALID_JSON, "");
}

/* Running out of request memory is ANFU_ELIMIT (413), not a JSON error.
 * req: WEB-DOS-01 */
static void test_json_decode_reports_arena_cap(void **state)
{
	struct anfu_arena *small = anfu_arena_new(0);
	struct pay_req req;
	struct anfu_jerr err = { 0 };

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(anfu_json_decode(small, &lim, "{\"name\":\"a\",\"amount\":1}", 23,
					  pay_fields, NFIELDS, &req, &err),
			 ANFU_ELIMIT);
	assert_null(req.name.ptr);
	anfu_arena_free(small);
}

static void test_json_precheck_accepts_and_refuses(void **state)
{
	struct anfu_jerr err = { 0 };
	static const struct anfu_json_limits one = { .max_depth = 1, .max_string_bytes = 16 };

	(void)state;
	assert_int_equal(anfu_json_precheck(&one, "{\"a\":1}", 7, &err), 0);
	assert_int_equal(anfu_json_precheck(&one, "{\"a\":[]}", 8, &err), ANFU_EINVAL);
	assert_string_equal(err.code, ANFU_JERR_TOO_DEEP);
	/* An escaped quote does not end the string. */
	assert_int_equal(anfu_json_precheck(&one, "{\"a\\\"[[\":1}", 11, &err), 0);
	/* Unbalanced closers do not wrap the depth counter. */
	assert_int_equal(anfu_json_precheck(&one, "]]]]{\"a\":1}", 11, &err), 0);
}

static void test_json_append_sorts_keys_compactly(void **state)
{
	struct anfu_buf b;
	json_t *o = json_object();

	(void)state;
	anfu_buf_init(&b, 1024);
	anfu_json_set(o, "b", json_integer(1));
	anfu_json_set(o, "a", json_string("x\"y"));
	anfu_json_set(o, "c", json_pack("[ib]", -2, 1));
	assert_int_equal(anfu_json_append(&b, o), 0);
	assert_string_equal(b.data, "{\"a\":\"x\\\"y\",\"b\":1,\"c\":[-2,true]}");
	json_decref(o);
	anfu_buf_free(&b);
}

/* req: WEB-DOS-01 */
static void test_json_append_refuses_past_buffer_max(void **state)
{
	struct anfu_buf b;
	json_t *o = json_object();

	(void)state;
	anfu_buf_init(&b, 8);
	anfu_json_set(o, "long", json_string("value"));
	assert_int_equal(anfu_json_append(&b, o), ANFU_ELIMIT);
	json_decref(o);
	anfu_buf_free(&b);
}

/* A payload decoded without a field table: every string, nested in objects
 * and arrays, is refused with a format character (named by its key) or
 * replaced by its NFC form; other values are left alone. req: WEB-SQL-01 */
static void test_json_normalize_strings_walks_objects_and_arrays(void **state)
{
	struct anfu_jerr err = { 0 };
	json_t *v, *list;

	(void)state;
	v = json_pack("{s:s, s:{s:[s, i]}, s:b}", "name", "e\xcc\x81mile", "inner", "list",
		      "Jose\xcc\x81", 7, "flag", 1);
	assert_non_null(v);
	assert_int_equal(anfu_json_normalize_strings(v, &err), 0);
	assert_string_equal(json_string_value(json_object_get(v, "name")), "\xc3\xa9mile");
	list = json_object_get(json_object_get(v, "inner"), "list");
	assert_string_equal(json_string_value(json_array_get(list, 0)), "Jos\xc3\xa9");
	assert_int_equal(json_integer_value(json_array_get(list, 1)), 7);
	assert_true(json_is_true(json_object_get(v, "flag")));
	json_decref(v);

	v = json_pack("{s:{s:s}}", "outer", "reason",
		      "a\xe2\x80\xae"
		      "b");
	assert_int_equal(anfu_json_normalize_strings(v, &err), ANFU_EINVAL);
	assert_string_equal(err.code, ANFU_JERR_INVALID_TEXT);
	assert_string_equal(err.field, "reason");
	json_decref(v);
	assert_int_equal(anfu_json_normalize_strings(NULL, &err), ANFU_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_json_decode_fills_struct),
		T(test_json_decode_leaves_absent_optionals_unset),
		T(test_json_decode_reads_only_len_bytes),
		T(test_json_decode_decodes_escapes),
		T(test_json_decode_refuses_unknown_field),
		T(test_json_decode_truncates_long_unknown_field_name),
		T(test_json_decode_refuses_missing_required_field),
		T(test_json_decode_refuses_wrong_type),
		T(test_json_decode_checks_int_range),
		T(test_json_decode_refuses_integer_beyond_int64),
		T(test_json_decode_limits_string_in_code_points),
		T(test_json_decode_limits_string_bytes),
		T(test_json_decode_applies_check_function),
		T(test_json_decode_refuses_invalid_utf8),
		T(test_json_decode_refuses_nul_in_string),
		T(test_json_decode_refuses_depth_over_limit),
		T(test_json_decode_accepts_depth_at_limit),
		T(test_json_decode_ignores_brackets_in_strings),
		T(test_json_decode_refuses_duplicate_keys),
		T(test_json_decode_refuses_non_object_root),
		T(test_json_decode_refuses_trailing_garbage),
		T(test_json_decode_refuses_malformed_json),
#undef T
		cmocka_unit_test(test_json_decode_reports_arena_cap),
		cmocka_unit_test(test_json_precheck_accepts_and_refuses),
		cmocka_unit_test(test_json_append_sorts_keys_compactly),
		cmocka_unit_test(test_json_append_refuses_past_buffer_max),
		cmocka_unit_test(test_json_normalize_strings_walks_objects_and_arrays),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
