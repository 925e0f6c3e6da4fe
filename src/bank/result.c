/*
 * bank/result: what the bank reports about a payment, by signed callback
 * or by the query job, applied in one ledger writer command: the nonce
 * (callbacks), the payment's move by the state table, on a confirmed
 * top-up the transfer bank_reserve -> customer_wallet, on a withdrawal's
 * credit the withdrawal's move (bank/withdraw.c), the audit records
 * and the customer's notice.
 *
 * Owns nothing beyond the rows it writes. Trusts a callback's content only
 * after its signature verified under the configured bank key, its
 * timestamp is in the window and its nonce is new; a query's answer comes
 * from the connector over the pinned TLS connection.
 */
#include <stdlib.h>
#include <string.h>

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
#include "store/store.h"
#include "tx/tx.h"

#define RUN_DEADLINE_MS 10000
/* A result command: a top-up's transfer and its record, or a
 * withdrawal's three transfers and records and its own record; the
 * payment's record, the nonce's none; a refund credit's refund hook
 * (pay: a transfer, three records and the payer's notice). */
#define RESULT_WEIGHT 13

struct result {
	struct anfu_bank *b;
	const char *serial;
	enum anfu_bank_event ev;
	int64_t amount; /* 0: not reported (a query of an unknown serial) */
	const char *bank_ref, *nonce, *phone;
	int64_t nonce_ts;
	const char *refusal;
	bool moved;
};

/* The wallet credit of a confirmed top-up, in the command's transaction. */
static int credit_wallet(struct result *a, struct anfu_tx *tx, struct anfu_bank_payment *p)
{
	const struct anfu_ledger_account_spec s = { "customer_wallet", "CNY", "customer",
						    p->user_id };
	struct anfu_ledger_account wallet;
	struct anfu_ledger_result res = { 0 };
	struct anfu_ledger_transfer t = { 0 };
	char key[ANFU_ID_MAX + 8];
	int r = anfu_ledger_account_find(a->b->ledger, &s, &wallet);

	if (r < 0)
		return r;
	memcpy(key, "topup.", 6);
	(void)anfu_strlcpy(key + 6, p->id, sizeof(key) - 6);
	t.idem_key = key;
	t.debit_account = a->b->reserve_id;
	t.credit_account = wallet.id;
	t.amount = p->amount;
	t.asset = "CNY";
	t.code = "top_up";
	t.ref = p->id;
	r = anfu_ledger_submit_in(tx, "bank", &t, 1, &res);
	if (r < 0)
		return r;
	if (res.code) {
		anfu_log_error("bank.result", "%s: the ledger refused the credit (%s)", p->id,
			       res.code);
		return ANFU_ECONFLICT;
	}
	(void)anfu_strlcpy(p->transfer_id, res.id, sizeof(p->transfer_id));
	return 0;
}

static int nonce_store(struct result *a, struct anfu_tx *tx)
{
	const struct anfu_param p[] = { ANFU_PS(a->b->cfg->bank_id), ANFU_PS(a->nonce),
					ANFU_PI(a->nonce_ts) };
	int r;

	if (!a->nonce)
		return 0;
	r = anfu_db_exec(anfu_tx_db(tx),
			 "INSERT INTO bank_nonce (bank_id, nonce, ts_ms) VALUES ($1, $2, $3)", p, 3,
			 NULL, NULL, NULL);
	if (r == ANFU_EEXIST)
		a->refusal = ANFU_R_BANK_REPLAYED;
	return r;
}

static int result_tx(struct anfu_tx *tx, void *ud)
{
	struct result *a = ud;
	struct anfu_bank_payment p;
	const char *to = NULL;
	int r = nonce_store(a, tx);

	if (r < 0)
		return r;
	r = bank_payment_by_serial(anfu_tx_db(tx), a->serial, &p);
	if (r == ANFU_ENOTFOUND) {
		a->refusal = ANFU_R_NOT_FOUND;
		return r;
	}
	if (r < 0)
		return r;
	if (a->amount && a->amount != p.amount && a->ev == ANFU_BANK_EV_CONFIRMED) {
		a->refusal = ANFU_R_BANK_AMOUNT_MISMATCH;
		return ANFU_ECONFLICT;
	}
	if (!anfu_bank_transition(p.state, a->ev))
		return 0; /* a duplicate or late report: nothing changes */
	if (a->ev == ANFU_BANK_EV_CONFIRMED && strcmp(p.kind, "debit") == 0) {
		r = credit_wallet(a, tx, &p);
		if (r < 0)
			return r;
	}
	if (strcmp(p.kind, "credit") == 0) {
		r = bank_wd_on_result(a->b, tx, &p, a->ev); /* a withdrawal's bank side */
		if (r < 0)
			return r;
	}
	r = bank_payment_move(tx, &p, a->ev,
			      a->ev == ANFU_BANK_EV_FAILED	  ? "bank_failed"
			      : a->ev == ANFU_BANK_EV_NOT_AT_BANK ? "not_at_bank"
								  : "",
			      a->bank_ref, &to);
	if (r == 0 && to && strcmp(p.kind, "debit") == 0 && anfu_bank_state_final(to))
		r = bank_notify_topup(a->b, tx, &p, a->phone);
	a->moved = r == 0 && to;
	return r;
}

