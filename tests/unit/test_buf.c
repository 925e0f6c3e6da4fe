/*
 * Unit tests for base/buf: the growable byte buffer with a hard maximum.
 *
 * Trusts only base/buf.h. `max` counts the allocation including the
 * terminating NUL (as curl's dynbuf `toobig` does), so a buffer of max m
 * holds at most m - 1 content bytes. Every refused append is checked to
 * leave the content exactly as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"

static void assert_content(const struct anfu_buf *b, const char *want)
{
	size_t n = strlen(want);

	assert_int_equal(b->len, n);
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, n);
	assert_int_equal(b->data[n], '\0');
}

static void test_buf_init_is_empty(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 100);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 100);
	assert_false(b.secret);
	anfu_buf_free(&b);
}

static void test_buf_append_keeps_content_terminated(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 1024);
	assert_int_equal(anfu_buf_append(&b, "abcXYZ", 3), 0);
	assert_content(&b, "abc");
	assert_int_equal(anfu_buf_appends(&b, "def"), 0);
	assert_content(&b, "abcdef");
	assert_int_equal(anfu_buf_append(&b, "", 0), 0);
	assert_content(&b, "abcdef");
	anfu_buf_free(&b);
}

static void test_buf_append_binary_bytes(void **state)
{
	static const char bin[] = { 'a', '\0', 'b', '\xff' };
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 64);
	assert_int_equal(anfu_buf_append(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, sizeof(bin));
	assert_memory_equal(b.data, bin, sizeof(bin));
	assert_int_equal(b.data[sizeof(bin)], '\0');
	anfu_buf_free(&b);
}

/* Growth across many reallocations keeps every byte. */
static void test_buf_append_grows_across_reallocations(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(anfu_buf_append(&b, &c, 1), 0);
	}
	assert_int_equal(b.len, 10000);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], 'a' + (int)(i % 26));
	assert_int_equal(b.data[b.len], '\0');
	anfu_buf_free(&b);
}

/* req: WEB-DOS-01 (bounded buffers) */
static void test_buf_append_past_max_fails_and_leaves_content(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 16);
	assert_int_equal(anfu_buf_appends(&b, "0123456789"), 0);
	/* 10 + 6 = 16 content bytes + NUL do not fit in 16. */
	assert_int_equal(anfu_buf_appends(&b, "abcdef"), ANFU_ELIMIT);
	assert_content(&b, "0123456789");
	/* 15 content bytes + NUL = 16: the largest that fits. */
	assert_int_equal(anfu_buf_appends(&b, "abcde"), 0);
	assert_content(&b, "0123456789abcde");
	assert_int_equal(anfu_buf_append(&b, "x", 1), ANFU_ELIMIT);
	assert_content(&b, "0123456789abcde");
	anfu_buf_free(&b);
}

/* req: WEB-DOS-01, SDLC-08 (size arithmetic is checked) */
static void test_buf_append_refuses_size_overflow(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, SIZE_MAX);
	assert_int_equal(anfu_buf_appends(&b, "abc"), 0);
	/* len + n wraps around: must be refused, not read. */
	assert_int_equal(anfu_buf_append(&b, "x", SIZE_MAX - 1), ANFU_ELIMIT);
	assert_content(&b, "abc");
	anfu_buf_free(&b);
}

static void test_buf_appendf_formats(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 256);
	assert_int_equal(anfu_buf_appendf(&b, "%s=%d", "n", 42), 0);
	assert_int_equal(anfu_buf_appendf(&b, ",%05.1f,%c,%lld", 3.14159, 'z', -9LL), 0);
	assert_content(&b, "n=42,003.1,z,-9");
	assert_int_equal(anfu_buf_appendf(&b, "%s", ""), 0);
	assert_content(&b, "n=42,003.1,z,-9");
	anfu_buf_free(&b);
}

/* req: WEB-DOS-01 */
static void test_buf_appendf_past_max_fails_and_leaves_content(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 12);
	assert_int_equal(anfu_buf_appendf(&b, "%d", 12345), 0);
	assert_int_equal(anfu_buf_appendf(&b, "-%d", 123456), ANFU_ELIMIT);
	assert_content(&b, "12345");
	assert_int_equal(anfu_buf_appendf(&b, "-%d", 12345), 0);
	assert_content(&b, "12345-12345");
	anfu_buf_free(&b);
}

static int vappend_helper(struct anfu_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vappend_helper(struct anfu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = anfu_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void test_buf_vappendf_formats(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 64);
	assert_int_equal(vappend_helper(&b, "[%s:%u]", "x", 7u), 0);
	assert_content(&b, "[x:7]");
	anfu_buf_free(&b);
}

/* Output encoding for JSON contexts. req: WEB-XSS-01 */
static void test_buf_json_escape_encodes_specials(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "\"", 1, "\\\"" },
		{ "\\", 1, "\\\\" },
		{ "\n", 1, "\\n" },
		{ "\r", 1, "\\r" },
		{ "\t", 1, "\\t" },
		{ "\x01", 1, "\\u0001" },
		{ "\x08", 1, "\\u0008" },
		{ "\x0c", 1, "\\u000c" },
		{ "\x1f", 1, "\\u001f" },
		{ "\x7f", 1, "\\u007f" },
		{ "\0", 1, "\\u0000" },
		{ " ", 1, " " },
		{ "/", 1, "/" },
		{ "</script>", 9, "</script>" },
		{ "\xe5\xae\x89\xe4\xbb\x98", 6, "\xe5\xae\x89\xe4\xbb\x98" }, /* 安付 */
		{ "a\"b\\c\nd", 7, "a\\\"b\\\\c\\nd" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct anfu_buf b;

		anfu_buf_init(&b, 256);
		assert_int_equal(anfu_buf_append_json_escaped(&b, cases[i].in, cases[i].len), 0);
		if (b.len != strlen(cases[i].want) || memcmp(b.data, cases[i].want, b.len) != 0)
			fail_msg("case %zu: got \"%s\" want \"%s\"", i, b.data, cases[i].want);
		anfu_buf_free(&b);
	}
}

