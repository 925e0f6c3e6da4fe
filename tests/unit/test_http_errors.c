/*
 * Unit tests of http/errors: the ANFU_E* -> status/code table, the en/zh
 * messages, the uniform error body, and docs/errors.md kept in step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "http/internal.h"

static const struct {
	int err;
	int status;
	const char *code;
} expected[] = {
	{ ANFU_EINVAL, 400, "invalid_request" },    { ANFU_ENOTFOUND, 404, "not_found" },
	{ ANFU_EEXIST, 409, "already_exists" },	    { ANFU_ECONFLICT, 409, "conflict" },
	{ ANFU_ELIMIT, 413, "payload_too_large" },  { ANFU_EIO, 503, "unavailable" },
	{ ANFU_EBUSY, 503, "unavailable" },	    { ANFU_ECRYPTO, 500, "internal_error" },
	{ ANFU_EAUDIT, 503, "audit_unavailable" },  { ANFU_EPERM, 403, "forbidden" },
	{ ANFU_EAUTH, 401, "unauthorized" },	    { ANFU_ESCHEMA, 503, "unavailable" },
	{ ANFU_ECORRUPT, 500, "internal_error" },   { ANFU_EFULL, 503, "storage_full" },
	{ ANFU_ERANGE, 400, "field_out_of_range" }, { ANFU_ELOCKED, 423, "locked" },
	{ ANFU_EEXPIRED, 401, "expired" },	    { ANFU_ERATE, 429, "too_many_requests" },
	{ ANFU_EOVERLOAD, 503, "overloaded" },	    { ANFU_EINTERNAL, 500, "internal_error" },
};

/* req: WEB-ERR-01 */
static void test_every_err_maps_to_documented_status_and_code(void **state)
{
	(void)state;
	assert_int_equal(sizeof(expected) / sizeof(expected[0]), 20); /* every ANFU_E* */
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const char *code = NULL;

		assert_int_equal(anfu_http_status_for(expected[i].err, &code), expected[i].status);
		assert_string_equal(code, expected[i].code);
	}
}

static void test_unknown_err_is_internal_error(void **state)
{
	const char *code = NULL;

	(void)state;
	assert_int_equal(anfu_http_status_for(-999, &code), 500);
	assert_string_equal(code, "internal_error");
}