/* The user of serial, for the notice's phone (read before the command:
 * never read iam on the writer's thread). */
static void phone_of(struct anfu_bank *b, const char *serial, struct anfu_bank_identity *who)
{
	struct anfu_bank_payment p;
	struct anfu_db *db = NULL;

	if (anfu_store_db(anfu_tx_exec_store(b->tx), &db) == 0 &&
	    bank_payment_by_serial(db, serial, &p) == 0)
		(void)b->identity(b->identity_ud, p.user_id, who);
}

int bank_apply_result(struct anfu_bank *b, const char *serial, enum anfu_bank_event ev,
		      int64_t amount, const char *bank_ref, const char *nonce, int64_t nonce_ts,
		      const char **ret_refusal)
{
	struct result a = { .b = b,
			    .serial = serial,
			    .ev = ev,
			    .amount = amount,
			    .bank_ref = bank_ref,
			    .nonce = nonce,
			    .nonce_ts = nonce_ts };
	struct anfu_bank_identity who = { 0 };
	int r;

	phone_of(b, serial, &who);
	a.phone = who.phone;
	r = anfu_ledger_run_weighted(b->ledger, &bank_system_actor, result_tx, &a, RESULT_WEIGHT,
				     anfu_clock_mono_us() / 1000 + RUN_DEADLINE_MS);
	anfu_bank_identity_clear(&who);
	if (a.refusal) {
		*ret_refusal = a.refusal;
		return 0;
	}
	*ret_refusal = NULL;
	return r;
}

/* ---- callbacks ------------------------------------------------------- */

