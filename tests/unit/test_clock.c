/*
 * Unit tests for base/clock: formatting of instants, the wall clock, the
 * monotonic clock and (in test-hooks builds) shifting and freezing time.
 *
 * Trusts only base/clock.h and the system's CLOCK_REALTIME as the reference
 * for "real time". Every test that touches the hooks resets the clock in
 * its teardown so tests stay independent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"

/* Slack for comparisons against the real clock (a loaded shared machine
 * can deschedule the test for a while). */
#define SLACK_MS 2000

static int64_t sys_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void assert_near(int64_t got, int64_t want, int64_t slack)
{
	int64_t d = got - want;

	if (d < -slack || d > slack)
		fail_msg("%lld differs from %lld by %lld ms (slack %lld)", (long long)got,
			 (long long)want, (long long)d, (long long)slack);
}

/* Timestamps carry their timezone (Z = UTC) and milliseconds.
 * req: AUD-CNT-01 */
static void test_clock_format_known_instants(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ 1, "1970-01-01T00:00:00.001Z" },
		{ 999, "1970-01-01T00:00:00.999Z" },
		{ 1000, "1970-01-01T00:00:01.000Z" },
		{ 1795266720123LL, "2026-11-21T13:12:00.123Z" },
		{ 1772323199999LL, "2026-02-28T23:59:59.999Z" },
		{ 1772323200000LL, "2026-03-01T00:00:00.000Z" },
		{ 1709251199999LL, "2024-02-29T23:59:59.999Z" },
		{ 253402300799999LL, "9999-12-31T23:59:59.999Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];

		memset(out, 'Z', sizeof(out));
		anfu_clock_format(cases[i].ms, out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%lld: got \"%s\" want \"%s\"", (long long)cases[i].ms, out,
				 cases[i].want);
		assert_int_equal(strlen(out), 24);
	}
}

/* Instants before the epoch round toward the past, not toward zero. */
static void test_clock_format_negative_instants(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{ -1, "1969-12-31T23:59:59.999Z" },	     { -999, "1969-12-31T23:59:59.001Z" },
		{ -1000, "1969-12-31T23:59:59.000Z" },	     { -1001, "1969-12-31T23:59:58.999Z" },
		{ -86400000LL, "1969-12-31T00:00:00.000Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[32];

		anfu_clock_format(cases[i].ms, out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%lld: got \"%s\" want \"%s\"", (long long)cases[i].ms, out,
				 cases[i].want);
	}
}

/* Years outside 0000..9999 cannot be written in the format; they give a
 * fixed marker instead of a wrong or overlong string. */
static void test_clock_format_marks_unrepresentable_years(void **state)
{
	char out[32];

	(void)state;
	anfu_clock_format(253402300800000LL, out); /* 10000-01-01 */
	assert_string_equal(out, "invalid-time");
	anfu_clock_format(INT64_MAX, out);
	assert_string_equal(out, "invalid-time");
	anfu_clock_format(INT64_MIN, out);
	assert_string_equal(out, "invalid-time");
}

static void test_clock_now_follows_real_time(void **state)
{
	(void)state;
	assert_near(anfu_clock_now_ms(), sys_ms(), SLACK_MS);
}

static void test_clock_mono_never_goes_back(void **state)
{
	int64_t prev = anfu_clock_mono_us();

	(void)state;
	for (int i = 0; i < 1000; i++) {
		int64_t now = anfu_clock_mono_us();

		assert_true(now >= prev);
		prev = now;
	}
	sleep_ms(5);
	assert_true(anfu_clock_mono_us() - prev >= 5000);
}

#ifdef ANFU_TEST_HOOKS
static int reset_clock(void **state)
{
	(void)state;
	anfu_clock_reset();
	return 0;
}

/* Tests cross a 30-minute lockout without sleeping. */
static void test_clock_advance_moves_now_by_delta(void **state)
{
	const int64_t delta = 30 * 60 * 1000;
	int64_t before, after;

	(void)state;
	before = anfu_clock_now_ms();
	anfu_clock_advance_ms(delta);
	after = anfu_clock_now_ms();
	assert_true(after - before >= delta);
	assert_near(after - before, delta, SLACK_MS);
	/* Shifts add up. */
	anfu_clock_advance_ms(delta);
	assert_near(anfu_clock_now_ms() - sys_ms(), 2 * delta, SLACK_MS);
}

static void test_clock_advance_accepts_negative_delta(void **state)
{
	(void)state;
	anfu_clock_advance_ms(-7LL * 24 * 3600 * 1000);
	assert_near(anfu_clock_now_ms(), sys_ms() - 7LL * 24 * 3600 * 1000, SLACK_MS);
}