/* A refused escape leaves no half-written escape behind. req: WEB-DOS-01 */
static void test_buf_json_escape_past_max_restores_content(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_init(&b, 16);
	assert_int_equal(anfu_buf_appends(&b, "{\"k\":\""), 0);
	assert_int_equal(anfu_buf_append_json_escaped(&b, "ab\x01\x02\x03", 5), ANFU_ELIMIT);
	assert_content(&b, "{\"k\":\"");
	anfu_buf_free(&b);

	/* Also when nothing was ever allocated. */
	anfu_buf_init(&b, 4);
	assert_int_equal(anfu_buf_append_json_escaped(&b, "\x01", 1), ANFU_ELIMIT);
	assert_int_equal(b.len, 0);
	anfu_buf_free(&b);
}

static void test_buf_steal_hands_over_data(void **state)
{
	struct anfu_buf b;
	size_t len = 0;
	char *p;

	(void)state;
	anfu_buf_init(&b, 64);
	assert_int_equal(anfu_buf_appends(&b, "owned"), 0);
	p = anfu_buf_steal(&b, &len);
	assert_string_equal(p, "owned");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	/* The buffer is reusable after a steal. */
	assert_int_equal(anfu_buf_appends(&b, "again"), 0);
	assert_content(&b, "again");
	anfu_buf_free(&b);
	free(p);
}

static void test_buf_steal_of_empty_buffer_gives_empty_string(void **state)
{
	struct anfu_buf b;
	size_t len = 99;
	char *p;

	(void)state;
	anfu_buf_init(&b, 64);
	p = anfu_buf_steal(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
	p = anfu_buf_steal(&b, NULL);
	assert_non_null(p);
	free(p);
}

static void test_buf_reset_empties_and_keeps_memory(void **state)
{
	struct anfu_buf b;
	char *before;

	(void)state;
	anfu_buf_init(&b, 64);
	assert_int_equal(anfu_buf_appends(&b, "something"), 0);
	before = b.data;
	anfu_buf_reset(&b);
	assert_content(&b, "");
	assert_ptr_equal(b.data, before);
	assert_int_equal(anfu_buf_appends(&b, "next"), 0);
	assert_content(&b, "next");
	anfu_buf_free(&b);
}

/* A secret buffer keeps its content correct across growth (which copies
 * and wipes instead of realloc) and wipes it on reset.
 * req: DATA-RES-01 */
static void test_buf_secret_grows_and_wipes_on_reset(void **state)
{
	struct anfu_buf b;
	char chunk[100];
	size_t n;

	(void)state;
	anfu_buf_init_secret(&b, 1 << 16);
	assert_true(b.secret);
	memset(chunk, 's', sizeof(chunk));
	for (int i = 0; i < 50; i++)
		assert_int_equal(anfu_buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 5000);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.data[i], 's');
	n = b.len;
	anfu_buf_reset(&b);
	assert_int_equal(b.len, 0);
	for (size_t i = 0; i < n; i++)
		if (b.data[i] != '\0')
			fail_msg("secret byte %zu survived reset", i);
	anfu_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_free_is_null_safe_and_idempotent(void **state)
{
	struct anfu_buf b;

	(void)state;
	anfu_buf_free(NULL);
	anfu_buf_init_secret(&b, 64);
	anfu_buf_free(&b); /* never allocated */
	assert_int_equal(anfu_buf_appends(&b, "pw"), 0);
	anfu_buf_free(&b);
	anfu_buf_free(&b);
	assert_null(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_init_is_empty),
		cmocka_unit_test(test_buf_append_keeps_content_terminated),
		cmocka_unit_test(test_buf_append_binary_bytes),
		cmocka_unit_test(test_buf_append_grows_across_reallocations),
		cmocka_unit_test(test_buf_append_past_max_fails_and_leaves_content),
		cmocka_unit_test(test_buf_append_refuses_size_overflow),
		cmocka_unit_test(test_buf_appendf_formats),
		cmocka_unit_test(test_buf_appendf_past_max_fails_and_leaves_content),
		cmocka_unit_test(test_buf_vappendf_formats),
		cmocka_unit_test(test_buf_json_escape_encodes_specials),
		cmocka_unit_test(test_buf_json_escape_past_max_restores_content),
		cmocka_unit_test(test_buf_steal_hands_over_data),
		cmocka_unit_test(test_buf_steal_of_empty_buffer_gives_empty_string),
		cmocka_unit_test(test_buf_reset_empties_and_keeps_memory),
		cmocka_unit_test(test_buf_secret_grows_and_wipes_on_reset),
		cmocka_unit_test(test_buf_free_is_null_safe_and_idempotent),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
