/*
 * bank/topup: a customer's top-up: the limits, the payment row (created),
 * the debit sent to the bank once, and the move its synchronous answer
 * makes (in_transit, failed, unknown). The credit of the wallet is not
 * here: it comes with the bank's confirmation (bank/result.c).
 *
 * Owns nothing beyond the rows it writes. Trusts the handler for the
 * decoded fields; re-checks the limits and the request id inside the
 * transaction that writes the row (two top-ups at once cannot both pass
 * a daily limit only one fits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank/internal.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/money.h"
#include "base/refusal.h"
#include "base/str.h"
#include "store/store.h"
#include "tx/tx.h"

struct topup_add {
	struct anfu_bank *b;
	const char *user_id;
	int64_t day;
	struct anfu_bank_payment p;
	const char *refusal;
	bool existed;
};

/* Same request id: the same card and amount is a replay (the earlier
 * payment), anything else a conflict. */
static int replay_check(struct topup_add *a, struct anfu_db *db)
{
	struct anfu_bank_payment old;
	int r = bank_payment_by_request(db, a->user_id, a->p.client_request_id, &old);

	if (r == ANFU_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (old.amount != a->p.amount || strcmp(old.card_id, a->p.card_id) != 0)
		a->refusal = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
	else
		a->existed = true;
	a->p = old;
	return 1;
}

/* The customer's top-ups of the day, failed ones not counted, plus this
 * one, against the daily limit. */
static int daily_check(struct topup_add *a, struct anfu_db *db)
{
	const struct anfu_param p[] = { ANFU_PS(a->user_id), ANFU_PI(a->day) };
	int64_t sum = 0, total;
	int r = anfu_db_query_int(
		db,
		"SELECT COALESCE(SUM(amount), 0) FROM bank_payment WHERE user_id = "
		"$1 AND kind = 'debit' AND day_cn = $2 AND state <> 'failed'",
		p, 2, &sum);

	if (r < 0)
		return r;
	if (anfu_money_add(sum, a->p.amount, &total) < 0 || total > a->b->cfg->topup_daily_max)
		a->refusal = ANFU_R_BANK_TOPUP_LIMIT_DAILY;
	return 0;
}

static int topup_add_tx(struct anfu_tx *tx, void *ud)
{
	struct topup_add *a = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	int r = replay_check(a, db);

	if (r != 0)
		return r < 0 ? r : 0;
	r = daily_check(a, db);
	if (r < 0 || a->refusal)
		return r;
	{
		const struct anfu_param p[] = {
			ANFU_PS(a->p.id),
			ANFU_PS(a->p.serial),
			ANFU_PS(a->b->cfg->bank_id),
			ANFU_PS(a->user_id),
			ANFU_PS(a->p.card_id),
			ANFU_PI(a->p.amount),
			ANFU_PS(a->p.client_request_id),
			ANFU_PI(a->day),
			ANFU_PI(a->p.created_ms),
		};

		r = anfu_db_exec(db,
				 "INSERT INTO bank_payment (id, serial, bank_id, kind, user_id, "
				 "card_id, amount, currency, state, client_request_id, day_cn, "
				 "created_ms, updated_ms) VALUES ($1, $2, $3, 'debit', $4, $5, $6, "
				 "'CNY', 'created', $7, $8, $9, $9)",
				 p, 9, NULL, NULL, NULL);
	}
	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "bank.topup.created", "bank_payment", a->p.id, "success",
			     json_pack("{s:s,s:s,s:I,s:s}", "serial", a->p.serial, "card_id",
				       a->p.card_id, "amount", (json_int_t)a->p.amount,
				       "client_request_id", a->p.client_request_id));
}

struct topup_answer {
	struct anfu_bank *b;
	struct anfu_bank_payment *p;
	enum anfu_bank_event ev;
	const char *reason, *bank_ref, *phone;
};

static int topup_answer_tx(struct anfu_tx *tx, void *ud)
{
	struct topup_answer *a = ud;
	const char *to = NULL;
	int r = bank_payment_move(tx, a->p, a->ev, a->reason, a->bank_ref, &to);

	if (r == 0 && to && strcmp(to, "failed") == 0)
		r = bank_notify_topup(a->b, tx, a->p, a->phone);
	return r;
}

