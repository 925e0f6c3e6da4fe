/*
 * tests/unit/test_totp: TOTP codes, enrolment URIs and QR images
 * (src/iam/totp.c).
 *
 * Codes are checked against the RFC 6238 appendix B vectors (SHA-1,
 * secret "12345678901234567890", truncated to 6 digits); window and replay
 * rules at their millisecond boundaries; the QR PNG by decoding it with
 * libgd and comparing every module with libqrencode's own symbol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <gd.h>
#include <qrencode.h>

#include "base/err.h"
#include "iam/factors.h"

/* base32 of the ASCII secret "12345678901234567890" (RFC 6238). */
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define STEP_MS 30000

/* req: IAM-MFA-01 */
static void test_code_matches_rfc6238_vectors(void **state)
{
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
		{ 59, "287082" },	  { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	char out[8];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(anfu_totp_code(RFC_SECRET, v[i].t * 1000, out), 0);
		assert_string_equal(out, v[i].code);
	}
}

/* req: IAM-MFA-01 */
static void test_verify_accepts_current_code_and_reports_step(void **state)
{
	int64_t step = -1;

	(void)state;
	assert_int_equal(anfu_totp_verify(RFC_SECRET, "081804", 1111111109000LL, 0, &step), 0);
	assert_int_equal(step, 1111111109LL / 30);
}

/* One step of drift either side is accepted, two are not. */
static void test_verify_window_is_one_step_either_side(void **state)
{
	const int64_t s = 1111111109LL / 30;
	char code[8];
	int64_t step;

	(void)state;
	assert_int_equal(anfu_totp_code(RFC_SECRET, s * STEP_MS, code), 0);
	step = -1;
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s - 1) * STEP_MS, 0, &step), 0);
	assert_int_equal(step, s);
	step = -1;
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s + 1) * STEP_MS, 0, &step), 0);
	assert_int_equal(step, s);
	step = -1;
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s - 2) * STEP_MS, 0, &step),
			 ANFU_EAUTH);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s + 2) * STEP_MS, 0, &step),
			 ANFU_EAUTH);
	assert_int_equal(step, -1);
}

/* The edges in milliseconds: the code of step s is accepted until the last
 * millisecond of step s+1 and refused from the first of step s+2; and from
 * the first millisecond of step s-1 but not the last of step s-2. */
static void test_verify_window_edges_to_the_millisecond(void **state)
{
	const int64_t s = 2000000000LL / 30;
	char code[8];
	int64_t step = 0;

	(void)state;
	assert_int_equal(anfu_totp_code(RFC_SECRET, s * STEP_MS + 7, code), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s + 2) * STEP_MS - 1, 0, &step), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s + 2) * STEP_MS, 0, &step),
			 ANFU_EAUTH);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s - 1) * STEP_MS, 0, &step), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, (s - 1) * STEP_MS - 1, 0, &step),
			 ANFU_EAUTH);
}

/* req: IAM-MFA-01 */
static void test_verify_refuses_replay_of_accepted_step(void **state)
{
	const int64_t now = 1234567890000LL;
	int64_t step = -1, again = -1;
	char code[8];

	(void)state;
	assert_int_equal(anfu_totp_code(RFC_SECRET, now, code), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, now, 0, &step), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, now, step, &again), ANFU_EAUTH);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, now + 1000, step, &again), ANFU_EAUTH);
	assert_int_equal(again, -1);
	/* A step after the last accepted one still counts. */
	assert_int_equal(anfu_totp_verify(RFC_SECRET, code, now, step - 1, &again), 0);
	assert_int_equal(again, step);
}

/* After the code of step s was accepted, the (still in-window) code of
 * step s-1 is refused: steps only move forward. */
static void test_verify_refuses_older_step_after_newer(void **state)
{
	const int64_t s = 1111111111LL / 30;
	char older[8], newer[8];
	int64_t step = -1;

	(void)state;
	assert_int_equal(anfu_totp_code(RFC_SECRET, (s - 1) * STEP_MS, older), 0);
	assert_int_equal(anfu_totp_code(RFC_SECRET, s * STEP_MS, newer), 0);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, newer, s * STEP_MS, 0, &step), 0);
	assert_int_equal(step, s);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, older, s * STEP_MS, step, &step), ANFU_EAUTH);
}

