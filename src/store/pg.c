/*
 * store/pg: the PostgreSQL implementation of struct anfu_store_ops (libpq).
 *
 * Owns the PGconn of each connection and its cache of prepared statements;
 * this is the only file that includes libpq-fe.h. Like store/sqlite.c it
 * trusts callers to use one connection from one thread at a time
 * (store/pool.c hands each thread its own) and the SQL text to be anfu's,
 * never built from input: values always travel as $1..$n parameters, in
 * binary (int8, text), so nothing is quoted or converted on the way.
 * Server messages and SQL are logged here, mapped to ANFU_E* codes by
 * SQLSTATE, and never leave this file.
 *
 * Semantics kept from SQLite (docs/architecture.md, "PostgreSQL"):
 * - begin(write) is BEGIN ISOLATION LEVEL READ COMMITTED plus a
 *   transaction-level advisory lock that every write transaction takes,
 *   so write transactions run one at a time as with BEGIN IMMEDIATE. READ
 *   COMMITTED is required for that: each statement after the lock sees
 *   every transaction committed before the lock was granted (REPEATABLE
 *   READ would keep the snapshot taken before the wait). lock_timeout is
 *   the busy timeout, so a writer that waits too long gets ANFU_EBUSY.
 * - begin(read) is REPEATABLE READ READ ONLY: one snapshot for the whole
 *   transaction, like SQLite's read transaction.
 * - A failed statement inside a transaction aborts the transaction on
 *   PostgreSQL (SQLite undoes only the statement). Every later statement
 *   is refused with ANFU_EIO until the caller rolls back, or rolls back to
 *   a savepoint, which is what the transaction executor's steps do.
 * - A lost connection (SQLSTATE class 08, or libpq reports it bad) fails
 *   the call with ANFU_EIO; the transaction it carried is gone, so the
 *   connection refuses statements until the caller rolls back, and the
 *   next call outside a transaction reconnects (PQreset) first. A BEGIN
 *   that finds its idle connection dead reconnects and is sent once more
 *   (nothing ran yet), so a request that comes after the server is back
 *   is not failed by the restart it never saw.
 * - Cluster leases (store.h anfu_db_lease_try) are session-level advisory
 *   locks in the two-key space, apart from the writers' lock; the server
 *   drops them with their connection.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/row.h"
#include "store/store.h"

/* Type OIDs of the parameters we send (pg_type.dat; stable since 7.x). */
#define OID_INT8 20
#define OID_TEXT 25

#define STR_(x) #x
#define STR(x) STR_(x)

/* Key of the advisory lock every write transaction takes: "anfu". */
#define WRITER_LOCK_KEY "1634625141"

struct pstmt {
	char *key; /* SQL text, NUL, parameter types ("itn") */
	size_t keylen;
	uint32_t hash;
	char name[16];
	uint64_t used;
	struct pstmt *next;
};

/* A statement sent in pipeline mode whose outcome is not read yet. */
struct pending {
	const char *sql; /* its cache entry's text (no eviction until read) */
	anfu_row_fn fn;
	void *ud;
	int64_t expect;	      /* rows it must change; -1: any */
	int64_t *ret_changes; /* may be NULL */
};

struct pg_db {
	struct anfu_db base; /* first: callers see only this */
	PGconn *conn;
	bool broken; /* connection lost: reconnect before the next use */
	/* Sent in pipeline mode, outcome not read yet (in the order sent);
	 * npend > 0 exactly while the connection is in pipeline mode. */
	struct pending pend[ANFU_LIMIT_DB_PIPELINE];
	size_t npend;
	struct pstmt *bucket[ANFU_LIMIT_STMT_BUCKETS];
	size_t nstmt;
	uint64_t tick;
	uint64_t next_name;
	int busy_timeout_ms;
	int statement_timeout_ms;
};

static struct pg_db *pg(struct anfu_db *db)
{
	return (struct pg_db *)db;
}

/* ---- errors ---------------------------------------------------------- */

/* Maps a SQLSTATE (NULL: none, e.g. the connection went away). */
static int map_sqlstate(const char *st)
{
	if (!st || strlen(st) != 5)
		return ANFU_EIO;
	if (strcmp(st, "23505") == 0)
		return ANFU_EEXIST;
	if (strncmp(st, "23", 2) == 0 || strcmp(st, "P0001") == 0)
		return ANFU_ECONFLICT;
	if (strcmp(st, "53100") == 0)
		return ANFU_EFULL;
	if (strcmp(st, "55P03") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	    strcmp(st, "57014") == 0)
		return ANFU_EBUSY;
	return ANFU_EIO;
}

static bool conn_lost(struct pg_db *d, const char *st)
{
	return PQstatus(d->conn) != CONNECTION_OK || (st && strncmp(st, "08", 2) == 0) ||
	       (st && strncmp(st, "57P", 3) == 0); /* admin shutdown, crash shutdown */
}

