/*
 * tests/unit/test_migrate_upgrade: the newest migrations that change tables
 * already holding rows, run as an UPGRADE of a database an older anfu made:
 * pay 0007 (pay_refund gains destination, card, withdrawal_id and the
 * states sending and failed; on SQLite the table is REBUILT: new table,
 * copy, drop, rename, indexes), pay 0008 (pay_refund gains chosen_card_id
 * and chosen_card, '' for the rows it finds), pay 0009 (an index of
 * pay_order, built over the orders there), pay 0010 (pay_refund gains
 * attempt, 0 for the rows it finds: none went to a card), bank 0005 (bank_withdrawal gains
 * hold_account and refund_id), dispute 0002 (dispute_event becomes
 * append-only by triggers), dispute 0003 (dispute gains reopens and
 * refunded, 0 for the rows it finds) and dispute 0004 (dispute gains
 * round_ms, dispute_reminder a round in its primary key; on SQLite the
 * reminders' table is REBUILT).
 *
 * Each case runs on a fresh SQLite file and, named "pg:<test>", on a fresh
 * schema of the PostgreSQL server in ANFU_TEST_PG_DSN (skipped, saying so,
 * without it). Its setup makes the older database: every module of this
 * build migrated by anfu_migrate() with its compiled-in migrations (the
 * files of src/<module>/migrations/, embedded by
 * scripts/embed_migrations.py), pay held at 0006, bank at 0004 and dispute
 * at 0001 by handing anfu_migrate() those sets cut short (no production
 * hook); then rows written with SQL as those versions knew the tables, and
 * a copy, as text, of each watched table's rows, indexes and triggers. The
 * case then runs the normal anfu_migrate() of the whole module list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

#include "fixture.h"
#include "upgradefix.h"

/* The migrations under test: the version each module is held at, and the
 * name of the next one (the set must still have it there). */
static const struct upgradefix_held held[] = {
	{ "bank", 4, "withdraw_refund" },
	{ "dispute", 1, "dispute_event_append_only" },
	{ "pay", 6, "pay_refund_card" },
};
#define NHELD (sizeof(held) / sizeof(held[0]))

/* The tables whose rows the upgrade must keep, parents first. */
static const char *const watched[] = {
	"pay_merchant",	   "pay_order", "pay_refund",	 "bank_card",
	"bank_withdrawal", "dispute",	"dispute_event", "dispute_reminder",
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))
enum {
	W_PAY_REFUND = 2,
	W_BANK_WITHDRAWAL = 4,
	W_DISPUTE_EVENT = 6,
	W_DISPUTE_REMINDER = 7
};

/* Records what the upgrade ran, and (SQLite) whether foreign keys were
 * enforced inside pay 0007's transaction. */
struct hook {
	int calls;
	char order[256]; /* "module/version " of each migration applied */
	int64_t fk_on;	 /* PRAGMA foreign_keys during pay 0007; -1: not seen */
};

struct fix {
	struct upgradefix u;	 /* the database, this build's list and the held-back one */
	char *cols[NWATCHED];	 /* each watched table's columns before, "a, b, c" */
	char *rows[NWATCHED];	 /* its rows before (those columns) */
	char *objects[NWATCHED]; /* its indexes and triggers before */
	char *fkeys;		 /* pay_refund's foreign keys before */
	struct hook h;
};

static const bool on_sqlite = false, on_pg = true;

/* ---- reading the database as text ------------------------------------------ */

/* The rows of sql (with up to one text parameter, may be NULL) as text. */
static char *dump(struct anfu_db *db, const char *sql, const char *param)
{
	return upgradefix_dump(db, sql, param);
}

static int64_t changes(struct anfu_db *db, const char *sql)
{
	int64_t n = -1;

	assert_int_equal(anfu_db_exec(db, sql, NULL, 0, NULL, NULL, &n), 0);
	return n;
}

/* table's columns in their order, as "a, b, c". */
static char *columns(struct anfu_db *db, const char *table)
{
	const char *sql = "SELECT name FROM pragma_table_info($1) ORDER BY cid";
	char *names, *out;
	struct anfu_buf b;

	if (strcmp(db->ops->dialect, "pg") == 0)
		sql = "SELECT column_name FROM information_schema.columns WHERE table_schema = "
		      "current_schema() AND table_name = $1 ORDER BY ordinal_position";
	names = dump(db, sql, table);
	assert_true(names[0] != '\0');
	anfu_buf_init(&b, 4096);
	for (char *line = names; *line;) {
		char *end = strchr(line, '|');

		assert_non_null(end);
		*end = '\0';
		assert_int_equal(anfu_buf_appendf(&b, "%s%s", line == names ? "" : ", ", line), 0);
		line = end + 2; /* past "|\n" */
	}
	free(names);
	out = anfu_buf_steal(&b, NULL);
	return out;
}

