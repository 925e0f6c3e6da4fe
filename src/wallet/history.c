/*
 * wallet/history: a customer's transaction history and balance
 * (FUNC-PAY-15): the ledger rows of their CNY wallet, newest first, each
 * with its time, type, direction, amount, masked counterparty and the
 * posted balance after it.
 *
 * The balance after each row is computed by the ledger's statement
 * (ledger/statement.c) backwards from the balance now, in one read
 * snapshot; a page's cursor is MAC'd with the master key's purpose
 * "wallet.history", bound to the customer.
 * Trusts the ledger's rows; a cursor only once its MAC checks.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tx/tx.h"
#include "keys/keys.h"
#include "wallet/internal.h"
#include "wallet/wallet.h"

_Static_assert(ANFU_WALLET_CURSOR_MAX == ANFU_LEDGER_STATEMENT_CURSOR_MAX,
	       "a wallet history cursor is a ledger statement's");

/* The cursors' MAC: the master key's purpose "wallet.history". */
static int history_mac(void *ud, const char *text, size_t len, uint8_t out[32])
{
	struct anfu_wallet *w = ud;

	return anfu_keys_mac(w->keys, "wallet.history", text, len, out);
}

struct party_row {
	bool found;
	char payer[ANFU_ID_MAX];
	char payer_shown[ANFU_MASK_MAX], payee_shown[ANFU_MASK_MAX];
	char memo[ANFU_LIMIT_WALLET_MEMO_BYTES + 1];
};

static int party_row_fn(void *ud, const struct anfu_row *r)
{
	struct party_row *m = ud;
	const char *s[6];

	for (int i = 0; i < 6; i++) {
		s[i] = anfu_row_text(r, i, NULL);
		if (!s[i])
			s[i] = "";
	}
	m->found = true;
	(void)anfu_strlcpy(m->payer, s[0], sizeof(m->payer));
	(void)anfu_strlcpy(m->payer_shown, s[1][0] ? s[1] : s[2], sizeof(m->payer_shown));
	(void)anfu_strlcpy(m->payee_shown, s[3][0] ? s[3] : s[4], sizeof(m->payee_shown));
	(void)anfu_strlcpy(m->memo, s[5], sizeof(m->memo));
	return 1;
}

/* The masked counterparty (and memo) of row e of user_id: a wallet
 * transfer's other party as masked when it ran; else the other account's
 * owner (a bank, the platform). */
static int describe(struct anfu_wallet *w, struct anfu_db *db, const char *user_id,
		    const struct anfu_ledger_entry *e, struct anfu_wallet_entry *out)
{
	struct anfu_ledger_account other;
	int r;

	if (strcmp(e->code, "transfer") == 0 && e->ref[0]) {
		struct anfu_param p[1] = { ANFU_PS(e->ref) };
		struct party_row m;

		memset(&m, 0, sizeof(m));
		r = anfu_db_exec(
			db,
			"SELECT payer_id, payer_name, payer_login, payee_name, payee_login,"
			" memo FROM wallet_transfer WHERE id = $1",
			p, 1, party_row_fn, &m, NULL);
		if (r < 0 || m.found) {
			(void)anfu_strlcpy(out->counterparty,
					   strcmp(m.payer, user_id) == 0 ? m.payee_shown
									 : m.payer_shown,
					   sizeof(out->counterparty));
			(void)anfu_strlcpy(out->memo, m.memo, sizeof(out->memo));
			return r;
		}
	}
	r = anfu_ledger_account_get(w->ledger, e->debit ? e->credit_account : e->debit_account,
				    &other);
	if (r == ANFU_ENOTFOUND) {
		(void)anfu_strlcpy(out->counterparty, "***", sizeof(out->counterparty));
		return 0;
	}
	if (r == 0)
		(void)snprintf(out->counterparty, sizeof(out->counterparty), "%s:%s",
			       other.owner_type, other.owner_id);
	return r;
}