static void test_verify_refuses_wrong_and_malformed_codes(void **state)
{
	static const char *const bad[] = { "287083",  "28708", "2870820", "28708a",
					   " 287082", "",      "+87082",  "287082\n" };
	int64_t step = -7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(anfu_totp_verify(RFC_SECRET, bad[i], 59000, -1, &step),
				 ANFU_EAUTH);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, NULL, 59000, -1, &step), ANFU_EAUTH);
	assert_int_equal(step, -7);
	assert_int_equal(anfu_totp_verify(RFC_SECRET, "287082", 59000, -1, &step), 0);
	assert_int_equal(step, 1);
}

static void test_bad_secret_is_invalid(void **state)
{
	static const char *const bad[] = { "", "gezdgnbvgy3tqojq", "GEZDGNBVGY3TQOJ1", "GEZD GNBV",
					   "GEZDGNBV=" };
	char out[8] = "keep";
	int64_t step = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(anfu_totp_code(bad[i], 59000, out), ANFU_EINVAL);
		assert_int_equal(anfu_totp_verify(bad[i], "287082", 59000, 0, &step), ANFU_EINVAL);
	}
	assert_int_equal(anfu_totp_code(NULL, 59000, out), ANFU_EINVAL);
	assert_int_equal(anfu_totp_code(RFC_SECRET, -1, out), ANFU_EINVAL);
	assert_string_equal(out, "keep");
}

/* ---- secrets ------------------------------------------------------------ */

