/*
 * tests/unit/test_migrate: store/migrate.c on a fresh SQLite file per test
 * and, named "pg:<test>", on a fresh schema of the PostgreSQL server in
 * ANFU_TEST_PG_DSN (skipped, saying so, without it):
 * each module's own sequence (the real ones of core, notify and iam, and
 * small made-up modules), the per-module refusal of a newer database, and
 * the upgrade of databases made with the legacy global numbering 1..5.
 *
 * A legacy database is built here the way the code before modules built
 * it: the migration files of that code, kept verbatim (SQLite parts) in
 * tests/unit/legacy-migrations/, run in order with a schema_version row
 * (version, name, applied_ms) after each. Trusts ANFU_SOURCE_ROOT (set by
 * tests/unit/meson.build) to name the source tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "base/buf.h"
#include "base/err.h"
#include "iam/iam.h"
#include "ledger/ledger.h"
#include "notify/notify.h"
#include "store/store.h"

#include "fixture.h"

/* The real modules with migrations in the fixture's order (core, notify,
 * iam): what a build without optional modules migrates. */
#define NREAL 3
/* Migrations of the legacy global numbering. */
#define LEGACY_LATEST 5

struct fix {
	bool pg;   /* the PostgreSQL variant */
	bool skip; /* no server for it */
	char dir[64];
	char path[128];
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_db *db;
	struct anfu_migration_set real[NREAL];
	int total; /* migrations of real[] together */
};

static const bool on_sqlite = false, on_pg = true;

/* *state: &on_sqlite or &on_pg, replaced by the fixture. */
static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct anfu_store_cfg cfg = { .backend = "sqlite", .busy_timeout_ms = 2000 };

	assert_non_null(f);
	f->pg = *(const bool *)*state;
	*state = f;
	f->real[0] = anfu_core_migrations;
	f->real[1] = anfu_notify_migrations;
	f->real[2] = anfu_iam_migrations;
	for (int i = 0; i < NREAL; i++)
		f->total += anfu_migrate_latest(&f->real[i]);
	if (f->pg) {
		if (!fixture_pg_fresh(f->dsn)) {
			f->skip = true;
			return 0;
		}
		cfg.backend = "postgresql";
		cfg.path = "";
		cfg.dsn = f->dsn;
	} else {
		(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-migrate-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		(void)snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
		cfg.path = f->path;
	}
	assert_int_equal(anfu_db_open(&cfg, &f->db), 0);
	return 0;
}

/* The test's fixture; skips the test when its backend is not there. */
static struct fix *fix_of(void **state)
{
	struct fix *f = *state;

	if (f->skip) {
		print_message("%s\n", FIXTURE_PG_SKIP_REASON);
		skip();
	}
	return f;
}

static int teardown(void **state)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	struct fix *f = *state;
	char p[160];

	anfu_db_close(f->db);
	for (size_t i = 0; !f->pg && i < 3; i++) {
		(void)snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		(void)unlink(p);
	}
	if (!f->pg)
		(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Tables, indexes, triggers (and on PostgreSQL functions) there are. */
static int64_t schema_objects(struct anfu_db *db)
{
	const char *sql = "SELECT count(*) FROM sqlite_master";
	int64_t n = -1;

	if (strcmp(db->ops->dialect, "pg") == 0)
		sql = "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace s "
		      "ON s.oid = c.relnamespace WHERE s.nspname = current_schema()) + "
		      "(SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
		      "JOIN pg_namespace s ON s.oid = c.relnamespace "
		      "WHERE s.nspname = current_schema() AND NOT t.tgisinternal) + "
		      "(SELECT count(*) FROM pg_proc p JOIN pg_namespace s "
		      "ON s.oid = p.pronamespace WHERE s.nspname = current_schema())";
	assert_int_equal(anfu_db_query_int(db, sql, NULL, 0, &n), 0);
	return n;
}

static int64_t count(struct anfu_db *db, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(db, sql, NULL, 0, &n), 0);
	return n;
}

