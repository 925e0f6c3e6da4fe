/*
 * ledger/statement: an account's statement (FUNC-PAY-15): its transfers
 * newest first, each with the posted balance after it, a page at a time;
 * what a wallet's history and a merchant's balance history show.
 *
 * Owns nothing. The balance after each row is computed backwards from the
 * balance now, in the caller's read snapshot; a page's cursor carries the
 * ledger's cursor and the balance after the next older row, with a keyed
 * MAC the caller makes (its purpose, bound to its scope), so a client
 * cannot make the server show another balance. Trusts the ledger's rows;
 * a cursor only once its MAC checks; the caller's row function decides
 * what a row shows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "ledger/internal.h"
#include "ledger/ledger.h"

#define MAC_CHARS 32

static int cursor_mac(const struct anfu_ledger_statement_req *q, const char *lc, int64_t balance,
		      char out[MAC_CHARS + 1])
{
	char text[256], hex[2 * ANFU_HASH_LEN + 1];
	uint8_t mac[ANFU_HASH_LEN];
	int n = snprintf(text, sizeof(text), "%s|%s|%" PRId64, q->scope, lc, balance);
	int r;

	if (n < 0 || (size_t)n >= sizeof(text))
		return ANFU_EINVAL;
	r = q->mac(q->mac_ud, text, (size_t)n, mac);
	if (r == 0) {
		anfu_hex_encode(mac, sizeof(mac), hex);
		(void)anfu_strlcpy(out, hex, MAC_CHARS + 1);
	}
	return r;
}

static int cursor_make(const struct anfu_ledger_statement_req *q, const char *lc, int64_t balance,
		       char out[ANFU_LEDGER_STATEMENT_CURSOR_MAX])
{
	char mac[MAC_CHARS + 1];
	int r = cursor_mac(q, lc, balance, mac);
	int n;

	if (r < 0)
		return r;
	n = snprintf(out, ANFU_LEDGER_STATEMENT_CURSOR_MAX, "%s.%" PRId64 ".%s", lc, balance, mac);
	return n < 0 || n >= ANFU_LEDGER_STATEMENT_CURSOR_MAX ? ANFU_ELIMIT : 0;
}

/* "<ledger cursor>.<balance>.<mac>": the ledger's part and the balance,
 * only when the MAC is this server's for this scope. */
static int cursor_parse(const struct anfu_ledger_statement_req *q, char lc[ANFU_LEDGER_CURSOR_MAX],
			int64_t *ret_balance)
{
	const char *c = q->cursor, *d1, *d2;
	char num[24], mac[MAC_CHARS + 1];
	long long v;
	size_t len = strnlen(c, ANFU_LEDGER_STATEMENT_CURSOR_MAX);

	if (len >= ANFU_LEDGER_STATEMENT_CURSOR_MAX)
		return ANFU_EINVAL;
	d1 = memchr(c, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - c)) : NULL;
	if (!d1 || !d2 || d1 == c || (size_t)(d1 - c) >= ANFU_LEDGER_CURSOR_MAX ||
	    (size_t)(d2 - d1 - 1) >= sizeof(num) || d2 == d1 + 1 || strlen(d2 + 1) != MAC_CHARS)
		return ANFU_EINVAL;
	memcpy(lc, c, (size_t)(d1 - c));
	lc[d1 - c] = '\0';
	memcpy(num, d1 + 1, (size_t)(d2 - d1 - 1));
	num[d2 - d1 - 1] = '\0';
	if (anfu_parse_i64(anfu_str_c(num), &v) < 0)
		return ANFU_EINVAL;
	if (cursor_mac(q, lc, (int64_t)v, mac) < 0 || !anfu_crypto_equal(mac, d2 + 1, MAC_CHARS))
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

bool anfu_ledger_entry_shown(const struct anfu_ledger_entry *e)
{
	return !(e->flags & ANFU_LEDGER_TRF_VOID_PENDING) &&
	       (!(e->flags & ANFU_LEDGER_TRF_PENDING) || strcmp(e->hold_state, "pending") == 0);
}

struct walk {
	char lc[ANFU_LEDGER_CURSOR_MAX];
	int64_t running; /* the posted balance after the next row to read */
	size_t n, scanned;
	bool end;
};

/* One ledger page through the row function; k->end when the statement (or
 * the time range) ends. */
static int walk_page(struct anfu_ledger *l, const struct anfu_ledger_statement_req *q,
		     struct anfu_ledger_entry *buf, struct walk *k)
{
	char next[ANFU_LEDGER_CURSOR_MAX];
	size_t got = 0;
	int r = anfu_ledger_history(l, q->account, k->lc, q->limit - k->n, buf, &got, next);

	for (size_t i = 0; r == 0 && i < got; i++) {
		int64_t after = k->running;
		bool keep = false;

		k->scanned++;
		k->running -= effect(&buf[i]);
		if (q->from_ms > 0 && buf[i].ts_us / 1000 < q->from_ms) {
			k->end = true;
			return 0;
		}
		if (q->to_ms > 0 && buf[i].ts_us / 1000 >= q->to_ms)
			continue;
		r = q->row(q->row_ud, &buf[i], after, k->n, &keep);
		if (r == 0 && keep)
			k->n++;
	}
	if (r == 0) {
		(void)anfu_strlcpy(k->lc, next, sizeof(k->lc));
		k->end = next[0] == '\0';
	}
	return r;
}

int anfu_ledger_statement(struct anfu_ledger *l, const struct anfu_ledger_statement_req *q,
			  int64_t balance_now, size_t *ret_n,
			  char next[ANFU_LEDGER_STATEMENT_CURSOR_MAX])
{
	struct anfu_ledger_entry *buf;
	struct walk k;
	int r = 0;

	if (!l || !q || !q->account || !q->scope || !q->mac || !q->row || !ret_n || !next ||
	    q->limit < 1 || q->limit > ANFU_LIMIT_LEDGER_HISTORY || q->scan_max < q->limit)
		return ANFU_EINVAL;
	memset(&k, 0, sizeof(k));
	if (q->cursor && q->cursor[0])
		r = cursor_parse(q, k.lc, &k.running);
	else
		k.running = balance_now;
	if (r < 0)
		return r;
	buf = anfu_xcalloc(ANFU_LIMIT_LEDGER_HISTORY, sizeof(*buf));
	while (r == 0 && !k.end && k.n < q->limit && k.scanned < q->scan_max)
		r = walk_page(l, q, buf, &k);
	free(buf);
	if (r == 0 && k.end)
		next[0] = '\0';
	else if (r == 0)
		r = cursor_make(q, k.lc, k.running, next);
	if (r == 0)
		*ret_n = k.n;
	return r;
}
