/*
 * Unit tests of the query behind a customer's orders
 * (pay/customer_orders.c, GET /api/v1/me/orders; FUNC-PAY-17): SQLite's
 * plan for it on the schema of every module of this build (migrated by
 * anfu_migrate() with the compiled-in migrations). The paid branch must
 * walk pay_order_payer (migration pay 0009) in the list's order, the
 * shared branch find the customer's shares by pay_share_requester and
 * their orders by key, and nothing may scan pay_order or pay_share.
 *
 * What the list answers (parties, flags, pages, refusals, roles) is proved
 * through the API in tests/api/test_pay_my_orders.py on both backends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/app.h"
#include "base/buf.h"
#include "base/err.h"
#include "pay/pay.h"
#include "store/store.h"

#include "fixture.h"

static const struct anfu_fixture_opts opts = { .name = "paymine" };

static int setup(void **state)
{
	struct anfu_migration_set all[ANFU_LIMIT_MODULES];
	struct anfu_fixture *fx;
	size_t n;
	int r = fixture_setup(state, 0, &opts);

	if (r < 0)
		return r;
	fx = *state;
	n = anfu_app_schema(all);
	return anfu_migrate(fx->db, all, n, NULL, NULL, NULL, NULL);
}

/* Appends each plan row's detail as one line. */
static int plan_row(void *ud, const struct anfu_row *r)
{
	struct anfu_buf *b = ud;
	const char *detail = anfu_row_text(r, anfu_row_count(r) - 1, NULL);
	int rc = anfu_buf_appends(b, detail ? detail : "");

	return rc < 0 ? rc : anfu_buf_appends(b, "\n");
}

/* The plan of the list's query, one detail per line (the parameters of a
 * page after a cursor, with both filters). */
static char *plan(struct anfu_db *db)
{
	const struct anfu_param v[7] = {
		ANFU_PS("usr_a"), ANFU_PI(1000),    ANFU_PI(INT64_MAX), ANFU_PS("paid"),
		ANFU_PI(5000),	  ANFU_PS("ord_x"), ANFU_PI(21),
	};
	char sql[4096];
	struct anfu_buf b;
	char *out;

	assert_true((size_t)snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
				     anfu_pay_customer_orders_sql) < sizeof(sql));
	anfu_buf_init(&b, 64 * 1024);
	assert_int_equal(anfu_db_exec(db, sql, v, 7, plan_row, &b, NULL), 0);
	assert_int_equal(anfu_buf_appends(&b, ""), 0);
	out = anfu_buf_steal(&b, NULL);
	assert_non_null(out);
	return out;
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (const char *at = strstr(s, what); at; at = strstr(at + 1, what))
		n++;
	return n;
}

/* req: FUNC-PAY-17 */
static void test_both_branches_use_their_indexes(void **state)
{
	struct anfu_fixture *fx = *state;
	char *p = plan(fx->db);
	const char *line = p;

	/* The paid branch: the payer's entries, the time range from the
	 * index, no sort of its own (the index is in the list's order). */
	assert_non_null(strstr(p, "SEARCH o USING INDEX pay_order_payer (payer_id=? AND "
				  "created_ms>? AND created_ms<?)"));
	/* The shared branch: the customer's shares, each order by its key. */
	assert_non_null(strstr(p, "SEARCH s USING INDEX pay_share_requester (requester_id=?)"));
	assert_non_null(strstr(p, "SEARCH o USING INDEX sqlite_autoindex_pay_order_1 (id=?)"));
	/* Two sorts only: the shared branch's and the page's. */
	assert_int_equal(count(p, "USE TEMP B-TREE FOR ORDER BY"), 2);
	/* No table of the two is read whole. */
	for (; *line; line = strchr(line, '\n') + 1) {
		assert_false(strncmp(line, "SCAN o", 6) == 0 || strncmp(line, "SCAN s", 6) == 0);
		assert_false(strncmp(line, "SCAN pay_", 9) == 0);
	}
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_branches_use_their_indexes, setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