static int version(struct anfu_db *db, const char *module)
{
	int v = -1;

	assert_int_equal(anfu_migrate_version(db, module, &v), 0);
	return v;
}

struct hook {
	int calls;
	int last_version;
	const char *fail_module; /* module whose fail_at hook fails, or NULL */
	int fail_at;
	bool in_tx;
	char order[256]; /* "module/version " of each call */
};

static int hook(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct hook *h = ud;
	size_t len = strlen(h->order);

	h->calls++;
	h->last_version = m->version;
	h->in_tx = db->tx_depth > 0;
	(void)snprintf(h->order + len, sizeof(h->order) - len, "%s/%d ", m->module, m->version);
	return h->fail_module && strcmp(m->module, h->fail_module) == 0 && m->version == h->fail_at
		       ? ANFU_EAUDIT
		       : 0;
}

/* ---- the real modules ----------------------------------------------------- */

static void test_latest_is_the_last_compiled_migration(void **state)
{
	struct fix *f = fix_of(state);

	for (int k = 0; k < NREAL; k++) {
		const struct anfu_migration_set *s = &f->real[k];

		assert_true(s->n >= 1);
		assert_int_equal(s->migrations[0].version, 1);
		assert_int_equal(anfu_migrate_latest(s), s->migrations[s->n - 1].version);
		for (size_t i = 0; i < s->n; i++) {
			assert_int_equal(s->migrations[i].version, (int)i + 1);
			assert_non_null(s->migrations[i].sql);
			assert_string_equal(s->migrations[i].module, s->module);
		}
	}
	assert_string_equal(f->real[0].module, "core");
	assert_string_equal(f->real[1].module, "notify");
	assert_string_equal(f->real[2].module, "iam");
}

static void test_fresh_database_has_version_zero(void **state)
{
	struct fix *f = fix_of(state);

	for (int k = 0; k < NREAL; k++)
		assert_int_equal(version(f->db, f->real[k].module), 0);
}

static void test_fresh_database_is_migrated_to_latest(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int from[NREAL] = { -1, -1, -1 }, to[NREAL] = { -1, -1, -1 };

	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, from, to), 0);
	for (int k = 0; k < NREAL; k++) {
		assert_int_equal(from[k], 0);
		assert_int_equal(to[k], anfu_migrate_latest(&f->real[k]));
		assert_int_equal(version(f->db, f->real[k].module),
				 anfu_migrate_latest(&f->real[k]));
	}
	assert_int_equal(h.calls, f->total);
	assert_true(h.in_tx);
	/* Module by module, each in its own order. */
	assert_string_equal(h.order, "core/1 core/2 core/3 core/4 core/5 core/6 notify/1 iam/1 "
				     "iam/2 iam/3 iam/4 iam/5 iam/6 ");
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version"), f->total);
	/* The dialect parts ran too: the audit triggers exist (no update, no
	 * delete, and, from core 0003, no replace; on PostgreSQL one row
	 * trigger for update and delete and one against TRUNCATE). */
	if (f->pg)
		assert_int_equal(count(f->db, "SELECT count(*) FROM pg_trigger WHERE "
					      "tgname IN ('audit_log_append_only', "
					      "'audit_log_no_truncate')"),
				 2);
	else
		assert_int_equal(count(f->db, "SELECT count(*) FROM sqlite_master WHERE type = "
					      "'trigger' AND tbl_name = 'audit_log' AND name IN "
					      "('audit_log_no_update', 'audit_log_no_delete', "
					      "'audit_log_no_replace')"),
				 3);
}

static void test_migrate_twice_applies_nothing_the_second_time(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int from[NREAL] = { -1, -1, -1 }, to[NREAL] = { -1, -1, -1 };
	int64_t objects;

	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, NULL, NULL, NULL, NULL), 0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, from, to), 0);
	assert_int_equal(h.calls, 0);
	for (int k = 0; k < NREAL; k++) {
		assert_int_equal(from[k], anfu_migrate_latest(&f->real[k]));
		assert_int_equal(to[k], anfu_migrate_latest(&f->real[k]));
	}
	assert_int_equal(schema_objects(f->db), objects);
}

