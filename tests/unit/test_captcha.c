/*
 * tests/unit/test_captcha: image captchas (src/iam/captcha.c).
 *
 * Each test gets a fresh data directory with real keys, a migrated SQLite
 * database and a vault, and a frozen injectable clock; time rules are
 * crossed with anfu_clock_advance_ms, never by sleeping. Images are
 * checked by decoding them back with libgd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gd.h>

#include "base/clock.h"
#include "base/err.h"
#include "iam/factors.h"
#include "store/store.h"

#include "fixture.h"

#define TTL_MS 120000

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "captcha", .frozen_clock = true };

	return fixture_setup(state, FIXTURE_VAULT, &opts);
}

/* ---- helpers ------------------------------------------------------------ */

struct made {
	char id[ANFU_ID_MAX];
	char answer[16];
};

/* What the captchas of these tests are made and checked for unless a test
 * says otherwise. */
static const struct anfu_captcha_use LOGIN_MAIN = { ANFU_CAPTCHA_LOGIN, false };

static void make_captcha_for(struct anfu_fixture *f, const struct anfu_captcha_use *use,
			     struct made *m)
{
	unsigned char *png = NULL;
	size_t len = 0;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, use, 5, TTL_MS, m->id, &png, &len, m->answer),
		0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	free(png);
}

static int check_for(struct anfu_fixture *f, const char *id, const char *answer,
		     const struct anfu_captcha_use *use)
{
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	r = anfu_captcha_check(f->db, f->vault, id, answer, use);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return r;
}

static void make_captcha(struct anfu_fixture *f, int length, int64_t ttl_ms, struct made *m)
{
	unsigned char *png = NULL;
	size_t len = 0;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_create(f->db, f->vault, &LOGIN_MAIN, length, ttl_ms, m->id,
					     &png, &len, m->answer),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_non_null(png);
	assert_true(len > 8);
	free(png);
}

/* One check in its own transaction, committed whatever the result (the
 * attempt must use the captcha up). */
static int check(struct anfu_fixture *f, const char *id, const char *answer)
{
	int r;

	assert_int_equal(anfu_db_begin(f->db), 0);
	r = anfu_captcha_check(f->db, f->vault, id, answer, &LOGIN_MAIN);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return r;
}

static bool is_png(const unsigned char *p, size_t len)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	return len > sizeof(sig) && memcmp(p, sig, sizeof(sig)) == 0;
}

/* ---- rendering ---------------------------------------------------------- */

/* req: IAM-CAP-02 */
static void test_render_gives_png_of_160x60(void **state)
{
	unsigned char *png = NULL;
	size_t len = 0;
	gdImagePtr im;

	(void)state;
	assert_int_equal(anfu_captcha_render("A7K9P", &png, &len), 0);
	assert_true(is_png(png, len));
	im = gdImageCreateFromPngPtr((int)len, png);
	assert_non_null(im);
	assert_int_equal(gdImageSX(im), 160);
	assert_int_equal(gdImageSY(im), 60);
	gdImageDestroy(im);
	free(png);
}

/* req: IAM-CAP-02 */
static void test_render_is_noisy_and_random(void **state)
{
	unsigned char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	gdImagePtr im;
	int colours = 0;
	int seen[64] = { 0 };

	(void)state;
	assert_int_equal(anfu_captcha_render("XY23Z", &a, &alen), 0);
	assert_int_equal(anfu_captcha_render("XY23Z", &b, &blen), 0);
	assert_false(alen == blen && memcmp(a, b, alen) == 0);
	/* Many distinct colours: noise and glyphs, not flat text on a flat
	 * background (counted on a coarse 4x4x4 colour grid). */
	im = gdImageCreateFromPngPtr((int)alen, a);
	assert_non_null(im);
	for (int y = 0; y < gdImageSY(im); y++) {
		for (int x = 0; x < gdImageSX(im); x++) {
			int c = gdImageGetTrueColorPixel(im, x, y);
			int k = (gdTrueColorGetRed(c) >> 6) * 16 +
				(gdTrueColorGetGreen(c) >> 6) * 4 + (gdTrueColorGetBlue(c) >> 6);

			seen[k] = 1;
		}
	}
	for (int i = 0; i < 64; i++)
		colours += seen[i];
	assert_true(colours >= 8);
	gdImageDestroy(im);
	free(a);
	free(b);
}

