/*
 * cli/cmd_audit: `anfu audit verify` and `anfu audit export`.
 *
 * verify recomputes the whole hash chain and checks every checkpoint (in
 * the database and in the checkpoint file) with the public audit key only;
 * it exits 1 and names the first bad sequence number on any problem.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/err.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

static void audit_usage(void)
{
	printf("usage: anfu audit verify [--data DIR] [--config FILE]\n"
	       "       anfu audit export [--data DIR] [--config FILE] [--out FILE]\n"
	       "\n"
	       "verify: recomputes the audit hash chain and checks every signed\n"
	       "checkpoint; exits 1 naming the first bad sequence number.\n"
	       "export: writes the audit log in the anfu-audit-export/1 JSON-lines\n"
	       "format (docs/audit.md) to FILE or standard output; verify it without\n"
	       "anfu using tools/verify_audit.py and `anfu keys export-public`.\n");
}

static int verify(struct anfu_app *b)
{
	struct anfu_audit_report rep = { 0 };
	struct anfu_db *db = NULL;
	enum anfu_hash_alg h = b->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	int r = anfu_store_db(b->store, &db);

	if (r < 0) {
		fprintf(stderr, "anfu audit verify: cannot open the database\n");
		return 1;
	}
	r = anfu_audit_verify(db, h, b->audit_pub, b->cfg->audit.checkpoint_file, cli_progress,
			      &rep);
	if (r == 0) {
		printf("OK: %" PRId64 " records, %" PRId64 " checkpoints verified\n", rep.records,
		       rep.checkpoints);
		return 0;
	}
	if (rep.first_bad_seq > 0)
		printf("FAILED at seq %" PRId64 ": %s\n", rep.first_bad_seq, rep.problem);
	else
		printf("FAILED: %s\n", rep.problem[0] ? rep.problem : anfu_strerror(r));
	return 1;
}

static int export(struct anfu_app *b, const char *out)
{
	struct anfu_db *db = NULL;
	FILE *f = stdout;
	int r;

	if (out && !(f = fopen(out, "wx"))) {
		fprintf(stderr, "anfu audit export: cannot create %s: %s\n", out, strerror(errno));
		return 1;
	}
	r = anfu_store_db(b->store, &db);
	if (r == 0)
		r = anfu_audit_export(b->audit, db, f);
	if (f != stdout && fclose(f) != 0 && r == 0)
		r = ANFU_EIO;
	if (r < 0) {
		fprintf(stderr, "anfu audit export: failed: %s\n", anfu_strerror(r));
		return 1;
	}
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	struct anfu_app *b = NULL;
	struct cli_opts o;
	char err[512] = "";
	bool is_verify;
	int r;

	if (argc < 2 || (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "export") != 0)) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			audit_usage();
			return 0;
		}
		fprintf(stderr, "usage: anfu audit verify|export [--data DIR] (see --help)\n");
		return 2;
	}
	is_verify = strcmp(argv[1], "verify") == 0;
	r = cli_parse(argc - 1, argv + 1, is_verify ? "data,config" : "data,config,out", &o);
	if (r != 0)
		return r;
	if (o.help) {
		audit_usage();
		return 0;
	}
	/* verify needs only the public key; export signs its trailer. */
	r = anfu_app_open(o.data, o.config,
			  ANFU_APP_NO_SCHEMA | (is_verify ? ANFU_APP_PUBLIC_ONLY : 0), &b, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu audit: %s\n", err);
		return 1;
	}
	r = is_verify ? verify(b) : export(b, o.out);
	anfu_app_close(b);
	return r;
}
