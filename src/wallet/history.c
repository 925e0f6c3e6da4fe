/*
 * wallet/history: a customer's transaction history and balance
 * (FUNC-PAY-15): the ledger rows of their CNY wallet, newest first, each
 * with its time, type, direction, amount, masked counterparty and the
 * posted balance after it.
 *
 * The balance after each row is computed backwards from the balance now,
 * in one read snapshot; a page's cursor carries the ledger's cursor and
 * the balance after the next older row, with a keyed MAC (anfu_keys_mac,
 * purpose "wallet.history") so a client cannot make the server show
 * another balance.
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

#define MAC_CHARS 32

static int cursor_mac(struct anfu_wallet *w, const char *user_id, const char *lc, int64_t balance,
		      char out[MAC_CHARS + 1])
{
	char text[256], hex[2 * ANFU_HASH_LEN + 1];
	uint8_t mac[ANFU_HASH_LEN];
	int n = snprintf(text, sizeof(text), "%s|%s|%" PRId64, user_id, lc, balance);
	int r;

	if (n < 0 || (size_t)n >= sizeof(text))
		return ANFU_EINVAL;
	r = anfu_keys_mac(w->keys, "wallet.history", text, (size_t)n, mac);
	if (r == 0) {
		anfu_hex_encode(mac, sizeof(mac), hex);
		(void)anfu_strlcpy(out, hex, MAC_CHARS + 1);
	}
	return r;
}

static int cursor_make(struct anfu_wallet *w, const char *user_id, const char *lc,
		       int64_t balance, char out[ANFU_WALLET_CURSOR_MAX])
{
	char mac[MAC_CHARS + 1];
	int r = cursor_mac(w, user_id, lc, balance, mac);
	int n;

	if (r < 0)
		return r;
	n = snprintf(out, ANFU_WALLET_CURSOR_MAX, "%s.%" PRId64 ".%s", lc, balance, mac);
	return n < 0 || n >= ANFU_WALLET_CURSOR_MAX ? ANFU_ELIMIT : 0;
}

/* "<ledger cursor>.<balance>.<mac>": the ledger's part and the balance,
 * only when the MAC is this server's for this user. */
static int cursor_parse(struct anfu_wallet *w, const char *user_id, const char *c,
			char lc[ANFU_LEDGER_CURSOR_MAX], int64_t *ret_balance)
{
	const char *d1, *d2;
	char num[24], mac[MAC_CHARS + 1];
	long long v;
	size_t len = strnlen(c, ANFU_WALLET_CURSOR_MAX);

	if (len >= ANFU_WALLET_CURSOR_MAX)
		return ANFU_EINVAL;
	d1 = memchr(c, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - c)) : NULL;
	if (!d1 || !d2 || d1 == c || (size_t)(d1 - c) >= ANFU_LEDGER_CURSOR_MAX ||
	    (size_t)(d2 - d1 - 1) >= sizeof(num) || d2 == d1 + 1 ||
	    strlen(d2 + 1) != MAC_CHARS)
		return ANFU_EINVAL;
	memcpy(lc, c, (size_t)(d1 - c));
	lc[d1 - c] = '\0';
	memcpy(num, d1 + 1, (size_t)(d2 - d1 - 1));
	num[d2 - d1 - 1] = '\0';
	if (anfu_parse_i64(anfu_str_c(num), &v) < 0)
		return ANFU_EINVAL;
	if (cursor_mac(w, user_id, lc, (int64_t)v, mac) < 0 ||
	    !anfu_crypto_equal(mac, d2 + 1, MAC_CHARS))
		return ANFU_EINVAL;
	*ret_balance = (int64_t)v;
	return 0;
}

/* What e does to the posted balance of the account it was read for. */
static int64_t effect(const struct anfu_ledger_entry *e)
{
	if (e->flags & (ANFU_LEDGER_TRF_PENDING | ANFU_LEDGER_TRF_VOID_PENDING))
		return 0;
	return e->debit ? -e->amount : e->amount;
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
		r = anfu_db_exec(db,
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

/* Fills out from e; *ret_keep: it passes the filters. */
static int entry_from(struct anfu_wallet *w, struct anfu_db *db,
		      const struct anfu_wallet_history_req *req, const struct anfu_ledger_entry *e,
		      int64_t balance_after, struct anfu_wallet_entry *out, bool *ret_keep)
{
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
	/* A hold shows while it is pending; once posted, its posting is the
	 * row (a voided or expired hold, and a void, moved no money). */
	*ret_keep = !(e->flags & ANFU_LEDGER_TRF_VOID_PENDING) &&
		    (!(e->flags & ANFU_LEDGER_TRF_PENDING) || strcmp(e->hold_state, "pending") == 0) &&
		    type_matches(req->type, out->type) &&
		    (req->to_ms <= 0 || out->time_ms < req->to_ms);
	return *ret_keep ? describe(w, db, req->user_id, e, out) : 0;
}

struct walk {
	char lc[ANFU_LEDGER_CURSOR_MAX];
	int64_t running; /* the posted balance after the next row to read */
	size_t n, scanned;
	bool end;
};

/* One ledger page into out; w->end when the history (or the range) ends. */
static int walk_page(struct anfu_wallet *w, struct anfu_db *db, const char *acc,
		     const struct anfu_wallet_history_req *req, struct anfu_ledger_entry *buf,
		     struct walk *k, struct anfu_wallet_entry *out)
{
	char next[ANFU_LEDGER_CURSOR_MAX];
	size_t got = 0;
	int r = anfu_ledger_history(w->ledger, acc, k->lc, req->limit - k->n, buf, &got, next);

	for (size_t i = 0; r == 0 && i < got; i++) {
		int64_t after = k->running;
		bool keep = false;

		k->scanned++;
		k->running -= effect(&buf[i]);
		if (req->from_ms > 0 && buf[i].ts_us / 1000 < req->from_ms) {
			k->end = true;
			return 0;
		}
		r = entry_from(w, db, req, &buf[i], after, &out[k->n], &keep);
		if (r == 0 && keep)
			k->n++;
	}
	if (r == 0) {
		(void)anfu_strlcpy(k->lc, next, sizeof(k->lc));
		k->end = next[0] == '\0';
	}
	return r;
}

static int history_read(struct anfu_wallet *w, struct anfu_db *db,
			const struct anfu_wallet_history_req *req, struct anfu_wallet_entry *out,
			size_t *ret_n, char next[ANFU_WALLET_CURSOR_MAX])
{
	struct anfu_ledger_account acc;
	struct anfu_ledger_entry *buf = NULL;
	struct walk k;
	int r = wallet_account(w, req->user_id, &acc);

	memset(&k, 0, sizeof(k));
	if (r < 0)
		return r;
	if (req->cursor && req->cursor[0])
		r = cursor_parse(w, req->user_id, req->cursor, k.lc, &k.running);
	else
		k.running = acc.credits_posted - acc.debits_posted;
	if (r < 0)
		return r;
	buf = anfu_xcalloc(ANFU_LIMIT_LEDGER_HISTORY, sizeof(*buf));
	while (r == 0 && !k.end && k.n < req->limit && k.scanned < ANFU_LIMIT_WALLET_HISTORY_SCAN)
		r = walk_page(w, db, acc.id, req, buf, &k, out);
	free(buf);
	if (r == 0 && k.end)
		next[0] = '\0';
	else if (r == 0)
		r = cursor_make(w, req->user_id, k.lc, k.running, next);
	if (r == 0)
		*ret_n = k.n;
	return r;
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

int anfu_wallet_balance(struct anfu_wallet *w, const char *user_id,
			struct anfu_wallet_balance *ret)
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
