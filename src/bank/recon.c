/*
 * bank/recon: the daily reconciliation of a bank's statement file with
 * bank_payment (contract in bank/recon.h; docs/bank.md, "Reconciliation").
 *
 * Owns bank_recon, bank_recon_line and bank_recon_diff. Trusts nothing in
 * the statement file (anfu_bank_statement_parse checks every byte); reads
 * and writes in one transaction of its own, and never touches the ledger.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bank/internal.h"
#include "bank/recon.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "tx/tx.h"

#define DAY_MS (24LL * 3600 * 1000)

/* One reconciliation at a time in this process (the job and the test hook
 * or a re-run): two at once would both replace the same day's rows. */
static pthread_mutex_t recon_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the statement file ---------------------------------------------------- */

static bool alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool field_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(s, word, n) == 0;
}

static bool serial_ok(const char *s, size_t n)
{
	if (n < 5 || n >= ANFU_BANK_SERIAL_MAX || memcmp(s, "bsn_", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!alnum(s[i]))
			return false;
	return true;
}

/* A positive decimal amount without sign or leading zero, overflow
 * checked. */
static bool amount_ok(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;

	if (n == 0 || n > 19 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* One line without its '\n': four comma-separated fields. */
static bool line_parse(const char *s, size_t n, struct anfu_bank_stmt_line *ret)
{
	const char *f[4];
	size_t fl[4], k = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ',')
			continue;
		if (k == 4)
			return false;
		f[k] = s + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	if (k != 4 || !serial_ok(f[0], fl[0]) || !amount_ok(f[2], fl[2], &ret->amount))
		return false;
	if (field_is(f[1], fl[1], "debit") || field_is(f[1], fl[1], "credit")) {
		memcpy(ret->kind, f[1], fl[1]);
		ret->kind[fl[1]] = '\0';
	} else
		return false;
	if (field_is(f[3], fl[3], "succeeded"))
		ret->status = ANFU_BANK_ST_SUCCEEDED;
	else if (field_is(f[3], fl[3], "failed"))
		ret->status = ANFU_BANK_ST_FAILED;
	else
		return false;
	memcpy(ret->serial, f[0], fl[0]);
	ret->serial[fl[0]] = '\0';
	return true;
}

static int line_cmp(const void *a, const void *b)
{
	const struct anfu_bank_stmt_line *const *x = a, *const *y = b;
	int c = strcmp((*x)->serial, (*y)->serial);

	return c ? c : (*x < *y ? -1 : *x > *y);
}

/* The 1-based line of the first serial seen twice, 0 when none. */
static size_t duplicate_line(const struct anfu_bank_stmt_line *l, size_t n)
{
	const struct anfu_bank_stmt_line **v;
	size_t bad = 0;

	if (n < 2)
		return 0;
	v = anfu_xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = &l[i];
	qsort(v, n, sizeof(*v), line_cmp);
	for (size_t i = 1; i < n; i++) {
		size_t at = (size_t)(v[i] - l) + 1;

		if (strcmp(v[i - 1]->serial, v[i]->serial) == 0 && (bad == 0 || at < bad))
			bad = at;
	}
	free(v);
	return bad;
}

int anfu_bank_statement_parse(const char *text, size_t len, struct anfu_bank_stmt_line **ret,
			      size_t *ret_n, size_t *err_line)
{
	struct anfu_bank_stmt_line *out = NULL;
	size_t n = 0, cap = 0, start = 0, bad = 0;
	int r = 0;

	if ((!text && len) || !ret || !ret_n || !err_line)
		return ANFU_EINVAL;
	for (size_t i = 0; i < len && r == 0; i++) {
		if (text[i] != '\n')
			continue;
		if (n == ANFU_LIMIT_BANK_STATEMENT_LINES) {
			r = ANFU_ELIMIT;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			out = anfu_xrealloc(out, cap * sizeof(*out));
		}
		if (!line_parse(text + start, i - start, &out[n])) {
			bad = n + 1;
			r = ANFU_EINVAL;
		}
		n++;
		start = i + 1;
	}
	if (r == 0 && start != len) { /* a last line without its newline */
		bad = n + 1;
		r = n == ANFU_LIMIT_BANK_STATEMENT_LINES ? ANFU_ELIMIT : ANFU_EINVAL;
	}
	if (r == 0 && (bad = duplicate_line(out, n)) != 0)
		r = ANFU_EINVAL;
	if (r < 0) {
		free(out);
		*err_line = bad;
		return r;
	}
	if (n == 0) {
		free(out);
		out = NULL;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

bool anfu_bank_day_valid(int64_t day)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t y = day / 10000, m = day / 100 % 100, d = day % 100;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* ---- the comparison ----------------------------------------------------------- */

/* One of our payments. */
struct ours {
	char id[ANFU_ID_MAX];
	char serial[ANFU_BANK_SERIAL_MAX];
	char kind[8], state[16];
	char reason[ANFU_BANK_REASON_MAX];
	int64_t amount;
};

struct ours_list {
	struct ours *v;
	size_t n, cap;
};

static int ours_row(void *ud, const struct anfu_row *row)
{
	struct ours_list *l = ud;
	struct ours *o;

	if (l->n == ANFU_LIMIT_BANK_RECON_PAYMENTS)
		return ANFU_ELIMIT;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = anfu_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	o = &l->v[l->n];
	memset(o, 0, sizeof(*o));
	if (anfu_strlcpy(o->id, anfu_row_text(row, 0, NULL), sizeof(o->id)) < 0 ||
	    anfu_strlcpy(o->serial, anfu_row_text(row, 1, NULL), sizeof(o->serial)) < 0 ||
	    anfu_strlcpy(o->kind, anfu_row_text(row, 2, NULL), sizeof(o->kind)) < 0 ||
	    anfu_strlcpy(o->state, anfu_row_text(row, 4, NULL), sizeof(o->state)) < 0 ||
	    anfu_strlcpy(o->reason, anfu_row_text(row, 5, NULL), sizeof(o->reason)) < 0)
		return ANFU_ESCHEMA;
	o->amount = anfu_row_int(row, 3);
	l->n++;
	return 0;
}

#define OURS_COLS "id, serial, kind, amount, state, reason"

static int ours_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ours *)a)->serial, ((const struct ours *)b)->serial);
}

