/*
 * bank/withdraw: a customer's withdrawal (提现) to their own bound card
 * (docs/bank.md "Withdrawal"; FUNC-PAY-09, FUNC-OPS-02, FUNC-OPS-03): the
 * rules (the [bank] options, or the row operators set through four eyes),
 * the fee, the request (the row and the ledger hold of amount + fee in ONE
 * writer command), the review (automatic, one operator, or maker and
 * checker for a large amount), the credit sent to the bank once, and what
 * the bank's report does to the withdrawal (called by bank/result.c inside
 * its command): the hold posted and the money moved on, or the hold voided.
 *
 * Owns the rows of bank_withdrawal and bank_withdraw_rules. Trusts the
 * handler for the decoded fields and the verified payment PIN; re-checks
 * the rules and the day's use inside the writer command (two withdrawals at
 * once cannot both pass a daily limit only one fits). A withdrawal's state
 * changes only by a row of the second table of bank/states.c.
 */
#include <inttypes.h>
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
#include "ledger/ledger.h"
#include "store/store.h"
#include "tx/tx.h"

/* How long a withdrawal's writer command may wait for the writer. */
#define WD_DEADLINE_MS 10000
/* A command's weight: a hold, post or void and two more transfers with
 * their records, the withdrawal's and the payment's records; a refund
 * credit's refund hook (a transfer, three records and the payer's
 * notice). */
#define WD_WEIGHT 15

/* ---- rules and fee (pure) ------------------------------------------------ */

int anfu_bank_wd_fee(int64_t amount, int64_t fee_fixed, int64_t fee_bp, int64_t *ret)
{
	int64_t part, fee;

	if (!ret || amount < 0 || fee_fixed < 0 || fee_bp < 0 || fee_bp > 10000)
		return ANFU_EINVAL;
	if (__builtin_mul_overflow(amount, fee_bp, &part))
		return ANFU_ELIMIT;
	part /= 10000; /* rounded down: the customer's favour */
	if (__builtin_add_overflow(part, fee_fixed, &fee))
		return ANFU_ELIMIT;
	*ret = fee;
	return 0;
}

const char *anfu_bank_wd_rules_invalid(const struct anfu_bank_wd_rules *r)
{
	if (r->min < 1 || r->min > ANFU_BANK_WD_AMOUNT_MAX)
		return "min";
	if (r->max < r->min || r->max > ANFU_BANK_WD_AMOUNT_MAX)
		return "max";
	if (r->daily_count < 1 || r->daily_count > ANFU_BANK_WD_COUNT_MAX)
		return "daily_count";
	if (r->daily_max < 1 || r->daily_max > ANFU_BANK_WD_DAILY_MAX)
		return "daily_max";
	if (r->fee_fixed < 0 || r->fee_fixed > ANFU_BANK_WD_FEE_FIXED_MAX)
		return "fee_fixed";
	if (r->fee_bp < 0 || r->fee_bp > ANFU_BANK_WD_FEE_BP_MAX)
		return "fee_bp";
	if (r->auto_max < 0 || r->auto_max > ANFU_BANK_WD_AMOUNT_MAX)
		return "auto_max";
	if (r->large_over < r->auto_max || r->large_over > ANFU_BANK_WD_AMOUNT_MAX)
		return "large_over";
	return NULL;
}

bool anfu_bank_wd_needs_step_up(const struct anfu_bank *b, int64_t amount)
{
	return !b || amount > b->cfg->withdraw_stepup_over;
}

static void rules_of_options(const struct anfu_bank_config *c, struct anfu_bank_wd_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->min = c->withdraw_min;
	r->max = c->withdraw_max;
	r->daily_count = c->withdraw_daily_count;
	r->daily_max = c->withdraw_daily_max;
	r->fee_fixed = c->withdraw_fee_fixed;
	r->fee_bp = c->withdraw_fee_bp;
	r->auto_max = c->withdraw_auto_max;
	r->large_over = c->withdraw_large_over;
}

static int rules_row(void *ud, const struct anfu_row *row)
{
	struct anfu_bank_wd_rules *r = ud;
	const char *aid = anfu_row_text(row, 8, NULL);

	r->min = anfu_row_int(row, 0);
	r->max = anfu_row_int(row, 1);
	r->daily_count = anfu_row_int(row, 2);
	r->daily_max = anfu_row_int(row, 3);
	r->fee_fixed = anfu_row_int(row, 4);
	r->fee_bp = anfu_row_int(row, 5);
	r->auto_max = anfu_row_int(row, 6);
	r->large_over = anfu_row_int(row, 7);
	r->updated_ms = anfu_row_int(row, 9);
	return anfu_strlcpy(r->approval_id, aid ? aid : "", sizeof(r->approval_id)) < 0
		       ? ANFU_ESCHEMA
		       : 0;
}

/* The rules in force as db sees them. */
static int rules_read(struct anfu_bank *b, struct anfu_db *db, struct anfu_bank_wd_rules *ret)
{
	struct anfu_bank_wd_rules r;
	int r_;

	rules_of_options(b->cfg, &r);
	r_ = anfu_db_exec(db,
			  "SELECT min_amount, max_amount, daily_count, daily_amount, fee_fixed, "
			  "fee_bp, auto_max, large_over, approval_id, updated_ms FROM "
			  "bank_withdraw_rules WHERE id = 1",
			  NULL, 0, rules_row, &r, NULL);
	if (r_ < 0)
		return r_;
	*ret = r;
	return 0;
}

int anfu_bank_wd_rules_get(struct anfu_bank *b, struct anfu_bank_wd_rules *ret)
{
	struct anfu_db *db = NULL;
	int r;

	if (!b || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r < 0)
		return r;
	return rules_read(b, db, ret);
}

