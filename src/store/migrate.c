/*
 * store/migrate: applying the migrations compiled into the binary, one
 * numbered sequence per module.
 *
 * Owns the table schema_version (one row per applied migration, keyed by
 * module and version), the legacy map of databases made when all of anfu
 * had one global sequence, and the rule that a database newer than this
 * binary is refused unchanged. Each migration runs in its own write
 * transaction: its portable part, its dialect part, the schema_version row
 * and the caller's hook commit together or not at all. Trusts the
 * migration text (it is ours, embedded at build time by
 * scripts/embed_migrations.py, which refuses a gap in a module's sequence).
 *
 * A module of the database that the binary does not have (a build without
 * an optional module opening a database made by one with it) is left
 * alone: its rows and tables stay, nothing reads them.
 */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "store/store.h"

/* The bookkeeping table, made before the first migration runs (in that
 * migration's transaction) or when a legacy database is converted. */
#define SCHEMA_VERSION_DDL                            \
	"CREATE TABLE IF NOT EXISTS schema_version (" \
	" module TEXT NOT NULL,"                      \
	" version INTEGER NOT NULL,"                  \
	" name TEXT NOT NULL,"                        \
	" applied_ms BIGINT NOT NULL,"                \
	" PRIMARY KEY (module, version))"

/*
 * Databases made before modules had sequences of their own recorded one
 * global version, 1..5, in schema_version (version, name, applied_ms). The
 * files were split so that each legacy version is exactly these whole
 * (module, version) migrations, applied in this order.
 */
static const struct legacy_step {
	int legacy;
	const char *module;
	int version;
	const char *name;
} legacy_map[] = {
	{ 1, "core", 1, "foundation" },	      { 2, "core", 2, "vault_jobs" },
	{ 2, "notify", 1, "messages" },	      { 2, "iam", 1, "iam" },
	{ 3, "core", 3, "audit_no_replace" }, { 4, "iam", 2, "alerts_approvals" },
	{ 5, "iam", 3, "iam_bindings" },
};

#define LEGACY_LATEST 5
#define LEGACY_STEPS (sizeof(legacy_map) / sizeof(legacy_map[0]))

enum layout {
	LAYOUT_NONE,   /* no schema_version: a fresh database */
	LAYOUT_LEGACY, /* schema_version (version, name, applied_ms) */
	LAYOUT_MODULE, /* schema_version (module, version, name, applied_ms) */
};

/* Whether a table or column exists is a catalogue question, which SQL does
 * not ask portably; this is the one place that knows each engine's
 * catalogue. */
static const char *table_exists_sql(const struct anfu_db *db)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return "SELECT count(*) FROM information_schema.tables "
		       "WHERE table_schema = current_schema() AND table_name = $1";
	return "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
}

static const char *column_exists_sql(const struct anfu_db *db)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return "SELECT count(*) FROM information_schema.columns "
		       "WHERE table_schema = current_schema() AND table_name = $1 "
		       "AND column_name = $2";
	return "SELECT count(*) FROM pragma_table_info($1) WHERE name = $2";
}

static int get_layout(struct anfu_db *db, enum layout *ret)
{
	const char *table = "schema_version", *column = "module";
	const struct anfu_param p[] = { ANFU_PS(table), ANFU_PS(column) };
	int64_t n = 0;
	int r;

	r = anfu_db_query_int(db, table_exists_sql(db), p, 1, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		*ret = LAYOUT_NONE;
		return 0;
	}
	r = anfu_db_query_int(db, column_exists_sql(db), p, 2, &n);
	if (r < 0)
		return r;
	*ret = n > 0 ? LAYOUT_MODULE : LAYOUT_LEGACY;
	return 0;
}

static int plausible(int64_t v, const char *module)
{
	if (v >= 0 && v <= ANFU_LIMIT_MIGRATION_VERSION)
		return 0;
	anfu_log_error("store.migrate", "schema version %lld of module %s is not plausible",
		       (long long)v, module);
	return ANFU_ESCHEMA;
}

/* The global version of a legacy database; ANFU_ESCHEMA (logged) unless
 * its rows are exactly 1..v. */
static int legacy_version(struct anfu_db *db, int *ret)
{
	int64_t n = 0, lo = 0, hi = 0;
	int r;

	r = anfu_db_query_int(db, "SELECT count(*) FROM schema_version", NULL, 0, &n);
	if (r == 0 && n > 0)
		r = anfu_db_query_int(db, "SELECT min(version) FROM schema_version", NULL, 0, &lo);
	if (r == 0 && n > 0)
		r = anfu_db_query_int(db, "SELECT max(version) FROM schema_version", NULL, 0, &hi);
	if (r < 0)
		return r;
	if (n > 0 && (lo != 1 || hi != n || plausible(hi, "(legacy)") < 0)) {
		anfu_log_error("store.migrate",
			       "legacy schema versions are not 1..%lld (%lld rows from %lld)",
			       (long long)hi, (long long)n, (long long)lo);
		return ANFU_ESCHEMA;
	}
	*ret = (int)hi;
	return 0;
}

