/*
 * store/db: the engine-independent face of the store.
 *
 * Owns the anfu_db_* wrappers that dispatch through db->ops, the row
 * accessors, and the commit-latency histogram. Trusts the implementation
 * behind db->ops to keep tx_depth true and to log its own failures.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "store/row.h"
#include "store/store.h"

struct anfu_hist anfu_store_commit_hist;
struct anfu_hist anfu_store_wlock_wait_hist;

/* ---- rows -------------------------------------------------------------- */

int anfu_row_count(const struct anfu_row *r)
{
	return r->ops->count(r->impl);
}

static bool col_ok(const struct anfu_row *r, int col)
{
	return col >= 0 && col < r->ops->count(r->impl);
}

bool anfu_row_is_null(const struct anfu_row *r, int col)
{
	return !col_ok(r, col) || r->ops->is_null(r->impl, col);
}

int64_t anfu_row_int(const struct anfu_row *r, int col)
{
	return col_ok(r, col) ? r->ops->get_int(r->impl, col) : 0;
}

const char *anfu_row_text(const struct anfu_row *r, int col, size_t *ret_len)
{
	if (!col_ok(r, col) || r->ops->is_null(r->impl, col)) {
		if (ret_len)
			*ret_len = 0;
		return NULL;
	}
	return r->ops->get_text(r->impl, col, ret_len);
}

/* ---- connection wrappers ------------------------------------------------ */

/* Picks the implementation named by cfg->backend ("sqlite" or empty,
 * "postgresql"). */
static const struct anfu_store_ops *backend(const struct anfu_store_cfg *cfg)
{
	if (!cfg->backend || cfg->backend[0] == '\0' ||
	    strcmp(cfg->backend, anfu_store_sqlite_ops.name) == 0)
		return &anfu_store_sqlite_ops;
	if (strcmp(cfg->backend, anfu_store_pg_ops.name) == 0)
		return &anfu_store_pg_ops;
	return NULL;
}

int anfu_db_open(const struct anfu_store_cfg *cfg, struct anfu_db **ret)
{
	const struct anfu_store_ops *ops;

	if (!cfg || !ret)
		return ANFU_EINVAL;
	ops = backend(cfg);
	if (!ops) {
		anfu_log_error("store.open", "unknown database backend \"%s\"", cfg->backend);
		return ANFU_EINVAL;
	}
	return ops->open(cfg, ret);
}

void anfu_db_close(struct anfu_db *db)
{
	if (db)
		db->ops->close(db);
}

int anfu_db_begin(struct anfu_db *db)
{
	return db ? db->ops->begin(db, true) : ANFU_EINVAL;
}

int anfu_db_begin_read(struct anfu_db *db)
{
	return db ? db->ops->begin(db, false) : ANFU_EINVAL;
}

int anfu_db_commit(struct anfu_db *db)
{
	int64_t t0;
	int r;

	if (!db)
		return ANFU_EINVAL;
	t0 = anfu_clock_mono_us();
	r = db->ops->commit(db);
	anfu_hist_observe(&anfu_store_commit_hist, anfu_clock_mono_us() - t0);
	return r;
}

int anfu_db_rollback(struct anfu_db *db)
{
	if (!db || db->tx_depth == 0)
		return 0;
	return db->ops->rollback(db);
}

int anfu_db_end_read(struct anfu_db *db)
{
	return anfu_db_rollback(db);
}

int anfu_db_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		 anfu_row_fn fn, void *ud, int64_t *ret_changes)
{
	if (!db || !sql)
		return ANFU_EINVAL;
	return db->ops->exec(db, sql, p, np, fn, ud, ret_changes);
}

int anfu_db_send(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		 anfu_row_fn fn, void *ud, int64_t expect_changes)
{
	int64_t changes = 0;
	int r;

	if (!db || !sql || db->tx_depth == 0)
		return ANFU_EINVAL;
	if (db->ops->send)
		return db->ops->send(db, sql, p, np, fn, ud, expect_changes);
	r = db->ops->exec(db, sql, p, np, fn, ud, &changes);
	if (r == 0 && expect_changes >= 0 && changes != expect_changes) {
		anfu_log_warn("store", "%" PRId64 " rows changed, %" PRId64 " expected: %.300s",
			      changes, expect_changes, sql);
		r = ANFU_EINTERNAL;
	}
	return r;
}

int anfu_db_flush(struct anfu_db *db)
{
	if (!db)
		return ANFU_EINVAL;
	return db->ops->flush ? db->ops->flush(db) : 0;
}

struct query_int {
	bool found;
	int64_t v;
};

static int query_int_cb(void *ud, const struct anfu_row *r)
{
	struct query_int *q = ud;

	if (!anfu_row_is_null(r, 0)) {
		q->found = true;
		q->v = anfu_row_int(r, 0);
	}
	return 1; /* the first row is all we want */
}

int anfu_db_query_int(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		      int64_t *ret)
{
	struct query_int q = { false, 0 };
	int r;

	r = anfu_db_exec(db, sql, p, np, query_int_cb, &q, NULL);
	if (r < 0)
		return r;
	/* A NULL in the first column (max() over no rows) is no value either. */
	if (!q.found)
		return ANFU_ENOTFOUND;
	if (ret)
		*ret = q.v;
	return 0;
}

/* ---- cluster leases ------------------------------------------------------ */

/* See store.h. */
int32_t anfu_db_lease_key(const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *c = name ? name : ""; *c; c++) {
		h ^= (uint8_t)*c;
		h *= 16777619u;
	}
	return (int32_t)(h & 0x7fffffffu);
}

/* See store.h. */
int anfu_db_lease_try(struct anfu_db *db, int32_t key, bool *ret_held)
{
	bool held = true;
	int r = 0;

	if (!db || !ret_held || db->tx_depth != 0)
		return ANFU_EINVAL;
	if (db->ops->lease_try)
		r = db->ops->lease_try(db, key, &held);
	if (r < 0)
		return r;
	*ret_held = held;
	return 0;
}

/* See store.h. */
int anfu_db_lease_release(struct anfu_db *db, int32_t key)
{
	if (!db || db->tx_depth != 0)
		return ANFU_EINVAL;
	return db->ops->lease_release ? db->ops->lease_release(db, key) : 0;
}

/* Savepoint names are identifiers, which SQL cannot bind: accept only
 * [a-z_][a-z0-9_]{0,31} so the text spliced in is always harmless. */
bool anfu_store_savepoint_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 32 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}
