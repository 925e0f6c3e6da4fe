/*
 * ledger/verify: anfu_ledger_verify() (ledger/verify.h).
 *
 * Owns the checks and their order, and the rule of the report: the first
 * check that finds something names its first bad row (rows in seq, batch
 * or id order); the later checks still run and add their bits to
 * rep->failed. The journal and chain checks stream the rows in order; the
 * others are one SQL query each that returns the first bad row, so the
 * whole verification takes the memory of a few rows whatever the size of
 * the ledger. Trusts nothing in the tables, only the hash function.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "ledger/chain.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/store.h"

/* Transfer and account flags, as SQL operands. */
#define TRF_PENDING ((int64_t)ANFU_LEDGER_TRF_PENDING)
#define TRF_POST ((int64_t)ANFU_LEDGER_TRF_POST_PENDING)
#define TRF_VOID ((int64_t)ANFU_LEDGER_TRF_VOID_PENDING)
#define ACC_DEBITS_LIMITED ((int64_t)ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS)
#define ACC_CREDITS_LIMITED ((int64_t)ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS)

static const char zero_hash[LEDGER_HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* Records a problem of check `check`: the text only if no earlier problem
 * was recorded. Returns ANFU_ECORRUPT. */
__attribute__((format(printf, 3, 4))) static int bad(struct anfu_ledger_verify_report *rep,
						     enum anfu_ledger_check check, const char *fmt,
						     ...)
{
	va_list ap;

	rep->failed |= (unsigned)check;
	if (rep->problem[0] != '\0')
		return ANFU_ECORRUPT;
	va_start(ap, fmt);
	(void)vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
	return ANFU_ECORRUPT;
}

/* A text column, "" for NULL. */
static const char *col(const struct anfu_row *row, int c)
{
	const char *s = anfu_row_text(row, c, NULL);

	return s ? s : "";
}

/* ---- the journal: seq and ts_us ----------------------------------------- */

struct journal_walk {
	struct anfu_ledger_verify_report *rep;
	int64_t next_seq;
	int64_t prev_ts;
	int64_t prev_batch;
};

static int journal_row(void *ud, const struct anfu_row *row)
{
	struct journal_walk *w = ud;
	int64_t seq = anfu_row_int(row, 0), ts = anfu_row_int(row, 1), batch = anfu_row_int(row, 2);

	if (seq != w->next_seq)
		return bad(w->rep, ANFU_LEDGER_CHECK_JOURNAL,
			   "ledger_transfer seq %" PRId64
			   " is missing (the next row is seq %" PRId64 ")",
			   w->next_seq, seq);
	if (ts <= w->prev_ts)
		return bad(w->rep, ANFU_LEDGER_CHECK_JOURNAL,
			   "ledger_transfer seq %" PRId64 ": ts_us %" PRId64
			   " is not after the previous row's %" PRId64,
			   seq, ts, w->prev_ts);
	if (batch < w->prev_batch || batch < 1)
		return bad(w->rep, ANFU_LEDGER_CHECK_JOURNAL,
			   "ledger_transfer seq %" PRId64 ": batch_seq %" PRId64
			   " is before the previous row's %" PRId64,
			   seq, batch, w->prev_batch);
	w->next_seq++;
	w->prev_ts = ts;
	w->prev_batch = batch;
	w->rep->transfers++;
	return 0;
}

static int check_journal(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	struct journal_walk w = { rep, 1, INT64_MIN, 1 };

	return anfu_db_exec(db, "SELECT seq, ts_us, batch_seq FROM ledger_transfer ORDER BY seq",
			    NULL, 0, journal_row, &w, NULL);
}

/* ---- the hash chain of batches ------------------------------------------ */

struct chain_walk {
	struct anfu_db *db;
	enum anfu_hash_alg alg;
	struct anfu_ledger_verify_report *rep;
	int64_t next_batch;
	int64_t next_first; /* the transfer the next batch must start at */
	char prev[LEDGER_HASH_HEX + 1];
};

static int chain_row(void *ud, const struct anfu_row *row)
{
	struct chain_walk *w = ud;
	int64_t seq = anfu_row_int(row, 0), first = anfu_row_int(row, 1),
		last = anfu_row_int(row, 2);
	const char *prev = col(row, 3), *hash = col(row, 4);
	char got[LEDGER_HASH_HEX + 1];
	int r;

	if (seq != w->next_batch)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64 " is missing (the next row is seq %" PRId64
			   ")",
			   w->next_batch, seq);
	if (first != w->next_first || last < first)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64 ": transfers %" PRId64 "..%" PRId64
			   " do not follow the previous batch (expected from %" PRId64 ")",
			   seq, first, last, w->next_first);
	if (strcmp(prev, w->prev) != 0)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64
			   ": prev_hash is not the hash of batch %" PRId64,
			   seq, seq - 1);
	r = ledger_batch_hash(w->db, w->alg, first, last, w->prev, got);
	if (r == ANFU_ECORRUPT)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64 ": a transfer of %" PRId64 "..%" PRId64
			   " is missing",
			   seq, first, last);
	/* Only a row changed after the writer wrote it can be too long to
	 * encode (the writer bounds every column). */
	if (r == ANFU_ELIMIT)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64 ": a transfer of %" PRId64 "..%" PRId64
			   " is too long to be the writer's",
			   seq, first, last);
	if (r < 0)
		return r;
	if (strcmp(got, hash) != 0)
		return bad(w->rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_batch seq %" PRId64 ": hash does not match transfers %" PRId64
			   "..%" PRId64,
			   seq, first, last);
	memcpy(w->prev, got, sizeof(w->prev));
	w->next_batch++;
	w->next_first = last + 1;
	w->rep->batches++;
	return 0;
}

