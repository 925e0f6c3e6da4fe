/*
 * Unit tests of the points module's pure rules (src/points/rules.c) and
 * its redemption state table (src/points/states.c). The store-backed
 * paths are proved through the API (tests/api/test_points.py), on both
 * backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/limits.h"
#include "points/points.h"

static void test_earned_floors_fractions_of_a_point(void **state)
{
	int64_t v = -1;

	(void)state;
	assert_int_equal(anfu_points_earned(199, 1, NULL, &v), 0);
	assert_int_equal(v, 1); /* 1.99 yuan: 1 point, the fraction dropped */
	assert_int_equal(anfu_points_earned(99, 1, NULL, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(anfu_points_earned(100, 1, NULL, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(anfu_points_earned(12345, 3, NULL, &v), 0);
	assert_int_equal(v, 370); /* 123.45 yuan x 3 = 370.35 */
}

static void test_earned_applies_multiplier_then_bonus(void **state)
{
	const struct anfu_points_boost b = { 150, 7 };
	int64_t v = -1;

	(void)state;
	assert_int_equal(anfu_points_earned(1000, 1, &b, &v), 0);
	assert_int_equal(v, 22); /* floor(10 x 1.5) + 7 */
	assert_int_equal(anfu_points_earned(133, 1, &b, &v), 0);
	assert_int_equal(v, 8); /* floor(1.33 x 1.5 = 1.995) + 7 */
}

static void test_earned_refuses_bad_input_and_leaves_output(void **state)
{
	const struct anfu_points_boost zero = { 0, 0 },
				       big = { ANFU_LIMIT_POINTS_MULTIPLIER_PCT, 0 };
	int64_t v = 42;

	(void)state;
	assert_int_equal(anfu_points_earned(-1, 1, NULL, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_earned(100, 1, &zero, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_earned(INT64_MAX, 1000, &big, &v), ANFU_ERANGE);
	assert_int_equal(v, 42);
}

static void test_value_is_whole_units_only(void **state)
{
	int64_t v = 42;

	(void)state;
	assert_int_equal(anfu_points_value_fen(100, 100, 100, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(anfu_points_value_fen(300, 100, 50, &v), 0);
	assert_int_equal(v, 150);
	v = 42;
	assert_int_equal(anfu_points_value_fen(150, 100, 100, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_value_fen(99, 100, 100, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_value_fen(0, 100, 100, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_value_fen(-100, 100, 100, &v), ANFU_EINVAL);
	assert_int_equal(anfu_points_value_fen(ANFU_LIMIT_POINTS_AMOUNT + 100, 100, 100, &v),
			 ANFU_EINVAL);
	assert_int_equal(v, 42);
}

static void test_state_table_cancels_once(void **state)
{
	(void)state;
	assert_string_equal(anfu_points_redemption_next("completed", ANFU_POINTS_EV_CANCEL),
			    "cancelled");
	assert_null(anfu_points_redemption_next("cancelled", ANFU_POINTS_EV_CANCEL));
	assert_null(anfu_points_redemption_next("pending", ANFU_POINTS_EV_CANCEL));
	assert_null(anfu_points_redemption_next(NULL, ANFU_POINTS_EV_CANCEL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_earned_floors_fractions_of_a_point),
		cmocka_unit_test(test_earned_applies_multiplier_then_bonus),
		cmocka_unit_test(test_earned_refuses_bad_input_and_leaves_output),
		cmocka_unit_test(test_value_is_whole_units_only),
		cmocka_unit_test(test_state_table_cancels_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
