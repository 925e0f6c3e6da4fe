/*
 * pay/states: the one transition table of an order (docs/payments.md,
 * "States"). Every change of pay_order.state is a row here; an event
 * with no row in the order's state is refused (the caller answers
 * anfu_pay_state_refusal()), never applied.
 *
 *   created            --pay_start-->       paying     (a payment waits: payment code)
 *   created            --pay_succeed-->     paid       (general payment: at once)
 *   created            --escrow_hold-->     escrow_held
 *   created            --cancel-->          closed     (FUNC-PAY-06)
 *   created            --expire-->          closed
 *   paying             --pay_succeed-->     paid
 *   paying             --pay_fail-->        created    (payable again)
 *   paying             --escrow_hold-->     escrow_held
 *   paying             --cancel-->          closed     (the waiting payment then fails)
 *   paying             --expire-->          closed
 *   paid               --refund_partial-->  partially_refunded
 *   paid               --refund_full-->     refunded
 *   partially_refunded --refund_partial-->  partially_refunded
 *   partially_refunded --refund_full-->     refunded
 *   escrow_held        --escrow_release-->  escrow_released
 *   escrow_held        --refund_partial-->  escrow_held (part of the hold voided)
 *   escrow_held        --refund_full-->     refunded    (the hold voided)
 *   escrow_released    --refund_partial-->  partially_refunded
 *   escrow_released    --refund_full-->     refunded
 *
 * closed and refunded are terminal. Owns nothing; pure.
 */
#include <stddef.h>
#include <string.h>

#include "base/err.h"
#include "base/refusal.h"
#include "pay/pay.h"

struct row {
	enum anfu_pay_state from;
	enum anfu_pay_event ev;
	enum anfu_pay_state to;
};

static const struct row table[] = {
	{ ANFU_PAY_CREATED, ANFU_PAY_EV_PAY_START, ANFU_PAY_PAYING },
	{ ANFU_PAY_CREATED, ANFU_PAY_EV_PAY_SUCCEED, ANFU_PAY_PAID },
	{ ANFU_PAY_CREATED, ANFU_PAY_EV_ESCROW_HOLD, ANFU_PAY_ESCROW_HELD },
	{ ANFU_PAY_CREATED, ANFU_PAY_EV_CANCEL, ANFU_PAY_CLOSED },
	{ ANFU_PAY_CREATED, ANFU_PAY_EV_EXPIRE, ANFU_PAY_CLOSED },
	{ ANFU_PAY_PAYING, ANFU_PAY_EV_PAY_SUCCEED, ANFU_PAY_PAID },
	{ ANFU_PAY_PAYING, ANFU_PAY_EV_PAY_FAIL, ANFU_PAY_CREATED },
	{ ANFU_PAY_PAYING, ANFU_PAY_EV_ESCROW_HOLD, ANFU_PAY_ESCROW_HELD },
	{ ANFU_PAY_PAYING, ANFU_PAY_EV_CANCEL, ANFU_PAY_CLOSED },
	{ ANFU_PAY_PAYING, ANFU_PAY_EV_EXPIRE, ANFU_PAY_CLOSED },
	{ ANFU_PAY_PAID, ANFU_PAY_EV_REFUND_PARTIAL, ANFU_PAY_PARTIALLY_REFUNDED },
	{ ANFU_PAY_PAID, ANFU_PAY_EV_REFUND_FULL, ANFU_PAY_REFUNDED },
	{ ANFU_PAY_PARTIALLY_REFUNDED, ANFU_PAY_EV_REFUND_PARTIAL, ANFU_PAY_PARTIALLY_REFUNDED },
	{ ANFU_PAY_PARTIALLY_REFUNDED, ANFU_PAY_EV_REFUND_FULL, ANFU_PAY_REFUNDED },
	{ ANFU_PAY_ESCROW_HELD, ANFU_PAY_EV_ESCROW_RELEASE, ANFU_PAY_ESCROW_RELEASED },
	{ ANFU_PAY_ESCROW_HELD, ANFU_PAY_EV_REFUND_PARTIAL, ANFU_PAY_ESCROW_HELD },
	{ ANFU_PAY_ESCROW_HELD, ANFU_PAY_EV_REFUND_FULL, ANFU_PAY_REFUNDED },
	{ ANFU_PAY_ESCROW_RELEASED, ANFU_PAY_EV_REFUND_PARTIAL, ANFU_PAY_PARTIALLY_REFUNDED },
	{ ANFU_PAY_ESCROW_RELEASED, ANFU_PAY_EV_REFUND_FULL, ANFU_PAY_REFUNDED },
};