int anfu_bank_wd_rules_set(struct anfu_tx *tx, const struct anfu_bank_wd_rules *w,
			   const char *approval_id)
{
	int r;

	/* Checked before the parameters below read *w. */
	if (!tx || !w || !approval_id || anfu_bank_wd_rules_invalid(w))
		return ANFU_EINVAL;
	const struct anfu_param p[] = {
		ANFU_PI(w->min),	 ANFU_PI(w->max),
		ANFU_PI(w->daily_count), ANFU_PI(w->daily_max),
		ANFU_PI(w->fee_fixed),	 ANFU_PI(w->fee_bp),
		ANFU_PI(w->auto_max),	 ANFU_PI(w->large_over),
		ANFU_PS(approval_id),	 ANFU_PI(anfu_clock_now_ms()),
	};
	r = anfu_db_exec(anfu_tx_db(tx),
			 "INSERT INTO bank_withdraw_rules (id, min_amount, max_amount, "
			 "daily_count, daily_amount, fee_fixed, fee_bp, auto_max, large_over, "
			 "approval_id, updated_ms) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, "
			 "$10) ON CONFLICT (id) DO UPDATE SET min_amount = excluded.min_amount, "
			 "max_amount = excluded.max_amount, daily_count = excluded.daily_count, "
			 "daily_amount = excluded.daily_amount, fee_fixed = excluded.fee_fixed, "
			 "fee_bp = excluded.fee_bp, auto_max = excluded.auto_max, "
			 "large_over = excluded.large_over, approval_id = excluded.approval_id, "
			 "updated_ms = excluded.updated_ms",
			 p, 10, NULL, NULL, NULL);
	if (r < 0)
		return r;
	/* The decision's transaction has no actor of its own: the record is
	 * the system's, naming the approval (whose records name both people). */
	return anfu_tx_audit_as(tx, &bank_system_actor, "bank.withdraw_rules.changed",
				"bank_withdraw_rules", "1", "success",
				json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "min",
					  (json_int_t)w->min, "max", (json_int_t)w->max,
					  "daily_count", (json_int_t)w->daily_count, "daily_max",
					  (json_int_t)w->daily_max, "fee_fixed",
					  (json_int_t)w->fee_fixed, "fee_bp", (json_int_t)w->fee_bp,
					  "auto_max", (json_int_t)w->auto_max, "large_over",
					  (json_int_t)w->large_over, "approval_id", approval_id));
}

/* ---- rows ------------------------------------------------------------------ */

#define WD_COLS                                                                       \
	"w.id, w.user_id, w.card_id, c.masked, w.amount, w.fee, w.state, w.review, "  \
	"w.request_id, w.hold_id, w.payment_id, w.maker_id, w.checker_id, w.reason, " \
	"w.created_ms, w.updated_ms, w.send_after_ms, w.hold_account, w.refund_id"
#define WD_FROM " FROM bank_withdrawal w JOIN bank_card c ON c.id = w.card_id "

struct wd_list {
	struct anfu_bank_withdrawal *out;
	size_t cap, n;
};

static int col(const struct anfu_row *row, int i, char *out, size_t cap)
{
	const char *s = anfu_row_text(row, i, NULL);

	return anfu_strlcpy(out, s ? s : "", cap) < 0 ? ANFU_ESCHEMA : 0;
}

static int wd_row(void *ud, const struct anfu_row *row)
{
	struct wd_list *l = ud;
	struct anfu_bank_withdrawal *w;
	int r;

	if (l->n >= l->cap)
		return 1;
	w = &l->out[l->n];
	memset(w, 0, sizeof(*w));
	r = col(row, 0, w->id, sizeof(w->id));
	if (r == 0)
		r = col(row, 1, w->user_id, sizeof(w->user_id));
	if (r == 0)
		r = col(row, 2, w->card_id, sizeof(w->card_id));
	if (r == 0)
		r = col(row, 3, w->card_masked, sizeof(w->card_masked));
	if (r == 0)
		r = col(row, 6, w->state, sizeof(w->state));
	if (r == 0)
		r = col(row, 7, w->review, sizeof(w->review));
	if (r == 0)
		r = col(row, 8, w->request_id, sizeof(w->request_id));
	if (r == 0)
		r = col(row, 9, w->hold_id, sizeof(w->hold_id));
	if (r == 0)
		r = col(row, 10, w->payment_id, sizeof(w->payment_id));
	if (r == 0)
		r = col(row, 11, w->maker_id, sizeof(w->maker_id));
	if (r == 0)
		r = col(row, 12, w->checker_id, sizeof(w->checker_id));
	if (r == 0)
		r = col(row, 13, w->reason, sizeof(w->reason));
	if (r == 0)
		r = col(row, 17, w->hold_account, sizeof(w->hold_account));
	if (r == 0)
		r = col(row, 18, w->refund_id, sizeof(w->refund_id));
	if (r < 0)
		return r;
	w->amount = anfu_row_int(row, 4);
	w->fee = anfu_row_int(row, 5);
	w->created_ms = anfu_row_int(row, 14);
	w->updated_ms = anfu_row_int(row, 15);
	w->send_after_ms = anfu_row_int(row, 16);
	l->n++;
	return 0;
}

static int wd_one(struct anfu_db *db, const char *where, const struct anfu_param *p, size_t np,
		  struct anfu_bank_withdrawal *ret)
{
	char sql[640];
	struct anfu_bank_withdrawal one;
	struct wd_list l = { &one, 1, 0 };
	int r;

	(void)snprintf(sql, sizeof(sql), "SELECT " WD_COLS WD_FROM "WHERE %s", where);
	r = anfu_db_exec(db, sql, p, np, wd_row, &l, NULL);
	if (r < 0)
		return r;
	if (l.n == 0)
		return ANFU_ENOTFOUND;
	*ret = one;
	return 0;
}

int anfu_bank_withdrawal_get(struct anfu_bank *b, const char *user_id, const char *id,
			     struct anfu_bank_withdrawal *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(user_id ? user_id : "") };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r < 0)
		return r;
	return user_id ? wd_one(db, "w.id = $1 AND w.user_id = $2 AND w.refund_id = ''", p, 2, ret)
		       : wd_one(db, "w.id = $1", p, 1, ret);
}

int anfu_bank_withdrawals_list(struct anfu_bank *b, const char *user_id, const char *state,
			       struct anfu_bank_withdrawal *out, size_t cap, size_t *ret_n)
{
	struct wd_list l = { out, cap < ANFU_BANK_WITHDRAWALS_MAX ? cap : ANFU_BANK_WITHDRAWALS_MAX,
			     0 };
	const struct anfu_param p[] = { ANFU_PS(user_id ? user_id : ""),
					ANFU_PS(state ? state : ""), ANFU_PI(l.cap) };
	struct anfu_db *db = NULL;
	int r;