/* Where the chain ends: the last batch, its last transfer and hash (no
 * batch: 0, 0 and 64 '0'). */
struct chain_end {
	int64_t batch;
	int64_t transfer;
	char hash[LEDGER_HASH_HEX + 1];
};

/* Walks the batches; fills *ret_end only when the chain verified. */
static int check_chain(struct anfu_db *db, enum anfu_hash_alg alg,
		       struct anfu_ledger_verify_report *rep, struct chain_end *ret_end)
{
	struct chain_walk w = { db, alg, rep, 1, 1, "" };
	struct anfu_param p[1];
	int64_t after = 0;
	int r;

	memcpy(w.prev, zero_hash, sizeof(w.prev));
	r = anfu_db_exec(db,
			 "SELECT seq, first_transfer, last_transfer, prev_hash, hash "
			 "FROM ledger_batch ORDER BY seq",
			 NULL, 0, chain_row, &w, NULL);
	if (r < 0)
		return r;
	p[0] = ANFU_PI(w.next_first);
	r = anfu_db_query_int(db,
			      "SELECT coalesce(min(seq), 0) FROM ledger_transfer WHERE seq >= $1",
			      p, 1, &after);
	if (r < 0)
		return r;
	if (after > 0)
		return bad(rep, ANFU_LEDGER_CHECK_CHAIN,
			   "ledger_transfer seq %" PRId64 " is in no batch", after);
	ret_end->batch = w.next_batch - 1;
	ret_end->transfer = w.next_first - 1;
	memcpy(ret_end->hash, w.prev, sizeof(ret_end->hash));
	return 0;
}

/* ---- the writer's cursors ------------------------------------------------ */

struct head {
	int rows;
	int64_t last_transfer, last_batch, last_ts_us;
	char last_hash[LEDGER_HASH_HEX + 2]; /* one more: a longer value differs */
};

static int head_row(void *ud, const struct anfu_row *row)
{
	struct head *h = ud;

	h->rows++;
	h->last_transfer = anfu_row_int(row, 0);
	h->last_batch = anfu_row_int(row, 1);
	h->last_ts_us = anfu_row_int(row, 2);
	(void)snprintf(h->last_hash, sizeof(h->last_hash), "%s", col(row, 3));
	return 0;
}