static void test_clock_freeze_holds_time(void **state)
{
	int64_t t0;

	(void)state;
	anfu_clock_freeze(1);
	t0 = anfu_clock_now_ms();
	sleep_ms(20);
	assert_int_equal(anfu_clock_now_ms(), t0);
	/* Freezing again keeps the first instant. */
	anfu_clock_freeze(1);
	assert_int_equal(anfu_clock_now_ms(), t0);
}

/* While frozen, advance moves the frozen instant by exactly delta. */
static void test_clock_advance_while_frozen_is_exact(void **state)
{
	int64_t t0;

	(void)state;
	anfu_clock_freeze(1);
	t0 = anfu_clock_now_ms();
	anfu_clock_advance_ms(10 * 60 * 1000 + 1);
	assert_int_equal(anfu_clock_now_ms(), t0 + 10 * 60 * 1000 + 1);
	anfu_clock_advance_ms(-1);
	assert_int_equal(anfu_clock_now_ms(), t0 + 10 * 60 * 1000);
}

/* Unfreezing resumes from the frozen instant: time does not jump. The
 * clock may move on by no more than the real time that passed since just
 * before the unfreeze (however long the machine kept the test waiting);
 * a jump would add the 50 ms spent frozen. */
static void test_clock_unfreeze_resumes_from_frozen_instant(void **state)
{
	int64_t t0, t1, real0, real1;

	(void)state;
	anfu_clock_advance_ms(-3600 * 1000);
	anfu_clock_freeze(1);
	t0 = anfu_clock_now_ms();
	sleep_ms(50);
	real0 = sys_ms();
	anfu_clock_freeze(0);
	t1 = anfu_clock_now_ms();
	real1 = sys_ms();
	assert_true(t1 >= t0);
	/* +2: each of the four readings is rounded down to a millisecond. */
	assert_true(t1 - t0 <= real1 - real0 + 2);
	sleep_ms(20);
	assert_true(anfu_clock_now_ms() >= t1 + 20);
}

static void test_clock_reset_returns_to_real_time(void **state)
{
	(void)state;
	anfu_clock_advance_ms(365LL * 24 * 3600 * 1000);
	anfu_clock_freeze(1);
	anfu_clock_reset();
	assert_near(anfu_clock_now_ms(), sys_ms(), SLACK_MS);
	/* And it runs again. */
	{
		int64_t t0 = anfu_clock_now_ms();

		sleep_ms(20);
		assert_true(anfu_clock_now_ms() >= t0 + 20);
	}
}
#endif

/* Shanghai dates and days: UTC+8 all year; 16:00 UTC is the next day's
 * midnight there; times before 1970 there floor to earlier days. */
static void test_clock_shanghai_dates_and_days(void **state)
{
	const int64_t h = 3600LL * 1000;
	char date[16], tod[16];

	(void)state;
	anfu_clock_format_cn(0, date, tod);
	assert_string_equal(date, "1970-01-01");
	assert_string_equal(tod, "08:00:00");
	anfu_clock_format_cn(1796572799999LL, date, tod); /* 2026-12-06T15:59:59.999Z */
	assert_string_equal(date, "2026-12-06");
	assert_string_equal(tod, "23:59:59");
	anfu_clock_format_cn(1796572800000LL, date, tod);
	assert_string_equal(date, "2026-12-07");
	assert_string_equal(tod, "00:00:00");
	anfu_clock_format_cn(-8 * h - 1, date, tod);
	assert_string_equal(date, "1969-12-31");
	assert_string_equal(tod, "23:59:59");
	assert_int_equal(anfu_clock_day_cn(-8 * h - 1), -1);
	assert_int_equal(anfu_clock_day_cn(-8 * h), 0);
	assert_int_equal(anfu_clock_day_cn(1796572800000LL), 20794);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_format_known_instants),
		cmocka_unit_test(test_clock_shanghai_dates_and_days),
		cmocka_unit_test(test_clock_format_negative_instants),
		cmocka_unit_test(test_clock_format_marks_unrepresentable_years),
		cmocka_unit_test(test_clock_now_follows_real_time),
		cmocka_unit_test(test_clock_mono_never_goes_back),
#ifdef ANFU_TEST_HOOKS
#define T(fn) cmocka_unit_test_teardown(fn, reset_clock)
		T(test_clock_advance_moves_now_by_delta),
		T(test_clock_advance_accepts_negative_delta),
		T(test_clock_freeze_holds_time),
		T(test_clock_advance_while_frozen_is_exact),
		T(test_clock_unfreeze_resumes_from_frozen_instant),
		T(test_clock_reset_returns_to_real_time),
#undef T
#endif
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