static const char *const state_names[ANFU_PAY_STATE_N] = {
	"created",     "paying",	  "paid", "closed", "partially_refunded", "refunded",
	"escrow_held", "escrow_released",
};

static const char *const event_names[ANFU_PAY_EVENT_N] = {
	"pay_start",   "pay_succeed",	 "pay_fail",	   "cancel",	  "expire",
	"escrow_hold", "escrow_release", "refund_partial", "refund_full",
};

int anfu_pay_transition(enum anfu_pay_state state, enum anfu_pay_event event,
			enum anfu_pay_state *ret_next)
{
	if (!ret_next || (unsigned)state >= ANFU_PAY_STATE_N || (unsigned)event >= ANFU_PAY_EVENT_N)
		return ANFU_EINVAL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].from == state && table[i].ev == event) {
			*ret_next = table[i].to;
			return 0;
		}
	return ANFU_ECONFLICT;
}

const char *anfu_pay_state_refusal(enum anfu_pay_state state)
{
	switch (state) {
	case ANFU_PAY_CLOSED: return ANFU_R_PAY_ORDER_CLOSED;
	case ANFU_PAY_PAID:
	case ANFU_PAY_PARTIALLY_REFUNDED:
	case ANFU_PAY_REFUNDED:
	case ANFU_PAY_ESCROW_HELD:
	case ANFU_PAY_ESCROW_RELEASED: return ANFU_R_PAY_ORDER_PAID;
	case ANFU_PAY_CREATED:
	case ANFU_PAY_PAYING: break;
	}
	return ANFU_R_PAY_ORDER_STATE;
}

const char *anfu_pay_state_name(enum anfu_pay_state s)
{
	return (unsigned)s < ANFU_PAY_STATE_N ? state_names[s] : "";
}

const char *anfu_pay_event_name(enum anfu_pay_event e)
{
	return (unsigned)e < ANFU_PAY_EVENT_N ? event_names[e] : "";
}

int anfu_pay_state_parse(const char *name, enum anfu_pay_state *ret)
{
	if (!name || !ret)
		return ANFU_EINVAL;
	for (int i = 0; i < ANFU_PAY_STATE_N; i++)
		if (strcmp(state_names[i], name) == 0) {
			*ret = (enum anfu_pay_state)i;
			return 0;
		}
	return ANFU_EINVAL;
}

/* ---- the refund state table (docs/payments.md, "Refunds") ----
 *
 *   requested     --accept-->     reviewing     (the merchant accepts a customer's request)
 *   requested     --decline-->    declined
 *   reviewing     --approve-->    approved      (the rules, or an operator; four eyes above a size)
 *   reviewing     --reject-->     rejected
 *   approved      --succeed-->    succeeded     (the money moved, same writer command)
 *   approved      --wait_funds--> waiting_funds (the merchant's balance was short)
 *   waiting_funds --succeed-->    succeeded     (the job pay.refund_retry)
 *   approved      --send_card-->  sending       (the payer's wallet closed or frozen:
 *   waiting_funds --send_card-->  sending        the bound card's credit, bank module)
 *   sending       --succeed-->    succeeded     (the bank paid the card)
 *   sending       --card_failed--> failed       (the bank did not: money back to the merchant)
 *   reviewing     --choose_card--> reviewing    (an operator chose the payer's bound card
 *   waiting_funds --choose_card--> waiting_funds  the money goes to, should it go to a card)
 *   failed        --resend-->     sending       (an operator names another bound card of the
 *                                                payer: a new bank credit, the money held again)
 *
 * declined, rejected and succeeded are terminal; failed is, but for an
 * operator's re-send. "Executing" is no stored
 * state: an approved refund executes inside the writer command that
 * approved it, so no row is ever seen half executed.
 */