static void test_failing_hook_rolls_the_migration_back(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { .fail_module = "core", .fail_at = 1 };
	int from[NREAL] = { -1, -1, -1 }, to[NREAL] = { -1, -1, -1 };

	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, from, to), ANFU_EAUDIT);
	for (int k = 0; k < NREAL; k++) {
		assert_int_equal(from[k], -1);
		assert_int_equal(to[k], -1);
	}
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(version(f->db, "core"), 0);
	/* Not even the bookkeeping table is left behind. */
	assert_int_equal(schema_objects(f->db), 0);
}

static void test_newer_database_is_refused_unchanged(void **state)
{
	struct fix *f = fix_of(state);
	const char *module = "core", *name = "future";
	const struct anfu_param p[] = { ANFU_PS(module),
					ANFU_PI(anfu_migrate_latest(&f->real[0]) + 1),
					ANFU_PS(name), ANFU_PI(0) };
	struct hook h = { 0 };
	int from[NREAL] = { -1, -1, -1 }, to[NREAL] = { -1, -1, -1 };
	int64_t objects;

	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(
		anfu_db_exec(f->db,
			     "INSERT INTO schema_version (module, version, name, applied_ms) "
			     "VALUES ($1, $2, $3, $4)",
			     p, 4, NULL, NULL, NULL),
		0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, from, to), ANFU_ESCHEMA);
	assert_int_equal(h.calls, 0);
	for (int k = 0; k < NREAL; k++) {
		assert_int_equal(from[k], -1);
		assert_int_equal(to[k], -1);
	}
	assert_int_equal(schema_objects(f->db), objects);
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version"), f->total + 1);
}

static void test_migrate_inside_a_transaction_is_einval(void **state)
{
	struct fix *f = fix_of(state);

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, NULL, NULL, NULL, NULL), ANFU_EINVAL);
	assert_int_equal(anfu_db_rollback(f->db), 0);
}

/* ---- made-up modules: order, sequences, refusal per module ------------------ */

/* Module "a" makes a table in 1 and fills it in 2; module "b" reads a's
 * table, so it works only after a. */
static const struct anfu_migration a_migrations[] = {
	{ "a", 1, "make", "CREATE TABLE a_t (x INTEGER NOT NULL);", NULL, NULL },
	{ "a", 2, "fill", "INSERT INTO a_t (x) VALUES (7);", "INSERT INTO a_t (x) VALUES (8);",
	  "INSERT INTO a_t (x) VALUES (9);" },
};
static const struct anfu_migration b_migrations[] = {
	{ "b", 1, "copy", "CREATE TABLE b_t AS SELECT x FROM a_t;", NULL, NULL },
};
static const struct anfu_migration_set ab[] = {
	{ "a", a_migrations, 2 },
	{ "b", b_migrations, 1 },
};

static void test_modules_are_applied_in_list_order_each_in_its_own_order(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int from[2] = { -1, -1 }, to[2] = { -1, -1 };

	assert_int_equal(anfu_migrate(f->db, ab, 2, hook, &h, from, to), 0);
	assert_string_equal(h.order, "a/1 a/2 b/1 ");
	assert_int_equal(from[0], 0);
	assert_int_equal(from[1], 0);
	assert_int_equal(to[0], 2);
	assert_int_equal(to[1], 1);
	assert_int_equal(version(f->db, "a"), 2);
	assert_int_equal(version(f->db, "b"), 1);
	/* b copied what a wrote, portable part and the engine's own dialect
	 * part (SQLite 8, PostgreSQL 9), never the other's. */
	assert_int_equal(count(f->db, "SELECT sum(x) FROM b_t"), f->pg ? 16 : 15);
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version WHERE module = 'a' "
				      "AND version = 2 AND name = 'fill'"),
			 1);
}

