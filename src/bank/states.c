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
 * The second table: a withdrawal (bank_withdrawal, docs/bank.md
 * "Withdrawal"); its bank side is a bank payment of kind credit, moved by
 * the first table.
 *
 *   submitted --auto_approve-->   approved   (at or below the auto-review threshold)
 *   submitted --to_review-->      review
 *   review    --maker_approve-->  review     (large: the first of two operators)
 *   review    --approve-->        approved   (the hold stays; the credit is sent)
 *   review    --reject-->         rejected   (the hold voided)
 *   approved  --sent-->           sent       (the credit accepted, or no answer)
 *   approved  --declined-->       failed     (refused at once: the hold voided)
 *   approved  --confirmed-->      succeeded  (the callback outran the answer)
 *   approved  --returned-->       returned
 *   sent      --confirmed-->      succeeded  (the hold posted, the money moved on)
 *   sent      --returned-->       returned   (the bank failed it: the hold voided)
 *   sent      --declined-->       failed     (a query: the bank never had it)
 *
 * Owns nothing; pure.
 */
#include <stddef.h>

#include "bank/bank.h"
#include "base/states.h"

static const struct anfu_state_row rows[] = {
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

static const struct anfu_state_table table = ANFU_STATE_TABLE(rows);

static const char *const finals[] = { "succeeded", "failed" };

const char *anfu_bank_transition(const char *from, enum anfu_bank_event ev)
{
	return anfu_state_next(&table, from, (int)ev);
}

bool anfu_bank_state_final(const char *state)
{
	return anfu_state_in(state, finals, sizeof(finals) / sizeof(finals[0]));
}

static const struct anfu_state_row wd_rows[] = {
	{ "submitted", ANFU_BANK_WD_AUTO_APPROVE, "approved" },
	{ "submitted", ANFU_BANK_WD_TO_REVIEW, "review" },
	{ "review", ANFU_BANK_WD_MAKER_APPROVE, "review" },
	{ "review", ANFU_BANK_WD_APPROVE, "approved" },
	{ "review", ANFU_BANK_WD_REJECT, "rejected" },
	{ "approved", ANFU_BANK_WD_SENT, "sent" },
	{ "approved", ANFU_BANK_WD_DECLINED, "failed" },
	{ "approved", ANFU_BANK_WD_CONFIRMED, "succeeded" },
	{ "approved", ANFU_BANK_WD_RETURNED, "returned" },
	{ "sent", ANFU_BANK_WD_CONFIRMED, "succeeded" },
	{ "sent", ANFU_BANK_WD_RETURNED, "returned" },
	{ "sent", ANFU_BANK_WD_DECLINED, "failed" },
};

static const struct anfu_state_table wd_table = ANFU_STATE_TABLE(wd_rows);

const char *anfu_bank_wd_transition(const char *from, enum anfu_bank_wd_event ev)
{
	return anfu_state_next(&wd_table, from, (int)ev);
}
