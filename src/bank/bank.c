/*
 * bank/bank: the bank service: its ledger accounts, top-ups (bank
 * payments of kind debit), the bank's callbacks and the query job.
 *
 * Owns struct anfu_bank and the rows of bank_payment and bank_nonce.
 * Trusts the handlers for the decoded fields (amount range, card id
 * format), the connector for the bank's synchronous answers, and a
 * callback only once bank/wire.c's bytes verified under the bank's key.
 * A payment's state changes only by a row of bank/states.c; a confirmed
 * top-up's state change, ledger transfer, audit records and notice commit
 * in ONE writer command (anfu_ledger_run_weighted).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "bank/bank.h"
#include "bank/internal.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "jobs/jobs.h"
#include "ledger/ledger.h"
#include "notify/notify.h"
#include "store/store.h"
#include "tx/tx.h"

/* How long opening the bank's accounts at start may wait for the writer. */
#define OPEN_DEADLINE_MS 10000
/* How long a callback's or the job's writer command may wait. */
#define RUN_DEADLINE_MS 10000
/* Weight of a result command: one transfer, three records (the transfer's,
 * the payment's, the notice has none). */
#define RESULT_WEIGHT 4

const struct anfu_actor bank_system_actor = {
	.id = "system",
	.type = "system",
	.role = "",
	.ip = "",
	.device = "",
	.request_id = "",
};

void anfu_bank_identity_clear(struct anfu_bank_identity *id)
{
	if (!id)
		return;
	anfu_free_secret(id->real_name);
	anfu_free_secret(id->id_number);
	anfu_free_secret(id->phone);
	memset(id, 0, sizeof(*id));
}

static bool bank_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= ANFU_BANK_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

int anfu_bank_cutoff_parse(const char *s, int64_t *ret_ms)
{
	int h, m;

	if (!s || !ret_ms)
		return ANFU_EINVAL;
	if (strcmp(s, "none") == 0) {
		*ret_ms = -1;
		return 0;
	}
	for (int i = 0; i < 5; i++)
		if (i == 2 ? s[i] != ':' : !(s[i] >= '0' && s[i] <= '9'))
			return ANFU_EINVAL;
	if (s[5] != '\0')
		return ANFU_EINVAL;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return ANFU_EINVAL;
	*ret_ms = ((int64_t)h * 60 + m) * 60 * 1000;
	return 0;
}

static int open_account(struct anfu_bank *b, const char *kind, char *out)
{
	const struct anfu_ledger_account_spec s = { kind, "CNY", "bank", b->cfg->bank_id };
	struct anfu_ledger_account acc;
	int r = anfu_ledger_open(b->ledger, &bank_system_actor, &s,
				 anfu_clock_mono_us() / 1000 + OPEN_DEADLINE_MS, &acc);

	if (r == 0)
		memcpy(out, acc.id, sizeof(acc.id));
	return r;
}

/* The platform's fee income, where withdrawal fees go. */
static int open_fee_account(struct anfu_bank *b)
{
	const struct anfu_ledger_account_spec s = { "platform_fee", "CNY", "platform", "platform" };
	struct anfu_ledger_account acc;
	int r = anfu_ledger_open(b->ledger, &bank_system_actor, &s,
				 anfu_clock_mono_us() / 1000 + OPEN_DEADLINE_MS, &acc);

	if (r == 0)
		memcpy(b->fee_id, acc.id, sizeof(acc.id));
	return r;
}

