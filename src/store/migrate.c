/*
 * store/migrate: applying the numbered migrations compiled into the binary.
 *
 * Owns the table schema_version (one row per applied migration) and the
 * rule that a database newer than this binary is refused unchanged. Each
 * migration runs in its own write transaction: its portable part, its
 * dialect part, the schema_version row and the caller's hook commit
 * together or not at all. Trusts the migration text (it is ours, embedded
 * at build time by scripts/embed_migrations.py, versions contiguous).
 */
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "store/store.h"

/* Whether a table exists is a catalogue question, which SQL does not ask
 * portably; this is the one place that knows each engine's catalogue. */
static const char *table_exists_sql(const struct anfu_db *db)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return "SELECT count(*) FROM information_schema.tables "
		       "WHERE table_schema = current_schema() AND table_name = $1";
	return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
}

int anfu_migrate_version(struct anfu_db *db, int *ret)
{
	const char *table = "schema_version";
	const struct anfu_param p[] = { ANFU_PS(table) };
	int64_t n = 0, v = 0;
	int r;

	if (!db || !ret)
		return ANFU_EINVAL;
	r = anfu_db_query_int(db, table_exists_sql(db), p, 1, &n);
	if (r < 0)
		return r;
	if (n > 0) {
		r = anfu_db_query_int(db, "SELECT max(version) FROM schema_version", NULL, 0, &v);
		if (r == ANFU_ENOTFOUND)
			v = 0;
		else if (r < 0)
			return r;
	}
	if (v < 0 || v > 1000000) {
		anfu_log_error("store.migrate", "schema version %lld is not plausible",
			       (long long)v);
		return ANFU_ESCHEMA;
	}
	*ret = (int)v;
	return 0;
}

int anfu_migrate_latest(void)
{
	return anfu_migrations_count ? anfu_migrations[anfu_migrations_count - 1].version : 0;
}

static const char *dialect_sql(const struct anfu_db *db, const struct anfu_migration *m)
{
	if (strcmp(db->ops->dialect, "sqlite") == 0)
		return m->sql_sqlite;
	if (strcmp(db->ops->dialect, "pg") == 0)
		return m->sql_pg;
	return NULL;
}

static int refuse_newer(int v)
{
	anfu_log_error("store.migrate",
		       "database schema version %d is newer than this binary (%d); refusing it", v,
		       anfu_migrate_latest());
	return ANFU_ESCHEMA;
}

/* Runs migration m in a transaction of its own. *ret_applied tells whether
 * it ran (another process may have applied it meanwhile). */
static int apply_one(struct anfu_db *db, const struct anfu_migration *m, anfu_migrate_fn on_applied,
		     void *ud, bool *ret_applied)
{
	const char *dsql = dialect_sql(db, m);
	int v = 0, r;

	r = anfu_db_begin(db);
	if (r < 0)
		return r;
	/* Read the version again under the write lock: another process
	 * migrating at the same time must not make us apply m twice. */
	r = anfu_migrate_version(db, &v);
	if (r < 0)
		goto out;
	if (v > anfu_migrate_latest()) {
		r = refuse_newer(v);
		goto out;
	}
	if (v >= m->version) {
		*ret_applied = false;
		r = anfu_db_rollback(db);
		return r;
	}
	r = db->ops->exec_script(db, m->sql);
	if (r == 0 && dsql)
		r = db->ops->exec_script(db, dsql);
	if (r < 0)
		goto out;
	{
		const struct anfu_param p[] = { ANFU_PI(m->version), ANFU_PS(m->name),
						ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(db,
				 "INSERT INTO schema_version (version, name, applied_ms) "
				 "VALUES ($1, $2, $3)",
				 p, 3, NULL, NULL, NULL);
	}
	if (r == 0 && on_applied)
		r = on_applied(ud, db, m);
	if (r == 0)
		r = anfu_db_commit(db);
	if (r == 0)
		*ret_applied = true;
out:
	if (r < 0) {
		anfu_log_error("store.migrate", "migration %04d_%s failed: %s", m->version, m->name,
			       anfu_strerror(r));
		(void)anfu_db_rollback(db);
	}
	return r;
}

int anfu_migrate(struct anfu_db *db, anfu_migrate_fn on_applied, void *ud, int *ret_from,
		 int *ret_to)
{
	int from = 0, to;
	int r;

	if (!db || db->tx_depth != 0)
		return ANFU_EINVAL;
	r = anfu_migrate_version(db, &from);
	if (r < 0)
		return r;
	if (from > anfu_migrate_latest())
		return refuse_newer(from);
	to = from;
	for (size_t i = 0; i < anfu_migrations_count; i++) {
		const struct anfu_migration *m = &anfu_migrations[i];
		bool applied = false;

		if (m->version <= to)
			continue;
		r = apply_one(db, m, on_applied, ud, &applied);
		if (r < 0)
			return r;
		if (applied)
			anfu_log_info("store.migrate", "applied migration %04d_%s", m->version,
				      m->name);
		to = m->version;
	}
	if (ret_from)
		*ret_from = from;
	if (ret_to)
		*ret_to = to;
	return 0;
}