static void test_a_module_added_later_gets_only_its_own_migrations(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };

	assert_int_equal(anfu_migrate(f->db, ab, 1, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(version(f->db, "b"), 0);
	assert_int_equal(anfu_migrate(f->db, ab, 2, hook, &h, NULL, NULL), 0);
	assert_string_equal(h.order, "b/1 ");
}

static void test_a_module_newer_than_the_binary_refuses_the_whole_database(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int from[2] = { -1, -1 };
	int64_t objects;

	/* a is migrated, b is not; a's row says version 3 (this binary knows
	 * 2): nothing is applied, not even b's. */
	assert_int_equal(anfu_migrate(f->db, ab, 1, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(
		anfu_db_exec(f->db,
			     "INSERT INTO schema_version (module, version, name, applied_ms) "
			     "VALUES ('a', 3, 'future', 0)",
			     NULL, 0, NULL, NULL, NULL),
		0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, ab, 2, hook, &h, from, NULL), ANFU_ESCHEMA);
	assert_int_equal(h.calls, 0);
	assert_int_equal(from[0], -1);
	assert_int_equal(schema_objects(f->db), objects);
	assert_int_equal(version(f->db, "b"), 0);
	assert_int_equal(anfu_migrate_status(f->db, ab, 2, NULL, NULL), ANFU_ESCHEMA);
}

static void test_status_counts_what_is_pending_per_module(void **state)
{
	struct fix *f = fix_of(state);
	int v[2] = { -1, -1 }, pending = -1;

	assert_int_equal(anfu_migrate_status(f->db, ab, 2, v, &pending), 0);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 0);
	assert_int_equal(pending, 3);
	assert_int_equal(anfu_migrate(f->db, ab, 1, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(anfu_migrate_status(f->db, ab, 2, v, &pending), 0);
	assert_int_equal(v[0], 2);
	assert_int_equal(v[1], 0);
	assert_int_equal(pending, 1);
	/* Nothing changed: status never migrates. */
	assert_int_equal(version(f->db, "b"), 0);
}

static void test_rows_of_a_module_the_binary_lacks_are_left_alone(void **state)
{
	struct fix *f = fix_of(state);

	/* A build without an optional module opens a database made by one
	 * with it. */
	assert_int_equal(anfu_migrate(f->db, ab, 2, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(anfu_migrate(f->db, ab, 1, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(version(f->db, "b"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM b_t"), 2);
}

/* ---- legacy databases (global versions 1..5) ---------------------------------- */

static char *read_source_file(const char *rel)
{
	const char *root = getenv("ANFU_SOURCE_ROOT");
	struct anfu_buf b;
	char path[4096], chunk[4096];
	FILE *f;
	size_t n;

	assert_non_null(root);
	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	anfu_buf_init(&b, 1024 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(anfu_buf_append(&b, chunk, n), 0);
	fclose(f);
	return anfu_buf_steal(&b, NULL);
}

static const char *const legacy_names[LEGACY_LATEST] = {
	"foundation", "iam", "audit_no_replace", "alerts_approvals", "iam_bindings",
};

static void exec_legacy_file(struct anfu_db *db, int v, const char *suffix, bool required)
{
	char rel[128];
	char *sql;

	(void)snprintf(rel, sizeof(rel), "tests/unit/legacy-migrations/%04d_%s%s", v,
		       legacy_names[v - 1], suffix);
	sql = read_source_file(rel);
	if (!sql && !required)
		return;
	if (!sql)
		fail_msg("cannot read %s", rel);
	assert_int_equal(db->ops->exec_script(db, sql), 0);
	free(sql);
}

/* Makes db what the code before modules made with migrations 1..upto. */
static void make_legacy(struct anfu_db *db, int upto)
{
	for (int v = 1; v <= upto; v++) {
		const struct anfu_param p[] = { ANFU_PI(v), ANFU_PS(legacy_names[v - 1]),
						ANFU_PI(1000 + v) };

		assert_int_equal(anfu_db_begin(db), 0);
		exec_legacy_file(db, v, ".sql", true);
		exec_legacy_file(db, v, ".sqlite.sql", false);
		assert_int_equal(
			anfu_db_exec(db,
				     "INSERT INTO schema_version (version, name, applied_ms) "
				     "VALUES ($1, $2, $3)",
				     p, 3, NULL, NULL, NULL),
			0);
		assert_int_equal(anfu_db_commit(db), 0);
	}
}

static int append_row(void *ud, const struct anfu_row *r)
{
	struct anfu_buf *b = ud;

	for (int i = 0; i < anfu_row_count(r); i++) {
		const char *t = anfu_row_text(r, i, NULL);

		assert_int_equal(anfu_buf_appendf(b, "%s|", t ? t : "(null)"), 0);
	}
	return anfu_buf_appends(b, "\n");
}

/* Every schema object's definition and every table's rows, but those of
 * the bookkeeping table, as text. */
static char *snapshot(struct anfu_db *db)
{
	struct anfu_buf b, tables;
	char *names, *out;

	anfu_buf_init(&b, 16 * 1024 * 1024);
	anfu_buf_init(&tables, 1024 * 1024);
	assert_int_equal(anfu_db_exec(db,
				      "SELECT type, name, tbl_name, sql FROM sqlite_master "
				      "WHERE name NOT LIKE 'schema_version%' "
				      "AND name NOT LIKE 'sqlite_autoindex_schema_version%' "
				      "ORDER BY type, name",
				      NULL, 0, append_row, &b, NULL),
			 0);
	assert_int_equal(anfu_db_exec(db,
				      "SELECT name FROM sqlite_master WHERE type = 'table' "
				      "AND name <> 'schema_version' ORDER BY name",
				      NULL, 0, append_row, &tables, NULL),
			 0);
	names = anfu_buf_steal(&tables, NULL);
	for (char *line = names; line && *line;) {
		char *end = strchr(line, '|'), sql[128];

		assert_non_null(end);
		*end = '\0';
		(void)snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1", line);
		assert_int_equal(anfu_buf_appendf(&b, "-- %s\n", line), 0);
		assert_int_equal(anfu_db_exec(db, sql, NULL, 0, append_row, &b, NULL), 0);
		line = strchr(end + 1, '\n');
		line = line ? line + 1 : NULL;
	}
	free(names);
	out = anfu_buf_steal(&b, NULL);
	return out;
}

/* The snapshot of a fresh database migrated with sets. */
static char *fresh_snapshot(const struct fix *f)
{
	char path[160];
	struct anfu_store_cfg cfg = { "sqlite", path, 2000 };
	struct anfu_db *db = NULL;
	char *snap;

	(void)snprintf(path, sizeof(path), "%s/fresh.db", f->dir);
	assert_int_equal(anfu_db_open(&cfg, &db), 0);
	assert_int_equal(anfu_migrate(db, f->real, NREAL, NULL, NULL, NULL, NULL), 0);
	snap = snapshot(db);
	anfu_db_close(db);
	(void)unlink(path);
	return snap;
}

static void test_legacy_numbering_reads_through_the_map(void **state)
{
	struct fix *f = fix_of(state);
	int v[NREAL] = { -1, -1, -1 }, pending = -1;

	make_legacy(f->db, 3);
	assert_int_equal(anfu_migrate_status(f->db, f->real, NREAL, v, &pending), 0);
	assert_int_equal(v[0], 3); /* core: foundation, vault_jobs, audit_no_replace */
	assert_int_equal(v[1], 1); /* notify: messages */
	assert_int_equal(v[2], 1); /* iam: iam */
	assert_int_equal(pending, f->total - 5);
	/* Reading converted nothing: the old bookkeeping is still there. */
	assert_int_equal(count(f->db, "SELECT count(*) FROM pragma_table_info('schema_version') "
				      "WHERE name = 'module'"),
			 0);
}

/* A database at legacy version 5 (the last before modules): the upgrade
 * rewrites the bookkeeping through the map with the times the migrations
 * were applied, runs only what came after modules (core 4 to 6, iam 4 to 6), and leaves
 * exactly the schema and rows a fresh database gets. */
static void test_legacy_database_at_5_runs_only_what_came_after_it(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int from[NREAL] = { -1, -1, -1 }, to[NREAL] = { -1, -1, -1 };
	char *fresh = fresh_snapshot(f), *upgraded;

	make_legacy(f->db, LEGACY_LATEST);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, from, to), 0);
	assert_string_equal(h.order, "core/4 core/5 core/6 iam/4 iam/5 iam/6 ");
	assert_string_equal(f->real[0].module, "core");
	assert_int_equal(from[0], 3);
	for (int k = 0; k < NREAL; k++) {
		/* The legacy map covers iam up to 3; its 4 to 6 came after modules. */
		if (k > 0)
			assert_int_equal(from[k], strcmp(f->real[k].module, "iam") == 0
							  ? 3
							  : anfu_migrate_latest(&f->real[k]));
		assert_int_equal(to[k], anfu_migrate_latest(&f->real[k]));
	}
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version"), f->total);
	assert_int_equal(count(f->db,
			       "SELECT count(*) FROM schema_version WHERE "
			       "(module, version, name, applied_ms) IN (VALUES "
			       "('core', 1, 'foundation', 1001), ('core', 2, 'vault_jobs', 1002), "
			       "('notify', 1, 'messages', 1002), ('iam', 1, 'iam', 1002), "
			       "('core', 3, 'audit_no_replace', 1003), "
			       "('iam', 2, 'alerts_approvals', 1004), "
			       "('iam', 3, 'iam_bindings', 1005))"),
			 7);
	upgraded = snapshot(f->db);
	assert_string_equal(upgraded, fresh);
	free(fresh);
	free(upgraded);
}

/* A database made by an older binary (legacy version 3) gets what it
 * lacks: core 4 to 6, iam 2 and 3 (legacy 4 and 5), iam 4 to 6, then equals a fresh one. */
static void test_legacy_database_at_3_gets_the_rest(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	char *fresh = fresh_snapshot(f), *upgraded;

	make_legacy(f->db, 3);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, NULL, NULL), 0);
	assert_string_equal(h.order, "core/4 core/5 core/6 iam/2 iam/3 iam/4 iam/5 iam/6 ");
	assert_int_equal(version(f->db, "iam"), 6);
	upgraded = snapshot(f->db);
	assert_string_equal(upgraded, fresh);
	free(fresh);
	free(upgraded);
}

static void test_legacy_database_at_1_gets_the_rest(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	char *fresh = fresh_snapshot(f), *upgraded;

	make_legacy(f->db, 1);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, NULL, NULL), 0);
	assert_string_equal(
		h.order,
		"core/2 core/3 core/4 core/5 core/6 notify/1 iam/1 iam/2 iam/3 iam/4 iam/5 iam/6 ");
	upgraded = snapshot(f->db);
	assert_string_equal(upgraded, fresh);
	free(fresh);
	free(upgraded);
}

/* A legacy version beyond 5 came from a binary newer than this one. */
static void test_legacy_database_newer_than_5_is_refused_unchanged(void **state)
{
	struct fix *f = fix_of(state);
	struct hook h = { 0 };
	int64_t objects;

	make_legacy(f->db, LEGACY_LATEST);
	assert_int_equal(anfu_db_exec(f->db,
				      "INSERT INTO schema_version (version, name, applied_ms) "
				      "VALUES (6, 'future', 0)",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, hook, &h, NULL, NULL), ANFU_ESCHEMA);
	assert_int_equal(h.calls, 0);
	assert_int_equal(schema_objects(f->db), objects);
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version"), LEGACY_LATEST + 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM pragma_table_info('schema_version') "
				      "WHERE name = 'module'"),
			 0);
}

/* Legacy rows must be 1..v: a gap means the bookkeeping cannot be
 * trusted, and the database is refused unchanged. */
static void test_legacy_database_with_a_gap_is_refused_unchanged(void **state)
{
	struct fix *f = fix_of(state);
	int64_t objects;

	make_legacy(f->db, 3);
	assert_int_equal(anfu_db_exec(f->db, "DELETE FROM schema_version WHERE version = 2", NULL,
				      0, NULL, NULL, NULL),
			 0);
	objects = schema_objects(f->db);
	assert_int_equal(anfu_migrate(f->db, f->real, NREAL, NULL, NULL, NULL, NULL), ANFU_ESCHEMA);
	assert_int_equal(schema_objects(f->db), objects);
	assert_int_equal(count(f->db, "SELECT count(*) FROM schema_version"), 2);
}

/* Every module with migrations, ledger included, applies on a fresh
 * database of either engine, and the append-only rules of the dialect
 * parts hold there. req: AUD-PROT-01 */
static void test_every_module_migrates_and_append_only_tables_refuse_changes(void **state)
{
	struct fix *f = fix_of(state);
	const struct anfu_migration_set all[] = { anfu_core_migrations, anfu_notify_migrations,
						  anfu_iam_migrations, anfu_ledger_migrations };
	const size_t n = sizeof(all) / sizeof(all[0]);
	int v[4] = { -1, -1, -1, -1 }, pending = -1;
	static const char *const refused[] = {
		"UPDATE audit_log SET outcome = 'x'",
		"DELETE FROM audit_log",
		"DELETE FROM audit_head",
		"DELETE FROM ledger_head",
	};

	assert_int_equal(anfu_migrate(f->db, all, n, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(anfu_migrate_status(f->db, all, n, v, &pending), 0);
	assert_int_equal(pending, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i], anfu_migrate_latest(&all[i]));
	assert_int_equal(
		anfu_db_exec(f->db,
			     "INSERT INTO audit_log (seq, ts_ms, actor_id, actor_type, "
			     "actor_role, source_ip, device, request_id, action, "
			     "object_type, object_id, outcome, details, prev_hash, hash) "
			     "VALUES (1, 0, 'a', 'system', 'r', '', '', '', 'x', 'o', 'i', "
			     "'success', '{}', 'p', 'h')",
			     NULL, 0, NULL, NULL, NULL),
		0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(anfu_db_exec(f->db, refused[i], NULL, 0, NULL, NULL, NULL),
				 ANFU_ECONFLICT);
	if (f->pg)
		assert_int_equal(
			anfu_db_exec(f->db, "TRUNCATE ledger_transfer", NULL, 0, NULL, NULL, NULL),
			ANFU_ECONFLICT);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_log WHERE outcome = 'success'"),
			 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_head"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM ledger_head"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
/* Both engines; the PostgreSQL case is named "pg:<test>". */
#define T(fn)                                             \
	{ #fn, fn, setup, teardown, (void *)&on_sqlite }, \
		{ "pg:" #fn, fn, setup, teardown, (void *)&on_pg }
#define TS(fn)                                               \
	{                                                    \
#fn, fn, setup, teardown, (void *)&on_sqlite \
	}
		TS(test_latest_is_the_last_compiled_migration),
		T(test_fresh_database_has_version_zero),
		T(test_fresh_database_is_migrated_to_latest),
		T(test_migrate_twice_applies_nothing_the_second_time),
		T(test_failing_hook_rolls_the_migration_back),
		T(test_newer_database_is_refused_unchanged),
		T(test_migrate_inside_a_transaction_is_einval),
		T(test_modules_are_applied_in_list_order_each_in_its_own_order),
		T(test_a_module_added_later_gets_only_its_own_migrations),
		T(test_a_module_newer_than_the_binary_refuses_the_whole_database),
		T(test_status_counts_what_is_pending_per_module),
		T(test_rows_of_a_module_the_binary_lacks_are_left_alone),
		TS(test_legacy_numbering_reads_through_the_map),
		TS(test_legacy_database_at_5_runs_only_what_came_after_it),
		TS(test_legacy_database_at_3_gets_the_rest),
		TS(test_legacy_database_at_1_gets_the_rest),
		TS(test_legacy_database_newer_than_5_is_refused_unchanged),
		TS(test_legacy_database_with_a_gap_is_refused_unchanged),
		T(test_every_module_migrates_and_append_only_tables_refuse_changes),
#undef T
#undef TS
	};

	return cmocka_run_group_tests(tests, NULL, fixture_pg_group_teardown);
}