struct refund_row {
	enum anfu_pay_refund_state from;
	enum anfu_pay_refund_event ev;
	enum anfu_pay_refund_state to;
};

static const struct refund_row refund_table[] = {
	{ ANFU_PAY_RF_REQUESTED, ANFU_PAY_RF_EV_ACCEPT, ANFU_PAY_RF_REVIEWING },
	{ ANFU_PAY_RF_REQUESTED, ANFU_PAY_RF_EV_DECLINE, ANFU_PAY_RF_DECLINED },
	{ ANFU_PAY_RF_REVIEWING, ANFU_PAY_RF_EV_APPROVE, ANFU_PAY_RF_APPROVED },
	{ ANFU_PAY_RF_REVIEWING, ANFU_PAY_RF_EV_REJECT, ANFU_PAY_RF_REJECTED },
	{ ANFU_PAY_RF_APPROVED, ANFU_PAY_RF_EV_SUCCEED, ANFU_PAY_RF_SUCCEEDED },
	{ ANFU_PAY_RF_APPROVED, ANFU_PAY_RF_EV_WAIT_FUNDS, ANFU_PAY_RF_WAITING_FUNDS },
	{ ANFU_PAY_RF_WAITING_FUNDS, ANFU_PAY_RF_EV_SUCCEED, ANFU_PAY_RF_SUCCEEDED },
	{ ANFU_PAY_RF_APPROVED, ANFU_PAY_RF_EV_SEND_CARD, ANFU_PAY_RF_SENDING },
	{ ANFU_PAY_RF_WAITING_FUNDS, ANFU_PAY_RF_EV_SEND_CARD, ANFU_PAY_RF_SENDING },
	{ ANFU_PAY_RF_SENDING, ANFU_PAY_RF_EV_SUCCEED, ANFU_PAY_RF_SUCCEEDED },
	{ ANFU_PAY_RF_SENDING, ANFU_PAY_RF_EV_CARD_FAIL, ANFU_PAY_RF_FAILED },
	{ ANFU_PAY_RF_REVIEWING, ANFU_PAY_RF_EV_CHOOSE_CARD, ANFU_PAY_RF_REVIEWING },
	{ ANFU_PAY_RF_WAITING_FUNDS, ANFU_PAY_RF_EV_CHOOSE_CARD, ANFU_PAY_RF_WAITING_FUNDS },
	{ ANFU_PAY_RF_FAILED, ANFU_PAY_RF_EV_RESEND, ANFU_PAY_RF_SENDING },
};

static const char *const refund_state_names[ANFU_PAY_RF_STATE_N] = {
	"requested",	 "declined",  "reviewing", "approved", "rejected",
	"waiting_funds", "succeeded", "sending",   "failed",
};

int anfu_pay_refund_transition(enum anfu_pay_refund_state state, enum anfu_pay_refund_event ev,
			       enum anfu_pay_refund_state *ret_next)
{
	if (!ret_next || (unsigned)state >= ANFU_PAY_RF_STATE_N ||
	    (unsigned)ev >= ANFU_PAY_RF_EVENT_N)
		return ANFU_EINVAL;
	for (size_t i = 0; i < sizeof(refund_table) / sizeof(refund_table[0]); i++)
		if (refund_table[i].from == state && refund_table[i].ev == ev) {
			*ret_next = refund_table[i].to;
			return 0;
		}
	return ANFU_ECONFLICT;
}

const char *anfu_pay_refund_state_name(enum anfu_pay_refund_state s)
{
	return (unsigned)s < ANFU_PAY_RF_STATE_N ? refund_state_names[s] : "";
}

int anfu_pay_refund_state_parse(const char *name, enum anfu_pay_refund_state *ret)
{
	if (!name || !ret)
		return ANFU_EINVAL;
	for (int i = 0; i < ANFU_PAY_RF_STATE_N; i++)
		if (strcmp(refund_state_names[i], name) == 0) {
			*ret = (enum anfu_pay_refund_state)i;
			return 0;
		}
	return ANFU_EINVAL;
}
