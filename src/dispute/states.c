/*
 * dispute/states: the one transition table of a dispute (docs/disputes.md,
 * "States"; FUNC-PAY-13). Every state change of a dispute row is a row
 * here; an event with no row in the dispute's state is refused
 * (dispute_state_invalid), never applied.
 *
 *   open        --take-->          in_progress  (an operator takes it)
 *   open        --withdraw-->      withdrawn    (the customer)
 *   in_progress --resolve-->       resolved     (the operator's resolution)
 *   in_progress --withdraw-->      withdrawn    (the customer)
 *   resolved    --confirm-->       confirmed    (the customer accepts)
 *   resolved    --auto_confirm-->  confirmed    (confirm_days passed)
 *
 * A resolution is final for this wave: no reopening and no withdrawal
 * after it (a refund may already have moved money); a customer who
 * disagrees lodges nothing new about the subject until it is confirmed.
 *
 * Owns nothing; pure.
 */
#include <stddef.h>
#include <string.h>

#include "dispute/dispute.h"

struct row {
	const char *from;
	enum anfu_dispute_event ev;
	const char *to;
};

static const struct row table[] = {
	{ "open", ANFU_DISPUTE_EV_TAKE, "in_progress" },
	{ "open", ANFU_DISPUTE_EV_WITHDRAW, "withdrawn" },
	{ "in_progress", ANFU_DISPUTE_EV_RESOLVE, "resolved" },
	{ "in_progress", ANFU_DISPUTE_EV_WITHDRAW, "withdrawn" },
	{ "resolved", ANFU_DISPUTE_EV_CONFIRM, "confirmed" },
	{ "resolved", ANFU_DISPUTE_EV_AUTO_CONFIRM, "confirmed" },
};

const char *const anfu_dispute_states[ANFU_DISPUTE_NSTATES] = {
	"open", "in_progress", "resolved", "confirmed", "withdrawn",
};

const char *anfu_dispute_transition(const char *from, enum anfu_dispute_event ev)
{
	if (!from)
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].ev == ev && strcmp(table[i].from, from) == 0)
			return table[i].to;
	return NULL;
}

bool anfu_dispute_state_final(const char *state)
{
	return state && (strcmp(state, "confirmed") == 0 || strcmp(state, "withdrawn") == 0);
}

const char *anfu_dispute_event_name(enum anfu_dispute_event ev)
{
	switch (ev) {
	case ANFU_DISPUTE_EV_TAKE: return "take";
	case ANFU_DISPUTE_EV_RESOLVE: return "resolve";
	case ANFU_DISPUTE_EV_CONFIRM: return "confirm";
	case ANFU_DISPUTE_EV_AUTO_CONFIRM: return "auto_confirm";
	case ANFU_DISPUTE_EV_WITHDRAW: return "withdraw";
	}
	return "unknown";
}