/* The rows of table, the columns cols only, in primary-key order (each
 * watched table's key is its first column or its first two). */
static char *rows(struct anfu_db *db, const char *table, const char *cols)
{
	char sql[1024];
	int n = snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY 1, 2", cols, table);

	assert_true(n > 0 && (size_t)n < sizeof(sql));
	return dump(db, sql, NULL);
}

/* table's indexes and triggers, names and definitions. */
static char *objects(struct anfu_db *db, const char *table)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return dump(db,
			    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
			    "current_schema() AND tablename = $1 "
			    "UNION ALL SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
			    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s "
			    "ON s.oid = c.relnamespace WHERE s.nspname = current_schema() "
			    "AND c.relname = $1 AND NOT t.tgisinternal ORDER BY 1",
			    table);
	return dump(db,
		    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = $1 "
		    "AND type IN ('index', 'trigger') ORDER BY name",
		    table);
}

/* pay_refund's foreign keys: columns, the table and columns they name. */
static char *refund_fkeys(struct anfu_db *db)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return dump(db,
			    "SELECT conname, pg_get_constraintdef(oid), convalidated "
			    "FROM pg_constraint WHERE conrelid = 'pay_refund'::regclass "
			    "AND contype = 'f' ORDER BY 1",
			    NULL);
	return dump(db,
		    "SELECT \"table\", \"from\", \"to\", on_update, on_delete "
		    "FROM pragma_foreign_key_list('pay_refund') ORDER BY 1, 2",
		    NULL);
}

/* The whole schema, but the bookkeeping table, as text: on SQLite every
 * object's definition; on PostgreSQL every column, constraint, index and
 * trigger of the schema (without the schema's name, which differs from
 * one database of the test to the next). */
static char *schema(struct anfu_db *db)
{
	if (strcmp(db->ops->dialect, "pg") == 0)
		return dump(
			db,
			"SELECT 'col ' || table_name || ' ' || ordinal_position || ' ' || "
			"column_name || ' ' || data_type || ' ' || is_nullable || ' ' || "
			"COALESCE(column_default, '') FROM information_schema.columns "
			"WHERE table_schema = current_schema() AND table_name <> 'schema_version' "
			"UNION ALL SELECT 'con ' || c.conrelid::regclass::text || ' ' || c.conname "
			"|| ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c "
			"JOIN pg_namespace s ON s.oid = c.connamespace "
			"WHERE s.nspname = current_schema() "
			"AND c.conrelid <> 'schema_version'::regclass "
			"UNION ALL SELECT 'idx ' || tablename || ' ' || indexname || ' ' || "
			"replace(indexdef, current_schema() || '.', '') FROM pg_indexes "
			"WHERE schemaname = current_schema() AND tablename <> 'schema_version' "
			"UNION ALL SELECT 'trg ' || c.relname || ' ' || t.tgname || ' ' || "
			"replace(pg_get_triggerdef(t.oid), current_schema() || '.', '') "
			"FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
			"JOIN pg_namespace s ON s.oid = c.relnamespace "
			"WHERE s.nspname = current_schema() AND NOT t.tgisinternal ORDER BY 1",
			NULL);
	return dump(db,
		    "SELECT type, name, tbl_name, sql FROM sqlite_master "
		    "WHERE tbl_name <> 'schema_version' ORDER BY type, name",
		    NULL);
}

/* ---- the older database ------------------------------------------------------- */

/* Rows as the held-back versions know the tables: every state of a refund
 * pay 0006 allows, orders of each kind and most states, one with every
 * column set and one with every nullable column NULL; withdrawals in
 * several states, one with every column set; disputes with events and
 * reminders (d3's reopen event stands for one made under dispute 0003:
 * 0001 did not restrict the events' names, and 0004 reads the rounds from
 * the events). Texts with quotes and Chinese, amounts beyond 2^53. */
