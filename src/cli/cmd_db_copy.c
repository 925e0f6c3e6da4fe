/*
 * cli/cmd_db_copy: `anfu db copy --to postgresql DSN` and `anfu db copy
 * --to sqlite PATH`: moving a stopped installation's database to the other
 * backend (docs/deployment.md, "Moving between SQLite and PostgreSQL").
 *
 * The source is the data directory's database at this anfu's schema
 * (anfu_app_open refuses one behind or ahead); anfud must not run on it
 * (this command holds DATA/run/anfud.lock, the daemon's instance lock,
 * while it works). The target is migrated to the same versions and must
 * hold no audit record; store/copy.c copies every table in one transaction
 * of the target and compares the row counts; then the audit chain and the
 * ledger are verified on the target. A failed copy leaves the target
 * without the source's rows (a PostgreSQL target keeps its schema, and
 * copying again is allowed; an SQLite target file is removed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/err.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "config/config.h"
#include "ledger/verify.h"
#include "store/store.h"

/* The checks on the committed target: audit chain, ledger. */
static int verify_target(struct anfu_app *b, struct anfu_db *to)
{
	struct anfu_audit_report arep = { 0 };
	struct anfu_ledger_verify_report lrep = { 0 };
	enum anfu_hash_alg h = b->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	int r = anfu_audit_verify(to, h, b->audit_pub, b->cfg->audit.checkpoint_file, NULL, &arep);

	if (r < 0) {
		fprintf(stderr, "anfu db copy: the audit log on the target does not verify: %s\n",
			arep.problem[0] ? arep.problem : anfu_strerror(r));
		return r;
	}
	printf("audit log:    OK: %" PRId64 " records, %" PRId64 " checkpoints verified\n",
	       arep.records, arep.checkpoints);
	r = anfu_ledger_verify(to, h, &lrep);
	if (r < 0) {
		fprintf(stderr, "anfu db copy: the ledger on the target does not verify: %s\n",
			lrep.problem[0] ? lrep.problem : anfu_strerror(r));
		return r;
	}
	printf("ledger:       OK: %" PRId64 " transfers in %" PRId64 " batches, %" PRId64
	       " accounts verified\n",
	       lrep.transfers, lrep.batches, lrep.accounts);
	return 0;
}

/* Migrates the target and checks that it holds no anfu data. */
static int prepare_target(struct anfu_app *b, struct anfu_db *to)
{
	int64_t records = 0;
	int r = anfu_migrate(to, b->schema, b->nschema, NULL, NULL, NULL, NULL);

	if (r < 0) {
		fprintf(stderr, "anfu db copy: cannot migrate the target: %s%s\n", anfu_strerror(r),
			r == ANFU_ESCHEMA ? " (its schema is newer than this anfu)" : "");
		return r;
	}
	r = anfu_db_query_int(to, "SELECT count(*) FROM audit_log", NULL, 0, &records);
	if (r == 0 && records > 0) {
		fprintf(stderr,
			"anfu db copy: the target holds an anfu installation already "
			"(%" PRId64 " audit records); it must be empty\n",
			records);
		return ANFU_EEXIST;
	}
	if (r < 0)
		fprintf(stderr, "anfu db copy: cannot read the target: %s\n", anfu_strerror(r));
	return r;
}

/* Copies b's database to `to`, then verifies the target. */
static int copy_db(struct anfu_app *b, struct anfu_db *to)
{
	struct anfu_store_copy_report rep;
	struct anfu_db *from = NULL;
	int r = anfu_store_db(b->store, &from);

	if (r == 0)
		r = prepare_target(b, to);
	if (r < 0)
		return r;
	r = anfu_store_copy(from, to, cli_progress, &rep);
	if (r < 0) {
		fprintf(stderr, "anfu db copy: %s\n",
			rep.problem[0] ? rep.problem : anfu_strerror(r));
		return r;
	}
	printf("row counts:   equal (%d tables, %" PRId64 " rows)\n", rep.tables, rep.rows);
	return verify_target(b, to);
}

/* Holds the daemon's instance lock on DATA (fd into *ret_fd) so anfud
 * neither runs now nor starts during the copy. */
static int lock_data_dir(const char *data_dir, int *ret_fd)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/run", data_dir) >= (int)sizeof(path))
		return ANFU_ELIMIT;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return ANFU_EIO;
	(void)snprintf(path, sizeof(path), "%s/run/anfud.lock", data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return ANFU_EIO;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return ANFU_EBUSY;
	}
	*ret_fd = fd;
	return 0;
}