/* What the legacy map says module is at in a database at legacy version
 * lv (0: none of its migrations). */
static int legacy_module_version(const char *module, int lv)
{
	int v = 0;

	for (size_t i = 0; i < LEGACY_STEPS; i++)
		if (legacy_map[i].legacy <= lv && strcmp(legacy_map[i].module, module) == 0 &&
		    legacy_map[i].version > v)
			v = legacy_map[i].version;
	return v;
}

int anfu_migrate_version(struct anfu_db *db, const char *module, int *ret)
{
	const struct anfu_param p[] = { ANFU_PS(module) };
	enum layout layout = LAYOUT_NONE;
	int64_t v = 0;
	int lv = 0, r;

	if (!db || !module || !ret)
		return ANFU_EINVAL;
	r = get_layout(db, &layout);
	if (r < 0)
		return r;
	if (layout == LAYOUT_LEGACY) {
		r = legacy_version(db, &lv);
		if (r < 0)
			return r;
		/* Beyond the legacy numbering every module may have moved:
		 * report the core as newer, which refuses the database. */
		v = lv > LEGACY_LATEST && strcmp(module, "core") == 0
			    ? lv
			    : legacy_module_version(module, lv);
	} else if (layout == LAYOUT_MODULE) {
		r = anfu_db_query_int(db,
				      "SELECT COALESCE(max(version), 0) FROM schema_version "
				      "WHERE module = $1",
				      p, 1, &v);
		if (r < 0)
			return r;
	}
	r = plausible(v, module);
	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

int anfu_migrate_latest(const struct anfu_migration_set *set)
{
	return set && set->n ? set->migrations[set->n - 1].version : 0;
}

static int refuse_newer(const struct anfu_migration_set *set, int v)
{
	anfu_log_error("store.migrate",
		       "module %s: database schema version %d is newer than this binary (%d); "
		       "refusing it",
		       set->module, v, anfu_migrate_latest(set));
	return ANFU_ESCHEMA;
}

int anfu_migrate_status(struct anfu_db *db, const struct anfu_migration_set *sets, size_t n,
			int *ret_versions, int *ret_pending)
{
	int pending = 0, r;

	if (!db || (!sets && n > 0))
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		r = anfu_migrate_version(db, sets[i].module, &v);
		if (r < 0)
			return r;
		if (v > anfu_migrate_latest(&sets[i]))
			return refuse_newer(&sets[i], v);
		pending += anfu_migrate_latest(&sets[i]) - v;
		if (ret_versions)
			ret_versions[i] = v;
	}
	if (ret_pending)
		*ret_pending = pending;
	return 0;
}

/* Rewrites a legacy schema_version as the rows of the (module, version)
 * migrations its global version stands for, keeping when each was
 * applied. db is inside a write transaction. */
static int convert_legacy(struct anfu_db *db, int lv)
{
	int r;

	r = anfu_db_exec(db, "ALTER TABLE schema_version RENAME TO schema_version_legacy", NULL, 0,
			 NULL, NULL, NULL);
	if (r == 0)
		r = anfu_db_exec(db, SCHEMA_VERSION_DDL, NULL, 0, NULL, NULL, NULL);
	for (size_t i = 0; r == 0 && i < LEGACY_STEPS; i++) {
		const struct legacy_step *s = &legacy_map[i];
		const struct anfu_param p[] = { ANFU_PS(s->module), ANFU_PI(s->version),
						ANFU_PS(s->name), ANFU_PI(s->legacy) };

		if (s->legacy > lv)
			continue;
		r = anfu_db_exec(db,
				 "INSERT INTO schema_version (module, version, name, applied_ms) "
				 "SELECT $1, $2, $3, applied_ms FROM schema_version_legacy "
				 "WHERE version = $4",
				 p, 4, NULL, NULL, NULL);
	}
	if (r == 0)
		r = anfu_db_exec(db, "DROP TABLE schema_version_legacy", NULL, 0, NULL, NULL, NULL);
	return r;
}

/* Converts a legacy database in a transaction of its own; a database
 * another process converted meanwhile is left as it is. */
static int upgrade_layout(struct anfu_db *db)
{
	enum layout layout = LAYOUT_NONE;
	int lv = 0, r;

	r = anfu_db_begin(db);
	if (r < 0)
		return r;
	r = get_layout(db, &layout);
	if (r < 0 || layout != LAYOUT_LEGACY)
		goto out;
	r = legacy_version(db, &lv);
	if (r == 0 && lv > LEGACY_LATEST) {
		anfu_log_error("store.migrate",
			       "database schema version %d is newer than this binary (legacy "
			       "numbering ends at %d); refusing it",
			       lv, LEGACY_LATEST);
		r = ANFU_ESCHEMA;
	}
	if (r == 0)
		r = convert_legacy(db, lv);
	if (r == 0) {
		r = anfu_db_commit(db);
		if (r == 0)
			anfu_log_info("store.migrate",
				      "legacy schema version %d recorded as module versions", lv);
		return r;
	}
out:
	if (r < 0)
		anfu_log_error("store.migrate", "legacy schema conversion failed: %s",
			       anfu_strerror(r));
	(void)anfu_db_rollback(db);
	return r;
}