/* Logs the failure of res (may be NULL) for sql and returns the mapped
 * code; a lost connection marks d broken. */
static int fail(struct pg_db *d, const PGresult *res, const char *what, const char *sql)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int r = map_sqlstate(st);

	if (conn_lost(d, st)) {
		d->broken = true;
		r = ANFU_EIO;
	}
	if (!msg)
		msg = PQerrorMessage(d->conn);
	anfu_log_warn("store.pg", "%s: %s (SQLSTATE %s, %s): %.300s", what, msg ? msg : "",
		      st ? st : "none", anfu_strerror(r), sql ? sql : "");
	return r;
}

/* Statements inside a transaction that failed, or whose connection was
 * lost, would run outside it behind the caller's back (or not at all):
 * they are refused until the caller rolls back. */
static int check_tx_alive(struct pg_db *d, const char *sql)
{
	PGTransactionStatusType ts;

	if (d->base.tx_depth == 0)
		return 0;
	/* Statements in flight: the server's answer tells (pipe_sync). */
	if (d->npend > 0 && !d->broken)
		return 0;
	ts = d->broken ? PQTRANS_UNKNOWN : PQtransactionStatus(d->conn);
	if (ts == PQTRANS_INTRANS)
		return 0;
	anfu_log_warn("store.pg", "the transaction failed or was lost; refusing: %.300s", sql);
	return ANFU_EIO;
}

/* ---- connection ------------------------------------------------------- */

static void notice_ignore(void *arg, const char *message)
{
	(void)arg;
	anfu_log_debug("store.pg", "notice: %.300s", message);
}

/* Runs fixed SQL text (possibly several statements) without parameters. */
static int run(struct pg_db *d, const char *sql)
{
	PGresult *res;

	ANFU_ASSERT(d->npend == 0); /* PQexec is refused in pipeline mode */
	res = PQexec(d->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int r = 0;

	/* EMPTY_QUERY: a migration part that is only comments. */
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
		r = fail(d, res, "exec", sql);
	PQclear(res);
	return r;
}

static void cache_clear(struct pg_db *d);

/* Session settings of a fresh (or reset) connection. The values are
 * integers formatted here, so splicing them is harmless. */
static int session_setup(struct pg_db *d)
{
	char sql[160];

	(void)PQsetNoticeProcessor(d->conn, notice_ignore, NULL);
	(void)snprintf(sql, sizeof(sql),
		       "SET lock_timeout = %d; SET statement_timeout = %d; "
		       "SET idle_in_transaction_session_timeout = 0",
		       d->busy_timeout_ms, d->statement_timeout_ms);
	return run(d, sql);
}

/* Reconnects a broken connection; outside a transaction only. */
static int ensure_conn(struct pg_db *d)
{
	if (!d->broken && PQstatus(d->conn) == CONNECTION_OK)
		return 0;
	if (d->base.tx_depth > 0)
		return ANFU_EIO;
	cache_clear(d); /* prepared statements died with the session */
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		anfu_log_warn("store.pg", "reconnect failed: %s", PQerrorMessage(d->conn));
		d->broken = true;
		return ANFU_EIO;
	}
	d->broken = false;
	anfu_log_info("store.pg", "reconnected to the database");
	return session_setup(d);
}

/* ---- rows -------------------------------------------------------------- */

struct pg_row {
	const PGresult *res;
	int row;
};

static int row_count(const void *impl)
{
	return PQnfields(((const struct pg_row *)impl)->res);
}

static bool row_is_null(const void *impl, int col)
{
	const struct pg_row *pr = impl;

	return PQgetisnull(pr->res, pr->row, col) != 0;
}

/* Integers arrive as decimal text; booleans (t/f) read as 1/0 so that a
 * comparison in a select list reads the same on both engines. */
static int64_t row_int(const void *impl, int col)
{
	const struct pg_row *pr = impl;
	const char *s = PQgetvalue(pr->res, pr->row, col);
	char *end = NULL;
	long long v;

	if (!s || PQgetisnull(pr->res, pr->row, col))
		return 0;
	if (s[0] == 't' && s[1] == '\0')
		return 1;
	if (s[0] == 'f' && s[1] == '\0')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return 0;
	return (int64_t)v;
}

static const char *row_text(const void *impl, int col, size_t *ret_len)
{
	const struct pg_row *pr = impl;
	const char *s = PQgetvalue(pr->res, pr->row, col);

	if (ret_len)
		*ret_len = (size_t)PQgetlength(pr->res, pr->row, col);
	return s;
}

static const struct anfu_row_ops pg_row_ops = {
	.count = row_count,
	.is_null = row_is_null,
	.get_int = row_int,
	.get_text = row_text,
};

