/*
 * cli/cmd_db_copy: `anfu db copy --to postgresql DSN` and `anfu db copy
 * --to sqlite PATH`: moving a stopped installation's database to the other
 * backend (docs/deployment.md, "Moving between SQLite and PostgreSQL").
 *
 * The source is the data directory's database at this anfu's schema
 * (anfu_app_open refuses one behind or ahead); anfud must not run on it
 * (this command holds DATA/run/anfud.lock, the daemon's instance lock,
 * while it works). The target is migrated to the same versions, then
 * every table is copied in one transaction of the target, in foreign-key
 * order, from one read snapshot of the source; after the commit the row
 * counts are compared and the audit chain and the ledger are verified on
 * the target. A failed copy leaves the target without rows (a PostgreSQL
 * target keeps its schema, and copying again is allowed; an SQLite target
 * file is removed).
 *
 * Trusts the schema of both databases to be anfu's: table and column
 * names come from the target's catalog and are spliced into SQL only when
 * they are plain lower-case identifiers; values always travel as
 * parameters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "audit/audit.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "config/config.h"
#include "ledger/verify.h"
#include "store/store.h"

struct copy_table {
	char name[64];
	int ncols;
	char cols[ANFU_LIMIT_DB_COPY_COLUMNS][64];
	bool is_int[ANFU_LIMIT_DB_COPY_COLUMNS];
	int64_t rows; /* in the source */
	int ndeps;
	int deps[ANFU_LIMIT_DB_COPY_TABLES]; /* tables it references */
	bool placed;
};

struct copy_plan {
	struct copy_table *t; /* ANFU_LIMIT_DB_COPY_TABLES */
	int n;
	int order[ANFU_LIMIT_DB_COPY_TABLES]; /* parents first */
	int64_t total;
};

static bool plain_name(const char *s, size_t n)
{
	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool is_pg(const struct anfu_db *db)
{
	return strcmp(db->ops->name, "postgresql") == 0;
}

static int find_table(const struct copy_plan *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->t[i].name, name) == 0)
			return i;
	return -1;
}

/* One catalog row: table, column, declared type. */
static int add_column(void *ud, const struct anfu_row *row)
{
	struct copy_plan *p = ud;
	size_t tl, cl;
	const char *tn = anfu_row_text(row, 0, &tl), *cn = anfu_row_text(row, 1, &cl);
	const char *ty = anfu_row_text(row, 2, NULL);
	struct copy_table *t;
	int i;

	if (!tn || !cn || !ty || !plain_name(tn, tl) || !plain_name(cn, cl))
		return ANFU_ESCHEMA;
	i = find_table(p, tn);
	if (i < 0) {
		if (p->n >= ANFU_LIMIT_DB_COPY_TABLES)
			return ANFU_ELIMIT;
		i = p->n++;
		memcpy(p->t[i].name, tn, tl + 1);
	}
	t = &p->t[i];
	if (t->ncols >= ANFU_LIMIT_DB_COPY_COLUMNS)
		return ANFU_ELIMIT;
	memcpy(t->cols[t->ncols], cn, cl + 1);
	if (strcasecmp(ty, "text") == 0)
		t->is_int[t->ncols] = false;
	else if (strcasecmp(ty, "integer") == 0 || strcasecmp(ty, "bigint") == 0 ||
		 strcasecmp(ty, "int") == 0)
		t->is_int[t->ncols] = true;
	else
		return ANFU_ESCHEMA; /* the portable subset has no other type */
	t->ncols++;
	return 0;
}

/* One foreign key: table, referenced table. */
static int add_dep(void *ud, const struct anfu_row *row)
{
	struct copy_plan *p = ud;
	const char *a = anfu_row_text(row, 0, NULL), *b = anfu_row_text(row, 1, NULL);
	int i = a ? find_table(p, a) : -1, j = b ? find_table(p, b) : -1;

	if (i < 0 || j < 0)
		return ANFU_ESCHEMA;
	if (i != j && p->t[i].ndeps < ANFU_LIMIT_DB_COPY_TABLES)
		p->t[i].deps[p->t[i].ndeps++] = j;
	return 0;
}

static const char *const columns_sql[2] = {
	"SELECT m.name, c.name, c.type FROM sqlite_master m, pragma_table_info(m.name) c "
	"WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
	"ORDER BY m.name, c.cid",
	"SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
	"JOIN pg_tables t ON t.schemaname = c.table_schema AND t.tablename = c.table_name "
	"WHERE c.table_schema = 'public' ORDER BY c.table_name, c.ordinal_position",
};
static const char *const fks_sql[2] = {
	"SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
	"WHERE m.type = 'table'",
	"SELECT a.relname, b.relname FROM pg_constraint c JOIN pg_class a ON a.oid = c.conrelid "
	"JOIN pg_class b ON b.oid = c.confrelid WHERE c.contype = 'f' "
	"AND c.connamespace = 'public'::regnamespace",
};

