/*
 * Unit tests of http/ratelimit: the per-client token bucket, driven by an
 * explicit clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "base/err.h"
#include "http/internal.h"

#define SEC 1000000LL

static const uint8_t ip_a[16] = { 192, 0, 2, 1 };
static const uint8_t ip_b[16] = { 192, 0, 2, 2 };
static const uint8_t ip_c[16] = { 192, 0, 2, 3 };

static int take(struct anfu_ratelimit *rl, const uint8_t *ip, int64_t now)
{
	int retry = -1;

	return anfu_ratelimit_take(rl, AF_INET, ip, now, &retry);
}

/* req: WEB-DOS-01, WEB-CONC-03 */
static void test_burst_allowed_then_refused(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 5, 1024);

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(take(rl, ip_a, 10 * SEC), 0);
	assert_int_equal(take(rl, ip_a, 10 * SEC), ANFU_ERATE);
	anfu_ratelimit_free(rl);
}

/* req: WEB-CONC-03 */
static void test_clients_have_separate_buckets(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 2, 1024);

	(void)state;
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(take(rl, ip_a, 0), ANFU_ERATE);
	assert_int_equal(take(rl, ip_b, 0), 0);
	anfu_ratelimit_free(rl);
}

static void test_refill_after_time(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(2, 2, 1024);

	(void)state;
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(take(rl, ip_a, 0), ANFU_ERATE);
	/* 2 tokens a second: one is back after 0.5 s, not before. */
	assert_int_equal(take(rl, ip_a, SEC / 2 - 1), ANFU_ERATE);
	assert_int_equal(take(rl, ip_a, SEC / 2), 0);
	assert_int_equal(take(rl, ip_a, SEC / 2), ANFU_ERATE);
	anfu_ratelimit_free(rl);
}

static void test_refill_is_capped_at_burst(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(100, 3, 1024);

	(void)state;
	assert_int_equal(take(rl, ip_a, 0), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(rl, ip_a, 3600 * SEC), 0);
	assert_int_equal(take(rl, ip_a, 3600 * SEC), ANFU_ERATE);
	anfu_ratelimit_free(rl);
}

/* req: WEB-DOS-01 (Retry-After tells the client how long to wait) */
static void test_retry_after_is_seconds_until_next_token(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 1024);
	int retry = -1;

	(void)state;
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET, ip_a, 0, &retry), 0);
	assert_int_equal(retry, -1); /* untouched on success */
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET, ip_a, SEC / 4, &retry), ANFU_ERATE);
	assert_int_equal(retry, 1); /* 0.75 s rounds up */
	/* Even one microsecond away is a whole second: never 0. */
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET, ip_a, SEC - 1, &retry), ANFU_ERATE);
	assert_int_equal(retry, 1);
	anfu_ratelimit_free(rl);
}

static void test_table_is_bounded_and_evicts_least_recent(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 2);

	(void)state;
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(take(rl, ip_a, 0), ANFU_ERATE);
	assert_int_equal(take(rl, ip_b, 1), 0);
	assert_int_equal(anfu_ratelimit_count(rl), 2);
	/* C pushes out A, the least recently seen. */
	assert_int_equal(take(rl, ip_c, 2), 0);
	assert_int_equal(anfu_ratelimit_count(rl), 2);
	/* B is still tracked (and empty); A starts over with a full bucket. */
	assert_int_equal(take(rl, ip_b, 3), ANFU_ERATE);
	assert_int_equal(take(rl, ip_a, 4), 0);
	assert_int_equal(anfu_ratelimit_count(rl), 2);
	anfu_ratelimit_free(rl);
}

static void test_table_never_exceeds_its_size_under_a_flood(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 4096);
	uint8_t ip[16] = { 0 };

	(void)state;
	for (uint32_t i = 0; i < 20000; i++) {
		ip[0] = 10;
		ip[1] = (uint8_t)(i >> 16);
		ip[2] = (uint8_t)(i >> 8);
		ip[3] = (uint8_t)i;
		assert_int_equal(anfu_ratelimit_take(rl, AF_INET, ip, i, NULL), 0);
	}
	assert_true(anfu_ratelimit_count(rl) <= 4096);
	anfu_ratelimit_free(rl);
}

static void test_ipv6_clients_share_their_64(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 1024);
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };
	uint8_t c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET6, a, 0, NULL), 0);
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET6, b, 0, NULL), ANFU_ERATE);
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET6, c, 0, NULL), 0);
	anfu_ratelimit_free(rl);
}

static void test_ipv4_mapped_counts_as_ipv4(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 1024);
	uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };

	(void)state;
	assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(anfu_ratelimit_take(rl, AF_INET6, mapped, 0, NULL), ANFU_ERATE);
	anfu_ratelimit_free(rl);
}

static void test_zero_rate_disables_limiting(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(0, 0, 16);

	(void)state;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(take(rl, ip_a, 0), 0);
	assert_int_equal(anfu_ratelimit_count(rl), 0);
	anfu_ratelimit_free(rl);
}

static void test_clock_going_backwards_adds_nothing(void **state)
{
	struct anfu_ratelimit *rl = anfu_ratelimit_new(1, 1, 16);

	(void)state;
	assert_int_equal(take(rl, ip_a, 100 * SEC), 0);
	assert_int_equal(take(rl, ip_a, 50 * SEC), ANFU_ERATE);
	anfu_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_allowed_then_refused),
		cmocka_unit_test(test_clients_have_separate_buckets),
		cmocka_unit_test(test_refill_after_time),
		cmocka_unit_test(test_refill_is_capped_at_burst),
		cmocka_unit_test(test_retry_after_is_seconds_until_next_token),
		cmocka_unit_test(test_table_is_bounded_and_evicts_least_recent),
		cmocka_unit_test(test_table_never_exceeds_its_size_under_a_flood),
		cmocka_unit_test(test_ipv6_clients_share_their_64),
		cmocka_unit_test(test_ipv4_mapped_counts_as_ipv4),
		cmocka_unit_test(test_zero_rate_disables_limiting),
		cmocka_unit_test(test_clock_going_backwards_adds_nothing),
	};

	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