static void test_render_rejects_bad_text(void **state)
{
	static const char *const bad[] = { "", "ABCDEFGHJKLMNPQR" /* 16 */, "AB CD", "AB\tC",
					   "\xe4\xb8\xad" };
	unsigned char *png = (unsigned char *)"untouched";
	size_t len = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(anfu_captcha_render(bad[i], &png, &len), ANFU_EINVAL);
		assert_string_equal((const char *)png, "untouched");
		assert_int_equal(len, 7);
	}
	assert_int_equal(anfu_captcha_render(NULL, &png, &len), ANFU_EINVAL);
}

static void test_render_accepts_every_length_up_to_15(void **state)
{
	char text[16];

	(void)state;
	for (int n = 1; n <= 15; n++) {
		unsigned char *png = NULL;
		size_t len = 0;

		memset(text, 'W', (size_t)n);
		text[n] = '\0';
		assert_int_equal(anfu_captcha_render(text, &png, &len), 0);
		assert_true(is_png(png, len));
		free(png);
	}
}

/* ---- create ------------------------------------------------------------- */

/* req: IAM-CAP-02 */
static void test_create_answer_uses_alphabet_and_length(void **state)
{
	struct anfu_fixture *f = *state;

	for (int len = 4; len <= 8; len++) {
		struct made m;

		make_captcha(f, len, TTL_MS, &m);
		assert_int_equal(strlen(m.answer), (size_t)len);
		for (int i = 0; i < len; i++)
			assert_non_null(strchr(ANFU_CAPTCHA_ALPHABET, m.answer[i]));
		assert_memory_equal(m.id, "cap_", 4);
	}
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_captcha", NULL), 5);
}

/* req: IAM-CAP-02 */
static void test_create_stores_only_a_hash(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;
	int64_t n = -1;

	make_captcha(f, 5, TTL_MS, &m);
	const struct anfu_param p[] = { ANFU_PSN(m.answer, strlen(m.answer)) };

	assert_int_equal(anfu_db_query_int(f->db,
					   "SELECT COUNT(*) FROM iam_captcha WHERE "
					   "answer_hash LIKE '%' || $1 || '%'",
					   p, 1, &n),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE "
				       "length(answer_hash) = 64 AND used_ms IS NULL",
				       NULL),
			 1);
}

static void test_create_rejects_bad_arguments(void **state)
{
	struct anfu_fixture *f = *state;
	char id[ANFU_ID_MAX] = "unchanged", answer[16] = "unchanged";
	unsigned char *png = NULL;
	size_t len = 0;
	const struct anfu_captcha_use bogus = { "payment", false }, none = { NULL, false };

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_create(f->db, f->vault, &LOGIN_MAIN, 0, TTL_MS, id, &png,
					     &len, answer),
			 ANFU_EINVAL);
	assert_int_equal(anfu_captcha_create(f->db, f->vault, &LOGIN_MAIN, 16, TTL_MS, id, &png,
					     &len, answer),
			 ANFU_EINVAL);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, &LOGIN_MAIN, 5, 0, id, &png, &len, answer),
		ANFU_EINVAL);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, &bogus, 5, TTL_MS, id, &png, &len, answer),
		ANFU_EINVAL);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, &none, 5, TTL_MS, id, &png, &len, answer),
		ANFU_EINVAL);
	assert_int_equal(
		anfu_captcha_create(f->db, f->vault, NULL, 5, TTL_MS, id, &png, &len, answer),
		ANFU_EINVAL);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_string_equal(id, "unchanged");
	assert_string_equal(answer, "unchanged");
	assert_null(png);
	assert_int_equal(fixture_count(f->db, "SELECT COUNT(*) FROM iam_captcha", NULL), 0);
}

/* ---- check -------------------------------------------------------------- */