static const char *const old_rows[] = {
	"INSERT INTO pay_merchant (merchant_id, name_zh, name_en, fee_bps, escrow_days, state, "
	"account_id, created_ms, updated_ms) VALUES "
	"('m1', '商户一', 'Merchant One', 60, NULL, 'active', 'acc-m1', 1000, 1001), "
	"('m2', '商户''二', 'Merchant \"Two\"', 10000, 7, 'disabled', 'acc-m2', 1002, 1003)",
	"INSERT INTO pay_order (id, merchant_id, out_trade_no, content_hash, kind, state, amount, "
	"currency, subject, return_url, notify_url, created_by, payer_id, created_ms, expires_ms, "
	"updated_ms, paid_ms, closed_ms) VALUES "
	"('o1', 'm1', 'T1', 'h1', 'general', 'created', 100, 'CNY', '咖啡', '', '', 'u-m1', NULL, "
	"2000, 2900, 2000, NULL, NULL), "
	"('o2', 'm1', 'T2', 'h2', 'general', 'paid', 9007199254740993, 'CNY', 'big', "
	"'https://m1.example/r', 'https://m1.example/n', 'u-m1', 'c1', 2001, 2901, 2101, 2100, "
	"NULL), "
	"('o3', 'm1', 'T3', 'h3', 'general', 'partially_refunded', 5000, 'CNY', 's3', '', '', "
	"'u-m1', 'c1', 2002, 2902, 2302, 2102, NULL), "
	"('o4', 'm1', 'T4', 'h4', 'general', 'refunded', 7000, 'CNY', 'it''s', 'https://r', "
	"'https://n', 'u-m1', 'c2', 2003, 2903, 2403, 2103, 2403), "
	"('o5', 'm2', 'T1', 'h5', 'escrow', 'escrow_held', 8000, 'CNY', 's5', '', '', 'u-m2', "
	"'c2', 2004, 2904, 2104, 2104, NULL), "
	"('o6', 'm2', 'T2', 'h6', 'general', 'closed', 300, 'CNY', 's6', '', '', 'u-m2', NULL, "
	"2005, 2905, 2905, NULL, 2905), "
	"('o7', 'm2', 'T3', 'h7', 'agreement', 'paid', 400, 'CNY', 's7', '', '', 'u-m2', 'c1', "
	"2006, 2906, 2106, 2106, NULL)",
	"INSERT INTO pay_refund (id, order_id, merchant_id, out_refund_no, payer_id, state, "
	"amount, "
	"fee_back, reason, origin, created_by, reviewed_by, approved_by, ledger_id, fee_ledger_id, "
	"created_ms, updated_ms) VALUES "
	"('r1', 'o3', 'm1', 'R1', 'c1', 'requested', 100, 0, '', 'merchant', 'u-m1', '', '', NULL, "
	"NULL, 3000, 3000), "
	"('r2', 'o3', 'm1', 'R2', 'c1', 'declined', 200, 1, '余额不足', 'customer', 'c1', '', '', "
	"NULL, NULL, 3001, 3011), "
	"('r3', 'o3', 'm1', 'R3', 'c1', 'reviewing', 9007199254740993, 0, 'large', 'merchant', "
	"'u-m1', '', '', NULL, NULL, 3002, 3012), "
	"('r4', 'o3', 'm1', 'R4', 'c1', 'approved', 400, 2, 'ok', 'merchant', 'u-m1', 'op1', "
	"'op2', NULL, NULL, 3003, 3013), "
	"('r5', 'o3', 'm1', 'R5', 'c1', 'rejected', 500, 0, 'no \"way\"', 'merchant', 'u-m1', "
	"'op1', '', NULL, NULL, 3004, 3014), "
	"('r6', 'o4', 'm1', 'R6', 'c2', 'waiting_funds', 600, 3, 'wait', 'dispute', 'sys', 'op1', "
	"'op2', 'L6', NULL, 3005, 3015), "
	"('r7', 'o4', 'm1', 'R7', 'c2', 'succeeded', 6400, 38, '退款''全额', 'customer', 'c2', "
	"'op1', 'op2', 'L7', 'F7', 3006, 3016)",
	"INSERT INTO bank_card (id, user_id, bank_id, card_enc, card_index, masked, phone_masked, "
	"serial, state, created_ms, bound_ms, unbound_ms) VALUES "
	"('k1', 'c1', 'icbc', 'enc1', 'idx1', '6222****1234', '****1050', 's1', 'bound', 500, "
	"501, 0)",
	"INSERT INTO bank_withdrawal (id, user_id, bank_id, card_id, amount, fee, currency, state, "
	"review, request_id, day_cn, hold_id, payment_id, maker_id, checker_id, reason, "
	"created_ms, updated_ms, send_after_ms) VALUES "
	"('w1', 'c1', 'icbc', 'k1', 1000, 0, 'CNY', 'submitted', 'auto', 'q1', 20260101, '', '', "
	"'', '', '', 4000, 4000, 0), "
	"('w2', 'c1', 'icbc', 'k1', 900000, 90, 'CNY', 'review', 'dual', 'q2', 20260101, 'H2', "
	"'', 'op1', '', '', 4001, 4011, 0), "
	"('w3', 'c1', 'icbc', 'k1', 9007199254740993, 2, 'CNY', 'succeeded', 'single', 'q3', "
	"20260102, 'H3', 'P3', 'op1', 'op2', '复核通过', 4002, 4012, 4500), "
	"('w4', 'c1', 'icbc', 'k1', 300, 0, 'CNY', 'failed', 'auto', 'q4', 20260102, 'H4', 'P4', "
	"'', '', 'bank says \"no\"', 4003, 4013, 0), "
	"('w5', 'c1', 'icbc', 'k1', 500, 0, 'CNY', 'returned', 'auto', 'q5', 20260103, 'H5', "
	"'P5', '', '', 'it''s back', 4004, 4014, 0)",
	"INSERT INTO dispute (id, kind, ref, active_key, customer_id, counterparty_id, "
	"merchant_id, "
	"amount, currency, subject_ms, description, category, reason, state, operator_id, "
	"resolution, refund_amount, refund_state, refund_ref, created_ms, taken_ms, resolved_ms, "
	"closed_ms, updated_ms) VALUES "
	"('d1', 'payment', 'o2', 'payment:o2', 'c1', '', 'm1', 100, 'CNY', 2100, '没收到', "
	"'not_received', '', 'open', '', '', 0, 'none', '', 5000, 0, 0, 0, 5000), "
	"('d2', 'payment', 'o4', NULL, 'c2', 'x', 'm1', 7000, 'CNY', 2103, 'it''s wrong', "
	"'wrong_amount', 'r', 'resolved', 'op1', 'refund', 7000, 'done', 'r7', 5001, 5002, 5003, "
	"5004, 5004), "
	"('d3', 'payment', 'o3', 'payment:o3', 'c1', '', 'm1', 5000, 'CNY', 2102, 's3', "
	"'other', 'x', 'open', 'op1', 'first', 0, 'none', '', 5010, 5011, 5012, 0, 5020)",
	"INSERT INTO dispute_event (dispute_id, seq, at_ms, actor_id, actor_type, event, "
	"from_state, to_state, note) VALUES "
	"('d1', 1, 5000, 'c1', 'customer', 'open', '', 'open', '没收到'), "
	"('d2', 1, 5001, 'c2', 'customer', 'open', '', 'open', ''), "
	"('d2', 2, 5002, 'op1', 'operator', 'take', 'open', 'in_progress', 'mine'), "
	"('d2', 3, 5003, 'op1', 'operator', 'resolve', 'in_progress', 'resolved', 'it''s done'), "
	"('d3', 1, 5010, 'c1', 'customer', 'lodge', '', 'open', 'x'), "
	"('d3', 2, 5011, 'op1', 'staff', 'take', 'open', 'in_progress', ''), "
	"('d3', 3, 5012, 'op1', 'staff', 'resolve', 'in_progress', 'resolved', 'first'), "
	"('d3', 4, 5020, 'c1', 'customer', 'reopen', 'resolved', 'open', 'no')",
	"INSERT INTO dispute_reminder (dispute_id, kind, at_ms) VALUES ('d1', 'take', 6000), "
	"('d3', 'take', 5011), ('d3', 'handle', 5020), ('d1', 'handle', 7000)",
};

