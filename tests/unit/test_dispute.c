/*
 * Unit tests of the dispute module's state table (src/dispute/states.c)
 * over every (state, event) pair, and of its provider table
 * (anfu_dispute_register). The store-backed paths are proved through the
 * API (tests/api/test_disputes.py), on both backends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/limits.h"
#include "dispute/dispute.h"

static const enum anfu_dispute_event events[ANFU_DISPUTE_NEVENTS] = {
	ANFU_DISPUTE_EV_TAKE,	      ANFU_DISPUTE_EV_RESOLVE,	ANFU_DISPUTE_EV_CONFIRM,
	ANFU_DISPUTE_EV_AUTO_CONFIRM, ANFU_DISPUTE_EV_WITHDRAW, ANFU_DISPUTE_EV_REOPEN,
};

/* The whole table as FUNC-PAY-13 and docs/disputes.md state it: the next
 * state of [state][event], NULL where the event is refused. */
static const char *const expected[ANFU_DISPUTE_NSTATES][ANFU_DISPUTE_NEVENTS] = {
	/* take, resolve, confirm, auto_confirm, withdraw, reopen */
	[0] = { "in_progress", NULL, NULL, NULL, "withdrawn", NULL }, /* open */
	[1] = { NULL, "resolved", NULL, NULL, "withdrawn", NULL },    /* in_progress */
	[2] = { NULL, NULL, "confirmed", "confirmed", NULL, "open" }, /* resolved */
	[3] = { NULL, NULL, NULL, NULL, NULL, NULL },		      /* confirmed */
	[4] = { NULL, NULL, NULL, NULL, NULL, NULL },		      /* withdrawn */
};

/* Every pair, the reopen edge (resolved -> open) among them; a reopen
 * from any other state is refused. req: FUNC-PAY-13 */
static void test_every_state_event_pair_follows_the_table(void **state)
{
	char what[64];

	(void)state;
	assert_string_equal(anfu_dispute_states[0], "open");
	assert_string_equal(anfu_dispute_states[1], "in_progress");
	assert_string_equal(anfu_dispute_states[2], "resolved");
	assert_string_equal(anfu_dispute_states[3], "confirmed");
	assert_string_equal(anfu_dispute_states[4], "withdrawn");
	assert_string_equal(anfu_dispute_event_name(ANFU_DISPUTE_EV_REOPEN), "reopen");
	for (int s = 0; s < ANFU_DISPUTE_NSTATES; s++)
		for (int e = 0; e < ANFU_DISPUTE_NEVENTS; e++) {
			const char *got =
				anfu_dispute_transition(anfu_dispute_states[s], events[e]);

			(void)snprintf(what, sizeof(what), "%s --%s-->", anfu_dispute_states[s],
				       anfu_dispute_event_name(events[e]));
			if (!expected[s][e]) {
				if (got)
					fail_msg("%s %s: the table must refuse it", what, got);
			} else if (!got || strcmp(got, expected[s][e]) != 0) {
				fail_msg("%s %s, expected %s", what, got ? got : "(refused)",
					 expected[s][e]);
			}
		}
}

static void test_unknown_or_null_state_is_refused(void **state)
{
	(void)state;
	assert_null(anfu_dispute_transition(NULL, ANFU_DISPUTE_EV_TAKE));
	assert_null(anfu_dispute_transition("", ANFU_DISPUTE_EV_TAKE));
	assert_null(anfu_dispute_transition("OPEN", ANFU_DISPUTE_EV_TAKE));
	assert_null(anfu_dispute_transition("paid", ANFU_DISPUTE_EV_WITHDRAW));
}

static void test_only_confirmed_and_withdrawn_are_final(void **state)
{
	(void)state;
	assert_false(anfu_dispute_state_final("open"));
	assert_false(anfu_dispute_state_final("in_progress"));
	assert_false(anfu_dispute_state_final("resolved"));
	assert_true(anfu_dispute_state_final("confirmed"));
	assert_true(anfu_dispute_state_final("withdrawn"));
	assert_false(anfu_dispute_state_final(NULL));
}

static int lookup(void *ud, const char *ref, const char *user_id, struct anfu_dispute_subject *ret)
{
	(void)ud;
	(void)ref;
	(void)user_id;
	(void)ret;
	return ANFU_ENOTFOUND;
}

static const struct anfu_dispute_subject_ops ops = { lookup, NULL };
static const struct anfu_dispute_subject_ops no_lookup = { NULL, NULL };

static void test_register_refuses_duplicates_bad_names_and_beyond_the_limit(void **state)
{
	static const struct anfu_dispute_config cfg = { 24, 7, 7 };
	int tx_stand_in; /* register never touches the executor */
	const struct anfu_dispute_deps deps = { &cfg, (struct anfu_tx_exec *)&tx_stand_in, NULL,
						NULL };
	struct anfu_disputes *d = NULL;
	char kind[16];

	(void)state;
	assert_int_equal(anfu_disputes_new(&deps, &d), 0);
	assert_int_equal(anfu_dispute_register(d, "transfer", &ops, NULL), 0);
	assert_int_equal(anfu_dispute_register(d, "transfer", &ops, NULL), ANFU_EEXIST);
	assert_int_equal(anfu_dispute_register(d, "Pay", &ops, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_dispute_register(d, "", &ops, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_dispute_register(d, "a_very_long_kind_", &ops, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_dispute_register(d, "nolookup", &no_lookup, NULL), ANFU_EINVAL);
	for (int i = 1; i < ANFU_LIMIT_DISPUTE_KINDS; i++) {
		(void)snprintf(kind, sizeof(kind), "kind%c", 'a' + i);
		assert_int_equal(anfu_dispute_register(d, kind, &ops, NULL), 0);
	}
	assert_int_equal(anfu_dispute_register(d, "onemore", &ops, NULL), ANFU_ELIMIT);
	anfu_disputes_free(d);
	anfu_disputes_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_state_event_pair_follows_the_table),
		cmocka_unit_test(test_unknown_or_null_state_is_refused),
		cmocka_unit_test(test_only_confirmed_and_withdrawn_are_final),
		cmocka_unit_test(test_register_refuses_duplicates_bad_names_and_beyond_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