/* req: IAM-CAP-01 */
static void test_check_accepts_right_answer(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	assert_int_equal(check(f, m.id, m.answer), 0);
}

static void test_check_is_case_insensitive(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;
	char lower[16];

	make_captcha(f, 8, TTL_MS, &m);
	for (size_t i = 0; i <= strlen(m.answer); i++)
		lower[i] = (char)tolower((unsigned char)m.answer[i]);
	assert_int_equal(check(f, m.id, lower), 0);
}

/* req: IAM-CAP-02 */
static void test_check_right_answer_only_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	assert_int_equal(check(f, m.id, m.answer), 0);
	assert_int_equal(check(f, m.id, m.answer), ANFU_EAUTH);
}

/* req: IAM-CAP-02 */
static void test_check_wrong_answer_uses_it_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;
	char wrong[16];

	make_captcha(f, 5, TTL_MS, &m);
	memcpy(wrong, m.answer, sizeof(wrong));
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	assert_int_equal(check(f, m.id, wrong), ANFU_EAUTH);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE used_ms IS NOT NULL",
				       NULL),
			 1);
	assert_int_equal(check(f, m.id, m.answer), ANFU_EAUTH);
}

/* req: IAM-CAP-02 */
static void test_check_empty_or_missing_answer_uses_it_up(void **state)
{
	struct anfu_fixture *f = *state;
	struct made a, b;

	make_captcha(f, 5, TTL_MS, &a);
	make_captcha(f, 5, TTL_MS, &b);
	assert_int_equal(check(f, a.id, NULL), ANFU_EAUTH);
	assert_int_equal(check(f, b.id, ""), ANFU_EAUTH);
	assert_int_equal(check(f, a.id, a.answer), ANFU_EAUTH);
	assert_int_equal(check(f, b.id, b.answer), ANFU_EAUTH);
}

#ifdef ANFU_TEST_HOOKS
/* req: IAM-CAP-02 */
static void test_check_valid_one_ms_before_expiry(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	anfu_clock_advance_ms(TTL_MS - 1);
	assert_int_equal(check(f, m.id, m.answer), 0);
}

/* req: IAM-CAP-02 */
static void test_check_refused_at_expiry(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	anfu_clock_advance_ms(TTL_MS);
	assert_int_equal(check(f, m.id, m.answer), ANFU_EAUTH);
}
#endif

static void test_check_refuses_unknown_and_malformed_ids(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	assert_int_equal(check(f, "cap_0000000000000000000000", m.answer), ANFU_EAUTH);
	assert_int_equal(check(f, "usr_0000000000000000000000", m.answer), ANFU_EAUTH);
	assert_int_equal(check(f, "", m.answer), ANFU_EAUTH);
	assert_int_equal(check(f, NULL, m.answer), ANFU_EAUTH);
	assert_int_equal(check(f, "cap_' OR 1=1 --", m.answer), ANFU_EAUTH);
	/* None of that touched the real captcha. */
	assert_int_equal(check(f, m.id, m.answer), 0);
}

static void test_check_refuses_overlong_answer(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;
	char longer[64];

	make_captcha(f, 5, TTL_MS, &m);
	(void)snprintf(longer, sizeof(longer), "%s%s%s%s", m.answer, m.answer, m.answer, m.answer);
	assert_int_equal(check(f, m.id, longer), ANFU_EAUTH);
}

/* A hash copied from one row to another does not match there: the hash
 * is bound to its captcha id. */
static void test_check_hash_is_bound_to_its_row(void **state)
{
	struct anfu_fixture *f = *state;
	struct made a, b;

	make_captcha(f, 5, TTL_MS, &a);
	make_captcha(f, 5, TTL_MS, &b);
	const struct anfu_param p[] = { ANFU_PSN(a.id, strlen(a.id)),
					ANFU_PSN(b.id, strlen(b.id)) };

	assert_int_equal(anfu_db_exec(f->db,
				      "UPDATE iam_captcha SET answer_hash = (SELECT answer_hash "
				      "FROM iam_captcha WHERE id = $1) WHERE id = $2",
				      p, 2, NULL, NULL, NULL),
			 0);
	assert_int_equal(check(f, b.id, a.answer), ANFU_EAUTH);
}