/* *state: &on_sqlite or &on_pg, replaced by the fixture. */
static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->h.fk_on = -1;
	upgradefix_open(&f->u, *(const bool *)*state, "upgrade", held, NHELD);
	*state = f;
	for (size_t k = 0; k < NHELD; k++)
		assert_int_equal(upgradefix_version(f->u.db, held[k].module), held[k].before);
	for (size_t i = 0; i < sizeof(old_rows) / sizeof(old_rows[0]); i++)
		assert_true(changes(f->u.db, old_rows[i]) > 0);
	for (size_t t = 0; t < NWATCHED; t++) {
		f->cols[t] = columns(f->u.db, watched[t]);
		f->rows[t] = rows(f->u.db, watched[t], f->cols[t]);
		assert_true(f->rows[t][0] != '\0');
		f->objects[t] = objects(f->u.db, watched[t]);
	}
	f->fkeys = refund_fkeys(f->u.db);
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	upgradefix_close(&f->u);
	for (size_t t = 0; t < NWATCHED; t++) {
		free(f->cols[t]);
		free(f->rows[t]);
		free(f->objects[t]);
	}
	free(f->fkeys);
	free(f);
	return 0;
}

static int hook(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct hook *h = ud;
	size_t len = strlen(h->order);

	h->calls++;
	(void)snprintf(h->order + len, sizeof(h->order) - len, "%s/%d ", m->module, m->version);
	if (strcmp(db->ops->dialect, "sqlite") == 0 && strcmp(m->module, "pay") == 0 &&
	    m->version == 7)
		return anfu_db_query_int(db, "PRAGMA foreign_keys", NULL, 0, &h->fk_on);
	return 0;
}

