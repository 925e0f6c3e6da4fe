/*
 * cli/cmd_db: `anfu db status`, the schema version and audit log state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "boot/boot.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

static void db_usage(void)
{
	printf("usage: anfu db status [--data DIR] [--config FILE]\n"
	       "\n"
	       "Prints the database path, its schema version, the latest version this\n"
	       "anfu knows, pending migrations, and the audit log's length and last\n"
	       "checkpoint. Exits 1 when the schema is newer than this anfu.\n");
}

static int print_status(struct anfu_boot *b)
{
	struct anfu_db *db = NULL;
	int64_t records = 0, cps = 0, last_cp = 0;
	int version = 0;
	int r = anfu_store_db(b->store, &db);

	if (r == 0)
		r = anfu_migrate_version(db, &version);
	if (r < 0)
		return r;
	printf("database:        %s (%s)\n", b->cfg->database.path, b->cfg->database.backend);
	printf("schema version:  %d (this anfu knows %d; %d pending)\n", version,
	       anfu_migrate_latest(),
	       version < anfu_migrate_latest() ? anfu_migrate_latest() - version : 0);
	if (version < 1)
		return 0;
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
	struct anfu_boot *b = NULL;
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
	r = anfu_boot_open(o.data, o.config, ANFU_BOOT_PUBLIC_ONLY | ANFU_BOOT_NO_SCHEMA, &b, err,
			   sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu db: %s\n", err);
		return 1;
	}
	r = print_status(b);
	if (r < 0)
		fprintf(stderr, "anfu db: cannot read the database: %s\n", anfu_strerror(r));
	anfu_boot_close(b);
	return r < 0 ? 1 : 0;
}