/* A failed check whose transaction is rolled back leaves the captcha
 * unused: consumption happens in the caller's transaction. */
static void test_check_runs_in_callers_transaction(void **state)
{
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha(f, 5, TTL_MS, &m);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_check(f->db, f->vault, m.id, "WRONG", &LOGIN_MAIN),
			 ANFU_EAUTH);
	assert_int_equal(anfu_db_rollback(f->db), 0);
	assert_int_equal(check(f, m.id, m.answer), 0);
}

/* ---- binding to a purpose and a listener (IAM-CAP-01) -------------------- */

/* The purposes a client may ask for: login on both listeners, register
 * and reset on the main one only. */
static void test_purposes_per_listener(void **state)
{
	(void)state;
	assert_true(anfu_captcha_purpose_ok("login", false));
	assert_true(anfu_captcha_purpose_ok("register", false));
	assert_true(anfu_captcha_purpose_ok("reset", false));
	assert_true(anfu_captcha_purpose_ok("login", true));
	assert_false(anfu_captcha_purpose_ok("register", true));
	assert_false(anfu_captcha_purpose_ok("reset", true));
	assert_false(anfu_captcha_purpose_ok("Login", false));
	assert_false(anfu_captcha_purpose_ok("", false));
	assert_false(anfu_captcha_purpose_ok(NULL, false));
	assert_false(anfu_captcha_purpose_ok("step_up", false));
}

/* Made for login, the right answer is refused for register and reset, and
 * the attempt uses it up. req: IAM-CAP-01, IAM-CAP-02 */
static void test_check_refuses_another_purpose_and_uses_it_up(void **state)
{
	static const struct anfu_captcha_use other[] = { { ANFU_CAPTCHA_REGISTER, false },
							 { ANFU_CAPTCHA_RESET, false } };
	struct anfu_fixture *f = *state;

	for (size_t i = 0; i < 2; i++) {
		struct made m;

		make_captcha_for(f, &LOGIN_MAIN, &m);
		assert_int_equal(check_for(f, m.id, m.answer, &other[i]), ANFU_EAUTH);
		assert_int_equal(check_for(f, m.id, m.answer, &LOGIN_MAIN), ANFU_EAUTH);
	}
	/* and the other way round */
	{
		struct made m;

		make_captcha_for(f, &other[1], &m);
		assert_int_equal(check_for(f, m.id, m.answer, &LOGIN_MAIN), ANFU_EAUTH);
		make_captcha_for(f, &other[1], &m);
		assert_int_equal(check_for(f, m.id, m.answer, &other[1]), 0);
	}
}

/* Made on one listener, refused on the other (same purpose), used up. */
static void test_check_refuses_the_other_listener_and_uses_it_up(void **state)
{
	static const struct anfu_captcha_use admin_login = { ANFU_CAPTCHA_LOGIN, true };
	struct anfu_fixture *f = *state;
	struct made m;

	make_captcha_for(f, &LOGIN_MAIN, &m);
	assert_int_equal(check_for(f, m.id, m.answer, &admin_login), ANFU_EAUTH);
	assert_int_equal(check_for(f, m.id, m.answer, &LOGIN_MAIN), ANFU_EAUTH);
	make_captcha_for(f, &admin_login, &m);
	assert_int_equal(check_for(f, m.id, m.answer, &LOGIN_MAIN), ANFU_EAUTH);
	make_captcha_for(f, &admin_login, &m);
	assert_int_equal(check_for(f, m.id, m.answer, &admin_login), 0);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE used_ms IS NULL",
				       NULL),
			 0);
}

/* ---- the image kept for GET /api/v1/captcha/{id}/image ------------------- */

/* The image made with the captcha, as often as asked while it is live;
 * looking does not use it up. req: IAM-CAP-02 */
