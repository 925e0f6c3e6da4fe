/*
 * Unit tests for base/mask: the masking rules for personal data
 * (DATA-MASK-01..07, real names).
 *
 * Table-driven with the catalog's examples, then the boundaries: an out
 * buffer of exactly the right size works, one byte less gives ANFU_ELIMIT
 * and leaves out untouched; malformed input gives ANFU_EINVAL and leaves
 * out untouched.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/mask.h"

typedef int (*mask_fn)(const char *s, size_t len, char *out, size_t cap);

struct mask_case {
	const char *req;
	mask_fn fn;
	const char *in;
	const char *want; /* NULL: ANFU_EINVAL */
};

static const struct mask_case cases[] = {
	/* req: DATA-MASK-01 */
	{ "DATA-MASK-01", anfu_mask_mobile, "13800001050", "****1050" },
	{ "DATA-MASK-01", anfu_mask_mobile, "+8613800001050", "****1050" },
	{ "DATA-MASK-01", anfu_mask_mobile, "8613800001050", "****1050" },
	{ "DATA-MASK-01", anfu_mask_mobile, "138-0000-1050", "****1050" },
	{ "DATA-MASK-01", anfu_mask_mobile, "+86 138 0000 1050", "****1050" },
	{ "DATA-MASK-01", anfu_mask_mobile, "1380000", "****0000" },
	{ "DATA-MASK-01", anfu_mask_mobile, "138000", NULL },
	{ "DATA-MASK-01", anfu_mask_mobile, "1234567890123456", NULL },
	{ "DATA-MASK-01", anfu_mask_mobile, "1380000105a", NULL },
	{ "DATA-MASK-01", anfu_mask_mobile, "138+00001050", NULL },
	{ "DATA-MASK-01", anfu_mask_mobile, "", NULL },
	/* req: DATA-MASK-02 */
	{ "DATA-MASK-02", anfu_mask_landline, "0571-87654123", "0571-****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "010-87654123", "010-****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "0571 87654123", "0571 ****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "057187654123", "0571****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "01087654123", "010****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "87654123", "****123" },
	{ "DATA-MASK-02", anfu_mask_landline, "0571-8765", NULL },
	{ "DATA-MASK-02", anfu_mask_landline, "0571-876541234", NULL },
	{ "DATA-MASK-02", anfu_mask_landline, "571-87654123", NULL },
	{ "DATA-MASK-02", anfu_mask_landline, "0571-8765412a", NULL },
	{ "DATA-MASK-02", anfu_mask_landline, "0571-87654123-12", NULL },
	/* req: DATA-MASK-03 */
	{ "DATA-MASK-03", anfu_mask_email, "tt@163.com", "tt**@1**.com" },
	{ "DATA-MASK-03", anfu_mask_email, "conxxx@1xxx.com", "con**@1**.com" },
	{ "DATA-MASK-03", anfu_mask_email, "alice.smith@mail.example.co.uk", "ali**@m**.uk" },
	{ "DATA-MASK-03", anfu_mask_email, "a@b.cn", "a**@b**.cn" },
	{ "DATA-MASK-03", anfu_mask_email, "张三丰@例子.中国", "张三丰**@例**.中国" },
	{ "DATA-MASK-03", anfu_mask_email, "tt163.com", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "@163.com", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "tt@com", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "tt@.com", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "tt@163.", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "t@t@163.com", NULL },
	{ "DATA-MASK-03", anfu_mask_email, "t t@163.com", NULL },
	/* req: DATA-MASK-04 */
	{ "DATA-MASK-04", anfu_mask_nickname, "alice1", "a**1" },
	{ "DATA-MASK-04", anfu_mask_nickname, "ab", "a**b" },
	{ "DATA-MASK-04", anfu_mask_nickname, "a", "a**" },
	{ "DATA-MASK-04", anfu_mask_nickname, "小明同学", "小**学" },
	{ "DATA-MASK-04", anfu_mask_nickname, "小", "小**" },
	{ "DATA-MASK-04", anfu_mask_nickname, "a😀b😀", "a**😀" },
	{ "DATA-MASK-04", anfu_mask_nickname, "", NULL },
	{ "DATA-MASK-04", anfu_mask_nickname, "ab\ncd", NULL },
	{ "DATA-MASK-04", anfu_mask_nickname, "ab\xe5\xb0", NULL },
	/* req: DATA-MASK-05 */
	{ "DATA-MASK-05", anfu_mask_address, "浙江省杭州市西湖区文三路90号",
	  "浙江省杭州市西湖区****" },
	{ "DATA-MASK-05", anfu_mask_address, "北京市朝阳区建国路1号", "北京市朝阳区****" },
	{ "DATA-MASK-05", anfu_mask_address, "浙江省杭州市淳安县千岛湖镇",
	  "浙江省杭州市淳安县****" },
	{ "DATA-MASK-05", anfu_mask_address, "内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇",
	  "内蒙古自治区呼伦贝尔市鄂温克族自治旗****" },
	{ "DATA-MASK-05", anfu_mask_address, "广西壮族自治区南宁市青秀区民族大道100号",
	  "广西壮族自治区南宁市青秀区****" },
	{ "DATA-MASK-05", anfu_mask_address, "香港特别行政区九龙城区太子道",
	  "香港特别行政区九龙城区****" },
	{ "DATA-MASK-05", anfu_mask_address, "广东省东莞市南城街道幸福小区3栋",
	  "广东省东莞市****" },
	{ "DATA-MASK-05", anfu_mask_address, "文三路90号", NULL },
	{ "DATA-MASK-05", anfu_mask_address, "", NULL },
	/* req: DATA-MASK-06 */
	{ "DATA-MASK-06", anfu_mask_id_number, "11010519491231002X", "1****************X" },
	{ "DATA-MASK-06", anfu_mask_id_number, "E12345678", "E*******8" },
	{ "DATA-MASK-06", anfu_mask_id_number, "AB", "AB" },
	{ "DATA-MASK-06", anfu_mask_id_number, "A", NULL },
	{ "DATA-MASK-06", anfu_mask_id_number, "110105-1949", NULL },
	/* req: DATA-MASK-07 */
	{ "DATA-MASK-07", anfu_mask_bank_card, "6222021234567890123", "622202*********0123" },
	{ "DATA-MASK-07", anfu_mask_bank_card, "6222 0212 3456 7890 123", "622202*********0123" },
	{ "DATA-MASK-07", anfu_mask_bank_card, "622202123456", "622202**3456" },
	{ "DATA-MASK-07", anfu_mask_bank_card, "62220212345", NULL },
	{ "DATA-MASK-07", anfu_mask_bank_card, "622202123456789012345678901234567", NULL },
	{ "DATA-MASK-07", anfu_mask_bank_card, "6222O21234567890123", NULL },
	/* real names (DATA-MASK-08 surfaces) */
	{ "DATA-MASK-08", anfu_mask_name, "张三", "*三" },
	{ "DATA-MASK-08", anfu_mask_name, "欧阳娜娜", "***娜" },
	{ "DATA-MASK-08", anfu_mask_name, "李", "李" },
	{ "DATA-MASK-08", anfu_mask_name, "Ann Lee", "******e" },
	{ "DATA-MASK-08", anfu_mask_name, "", NULL },
	{ "DATA-MASK-08", anfu_mask_name, "\xff\xfe", NULL },
};

#define SENTINEL 'Z'

static bool untouched(const char *out, size_t cap)
{
	for (size_t i = 0; i < cap; i++)
		if (out[i] != SENTINEL)
			return false;
	return true;
}

static void test_mask_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mask_case *c = &cases[i];
		char out[ANFU_MASK_MAX];
		int r;

		memset(out, SENTINEL, sizeof(out));
		r = c->fn(c->in, strlen(c->in), out, sizeof(out));
		if (c->want && (r != 0 || strcmp(out, c->want) != 0))
			fail_msg("%s row %zu \"%s\": got %d \"%.*s\", want \"%s\"", c->req, i,
				 c->in, r, r == 0 ? (int)strlen(out) : 0, out, c->want);
		if (!c->want && (r != ANFU_EINVAL || !untouched(out, sizeof(out))))
			fail_msg("%s row %zu \"%s\": got %d, want EINVAL and out untouched", c->req,
				 i, c->in, r);
	}
}