struct diff_list {
	struct anfu_bank_recon_diff *v;
	size_t n, cap;
};

static struct anfu_bank_recon_diff *diff_add(struct diff_list *d, const char *kind,
					     const char *serial)
{
	struct anfu_bank_recon_diff *x;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = anfu_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	x = &d->v[d->n++];
	memset(x, 0, sizeof(*x));
	(void)anfu_strlcpy(x->kind, kind, sizeof(x->kind));
	(void)anfu_strlcpy(x->serial, serial, sizeof(x->serial));
	return x;
}

/* What differs between our payment o and the bank's line l, or NULL. */
static const char *compare(const struct ours *o, const struct anfu_bank_stmt_line *l)
{
	if (strcmp(o->kind, l->kind) != 0)
		return ANFU_BANK_DIFF_KIND;
	if (o->amount != l->amount)
		return ANFU_BANK_DIFF_AMOUNT;
	if (strcmp(o->state, l->status == ANFU_BANK_ST_SUCCEEDED ? "succeeded" : "failed") != 0)
		return ANFU_BANK_DIFF_STATUS;
	return NULL;
}

static void diff_sides(struct anfu_bank_recon_diff *x, const struct ours *o,
		       const struct anfu_bank_stmt_line *l)
{
	if (o) {
		(void)anfu_strlcpy(x->payment_id, o->id, sizeof(x->payment_id));
		(void)anfu_strlcpy(x->our_kind, o->kind, sizeof(x->our_kind));
		(void)anfu_strlcpy(x->our_state, o->state, sizeof(x->our_state));
		x->our_amount = o->amount;
	}
	if (l) {
		(void)anfu_strlcpy(x->bank_kind, l->kind, sizeof(x->bank_kind));
		(void)anfu_strlcpy(x->bank_status, anfu_bank_status_name(l->status),
				   sizeof(x->bank_status));
		x->bank_amount = l->amount;
	}
}