/* Orders the tables so that each comes after those it references. */
static int order_tables(struct copy_plan *p)
{
	int k = 0;

	while (k < p->n) {
		int before = k;

		for (int i = 0; i < p->n; i++) {
			bool ready = !p->t[i].placed;

			for (int d = 0; ready && d < p->t[i].ndeps; d++)
				ready = p->t[p->t[i].deps[d]].placed;
			if (ready) {
				p->t[i].placed = true;
				p->order[k++] = i;
			}
		}
		if (k == before)
			return ANFU_ESCHEMA; /* a cycle of foreign keys */
	}
	return 0;
}

/* The tables of db (its catalog), in foreign-key order. */
static int read_plan(struct anfu_db *db, struct copy_plan *p)
{
	int r;

	memset(p->t, 0, sizeof(p->t[0]) * ANFU_LIMIT_DB_COPY_TABLES);
	p->n = 0;
	r = anfu_db_exec(db, columns_sql[is_pg(db)], NULL, 0, add_column, p, NULL);
	if (r == 0)
		r = anfu_db_exec(db, fks_sql[is_pg(db)], NULL, 0, add_dep, p, NULL);
	if (r == 0)
		r = order_tables(p);
	return r;
}

/* Counts the rows of every table of p in db into counts[]. */
static int count_rows(struct anfu_db *db, const struct copy_plan *p, int64_t *counts)
{
	char sql[128];
	int r = 0;

	for (int i = 0; r == 0 && i < p->n; i++) {
		(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", p->t[i].name);
		r = anfu_db_query_int(db, sql, NULL, 0, &counts[i]);
	}
	return r;
}

/* "SELECT a, b FROM t" / "INSERT INTO t (a, b) VALUES ($1, $2)" /
 * "UPDATE t SET a = $1, b = $2". */
static int table_sql(const struct copy_table *t, const char *what, struct anfu_buf *out)
{
	int r = 0;

	anfu_buf_reset(out);
	if (strcmp(what, "select") == 0)
		r = anfu_buf_appends(out, "SELECT ");
	else if (strcmp(what, "insert") == 0)
		r = anfu_buf_appendf(out, "INSERT INTO %s (", t->name);
	else
		r = anfu_buf_appendf(out, "UPDATE %s SET ", t->name);
	for (int c = 0; r == 0 && c < t->ncols; c++) {
		if (strcmp(what, "update") == 0)
			r = anfu_buf_appendf(out, "%s%s = $%d", c ? ", " : "", t->cols[c], c + 1);
		else
			r = anfu_buf_appendf(out, "%s%s", c ? ", " : "", t->cols[c]);
	}
	if (r == 0 && strcmp(what, "select") == 0)
		r = anfu_buf_appendf(out, " FROM %s ORDER BY 1", t->name);
	else if (r == 0 && strcmp(what, "insert") == 0) {
		r = anfu_buf_appends(out, ") VALUES (");
		for (int c = 0; r == 0 && c < t->ncols; c++)
			r = anfu_buf_appendf(out, "%s$%d", c ? ", " : "", c + 1);
		if (r == 0)
			r = anfu_buf_appends(out, ")");
	}
	return r;
}

struct row_copy {
	struct anfu_db *to;
	const struct copy_table *t;
	const char *sql; /* INSERT or UPDATE */
	int64_t *done;
	int64_t total;
};

static int copy_row(void *ud, const struct anfu_row *row)
{
	struct row_copy *rc = ud;
	struct anfu_param p[ANFU_LIMIT_DB_COPY_COLUMNS];
	int r;

	if (anfu_row_count(row) != rc->t->ncols)
		return ANFU_ESCHEMA;
	for (int c = 0; c < rc->t->ncols; c++) {
		size_t len = 0;
		const char *s;

		if (anfu_row_is_null(row, c)) {
			p[c] = ANFU_PNULL;
		} else if (rc->t->is_int[c]) {
			p[c] = ANFU_PI(anfu_row_int(row, c));
		} else {
			s = anfu_row_text(row, c, &len);
			p[c] = ANFU_PSN(s, len);
		}
	}
	r = anfu_db_exec(rc->to, rc->sql, p, (size_t)rc->t->ncols, NULL, NULL, NULL);
	if (r < 0)
		return r;
	if (++*rc->done % 1000 == 0)
		cli_progress(*rc->done, rc->total);
	return 0;
}

/* Rows the migrations put into the target (seeds, the chains' heads) give
 * way to the source's: a table with one row on both sides (a head, whose
 * row may never be deleted) is updated, any other is emptied first,
 * children before parents. */
static int clear_seeds(struct anfu_db *to, const struct copy_plan *p, const int64_t *tgt_rows,
		       bool *update)
{
	char sql[128];
	int r = 0;

	for (int k = p->n - 1; r == 0 && k >= 0; k--) {
		int i = p->order[k];

		update[i] = tgt_rows[i] == 1 && p->t[i].rows == 1;
		if (tgt_rows[i] == 0 || update[i])
			continue;
		(void)snprintf(sql, sizeof(sql), "DELETE FROM %s", p->t[i].name);
		r = anfu_db_exec(to, sql, NULL, 0, NULL, NULL, NULL);
	}
	return r;
}

/* Copies every table of p from `from` to `to` in one transaction of `to`. */
static int copy_rows(struct anfu_db *from, struct anfu_db *to, struct copy_plan *p)
{
	int64_t tgt_rows[ANFU_LIMIT_DB_COPY_TABLES], done = 0;
	bool update[ANFU_LIMIT_DB_COPY_TABLES];
	struct anfu_buf sel, ins;
	int r;

	anfu_buf_init(&sel, ANFU_LIMIT_CLI_SQL_BYTES);
	anfu_buf_init(&ins, ANFU_LIMIT_CLI_SQL_BYTES);
	r = anfu_db_begin(to);
	if (r == 0)
		r = count_rows(to, p, tgt_rows);
	if (r == 0)
		r = clear_seeds(to, p, tgt_rows, update);
	for (int k = 0; r == 0 && k < p->n; k++) {
		const struct copy_table *t = &p->t[p->order[k]];
		struct row_copy rc = { .to = to, .t = t, .done = &done, .total = p->total };

		r = table_sql(t, "select", &sel);
		if (r == 0)
			r = table_sql(t, update[p->order[k]] ? "update" : "insert", &ins);
		rc.sql = ins.data;
		if (r == 0)
			r = anfu_db_exec(from, sel.data, NULL, 0, copy_row, &rc, NULL);
	}
	if (r == 0)
		r = anfu_db_commit(to);
	else
		(void)anfu_db_rollback(to);
	if (r == 0)
		cli_progress(p->total, p->total);
	anfu_buf_free(&sel);
	anfu_buf_free(&ins);
	return r;
}

/* The checks on the committed target: row counts, audit chain, ledger. */
static int verify_target(struct anfu_app *b, struct anfu_db *to, const struct copy_plan *p)
{
	int64_t rows[ANFU_LIMIT_DB_COPY_TABLES];
	struct anfu_audit_report arep = { 0 };
	struct anfu_ledger_verify_report lrep = { 0 };
	enum anfu_hash_alg h = b->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	int r = count_rows(to, p, rows);

	for (int i = 0; r == 0 && i < p->n; i++) {
		if (rows[i] == p->t[i].rows)
			continue;
		fprintf(stderr,
			"anfu db copy: %s has %" PRId64 " rows on the target, %" PRId64
			" on the source\n",
			p->t[i].name, rows[i], p->t[i].rows);
		r = ANFU_ECORRUPT;
	}
	if (r < 0)
		return r;
	printf("row counts:   equal (%d tables, %" PRId64 " rows)\n", p->n, p->total);
	r = anfu_audit_verify(to, h, b->audit_pub, b->cfg->audit.checkpoint_file, NULL, &arep);
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

/* Fills the source's side of p: tables equal to the target's, row counts. */
static int check_source(struct anfu_db *from, struct copy_plan *p)
{
	struct copy_plan src = { .t = anfu_xcalloc(ANFU_LIMIT_DB_COPY_TABLES, sizeof(*src.t)) };
	int64_t counts[ANFU_LIMIT_DB_COPY_TABLES];
	int r = read_plan(from, &src);

	for (int i = 0; r == 0 && i < src.n; i++)
		if (find_table(p, src.t[i].name) < 0)
			r = ANFU_ESCHEMA;
	if (r == 0 && src.n != p->n)
		r = ANFU_ESCHEMA;
	if (r == ANFU_ESCHEMA)
		fprintf(stderr, "anfu db copy: the source and the target have different tables\n");
	free(src.t);
	if (r == 0)
		r = count_rows(from, p, counts);
	p->total = 0;
	for (int i = 0; r == 0 && i < p->n; i++) {
		p->t[i].rows = counts[i];
		p->total += counts[i];
	}
	return r;
}

/* Migrates the target and checks that it holds no anfu data. */
static int prepare_target(struct anfu_app *b, struct anfu_db *to, struct copy_plan *p)
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
	if (r == 0)
		r = read_plan(to, p);
	if (r < 0 && r != ANFU_EEXIST)
		fprintf(stderr, "anfu db copy: cannot read the target's tables: %s\n",
			anfu_strerror(r));
	return r;
}

/* Copies b's (open, read-only snapshot) database to `to`. */
static int copy_db(struct anfu_app *b, struct anfu_db *to)
{
	struct copy_plan p = { .t = anfu_xcalloc(ANFU_LIMIT_DB_COPY_TABLES, sizeof(*p.t)) };
	struct anfu_db *from = NULL;
	int r = anfu_store_db(b->store, &from);

	if (r == 0)
		r = prepare_target(b, to, &p);
	if (r < 0)
		goto out;
	r = anfu_db_begin_read(from);
	if (r == 0)
		r = check_source(from, &p);
	if (r == 0) {
		r = copy_rows(from, to, &p);
		if (r < 0)
			fprintf(stderr, "anfu db copy: copying failed, nothing was copied: %s\n",
				anfu_strerror(r));
	}
	(void)anfu_db_end_read(from);
	if (r == 0)
		r = verify_target(b, to, &p);
out:
	free(p.t);
	return r;
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