/* ledger_head: one row, the last batch's cursors; its last_ts_us not
 * before the last transfer's (the writer's next ts_us follows it). */
static int check_head(struct anfu_db *db, struct anfu_ledger_verify_report *rep,
		      const struct chain_end *end)
{
	struct head h = { 0 };
	int64_t max_ts = 0;
	int r;

	r = anfu_db_exec(db,
			 "SELECT last_transfer, last_batch, last_ts_us, last_hash FROM ledger_head",
			 NULL, 0, head_row, &h, NULL);
	if (r == 0)
		r = anfu_db_query_int(db, "SELECT coalesce(max(ts_us), 0) FROM ledger_transfer",
				      NULL, 0, &max_ts);
	if (r < 0)
		return r;
	if (h.rows != 1)
		return bad(rep, ANFU_LEDGER_CHECK_HEAD, "ledger_head has %d rows, not 1", h.rows);
	if (h.last_batch != end->batch || h.last_transfer != end->transfer)
		return bad(rep, ANFU_LEDGER_CHECK_HEAD,
			   "ledger_head: last_batch %" PRId64 ", last_transfer %" PRId64
			   " are not the last batch's (%" PRId64 ", %" PRId64 ")",
			   h.last_batch, h.last_transfer, end->batch, end->transfer);
	if (strcmp(h.last_hash, end->hash) != 0)
		return bad(rep, ANFU_LEDGER_CHECK_HEAD,
			   "ledger_head: last_hash is not the hash of batch %" PRId64, end->batch);
	if (h.last_ts_us < max_ts)
		return bad(rep, ANFU_LEDGER_CHECK_HEAD,
			   "ledger_head: last_ts_us %" PRId64
			   " is before the last transfer's %" PRId64,
			   h.last_ts_us, max_ts);
	return 0;
}

/* ---- first-bad-row queries ---------------------------------------------- */

/* One query whose first row, if any, is the first bad row: its columns
 * fill the format (all text; NULL as ""). */
struct first_bad {
	struct anfu_ledger_verify_report *rep;
	enum anfu_ledger_check check;
	const char *fmt; /* up to 6 %s */
};

static int first_bad_row(void *ud, const struct anfu_row *row)
{
	struct first_bad *fb = ud;
	const char *v[6] = { "", "", "", "", "", "" };
	int n = anfu_row_count(row);

	for (int i = 0; i < n && i < 6; i++)
		v[i] = col(row, i);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	(void)bad(fb->rep, fb->check, fb->fmt, v[0], v[1], v[2], v[3], v[4], v[5]);
#pragma GCC diagnostic pop
	return 1; /* the first is enough */
}

static int query_first_bad(struct anfu_db *db, struct anfu_ledger_verify_report *rep,
			   enum anfu_ledger_check check, const char *fmt, const char *sql,
			   const struct anfu_param *p, size_t np)
{
	struct first_bad fb = { rep, check, fmt };
	int r = anfu_db_exec(db, sql, p, np, first_bad_row, &fb, NULL);

	if (r < 0)
		return r;
	return rep->failed & (unsigned)check ? ANFU_ECORRUPT : 0;
}

/* Every transfer lies in the batch its batch_seq names. */
static int check_batches(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	return query_first_bad(db, rep, ANFU_LEDGER_CHECK_BATCHES,
			       "ledger_transfer seq %s: batch_seq %s is not the batch holding it",
			       "SELECT t.seq, t.batch_seq FROM ledger_transfer t "
			       "LEFT JOIN ledger_batch b ON b.seq = t.batch_seq "
			       "WHERE b.seq IS NULL OR t.seq < b.first_transfer "
			       " OR t.seq > b.last_transfer ORDER BY t.seq LIMIT 1",
			       NULL, 0);
}

