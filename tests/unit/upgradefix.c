/*
 * tests/unit/upgradefix: see upgradefix.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

#include "upgradefix.h"

void upgradefix_open(struct upgradefix *u, bool pg, const char *name,
		     const struct upgradefix_held *held, size_t nheld)
{
	struct anfu_store_cfg cfg = { .backend = "sqlite", .busy_timeout_ms = 2000 };
	size_t found = 0;

	memset(u, 0, sizeof(*u));
	u->pg = pg;
	if (pg) {
		/* fixture_pg_cases() skips the case, setup included, without a server. */
		assert_true(fixture_pg_fresh(u->dsn));
		cfg.backend = "postgresql";
		cfg.path = "";
		cfg.dsn = u->dsn;
	} else {
		assert_int_equal(fixture_mkdtemp(name, u->dir), 0);
		(void)snprintf(u->path, sizeof(u->path), "%s/t.db", u->dir);
		cfg.path = u->path;
	}
	assert_int_equal(anfu_db_open(&cfg, &u->db), 0);
	u->n = anfu_app_schema(u->all);
	memcpy(u->old, u->all, u->n * sizeof(u->all[0]));
	for (size_t i = 0; i < u->n; i++)
		for (size_t k = 0; k < nheld; k++) {
			struct anfu_migration_set *s = &u->old[i];

			if (strcmp(s->module, held[k].module) != 0)
				continue;
			/* The migration under test is the one after the held version. */
			assert_true(s->n > (size_t)held[k].before);
			assert_int_equal(s->migrations[held[k].before].version, held[k].before + 1);
			assert_string_equal(s->migrations[held[k].before].name, held[k].next);
			s->n = (size_t)held[k].before;
			found++;
		}
	assert_int_equal(found, nheld);
	assert_int_equal(anfu_migrate(u->db, u->old, u->n, NULL, NULL, NULL, NULL), 0);
}

void upgradefix_close(struct upgradefix *u)
{
	anfu_db_close(u->db);
	u->db = NULL;
	if (!u->pg)
		assert_int_equal(fixture_rmtree(u->dir), 0);
}

/* Appends a row as "v1|v2|...\n"; a NULL is "\N". */
static int append_row(void *ud, const struct anfu_row *r)
{
	struct anfu_buf *b = ud;

	for (int i = 0; i < anfu_row_count(r); i++) {
		const char *t = anfu_row_text(r, i, NULL);
		int rc = anfu_buf_appendf(b, "%s|", anfu_row_is_null(r, i) ? "\\N" : t);

		if (rc < 0)
			return rc;
	}
	return anfu_buf_appends(b, "\n");
}

char *upgradefix_dump(struct anfu_db *db, const char *sql, const char *param)
{
	const struct anfu_param p[] = { ANFU_PS(param) };
	struct anfu_buf b;
	char *out;

	anfu_buf_init(&b, 4 * 1024 * 1024);
	assert_int_equal(anfu_db_exec(db, sql, p, param ? 1 : 0, append_row, &b, NULL), 0);
	assert_int_equal(anfu_buf_appends(&b, ""), 0); /* "" for no row, not NULL */
	out = anfu_buf_steal(&b, NULL);
	assert_non_null(out);
	return out;
}

int upgradefix_version(struct anfu_db *db, const char *module)
{
	int v = -1;

	assert_int_equal(anfu_migrate_version(db, module, &v), 0);
	return v;
}