static const char *dialect_sql(const struct anfu_db *db, const struct anfu_migration *m)
{
	if (strcmp(db->ops->dialect, "sqlite") == 0)
		return m->sql_sqlite;
	if (strcmp(db->ops->dialect, "pg") == 0)
		return m->sql_pg;
	return NULL;
}

/* Runs the SQL of m and records it; db is inside m's transaction. */
static int run_one(struct anfu_db *db, const struct anfu_migration *m)
{
	const char *dsql = dialect_sql(db, m);
	const struct anfu_param p[] = { ANFU_PS(m->module), ANFU_PI(m->version), ANFU_PS(m->name),
					ANFU_PI(anfu_clock_now_ms()) };
	int r;

	r = db->ops->exec_script(db, m->sql);
	if (r == 0 && dsql)
		r = db->ops->exec_script(db, dsql);
	if (r == 0)
		r = anfu_db_exec(db,
				 "INSERT INTO schema_version (module, version, name, applied_ms) "
				 "VALUES ($1, $2, $3, $4)",
				 p, 4, NULL, NULL, NULL);
	return r;
}

/* Runs migration m of set in a transaction of its own. *ret_applied tells
 * whether it ran (another process may have applied it meanwhile). */
static int apply_one(struct anfu_db *db, const struct anfu_migration_set *set,
		     const struct anfu_migration *m, anfu_migrate_fn on_applied, void *ud,
		     bool *ret_applied)
{
	int v = 0, r;

	r = anfu_db_begin(db);
	if (r < 0)
		return r;
	/* A fresh database gets its bookkeeping table in the first
	 * migration's transaction: a failure leaves nothing behind. */
	r = anfu_db_exec(db, SCHEMA_VERSION_DDL, NULL, 0, NULL, NULL, NULL);
	/* Read the version again under the write lock: another process
	 * migrating at the same time must not make us apply m twice. */
	if (r == 0)
		r = anfu_migrate_version(db, set->module, &v);
	if (r < 0)
		goto out;
	if (v > anfu_migrate_latest(set)) {
		r = refuse_newer(set, v);
		goto out;
	}
	if (v >= m->version) {
		/* Someone else applied it: end our transaction, change nothing. */
		r = anfu_db_rollback(db);
		if (r == 0)
			*ret_applied = false;
		return r;
	}
	r = run_one(db, m);
	if (r == 0 && on_applied)
		r = on_applied(ud, db, m);
	if (r == 0)
		r = anfu_db_commit(db);
	if (r == 0)
		*ret_applied = true;
out:
	if (r < 0) {
		anfu_log_error("store.migrate", "migration %s %04d_%s failed: %s", set->module,
			       m->version, m->name, anfu_strerror(r));
		(void)anfu_db_rollback(db);
	}
	return r;
}

/* Applies the missing migrations of one set, in order. */
static int migrate_set(struct anfu_db *db, const struct anfu_migration_set *set, int from,
		       anfu_migrate_fn on_applied, void *ud, int *ret_to)
{
	int to = from;

	for (size_t i = 0; i < set->n; i++) {
		const struct anfu_migration *m = &set->migrations[i];
		bool applied = false;
		int r;

		if (m->version <= to)
			continue;
		r = apply_one(db, set, m, on_applied, ud, &applied);
		if (r < 0)
			return r;
		if (applied)
			anfu_log_info("store.migrate", "applied migration %s %04d_%s", set->module,
				      m->version, m->name);
		to = m->version;
	}
	*ret_to = to;
	return 0;
}

int anfu_migrate(struct anfu_db *db, const struct anfu_migration_set *sets, size_t n,
		 anfu_migrate_fn on_applied, void *ud, int *ret_from, int *ret_to)
{
	int from[ANFU_MIGRATE_SETS_MAX], to[ANFU_MIGRATE_SETS_MAX];
	enum layout layout = LAYOUT_NONE;
	int r;

	if (!db || db->tx_depth != 0 || (!sets && n > 0) || n > ANFU_MIGRATE_SETS_MAX)
		return ANFU_EINVAL;
	/* Every module is checked before anything changes: a database that
	 * is newer than this binary in one module is refused unchanged. */
	r = anfu_migrate_status(db, sets, n, from, NULL);
	if (r == 0)
		r = get_layout(db, &layout);
	if (r == 0 && layout == LAYOUT_LEGACY)
		r = upgrade_layout(db);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = migrate_set(db, &sets[i], from[i], on_applied, ud, &to[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		if (ret_from)
			ret_from[i] = from[i];
		if (ret_to)
			ret_to[i] = to[i];
	}
	return 0;
}