	if (!b || (!out && cap) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " WD_COLS WD_FROM "WHERE ($1 = '' OR (w.user_id = $1 AND "
				 "w.refund_id = '')) AND ($2 = '' OR w.state = $2) ORDER BY "
				 "w.created_ms DESC, w.id DESC "
				 "LIMIT $3",
				 p, 3, wd_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

/* ---- moves, ledger and notices (inside a writer command) ------------------- */

/* Moves w (read in this transaction) by ev: the row (with the columns a
 * move sets: reason, maker, checker, payment) and its audit record
 * "bank.withdrawal.<event word>" as tx's actor's. *ret_to: the new
 * state, NULL when the table has no row (nothing written). */
static int wd_move(struct anfu_tx *tx, struct anfu_bank_withdrawal *w, enum anfu_bank_wd_event ev,
		   const char *action, const char **ret_to)
{
	const char *to = anfu_bank_wd_transition(w->state, ev);
	int64_t now = anfu_clock_now_ms(), changes = 0;
	char name[64];
	int r;

	*ret_to = NULL;
	if (!to)
		return 0;
	{
		const struct anfu_param q[] = { ANFU_PS(to),
						ANFU_PS(w->reason),
						ANFU_PS(w->maker_id),
						ANFU_PS(w->checker_id),
						ANFU_PS(w->payment_id),
						ANFU_PI(now),
						ANFU_PS(w->id),
						ANFU_PS(w->state),
						ANFU_PI(w->send_after_ms) };

		r = anfu_db_exec(
			anfu_tx_db(tx),
			"UPDATE bank_withdrawal SET state = $1, reason = $2, maker_id = $3, "
			"checker_id = $4, payment_id = $5, updated_ms = $6, send_after_ms = $9 "
			"WHERE id = $7 AND state = $8",
			q, 9, NULL, NULL, &changes);
	}
	if (r < 0)
		return r;
	if (changes != 1)
		return ANFU_ECONFLICT;
	(void)snprintf(name, sizeof(name), "bank.withdrawal.%s", action ? action : to);
	r = anfu_tx_audit(tx, name, "bank_withdrawal", w->id, "success",
			  json_pack("{s:s,s:s,s:I,s:I,s:s,s:s,s:s}", "from", w->state, "to", to,
				    "amount", (json_int_t)w->amount, "fee", (json_int_t)w->fee,
				    "reason", w->reason, "payment_id", w->payment_id, "review",
				    w->review));
	if (r < 0)
		return r;
	(void)anfu_strlcpy(w->state, to, sizeof(w->state));
	w->updated_ms = now;
	*ret_to = to;
	return 0;
}

/* One transfer of a withdrawal (idempotency key "wd.<step>.<id>"):
 * 0 applied, ANFU_ECONFLICT with *ret_code the ledger's refusal. */
static int wd_transfer(struct anfu_tx *tx, const struct anfu_bank_withdrawal *w, const char *step,
		       struct anfu_ledger_transfer *t, struct anfu_ledger_result *res)
{
	char key[ANFU_ID_MAX + 16];
	int r;

	(void)snprintf(key, sizeof(key), "wd.%s.%s", step, w->id);
	t->idem_key = key;
	t->asset = "CNY";
	t->ref = w->id;
	memset(res, 0, sizeof(*res));
	r = anfu_ledger_submit_in(tx, "bank", t, 1, res);
	if (r < 0)
		return r;
	return res->code ? ANFU_ECONFLICT : 0;
}

/* Closes the hold of w: posted (the bank paid; then the amount leaves the
 * clearing account for the reserve, the fee for the platform's income) or
 * voided (the money stays in the wallet). */
static int wd_close_hold(struct anfu_bank *b, struct anfu_tx *tx,
			 const struct anfu_bank_withdrawal *w, bool post)
{
	const struct anfu_ledger_account_spec s = { "customer_wallet", "CNY", "customer",
						    w->user_id };
	struct anfu_ledger_account wallet;
	struct anfu_ledger_transfer t = { 0 };
	struct anfu_ledger_result res = { 0 };
	int r = 0;

	/* A refund credit's hold is on the account it names. */
	if (w->hold_account[0])
		(void)anfu_strlcpy(wallet.id, w->hold_account, sizeof(wallet.id));
	else
		r = anfu_ledger_account_find(b->ledger, &s, &wallet);
	if (r < 0)
		return r;
	/* The hold's accounts: the ledger checks them against the hold. */
	t.debit_account = wallet.id;
	t.credit_account = b->clearing_id;
	t.flags = post ? ANFU_LEDGER_TRF_POST_PENDING : ANFU_LEDGER_TRF_VOID_PENDING;
	t.pending_id = w->hold_id;
	t.code = "withdrawal";
	r = wd_transfer(tx, w, post ? "post" : "void", &t, &res);
	if (r == 0 && post) {
		t = (struct anfu_ledger_transfer){ 0 };
		t.debit_account = b->clearing_id;
		t.credit_account = b->reserve_id;
		t.amount = w->amount;
		t.code = "withdrawal";
		r = wd_transfer(tx, w, "paid", &t, &res);
	}
	if (r == 0 && post && w->fee > 0) {
		t = (struct anfu_ledger_transfer){ 0 };
		t.debit_account = b->clearing_id;
		t.credit_account = b->fee_id;
		t.amount = w->fee;
		t.code = "fee";
		r = wd_transfer(tx, w, "fee", &t, &res);
	}
	if (r == ANFU_ECONFLICT)
		anfu_log_error("bank.withdraw", "%s: the ledger refused to %s the hold (%s)", w->id,
			       post ? "post" : "void", res.code ? res.code : "?");
	return r;
}

/* The customer's notice of w in its state now (none for states that
 * tell nothing new: review, approved, sent). */
static int wd_notify(struct anfu_bank *b, struct anfu_tx *tx, const struct anfu_bank_withdrawal *w)
{
	char zh[512], en[512], amount[32], fee[32];
	const char *last4 =
		w->card_masked + (strlen(w->card_masked) >= 4 ? strlen(w->card_masked) - 4 : 0);
	const char *kind;

	/* A refund credit is not the customer's withdrawal: pay tells. */
	if (!b->notice || w->refund_id[0])
		return 0;
	if (anfu_money_format(w->amount, 2, amount, sizeof(amount)) < 0 ||
	    anfu_money_format(w->fee, 2, fee, sizeof(fee)) < 0)
		return ANFU_EINTERNAL;
	if (strcmp(w->state, "submitted") == 0 || strcmp(w->state, "review") == 0 ||
	    (strcmp(w->state, "approved") == 0 && strcmp(w->review, "auto") == 0)) {
		kind = "bank.withdrawal_submitted";
		(void)snprintf(zh, sizeof(zh),
			       "【安付】您提现%s元至尾号%s的银行卡的申请已受理（手续费%s元），"
			       "款项已冻结。如非本人操作，请立即联系客服。",
			       amount, last4, fee);
		(void)snprintf(
			en, sizeof(en),
			"[anfu] Your withdrawal of CNY %s to the card ending %s was received "
			"(fee CNY %s); the money is held. If this was not you, contact "
			"support now.",
			amount, last4, fee);
	} else if (strcmp(w->state, "succeeded") == 0) {
		kind = "bank.withdrawal_succeeded";
		(void)snprintf(zh, sizeof(zh), "【安付】您提现的%s元已转入尾号%s的银行卡。", amount,
			       last4);
		(void)snprintf(en, sizeof(en),
			       "[anfu] Your withdrawal of CNY %s was paid to the card ending %s.",
			       amount, last4);
	} else if (strcmp(w->state, "rejected") == 0 || strcmp(w->state, "failed") == 0 ||
		   strcmp(w->state, "returned") == 0) {
		kind = "bank.withdrawal_failed";
		(void)snprintf(zh, sizeof(zh),
			       "【安付】您提现%s元至尾号%s的银行卡未成功，冻结款项已退回余额。",
			       amount, last4);
		(void)snprintf(en, sizeof(en),
			       "[anfu] Your withdrawal of CNY %s to the card ending %s did not go "
			       "through; the held money is back in your balance.",
			       amount, last4);
	} else {
		return 0;
	}
	return b->notice(b->notice_ud, tx, w->user_id, kind, zh, en);
}

/* The bank payment (kind credit, created) of approved w, in tx: its
 * serial is the one request the bank gets. */
static int wd_payment_add(struct anfu_bank *b, struct anfu_tx *tx, struct anfu_bank_withdrawal *w)
{
	char id[ANFU_ID_MAX], serial[ANFU_BANK_SERIAL_MAX];
	int64_t now = anfu_clock_now_ms();
	int r = anfu_id_new("bpy", id, sizeof(id));

	if (r == 0)
		r = anfu_id_new("bsn", serial, sizeof(serial));
	if (r < 0)
		return r;
	{
		const struct anfu_param p[] = {
			ANFU_PSN(id, strlen(id)),
			ANFU_PSN(serial, strlen(serial)),
			ANFU_PS(b->cfg->bank_id),
			ANFU_PS(w->user_id),
			ANFU_PS(w->card_id),
			ANFU_PI(w->amount),
			ANFU_PS(w->id),
			ANFU_PI(anfu_bank_day_cn(now)),
			ANFU_PI(now),
		};

		r = anfu_db_exec(
			anfu_tx_db(tx),
			"INSERT INTO bank_payment (id, serial, bank_id, kind, user_id, "
			"card_id, amount, currency, state, client_request_id, day_cn, "
			"created_ms, updated_ms) VALUES ($1, $2, $3, 'credit', $4, $5, $6, "
			"'CNY', 'created', $7, $8, $9, $9)",
			p, 9, NULL, NULL, NULL);
	}
	if (r == 0)
		(void)anfu_strlcpy(w->payment_id, id, sizeof(w->payment_id));
	return r;
}

/* When a withdrawal approved at now may be sent to the bank: at once, or,
 * approved at or after the day's cut-off ([bank] withdraw_cutoff, Shanghai
 * time), from the next Shanghai midnight on (FUNC-OPS-02). */
static int64_t wd_send_after(const struct anfu_bank *b, int64_t now)
{
	const int64_t day_ms = 86400LL * 1000;
	int64_t day = anfu_clock_day_cn(now);
	int64_t midnight = day * day_ms - ANFU_CLOCK_CN_OFFSET_MS; /* today's, in UTC ms */

	if (b->cutoff_ms < 0 || now - midnight < b->cutoff_ms)
		return now;
	return midnight + day_ms;
}

/* Approves w (submitted or review) by ev: the move, with the time from
 * which its credit may be sent (its payment is written when it is sent). */
static int wd_approve(struct anfu_bank *b, struct anfu_tx *tx, struct anfu_bank_withdrawal *w,
		      enum anfu_bank_wd_event ev)
{
	const char *to = NULL;
	int r;

	w->send_after_ms = wd_send_after(b, anfu_clock_now_ms());
	r = wd_move(tx, w, ev, NULL, &to);
	return r == 0 && !to ? ANFU_ECONFLICT : r;
}

/* ---- the request ------------------------------------------------------------ */

struct wd_add {
	struct anfu_bank *b;
	struct anfu_bank_withdrawal w;
	int64_t day;
	const char *refusal;
	bool existed;
};

/* Same request id: the same card and amount is a replay, else a conflict. */
static int wd_replay(struct wd_add *a, struct anfu_db *db)
{
	const struct anfu_param p[] = { ANFU_PS(a->w.user_id), ANFU_PS(a->w.request_id) };
	struct anfu_bank_withdrawal old;
	int r = wd_one(db, "w.user_id = $1 AND w.request_id = $2", p, 2, &old);

	if (r == ANFU_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (old.amount != a->w.amount || strcmp(old.card_id, a->w.card_id) != 0)
		a->refusal = ANFU_R_LEDGER_IDEMPOTENCY_CONFLICT;
	else
		a->existed = true;
	a->w = old;
	return 1;
}

/* The rules against this withdrawal and the day's others (rejected,
 * failed and returned ones not counted); the fee. */
static int wd_rules_check(struct wd_add *a, struct anfu_db *db, const struct anfu_bank_wd_rules *ru)
{
	const struct anfu_param p[] = { ANFU_PS(a->w.user_id), ANFU_PI(a->day) };
	int64_t n = 0, sum = 0, total;
	int r;

	if (a->w.amount < ru->min) {
		a->refusal = ANFU_R_BANK_WITHDRAW_BELOW_MIN;
		return 0;
	}
	if (a->w.amount > ru->max) {
		a->refusal = ANFU_R_BANK_WITHDRAW_ABOVE_MAX;
		return 0;
	}
	r = anfu_db_query_int(
		db,
		"SELECT count(*) FROM bank_withdrawal WHERE user_id = $1 AND day_cn = "
		"$2 AND refund_id = '' AND state NOT IN ('rejected', 'failed', 'returned')",
		p, 2, &n);
	if (r == 0)
		r = anfu_db_query_int(
			db,
			"SELECT COALESCE(SUM(amount), 0) FROM bank_withdrawal WHERE "
			"user_id = $1 AND day_cn = $2 AND refund_id = '' AND state NOT "
			"IN ('rejected', 'failed', 'returned')",
			p, 2, &sum);
	if (r < 0)
		return r;
	if (n + 1 > ru->daily_count) {
		a->refusal = ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_COUNT;
		return 0;
	}
	if (anfu_money_add(sum, a->w.amount, &total) < 0 || total > ru->daily_max) {
		a->refusal = ANFU_R_BANK_WITHDRAW_LIMIT_DAILY_AMOUNT;
		return 0;
	}
	return anfu_bank_wd_fee(a->w.amount, ru->fee_fixed, ru->fee_bp, &a->w.fee);
}

/* The hold of amount + fee on account_id: -> bank_clearing, PENDING, no
 * timeout (it ends when the bank answers or an operator rejects). A
 * ledger refusal is a->refusal. */
static int wd_hold_on(struct wd_add *a, struct anfu_tx *tx, const char *account_id)
{
	struct anfu_ledger_transfer t = { 0 };
	struct anfu_ledger_result res;
	int64_t total;
	int r;

	if (anfu_money_add(a->w.amount, a->w.fee, &total) < 0) {
		a->refusal = ANFU_R_BANK_WITHDRAW_ABOVE_MAX;
		return 0;
	}
	t.debit_account = account_id;
	t.credit_account = a->b->clearing_id;
	t.amount = total;
	t.code = "withdrawal";
	t.flags = ANFU_LEDGER_TRF_PENDING;
	r = wd_transfer(tx, &a->w, "hold", &t, &res);
	if (r == ANFU_ECONFLICT) {
		a->refusal = res.code;
		return 0;
	}
	if (r == 0)
		(void)anfu_strlcpy(a->w.hold_id, res.id, sizeof(a->w.hold_id));
	return r;
}

/* The hold of a withdrawal: on the customer's wallet. */
static int wd_hold(struct wd_add *a, struct anfu_tx *tx)
{
	const struct anfu_ledger_account_spec s = { "customer_wallet", "CNY", "customer",
						    a->w.user_id };
	struct anfu_ledger_account wallet;
	int r = anfu_ledger_account_find(a->b->ledger, &s, &wallet);

	if (r == ANFU_ENOTFOUND) {
		a->refusal = ANFU_R_LEDGER_ACCOUNT_NOT_FOUND;
		return 0;
	}
	return r < 0 ? r : wd_hold_on(a, tx, wallet.id);
}

/* The row of new withdrawal a->w (submitted, its hold made) and its
 * record "bank.withdrawal.submitted". */
static int wd_insert(struct wd_add *a, struct anfu_tx *tx)
{
	const struct anfu_param p[] = {
		ANFU_PS(a->w.id),	 ANFU_PS(a->w.user_id),	   ANFU_PS(a->b->cfg->bank_id),
		ANFU_PS(a->w.card_id),	 ANFU_PI(a->w.amount),	   ANFU_PI(a->w.fee),
		ANFU_PS(a->w.review),	 ANFU_PS(a->w.request_id), ANFU_PI(a->day),
		ANFU_PS(a->w.hold_id),	 ANFU_PI(a->w.created_ms), ANFU_PS(a->w.hold_account),
		ANFU_PS(a->w.refund_id),
	};
	int r = anfu_db_exec(
		anfu_tx_db(tx),
		"INSERT INTO bank_withdrawal (id, user_id, bank_id, card_id, amount, fee, "
		"currency, state, review, request_id, day_cn, hold_id, created_ms, updated_ms, "
		"hold_account, refund_id) VALUES ($1, $2, $3, $4, $5, $6, 'CNY', 'submitted', $7, "
		"$8, $9, $10, $11, $11, $12, $13)",
		p, 13, NULL, NULL, NULL);

	if (r < 0)
		return r;
	return anfu_tx_audit(tx, "bank.withdrawal.submitted", "bank_withdrawal", a->w.id, "success",
			     json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s}", "card_id", a->w.card_id,
				       "amount", (json_int_t)a->w.amount, "fee",
				       (json_int_t)a->w.fee, "review", a->w.review, "hold_id",
				       a->w.hold_id, "request_id", a->w.request_id, "refund_id",
				       a->w.refund_id));
}

static int wd_add_tx(struct anfu_tx *tx, void *ud)
{
	struct wd_add *a = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_bank_wd_rules ru;
	const char *to = NULL;
	int r = wd_replay(a, db);

	if (r != 0)
		return r < 0 ? r : 0;
	r = rules_read(a->b, db, &ru);
	if (r == 0)
		r = wd_rules_check(a, db, &ru);
	if (r < 0 || a->refusal)
		return r;
	(void)anfu_strlcpy(a->w.review,
			   a->w.amount <= ru.auto_max	 ? "auto"
			   : a->w.amount > ru.large_over ? "dual"
							 : "single",
			   sizeof(a->w.review));
	r = wd_hold(a, tx);
	if (r < 0 || a->refusal)
		return r; /* nothing written: the hold was refused */
	r = wd_insert(a, tx);
	if (r < 0)
		return r;
	if (strcmp(a->w.review, "auto") == 0)
		r = wd_approve(a->b, tx, &a->w, ANFU_BANK_WD_AUTO_APPROVE);
	else
		r = wd_move(tx, &a->w, ANFU_BANK_WD_TO_REVIEW, NULL, &to);
	if (r == 0)
		r = wd_notify(a->b, tx, &a->w);
	return r;
}

/* ---- sending the credit ------------------------------------------------------ */

struct wd_answer {
	struct anfu_bank *b;
	const char *serial;
	enum anfu_bank_event ev; /* SENT, DECLINED or NO_ANSWER */
	const char *reason, *bank_ref;
};

/* Voids or posts w's hold and moves it by ev, with the notice. */
static int wd_end(struct anfu_bank *b, struct anfu_tx *tx, struct anfu_bank_withdrawal *w,
		  enum anfu_bank_wd_event ev)
{
	const char *to = anfu_bank_wd_transition(w->state, ev);
	int r;

	if (!to)
		return 0;
	r = wd_close_hold(b, tx, w, strcmp(to, "succeeded") == 0);
	if (r == 0)
		r = wd_move(tx, w, ev, NULL, &to);
	if (r == 0)
		r = wd_notify(b, tx, w);
	/* A refund credit ended: its refund's end in the same command. */
	if (r == 0 && w->refund_id[0] && b->refund_hook)
		r = b->refund_hook(b->refund_ud, tx, w, strcmp(w->state, "succeeded") == 0);
	return r;
}

/* The withdrawal of credit payment p, in tx. */
static int wd_of_payment(struct anfu_tx *tx, const struct anfu_bank_payment *p,
			 struct anfu_bank_withdrawal *ret)
{
	const struct anfu_param q[] = { ANFU_PS(p->id) };

	return wd_one(anfu_tx_db(tx), "w.payment_id = $1", q, 1, ret);
}

static int wd_answer_tx(struct anfu_tx *tx, void *ud)
{
	struct wd_answer *a = ud;
	struct anfu_bank_withdrawal w;
	struct anfu_bank_payment p;
	const char *to = NULL;
	int r = bank_payment_by_serial(anfu_tx_db(tx), a->serial, &p);

	if (r == 0)
		r = wd_of_payment(tx, &p, &w);
	if (r < 0)
		return r;
	if (!anfu_bank_transition(p.state, a->ev))
		return 0; /* a callback outran the answer: it moved both */
	if (a->ev == ANFU_BANK_EV_DECLINED) {
		(void)anfu_strlcpy(w.reason, a->reason, sizeof(w.reason));
		r = wd_end(a->b, tx, &w, ANFU_BANK_WD_DECLINED);
	} else {
		r = wd_move(tx, &w, ANFU_BANK_WD_SENT, NULL, &to);
	}
	if (r == 0)
		r = bank_payment_move(tx, &p, a->ev, a->reason, a->bank_ref, &to);
	return r;
}

struct wd_claim {
	struct anfu_bank *b;
	struct anfu_bank_withdrawal w;
	bool claimed;
};

/* Claims the send of withdrawal c->w.id: while it is approved, due and
 * without a payment, writes its payment (created, a new serial) and names
 * it on the row (the bank's answer's record names it: sent, failed). Anything else (sent
 * by another run, not due, moved on): nothing written, not claimed. */
static int wd_claim_tx(struct anfu_tx *tx, void *ud)
{
	struct wd_claim *c = ud;
	const struct anfu_param p[] = { ANFU_PS(c->w.id) };
	int64_t now = anfu_clock_now_ms(), changes = 0;
	int r = wd_one(anfu_tx_db(tx), "w.id = $1", p, 1, &c->w);

	if (r < 0)
		return r;
	if (strcmp(c->w.state, "approved") != 0 || c->w.payment_id[0] != '\0' ||
	    c->w.send_after_ms > now)
		return 0;
	r = wd_payment_add(c->b, tx, &c->w);
	if (r == 0) {
		const struct anfu_param q[] = { ANFU_PS(c->w.payment_id), ANFU_PI(now),
						ANFU_PS(c->w.id) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "UPDATE bank_withdrawal SET payment_id = $1, updated_ms = $2 "
				 "WHERE id = $3 AND state = 'approved' AND payment_id = ''",
				 q, 3, NULL, NULL, &changes);
	}
	if (r == 0 && changes != 1)
		r = ANFU_ECONFLICT;
	if (r < 0)
		return r;
	c->w.updated_ms = now;
	c->claimed = true;
	return 0;
}

/* Sends the credit of approved withdrawal id once and applies the answer
 * (a card unbound since the request: declined without asking the bank):
 * first claims it (its payment written in a command of its own), then
 * asks the bank. *ret_sent: claimed and asked by this call. A crash
 * after the claim leaves the payment created: the query job's. */
static int wd_send(struct anfu_bank *b, const struct anfu_actor *actor, const char *id,
		   bool *ret_sent)
{
	struct anfu_bank_payment p;
	struct anfu_bank_payment_answer ans = { 0 };
	struct wd_answer a = { .b = b };
	struct anfu_db *db = NULL;
	const char *refusal = NULL;
	char masked[ANFU_BANK_MASKED_MAX], *number = NULL;
	struct wd_claim *c = anfu_xcalloc(1, sizeof(*c));
	const struct anfu_bank_withdrawal *w = &c->w;
	int r;

	*ret_sent = false;
	c->b = b;
	(void)anfu_strlcpy(c->w.id, id, sizeof(c->w.id));
	r = anfu_ledger_run_weighted(b->ledger, actor, wd_claim_tx, c, WD_WEIGHT,
				     anfu_clock_mono_us() / 1000 + WD_DEADLINE_MS);
	if (r < 0 || !c->claimed)
		goto out;
	*ret_sent = true;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = bank_payment_by_id(db, w->payment_id, &p);
	if (r == 0)
		r = bank_card_for_payment(b, w->user_id, w->card_id, masked, &number, &refusal);
	if (r < 0)
		goto out;
	if (refusal) {
		ans.answer = ANFU_BANK_DECLINED;
		(void)anfu_strlcpy(ans.reason, ANFU_R_BANK_CARD_NOT_BOUND, sizeof(ans.reason));
	} else {
		const struct anfu_bank_payment_req req = { p.serial, number, p.amount, "CNY" };

		if (b->ops->credit(b->ops->ud, &req, &ans) < 0)
			ans.answer = ANFU_BANK_NO_ANSWER;
	}
	a.serial = p.serial;
	a.ev = ans.answer == ANFU_BANK_ACCEPTED	  ? ANFU_BANK_EV_SENT
	       : ans.answer == ANFU_BANK_DECLINED ? ANFU_BANK_EV_DECLINED
						  : ANFU_BANK_EV_NO_ANSWER;
	a.reason = ans.answer == ANFU_BANK_DECLINED    ? (ans.reason[0] ? ans.reason : "declined")
		   : ans.answer == ANFU_BANK_NO_ANSWER ? "no_answer"
						       : "";
	a.bank_ref = ans.bank_ref;
	r = anfu_ledger_run_weighted(b->ledger, actor, wd_answer_tx, &a, WD_WEIGHT,
				     anfu_clock_mono_us() / 1000 + WD_DEADLINE_MS);
out:
	anfu_free_secret(number);
	if (r < 0)
		anfu_log_error("bank.withdraw",
			       "%s: the credit was not sent or its answer not recorded (%s): "
			       "the send and query jobs resolve it",
			       id, anfu_strerror(r));
	free(c);
	return r;
}

/* Ids of the withdrawals a send run takes. */
struct wd_due {
	char id[ANFU_LIMIT_BANK_QUERY_BATCH][ANFU_ID_MAX];
	size_t n;
};

static int wd_due_row(void *ud, const struct anfu_row *row)
{
	struct wd_due *d = ud;

	if (d->n >= ANFU_LIMIT_BANK_QUERY_BATCH)
		return 1;
	if (col(row, 0, d->id[d->n], ANFU_ID_MAX) < 0)
		return ANFU_ESCHEMA;
	d->n++;
	return 0;
}

int anfu_bank_withdraw_send_due(struct anfu_bank *b, struct anfu_bank_send_report *ret)
{
	struct anfu_bank_send_report rep = { 0 };
	struct wd_due *d = NULL;
	struct anfu_db *db = NULL;
	int r;

	if (!b || !ret)
		return ANFU_EINVAL;
	if (!b->ops) {
		*ret = rep;
		return 0;
	}
	d = anfu_xcalloc(1, sizeof(*d));
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PI(anfu_clock_now_ms()),
						ANFU_PI(ANFU_LIMIT_BANK_QUERY_BATCH) };

		r = anfu_db_exec(db,
				 "SELECT id FROM bank_withdrawal WHERE state = 'approved' AND "
				 "payment_id = '' AND send_after_ms <= $1 ORDER BY send_after_ms, "
				 "id LIMIT $2",
				 p, 2, wd_due_row, d, NULL);
	}
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		bool sent = false;

		rep.due++;
		/* One that fails is logged and taken again by the next run. */
		(void)wd_send(b, &bank_system_actor, d->id[i], &sent);
		rep.sent += sent;
	}
	free(d);
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}