/* One reconciliation run (the transaction's state). */
struct run {
	struct anfu_bank *b;
	int64_t day;
	const char *text;
	size_t len;
	struct anfu_bank_stmt_line *lines;
	size_t nlines, bad_line;
	bool unreadable;
	struct ours_list ours;
	struct diff_list diffs;
	int64_t matched;
	char outcome[65];
	struct anfu_bank_recon_report rep;
};

/* A statement line whose payment is ours but of another day (the bank
 * booked it on another day than ours): compared all the same. */
static int other_day(struct run *a, struct anfu_db *db, const char *serial, struct ours *ret)
{
	const struct anfu_param p[] = { ANFU_PS(a->b->cfg->bank_id), ANFU_PS(serial) };
	struct ours_list l = { 0 };
	int r = anfu_db_exec(db,
			     "SELECT " OURS_COLS " FROM bank_payment WHERE bank_id = $1 AND "
			     "serial = $2",
			     p, 2, ours_row, &l, NULL);

	if (r == 0 && l.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		*ret = l.v[0];
	free(l.v);
	return r;
}

static int line_vs(struct run *a, struct anfu_db *db, const struct anfu_bank_stmt_line *l,
		   const struct ours *o)
{
	struct ours other;
	const char *kind;
	int r = 0;

	if (!o) {
		r = other_day(a, db, l->serial, &other);
		if (r == ANFU_ENOTFOUND) {
			diff_sides(diff_add(&a->diffs, ANFU_BANK_DIFF_NOT_OURS, l->serial), NULL,
				   l);
			return 0;
		}
		if (r < 0)
			return r;
		o = &other;
	}
	kind = compare(o, l);
	if (kind)
		diff_sides(diff_add(&a->diffs, kind, l->serial), o, l);
	else
		a->matched++;
	return 0;
}

/* Ours without a line: a difference unless the bank never had it. */
static void ours_alone(struct run *a, const struct ours *o)
{
	if (strcmp(o->state, "failed") == 0 && strcmp(o->reason, "not_at_bank") == 0)
		return;
	diff_sides(diff_add(&a->diffs, ANFU_BANK_DIFF_MISSING_AT_BANK, o->serial), o, NULL);
}

/* Walks the statement's lines and our payments, both by serial. */
static int compare_all(struct run *a, struct anfu_db *db)
{
	const struct anfu_bank_stmt_line **v = NULL;
	size_t i = 0, j = 0;
	int r = 0;

	if (a->nlines) {
		v = anfu_xcalloc(a->nlines, sizeof(*v));
		for (size_t k = 0; k < a->nlines; k++)
			v[k] = &a->lines[k];
		qsort(v, a->nlines, sizeof(*v), line_cmp);
	}
	if (a->ours.n)
		qsort(a->ours.v, a->ours.n, sizeof(*a->ours.v), ours_cmp);
	while (r == 0 && (i < a->nlines || j < a->ours.n)) {
		int c = i == a->nlines	 ? 1
			: j == a->ours.n ? -1
					 : strcmp(v[i]->serial, a->ours.v[j].serial);

		if (c < 0)
			r = line_vs(a, db, v[i++], NULL);
		else if (c > 0)
			ours_alone(a, &a->ours.v[j++]);
		else
			r = line_vs(a, db, v[i++], &a->ours.v[j++]);
	}
	free(v);
	return r;
}

/* The outcome's digest: what a re-run compares to know nothing changed. */
static int outcome_hash(struct run *a, const char *sha)
{
	struct anfu_hash_ctx *h = NULL;
	uint8_t out[ANFU_HASH_LEN];
	char buf[512];
	int r = anfu_hash_begin(ANFU_HASH_SHA256, &h);
	int n;

	if (r < 0)
		return r;
	n = snprintf(buf, sizeof(buf), "%s|%d|%zu|%lld\n", sha, a->unreadable, a->bad_line,
		     (long long)a->matched);
	r = anfu_hash_update(h, buf, (size_t)n);
	for (size_t i = 0; r == 0 && i < a->diffs.n; i++) {
		const struct anfu_bank_recon_diff *x = &a->diffs.v[i];

		n = snprintf(buf, sizeof(buf), "%s|%s|%s|%s|%s|%lld|%s|%s|%lld\n", x->serial,
			     x->kind, x->payment_id, x->our_kind, x->our_state,
			     (long long)x->our_amount, x->bank_kind, x->bank_status,
			     (long long)x->bank_amount);
		r = anfu_hash_update(h, buf, (size_t)n);
	}
	if (r < 0) {
		anfu_hash_ctx_free(h);
		return r;
	}
	r = anfu_hash_final(h, out);
	if (r == 0)
		anfu_hex_encode(out, sizeof(out), a->outcome);
	return r;
}

static int text_col(const struct anfu_row *row, int col, char *out, size_t cap)
{
	return anfu_strlcpy(out, anfu_row_text(row, col, NULL), cap) < 0 ? ANFU_ESCHEMA : 0;
}

struct prior {
	char sha256[65], outcome[65];
	bool found;
};

static int prior_row(void *ud, const struct anfu_row *row)
{
	struct prior *p = ud;

	p->found = true;
	if (text_col(row, 0, p->sha256, sizeof(p->sha256)) < 0 ||
	    text_col(row, 1, p->outcome, sizeof(p->outcome)) < 0)
		return ANFU_ESCHEMA;
	return 0;
}

static int write_lines(struct run *a, struct anfu_db *db)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < a->nlines; i++) {
		const struct anfu_bank_stmt_line *l = &a->lines[i];
		const struct anfu_param p[] = { ANFU_PS(a->b->cfg->bank_id),
						ANFU_PI(a->day),
						ANFU_PI(i + 1),
						ANFU_PS(l->serial),
						ANFU_PS(l->kind),
						ANFU_PI(l->amount),
						ANFU_PS(anfu_bank_status_name(l->status)) };

		r = anfu_db_exec(
			db,
			"INSERT INTO bank_recon_line (bank_id, day, line_no, serial, kind, "
			"amount, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			p, 7, NULL, NULL, NULL);
	}
	return r;
}