int anfu_bank_new(const struct anfu_bank_deps *d, struct anfu_bank **ret)
{
	struct anfu_bank *b;
	int64_t cutoff;
	int r;

	if (!d || !d->cfg || !d->tx || !d->ledger || !d->vault || !d->identity || !ret ||
	    !bank_id_ok(d->cfg->bank_id) ||
	    anfu_bank_cutoff_parse(d->cfg->withdraw_cutoff, &cutoff) < 0)
		return ANFU_EINVAL;
	b = anfu_xcalloc(1, sizeof(*b));
	b->cfg = d->cfg;
	b->cutoff_ms = cutoff;
	b->tx = d->tx;
	b->ledger = d->ledger;
	b->vault = d->vault;
	b->notify = d->notify;
	b->ops = d->ops;
	b->bank_pub = d->bank_pub;
	b->identity = d->identity;
	b->identity_ud = d->identity_ud;
	b->notice = d->notice;
	b->notice_ud = d->notice_ud;
	/* No bank connected, no bank accounts: nothing can move money then. */
	r = b->ops ? open_account(b, "bank_reserve", b->reserve_id) : 0;
	if (r == 0 && b->ops)
		r = open_account(b, "bank_clearing", b->clearing_id);
	if (r == 0 && b->ops)
		r = open_fee_account(b);
	if (r < 0) {
		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void anfu_bank_free(struct anfu_bank *b)
{
	free(b);
}

const char *anfu_bank_id(const struct anfu_bank *b)
{
	return b->cfg->bank_id;
}

/* ---- payment rows ------------------------------------------------------- */

#define PAY_COLS                                                                         \
	"p.id, p.serial, p.kind, p.user_id, p.card_id, c.masked, p.amount, p.currency, " \
	"p.state, p.client_request_id, p.reason, p.transfer_id, p.created_ms, p.updated_ms"
#define PAY_FROM " FROM bank_payment p JOIN bank_card c ON c.id = p.card_id "

struct pay_list {
	struct anfu_bank_payment *out;
	size_t cap, n;
};

static int copy_col(const struct anfu_row *row, int col, char *out, size_t cap)
{
	const char *s = anfu_row_text(row, col, NULL);

	return anfu_strlcpy(out, s ? s : "", cap) < 0 ? ANFU_ESCHEMA : 0;
}

static int pay_row(void *ud, const struct anfu_row *row)
{
	struct pay_list *l = ud;
	struct anfu_bank_payment *p;
	int r;

	if (l->n >= l->cap)
		return 1;
	p = &l->out[l->n];
	memset(p, 0, sizeof(*p));
	r = copy_col(row, 0, p->id, sizeof(p->id));
	if (r == 0)
		r = copy_col(row, 1, p->serial, sizeof(p->serial));
	if (r == 0)
		r = copy_col(row, 2, p->kind, sizeof(p->kind));
	if (r == 0)
		r = copy_col(row, 3, p->user_id, sizeof(p->user_id));
	if (r == 0)
		r = copy_col(row, 4, p->card_id, sizeof(p->card_id));
	if (r == 0)
		r = copy_col(row, 5, p->card_masked, sizeof(p->card_masked));
	if (r == 0)
		r = copy_col(row, 7, p->currency, sizeof(p->currency));
	if (r == 0)
		r = copy_col(row, 8, p->state, sizeof(p->state));
	if (r == 0)
		r = copy_col(row, 9, p->client_request_id, sizeof(p->client_request_id));
	if (r == 0)
		r = copy_col(row, 10, p->reason, sizeof(p->reason));
	if (r == 0)
		r = copy_col(row, 11, p->transfer_id, sizeof(p->transfer_id));
	if (r < 0)
		return r;
	p->amount = anfu_row_int(row, 6);
	p->created_ms = anfu_row_int(row, 12);
	p->updated_ms = anfu_row_int(row, 13);
	l->n++;
	return 0;
}

/* One payment by a column (id / serial / the request id of a user). */
static int pay_one(struct anfu_db *db, const char *where, const struct anfu_param *p, size_t np,
		   struct anfu_bank_payment *ret)
{
	char sql[512];
	struct anfu_bank_payment one;
	struct pay_list l = { &one, 1, 0 };
	int r;

	(void)snprintf(sql, sizeof(sql), "SELECT " PAY_COLS PAY_FROM "WHERE %s", where);
	r = anfu_db_exec(db, sql, p, np, pay_row, &l, NULL);
	if (r < 0)
		return r;
	if (l.n == 0)
		return ANFU_ENOTFOUND;
	*ret = one;
	return 0;
}

int bank_payment_by_serial(struct anfu_db *db, const char *serial, struct anfu_bank_payment *ret)
{
	const struct anfu_param p[] = { ANFU_PS(serial) };

	return pay_one(db, "p.serial = $1", p, 1, ret);
}

int bank_payment_by_id(struct anfu_db *db, const char *id, struct anfu_bank_payment *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id) };

	return pay_one(db, "p.id = $1", p, 1, ret);
}

/* The payment of a user's request id (idempotency). */
int bank_payment_by_request(struct anfu_db *db, const char *user_id, const char *req_id,
			    struct anfu_bank_payment *ret)
{
	const struct anfu_param p[] = { ANFU_PS(user_id), ANFU_PS(req_id) };

	return pay_one(db, "p.user_id = $1 AND p.kind = 'debit' AND p.client_request_id = $2", p, 2,
		       ret);
}

