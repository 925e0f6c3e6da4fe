/*
 * cli/cmd_db: `anfu db status`, each module's schema version and the audit
 * log state.
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

static void db_usage(void)
{
	printf("usage: anfu db status [--data DIR] [--config FILE]\n"
	       "\n"
	       "Prints the database path, the schema version of each module with the\n"
	       "latest version this anfu knows, the pending migrations, and the audit\n"
	       "log's length and last checkpoint. Exits 1 when the schema of a module\n"
	       "is newer than this anfu.\n");
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
	int r;

	if (argc < 2 || strcmp(argv[1], "status") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			db_usage();
			return 0;
		}
		fprintf(stderr, "usage: anfu db status [--data DIR] [--config FILE]\n");
		return 2;
	}
	r = cli_parse(argc - 1, argv + 1, "data,config", &o);
	if (r != 0)
		return r;
	if (o.help) {
		db_usage();
		return 0;
	}
	r = anfu_app_open(o.data, o.config, ANFU_APP_PUBLIC_ONLY | ANFU_APP_NO_SCHEMA, &b, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu db: %s\n", err);
		return 1;
	}
	r = print_status(b);
	if (r < 0)
		fprintf(stderr, "anfu db: cannot read the database: %s\n", anfu_strerror(r));
	anfu_app_close(b);
	return r < 0 ? 1 : 0;
}
