/*
 * bank/states: the one transition table of a bank payment (docs/bank.md,
 * "States"). Every state change of bank_payment is a row here; an event
 * with no row in the payment's state is ignored (a duplicate or late
 * report), never applied.
 *
 *   created    --sent-->        in_transit
 *   created    --declined-->    failed
 *   created    --no_answer-->   unknown
 *   created    --confirmed-->   succeeded      (the callback outran the answer)
 *   created    --failed-->      failed
 *   created    --not_at_bank--> failed         (a query after a crash: never sent)
 *   in_transit --confirmed-->   succeeded      (the ledger transfer with it)
 *   in_transit --failed-->      failed
 *   in_transit --not_at_bank--> failed         (a query: the bank has none)
 *   unknown    --sent-->        in_transit     (a query: the bank has it)
 *   unknown    --confirmed-->   succeeded
 *   unknown    --failed-->      failed
 *   unknown    --not_at_bank--> failed         (never reached the bank)
 *
 * Owns nothing; pure.
 */
#include <stddef.h>
#include <string.h>

#include "bank/bank.h"

struct row {
	const char *from;
	enum anfu_bank_event ev;
	const char *to;
};

static const struct row table[] = {
	{ "created", ANFU_BANK_EV_SENT, "in_transit" },
	{ "created", ANFU_BANK_EV_DECLINED, "failed" },
	{ "created", ANFU_BANK_EV_NO_ANSWER, "unknown" },
	{ "created", ANFU_BANK_EV_CONFIRMED, "succeeded" },
	{ "created", ANFU_BANK_EV_FAILED, "failed" },
	{ "created", ANFU_BANK_EV_NOT_AT_BANK, "failed" },
	{ "in_transit", ANFU_BANK_EV_CONFIRMED, "succeeded" },
	{ "in_transit", ANFU_BANK_EV_FAILED, "failed" },
	{ "in_transit", ANFU_BANK_EV_NOT_AT_BANK, "failed" },
	{ "unknown", ANFU_BANK_EV_SENT, "in_transit" },
	{ "unknown", ANFU_BANK_EV_CONFIRMED, "succeeded" },
	{ "unknown", ANFU_BANK_EV_FAILED, "failed" },
	{ "unknown", ANFU_BANK_EV_NOT_AT_BANK, "failed" },
};

const char *anfu_bank_transition(const char *from, enum anfu_bank_event ev)
{
	if (!from)
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].ev == ev && strcmp(table[i].from, from) == 0)
			return table[i].to;
	return NULL;
}

bool anfu_bank_state_final(const char *state)
{
	return state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0);
}
