/*
 * ledger/states: the account states (ledger_account.state) and the hold
 * states (ledger_hold.state), each with its one table: which states let
 * an account be debited or credited, and which events move a hold from
 * which state to which (docs/ledger.md). Phase 1: a transfer's checks and
 * the hold transitions; freezing and closing (through four-eyes) come
 * later and will be rows of the same table.
 *
 * Trusts nothing in stored names (an unknown name is ANFU_EINVAL).
 */
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/refusal.h"
#include "ledger/internal.h"

#define BIT(s) (1u << (s))

/* The only place the state names are spelled. */
static const char *const acc_names[LEDGER_ACC_STATE_COUNT] = {
	[LEDGER_ACC_NORMAL] = "normal",
	[LEDGER_ACC_FROZEN_DEBIT] = "frozen_debit",
	[LEDGER_ACC_FROZEN_CREDIT] = "frozen_credit",
	[LEDGER_ACC_FROZEN] = "frozen",
	[LEDGER_ACC_CLOSED] = "closed",
};

/* What each account state forbids: a debit, a credit, and the refusal. */
struct acc_rule {
	bool no_debit, no_credit;
	const char *refusal;
};
static const struct acc_rule acc_table[LEDGER_ACC_STATE_COUNT] = {
	[LEDGER_ACC_NORMAL] = { false, false, NULL },
	[LEDGER_ACC_FROZEN_DEBIT] = { true, false, ANFU_R_LEDGER_ACCOUNT_FROZEN },
	[LEDGER_ACC_FROZEN_CREDIT] = { false, true, ANFU_R_LEDGER_ACCOUNT_FROZEN },
	[LEDGER_ACC_FROZEN] = { true, true, ANFU_R_LEDGER_ACCOUNT_FROZEN },
	[LEDGER_ACC_CLOSED] = { true, true, ANFU_R_LEDGER_ACCOUNT_CLOSED },
};

/* The change table: for each target state, the states an account may
 * change to it from, and whether it must be empty first (closing). Closed
 * is terminal: no row starts from it. A change to the state it is already
 * in is not a change. */
struct acc_change {
	unsigned from; /* BIT() of each state the change may start from */
	bool needs_empty;
};
#define NOT_CLOSED                                                                               \
	(BIT(LEDGER_ACC_NORMAL) | BIT(LEDGER_ACC_FROZEN_DEBIT) | BIT(LEDGER_ACC_FROZEN_CREDIT) | \
	 BIT(LEDGER_ACC_FROZEN))
static const struct acc_change acc_changes[LEDGER_ACC_STATE_COUNT] = {
	[LEDGER_ACC_NORMAL] = { NOT_CLOSED & ~BIT(LEDGER_ACC_NORMAL), false },
	[LEDGER_ACC_FROZEN_DEBIT] = { NOT_CLOSED & ~BIT(LEDGER_ACC_FROZEN_DEBIT), false },
	[LEDGER_ACC_FROZEN_CREDIT] = { NOT_CLOSED & ~BIT(LEDGER_ACC_FROZEN_CREDIT), false },
	[LEDGER_ACC_FROZEN] = { NOT_CLOSED & ~BIT(LEDGER_ACC_FROZEN), false },
	[LEDGER_ACC_CLOSED] = { NOT_CLOSED, true },
};

static const char *const hold_names[LEDGER_HOLD_STATE_COUNT] = {
	[LEDGER_HOLD_PENDING] = "pending",
	[LEDGER_HOLD_POSTED] = "posted",
	[LEDGER_HOLD_VOIDED] = "voided",
	[LEDGER_HOLD_EXPIRED] = "expired",
};

struct hold_transition {
	unsigned from; /* BIT() of each state the event may start from */
	enum ledger_hold_state to;
};
/* The hold table: only a pending hold moves, once. */
static const struct hold_transition hold_table[LEDGER_HOLD_EVENT_COUNT] = {
	[LEDGER_HOLD_POST] = { BIT(LEDGER_HOLD_PENDING), LEDGER_HOLD_POSTED },
	[LEDGER_HOLD_VOID] = { BIT(LEDGER_HOLD_PENDING), LEDGER_HOLD_VOIDED },
	[LEDGER_HOLD_EXPIRE] = { BIT(LEDGER_HOLD_PENDING), LEDGER_HOLD_EXPIRED },
};

static int parse(const char *const *names, int count, const char *name, int *ret)
{
	if (!name)
		return ANFU_EINVAL;
	for (int s = 0; s < count; s++)
		if (strcmp(name, names[s]) == 0) {
			*ret = s;
			return 0;
		}
	return ANFU_EINVAL;
}

const char *ledger_acc_state_name(enum ledger_acc_state s)
{
	ANFU_ASSERT(s >= 0 && s < LEDGER_ACC_STATE_COUNT);
	return acc_names[s];
}

int ledger_acc_state_parse(const char *name, enum ledger_acc_state *ret)
{
	int s = 0;
	int r = parse(acc_names, LEDGER_ACC_STATE_COUNT, name, &s);

	if (r == 0)
		*ret = (enum ledger_acc_state)s;
	return r;
}

const char *ledger_acc_debit_refusal(enum ledger_acc_state s)
{
	ANFU_ASSERT(s >= 0 && s < LEDGER_ACC_STATE_COUNT);
	return acc_table[s].no_debit ? acc_table[s].refusal : NULL;
}

const char *ledger_acc_credit_refusal(enum ledger_acc_state s)
{
	ANFU_ASSERT(s >= 0 && s < LEDGER_ACC_STATE_COUNT);
	return acc_table[s].no_credit ? acc_table[s].refusal : NULL;
}

int ledger_acc_change(enum ledger_acc_state from, enum ledger_acc_state to, bool *ret_needs_empty,
		      const char **ret_refusal)
{
	if (from < 0 || from >= LEDGER_ACC_STATE_COUNT || to < 0 || to >= LEDGER_ACC_STATE_COUNT ||
	    !ret_needs_empty || !ret_refusal)
		return ANFU_EINVAL;
	if (from == LEDGER_ACC_CLOSED) {
		*ret_refusal = ANFU_R_LEDGER_ACCOUNT_CLOSED;
		return ANFU_ECONFLICT;
	}
	if (!(acc_changes[to].from & BIT(from))) {
		*ret_refusal = ANFU_R_LEDGER_ACCOUNT_STATE_INVALID;
		return ANFU_ECONFLICT;
	}
	*ret_needs_empty = acc_changes[to].needs_empty;
	return 0;
}

const char *ledger_hold_state_name(enum ledger_hold_state s)
{
	ANFU_ASSERT(s >= 0 && s < LEDGER_HOLD_STATE_COUNT);
	return hold_names[s];
}

int ledger_hold_state_parse(const char *name, enum ledger_hold_state *ret)
{
	int s = 0;
	int r = parse(hold_names, LEDGER_HOLD_STATE_COUNT, name, &s);

	if (r == 0)
		*ret = (enum ledger_hold_state)s;
	return r;
}

int ledger_hold_next(enum ledger_hold_state from, enum ledger_hold_event ev,
		     enum ledger_hold_state *ret)
{
	if (from < 0 || from >= LEDGER_HOLD_STATE_COUNT || ev < 0 ||
	    ev >= LEDGER_HOLD_EVENT_COUNT || !ret)
		return ANFU_EINVAL;
	if (!(hold_table[ev].from & BIT(from)))
		return ANFU_ECONFLICT;
	*ret = hold_table[ev].to;
	return 0;
}