/* Both accounts of every transfer exist, differ and have its asset. */
static int check_accounts(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	return query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_ACCOUNTS, "ledger_transfer seq %s: %s",
		"SELECT t.seq, CASE "
		" WHEN d.id IS NULL THEN 'debit account ' || t.debit_account || ' does not exist' "
		" WHEN c.id IS NULL THEN 'credit account ' || t.credit_account || ' does not "
		"exist' "
		" WHEN t.debit_account = t.credit_account THEN 'debits and credits one account' "
		" ELSE 'asset ' || t.asset || ' is not both accounts'' asset' END "
		"FROM ledger_transfer t "
		"LEFT JOIN ledger_account d ON d.id = t.debit_account "
		"LEFT JOIN ledger_account c ON c.id = t.credit_account "
		"WHERE d.id IS NULL OR c.id IS NULL OR t.debit_account = t.credit_account "
		" OR d.asset != t.asset OR c.asset != t.asset ORDER BY t.seq LIMIT 1",
		NULL, 0);
}

/* Holds: every pending transfer has its hold (same amount and timeout
 * action, an expiry exactly when it has a timeout), every hold its pending
 * transfer; a post or void transfer closes
 * exactly the hold it names (same accounts and asset; a post for no more
 * than the hold), which records it; an open hold records no closer. */
static int check_holds(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	const struct anfu_param p[] = { ANFU_PI(TRF_PENDING), ANFU_PI(TRF_POST),
					ANFU_PI(TRF_VOID) };
	int r;

	r = query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_HOLDS,
		"ledger_transfer seq %s: the pending transfer %s has %s",
		"SELECT t.seq, t.id, CASE WHEN h.transfer_id IS NULL THEN 'no hold' "
		" WHEN (h.expires_ms = 0) != (t.timeout_ms = 0) "
		"  THEN 'a hold whose expiry does not follow its timeout' "
		" ELSE 'a hold of another amount or timeout action' END "
		"FROM ledger_transfer t LEFT JOIN ledger_hold h ON h.transfer_id = t.id "
		"WHERE (t.flags & $1) != 0 AND (h.transfer_id IS NULL "
		" OR h.amount != t.amount OR h.on_timeout != t.on_timeout "
		" OR (h.expires_ms = 0) != (t.timeout_ms = 0)) "
		"ORDER BY t.seq LIMIT 1",
		p, 1);
	if (r != 0)
		return r;
	r = query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_HOLDS, "ledger_hold %s: %s",
		"SELECT h.transfer_id, CASE "
		" WHEN t.id IS NULL OR (t.flags & $1) = 0 THEN 'no pending transfer' "
		" WHEN h.state = 'pending' THEN 'pending, yet closed by ' || h.closed_by "
		" ELSE 'state ' || h.state || ' but closed_by names no transfer of it' END "
		"FROM ledger_hold h LEFT JOIN ledger_transfer t ON t.id = h.transfer_id "
		"LEFT JOIN ledger_transfer c ON c.id = h.closed_by "
		"WHERE t.id IS NULL OR (t.flags & $1) = 0 "
		" OR (h.state = 'pending' AND h.closed_by IS NOT NULL) "
		" OR (h.state IN ('posted', 'voided') AND (c.id IS NULL "
		"  OR c.pending_id IS NULL OR c.pending_id != h.transfer_id)) "
		" OR (h.state = 'expired' AND h.closed_by IS NOT NULL AND (c.id IS NULL "
		"  OR c.pending_id IS NULL OR c.pending_id != h.transfer_id)) "
		"ORDER BY h.transfer_id LIMIT 1",
		p, 1);
	if (r != 0)
		return r;
	return query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_HOLDS, "ledger_transfer seq %s: %s",
		"SELECT t.seq, CASE "
		" WHEN h.transfer_id IS NULL THEN 'closes ' || coalesce(t.pending_id, 'NULL') "
		"  || ', which is no hold' "
		" WHEN h.closed_by IS NULL OR h.closed_by != t.id THEN 'closes hold ' || "
		"h.transfer_id "
		"  || ', which does not name it as its closer' "
		" WHEN h.state != CASE WHEN (t.flags & $1) != 0 THEN 'posted' ELSE 'voided' END "
		"  AND NOT (h.state = 'expired' AND (t.flags & $2) != 0) "
		"  THEN 'closes hold ' || h.transfer_id || ', whose state is ' || h.state "
		" WHEN (t.flags & $1) != 0 AND t.amount > h.amount "
		"  THEN 'posts more than hold ' || h.transfer_id "
		" ELSE 'accounts or asset are not those of hold ' || h.transfer_id END "
		"FROM ledger_transfer t LEFT JOIN ledger_hold h ON h.transfer_id = t.pending_id "
		"LEFT JOIN ledger_transfer p ON p.id = t.pending_id "
		"WHERE (t.flags & ($1 | $2)) != 0 AND (h.transfer_id IS NULL "
		" OR h.closed_by IS NULL OR h.closed_by != t.id "
		" OR (h.state != CASE WHEN (t.flags & $1) != 0 THEN 'posted' ELSE 'voided' END "
		"  AND NOT (h.state = 'expired' AND (t.flags & $2) != 0)) "
		" OR ((t.flags & $1) != 0 AND t.amount > h.amount) "
		" OR p.id IS NULL OR p.debit_account != t.debit_account "
		" OR p.credit_account != t.credit_account OR p.asset != t.asset) "
		"ORDER BY t.seq LIMIT 1",
		p + 1, 2);
}