/* ---- the bank's report (bank/result.c's command) ----------------------------- */

int bank_wd_on_result(struct anfu_bank *b, struct anfu_tx *tx, const struct anfu_bank_payment *p,
		      enum anfu_bank_event ev)
{
	struct anfu_bank_withdrawal w;
	const char *to = NULL;
	int r = wd_of_payment(tx, p, &w);

	if (r == ANFU_ENOTFOUND) {
		anfu_log_error("bank.withdraw", "credit %s has no withdrawal", p->id);
		return 0;
	}
	if (r < 0)
		return r;
	switch (ev) {
	case ANFU_BANK_EV_CONFIRMED: return wd_end(b, tx, &w, ANFU_BANK_WD_CONFIRMED);
	case ANFU_BANK_EV_FAILED:
		(void)anfu_strlcpy(w.reason, "bank_failed", sizeof(w.reason));
		return wd_end(b, tx, &w, ANFU_BANK_WD_RETURNED);
	case ANFU_BANK_EV_NOT_AT_BANK:
		(void)anfu_strlcpy(w.reason, "not_at_bank", sizeof(w.reason));
		return wd_end(b, tx, &w, ANFU_BANK_WD_DECLINED);
	case ANFU_BANK_EV_SENT: return wd_move(tx, &w, ANFU_BANK_WD_SENT, NULL, &to);
	default: return 0;
	}
}