/* The normal migration of the whole list: it runs exactly the held-back
 * migrations, each module ends at its latest version. */
static void upgrade(struct fix *f)
{
	int from[ANFU_LIMIT_MODULES], to[ANFU_LIMIT_MODULES];

	assert_int_equal(anfu_migrate(f->u.db, f->u.all, f->u.n, hook, &f->h, from, to), 0);
	assert_string_equal(f->h.order,
			    "bank/5 dispute/2 dispute/3 dispute/4 pay/7 pay/8 pay/9 pay/10 ");
	for (size_t i = 0; i < f->u.n; i++) {
		assert_int_equal(to[i], anfu_migrate_latest(&f->u.all[i]));
		assert_int_equal(upgradefix_version(f->u.db, f->u.all[i].module), to[i]);
		assert_int_equal(from[i], anfu_migrate_latest(&f->u.old[i]));
	}
}

/* A write that must be refused by a constraint or trigger. */
static void refused(struct anfu_db *db, const char *sql)
{
	assert_int_equal(anfu_db_exec(db, sql, NULL, 0, NULL, NULL, NULL), ANFU_ECONFLICT);
}

/* ---- cases ------------------------------------------------------------------- */

/* The upgrade runs bank 0005, dispute 0002 to 0004 and pay 0007 to 0010
 * (0009: an index of pay_order, which holds rows) once: the versions
 * read the new numbers, every watched table's old columns hold the same
 * rows, and a second migration applies nothing and changes nothing
 * (schema and rows). req: DATA-INT-01 */
static void test_upgrade_keeps_every_row_and_a_second_run_changes_nothing(void **state)
{
	struct fix *f = *state;
	struct hook again = { .fk_on = -1 };
	char *schema_after, *again_schema, *cols[NWATCHED], *after[NWATCHED];
	int from[ANFU_LIMIT_MODULES], to[ANFU_LIMIT_MODULES];

	upgrade(f);
	assert_int_equal(upgradefix_version(f->u.db, "pay"), 10);
	assert_int_equal(upgradefix_version(f->u.db, "bank"), 5);
	assert_int_equal(upgradefix_version(f->u.db, "dispute"), 4);
	{ /* dispute 0003: the disputes it found were never reopened */
		int64_t n = -1, all = -1;

		assert_int_equal(anfu_db_query_int(f->u.db,
						   "SELECT COUNT(*) FROM dispute WHERE reopens = 0 "
						   "AND refunded = 0",
						   NULL, 0, &n),
				 0);
		assert_int_equal(
			anfu_db_query_int(f->u.db, "SELECT COUNT(*) FROM dispute", NULL, 0, &all),
			0);
		assert_true(all > 0);
		assert_int_equal(n, all);
	}
	for (size_t t = 0; t < NWATCHED; t++) {
		char *old_cols = rows(f->u.db, watched[t], f->cols[t]);

		assert_string_equal(old_cols, f->rows[t]);
		free(old_cols);
		cols[t] = columns(f->u.db, watched[t]);
		after[t] = rows(f->u.db, watched[t], cols[t]);
	}
	schema_after = schema(f->u.db);
	assert_int_equal(anfu_migrate(f->u.db, f->u.all, f->u.n, hook, &again, from, to), 0);
	assert_int_equal(again.calls, 0);
	for (size_t i = 0; i < f->u.n; i++) {
		assert_int_equal(from[i], anfu_migrate_latest(&f->u.all[i]));
		assert_int_equal(to[i], from[i]);
	}
	again_schema = schema(f->u.db);
	assert_string_equal(again_schema, schema_after);
	for (size_t t = 0; t < NWATCHED; t++) {
		char *now = rows(f->u.db, watched[t], cols[t]);

		assert_string_equal(now, after[t]);
		free(now);
		free(cols[t]);
		free(after[t]);
	}
	free(schema_after);
	free(again_schema);
}

/* pay 0007 on refunds made before it: every old column keeps its value
 * (compared row by row), the new columns read their defaults, the indexes
 * and foreign keys of pay_refund are those it had (on SQLite, where the
 * table is rebuilt, with foreign keys enforced during the rebuild and none
 * broken after it), and an old refund can now be put in sending or failed
 * while the checks still refuse what they refused. req: DATA-INT-01 */
