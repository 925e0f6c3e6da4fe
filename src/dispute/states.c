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
 *   resolved    --reopen-->        open         (the customer disagrees)
 *
 * No withdrawal after a resolution (a refund may already have moved
 * money). A customer who disagrees reopens it (at most
 * ANFU_LIMIT_DISPUTE_REOPENS times, checked by dispute/flow.c: a count,
 * not a state) and an operator takes and resolves it again.
 *
 * Owns nothing; pure.
 */
#include <stddef.h>

#include "base/states.h"
#include "dispute/dispute.h"

static const struct anfu_state_row rows[] = {
	{ "open", ANFU_DISPUTE_EV_TAKE, "in_progress" },
	{ "open", ANFU_DISPUTE_EV_WITHDRAW, "withdrawn" },
	{ "in_progress", ANFU_DISPUTE_EV_RESOLVE, "resolved" },
	{ "in_progress", ANFU_DISPUTE_EV_WITHDRAW, "withdrawn" },
	{ "resolved", ANFU_DISPUTE_EV_CONFIRM, "confirmed" },
	{ "resolved", ANFU_DISPUTE_EV_AUTO_CONFIRM, "confirmed" },
	{ "resolved", ANFU_DISPUTE_EV_REOPEN, "open" },
};

const char *const anfu_dispute_states[ANFU_DISPUTE_NSTATES] = {
	"open", "in_progress", "resolved", "confirmed", "withdrawn",
};

static const struct anfu_state_table table = ANFU_STATE_TABLE(rows);

static const char *const finals[] = { "confirmed", "withdrawn" };

const char *anfu_dispute_transition(const char *from, enum anfu_dispute_event ev)
{
	return anfu_state_next(&table, from, (int)ev);
}

bool anfu_dispute_state_final(const char *state)
{
	return anfu_state_in(state, finals, sizeof(finals) / sizeof(finals[0]));
}

const char *anfu_dispute_event_name(enum anfu_dispute_event ev)
{
	switch (ev) {
	case ANFU_DISPUTE_EV_TAKE: return "take";
	case ANFU_DISPUTE_EV_RESOLVE: return "resolve";
	case ANFU_DISPUTE_EV_CONFIRM: return "confirm";
	case ANFU_DISPUTE_EV_AUTO_CONFIRM: return "auto_confirm";
	case ANFU_DISPUTE_EV_WITHDRAW: return "withdraw";
	case ANFU_DISPUTE_EV_REOPEN: return "reopen";
	}
	return "unknown";
}