static bool nonce_ok(const char *s)
{
	if (!s || strlen(s) != ANFU_BANK_NONCE_LEN)
		return false;
	for (size_t i = 0; i < ANFU_BANK_NONCE_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The signature of m under the bank's key: 0 or a refusal. */
static const char *signature_refusal(struct anfu_bank *b, const struct anfu_bank_callback_msg *m,
				     int64_t ts)
{
	uint8_t *sig = NULL;
	size_t siglen = 0, len = 0;
	char *bytes = NULL;
	const char *refusal = ANFU_R_BANK_SIGNATURE_INVALID;

	if (!b->bank_pub || !m->signature || !nonce_ok(m->nonce))
		return refusal;
	if (anfu_base64_decode(m->signature, strlen(m->signature), &sig, &siglen) < 0)
		return refusal;
	if (anfu_bank_wire_signed_bytes(m->method, m->path, ts, m->nonce, m->body, m->body_len,
					&bytes, &len) == 0 &&
	    anfu_verify(b->bank_pub, bytes, len, sig, siglen) == 0)
		refusal = NULL;
	free(bytes);
	free(sig);
	return refusal;
}

int anfu_bank_callback(struct anfu_bank *b, const struct anfu_bank_callback_msg *m,
		       const char **ret_refusal)
{
	struct anfu_bank_callback cb;
	long long ts = 0;
	int64_t now;

	if (!b || !m || !m->bank_id || !m->method || !m->path || !ret_refusal)
		return ANFU_EINVAL;
	*ret_refusal = NULL;
	if (strcmp(m->bank_id, b->cfg->bank_id) != 0) {
		*ret_refusal = ANFU_R_NOT_FOUND;
		return 0;
	}
	if (!m->timestamp ||
	    anfu_parse_i64((struct anfu_str){ m->timestamp, strlen(m->timestamp) }, &ts) < 0 ||
	    (*ret_refusal = signature_refusal(b, m, ts)) != NULL) {
		*ret_refusal = ANFU_R_BANK_SIGNATURE_INVALID;
		anfu_log_warn("bank.callback", "bank %s: a callback with a bad signature",
			      b->cfg->bank_id);
		return 0;
	}
	now = anfu_clock_now_ms();
	if (ts < now - b->cfg->callback_window_s * 1000 ||
	    ts > now + b->cfg->callback_window_s * 1000) {
		*ret_refusal = ANFU_R_BANK_REPLAYED;
		return 0;
	}
	if (anfu_bank_callback_parse(m->body, m->body_len, &cb) < 0) {
		*ret_refusal = ANFU_R_INVALID_REQUEST;
		return 0;
	}
	return bank_apply_result(b, cb.serial,
				 cb.status == ANFU_BANK_ST_SUCCEEDED ? ANFU_BANK_EV_CONFIRMED
								     : ANFU_BANK_EV_FAILED,
				 cb.amount, cb.bank_ref, m->nonce, ts, ret_refusal);
}

/* ---- the query job ------------------------------------------------------- */

struct due {
	char serial[ANFU_LIMIT_BANK_QUERY_BATCH][ANFU_BANK_SERIAL_MAX];
	size_t n;
};

static int due_row(void *ud, const struct anfu_row *row)
{
	struct due *d = ud;
	const char *s = anfu_row_text(row, 0, NULL);

	if (d->n >= ANFU_LIMIT_BANK_QUERY_BATCH)
		return 1;
	if (!s || anfu_strlcpy(d->serial[d->n], s, ANFU_BANK_SERIAL_MAX) < 0)
		return ANFU_ESCHEMA;
	d->n++;
	return 0;
}

/* Asks the bank about one payment and applies what it says. */
static int query_one(struct anfu_bank *b, const char *serial, struct anfu_bank_query_report *rep)
{
	enum anfu_bank_answer ans = ANFU_BANK_NO_ANSWER;
	struct anfu_bank_status_report st = { 0 };
	const char *refusal = NULL;
	enum anfu_bank_event ev;
	int r = b->ops->query(b->ops->ud, serial, &ans, &st);

	rep->queried++;
	if (r < 0 || ans != ANFU_BANK_ACCEPTED) {
		rep->unanswered++;
		return 0;
	}
	switch (st.status) {
	case ANFU_BANK_ST_SUCCEEDED: ev = ANFU_BANK_EV_CONFIRMED; break;
	case ANFU_BANK_ST_FAILED: ev = ANFU_BANK_EV_FAILED; break;
	case ANFU_BANK_ST_UNKNOWN: ev = ANFU_BANK_EV_NOT_AT_BANK; break;
	default:
		ev = ANFU_BANK_EV_SENT; /* unknown -> in_transit; in transit: no row */
		break;
	}
	r = bank_apply_result(b, serial, ev, st.status == ANFU_BANK_ST_UNKNOWN ? 0 : st.amount,
			      st.bank_ref, NULL, 0, &refusal);
	if (r == 0 && !refusal)
		rep->resolved += ev != ANFU_BANK_EV_SENT;
	if (refusal)
		anfu_log_error("bank.query", "%s: the bank's answer was refused (%s)", serial,
			       refusal);
	return r;
}

int anfu_bank_query_due(struct anfu_bank *b, struct anfu_bank_query_report *ret)
{
	struct anfu_bank_query_report rep = { 0 };
	struct due *d = NULL;
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
		/* A payment still created this long ago lost its answer to a
		 * crash between its row and the bank's answer: its send ended
		 * (timeout_ms) long before, so querying its serial cannot race
		 * the send (docs/bank.md, "The query job"). */
		int64_t now = anfu_clock_now_ms(), after = b->cfg->query_after_s * 1000;
		int64_t created_after =
			after > 2 * b->cfg->timeout_ms ? after : 2 * b->cfg->timeout_ms;
		const struct anfu_param p[] = { ANFU_PI(now - after),
						ANFU_PI(ANFU_LIMIT_BANK_QUERY_BATCH),
						ANFU_PI(now - created_after) };

		r = anfu_db_exec(db,
				 "SELECT serial FROM bank_payment WHERE (state IN ('in_transit', "
				 "'unknown') AND updated_ms <= $1) OR (state = 'created' AND "
				 "updated_ms <= $3) ORDER BY updated_ms LIMIT $2",
				 p, 3, due_row, d, NULL);
	}
	for (size_t i = 0; r == 0 && i < d->n; i++)
		r = query_one(b, d->serial[i], &rep);
	free(d);
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}