static bool type_matches(const char *want, const char *type)
{
	return !want || !want[0] || strcmp(want, type) == 0;
}

struct history_walk {
	struct anfu_wallet *w;
	struct anfu_db *db;
	const struct anfu_wallet_history_req *req;
	struct anfu_wallet_entry *out;
};

/* The statement's row function (anfu_ledger_row_fn): fills out[index]
 * from e; *ret_keep: it passes the filters. */
static int entry_from(void *ud, const struct anfu_ledger_entry *e, int64_t balance_after,
		      size_t index, bool *ret_keep)
{
	struct history_walk *h = ud;
	struct anfu_wallet_entry *out = &h->out[index];

	memset(out, 0, sizeof(*out));
	(void)anfu_strlcpy(out->id, e->id, sizeof(out->id));
	out->time_ms = e->ts_us / 1000;
	out->credit = !e->debit;
	out->pending = (e->flags & ANFU_LEDGER_TRF_PENDING) != 0;
	out->amount = e->amount;
	out->balance = balance_after;
	if (strcmp(e->code, "transfer") == 0)
		(void)anfu_strlcpy(out->type, e->debit ? "transfer_out" : "transfer_in",
				   sizeof(out->type));
	else
		(void)anfu_strlcpy(out->type, e->code, sizeof(out->type));
	*ret_keep = anfu_ledger_entry_shown(e) && type_matches(h->req->type, out->type);
	return *ret_keep ? describe(h->w, h->db, h->req->user_id, e, out) : 0;
}

static int history_read(struct anfu_wallet *w, struct anfu_db *db,
			const struct anfu_wallet_history_req *req, struct anfu_wallet_entry *out,
			size_t *ret_n, char next[ANFU_WALLET_CURSOR_MAX])
{
	struct anfu_ledger_account acc;
	struct history_walk h = { w, db, req, out };
	struct anfu_ledger_statement_req q = {
		.scope = req->user_id,
		.cursor = req->cursor,
		.from_ms = req->from_ms,
		.to_ms = req->to_ms,
		.limit = req->limit,
		.scan_max = ANFU_LIMIT_WALLET_HISTORY_SCAN,
		.mac = history_mac,
		.mac_ud = w,
		.row = entry_from,
		.row_ud = &h,
	};
	int r = wallet_account(w, req->user_id, &acc);

	if (r < 0)
		return r;
	q.account = acc.id;
	return anfu_ledger_statement(w->ledger, &q, acc.credits_posted - acc.debits_posted, ret_n,
				     next);
}

int anfu_wallet_history(struct anfu_wallet *w, const struct anfu_wallet_history_req *req,
			struct anfu_wallet_entry *out, size_t cap, size_t *ret_n,
			char next[ANFU_WALLET_CURSOR_MAX])
{
	struct anfu_db *db = NULL;
	int r;

	if (!w || !req || !req->user_id || !out || !ret_n || !next || req->limit < 1 ||
	    req->limit > ANFU_LIMIT_WALLET_HISTORY || cap < req->limit)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(w->tx), &db);
	/* One snapshot: the balance now and the rows below it agree. */
	if (r == 0)
		r = anfu_db_begin_read(db);
	if (r < 0)
		return r;
	r = history_read(w, db, req, out, ret_n, next);
	(void)anfu_db_end_read(db);
	return r;
}

int anfu_wallet_balance(struct anfu_wallet *w, const char *user_id, struct anfu_wallet_balance *ret)
{
	struct anfu_ledger_account a;
	int r;

	if (!w || !user_id || !ret)
		return ANFU_EINVAL;
	r = wallet_account(w, user_id, &a);
	if (r < 0)
		return r;
	ret->posted = a.credits_posted - a.debits_posted;
	ret->held = a.debits_pending;
	ret->incoming = a.credits_pending;
	ret->available = ret->posted - ret->held;
	(void)anfu_strlcpy(ret->state, a.state, sizeof(ret->state));
	return 0;
}