/* Each account's four balances, recomputed: posted from the transfers
 * that are neither holds nor voids (plain transfers and posts), pending
 * from the holds still pending. */
static int check_balances(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	const struct anfu_param p[] = { ANFU_PI(TRF_PENDING), ANFU_PI(TRF_VOID) };

	return query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_BALANCES,
		"ledger_account %s: %s is %s, the journal gives %s",
		"WITH pd AS (SELECT debit_account AS id, sum(amount) AS s FROM ledger_transfer "
		"  WHERE (flags & ($1 | $2)) = 0 GROUP BY debit_account), "
		"pc AS (SELECT credit_account AS id, sum(amount) AS s FROM ledger_transfer "
		"  WHERE (flags & ($1 | $2)) = 0 GROUP BY credit_account), "
		"hd AS (SELECT t.debit_account AS id, sum(t.amount) AS s FROM ledger_transfer t "
		"  JOIN ledger_hold h ON h.transfer_id = t.id "
		"  WHERE (t.flags & $1) != 0 AND h.state = 'pending' GROUP BY t.debit_account), "
		"hc AS (SELECT t.credit_account AS id, sum(t.amount) AS s FROM ledger_transfer t "
		"  JOIN ledger_hold h ON h.transfer_id = t.id "
		"  WHERE (t.flags & $1) != 0 AND h.state = 'pending' GROUP BY t.credit_account), "
		"x AS (SELECT a.id, a.debits_pending AS dp, coalesce(hd.s, 0) AS xdp, "
		"  a.debits_posted AS dpo, coalesce(pd.s, 0) AS xdpo, "
		"  a.credits_pending AS cp, coalesce(hc.s, 0) AS xcp, "
		"  a.credits_posted AS cpo, coalesce(pc.s, 0) AS xcpo FROM ledger_account a "
		"  LEFT JOIN pd ON pd.id = a.id LEFT JOIN pc ON pc.id = a.id "
		"  LEFT JOIN hd ON hd.id = a.id LEFT JOIN hc ON hc.id = a.id) "
		"SELECT id, CASE WHEN dp != xdp THEN 'debits_pending' "
		" WHEN dpo != xdpo THEN 'debits_posted' WHEN cp != xcp THEN 'credits_pending' "
		" ELSE 'credits_posted' END, "
		" CASE WHEN dp != xdp THEN dp WHEN dpo != xdpo THEN dpo WHEN cp != xcp THEN cp "
		" ELSE cpo END, "
		" CASE WHEN dp != xdp THEN xdp WHEN dpo != xdpo THEN xdpo WHEN cp != xcp THEN xcp "
		" ELSE xcpo END "
		"FROM x WHERE dp != xdp OR dpo != xdpo OR cp != xcp OR cpo != xcpo "
		"ORDER BY id LIMIT 1",
		p, 2);
}