static int write_diffs(struct run *a, struct anfu_tx *tx)
{
	struct anfu_db *db = anfu_tx_db(tx);
	char oid[ANFU_BANK_ID_MAX + 16];
	int r = 0;

	(void)snprintf(oid, sizeof(oid), "%s:%lld", a->b->cfg->bank_id, (long long)a->day);
	for (size_t i = 0; r == 0 && i < a->diffs.n; i++) {
		const struct anfu_bank_recon_diff *x = &a->diffs.v[i];
		const struct anfu_param p[] = {
			ANFU_PS(a->b->cfg->bank_id), ANFU_PI(a->day),
			ANFU_PS(x->serial),	     ANFU_PS(x->kind),
			ANFU_PS(x->payment_id),	     ANFU_PS(x->our_kind),
			ANFU_PI(x->our_amount),	     ANFU_PS(x->our_state),
			ANFU_PS(x->bank_kind),	     ANFU_PI(x->bank_amount),
			ANFU_PS(x->bank_status)
		};

		r = anfu_db_exec(
			db,
			"INSERT INTO bank_recon_diff (bank_id, day, serial, kind, "
			"payment_id, our_kind, our_amount, our_state, bank_kind, "
			"bank_amount, bank_status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
			"$9, $10, $11)",
			p, 11, NULL, NULL, NULL);
		if (r == 0 && i < ANFU_LIMIT_BANK_RECON_AUDITED)
			r = anfu_tx_audit(tx, "bank.recon.difference", "bank_payment",
					  x->payment_id[0] ? x->payment_id : x->serial, "failure",
					  json_pack("{s:s,s:I,s:s,s:s,s:s,s:I,s:s,s:s,s:I}",
						    "recon", oid, "day", (json_int_t)a->day,
						    "serial", x->serial, "kind", x->kind,
						    "our_state", x->our_state, "our_amount",
						    (json_int_t)x->our_amount, "bank_status",
						    x->bank_status, "bank_kind", x->bank_kind,
						    "bank_amount", (json_int_t)x->bank_amount));
	}
	return r;
}

