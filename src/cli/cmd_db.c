/*
 * cli/cmd_db: `anfu db status`, each module's schema version and the audit
 * log state; `anfu db migrate`, the migrations (as the owner role on a
 * PostgreSQL installation with roles) and the application role's grants.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/err.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

#define DB_USAGE                                               \
	"usage: anfu db status [--data DIR] [--config FILE]\n" \
	"       anfu db migrate [--data DIR] [--config FILE]\n"

static void db_usage(void)
{
	printf(DB_USAGE);
	cmd_db_copy_usage();
	printf("\n"
	       "status prints the database path, the schema version of each module with\n"
	       "the latest version this anfu knows, the pending migrations, and the\n"
	       "audit log's length and last checkpoint. Exits 1 when the schema of a\n"
	       "module is newer than this anfu.\n"
	       "\n"
	       "migrate applies the missing migrations (each audited). On PostgreSQL\n"
	       "with [database] owner_dsn it connects as that owner role (anfud never\n"
	       "migrates then, and refuses to start on a schema behind) and grants the\n"
	       "application role (dsn's user) its privileges on the tables afterwards.\n"
	       "\n"
	       "copy moves a stopped installation to the other backend: the target (an\n"
	       "empty PostgreSQL database, its password from PGPASSWORD or ~/.pgpass,\n"
	       "or a new SQLite file) is migrated to the same schema, every table is\n"
	       "copied in one transaction, then the row counts are compared and the\n"
	       "audit chain and the ledger verified on the target. Progress is shown\n"
	       "on a terminal. The configuration is left alone: point [database] at the\n"
	       "target afterwards.\n");
}

/* `anfu db migrate` on an opened (and migrated) app: the grants. */
static int migrate_done(struct anfu_app *b)
{
	struct cli_pg_roles ro;
	struct anfu_db *db = NULL;
	char err[256];
	int r;

	printf("migrations applied: %d\n", b->migrations_applied);
	if (!anfu_config_pg_owner(b->cfg))
		return 0;
	r = cli_pg_roles_of(b->cfg, NULL, &ro, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu db: %s\n", err);
		return r;
	}
	r = anfu_store_db(b->store, &db);
	if (r == 0)
		r = cli_pg_grant(db, &ro);
	if (r < 0) {
		fprintf(stderr, "anfu db: cannot grant the application role %s: %s\n", ro.app,
			anfu_strerror(r));
		return r;
	}
	printf("grants:             application role %s (owner %s)\n", ro.app, ro.owner);
	return 0;
}

/* One line per module: its version, the latest this anfu knows. */
static int print_schema(struct anfu_app *b, struct anfu_db *db, bool *ret_empty)
{
	int versions[ANFU_LIMIT_MODULES];
	int pending = 0, total = 0;
	int r = anfu_migrate_status(db, b->schema, b->nschema, versions, &pending);

	if (r < 0)
		return r;
	printf("schema version:  per module (%d pending)\n", pending);
	for (size_t i = 0; i < b->nschema; i++) {
		printf("  %-14s %d (this anfu knows %d)\n", b->schema[i].module, versions[i],
		       anfu_migrate_latest(&b->schema[i]));
		total += versions[i];
	}
	*ret_empty = total == 0;
	return 0;
}

static int print_status(struct anfu_app *b)
{
	struct anfu_db *db = NULL;
	int64_t records = 0, cps = 0, last_cp = 0;
	bool empty = true;
	int r = anfu_store_db(b->store, &db);

	if (r < 0)
		return r;
	/* A PostgreSQL dsn is not printed: it names hosts and users. */
	printf("database:        %s (%s)\n",
	       strcmp(b->cfg->database.backend, "postgresql") == 0 ? "PostgreSQL server"
								   : b->cfg->database.path,
	       b->cfg->database.backend);
	r = print_schema(b, db, &empty);
	if (r < 0 || empty)
		return r;
	(void)anfu_db_query_int(db, "SELECT seq FROM audit_head WHERE id = 1", NULL, 0, &records);
	(void)anfu_db_query_int(db, "SELECT COUNT(*) FROM audit_checkpoint", NULL, 0, &cps);
	(void)anfu_db_query_int(db, "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint", NULL, 0,
				&last_cp);
	printf("audit records:   %" PRId64 "\n", records);
	printf("checkpoints:     %" PRId64 " (last covers seq %" PRId64 ")\n", cps, last_cp);
	return 0;
}

int cmd_db(int argc, char **argv)
{
	struct anfu_app *b = NULL;
	struct cli_opts o;
	char err[512] = "";
	bool migrate;
	int r;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		db_usage();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return cmd_db_copy(argc - 1, argv + 1);
	if (argc < 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "migrate") != 0)) {
		fprintf(stderr, DB_USAGE);
		fprintf(stderr, "       anfu db copy --to postgresql|sqlite TARGET (see --help)\n");
		return 2;
	}
	migrate = strcmp(argv[1], "migrate") == 0;
	r = cli_parse(argc - 1, argv + 1, "data,config", &o);
	if (r != 0)
		return r;
	if (o.help) {
		db_usage();
		return 0;
	}
	r = anfu_app_open(o.data, o.config,
			  migrate ? ANFU_APP_MIGRATE | ANFU_APP_OWNER
				  : ANFU_APP_PUBLIC_ONLY | ANFU_APP_NO_SCHEMA,
			  &b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu db: %s\n", err);
		return 1;
	}
	if (migrate) {
		r = migrate_done(b);
	} else {
		r = print_status(b);
		if (r < 0)
			fprintf(stderr, "anfu db: cannot read the database: %s\n",
				anfu_strerror(r));
	}
	anfu_app_close(b);
	return r < 0 ? 1 : 0;
}