static void test_pay_0007_keeps_old_refunds_and_lets_them_be_sent_or_failed(void **state)
{
	struct fix *f = *state;
	char *now, *objs, *fk;

	/* Before the upgrade the check refused the new states. */
	assert_int_equal(anfu_db_begin(f->u.db), 0);
	refused(f->u.db, "UPDATE pay_refund SET state = 'sending' WHERE id = 'r4'");
	assert_int_equal(anfu_db_rollback(f->u.db), 0);

	upgrade(f);
	now = rows(f->u.db, "pay_refund", f->cols[W_PAY_REFUND]);
	assert_string_equal(now, f->rows[W_PAY_REFUND]);
	assert_int_equal(fixture_count(f->u.db,
				       "SELECT count(*) FROM pay_refund WHERE destination = "
				       "'wallet' AND card = '' AND withdrawal_id = ''",
				       NULL),
			 7);
	/* pay 0008: no old refund has an operator's choice of card. */
	assert_int_equal(fixture_count(f->u.db,
				       "SELECT count(*) FROM pay_refund WHERE chosen_card_id = '' "
				       "AND chosen_card = ''",
				       NULL),
			 7);
	/* pay 0010: none went to a card, so none has a card credit's attempt. */
	assert_int_equal(
		fixture_count(f->u.db, "SELECT count(*) FROM pay_refund WHERE attempt = 0", NULL),
		7);
	objs = objects(f->u.db, "pay_refund");
	assert_string_equal(objs, f->objects[W_PAY_REFUND]);
	/* Both indexes and the UNIQUE one are there, not just the same as before. */
	if (f->u.pg)
		assert_int_equal(
			fixture_count(f->u.db,
				      "SELECT count(*) FROM pg_indexes WHERE schemaname = "
				      "current_schema() AND tablename = 'pay_refund' AND "
				      "indexname IN ('pay_refund_order', 'pay_refund_state')",
				      NULL),
			2);
	else
		assert_int_equal(fixture_count(f->u.db,
					       "SELECT count(*) FROM sqlite_master WHERE type = "
					       "'index' AND tbl_name = 'pay_refund' AND name IN "
					       "('pay_refund_order', 'pay_refund_state', "
					       "'sqlite_autoindex_pay_refund_1')",
					       NULL),
				 3);
	fk = refund_fkeys(f->u.db);
	assert_string_equal(fk, f->fkeys);
	assert_true(fk[0] != '\0');
	/* No table refers to pay_refund (had one rows there, SQLite's DROP in
	 * the rebuild would have failed with foreign keys on). */
	assert_int_equal(fixture_count(f->u.db,
				       f->u.pg ? "SELECT count(*) FROM pg_constraint WHERE "
						 "confrelid = 'pay_refund'::regclass"
					       : "SELECT count(*) FROM sqlite_master m, "
						 "pragma_foreign_key_list(m.name) k WHERE m.type = "
						 "'table' AND k.\"table\" = 'pay_refund'",
				       NULL),
			 0);
	if (f->u.pg) {
		assert_int_equal(
			fixture_count(f->u.db,
				      "SELECT count(*) FROM pg_constraint WHERE conrelid = "
				      "'pay_refund'::regclass AND contype = 'f' AND "
				      "convalidated",
				      NULL),
			2);
	} else {
		assert_int_equal(f->h.fk_on, 1);
		assert_int_equal(fixture_count(f->u.db,
					       "SELECT count(*) FROM pragma_foreign_key_check",
					       NULL),
				 0);
	}
	/* The foreign keys still hold: a refund of an unknown order or
	 * merchant is refused; the unique merchant refund number too. */
	refused(f->u.db,
		"INSERT INTO pay_refund (id, order_id, merchant_id, out_refund_no, "
		"payer_id, state, "
		"amount, fee_back, reason, origin, created_by, reviewed_by, approved_by, "
		"created_ms, "
		"updated_ms) VALUES ('r9', 'nope', 'm1', 'R9', 'c1', 'requested', 1, 0, '', "
		"'merchant', 'u', '', '', 1, 1)");
	refused(f->u.db,
		"INSERT INTO pay_refund (id, order_id, merchant_id, out_refund_no, "
		"payer_id, state, "
		"amount, fee_back, reason, origin, created_by, reviewed_by, approved_by, "
		"created_ms, "
		"updated_ms) VALUES ('r9', 'o3', 'nope', 'R9', 'c1', 'requested', 1, 0, '', "
		"'merchant', 'u', '', '', 1, 1)");
	assert_int_equal(anfu_db_exec(f->u.db,
				      "INSERT INTO pay_refund (id, order_id, merchant_id, "
				      "out_refund_no, payer_id, state, amount, fee_back, reason, "
				      "origin, created_by, reviewed_by, approved_by, created_ms, "
				      "updated_ms) VALUES ('r9', 'o3', 'm1', 'R1', 'c1', "
				      "'requested', 1, 0, '', 'merchant', 'u', '', '', 1, 1)",
				      NULL, 0, NULL, NULL, NULL),
			 ANFU_EEXIST);
	/* The new rules on old rows. */
	assert_int_equal(changes(f->u.db, "UPDATE pay_refund SET state = 'sending', destination = "
					  "'card', card = '6222****1234', withdrawal_id = 'w9' "
					  "WHERE id = 'r4'"),
			 1);
	assert_int_equal(changes(f->u.db, "UPDATE pay_refund SET state = 'failed' WHERE id = 'r4'"),
			 1);
	refused(f->u.db, "UPDATE pay_refund SET state = 'lost' WHERE id = 'r5'");
	refused(f->u.db, "UPDATE pay_refund SET destination = 'bank' WHERE id = 'r5'");
	refused(f->u.db, "UPDATE pay_refund SET amount = 0 WHERE id = 'r5'");
	assert_int_equal(
		fixture_count(f->u.db,
			      "SELECT count(*) FROM pay_refund WHERE id = 'r4' AND state = "
			      "'failed' AND destination = 'card' AND card = '6222****1234' "
			      "AND withdrawal_id = 'w9'",
			      NULL),
		1);
	assert_int_equal(fixture_count(f->u.db, "SELECT count(*) FROM pay_refund", NULL), 7);
	free(now);
	free(objs);
	free(fk);
}

