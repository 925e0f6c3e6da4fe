/*
 * base/states: the lookup of a state machine whose states are names (a
 * row a transition in ONE table per machine: src/bank/states.c,
 * src/dispute/states.c). An event with no row in the state is not
 * applied: the caller refuses or ignores it.
 *
 * Owns nothing; pure.
 */
#ifndef ANFU_BASE_STATES_H
#define ANFU_BASE_STATES_H

#include <stdbool.h>
#include <stddef.h>

/* One transition: event ev (the machine's enum, as int) in state from
 * leads to state to. */
struct anfu_state_row {
	const char *from;
	int ev;
	const char *to;
};

/* A machine's table: n rows. */
struct anfu_state_table {
	const struct anfu_state_row *rows;
	size_t n;
};

/* The table of a static array of rows. */
#define ANFU_STATE_TABLE(rows)                           \
	{                                                \
		(rows), sizeof(rows) / sizeof((rows)[0]) \
	}

/* The state after event ev in state from by table t, or NULL when t has
 * no row for them (from NULL: NULL). */
const char *anfu_state_next(const struct anfu_state_table *t, const char *from, int ev);

/* true when state is one of the n names (state NULL: false). */
bool anfu_state_in(const char *state, const char *const *names, size_t n);

#endif