static void test_codes_without_err_have_their_status(void **state)
{
	static const struct {
		const char *code;
		int status;
	} rows[] = {
		{ "method_not_allowed", 405 }, { "unsupported_media_type", 415 },
		{ "headers_too_large", 431 },  { "invalid_json", 400 },
		{ "invalid_utf8", 400 },       { "json_too_deep", 400 },
		{ "unknown_field", 400 },      { "missing_field", 400 },
		{ "invalid_field", 400 },      { "field_out_of_range", 400 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *code = NULL;

		assert_int_equal(anfu_http_error_resolve(ANFU_EINVAL, rows[i].code, &code),
				 rows[i].status);
		assert_string_equal(code, rows[i].code);
	}
}

static void test_known_code_sets_status_over_err(void **state)
{
	const char *code = NULL;

	(void)state;
	/* A handler hiding a forbidden object as missing (WEB-ERR-02). */
	assert_int_equal(anfu_http_error_resolve(ANFU_EPERM, "not_found", &code), 404);
	assert_string_equal(code, "not_found");
}

static void test_unknown_code_keeps_status_of_err(void **state)
{
	const char *code = NULL;

	(void)state;
	assert_int_equal(anfu_http_error_resolve(ANFU_ECONFLICT, "order_already_paid", &code), 409);
	assert_string_equal(code, "order_already_paid");
	/* ...and gets the generic message of that status. */
	assert_string_equal(anfu_http_error_text("order_already_paid", 409, "en"),
			    anfu_http_error_message("conflict", "en"));
	assert_string_equal(anfu_http_error_text("order_already_paid", 409, "zh"),
			    anfu_http_error_message("conflict", "zh"));
}

static bool has_cjk(const char *s)
{
	/* A Simplified Chinese message holds at least one 3-byte UTF-8
	 * character in the CJK block (E4..E9 lead bytes). */
	for (; *s; s++)
		if ((unsigned char)*s >= 0xe4 && (unsigned char)*s <= 0xe9)
			return true;
	return false;
}

static void test_every_code_has_en_and_zh_messages(void **state)
{
	(void)state;
	assert_true(anfu_http_error_count() >= 25);
	for (size_t i = 0; i < anfu_http_error_count(); i++) {
		const char *code, *en, *zh;
		int status;

		assert_int_equal(anfu_http_error_row(i, &code, &status), 0);
		en = anfu_http_error_message(code, "en");
		zh = anfu_http_error_message(code, "zh");
		assert_true(strlen(en) > 0);
		assert_true(anfu_utf8_valid(en, strlen(en)));
		assert_false(has_cjk(en));
		assert_true(anfu_utf8_valid(zh, strlen(zh)));
		assert_true(has_cjk(zh));
		assert_string_not_equal(en, zh);
		assert_true(status >= 400 && status <= 599);
	}
}

static void test_codes_are_unique_and_lower_snake(void **state)
{
	(void)state;
	for (size_t i = 0; i < anfu_http_error_count(); i++) {
		const char *a, *b;
		int s;

		assert_int_equal(anfu_http_error_row(i, &a, &s), 0);
		for (const char *p = a; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_' ||
				    (*p >= '0' && *p <= '9'));
		for (size_t j = i + 1; j < anfu_http_error_count(); j++) {
			assert_int_equal(anfu_http_error_row(j, &b, &s), 0);
			assert_string_not_equal(a, b);
		}
	}
}

static json_t *render(const char *code, int status, const char *lang, const char *field)
{
	struct anfu_buf b;
	json_error_t je;
	json_t *v;

	anfu_buf_init(&b, 4096);
	assert_int_equal(
		anfu_http_error_render(code, status, lang, field, "req_0123456789abcdefghijkl", &b),
		0);
	v = json_loads(b.data, 0, &je);
	assert_non_null(v);
	anfu_buf_free(&b);
	return v;
}

/* req: WEB-ERR-01 */
static void test_body_shape(void **state)
{
	json_t *v = render("not_found", 404, "en", "");
	json_t *e = json_object_get(v, "error");

	(void)state;
	assert_int_equal(json_object_size(v), 1);
	assert_int_equal(json_object_size(e), 3);
	assert_string_equal(json_string_value(json_object_get(e, "code")), "not_found");
	assert_string_equal(json_string_value(json_object_get(e, "message")),
			    "The resource does not exist");
	assert_string_equal(json_string_value(json_object_get(e, "request_id")),
			    "req_0123456789abcdefghijkl");
	json_decref(v);
}

static void test_body_names_the_field(void **state)
{
	json_t *v = render("unknown_field", 400, "en", "foo");
	json_t *e = json_object_get(v, "error");

	(void)state;
	assert_int_equal(json_object_size(e), 4);
	assert_string_equal(json_string_value(json_object_get(e, "field")), "foo");
	assert_string_equal(json_string_value(json_object_get(e, "message")), "Unknown field: foo");
	json_decref(v);
}

static void test_body_in_chinese(void **state)
{
	json_t *v = render("unknown_field", 400, "zh", "foo");
	json_t *e = json_object_get(v, "error");

	(void)state;
	assert_string_equal(json_string_value(json_object_get(e, "message")), "未知字段：foo");
	json_decref(v);
}

static void test_body_escapes_hostile_field(void **state)
{
	/* A client's key: quotes, a control byte, and a CJK character cut
	 * in the middle by the 63-byte field limit. */
	char field[80];
	json_t *v, *e;

	(void)state;
	memset(field, 'a', sizeof(field));
	memcpy(field, "\"}\x01", 3);
	memcpy(field + 61, "\xe4\xb8\xad", 3);
	field[79] = '\0';
	v = render("unknown_field", 400, "en", field);
	e = json_object_get(v, "error");
	assert_non_null(e);
	assert_int_equal(json_string_length(json_object_get(e, "field")), 61);
	json_decref(v);
}

static char *read_doc(void)
{
	const char *root = getenv("ANFU_SOURCE_ROOT");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/docs/errors.md", root ? root : ".");
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void test_docs_list_every_code_with_its_status(void **state)
{
	char *doc = read_doc();

	(void)state;
	for (size_t i = 0; i < anfu_http_error_count(); i++) {
		const char *code;
		char row[128];
		int status;

		assert_int_equal(anfu_http_error_row(i, &code, &status), 0);
		snprintf(row, sizeof(row), "| `%s` | %d |", code, status);
		if (!strstr(doc, row))
			fail_msg("docs/errors.md lacks the row \"%s\"", row);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_err_maps_to_documented_status_and_code),
		cmocka_unit_test(test_unknown_err_is_internal_error),
		cmocka_unit_test(test_codes_without_err_have_their_status),
		cmocka_unit_test(test_known_code_sets_status_over_err),
		cmocka_unit_test(test_unknown_code_keeps_status_of_err),
		cmocka_unit_test(test_every_code_has_en_and_zh_messages),
		cmocka_unit_test(test_codes_are_unique_and_lower_snake),
		cmocka_unit_test(test_body_shape),
		cmocka_unit_test(test_body_names_the_field),
		cmocka_unit_test(test_body_in_chinese),
		cmocka_unit_test(test_body_escapes_hostile_field),
		cmocka_unit_test(test_docs_list_every_code_with_its_status),
	};

	return cmocka_run_group_tests_name("http_errors", tests, NULL, NULL);
}