/* bank 0005 on withdrawals made before it: every old column keeps its
 * value, the new ones read '' (a withdrawal, not a refund credit), the
 * indexes are those it had, and an old row takes the new columns.
 * req: DATA-INT-01 */
static void test_bank_0005_keeps_old_withdrawals(void **state)
{
	struct fix *f = *state;
	char *now, *objs;

	upgrade(f);
	now = rows(f->u.db, "bank_withdrawal", f->cols[W_BANK_WITHDRAWAL]);
	assert_string_equal(now, f->rows[W_BANK_WITHDRAWAL]);
	assert_int_equal(fixture_count(f->u.db,
				       "SELECT count(*) FROM bank_withdrawal WHERE hold_account = "
				       "'' AND refund_id = ''",
				       NULL),
			 5);
	objs = objects(f->u.db, "bank_withdrawal");
	assert_string_equal(objs, f->objects[W_BANK_WITHDRAWAL]);
	assert_int_equal(changes(f->u.db, "UPDATE bank_withdrawal SET hold_account = 'acc-m1', "
					  "refund_id = 'r4' WHERE id = 'w1'"),
			 1);
	assert_int_equal(fixture_count(f->u.db,
				       "SELECT count(*) FROM bank_withdrawal WHERE id = 'w1' AND "
				       "hold_account = 'acc-m1' AND refund_id = 'r4' AND amount = "
				       "1000",
				       NULL),
			 1);
	free(now);
	free(objs);
}

/* dispute 0002 on events made before it: they are kept, its triggers
 * exist, and those old events can no longer be updated, deleted, replaced
 * (SQLite), upserted or truncated (PostgreSQL), which they could before;
 * new events are still appended. req: DATA-INT-01 */