/* ---- the request ---------------------------------------------------------------- */

int anfu_bank_withdraw(struct anfu_bank *b, const struct anfu_actor *actor, const char *card_id,
		       int64_t amount, const char *request_id, struct anfu_bank_withdrawal *ret,
		       bool *ret_existed, const char **ret_refusal)
{
	struct wd_add *a = NULL;
	char *number = NULL;
	int r;

	if (!b || !actor || !actor->id || !card_id || !request_id || !ret || !ret_existed ||
	    !ret_refusal || amount <= 0)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	a = anfu_xcalloc(1, sizeof(*a));
	a->b = b;
	/* The customer's own bound card (not_found, card_not_bound). */
	r = bank_card_for_payment(b, actor->id, card_id, a->w.card_masked, &number, ret_refusal);
	anfu_free_secret(number);
	if (r < 0 || *ret_refusal)
		goto out;
	r = anfu_id_new("bwd", a->w.id, sizeof(a->w.id));
	if (r == 0)
		r = anfu_strlcpy(a->w.request_id, request_id, sizeof(a->w.request_id));
	if (r < 0)
		goto out;
	(void)anfu_strlcpy(a->w.user_id, actor->id, sizeof(a->w.user_id));
	(void)anfu_strlcpy(a->w.card_id, card_id, sizeof(a->w.card_id));
	(void)anfu_strlcpy(a->w.state, "submitted", sizeof(a->w.state));
	a->w.amount = amount;
	a->w.created_ms = a->w.updated_ms = anfu_clock_now_ms();
	a->day = anfu_bank_day_cn(a->w.created_ms);
	r = anfu_ledger_run_weighted(b->ledger, actor, wd_add_tx, a, WD_WEIGHT,
				     anfu_clock_mono_us() / 1000 + WD_DEADLINE_MS);
	if (r < 0 || a->refusal) {
		*ret_refusal = a->refusal;
		goto out;
	}
	if (!a->existed && strcmp(a->w.state, "approved") == 0) {
		bool sent;

		/* An error, or a send not due yet: the send job's. */
		(void)wd_send(b, actor, a->w.id, &sent);
	}
	/* As committed: the credit's answer, or a callback, may have moved it. */
	r = anfu_bank_withdrawal_get(b, actor->id, a->w.id, ret);
	if (r == 0)
		*ret_existed = a->existed;
out:
	free(a);
	return r;
}