int anfu_bank_payment_get(struct anfu_bank *b, const char *user_id, const char *id,
			  struct anfu_bank_payment *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(user_id) };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !user_id || !id || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r < 0)
		return r;
	return pay_one(db, "p.id = $1 AND p.user_id = $2", p, 2, ret);
}

int anfu_bank_payments_list(struct anfu_bank *b, const char *user_id, struct anfu_bank_payment *out,
			    size_t cap, size_t *ret_n)
{
	struct pay_list l = { out, cap < ANFU_BANK_PAYMENTS_MAX ? cap : ANFU_BANK_PAYMENTS_MAX, 0 };
	const struct anfu_param p[] = { ANFU_PS(user_id), ANFU_PI(l.cap) };
	struct anfu_db *db = NULL;
	int r;

	if (!b || !user_id || (!out && cap) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " PAY_COLS PAY_FROM
				 "WHERE p.user_id = $1 AND p.kind = 'debit' "
				 "ORDER BY p.created_ms DESC, p.id DESC LIMIT $2",
				 p, 2, pay_row, &l, NULL);
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

/* Moves payment p (read in this transaction) by ev: the row and its
 * audit record "bank.payment.<new state>". *ret_to: the new state, or
 * NULL when the table has no row for ev (nothing written). */
int bank_payment_move(struct anfu_tx *tx, struct anfu_bank_payment *p, enum anfu_bank_event ev,
		      const char *reason, const char *bank_ref, const char **ret_to)
{
	const char *to = anfu_bank_transition(p->state, ev);
	int64_t now = anfu_clock_now_ms(), changes = 0;
	char action[48];
	int r;

	*ret_to = NULL;
	if (!to)
		return 0;
	{
		const struct anfu_param q[] = { ANFU_PS(to),
						ANFU_PS(reason ? reason : p->reason),
						ANFU_PS(bank_ref ? bank_ref : ""),
						ANFU_PS(p->transfer_id),
						ANFU_PI(now),
						ANFU_PS(p->id),
						ANFU_PS(p->state) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "UPDATE bank_payment SET state = $1, reason = $2, "
				 "bank_ref = CASE WHEN $3 = '' THEN bank_ref ELSE $3 END, "
				 "transfer_id = $4, updated_ms = $5 WHERE id = $6 AND state = $7",
				 q, 7, NULL, NULL, &changes);
	}
	if (r < 0)
		return r;
	if (changes != 1)
		return ANFU_ECONFLICT; /* moved meanwhile: the caller's read was stale */
	(void)snprintf(action, sizeof(action), "bank.payment.%s", to);
	r = anfu_tx_audit(tx, action, "bank_payment", p->id, "success",
			  json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "serial", p->serial, "kind",
				    p->kind, "from", p->state, "amount", (json_int_t)p->amount,
				    "reason", reason ? reason : "", "transfer_id", p->transfer_id));
	if (r < 0)
		return r;
	(void)anfu_strlcpy(p->state, to, sizeof(p->state));
	if (reason)
		(void)anfu_strlcpy(p->reason, reason, sizeof(p->reason));
	p->updated_ms = now;
	*ret_to = to;
	return 0;
}

/* Amount as "123.45" (fen, >= 0). */
static void yuan(int64_t fen, char out[32])
{
	(void)snprintf(out, 32, "%" PRId64 ".%02" PRId64, fen / 100, fen % 100);
}

/* The customer's notice of a top-up's end (succeeded or failed), queued
 * in tx (zh-CN and English in one message, as iam's notices). */
int bank_notify_topup(struct anfu_bank *b, struct anfu_tx *tx, const struct anfu_bank_payment *p,
		      const char *phone)
{
	char text[320], amount[32];
	const char *last4 =
		p->card_masked + (strlen(p->card_masked) >= 4 ? strlen(p->card_masked) - 4 : 0);
	bool ok = strcmp(p->state, "succeeded") == 0;

	if (!b->notify || !phone || !phone[0])
		return 0;
	yuan(p->amount, amount);
	(void)snprintf(text, sizeof(text),
		       ok ? "【安付】您尾号%s的银行卡充值%s元已到账。Top-up of CNY %s from card "
			    "ending %s has arrived in your wallet."
			  : "【安付】您尾号%s的银行卡充值%s元未成功，钱包余额未变。Top-up of CNY "
			    "%s from card ending %s failed; your wallet was not changed.",
		       last4, amount, amount, last4);
	return anfu_notify_enqueue(b->notify, tx, ANFU_CHANNEL_SMS, p->user_id, phone,
				   ok ? "bank.topup_succeeded" : "bank.topup_failed", NULL, text);
}
