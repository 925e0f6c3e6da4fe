/*
 * base/states: the lookup of a state machine's transition table
 * (base/states.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/states.h"

const char *anfu_state_next(const struct anfu_state_table *t, const char *from, int ev)
{
	if (!from)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].ev == ev && strcmp(t->rows[i].from, from) == 0)
			return t->rows[i].to;
	return NULL;
}

bool anfu_state_in(const char *state, const char *const *names, size_t n)
{
	if (!state)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(state, names[i]) == 0)
			return true;
	return false;
}