/* ---- parameters -------------------------------------------------------- */

/* Skips a quoted literal or identifier starting at s (on the quote). */
static const char *skip_quoted(const char *s)
{
	char q = *s++;

	while (*s) {
		if (*s == q && s[1] == q)
			s += 2;
		else if (*s++ == q)
			return s;
	}
	return s;
}

/* Every parameter the statement names must be one of $1..$np, every
 * given one must be used, and "?" placeholders are refused: the same rule
 * store/sqlite.c enforces, checked before the server sees the statement
 * (it would answer a missing parameter with a protocol error). */
static int check_params(const char *sql, size_t np)
{
	bool used[ANFU_LIMIT_SQL_PARAMS + 1] = { false };
	const char *s = sql;

	while (*s) {
		if (*s == '\'' || *s == '"') {
			s = skip_quoted(s);
		} else if (s[0] == '-' && s[1] == '-') {
			while (*s && *s != '\n')
				s++;
		} else if (*s == '?') {
			return ANFU_EINVAL;
		} else if (*s == '$') {
			size_t k = 0;

			s++;
			if (*s < '1' || *s > '9')
				return ANFU_EINVAL;
			while (*s >= '0' && *s <= '9' && k <= np)
				k = k * 10 + (size_t)(*s++ - '0');
			if (k < 1 || k > np)
				return ANFU_EINVAL;
			used[k] = true;
		} else {
			s++;
		}
	}
	for (size_t i = 1; i <= np; i++)
		if (!used[i])
			return ANFU_EINVAL;
	return 0;
}

/* Binary parameter values: int8 big-endian, text as its bytes. */
struct pg_params {
	const char *values[ANFU_LIMIT_SQL_PARAMS];
	int lengths[ANFU_LIMIT_SQL_PARAMS];
	int formats[ANFU_LIMIT_SQL_PARAMS];
	unsigned int types[ANFU_LIMIT_SQL_PARAMS];
	unsigned char ints[ANFU_LIMIT_SQL_PARAMS][8];
	char sig[ANFU_LIMIT_SQL_PARAMS + 1]; /* "itn": the types, for the cache key */
};

static int make_params(const struct anfu_param *p, size_t np, struct pg_params *pp)
{
	for (size_t i = 0; i < np; i++) {
		uint64_t u;
		size_t len;

		pp->formats[i] = 1;
		switch (p[i].type) {
		case ANFU_P_NULL:
			pp->values[i] = NULL;
			pp->lengths[i] = 0;
			/* ANFU_PS(NULL) is a NULL text; ANFU_PNULL's type comes
			 * from where it stands (store.h). */
			pp->types[i] = p[i].len == (size_t)-1 ? OID_TEXT : 0;
			pp->sig[i] = p[i].len == (size_t)-1 ? 'N' : 'n';
			break;
		case ANFU_P_INT:
			u = (uint64_t)p[i].i;
			for (int b = 7; b >= 0; b--, u >>= 8)
				pp->ints[i][b] = (unsigned char)(u & 0xff);
			pp->values[i] = (const char *)pp->ints[i];
			pp->lengths[i] = 8;
			pp->types[i] = OID_INT8;
			pp->sig[i] = 'i';
			break;
		case ANFU_P_TEXT:
			if (!p[i].s)
				return ANFU_EINVAL;
			len = p[i].len == (size_t)-1 ? strlen(p[i].s) : p[i].len;
			/* PostgreSQL text cannot hold NUL. */
			if (len > INT_MAX || memchr(p[i].s, '\0', len))
				return ANFU_EINVAL;
			pp->values[i] = p[i].s;
			pp->lengths[i] = (int)len;
			pp->types[i] = OID_TEXT;
			pp->sig[i] = 't';
			break;
		default: return ANFU_EINVAL;
		}
	}
	pp->sig[np] = '\0';
	return 0;
}

/* ---- prepared statements ------------------------------------------------ */

static uint32_t key_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)k[i]) * 16777619u;
	return h;
}

static void pstmt_free(struct pstmt *e)
{
	if (!e)
		return;
	free(e->key);
	free(e);
}

/* Drops the least recently used statement, on the server too. The name
 * is ours ("aN"), so splicing it is harmless. */
static void cache_evict_lru(struct pg_db *d)
{
	struct pstmt **victim = NULL;
	char sql[40];

	for (size_t b = 0; b < ANFU_LIMIT_STMT_BUCKETS; b++)
		for (struct pstmt **pp = &d->bucket[b]; *pp; pp = &(*pp)->next)
			if (!victim || (*pp)->used < (*victim)->used)
				victim = pp;
	if (victim) {
		struct pstmt *e = *victim;

		*victim = e->next;
		(void)snprintf(sql, sizeof(sql), "DEALLOCATE %s", e->name);
		/* Not transactional, so fine inside a transaction; not in a
		 * failed one (the statement then stays until the session ends). */
		if (!d->broken && PQtransactionStatus(d->conn) != PQTRANS_INERROR)
			(void)run(d, sql);
		pstmt_free(e);
		d->nstmt--;
	}
}