/* Sends the debit of p once and applies the answer. */
static int topup_send(struct anfu_bank *b, const struct anfu_actor *actor,
		      struct anfu_bank_payment *p, const char *number)
{
	const struct anfu_bank_payment_req req = { p->serial, number, p->amount, "CNY" };
	struct anfu_bank_payment_answer ans = { 0 };
	struct anfu_bank_identity who = { 0 };
	struct topup_answer a = { .b = b, .p = p };
	int r = b->ops->debit(b->ops->ud, &req, &ans);

	if (r < 0)
		ans.answer = ANFU_BANK_NO_ANSWER;
	a.ev = ans.answer == ANFU_BANK_ACCEPTED	  ? ANFU_BANK_EV_SENT
	       : ans.answer == ANFU_BANK_DECLINED ? ANFU_BANK_EV_DECLINED
						  : ANFU_BANK_EV_NO_ANSWER;
	a.reason = ans.answer == ANFU_BANK_DECLINED    ? (ans.reason[0] ? ans.reason : "declined")
		   : ans.answer == ANFU_BANK_NO_ANSWER ? "no_answer"
						       : "";
	a.bank_ref = ans.bank_ref;
	if (a.ev == ANFU_BANK_EV_DECLINED && b->identity(b->identity_ud, p->user_id, &who) == 0)
		a.phone = who.phone;
	r = anfu_tx_run(b->tx, actor, topup_answer_tx, &a);
	anfu_bank_identity_clear(&who);
	return r;
}

int anfu_bank_topup(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
		    int64_t amount, const char *client_request_id, struct anfu_bank_payment *ret,
		    bool *ret_existed, const char **ret_refusal)
{
	struct topup_add a = { .b = b };
	char *number = NULL;
	int r;

	if (!b || !actor || !actor->id || !card_id || !client_request_id || !ret || !ret_existed ||
	    !ret_refusal || amount <= 0)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	a.user_id = actor->id;
	r = bank_card_for_payment(b, actor->id, card_id, a.p.card_masked, &number, ret_refusal);
	if (r < 0 || *ret_refusal)
		goto out;
	if (amount > b->cfg->topup_max) {
		*ret_refusal = ANFU_R_BANK_TOPUP_LIMIT_TX;
		goto out;
	}
	r = anfu_id_new("bpy", a.p.id, sizeof(a.p.id));
	if (r == 0)
		r = anfu_id_new("bsn", a.p.serial, sizeof(a.p.serial));
	if (r < 0)
		goto out;
	(void)anfu_strlcpy(a.p.kind, "debit", sizeof(a.p.kind));
	(void)anfu_strlcpy(a.p.user_id, actor->id, sizeof(a.p.user_id));
	(void)anfu_strlcpy(a.p.card_id, card_id, sizeof(a.p.card_id));
	(void)anfu_strlcpy(a.p.currency, "CNY", sizeof(a.p.currency));
	(void)anfu_strlcpy(a.p.state, "created", sizeof(a.p.state));
	r = anfu_strlcpy(a.p.client_request_id, client_request_id, sizeof(a.p.client_request_id));
	if (r < 0)
		goto out;
	a.p.amount = amount;
	a.p.created_ms = a.p.updated_ms = anfu_clock_now_ms();
	a.day = anfu_bank_day_cn(a.p.created_ms);
	r = anfu_tx_run(b->tx, actor, topup_add_tx, &a);
	if (r < 0 || a.refusal || a.existed) {
		*ret_refusal = a.refusal;
		goto done;
	}
	r = topup_send(b, actor, &a.p, number);
	if (r < 0)
		anfu_log_error("bank.topup",
			       "%s: the answer was not recorded (%s): the query job "
			       "resolves it",
			       a.p.id, anfu_strerror(r));
	/* As committed: a callback may have outrun the answer. */
	r = anfu_bank_payment_get(b, actor->id, a.p.id, &a.p);
done:
	if (r == 0 && !*ret_refusal) {
		*ret = a.p;
		*ret_existed = a.existed;
	}
out:
	anfu_free_secret(number);
	return r;
}