static void test_image_is_the_png_made_while_live(void **state)
{
	struct anfu_fixture *f = *state;
	unsigned char *made = NULL, *png = NULL;
	size_t made_len = 0, len = 0;
	char id[ANFU_ID_MAX], answer[16];

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_captcha_create(f->db, f->vault, &LOGIN_MAIN, 5, TTL_MS, id, &made,
					     &made_len, answer),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
			anfu_captcha_image(f->db, id, false, anfu_clock_now_ms(), &png, &len), 0);
		assert_true(is_png(png, len));
		assert_int_equal(len, made_len);
		assert_memory_equal(png, made, len);
		free(png);
		png = NULL;
	}
	assert_int_equal(check(f, id, answer), 0);
	free(made);
}

/* Used (by a wrong answer too), expired, the other listener's, unknown or
 * malformed: all ANFU_ENOTFOUND, outputs untouched; the image is no longer
 * kept once used. req: IAM-CAP-01, IAM-CAP-02 */
static void test_image_not_found_unless_live_and_of_this_listener(void **state)
{
	struct anfu_fixture *f = *state;
	unsigned char *png = (unsigned char *)"untouched";
	size_t len = 7;
	int64_t now = anfu_clock_now_ms();
	struct made m, used;

	make_captcha(f, 5, TTL_MS, &m);
	make_captcha(f, 5, TTL_MS, &used);
	assert_int_equal(check(f, used.id, "00000"), ANFU_EAUTH);
	assert_int_equal(anfu_captcha_image(f->db, used.id, false, now, &png, &len),
			 ANFU_ENOTFOUND);
	assert_int_equal(fixture_count(f->db,
				       "SELECT COUNT(*) FROM iam_captcha WHERE image IS NOT NULL",
				       NULL),
			 1);
	assert_int_equal(anfu_captcha_image(f->db, m.id, true, now, &png, &len), ANFU_ENOTFOUND);
	assert_int_equal(anfu_captcha_image(f->db, m.id, false, now + TTL_MS, &png, &len),
			 ANFU_ENOTFOUND);
	assert_int_equal(
		anfu_captcha_image(f->db, "cap_0000000000000000000000", false, now, &png, &len),
		ANFU_ENOTFOUND);
	assert_int_equal(anfu_captcha_image(f->db, "cap_' OR 1=1 --", false, now, &png, &len),
			 ANFU_ENOTFOUND);
	assert_int_equal(anfu_captcha_image(f->db, NULL, false, now, &png, &len), ANFU_ENOTFOUND);
	assert_string_equal((const char *)png, "untouched");
	assert_int_equal(len, 7);
	/* One millisecond before expiry it is still there. */
	assert_int_equal(anfu_captcha_image(f->db, m.id, false, now + TTL_MS - 1, &png, &len), 0);
	free(png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_gives_png_of_160x60),
		cmocka_unit_test(test_render_is_noisy_and_random),
		cmocka_unit_test(test_render_rejects_bad_text),
		cmocka_unit_test(test_render_accepts_every_length_up_to_15),
		cmocka_unit_test_setup_teardown(test_create_answer_uses_alphabet_and_length, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_create_stores_only_a_hash, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_create_rejects_bad_arguments, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_accepts_right_answer, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_is_case_insensitive, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_right_answer_only_once, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_wrong_answer_uses_it_up, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_empty_or_missing_answer_uses_it_up,
						setup, fixture_teardown),
#ifdef ANFU_TEST_HOOKS
		cmocka_unit_test_setup_teardown(test_check_valid_one_ms_before_expiry, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_refused_at_expiry, setup,
						fixture_teardown),
#endif
		cmocka_unit_test_setup_teardown(test_check_refuses_unknown_and_malformed_ids, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_overlong_answer, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_hash_is_bound_to_its_row, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_runs_in_callers_transaction, setup,
						fixture_teardown),
		cmocka_unit_test(test_purposes_per_listener),
		cmocka_unit_test_setup_teardown(test_check_refuses_another_purpose_and_uses_it_up,
						setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_check_refuses_the_other_listener_and_uses_it_up, setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(test_image_is_the_png_made_while_live, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_image_not_found_unless_live_and_of_this_listener, setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