static void cache_clear(struct pg_db *d)
{
	for (size_t b = 0; b < ANFU_LIMIT_STMT_BUCKETS; b++) {
		struct pstmt *e = d->bucket[b];

		while (e) {
			struct pstmt *next = e->next;

			pstmt_free(e);
			e = next;
		}
		d->bucket[b] = NULL;
	}
	d->nstmt = 0;
}

static int pipe_sync(struct pg_db *d);

/* The cache entry of a prepared statement for sql with these parameter
 * types, preparing it on first use (PQprepare waits for the server: what
 * is in flight is read first). */
static int stmt_get(struct pg_db *d, const char *sql, size_t np, const struct pg_params *pp,
		    struct pstmt **ret)
{
	size_t sqllen = strlen(sql), keylen = sqllen + 1 + np;
	char *key = anfu_xmalloc(keylen);
	uint32_t h;
	struct pstmt *e;
	PGresult *res;
	int r;

	memcpy(key, sql, sqllen + 1);
	memcpy(key + sqllen + 1, pp->sig, np);
	h = key_hash(key, keylen);
	for (e = d->bucket[h % ANFU_LIMIT_STMT_BUCKETS]; e; e = e->next)
		if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			break;
	if (e) {
		free(key);
		e->used = ++d->tick;
		*ret = e;
		return 0;
	}
	r = pipe_sync(d);
	if (r < 0) {
		free(key);
		return r;
	}
	if (d->nstmt >= ANFU_LIMIT_STMT_CACHE)
		cache_evict_lru(d);
	e = anfu_xcalloc(1, sizeof(*e));
	e->key = key;
	e->keylen = keylen;
	e->hash = h;
	(void)snprintf(e->name, sizeof(e->name), "a%" PRIu64, ++d->next_name);
	res = PQprepare(d->conn, e->name, sql, (int)np, np ? pp->types : NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = fail(d, res, "prepare", sql);
		PQclear(res);
		pstmt_free(e);
		return r;
	}
	PQclear(res);
	e->used = ++d->tick;
	e->next = d->bucket[h % ANFU_LIMIT_STMT_BUCKETS];
	d->bucket[h % ANFU_LIMIT_STMT_BUCKETS] = e;
	d->nstmt++;
	*ret = e;
	return 0;
}

/* ---- results ----------------------------------------------------------- */

static int deliver_rows(const PGresult *res, anfu_row_fn fn, void *ud)
{
	struct pg_row pr = { res, 0 };
	struct anfu_row row = { &pg_row_ops, &pr };
	int n = PQntuples(res);

	for (pr.row = 0; fn && pr.row < n; pr.row++) {
		int cr = fn(ud, &row);

		if (cr != 0)
			return cr < 0 ? cr : 0;
	}
	return 0;
}

static int64_t changes_of(const PGresult *res)
{
	const char *t = PQcmdTuples((PGresult *)res);

	return t && t[0] ? strtoll(t, NULL, 10) : 0;
}

/* ---- pipeline mode ------------------------------------------------------ */

/* The outcome of pending statement q in res; first: the failure of an
 * earlier one (its rows are then not delivered). */
static int pipe_result(struct pg_db *d, PGresult *res, const struct pending *q, int first)
{
	ExecStatusType s = PQresultStatus(res);
	int64_t changes;
	int r;

	if (s == PGRES_PIPELINE_ABORTED)
		return ANFU_EIO; /* not run: an earlier statement failed */
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK)
		return fail(d, res, "exec", q->sql);
	if (first < 0)
		return 0;
	changes = s == PGRES_TUPLES_OK && strncmp(PQcmdStatus(res), "SELECT", 6) == 0
			  ? 0
			  : changes_of(res);
	r = deliver_rows(res, q->fn, q->ud);
	if (r < 0)
		return r;
	if (q->ret_changes)
		*q->ret_changes = changes;
	if (q->expect >= 0 && changes != q->expect) {
		anfu_log_warn("store.pg", "%" PRId64 " rows changed, %" PRId64 " expected: %.300s",
			      changes, q->expect, q->sql);
		return ANFU_EINTERNAL;
	}
	return 0;
}

/* Sends a sync after everything in flight, reads every outcome (one round
 * trip) and leaves pipeline mode: 0, or the first failure. A failed
 * statement fails the transaction on the server, which skips the rest
 * until the sync; a lost connection leaves d broken (PQreset ends the
 * pipeline with the session). */