static void test_secret_is_32_base32_chars_and_random(void **state)
{
	char a[64], b[64], code[8];
	int64_t step = 0;

	(void)state;
	assert_int_equal(anfu_totp_secret(a), 0);
	assert_int_equal(anfu_totp_secret(b), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
	assert_string_not_equal(a, b);
	assert_int_equal(anfu_totp_code(a, 1700000000000LL, code), 0);
	assert_int_equal(anfu_totp_verify(a, code, 1700000000000LL, 0, &step), 0);
}

/* ---- URIs --------------------------------------------------------------- */

static void test_uri_has_key_uri_format(void **state)
{
	char uri[512];

	(void)state;
	assert_int_equal(anfu_totp_uri("anfu", "alice", RFC_SECRET, uri, sizeof(uri)), 0);
	assert_string_equal(uri, "otpauth://totp/anfu:alice?secret=" RFC_SECRET
				 "&issuer=anfu&algorithm=SHA1&digits=6&period=30");
}

static void test_uri_percent_encodes_issuer_and_account(void **state)
{
	char uri[512];

	(void)state;
	assert_int_equal(
		anfu_totp_uri("An Fu:Pay&Co", "bob+1@example.com", RFC_SECRET, uri, sizeof(uri)),
		0);
	assert_string_equal(
		uri, "otpauth://totp/An%20Fu%3APay%26Co:bob%2B1%40example.com?secret=" RFC_SECRET
		     "&issuer=An%20Fu%3APay%26Co&algorithm=SHA1&digits=6&period=30");
	/* UTF-8 bytes are encoded one by one: "安付" is E5 AE 89 E4 BB 98. */
	assert_int_equal(anfu_totp_uri("\xe5\xae\x89\xe4\xbb\x98", "a.b_c-d~e", RFC_SECRET, uri,
				       sizeof(uri)),
			 0);
	assert_string_equal(uri, "otpauth://totp/%E5%AE%89%E4%BB%98:a.b_c-d~e?secret=" RFC_SECRET
				 "&issuer=%E5%AE%89%E4%BB%98&algorithm=SHA1&digits=6&period=30");
}

static void test_uri_refuses_small_buffer_and_bad_input(void **state)
{
	char uri[512];
	size_t need;

	(void)state;
	assert_int_equal(anfu_totp_uri("anfu", "alice", RFC_SECRET, uri, sizeof(uri)), 0);
	need = strlen(uri) + 1;
	assert_int_equal(anfu_totp_uri("anfu", "alice", RFC_SECRET, uri, need), 0);
	assert_int_equal(anfu_totp_uri("anfu", "alice", RFC_SECRET, uri, need - 1), ANFU_ELIMIT);
	assert_int_equal(anfu_totp_uri("", "alice", RFC_SECRET, uri, sizeof(uri)), ANFU_EINVAL);
	assert_int_equal(anfu_totp_uri("anfu", "", RFC_SECRET, uri, sizeof(uri)), ANFU_EINVAL);
	assert_int_equal(anfu_totp_uri("anfu", "alice", "not base32!", uri, sizeof(uri)),
			 ANFU_EINVAL);
	assert_int_equal(anfu_totp_uri("anfu", "alice", "ABC&x=1", uri, sizeof(uri)), ANFU_EINVAL);
}

/* ---- QR ----------------------------------------------------------------- */

/* The PNG decodes, has a white 4-module quiet zone, 4-pixel modules, and
 * every module matches libqrencode's symbol for the same input. */
static void test_qr_png_decodes_and_matches_symbol(void **state)
{
	const char *uri = "otpauth://totp/anfu:alice?secret=" RFC_SECRET
			  "&issuer=anfu&algorithm=SHA1&digits=6&period=30";
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char *png = NULL;
	size_t len = 0;
	QRcode *q;
	gdImagePtr im;
	int side;

	(void)state;
	assert_int_equal(anfu_totp_qr_png(uri, &png, &len), 0);
	assert_true(len > sizeof(sig));
	assert_memory_equal(png, sig, sizeof(sig));
	im = gdImageCreateFromPngPtr((int)len, png);
	assert_non_null(im);
	q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	assert_non_null(q);
	side = (q->width + 8) * 4;
	assert_int_equal(gdImageSX(im), side);
	assert_int_equal(gdImageSY(im), side);
	for (int y = 0; y < side; y++) {
		for (int x = 0; x < side; x++) {
			int mx = x / 4 - 4, my = y / 4 - 4;
			int c = gdImageGetPixel(im, x, y);
			int dark = gdImageRed(im, c) < 128;
			int want = mx >= 0 && my >= 0 && mx < q->width && my < q->width &&
				   (q->data[my * q->width + mx] & 1);

			assert_int_equal(dark, want);
		}
	}
	QRcode_free(q);
	gdImageDestroy(im);
	free(png);
}

static void test_qr_refuses_empty_and_oversized_input(void **state)
{
	unsigned char *png = (unsigned char *)"keep";
	size_t len = 4;
	char *big = malloc(8000);

	(void)state;
	assert_non_null(big);
	memset(big, 'A', 7999);
	big[7999] = '\0';
	assert_int_equal(anfu_totp_qr_png("", &png, &len), ANFU_EINVAL);
	assert_int_equal(anfu_totp_qr_png(NULL, &png, &len), ANFU_EINVAL);
	assert_int_equal(anfu_totp_qr_png(big, &png, &len), ANFU_EINVAL);
	assert_string_equal((const char *)png, "keep");
	assert_int_equal(len, 4);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_matches_rfc6238_vectors),
		cmocka_unit_test(test_verify_accepts_current_code_and_reports_step),
		cmocka_unit_test(test_verify_window_is_one_step_either_side),
		cmocka_unit_test(test_verify_window_edges_to_the_millisecond),
		cmocka_unit_test(test_verify_refuses_replay_of_accepted_step),
		cmocka_unit_test(test_verify_refuses_older_step_after_newer),
		cmocka_unit_test(test_verify_refuses_wrong_and_malformed_codes),
		cmocka_unit_test(test_bad_secret_is_invalid),
		cmocka_unit_test(test_secret_is_32_base32_chars_and_random),
		cmocka_unit_test(test_uri_has_key_uri_format),
		cmocka_unit_test(test_uri_percent_encodes_issuer_and_account),
		cmocka_unit_test(test_uri_refuses_small_buffer_and_bad_input),
		cmocka_unit_test(test_qr_png_decodes_and_matches_symbol),
		cmocka_unit_test(test_qr_refuses_empty_and_oversized_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