/* ---- the operators' decision -------------------------------------------------- */

struct wd_decide {
	struct anfu_bank *b;
	const char *id, *actor_id, *reason;
	bool approve, send;
	struct anfu_bank_withdrawal w;
	const char *refusal;
};

static int wd_decide_tx(struct anfu_tx *tx, void *ud)
{
	struct wd_decide *d = ud;
	const struct anfu_param p[] = { ANFU_PS(d->id) };
	const char *to = NULL;
	int r = wd_one(anfu_tx_db(tx), "w.id = $1", p, 1, &d->w);

	if (r == ANFU_ENOTFOUND) {
		d->refusal = ANFU_R_NOT_FOUND;
		return 0;
	}
	if (r < 0)
		return r;
	if (strcmp(d->w.state, "review") != 0) {
		d->refusal = ANFU_R_BANK_WITHDRAW_NOT_IN_REVIEW;
		return 0;
	}
	if (!d->approve) {
		if (anfu_strlcpy(d->w.reason, d->reason, sizeof(d->w.reason)) < 0)
			return ANFU_EINVAL;
		(void)anfu_strlcpy(d->w.checker_id, d->actor_id, sizeof(d->w.checker_id));
		return wd_end(d->b, tx, &d->w, ANFU_BANK_WD_REJECT);
	}
	if (strcmp(d->w.review, "dual") == 0 && d->w.maker_id[0] == '\0') {
		(void)anfu_strlcpy(d->w.maker_id, d->actor_id, sizeof(d->w.maker_id));
		return wd_move(tx, &d->w, ANFU_BANK_WD_MAKER_APPROVE, "maker_approved", &to);
	}
	if (strcmp(d->w.maker_id, d->actor_id) == 0) {
		d->refusal = ANFU_R_BANK_WITHDRAW_CHECKER_IS_MAKER;
		return 0;
	}
	(void)anfu_strlcpy(d->w.checker_id, d->actor_id, sizeof(d->w.checker_id));
	r = wd_approve(d->b, tx, &d->w, ANFU_BANK_WD_APPROVE);
	d->send = r == 0;
	return r;
}

