/*
 * Unit tests for base/states: the lookup of a named-state machine's one
 * transition table (the bank's and the dispute's tables use it).
 *
 * A row applies only to its own (from, event); an event with no row, an
 * unknown state and a NULL state give NULL; the first row of a pair wins
 * (tables list each pair once). anfu_state_in matches whole names only.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "base/states.h"

enum ev {
	EV_GO,
	EV_STOP,
	EV_UNUSED
};

static const struct anfu_state_row rows[] = {
	{ "idle", EV_GO, "running" },
	{ "running", EV_STOP, "idle" },
	{ "running", EV_GO, "running" },
};

static const struct anfu_state_table table = ANFU_STATE_TABLE(rows);

static void test_next_follows_the_row_of_the_state_and_event(void **state)
{
	(void)state;
	assert_int_equal(table.n, 3);
	assert_string_equal(anfu_state_next(&table, "idle", EV_GO), "running");
	assert_string_equal(anfu_state_next(&table, "running", EV_STOP), "idle");
	assert_string_equal(anfu_state_next(&table, "running", EV_GO), "running");
}

static void test_next_without_a_row_is_null(void **state)
{
	(void)state;
	/* The event has rows, but not in this state. */
	assert_null(anfu_state_next(&table, "idle", EV_STOP));
	/* The event has no row at all. */
	assert_null(anfu_state_next(&table, "running", EV_UNUSED));
	/* An unknown state, a prefix of a known one, and none. */
	assert_null(anfu_state_next(&table, "paused", EV_GO));
	assert_null(anfu_state_next(&table, "idl", EV_GO));
	assert_null(anfu_state_next(&table, NULL, EV_GO));
}

static void test_in_matches_whole_names_only(void **state)
{
	static const char *const finals[] = { "succeeded", "failed" };

	(void)state;
	assert_true(anfu_state_in("succeeded", finals, 2));
	assert_true(anfu_state_in("failed", finals, 2));
	assert_false(anfu_state_in("fail", finals, 2));
	assert_false(anfu_state_in("failed2", finals, 2));
	assert_false(anfu_state_in("created", finals, 2));
	assert_false(anfu_state_in(NULL, finals, 2));
	/* Only the first n names count. */
	assert_false(anfu_state_in("failed", finals, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_follows_the_row_of_the_state_and_event),
		cmocka_unit_test(test_next_without_a_row_is_null),
		cmocka_unit_test(test_in_matches_whole_names_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
