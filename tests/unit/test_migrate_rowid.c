/*
 * tests/unit/test_migrate_rowid: core 0005 (audit_log) and ledger 0003
 * (ledger_transfer, ledger_batch) run as an UPGRADE of tables that hold
 * rows. On SQLite they rebuild the three tables with seq as the rowid
 * (INTEGER PRIMARY KEY: no second b-tree for the key, docs/benchmarks.md
 * §6.8): every row stays as it was, the indexes and the append-only
 * triggers are there again. On PostgreSQL both are comments: the rows and
 * the schema stay.
 *
 * Each case runs on a fresh SQLite file and, named "pg:<test>", on a fresh
 * schema of the PostgreSQL server in ANFU_TEST_PG_DSN (skipped, saying so,
 * without it). Its setup migrates this build's module list with core held
 * at 0004 and ledger at 0002 (the sets cut short, as
 * test_migrate_upgrade.c does), writes rows with SQL as those versions
 * knew the tables and keeps them as text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "store/store.h"

#include "fixture.h"
#include "upgradefix.h"

static const struct upgradefix_held held[] = {
	{ "core", 4, "audit_rowid" },
	{ "ledger", 2, "ledger_rowid" },
};
#define NHELD (sizeof(held) / sizeof(held[0]))

/* The rebuilt tables and the order their rows are read in. */
static const char *const watched[] = {
	"SELECT * FROM audit_log ORDER BY seq",
	"SELECT * FROM ledger_transfer ORDER BY seq",
	"SELECT * FROM ledger_batch ORDER BY seq",
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

/* Rows as core 0004 and ledger 0002 knew the tables (the values need not
 * chain: the migration copies, it does not verify). */
static const char *const old_rows[] = {
	"INSERT INTO audit_log (seq, ts_ms, actor_id, actor_type, actor_role, source_ip, "
	"device, request_id, action, object_type, object_id, outcome, details, prev_hash, "
	"hash) VALUES (1, 1000, 'usr_a', 'user', 'customer', '192.0.2.1', 'd', 'req_1', "
	"'ledger.transfer', 'ledger_transfer', 'trf_1', 'success', '{\"amount\":5}', 'p1', "
	"'h1'), (2, 1001, 'system', 'system', '', '', '', '', 'db.migration_applied', 'db', "
	"'x', 'success', '{}', 'h1', 'h2'), (3, 1002, 'usr_b', 'user', 'operator', "
	"'2001:db8::1', 'd2', 'req_3', 'ledger.transfer', 'ledger_transfer', 'trf_2', "
	"'failure', '{\"k\":\"值\"}', 'h2', 'h3')",
	"INSERT INTO ledger_transfer (seq, id, caller, idem_key, content_hash, debit_account, "
	"credit_account, amount, asset, code, ref, flags, pending_id, timeout_ms, on_timeout, "
	"ts_us, batch_seq) VALUES (1, 'trf_1', 'wallet', 'k1', 'c1', 'acc_a', 'acc_b', 5, "
	"'CNY', 'payment', 'ord_1', 0, NULL, 0, '', 1000000, 1), (2, 'trf_2', 'wallet', "
	"'k2', 'c2', 'acc_b', 'acc_a', 9223372036854775807, 'CNY', 'refund', '', 2, NULL, "
	"60000, 'void', 1000001, 1), (3, 'trf_3', 'pay', 'k1', 'c3', 'acc_a', 'acc_b', 1, "
	"'POINTS', 'fee', 'r', 4, 'trf_2', 0, '', 1000002, 2)",
	"INSERT INTO ledger_batch (seq, first_transfer, last_transfer, ts_us, prev_hash, hash) "
	"VALUES (1, 1, 2, 1000001, '00', 'b1'), (2, 3, 3, 1000002, 'b1', 'b2')",
};

static const bool on_sqlite = false, on_pg = true;

struct fix {
	struct upgradefix u;
	char *rows[NWATCHED];
};

static char *dump(struct anfu_db *db, const char *sql)
{
	return upgradefix_dump(db, sql, NULL);
}

static int64_t num(struct anfu_db *db, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(anfu_db_query_int(db, sql, NULL, 0, &n), 0);
	return n;
}

/* SQLite: the key b-trees 0001 left beside the three tables. */
static int64_t key_indexes(struct anfu_db *db)
{
	return num(db, "SELECT count(*) FROM sqlite_schema s WHERE s.type = 'index' AND "
		       "s.tbl_name IN ('audit_log', 'ledger_transfer', 'ledger_batch') AND "
		       "s.sql IS NULL AND EXISTS (SELECT 1 FROM pragma_index_info(s.name) i "
		       "WHERE i.name = 'seq')");
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	upgradefix_open(&f->u, *(const bool *)*state, "rowid", held, NHELD);
	*state = f;
	for (size_t i = 0; i < sizeof(old_rows) / sizeof(old_rows[0]); i++)
		assert_int_equal(anfu_db_exec(f->u.db, old_rows[i], NULL, 0, NULL, NULL, NULL), 0);
	for (size_t t = 0; t < NWATCHED; t++) {
		f->rows[t] = dump(f->u.db, watched[t]);
		assert_true(f->rows[t][0] != '\0');
	}
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	upgradefix_close(&f->u);
	for (size_t t = 0; t < NWATCHED; t++)
		free(f->rows[t]);
	free(f);
	return 0;
}

/* A write the append-only triggers (or the key) must refuse. */
static void refused(struct anfu_db *db, const char *sql)
{
	assert_int_equal(anfu_db_exec(db, sql, NULL, 0, NULL, NULL, NULL), ANFU_ECONFLICT);
}

/* req: DATA-INT-01 — the upgrade keeps every row of the journal, its
 * batches and the audit log as it was (all columns, NULLs and the
 * largest amount included); on SQLite the key is then the rowid (the
 * separate key b-trees are gone), the other indexes are there and are
 * used, and the tables refuse UPDATE, DELETE and INSERT OR REPLACE as
 * before; a second migration changes nothing. */
static void test_the_upgrade_keeps_every_row_and_the_tables_append_only(void **state)
{
	struct fix *f = *state;
	int from[ANFU_LIMIT_MODULES], to[ANFU_LIMIT_MODULES];
	char *after;

	if (!f->u.pg)
		assert_int_equal(key_indexes(f->u.db), 3);
	assert_int_equal(upgradefix_version(f->u.db, "core"), 4);
	assert_int_equal(upgradefix_version(f->u.db, "ledger"), 2);
	assert_int_equal(anfu_migrate(f->u.db, f->u.all, f->u.n, NULL, NULL, from, to), 0);
	assert_int_equal(upgradefix_version(f->u.db, "core"), 6);
	assert_int_equal(upgradefix_version(f->u.db, "ledger"), 4);
	for (size_t t = 0; t < NWATCHED; t++) {
		after = dump(f->u.db, watched[t]);
		assert_string_equal(after, f->rows[t]);
		free(after);
	}
	if (!f->u.pg) {
		assert_int_equal(key_indexes(f->u.db), 0);
		/* seq is the rowid of each: an INTEGER primary key. */
		assert_int_equal(num(f->u.db, "SELECT count(*) FROM pragma_table_info('audit_log') "
					      "WHERE name = 'seq' AND pk = 1 AND type = 'INTEGER'"),
				 1);
		assert_int_equal(num(f->u.db,
				     "SELECT count(*) FROM pragma_table_info("
				     "'ledger_transfer') WHERE name = 'seq' AND pk = 1 AND "
				     "type = 'INTEGER'"),
				 1);
		assert_int_equal(num(f->u.db, "SELECT count(*) FROM pragma_table_info("
					      "'ledger_batch') WHERE name = 'seq' AND pk = 1 AND "
					      "type = 'INTEGER'"),
				 1);
		/* The other indexes, and the journal's unique keys. */
		assert_int_equal(num(f->u.db, "SELECT count(*) FROM sqlite_schema WHERE type = "
					      "'index' AND name IN ('audit_log_action', "
					      "'audit_log_object', 'ledger_transfer_debit', "
					      "'ledger_transfer_credit')"),
				 4);
		assert_int_equal(num(f->u.db, "SELECT count(*) FROM pragma_index_list("
					      "'ledger_transfer') WHERE \"unique\" = 1"),
				 3);
		assert_int_equal(num(f->u.db, "SELECT count(*) FROM sqlite_schema WHERE type = "
					      "'trigger' AND tbl_name IN ('audit_log', "
					      "'ledger_transfer', 'ledger_batch')"),
				 9);
		refused(f->u.db, "INSERT OR REPLACE INTO audit_log SELECT * FROM audit_log WHERE "
				 "seq = 2");
		refused(f->u.db, "INSERT OR REPLACE INTO ledger_transfer SELECT * FROM "
				 "ledger_transfer WHERE seq = 2");
		refused(f->u.db, "INSERT OR REPLACE INTO ledger_batch SELECT * FROM ledger_batch "
				 "WHERE seq = 1");
	}
	refused(f->u.db, "UPDATE audit_log SET outcome = 'failure' WHERE seq = 1");
	refused(f->u.db, "DELETE FROM audit_log WHERE seq = 3");
	refused(f->u.db, "UPDATE ledger_transfer SET amount = 6 WHERE seq = 1");
	refused(f->u.db, "DELETE FROM ledger_transfer WHERE seq = 3");
	refused(f->u.db, "UPDATE ledger_batch SET hash = 'x' WHERE seq = 1");
	refused(f->u.db, "DELETE FROM ledger_batch WHERE seq = 2");
	/* The journal's own keys: a second row with a key of another
	 * (SQLite: the no_replace trigger refuses it first). */
	assert_int_equal(
		anfu_db_exec(f->u.db,
			     "INSERT INTO ledger_transfer (seq, id, caller, idem_key, "
			     "content_hash, debit_account, credit_account, amount, asset, "
			     "code, ref, flags, timeout_ms, on_timeout, ts_us, batch_seq) "
			     "VALUES (4, 'trf_4', 'wallet', 'k1', 'c', 'acc_a', 'acc_b', 1, "
			     "'CNY', 'fee', '', 0, 0, '', 1000003, 2)",
			     NULL, 0, NULL, NULL, NULL),
		f->u.pg ? ANFU_EEXIST : ANFU_ECONFLICT);
	for (size_t t = 0; t < NWATCHED; t++) {
		after = dump(f->u.db, watched[t]);
		assert_string_equal(after, f->rows[t]);
		free(after);
	}
	/* Again: nothing to apply. */
	assert_int_equal(anfu_migrate(f->u.db, f->u.all, f->u.n, NULL, NULL, from, to), 0);
	for (size_t i = 0; i < f->u.n; i++)
		assert_int_equal(from[i], to[i]);
}

/* The rebuilt journal still serves the writer's reads by index (SQLite's
 * plan names them; a scan would be a full read of the journal). */
static void test_the_rebuilt_journal_is_read_by_its_indexes(void **state)
{
	struct fix *f = *state;
	char *plan;

	assert_int_equal(anfu_migrate(f->u.db, f->u.all, f->u.n, NULL, NULL, NULL, NULL), 0);
	plan = dump(f->u.db, "EXPLAIN QUERY PLAN SELECT id FROM ledger_transfer WHERE caller = "
			     "'wallet' AND idem_key IN ('k1', 'k2')");
	assert_non_null(strstr(plan, "USING INDEX sqlite_autoindex_ledger_transfer_3"));
	free(plan);
	plan = dump(f->u.db, "EXPLAIN QUERY PLAN SELECT seq FROM ledger_transfer WHERE "
			     "debit_account = 'acc_a' ORDER BY seq DESC");
	assert_non_null(strstr(plan, "ledger_transfer_debit"));
	free(plan);
	plan = dump(f->u.db, "EXPLAIN QUERY PLAN SELECT hash FROM ledger_batch WHERE seq = 2");
	assert_non_null(strstr(plan, "INTEGER PRIMARY KEY"));
	free(plan);
}

int main(void)
{
	struct CMUnitTest tests[] = {
#define T(fn)                                             \
	{ #fn, fn, setup, teardown, (void *)&on_sqlite }, \
		{ "pg:" #fn, fn, setup, teardown, (void *)&on_pg }
		T(test_the_upgrade_keeps_every_row_and_the_tables_append_only),
#undef T
		/* SQLite's plans only. */
		{ "test_the_rebuilt_journal_is_read_by_its_indexes",
		  test_the_rebuilt_journal_is_read_by_its_indexes, setup, teardown,
		  (void *)&on_sqlite },
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, NULL, fixture_pg_group_teardown);
}
