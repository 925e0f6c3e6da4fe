/*
 * store/copy: copying every table of one database into another of the
 * same schema, on either backend (`anfu db copy`, docs/deployment.md).
 *
 * Trusts both databases to hold anfu's schema at the same versions (the
 * caller migrated the target): table and column names come from the
 * target's catalog and are spliced into SQL only when they are plain
 * lower-case identifiers; values always travel as parameters. Owns the
 * target's one write transaction (the store runs the transactions of
 * migrations and of this copy; everything else goes through src/tx).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
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
	void (*progress)(int64_t done, int64_t total);
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
	if (++*rc->done % 1000 == 0 && rc->progress)
		rc->progress(*rc->done, rc->total);
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
static int copy_rows(struct anfu_db *from, struct anfu_db *to, struct copy_plan *p,
		     void (*progress)(int64_t done, int64_t total))
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
		struct row_copy rc = {
			.to = to, .t = t, .done = &done, .total = p->total, .progress = progress
		};

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
	if (r == 0 && progress)
		progress(p->total, p->total);
	anfu_buf_free(&sel);
	anfu_buf_free(&ins);
	return r;
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

/* After the commit: every table has as many rows on the target. */
static int compare_counts(struct anfu_db *to, const struct copy_plan *p,
			  struct anfu_store_copy_report *rep)
{
	int64_t rows[ANFU_LIMIT_DB_COPY_TABLES];
	int r = count_rows(to, p, rows);

	for (int i = 0; r == 0 && i < p->n; i++) {
		if (rows[i] == p->t[i].rows)
			continue;
		(void)snprintf(rep->problem, sizeof(rep->problem),
			       "%s has %" PRId64 " rows on the target, %" PRId64 " on the source",
			       p->t[i].name, rows[i], p->t[i].rows);
		r = ANFU_ECORRUPT;
	}
	return r;
}

int anfu_store_copy(struct anfu_db *from, struct anfu_db *to,
		    void (*progress)(int64_t done, int64_t total),
		    struct anfu_store_copy_report *rep)
{
	struct copy_plan p = { .t = anfu_xcalloc(ANFU_LIMIT_DB_COPY_TABLES, sizeof(*p.t)) };
	int r;

	memset(rep, 0, sizeof(*rep));
	r = read_plan(to, &p);
	if (r < 0) {
		(void)snprintf(rep->problem, sizeof(rep->problem),
			       "cannot read the target's tables: %s", anfu_strerror(r));
		goto out;
	}
	r = anfu_db_begin_read(from);
	if (r == 0)
		r = check_source(from, &p);
	if (r == ANFU_ESCHEMA)
		(void)snprintf(rep->problem, sizeof(rep->problem),
			       "the source and the target have different tables");
	if (r == 0) {
		r = copy_rows(from, to, &p, progress);
		if (r < 0)
			(void)snprintf(rep->problem, sizeof(rep->problem),
				       "copying failed, nothing was copied: %s", anfu_strerror(r));
	}
	(void)anfu_db_end_read(from);
	if (r == 0)
		r = compare_counts(to, &p, rep);
	if (r == 0) {
		rep->tables = p.n;
		rep->rows = p.total;
	}
out:
	free(p.t);
	return r;
}