static int recon_tx(struct anfu_tx *tx, void *ud)
{
	struct run *a = ud;
	struct anfu_db *db = anfu_tx_db(tx);
	struct anfu_bank_recon *rc = &a->rep.recon;
	struct prior prior = { 0 };
	char oid[ANFU_BANK_ID_MAX + 16];
	const struct anfu_param key[] = { ANFU_PS(a->b->cfg->bank_id), ANFU_PI(a->day) };
	int r = 0;

	a->ours.n = a->diffs.n = 0; /* fn may run again (a retried transaction) */
	a->matched = 0;
	a->rep.changed = false;
	if (!a->unreadable)
		r = anfu_db_exec(db,
				 "SELECT " OURS_COLS " FROM bank_payment WHERE bank_id = $1 AND "
				 "day_cn = $2",
				 key, 2, ours_row, &a->ours, NULL);
	if (r == 0 && !a->unreadable)
		r = compare_all(a, db);
	if (r == 0)
		r = outcome_hash(a, rc->sha256);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT sha256, outcome_hash FROM bank_recon WHERE bank_id = $1 "
				 "AND day = $2",
				 key, 2, prior_row, &prior, NULL);
	if (r < 0)
		return r;
	(void)anfu_strlcpy(rc->state, a->unreadable ? "unreadable" : "reconciled",
			   sizeof(rc->state));
	rc->lines = (int64_t)a->nlines;
	rc->matched = a->matched;
	rc->differences = (int64_t)a->diffs.n;
	if (prior.found && strcmp(prior.sha256, rc->sha256) == 0 &&
	    strcmp(prior.outcome, a->outcome) == 0)
		return 0; /* the same file, the same outcome: nothing to write */
	a->rep.changed = true;
	r = anfu_db_exec(db, "DELETE FROM bank_recon_line WHERE bank_id = $1 AND day = $2", key, 2,
			 NULL, NULL, NULL);
	if (r == 0)
		r = anfu_db_exec(db, "DELETE FROM bank_recon_diff WHERE bank_id = $1 AND day = $2",
				 key, 2, NULL, NULL, NULL);
	if (r == 0)
		r = anfu_db_exec(db, "DELETE FROM bank_recon WHERE bank_id = $1 AND day = $2", key,
				 2, NULL, NULL, NULL);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PS(a->b->cfg->bank_id), ANFU_PI(a->day),
						ANFU_PS(rc->state),	     ANFU_PS(rc->sha256),
						ANFU_PI(rc->lines),	     ANFU_PI(rc->matched),
						ANFU_PI(rc->differences),    ANFU_PS(a->outcome),
						ANFU_PI(rc->ran_ms) };

		r = anfu_db_exec(
			db,
			"INSERT INTO bank_recon (bank_id, day, state, sha256, lines, "
			"matched, differences, outcome_hash, ran_ms) VALUES ($1, $2, $3, $4, "
			"$5, $6, $7, $8, $9)",
			p, 9, NULL, NULL, NULL);
	}
	if (r == 0)
		r = write_lines(a, db);
	if (r == 0)
		r = write_diffs(a, tx);
	(void)snprintf(oid, sizeof(oid), "%s:%lld", a->b->cfg->bank_id, (long long)a->day);
	if (r == 0 && a->unreadable)
		r = anfu_tx_audit(tx, "bank.recon.unreadable", "bank_recon", oid, "failure",
				  json_pack("{s:I,s:s,s:I}", "day", (json_int_t)a->day, "sha256",
					    rc->sha256, "bad_line", (json_int_t)a->bad_line));
	else if (r == 0)
		r = anfu_tx_audit(tx, "bank.recon.completed", "bank_recon", oid,
				  a->diffs.n ? "failure" : "success",
				  json_pack("{s:I,s:s,s:I,s:I,s:I}", "day", (json_int_t)a->day,
					    "sha256", rc->sha256, "lines", (json_int_t)rc->lines,
					    "matched", (json_int_t)rc->matched, "differences",
					    (json_int_t)rc->differences));
	return r;
}