static void remove_sqlite(const char *path)
{
	char p[PATH_MAX];

	(void)unlink(path);
	if (snprintf(p, sizeof(p), "%s-wal", path) < (int)sizeof(p))
		(void)unlink(p);
	if (snprintf(p, sizeof(p), "%s-shm", path) < (int)sizeof(p))
		(void)unlink(p);
}

/* Opens the target named by --to KIND TARGET. */
static int open_target(const struct anfu_app *b, const char *kind, const char *target,
		       struct anfu_db **ret)
{
	struct anfu_store_cfg scfg = { .busy_timeout_ms = (int)b->cfg->database.busy_timeout_ms };
	char err[256];
	struct stat st;
	int r;

	if (strcmp(kind, "postgresql") == 0) {
		if (anfu_store_pg_check_dsn(target, err, sizeof(err)) < 0) {
			fprintf(stderr, "anfu db copy: %s\n", err);
			return ANFU_EINVAL;
		}
		scfg.backend = "postgresql";
		scfg.dsn = target;
		scfg.sslmode = b->cfg->database.sslmode;
	} else {
		if (lstat(target, &st) == 0 || errno != ENOENT) {
			fprintf(stderr, "anfu db copy: %s exists; the target must be a new file\n",
				target);
			return ANFU_EEXIST;
		}
		scfg.backend = "sqlite";
		scfg.path = target;
	}
	r = anfu_db_open(&scfg, ret);
	if (r < 0)
		fprintf(stderr, "anfu db copy: cannot open the target: %s\n", anfu_strerror(r));
	return r;
}

/* --to KIND TARGET out of argv (TARGET is the one positional argument):
 * argv without TARGET goes to cli_parse. */
static int split_target(int argc, char **argv, char **rest, int *ret_n, const char **ret_target)
{
	const char *target = NULL;
	int n = 0;

	for (int i = 0; i < argc; i++) {
		rest[n++] = argv[i];
		if (strcmp(argv[i], "--to") == 0 && i + 2 < argc && argv[i + 2][0] != '-') {
			rest[n++] = argv[++i];
			target = argv[++i];
		}
	}
	rest[n] = NULL;
	*ret_n = n;
	*ret_target = target;
	return target ? 0 : ANFU_EINVAL;
}

void cmd_db_copy_usage(void)
{
	printf("       anfu db copy --to postgresql DSN [--data DIR] [--config FILE]\n"
	       "       anfu db copy --to sqlite PATH [--data DIR] [--config FILE]\n");
}

int cmd_db_copy(int argc, char **argv)
{
	char **rest = anfu_xcalloc((size_t)argc + 1, sizeof(char *));
	const char *target = NULL, *from_kind;
	struct anfu_app *b = NULL;
	struct anfu_db *to = NULL;
	struct cli_opts o;
	char err[512] = "";
	int n = 0, lock_fd = -1, r;

	r = split_target(argc, argv, rest, &n, &target);
	if (cli_parse(n, rest, "data,config,to", &o) != 0 || o.help || r < 0 || !o.to ||
	    (strcmp(o.to, "postgresql") != 0 && strcmp(o.to, "sqlite") != 0)) {
		if (!o.help)
			fprintf(stderr, "usage:\n");
		cmd_db_copy_usage();
		free(rest);
		return o.help ? 0 : 2;
	}
	r = lock_data_dir(o.data, &lock_fd);
	if (r < 0) {
		fprintf(stderr, "anfu db copy: %s\n",
			r == ANFU_EBUSY ? "anfud is running on this data directory: stop it first"
					: "cannot take the data directory's lock");
		goto out;
	}
	r = anfu_app_open(o.data, o.config, ANFU_APP_PUBLIC_ONLY, &b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu db copy: %s\n", err);
		goto out;
	}
	from_kind = b->cfg->database.backend;
	if (strcmp(from_kind, o.to) == 0) {
		fprintf(stderr, "anfu db copy: the installation is on %s already\n", from_kind);
		r = ANFU_EINVAL;
		goto out;
	}
	r = open_target(b, o.to, target, &to);
	if (r < 0)
		goto out;
	printf("copying %s to %s\n", from_kind, o.to);
	r = copy_db(b, to);
	if (r < 0 && strcmp(o.to, "sqlite") == 0) {
		anfu_db_close(to);
		to = NULL;
		remove_sqlite(target);
	}
	if (r == 0)
		printf("done: point [database] at the target (docs/deployment.md)\n");
out:
	anfu_db_close(to);
	anfu_app_close(b);
	if (lock_fd >= 0)
		close(lock_fd);
	free(rest);
	return r < 0 ? 1 : 0;
}
