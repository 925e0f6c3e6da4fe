/*
 * Unit tests for base/pausepoint: the named pause points race tests use
 * (test-hooks builds; docs/testing.md, "Pause points").
 *
 * A point not armed lets callers pass at once; an armed point stops its
 * first caller only, until released; every wait ends at its bound; bad
 * names and bounds are refused, and the table has a fixed size.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/pausepoint.h"

#ifdef ANFU_TEST_HOOKS

struct caller {
	const char *name;
	int r;
	bool done;
	pthread_mutex_t mu;
};

static void *call_at(void *ud)
{
	struct caller *c = ud;
	int r = anfu_pause_at(c->name);

	(void)pthread_mutex_lock(&c->mu);
	c->r = r;
	c->done = true;
	(void)pthread_mutex_unlock(&c->mu);
	return NULL;
}

static bool is_done(struct caller *c)
{
	bool d;

	(void)pthread_mutex_lock(&c->mu);
	d = c->done;
	(void)pthread_mutex_unlock(&c->mu);
	return d;
}

static void test_a_point_not_armed_does_not_pause(void **state)
{
	(void)state;
	assert_int_equal(anfu_pause_at("t.idle"), 0);
	assert_int_equal(anfu_pause_wait("t.idle", 1000), ANFU_ENOTFOUND);
	assert_int_equal(anfu_pause_release("t.idle"), ANFU_ENOTFOUND);
	/* Another point armed does not stop this one. */
	assert_int_equal(anfu_pause_arm("t.other", 1000, NULL), 0);
	assert_int_equal(anfu_pause_at("t.idle"), 0);
	assert_int_equal(anfu_pause_release("t.other"), 0);
	assert_int_equal(anfu_pause_at("t.other"), 0);
}

static void test_an_armed_point_stops_its_first_caller_until_released(void **state)
{
	struct caller c = { "t.stop", -1, false, PTHREAD_MUTEX_INITIALIZER };
	pthread_t th;

	(void)state;
	assert_int_equal(anfu_pause_arm("t.stop", ANFU_LIMIT_PAUSE_MS, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, call_at, &c), 0);
	assert_int_equal(anfu_pause_wait("t.stop", ANFU_LIMIT_PAUSE_MS), 0);
	/* Stopped: it cannot have returned, and the point is taken. */
	assert_false(is_done(&c));
	assert_int_equal(anfu_pause_arm("t.stop", 1000, NULL), ANFU_EEXIST);
	/* One-shot: a second caller passes while the first is stopped. */
	assert_int_equal(anfu_pause_at("t.stop"), 0);
	assert_false(is_done(&c));
	assert_int_equal(anfu_pause_release("t.stop"), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(c.done);
	assert_int_equal(c.r, 0);
	/* Released and gone: the next caller passes, the point can be armed. */
	assert_int_equal(anfu_pause_at("t.stop"), 0);
	assert_int_equal(anfu_pause_release("t.stop"), ANFU_ENOTFOUND);
	assert_int_equal(anfu_pause_arm("t.stop", 1000, NULL), 0);
	assert_int_equal(anfu_pause_release("t.stop"), 0);
}

static void test_a_stop_not_released_ends_at_its_bound(void **state)
{
	(void)state;
	assert_int_equal(anfu_pause_arm("t.bound", 30, NULL), 0);
	assert_int_equal(anfu_pause_at("t.bound"), ANFU_ETIMEDOUT);
	/* The point is free again: nothing left to release, it passes. */
	assert_int_equal(anfu_pause_release("t.bound"), ANFU_ENOTFOUND);
	assert_int_equal(anfu_pause_at("t.bound"), 0);
}

static void test_a_wait_for_a_caller_ends_at_its_bound(void **state)
{
	(void)state;
	assert_int_equal(anfu_pause_arm("t.wait", 1000, NULL), 0);
	assert_int_equal(anfu_pause_wait("t.wait", 30), ANFU_ETIMEDOUT);
	/* Released before anyone came: disarmed, the next caller passes. */
	assert_int_equal(anfu_pause_release("t.wait"), 0);
	assert_int_equal(anfu_pause_at("t.wait"), 0);
	assert_int_equal(anfu_pause_wait("t.wait", 30), ANFU_ENOTFOUND);
}

static void test_bad_names_and_bounds_are_refused(void **state)
{
	char longname[ANFU_LIMIT_PAUSE_NAME + 2];

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(anfu_pause_arm(NULL, 1000, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_arm("", 1000, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_arm(longname, 1000, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_arm("t.bad", 0, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_arm("t.bad", ANFU_LIMIT_PAUSE_MS + 1, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_wait("t.bad", 0), ANFU_EINVAL);
	assert_int_equal(anfu_pause_release(NULL), ANFU_EINVAL);
	assert_int_equal(anfu_pause_at(NULL), 0);
	/* The longest name is a name. */
	longname[ANFU_LIMIT_PAUSE_NAME] = '\0';
	assert_int_equal(anfu_pause_arm(longname, 1000, NULL), 0);
	assert_int_equal(anfu_pause_release(longname), 0);
}

static void test_each_arming_has_a_new_number(void **state)
{
	uint64_t a = 0, b = 0, c = 0;

	(void)state;
	assert_int_equal(anfu_pause_arm("t.num", 1000, &a), 0);
	assert_int_equal(anfu_pause_arm("t.num", 1000, &b), 0);
	assert_int_equal(anfu_pause_arm("t.num2", 1000, &c), 0);
	assert_true(a > 0 && b > a && c > b);
	assert_int_equal(anfu_pause_release("t.num"), 0);
	assert_int_equal(anfu_pause_release("t.num2"), 0);
	/* A refused arming writes no number. */
	a = 7;
	assert_int_equal(anfu_pause_arm("", 1000, &a), ANFU_EINVAL);
	assert_int_equal(a, 7);
}

static void test_the_table_has_a_fixed_size(void **state)
{
	char name[32];

	(void)state;
	for (int i = 0; i < ANFU_LIMIT_PAUSE_POINTS; i++) {
		(void)snprintf(name, sizeof(name), "t.full.%d", i);
		assert_int_equal(anfu_pause_arm(name, 1000, NULL), 0);
	}
	assert_int_equal(anfu_pause_arm("t.full.more", 1000, NULL), ANFU_ELIMIT);
	/* Arming an armed point takes no new place. */
	assert_int_equal(anfu_pause_arm("t.full.0", 1000, NULL), 0);
	for (int i = 0; i < ANFU_LIMIT_PAUSE_POINTS; i++) {
		(void)snprintf(name, sizeof(name), "t.full.%d", i);
		assert_int_equal(anfu_pause_release(name), 0);
	}
	assert_int_equal(anfu_pause_arm("t.full.more", 1000, NULL), 0);
	assert_int_equal(anfu_pause_release("t.full.more"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_point_not_armed_does_not_pause),
		cmocka_unit_test(test_an_armed_point_stops_its_first_caller_until_released),
		cmocka_unit_test(test_a_stop_not_released_ends_at_its_bound),
		cmocka_unit_test(test_a_wait_for_a_caller_ends_at_its_bound),
		cmocka_unit_test(test_bad_names_and_bounds_are_refused),
		cmocka_unit_test(test_each_arming_has_a_new_number),
		cmocka_unit_test(test_the_table_has_a_fixed_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

/* Without test hooks the pause point is nothing: callers pass. */
static void test_the_point_is_nothing_without_test_hooks(void **state)
{
	(void)state;
	assert_int_equal(anfu_pause_at("t.any"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_point_is_nothing_without_test_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