static int reconcile_locked(struct anfu_bank *b, int64_t day, struct anfu_bank_recon_report *ret);

int anfu_bank_reconcile(struct anfu_bank *b, int64_t day, struct anfu_bank_recon_report *ret)
{
	int r;

	if (!b || !ret || !anfu_bank_day_valid(day) || !b->ops)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&recon_lock);
	r = reconcile_locked(b, day, ret);
	(void)pthread_mutex_unlock(&recon_lock);
	return r;
}

static int reconcile_locked(struct anfu_bank *b, int64_t day, struct anfu_bank_recon_report *ret)
{
	struct run a = { .b = b, .day = day };
	enum anfu_bank_answer ans = ANFU_BANK_NO_ANSWER;
	uint8_t h[ANFU_HASH_LEN];
	char dstr[16], *text = NULL;
	int r;

	(void)snprintf(dstr, sizeof(dstr), "%lld", (long long)day);
	r = b->ops->statement(b->ops->ud, dstr, &ans, &text);
	if (r < 0 || ans != ANFU_BANK_ACCEPTED) {
		free(text);
		anfu_log_warn("bank.recon", "bank %s: no statement for %s (%s)", b->cfg->bank_id,
			      dstr, r < 0 ? anfu_strerror(r) : "no answer");
		return ANFU_ETIMEDOUT;
	}
	a.text = text;
	a.len = strlen(text);
	(void)anfu_strlcpy(a.rep.recon.bank_id, b->cfg->bank_id, sizeof(a.rep.recon.bank_id));
	a.rep.recon.day = day;
	a.rep.recon.ran_ms = anfu_clock_now_ms();
	r = anfu_hash(ANFU_HASH_SHA256, text, a.len, h);
	if (r == 0) {
		anfu_hex_encode(h, sizeof(h), a.rep.recon.sha256);
		r = anfu_bank_statement_parse(text, a.len, &a.lines, &a.nlines, &a.bad_line);
		if (r == ANFU_EINVAL || r == ANFU_ELIMIT) {
			anfu_log_error("bank.recon",
				       "bank %s: the statement of %s is unreadable "
				       "(line %zu)",
				       b->cfg->bank_id, dstr, a.bad_line);
			a.unreadable = true;
			a.nlines = 0;
			r = 0;
		}
	}
	if (r == 0)
		r = anfu_tx_run(b->tx, &bank_system_actor, recon_tx, &a);
	free(text);
	free(a.lines);
	free(a.ours.v);
	free(a.diffs.v);
	if (r < 0)
		return r;
	*ret = a.rep;
	return 0;
}

int anfu_bank_recon_due(struct anfu_bank *b, struct anfu_bank_recon_report *ret)
{
	struct anfu_bank_recon_report rep = { .skipped = true };
	int64_t day, n = 0;
	struct anfu_db *db = NULL;
	int r;

	if (!b || !ret)
		return ANFU_EINVAL;
	if (!b->ops) {
		*ret = rep;
		return 0;
	}
	day = anfu_bank_day_cn(anfu_clock_now_ms() - DAY_MS);
	rep.recon.day = day;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PS(b->cfg->bank_id), ANFU_PI(day) };

		r = anfu_db_query_int(db,
				      "SELECT count(*) FROM bank_recon WHERE bank_id = $1 AND "
				      "day = $2",
				      p, 2, &n);
	}
	if (r < 0)
		return r;
	if (n > 0) {
		*ret = rep;
		return 0;
	}
	return anfu_bank_reconcile(b, day, ret);
}

/* ---- reads ---------------------------------------------------------------- */

#define RECON_COLS "bank_id, day, state, sha256, lines, matched, differences, ran_ms"

struct recon_list {
	struct anfu_bank_recon *v;
	size_t n, cap;
};