/* For every accepted row: cap = result + NUL works, one byte less is
 * ANFU_ELIMIT with out untouched. req: DATA-MASK-01..07 */
static void test_mask_out_buffer_boundary(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mask_case *c = &cases[i];
		size_t need;
		char out[ANFU_MASK_MAX];

		if (!c->want)
			continue;
		need = strlen(c->want) + 1;
		memset(out, SENTINEL, sizeof(out));
		assert_int_equal(c->fn(c->in, strlen(c->in), out, need - 1), ANFU_ELIMIT);
		assert_true(untouched(out, sizeof(out)));
		assert_int_equal(c->fn(c->in, strlen(c->in), out, need), 0);
		assert_string_equal(out, c->want);
		assert_int_equal(c->fn(c->in, strlen(c->in), NULL, 0), ANFU_ELIMIT);
	}
}

/* The length given is what is read: no NUL is needed or looked for. */
static void test_mask_reads_only_len_bytes(void **state)
{
	char out[ANFU_MASK_MAX];

	(void)state;
	assert_int_equal(anfu_mask_mobile("13800001050XYZ", 11, out, sizeof(out)), 0);
	assert_string_equal(out, "****1050");
	assert_int_equal(anfu_mask_email("tt@163.comXYZ", 10, out, sizeof(out)), 0);
	assert_string_equal(out, "tt**@1**.com");
}

/* NULL input is malformed input. */
static void test_mask_null_input_is_einval(void **state)
{
	static const mask_fn fns[] = {
		anfu_mask_mobile,  anfu_mask_landline,	anfu_mask_email,     anfu_mask_nickname,
		anfu_mask_address, anfu_mask_id_number, anfu_mask_bank_card, anfu_mask_name,
	};
	char out[ANFU_MASK_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		memset(out, SENTINEL, sizeof(out));
		assert_int_equal(fns[i](NULL, 0, out, sizeof(out)), ANFU_EINVAL);
		assert_true(untouched(out, sizeof(out)));
	}
}

/* A result longer than ANFU_MASK_MAX - 1 is ANFU_ELIMIT, never cut. */
static void test_mask_oversized_result_is_elimit(void **state)
{
	char in[3 * ANFU_MASK_MAX];
	char out[4 * ANFU_MASK_MAX];

	(void)state;
	memset(in, 'A', sizeof(in));
	memset(out, SENTINEL, sizeof(out));
	assert_int_equal(anfu_mask_id_number(in, sizeof(in), out, sizeof(out)), ANFU_ELIMIT);
	assert_true(untouched(out, sizeof(out)));
	assert_int_equal(anfu_mask_name(in, sizeof(in), out, sizeof(out)), ANFU_ELIMIT);
	assert_true(untouched(out, sizeof(out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_table),
		cmocka_unit_test(test_mask_out_buffer_boundary),
		cmocka_unit_test(test_mask_reads_only_len_bytes),
		cmocka_unit_test(test_mask_null_input_is_einval),
		cmocka_unit_test(test_mask_oversized_result_is_elimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
