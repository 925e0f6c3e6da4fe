/*
 * tests/unit/faultstore: the SQLite ops with failures on command (see
 * faultstore.h).
 *
 * Owns the armed rules and their counts (one set per process, under a
 * mutex: the connection failing is usually another thread's). Trusts the
 * SQLite ops for everything else: a call no rule names is theirs, on the
 * same connection.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "faultstore.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct fault_rule rules[FAULT_RULES_MAX];
static int seen[FAULT_RULES_MAX]; /* matching calls per rule */
static bool spent[FAULT_RULES_MAX];
static int nrules, fired;
static const char *watch_match;
static char *watch_out;
static size_t watch_cap;

void faultstore_arm(const struct fault_rule *r, int n)
{
	pthread_mutex_lock(&mu);
	nrules = n < 0 ? 0 : (n > FAULT_RULES_MAX ? FAULT_RULES_MAX : n);
	for (int i = 0; i < nrules; i++) {
		rules[i] = r[i];
		seen[i] = 0;
		spent[i] = false;
	}
	fired = 0;
	pthread_mutex_unlock(&mu);
}

void faultstore_disarm(void)
{
	pthread_mutex_lock(&mu);
	nrules = 0;
	pthread_mutex_unlock(&mu);
}

int faultstore_fired(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = fired;
	pthread_mutex_unlock(&mu);
	return n;
}

void faultstore_watch(const char *match, char *out, size_t cap)
{
	pthread_mutex_lock(&mu);
	watch_match = match;
	watch_out = out;
	watch_cap = cap;
	pthread_mutex_unlock(&mu);
}

static void watched(const char *sql)
{
	pthread_mutex_lock(&mu);
	if (watch_out && watch_cap > 0 && strstr(sql, watch_match))
		(void)snprintf(watch_out, watch_cap, "%s", sql);
	pthread_mutex_unlock(&mu);
}

static bool matches(const struct fault_rule *r, enum fault_op op, const char *text)
{
	if (r->op != op)
		return false;
	if (!r->match)
		return true;
	if (!text)
		return false;
	return op == FAULT_EXEC ? strstr(text, r->match) != NULL : strcmp(text, r->match) == 0;
}

/* The rule that fails this call (its copy into *ret), if any. */
static bool hit(enum fault_op op, const char *text, struct fault_rule *ret)
{
	bool yes = false;

	pthread_mutex_lock(&mu);
	for (int i = 0; i < nrules && !yes; i++) {
		if (spent[i] || !matches(&rules[i], op, text))
			continue;
		if (++seen[i] == (rules[i].nth > 0 ? rules[i].nth : 1)) {
			spent[i] = true;
			fired++;
			*ret = rules[i];
			yes = true;
		}
	}
	pthread_mutex_unlock(&mu);
	return yes;
}

#define SQ anfu_store_sqlite_ops

static int f_open(const struct anfu_store_cfg *cfg, struct anfu_db **ret)
{
	struct anfu_db *db = NULL;
	int r = SQ.open(cfg, &db);

	if (r < 0)
		return r;
	db->ops = &faultstore_ops;
	*ret = db;
	return 0;
}

static int f_begin(struct anfu_db *db, bool write)
{
	struct fault_rule f;

	return hit(FAULT_BEGIN, NULL, &f) ? f.err : SQ.begin(db, write);
}

static int f_commit(struct anfu_db *db)
{
	struct fault_rule f;

	if (!hit(FAULT_COMMIT, NULL, &f))
		return SQ.commit(db);
	if (!f.leave_open)
		(void)SQ.rollback(db);
	return f.err;
}

static int f_rollback(struct anfu_db *db)
{
	struct fault_rule f;

	if (!hit(FAULT_ROLLBACK, NULL, &f))
		return SQ.rollback(db);
	if (f.leave_open)
		db->tx_depth = 0;
	else
		(void)SQ.rollback(db);
	return f.err;
}

static int f_savepoint(struct anfu_db *db, const char *name)
{
	struct fault_rule f;

	return hit(FAULT_SAVEPOINT, name, &f) ? f.err : SQ.savepoint(db, name);
}

static int f_release(struct anfu_db *db, const char *name)
{
	struct fault_rule f;

	return hit(FAULT_RELEASE, name, &f) ? f.err : SQ.release(db, name);
}

static int f_rollback_to(struct anfu_db *db, const char *name)
{
	struct fault_rule f;

	return hit(FAULT_ROLLBACK_TO, name, &f) ? f.err : SQ.rollback_to(db, name);
}

static int f_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		  anfu_row_fn fn, void *ud, int64_t *ret_changes)
{
	struct fault_rule f;

	watched(sql);
	return hit(FAULT_EXEC, sql, &f) ? f.err : SQ.exec(db, sql, p, np, fn, ud, ret_changes);
}

static void f_close(struct anfu_db *db)
{
	SQ.close(db);
}

static int f_exec_script(struct anfu_db *db, const char *sql)
{
	return SQ.exec_script(db, sql);
}

static int f_limit_size(struct anfu_db *db, int64_t extra_pages)
{
	return SQ.limit_size(db, extra_pages);
}

const struct anfu_store_ops faultstore_ops = {
	.name = "sqlite",
	.dialect = "sqlite",
	.open = f_open,
	.close = f_close,
	.begin = f_begin,
	.commit = f_commit,
	.rollback = f_rollback,
	.savepoint = f_savepoint,
	.release = f_release,
	.rollback_to = f_rollback_to,
	.exec = f_exec,
	.exec_script = f_exec_script,
	.limit_size = f_limit_size,
};