static void test_dispute_0002_makes_old_events_append_only(void **state)
{
	struct fix *f = *state;
	char *now;
	int64_t n = 0;

	/* Before the upgrade an old event could be changed (rolled back). */
	assert_int_equal(anfu_db_begin(f->u.db), 0);
	assert_int_equal(anfu_db_exec(f->u.db,
				      "UPDATE dispute_event SET note = 'x' WHERE "
				      "dispute_id = 'd2' AND seq = 2",
				      NULL, 0, NULL, NULL, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(anfu_db_rollback(f->u.db), 0);

	upgrade(f);
	if (f->u.pg)
		assert_int_equal(
			fixture_count(f->u.db,
				      "SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = "
				      "'dispute_event'::regclass "
				      "AND t.tgname IN ('dispute_event_append_only', "
				      "'dispute_event_no_truncate')",
				      NULL),
			2);
	else
		assert_int_equal(
			fixture_count(f->u.db,
				      "SELECT count(*) FROM sqlite_master WHERE type = "
				      "'trigger' AND tbl_name = 'dispute_event' AND name IN "
				      "('dispute_event_no_update', 'dispute_event_no_delete', "
				      "'dispute_event_no_replace')",
				      NULL),
			3);
	refused(f->u.db, "UPDATE dispute_event SET note = 'x' WHERE dispute_id = 'd2' AND seq = 2");
	refused(f->u.db, "DELETE FROM dispute_event WHERE dispute_id = 'd1'");
	refused(f->u.db, "INSERT INTO dispute_event (dispute_id, seq, at_ms, actor_id, actor_type, "
			 "event, from_state, to_state, note) VALUES ('d2', 3, 1, 'a', 'b', 'c', "
			 "'d', 'e', 'f') ON CONFLICT (dispute_id, seq) DO UPDATE SET note = 'f'");
	if (f->u.pg)
		refused(f->u.db, "TRUNCATE dispute_event");
	else
		refused(f->u.db,
			"INSERT OR REPLACE INTO dispute_event (dispute_id, seq, at_ms, actor_id, "
			"actor_type, event, from_state, to_state, note) VALUES ('d2', 3, 1, 'a', "
			"'b', 'c', 'd', 'e', 'f')");
	now = rows(f->u.db, "dispute_event", f->cols[W_DISPUTE_EVENT]);
	assert_string_equal(now, f->rows[W_DISPUTE_EVENT]);
	assert_int_equal(changes(f->u.db,
				 "INSERT INTO dispute_event (dispute_id, seq, at_ms, "
				 "actor_id, actor_type, event, from_state, to_state, note) "
				 "VALUES ('d1', 2, 5005, 'op1', 'operator', 'take', 'open', "
				 "'in_progress', '')"),
			 1);
	assert_int_equal(fixture_count(f->u.db, "SELECT count(*) FROM dispute_event", NULL), 9);
	free(now);
}

/* dispute 0004 on disputes and reminders made before it: a round begins
 * at the latest reopen, else at lodging (round_ms); each reminder belongs
 * to round 1 + the reopens at or before it (d3's take before its reopen:
 * round 1; its handle at the reopen's instant: round 2); every old column
 * keeps its value; the primary key is (dispute, kind, round): a reminder
 * of the same kind in the next round is taken, a second one in the same
 * round refused, round 0 refused, the foreign key still holds.
 * req: DATA-INT-01, FUNC-PAY-13 */
static void test_dispute_0004_gives_old_reminders_their_rounds(void **state)
{
	struct fix *f = *state;
	char *now;

	upgrade(f);
	assert_int_equal(fixture_count(f->u.db,
				       "SELECT count(*) FROM dispute WHERE (id = 'd1' AND "
				       "round_ms = 5000) OR (id = 'd2' AND round_ms = 5001) OR "
				       "(id = 'd3' AND round_ms = 5020)",
				       NULL),
			 3);
	now = dump(f->u.db,
		   "SELECT dispute_id, kind, at_ms, round FROM dispute_reminder ORDER BY 1, 2",
		   NULL);
	assert_string_equal(now, "d1|handle|7000|1|\n"
				 "d1|take|6000|1|\n"
				 "d3|handle|5020|2|\n"
				 "d3|take|5011|1|\n");
	free(now);
	now = rows(f->u.db, "dispute_reminder", f->cols[W_DISPUTE_REMINDER]);
	assert_string_equal(now, f->rows[W_DISPUTE_REMINDER]);
	free(now);
	assert_int_equal(
		fixture_count(f->u.db,
			      f->u.pg ? "SELECT count(*) FROM pg_indexes WHERE schemaname = "
					"current_schema() AND indexname = 'dispute_round'"
				      : "SELECT count(*) FROM sqlite_master WHERE type = "
					"'index' AND name = 'dispute_round'",
			      NULL),
		1);
	assert_int_equal(changes(f->u.db, "INSERT INTO dispute_reminder (dispute_id, kind, at_ms, "
					  "round) VALUES ('d1', 'take', 9000, 2)"),
			 1);
	assert_int_equal(anfu_db_exec(f->u.db,
				      "INSERT INTO dispute_reminder (dispute_id, kind, at_ms, "
				      "round) VALUES ('d1', 'take', 9001, 2)",
				      NULL, 0, NULL, NULL, NULL),
			 ANFU_EEXIST);
	refused(f->u.db, "INSERT INTO dispute_reminder (dispute_id, kind, at_ms, round) VALUES "
			 "('d2', 'take', 9000, 0)");
	refused(f->u.db, "INSERT INTO dispute_reminder (dispute_id, kind, at_ms, round) VALUES "
			 "('nope', 'take', 9000, 1)");
	assert_int_equal(fixture_count(f->u.db, "SELECT count(*) FROM dispute_reminder", NULL), 5);
}

int main(void)
{
	struct CMUnitTest tests[] = {
/* Both engines; the PostgreSQL case is named "pg:<test>". */
#define T(fn)                                             \
	{ #fn, fn, setup, teardown, (void *)&on_sqlite }, \
		{ "pg:" #fn, fn, setup, teardown, (void *)&on_pg }
		T(test_upgrade_keeps_every_row_and_a_second_run_changes_nothing),
		T(test_pay_0007_keeps_old_refunds_and_lets_them_be_sent_or_failed),
		T(test_bank_0005_keeps_old_withdrawals),
		T(test_dispute_0002_makes_old_events_append_only),
		T(test_dispute_0004_gives_old_reminders_their_rounds),
#undef T
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, NULL, fixture_pg_group_teardown);
}
