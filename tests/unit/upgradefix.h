/*
 * tests/unit/upgradefix: the older database the upgrade tests start from
 * (test_migrate_upgrade, test_migrate_rowid), and the reads they share.
 *
 * A case's database is fresh: a SQLite file in a new data directory or,
 * for the "pg:<case>" variant, a fresh schema of the PostgreSQL server in
 * ANFU_TEST_PG_DSN (fixture_pg_fresh; fixture_pg_cases skips the case
 * without one). It is migrated by anfu_migrate() with this build's module
 * list, some modules held back at a version by handing anfu_migrate()
 * their sets cut short (no production hook). Built on fixture.h; every
 * failure fails the test.
 */
#ifndef ANFU_TESTS_UNIT_UPGRADEFIX_H
#define ANFU_TESTS_UNIT_UPGRADEFIX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/limits.h"
#include "store/store.h"

#include "fixture.h"

/* A module held back: at version before, the next migration (before + 1)
 * being named next (the set must still have it there). */
struct upgradefix_held {
	const char *module;
	int before;
	const char *next;
};

struct upgradefix {
	bool pg; /* the PostgreSQL variant */
	char dir[FIXTURE_DIR_MAX];
	char path[FIXTURE_DIR_MAX + 8];
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_db *db;
	struct anfu_migration_set all[ANFU_LIMIT_MODULES]; /* this build's list */
	struct anfu_migration_set old[ANFU_LIMIT_MODULES]; /* the same, held back */
	size_t n;
};

/* Opens u's fresh database (pg: on PostgreSQL; else SQLite in
 * /tmp/anfu-<name>-XXXXXX) and migrates it by u->old: this build's
 * module list, each of held[0..nheld) held at its version. Close it with
 * upgradefix_close. */
void upgradefix_open(struct upgradefix *u, bool pg, const char *name,
		     const struct upgradefix_held *held, size_t nheld);
/* Closes u's database and removes its data directory (SQLite). */
void upgradefix_close(struct upgradefix *u);

/* The rows of sql (with up to one text parameter, may be NULL) as text:
 * a row a line "v1|v2|...\n", a NULL "\N"; "" for no row. The caller
 * frees it. */
char *upgradefix_dump(struct anfu_db *db, const char *sql, const char *param);
/* The schema version of module in db. */
int upgradefix_version(struct anfu_db *db, const char *module);

#endif