int anfu_bank_withdraw_decide(struct anfu_bank *b, const struct anfu_actor *actor, const char *id,
			      bool approve, const char *reason, struct anfu_bank_withdrawal *ret,
			      const char **ret_refusal)
{
	struct wd_decide *d;
	int r;

	if (!b || !actor || !actor->id || !id || !ret || !ret_refusal || (!approve && !reason))
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	d = anfu_xcalloc(1, sizeof(*d));
	*d = (struct wd_decide){
		.b = b, .id = id, .actor_id = actor->id, .reason = reason, .approve = approve
	};
	r = anfu_ledger_run_weighted(b->ledger, actor, wd_decide_tx, d, WD_WEIGHT,
				     anfu_clock_mono_us() / 1000 + WD_DEADLINE_MS);
	if (r < 0 || d->refusal) {
		*ret_refusal = d->refusal;
		goto out;
	}
	if (d->send) {
		bool sent;

		(void)wd_send(b, actor, id, &sent);
	}
	r = anfu_bank_withdrawal_get(b, NULL, id, ret);
out:
	free(d);
	return r;
}

/* ---- refund credits ------------------------------------------------------------- */

static int card_of_row(void *ud, const struct anfu_row *row)
{
	struct anfu_bank_withdrawal *w = ud;

	if (col(row, 0, w->card_id, sizeof(w->card_id)) < 0 ||
	    col(row, 1, w->card_masked, sizeof(w->card_masked)) < 0)
		return ANFU_ESCHEMA;
	return 1;
}