static int pipe_sync(struct pg_db *d)
{
	size_t n = d->npend;
	PGresult *res;
	int first = 0;

	if (n == 0)
		return 0;
	d->npend = 0;
	if (!PQpipelineSync(d->conn)) {
		d->broken = true;
		return fail(d, NULL, "pipeline sync", d->pend[0].sql);
	}
	for (size_t i = 0; i < n && !d->broken; i++) {
		while ((res = PQgetResult(d->conn)) != NULL) {
			int r = pipe_result(d, res, &d->pend[i], first);

			if (r < 0 && first == 0)
				first = r;
			PQclear(res);
		}
		if (PQstatus(d->conn) != CONNECTION_OK)
			d->broken = true;
	}
	if (!d->broken) {
		res = PQgetResult(d->conn);
		if (PQresultStatus(res) != PGRES_PIPELINE_SYNC || !PQexitPipelineMode(d->conn)) {
			anfu_log_warn("store.pg", "pipeline did not end at its sync: %s",
				      PQerrorMessage(d->conn));
			d->broken = true;
		}
		PQclear(res);
	}
	if (d->broken && first == 0)
		first = fail(d, NULL, "pipeline", d->pend[0].sql);
	return first;
}

/* Sends prepared statement e with its parameters, or (e NULL) the
 * command text cmd without any, in pipeline mode (entering it first); q
 * says what to do with its outcome. */
static int pipe_send(struct pg_db *d, const struct pstmt *e, const char *cmd, size_t np,
		     const struct pg_params *pp, const struct pending *q)
{
	int sent;

	if (d->npend == 0 && !PQenterPipelineMode(d->conn))
		return fail(d, NULL, "enter pipeline mode", q->sql);
	sent = e ? PQsendQueryPrepared(d->conn, e->name, (int)np, np ? pp->values : NULL,
				       np ? pp->lengths : NULL, np ? pp->formats : NULL, 0)
		 : PQsendQueryParams(d->conn, cmd, 0, NULL, NULL, NULL, NULL, 0);
	if (!sent) {
		/* What went out and what did not is unknown: the transaction
		 * is lost, as with a lost connection. */
		d->broken = true;
		d->npend = 0;
		return fail(d, NULL, "send", q->sql);
	}
	d->pend[d->npend++] = *q;
	ANFU_ASSERT(d->npend <= ANFU_LIMIT_DB_PIPELINE);
	return d->npend == ANFU_LIMIT_DB_PIPELINE ? pipe_sync(d) : 0;
}

/* ---- statements -------------------------------------------------------- */

/* One statement: sent in pipeline mode when defer (or when statements are
 * already in flight, then read with them), else run and read at once. */
static int pg_stmt(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		   anfu_row_fn fn, void *ud, int64_t *ret_changes, int64_t expect, bool defer)
{
	struct pg_db *d = pg(db);
	struct pg_params pp;
	PGresult *res = NULL;
	struct pstmt *e = NULL;
	ExecStatusType s;
	int64_t changes;
	int r;

	if (!sql || np > ANFU_LIMIT_SQL_PARAMS || (np > 0 && !p))
		return ANFU_EINVAL;
	r = check_tx_alive(d, sql);
	if (r == 0)
		r = ensure_conn(d);
	if (r < 0)
		return r;
	if (check_params(sql, np) < 0) {
		anfu_log_warn("store.pg", "statement parameters are not $1..$%zu: %.300s", np, sql);
		return ANFU_EINVAL;
	}
	r = make_params(p, np, &pp);
	if (r < 0) {
		anfu_log_warn("store.pg", "bad parameter value: %.300s", sql);
		return r;
	}
	r = stmt_get(d, sql, np, &pp, &e);
	if (r < 0)
		return r;
	if (defer || d->npend > 0) {
		const struct pending q = { e->key, fn, ud, expect, ret_changes };

		r = pipe_send(d, e, NULL, np, &pp, &q);
		if (r == 0 && !defer)
			r = pipe_sync(d);
		return r;
	}
	res = PQexecPrepared(d->conn, e->name, (int)np, np ? pp.values : NULL,
			     np ? pp.lengths : NULL, np ? pp.formats : NULL, 0);
	s = PQresultStatus(res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		r = fail(d, res, "exec", sql);
		goto out;
	}
	changes = s == PGRES_TUPLES_OK && strncmp(PQcmdStatus(res), "SELECT", 6) == 0
			  ? 0
			  : changes_of(res);
	r = deliver_rows(res, fn, ud);
	if (r < 0)
		goto out;
	if (ret_changes)
		*ret_changes = changes;
	r = 0;
out:
	PQclear(res);
	return r;
}