static int recon_row(void *ud, const struct anfu_row *row)
{
	struct recon_list *l = ud;
	struct anfu_bank_recon *x;

	if (l->n == l->cap)
		return 1;
	x = &l->v[l->n];
	if (text_col(row, 0, x->bank_id, sizeof(x->bank_id)) < 0 ||
	    text_col(row, 2, x->state, sizeof(x->state)) < 0 ||
	    text_col(row, 3, x->sha256, sizeof(x->sha256)) < 0)
		return ANFU_ESCHEMA;
	x->day = anfu_row_int(row, 1);
	x->lines = anfu_row_int(row, 4);
	x->matched = anfu_row_int(row, 5);
	x->differences = anfu_row_int(row, 6);
	x->ran_ms = anfu_row_int(row, 7);
	l->n++;
	return 0;
}

int anfu_bank_recon_list(struct anfu_bank *b, struct anfu_bank_recon *out, size_t cap,
			 size_t *ret_n)
{
	struct recon_list l = { .v = out,
				.cap = cap < ANFU_BANK_RECONS_MAX ? cap : ANFU_BANK_RECONS_MAX };
	struct anfu_db *db = NULL;
	int r;

	if (!b || (!out && cap) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0) {
		const struct anfu_param p[] = { ANFU_PS(b->cfg->bank_id), ANFU_PI(l.cap) };

		r = anfu_db_exec(db,
				 "SELECT " RECON_COLS " FROM bank_recon WHERE bank_id = $1 ORDER "
				 "BY day DESC LIMIT $2",
				 p, 2, recon_row, &l, NULL);
	}
	if (r < 0)
		return r;
	*ret_n = l.n;
	return 0;
}

struct diff_read {
	struct anfu_bank_recon_diff *v;
	size_t n, cap;
};

static int diff_row(void *ud, const struct anfu_row *row)
{
	struct diff_read *l = ud;
	struct anfu_bank_recon_diff *x;

	if (l->n == l->cap)
		return 1;
	x = &l->v[l->n];
	if (text_col(row, 0, x->serial, sizeof(x->serial)) < 0 ||
	    text_col(row, 1, x->kind, sizeof(x->kind)) < 0 ||
	    text_col(row, 2, x->payment_id, sizeof(x->payment_id)) < 0 ||
	    text_col(row, 3, x->our_kind, sizeof(x->our_kind)) < 0 ||
	    text_col(row, 5, x->our_state, sizeof(x->our_state)) < 0 ||
	    text_col(row, 6, x->bank_kind, sizeof(x->bank_kind)) < 0 ||
	    text_col(row, 8, x->bank_status, sizeof(x->bank_status)) < 0)
		return ANFU_ESCHEMA;
	x->our_amount = anfu_row_int(row, 4);
	x->bank_amount = anfu_row_int(row, 7);
	l->n++;
	return 0;
}

int anfu_bank_recon_get(struct anfu_bank *b, int64_t day, struct anfu_bank_recon *ret,
			struct anfu_bank_recon_diff *diffs, size_t cap, size_t *ret_n)
{
	struct anfu_bank_recon one;
	struct recon_list l = { .v = &one, .cap = 1 };
	struct diff_read d = { .v = diffs,
			       .cap = cap < ANFU_BANK_RECON_DIFFS_MAX ? cap
								      : ANFU_BANK_RECON_DIFFS_MAX };
	struct anfu_db *db = NULL;
	const struct anfu_param p[] = { ANFU_PS(b ? b->cfg->bank_id : ""), ANFU_PI(day),
					ANFU_PI(d.cap) };
	int r;

	if (!b || !ret || (!diffs && cap) || !ret_n)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(b->tx), &db);
	if (r == 0)
		r = anfu_db_exec(db,
				 "SELECT " RECON_COLS " FROM bank_recon WHERE bank_id = $1 AND "
				 "day = $2",
				 p, 2, recon_row, &l, NULL);
	if (r == 0 && l.n == 0)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = anfu_db_exec(
			db,
			"SELECT serial, kind, payment_id, our_kind, our_amount, our_state, "
			"bank_kind, bank_amount, bank_status FROM bank_recon_diff WHERE "
			"bank_id = $1 AND day = $2 ORDER BY serial LIMIT $3",
			p, 3, diff_row, &d, NULL);
	if (r < 0)
		return r;
	*ret = one;
	*ret_n = d.n;
	return 0;
}