/* The hold of refund credit a->w on c->account_id with, first and linked
 * (both or neither), the fee given back to that account: one chain, so
 * the hold may use the fee back. A ledger refusal is a->refusal. */
static int refund_hold(struct wd_add *a, struct anfu_tx *tx,
		       const struct anfu_bank_refund_credit *c, char ret_fee_id[ANFU_ID_MAX])
{
	char fkey[ANFU_ID_MAX + 16], hkey[ANFU_ID_MAX + 16];
	struct anfu_ledger_result res[2];
	int r;

	if (c->fee_back == 0)
		return wd_hold_on(a, tx, c->account_id);
	(void)snprintf(fkey, sizeof(fkey), "wd.fee_back.%s", a->w.id);
	(void)snprintf(hkey, sizeof(hkey), "wd.hold.%s", a->w.id);
	{
		const struct anfu_ledger_transfer t[2] = {
			{ .idem_key = fkey,
			  .debit_account = c->fee_account,
			  .credit_account = c->account_id,
			  .amount = c->fee_back,
			  .asset = "CNY",
			  .code = "fee_refund",
			  .ref = c->ref,
			  .flags = ANFU_LEDGER_TRF_LINKED },
			{ .idem_key = hkey,
			  .debit_account = c->account_id,
			  .credit_account = a->b->clearing_id,
			  .amount = a->w.amount,
			  .asset = "CNY",
			  .code = "withdrawal",
			  .ref = a->w.id,
			  .flags = ANFU_LEDGER_TRF_PENDING },
		};

		memset(res, 0, sizeof(res));
		r = anfu_ledger_submit_in(tx, "bank", t, 2, res);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < 2; i++)
		if (res[i].code &&
		    (!a->refusal || strcmp(res[i].code, ANFU_R_LEDGER_LINKED_EVENT_FAILED) != 0))
			a->refusal = res[i].code;
	if (a->refusal)
		return 0;
	(void)anfu_strlcpy(ret_fee_id, res[0].id, ANFU_ID_MAX);
	(void)anfu_strlcpy(a->w.hold_id, res[1].id, sizeof(a->w.hold_id));
	return 0;
}

int anfu_bank_refund_credit_in(struct anfu_bank *b, struct anfu_tx *tx,
			       const struct anfu_bank_refund_credit *c,
			       struct anfu_bank_withdrawal *ret, char ret_fee_id[ANFU_ID_MAX],
			       const char **ret_refusal)
{
	struct wd_add *a = NULL;
	int r;

	if (!b || !tx || !c || !c->refund_id || !c->user_id || !c->account_id || c->amount < 1 ||
	    c->fee_back < 0 || c->attempt < 0 ||
	    (c->fee_back > 0 && (!c->fee_account || !c->ref)) || !ret || !ret_fee_id ||
	    !ret_refusal)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (!b->ops) {
		*ret_refusal = ANFU_R_BANK_UNAVAILABLE;
		return 0;
	}
	a = anfu_xcalloc(1, sizeof(*a));
	a->b = b;
	{
		const struct anfu_param p[] = { ANFU_PS(c->user_id),
						ANFU_PS(c->card_id ? c->card_id : "") };

		/* The card named, or the newest: never another user's, never
		 * one that is not bound (now, in this command). */
		r = anfu_db_exec(anfu_tx_db(tx),
				 "SELECT id, masked FROM bank_card WHERE user_id = $1 AND state = "
				 "'bound' AND ($2 = '' OR id = $2) ORDER BY bound_ms DESC, id DESC"
				 " LIMIT 1",
				 p, 2, card_of_row, &a->w, NULL);
	}
	if (r < 0)
		goto out;
	if (!a->w.card_id[0]) {
		*ret_refusal = ANFU_R_BANK_CARD_NOT_BOUND;
		goto out;
	}
	r = anfu_id_new("bwd", a->w.id, sizeof(a->w.id));
	/* ':' is no customer's request id: a refund's never meets one. A
	 * re-send is a request of its own (the bank takes one per id). */
	if (r == 0 &&
	    (c->attempt > 1 ? snprintf(a->w.request_id, sizeof(a->w.request_id),
				       "refund:%s:%" PRId64, c->refund_id, c->attempt)
			    : snprintf(a->w.request_id, sizeof(a->w.request_id), "refund:%s",
				       c->refund_id)) >= (int)sizeof(a->w.request_id))
		r = ANFU_EINVAL;
	if (r == 0)
		r = anfu_strlcpy(a->w.user_id, c->user_id, sizeof(a->w.user_id));
	if (r == 0)
		r = anfu_strlcpy(a->w.hold_account, c->account_id, sizeof(a->w.hold_account));
	if (r == 0)
		r = anfu_strlcpy(a->w.refund_id, c->refund_id, sizeof(a->w.refund_id));
	if (r < 0)
		goto out;
	(void)anfu_strlcpy(a->w.state, "submitted", sizeof(a->w.state));
	(void)anfu_strlcpy(a->w.review, "auto", sizeof(a->w.review));
	a->w.amount = c->amount;
	a->w.created_ms = a->w.updated_ms = anfu_clock_now_ms();
	a->day = anfu_bank_day_cn(a->w.created_ms);
	ret_fee_id[0] = '\0';
	r = refund_hold(a, tx, c, ret_fee_id);
	if (r < 0 || a->refusal) {
		*ret_refusal = a->refusal; /* nothing written: the hold was refused */
		goto out;
	}
	r = wd_insert(a, tx);
	if (r == 0)
		r = wd_approve(b, tx, &a->w, ANFU_BANK_WD_AUTO_APPROVE);
	if (r == 0)
		*ret = a->w;
out:
	free(a);
	return r;
}

int anfu_bank_refund_credit_get_in(struct anfu_bank *b, struct anfu_tx *tx, const char *id,
				   struct anfu_bank_withdrawal *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id) };

	if (!b || !tx || !id || !ret)
		return ANFU_EINVAL;
	return wd_one(anfu_tx_db(tx), "w.id = $1 AND w.refund_id <> ''", p, 1, ret);
}

void anfu_bank_withdraw_send(struct anfu_bank *b, const struct anfu_actor *actor, const char *id)
{
	bool sent;

	if (b && actor && id && b->ops)
		(void)wd_send(b, actor, id, &sent);
}

void anfu_bank_set_refund_hook(struct anfu_bank *b, anfu_bank_refund_fn fn, void *ud)
{
	if (!b)
		return;
	b->refund_hook = fn;
	b->refund_ud = ud;
}