/* Per asset, over the accounts: Σ debits = Σ credits, posted and pending
 * apart (double entry). */
static int check_assets(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	return query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_ASSETS,
		"asset %s: the accounts' debits (%s posted, %s pending) are not their credits "
		"(%s posted, %s pending)",
		"SELECT asset, sum(debits_posted), sum(debits_pending), sum(credits_posted), "
		" sum(credits_pending) FROM ledger_account GROUP BY asset "
		"HAVING sum(debits_posted) != sum(credits_posted) "
		" OR sum(debits_pending) != sum(credits_pending) ORDER BY asset LIMIT 1",
		NULL, 0);
}

/* No balance negative; a "debits must not exceed credits" account has
 * debits (pending and posted) within its posted credits, a "credits must
 * not exceed debits" account the other way round. */
static int check_limits(struct anfu_db *db, struct anfu_ledger_verify_report *rep)
{
	const struct anfu_param p[] = { ANFU_PI(ACC_DEBITS_LIMITED), ANFU_PI(ACC_CREDITS_LIMITED) };

	return query_first_bad(
		db, rep, ANFU_LEDGER_CHECK_LIMITS, "ledger_account %s: %s",
		"SELECT id, CASE "
		" WHEN debits_pending < 0 OR debits_posted < 0 OR credits_pending < 0 "
		"  OR credits_posted < 0 "
		"  THEN 'a balance is negative' "
		" WHEN (flags & $1) != 0 AND debits_pending + debits_posted > credits_posted "
		"  THEN 'debits exceed credits' ELSE 'credits exceed debits' END "
		"FROM ledger_account "
		"WHERE debits_pending < 0 OR debits_posted < 0 OR credits_pending < 0 "
		" OR credits_posted < 0 "
		" OR ((flags & $1) != 0 AND debits_pending + debits_posted > credits_posted) "
		" OR ((flags & $2) != 0 AND credits_pending + credits_posted > debits_posted) "
		"ORDER BY id LIMIT 1",
		p, 2);
}

/* ---- all of them --------------------------------------------------------- */

/* Runs the checks in order; returns the first database error (the later
 * checks are not run then), else 0 (the report says what failed). */
static int run_checks(struct anfu_db *db, enum anfu_hash_alg alg,
		      struct anfu_ledger_verify_report *rep)
{
	struct chain_end end = { .batch = -1 };
	int r;

	r = check_journal(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_chain(db, alg, rep, &end);
	/* A broken chain has no last batch to compare the head with. */
	if (r >= 0 && end.batch >= 0)
		r = check_head(db, rep, &end);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_batches(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_accounts(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_holds(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_balances(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_assets(db, rep);
	if (r >= 0 || r == ANFU_ECORRUPT)
		r = check_limits(db, rep);
	return r == ANFU_ECORRUPT ? 0 : r;
}

int anfu_ledger_verify(struct anfu_db *db, enum anfu_hash_alg alg,
		       struct anfu_ledger_verify_report *rep)
{
	int r;

	if (!db || !rep)
		return ANFU_EINVAL;
	memset(rep, 0, sizeof(*rep));
	r = anfu_db_begin_read(db);
	if (r < 0) {
		(void)snprintf(rep->problem, sizeof(rep->problem), "cannot read the database: %s",
			       anfu_strerror(r));
		return r;
	}
	r = run_checks(db, alg, rep);
	if (r == 0) {
		r = anfu_db_query_int(db, "SELECT count(*) FROM ledger_account", NULL, 0,
				      &rep->accounts);
		if (r == 0)
			r = anfu_db_query_int(db, "SELECT count(*) FROM ledger_hold", NULL, 0,
					      &rep->holds);
	}
	(void)anfu_db_end_read(db);
	if (r < 0) {
		rep->failed = 0;
		(void)snprintf(rep->problem, sizeof(rep->problem),
			       "the ledger tables could not be read: %s", anfu_strerror(r));
		return r;
	}
	return rep->failed ? ANFU_ECORRUPT : 0;
}