static int pg_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		   anfu_row_fn fn, void *ud, int64_t *ret_changes)
{
	return pg_stmt(db, sql, p, np, fn, ud, ret_changes, -1, false);
}

static int pg_send(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		   anfu_row_fn fn, void *ud, int64_t expect_changes)
{
	return pg_stmt(db, sql, p, np, fn, ud, NULL, expect_changes, true);
}

static int pg_flush(struct anfu_db *db)
{
	return pipe_sync(pg(db));
}

static int pg_exec_script(struct anfu_db *db, const char *sql)
{
	struct pg_db *d = pg(db);
	int r;

	if (!sql)
		return ANFU_EINVAL;
	r = pipe_sync(d);
	if (r == 0)
		r = check_tx_alive(d, "(script)");
	if (r == 0)
		r = ensure_conn(d);
	if (r < 0)
		return r;
	return run(d, sql);
}

/* ---- transactions ------------------------------------------------------ */

static int pg_begin(struct anfu_db *db, bool write)
{
	struct pg_db *d = pg(db);
	int r;

	if (db->tx_depth != 0) {
		anfu_log_warn("store.pg", "begin inside an open transaction");
		return ANFU_EINVAL;
	}
	/* A connection that died while idle (the server restarted or failed
	 * over) is only found out by its next statement. When that is this
	 * BEGIN, it is reconnected and the BEGIN sent once more: nothing of
	 * a transaction ever ran, so the retry cannot repeat any work. */
	for (int attempt = 0; attempt < 2; attempt++) {
		r = ensure_conn(d);
		if (r < 0)
			return r;
		/* One round trip; a lock timeout leaves the transaction open
		 * and failed, so it is rolled back below. */
		r = run(d, write ? "BEGIN ISOLATION LEVEL READ COMMITTED; "
				   "SELECT pg_advisory_xact_lock(" WRITER_LOCK_KEY ")"
				 : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		if (r == 0 || !d->broken)
			break;
	}
	if (r < 0) {
		if (!d->broken && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
			(void)run(d, "ROLLBACK");
		return r;
	}
	db->tx_depth = 1;
	return 0;
}

static int pg_rollback(struct anfu_db *db)
{
	struct pg_db *d = pg(db);
	int r = 0;

	if (db->tx_depth == 0)
		return 0;
	db->tx_depth = 0;
	(void)pipe_sync(d); /* what is in flight is undone with the rest */
	/* A lost connection took its transaction with it. */
	if (!d->broken && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		r = run(d, "ROLLBACK");
	return r;
}

static int pg_commit(struct anfu_db *db)
{
	struct pg_db *d = pg(db);
	int r;

	if (db->tx_depth == 0) {
		anfu_log_warn("store.pg", "commit outside a transaction");
		return ANFU_EINVAL;
	}
	/* COMMIT of a failed transaction "succeeds" as a rollback: refuse. */
	r = pipe_sync(d);
	if (r == 0)
		r = check_tx_alive(d, "COMMIT");
	if (r == 0) {
		r = run(d, "COMMIT");
		if (r < 0 && d->broken)
			anfu_log_error("store.pg",
				       "connection lost at commit: the outcome is unknown");
	}
	if (r < 0 && !d->broken && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
		(void)run(d, "ROLLBACK");
	db->tx_depth = 0;
	return r;
}

/* SAVEPOINT and RELEASE go out in pipeline mode (their outcome is read
 * with the next statement's: a failure fails the transaction, as it
 * would at once); ROLLBACK TO waits, after what is in flight. */
static int savepoint_sql(struct anfu_db *db, const char *verb, const char *name, bool rollback_to)
{
	struct pg_db *d = pg(db);
	char sql[80];
	int r = 0;

	if (db->tx_depth == 0 || !anfu_store_savepoint_name_ok(name)) {
		anfu_log_warn("store.pg", "bad savepoint use: %s", verb);
		return ANFU_EINVAL;
	}
	if (rollback_to)
		(void)pipe_sync(d); /* undone by the rollback; failures logged */
	/* ROLLBACK TO is the one statement a failed transaction accepts. */
	if (d->broken || !rollback_to || PQtransactionStatus(d->conn) != PQTRANS_INERROR)
		r = check_tx_alive(d, verb);
	if (r < 0)
		return r;
	(void)snprintf(sql, sizeof(sql), "%s %s", verb, name);
	if (!rollback_to) {
		const struct pending q = { verb, NULL, NULL, -1, NULL };

		return pipe_send(d, NULL, sql, 0, NULL, &q);
	}
	return run(d, sql);
}

static int pg_savepoint(struct anfu_db *db, const char *name)
{
	int r = savepoint_sql(db, "SAVEPOINT", name, false);

	if (r == 0)
		db->tx_depth++;
	return r;
}

static int pg_release(struct anfu_db *db, const char *name)
{
	int r;

	if (db->tx_depth < 2)
		return ANFU_EINVAL;
	r = savepoint_sql(db, "RELEASE SAVEPOINT", name, false);
	if (r == 0)
		db->tx_depth--;
	return r;
}

static int pg_rollback_to(struct anfu_db *db, const char *name)
{
	if (db->tx_depth < 2)
		return ANFU_EINVAL;
	/* ROLLBACK TO keeps the savepoint open; the depth does not change. */
	return savepoint_sql(db, "ROLLBACK TO SAVEPOINT", name, true);
}

/* A database size cap is not something a PostgreSQL client can set: the
 * test hook is refused (ANFU_EINVAL) and its tests skip on PostgreSQL. */
static int pg_limit_size(struct anfu_db *db, int64_t extra_pages)
{
	(void)db;
	(void)extra_pages;
	anfu_log_warn("store.pg", "limit_size is not supported on PostgreSQL");
	return ANFU_EINVAL;
}

/* ---- cluster leases ---------------------------------------------------- */

/* A lease is a session-level advisory lock in the two-key space (class
 * LEASE_CLASS, the lease's key), which PostgreSQL keeps apart from the
 * one-key space of the writers' transaction lock: a lease never blocks a
 * writer. The server drops it with the session, so a node that dies, or
 * whose connection is lost, releases its leases by itself. */
#define LEASE_CLASS WRITER_LOCK_KEY

static int pg_lease_try(struct anfu_db *db, int32_t key, bool *ret_held)
{
	const struct anfu_param p[] = { ANFU_PI(key) };
	int64_t got = 0;
	int r;

	r = anfu_db_query_int(db,
			      "SELECT CASE WHEN pg_try_advisory_lock(" LEASE_CLASS
			      ", $1::int4) THEN 1 ELSE 0 END",
			      p, 1, &got);
	if (r < 0)
		return r;
	*ret_held = got == 1;
	return 0;
}

static int pg_lease_release(struct anfu_db *db, int32_t key)
{
	const struct anfu_param p[] = { ANFU_PI(key) };
	int64_t was_held = 0;
	int r;

	/* false (and a server WARNING, which the notice processor drops)
	 * when the session that took it is gone: nothing left to release. */
	r = anfu_db_query_int(db,
			      "SELECT CASE WHEN pg_advisory_unlock(" LEASE_CLASS
			      ", $1::int4) THEN 1 ELSE 0 END",
			      p, 1, &was_held);
	if (r == 0 && was_held != 1)
		anfu_log_info("store.pg", "lease %" PRId32 " was no longer held (reconnected)",
			      key);
	return r;
}

/* ---- connections ------------------------------------------------------- */

static void pg_close(struct anfu_db *db)
{
	struct pg_db *d = pg(db);

	if (!d)
		return;
	cache_clear(d);
	PQfinish(d->conn);
	free(d);
}

/* Connects with the dsn plus the options anfu sets itself; the password
 * (may be NULL: libpq then uses PGPASSWORD or ~/.pgpass) is handed to
 * libpq as a parameter, never put in a string. Entries before the dsn are
 * defaults it may override; those after it are ours alone (config refuses
 * sslmode and password in the dsn). */
static PGconn *connect_db(const struct anfu_store_cfg *cfg)
{
	const char *keys[6], *vals[6];
	int n = 0;

	keys[n] = "application_name";
	vals[n++] = "anfud";
	/* A reconnect to an unreachable host must not hang a thread for
	 * minutes (libpq waits forever by default). */
	keys[n] = "connect_timeout";
	vals[n++] = STR(ANFU_LIMIT_DB_CONNECT_TIMEOUT_S);
	keys[n] = "dbname";
	vals[n++] = cfg->dsn;
	if (cfg->sslmode && cfg->sslmode[0]) {
		keys[n] = "sslmode";
		vals[n++] = cfg->sslmode;
	}
	if (cfg->password && cfg->password[0]) {
		keys[n] = "password";
		vals[n++] = cfg->password;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	/* expand_dbname: the first "dbname" is the whole conninfo string. */
	return PQconnectdbParams(keys, vals, 1);
}

static int pg_open(const struct anfu_store_cfg *cfg, struct anfu_db **ret)
{
	struct pg_db *d = NULL;
	char err[160];
	int r;

	if (!cfg || !cfg->dsn || !ret)
		return ANFU_EINVAL;
	r = anfu_store_pg_check_dsn(cfg->dsn, err, sizeof(err));
	if (r < 0) {
		anfu_log_error("store.pg", "%s", err);
		return r;
	}
	d = anfu_xcalloc(1, sizeof(*d));
	d->base.ops = &anfu_store_pg_ops;
	d->busy_timeout_ms = cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms
						      : ANFU_LIMIT_DB_BUSY_TIMEOUT_MS_DEFAULT;
	d->statement_timeout_ms = cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms : 0;
	d->conn = connect_db(cfg);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		/* libpq's message names host and user, never the password. */
		anfu_log_warn("store.pg", "connect failed: %s",
			      d->conn ? PQerrorMessage(d->conn) : "out of memory");
		r = ANFU_EIO;
		goto out;
	}
	r = session_setup(d);
	if (r < 0)
		goto out;
	*ret = &d->base;
	d = NULL;
	r = 0;
out:
	pg_close(d ? &d->base : NULL);
	return r;
}

int anfu_store_pg_check_dsn(const char *dsn, char *errbuf, size_t errlen)
{
	PQconninfoOption *opts = NULL;
	char *perr = NULL;
	int r = 0;

	if (!dsn || !errbuf || errlen == 0)
		return ANFU_EINVAL;
	opts = PQconninfoParse(dsn, &perr);
	if (!opts) {
		/* libpq's message quotes no value of the string. */
		(void)snprintf(errbuf, errlen, "database dsn is not a libpq connection string: %s",
			       perr ? perr : "out of memory");
		PQfreemem(perr);
		return ANFU_EINVAL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (strcmp(o->keyword, "password") == 0) {
			(void)snprintf(errbuf, errlen,
				       "database dsn contains a password; use "
				       "database.password_file or PGPASSWORD");
			r = ANFU_EINVAL;
		} else if (strcmp(o->keyword, "sslmode") == 0 ||
			   strcmp(o->keyword, "requiressl") == 0) {
			(void)snprintf(errbuf, errlen,
				       "database dsn sets sslmode; use database.sslmode");
			r = ANFU_EINVAL;
		}
		if (r < 0)
			break;
	}
	PQconninfoFree(opts);
	return r;
}

/* ---- roles (anfu init --postgresql, docs/deployment.md) ------------------ */

int anfu_store_pg_dsn_user(const char *dsn, char *out, size_t cap)
{
	PQconninfoOption *opts = NULL;
	int r = ANFU_ENOTFOUND;

	if (!dsn || !out || cap == 0)
		return ANFU_EINVAL;
	opts = PQconninfoParse(dsn, NULL);
	if (!opts)
		return ANFU_EINVAL;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "user") != 0 || !o->val || !o->val[0])
			continue;
		r = strlen(o->val) < cap ? 0 : ANFU_ELIMIT;
		if (r == 0)
			memcpy(out, o->val, strlen(o->val) + 1);
	}
	PQconninfoFree(opts);
	return r;
}

/* The ALTER ROLE statement carries the verifier, never the password; it
 * is not logged either (a verifier allows an offline guessing attack). */
int anfu_store_pg_set_password(struct anfu_db *db, const char *role, const char *password)
{
	struct pg_db *d = NULL;
	char *verifier = NULL, *ident = NULL, *sql = NULL;
	PGresult *res = NULL;
	size_t n;
	int r;

	if (!db || db->ops != &anfu_store_pg_ops || !role || !password || db->tx_depth > 0)
		return ANFU_EINVAL;
	d = pg(db);
	r = ensure_conn(d);
	if (r < 0)
		return r;
	/* NULL algorithm: the server's password_encryption (scram-sha-256). */
	verifier = PQencryptPasswordConn(d->conn, password, role, NULL);
	ident = PQescapeIdentifier(d->conn, role, strlen(role));
	if (!verifier || !ident) {
		anfu_log_error("store.pg", "cannot encrypt the password of a role: %s",
			       PQerrorMessage(d->conn));
		r = ANFU_EIO;
		goto out;
	}
	n = strlen(ident) + strlen(verifier) + 32;
	sql = anfu_xmalloc(n);
	(void)snprintf(sql, n, "ALTER ROLE %s PASSWORD '%s'", ident, verifier);
	res = PQexec(d->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = fail(d, res, "set role password", "ALTER ROLE ... PASSWORD (not shown)");
		goto out;
	}
	r = 0;
out:
	PQclear(res);
	if (sql)
		anfu_wipe(sql, strlen(sql));
	free(sql);
	if (verifier)
		anfu_wipe(verifier, strlen(verifier));
	PQfreemem(verifier);
	PQfreemem(ident);
	return r;
}

const struct anfu_store_ops anfu_store_pg_ops = {
	.name = "postgresql",
	.dialect = "pg",
	.open = pg_open,
	.close = pg_close,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_to = pg_rollback_to,
	.exec = pg_exec,
	.exec_script = pg_exec_script,
	.send = pg_send,
	.flush = pg_flush,
	.limit_size = pg_limit_size,
	.lease_try = pg_lease_try,
	.lease_release = pg_lease_release,
};
