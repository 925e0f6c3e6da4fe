/*
 * tests/unit/test_ledger_verify: anfu_ledger_verify() (src/ledger/verify.c)
 * on a small ledger the test writes by hand, then corrupted one way at a
 * time: each corruption must be named by the check it breaks, and only
 * by the checks it really breaks (rep.failed).
 *
 * The ledger (three batches, nine transfers, six accounts, three holds):
 *   batch 1: 1 reserve -> w1 100000 (top-up), 2 reserve -> w2 50000
 *   batch 2: 3 w1 -> m 3000 (payment), 4 w1 -> m 2000 pending,
 *            5 w2 -> m 1000 pending
 *   batch 3: 6 post of 4 for 1500, 7 void of 5, 8 points pl -> cp 500,
 *            9 w2 -> m 700 pending (still pending)
 * The balances are written by hand from that list, not computed by the
 * code under test. The batch hashes come from ledger_batch_hash (tested on
 * its own in test_ledger_chain). Every test runs on SQLite and, named
 * "pg:<test>", on PostgreSQL (ANFU_TEST_PG_DSN; skipped, saying so,
 * without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/clock.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "ledger/chain.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "store/store.h"

#include "fixture.h"

#define PENDING ANFU_LEDGER_TRF_PENDING
#define POST ANFU_LEDGER_TRF_POST_PENDING
#define VOID ANFU_LEDGER_TRF_VOID_PENDING
#define DEBITS_LIMITED ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS
#define CREDITS_LIMITED ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS

static const char zero_hex[] = "0000000000000000000000000000000000000000000000000000000000000000";

static void exec(struct anfu_db *db, const char *sql)
{
	assert_int_equal(anfu_db_exec(db, sql, NULL, 0, NULL, NULL, NULL), 0);
}

static void add_account(struct anfu_db *db, const char *id, const char *kind, const char *asset,
			const char *owner_type, int flags, int64_t dp, int64_t dpo, int64_t cp,
			int64_t cpo)
{
	const struct anfu_param p[] = { ANFU_PS(id),	     ANFU_PS(asset), ANFU_PS(kind),
					ANFU_PS(owner_type), ANFU_PS(id),    ANFU_PI(flags),
					ANFU_PI(dp),	     ANFU_PI(dpo),   ANFU_PI(cp),
					ANFU_PI(cpo) };

	assert_int_equal(
		anfu_db_exec(db,
			     "INSERT INTO ledger_account (id, asset, kind, owner_type, "
			     "owner_id, flags, state, debits_pending, debits_posted, "
			     "credits_pending, credits_posted, created_ms) VALUES ($1, $2, "
			     "$3, $4, $5, $6, 'normal', $7, $8, $9, $10, 1)",
			     p, 10, NULL, NULL, NULL),
		0);
}

struct trf {
	int64_t seq;
	const char *debit, *credit;
	int64_t amount;
	const char *asset;
	int flags;
	const char *pending_id; /* post/void: the hold's transfer */
	const char *on_timeout; /* pending: void | post */
	int64_t batch;
};

static void add_transfer(struct anfu_db *db, const struct trf *t)
{
	char id[32], key[32];
	struct anfu_param p[11];

	(void)snprintf(id, sizeof(id), "trf_%" PRId64, t->seq);
	(void)snprintf(key, sizeof(key), "k%" PRId64, t->seq);
	p[0] = ANFU_PI(t->seq);
	p[1] = ANFU_PSN(id, strlen(id));
	p[2] = ANFU_PSN(key, strlen(key));
	p[3] = ANFU_PS(t->debit);
	p[4] = ANFU_PS(t->credit);
	p[5] = ANFU_PI(t->amount);
	p[6] = ANFU_PS(t->asset);
	p[7] = ANFU_PI(t->flags);
	p[8] = ANFU_PS(t->pending_id);
	p[9] = ANFU_PS(t->on_timeout ? t->on_timeout : "");
	p[10] = ANFU_PI(t->batch);
	assert_int_equal(
		anfu_db_exec(
			db,
			"INSERT INTO ledger_transfer (seq, id, caller, idem_key, content_hash, "
			"debit_account, credit_account, amount, asset, code, ref, flags, "
			"pending_id, timeout_ms, on_timeout, ts_us, batch_seq) VALUES ($1, $2, "
			"'svc', $3, 'ch', $4, $5, $6, $7, 'payment', '', $8, $9, 0, $10, "
			"1000 + 10 * $1, $11)",
			p, 11, NULL, NULL, NULL),
		0);
}

static void add_hold(struct anfu_db *db, const char *id, const char *state, int64_t amount,
		     const char *closed_by)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PS(state), ANFU_PI(amount),
					ANFU_PS(closed_by) };

	assert_int_equal(anfu_db_exec(db,
				      "INSERT INTO ledger_hold (transfer_id, state, amount, "
				      "expires_ms, on_timeout, closed_by) VALUES ($1, $2, $3, 0, "
				      "'void', $4)",
				      p, 4, NULL, NULL, NULL),
			 0);
}

/* Seals transfers [first, last] as batch seq after prev; the new hash
 * goes to hash. */
static void seal(struct anfu_db *db, enum anfu_hash_alg alg, int64_t seq, int64_t first,
		 int64_t last, const char *prev, char hash[65])
{
	struct anfu_param p[6];

	assert_int_equal(ledger_batch_hash(db, alg, first, last, prev, hash), 0);
	p[0] = ANFU_PI(seq);
	p[1] = ANFU_PI(first);
	p[2] = ANFU_PI(last);
	p[3] = ANFU_PI(1000 + 10 * last);
	p[4] = ANFU_PS(prev);
	p[5] = ANFU_PSN(hash, strlen(hash));
	assert_int_equal(anfu_db_exec(db,
				      "INSERT INTO ledger_batch (seq, first_transfer, "
				      "last_transfer, ts_us, prev_hash, hash) VALUES ($1, $2, $3, "
				      "$4, $5, $6)",
				      p, 6, NULL, NULL, NULL),
			 0);
}

static const struct trf ledger_rows[] = {
	{ 1, "acc_reserve", "acc_w1", 100000, "CNY", 0, NULL, NULL, 1 },
	{ 2, "acc_reserve", "acc_w2", 50000, "CNY", 0, NULL, NULL, 1 },
	{ 3, "acc_w1", "acc_m", 3000, "CNY", 0, NULL, NULL, 2 },
	{ 4, "acc_w1", "acc_m", 2000, "CNY", PENDING, NULL, "void", 2 },
	{ 5, "acc_w2", "acc_m", 1000, "CNY", PENDING, NULL, "void", 2 },
	{ 6, "acc_w1", "acc_m", 1500, "CNY", POST, "trf_4", NULL, 3 },
	{ 7, "acc_w2", "acc_m", 1000, "CNY", VOID, "trf_5", NULL, 3 },
	{ 8, "acc_pl", "acc_cp", 500, "POINTS", 0, NULL, NULL, 3 },
	{ 9, "acc_w2", "acc_m", 700, "CNY", PENDING, NULL, "void", 3 },
};

/* Writes the ledger above, chained with alg. */
static void build_ledger(struct anfu_db *db, enum anfu_hash_alg alg)
{
	char h1[65], h2[65], h3[65];
	struct anfu_param p[1];

	add_account(db, "acc_reserve", "bank_reserve", "CNY", "bank", CREDITS_LIMITED, 0, 150000, 0,
		    0);
	add_account(db, "acc_w1", "customer_wallet", "CNY", "customer", DEBITS_LIMITED, 0, 4500, 0,
		    100000);
	add_account(db, "acc_w2", "customer_wallet", "CNY", "customer", DEBITS_LIMITED, 700, 0, 0,
		    50000);
	add_account(db, "acc_m", "merchant_pending", "CNY", "merchant", DEBITS_LIMITED, 0, 0, 700,
		    4500);
	add_account(db, "acc_pl", "points_liability", "POINTS", "platform", 0, 0, 500, 0, 0);
	add_account(db, "acc_cp", "customer_points", "POINTS", "customer", DEBITS_LIMITED, 0, 0, 0,
		    500);
	for (size_t i = 0; i < sizeof(ledger_rows) / sizeof(ledger_rows[0]); i++)
		add_transfer(db, &ledger_rows[i]);
	add_hold(db, "trf_4", "posted", 2000, "trf_6");
	add_hold(db, "trf_5", "voided", 1000, "trf_7");
	add_hold(db, "trf_9", "pending", 700, NULL);
	seal(db, alg, 1, 1, 2, zero_hex, h1);
	seal(db, alg, 2, 3, 5, h1, h2);
	seal(db, alg, 3, 6, 9, h2, h3);
	p[0] = ANFU_PSN(h3, strlen(h3));
	assert_int_equal(anfu_db_exec(db,
				      "UPDATE ledger_head SET last_transfer = 9, last_batch = 3, "
				      "last_ts_us = 1090, last_hash = $1",
				      p, 1, NULL, NULL, NULL),
			 0);
}

/* The hand-written ledger, on the backend fixture_pg_mode chose. */
static int open_ledger(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-verify" };
	struct anfu_fixture *f = NULL;

	assert_int_equal(fixture_open(0, &opts, &f), 0);
	assert_int_equal(anfu_migrate(f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	build_ledger(f->db, ANFU_HASH_SHA256);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	fixture_pg_mode(false);
	return open_ledger(state);
}

/* The same on PostgreSQL ("pg:<test>"). */
static int setup_pg(void **state)
{
	fixture_pg_mode(true);
	return open_ledger(state);
}

/* Tampering as someone with the database file would: the append-only
 * triggers dropped first. On PostgreSQL as the tables' owner would: their
 * triggers disabled (ALTER TABLE ... DISABLE TRIGGER USER). */
static void drop_triggers(struct anfu_fixture *f)
{
	struct anfu_db *db = f->db;

	if (f->pg) {
		exec(db, "ALTER TABLE ledger_transfer DISABLE TRIGGER USER");
		exec(db, "ALTER TABLE ledger_batch DISABLE TRIGGER USER");
		return;
	}
	exec(db, "DROP TRIGGER ledger_transfer_no_update");
	exec(db, "DROP TRIGGER ledger_transfer_no_delete");
	exec(db, "DROP TRIGGER ledger_transfer_no_replace");
	exec(db, "DROP TRIGGER ledger_batch_no_update");
	exec(db, "DROP TRIGGER ledger_batch_no_delete");
	exec(db, "DROP TRIGGER ledger_batch_no_replace");
}

/* Runs verify expecting a corruption; the first problem must be `want`
 * and the failed checks exactly `checks`. */
static void expect_corrupt(struct anfu_db *db, unsigned checks, const char *want)
{
	struct anfu_ledger_verify_report rep;

	memset(&rep, 0x5a, sizeof(rep));
	assert_int_equal(anfu_ledger_verify(db, ANFU_HASH_SHA256, &rep), ANFU_ECORRUPT);
	assert_string_equal(rep.problem, want);
	assert_int_equal(rep.failed, checks);
}

/* req: FUNC-ACCT-10 (balances equal the journal, reconcilable by verification) */
static void test_verify_accepts_a_consistent_ledger(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	memset(&rep, 0x5a, sizeof(rep));
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	assert_int_equal(rep.failed, 0);
	assert_string_equal(rep.problem, "");
	assert_int_equal(rep.transfers, 9);
	assert_int_equal(rep.batches, 3);
	assert_int_equal(rep.accounts, 6);
	assert_int_equal(rep.holds, 3);
}

static void test_verify_accepts_an_empty_ledger(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-verify-empty" };
	struct anfu_ledger_verify_report rep;
	struct anfu_fixture *f = NULL;

	(void)state;
	assert_int_equal(fixture_open(0, &opts, &f), 0);
	assert_int_equal(anfu_migrate(f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	assert_int_equal(rep.transfers + rep.batches + rep.accounts + rep.holds, 0);
	assert_int_equal(rep.failed, 0);
	fixture_close(f);
}

/* The chain uses the deployment's hash: an SM3 chain verifies with SM3
 * and fails with SHA-256. */
static void test_verify_uses_the_given_hash(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-verify-sm3" };
	struct anfu_ledger_verify_report rep;
	struct anfu_fixture *f = NULL;

	(void)state;
	assert_int_equal(fixture_open(0, &opts, &f), 0);
	assert_int_equal(anfu_migrate(f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	build_ledger(f->db, ANFU_HASH_SM3);
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SM3, &rep), 0);
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), ANFU_ECORRUPT);
	assert_string_equal(rep.problem, "ledger_batch seq 1: hash does not match transfers 1..2");
	assert_int_equal(rep.failed, ANFU_LEDGER_CHECK_CHAIN);
	fixture_close(f);
}

/* req: FUNC-ACCT-10 (an account balance that is not the sum of its journal entries is found) */
static void test_verify_names_an_account_whose_balance_changed(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "UPDATE ledger_account SET credits_posted = 50001 WHERE id = 'acc_w2'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS,
		       "ledger_account acc_w2: credits_posted is 50001, the journal gives 50000");
}

/* Each of the four balances is recomputed; undoing the change makes the
 * ledger verify again. */
static void test_verify_recomputes_every_balance(void **state)
{
	static const struct {
		const char *sql, *undo, *want;
	} cases[] = {
		{ "UPDATE ledger_account SET debits_pending = 701 WHERE id = 'acc_w2'",
		  "UPDATE ledger_account SET debits_pending = 700 WHERE id = 'acc_w2'",
		  "ledger_account acc_w2: debits_pending is 701, the journal gives 700" },
		{ "UPDATE ledger_account SET debits_posted = 4499 WHERE id = 'acc_w1'",
		  "UPDATE ledger_account SET debits_posted = 4500 WHERE id = 'acc_w1'",
		  "ledger_account acc_w1: debits_posted is 4499, the journal gives 4500" },
		{ "UPDATE ledger_account SET credits_pending = 0 WHERE id = 'acc_m'",
		  "UPDATE ledger_account SET credits_pending = 700 WHERE id = 'acc_m'",
		  "ledger_account acc_m: credits_pending is 0, the journal gives 700" },
		{ "UPDATE ledger_account SET credits_posted = 501 WHERE id = 'acc_cp'",
		  "UPDATE ledger_account SET credits_posted = 500 WHERE id = 'acc_cp'",
		  "ledger_account acc_cp: credits_posted is 501, the journal gives 500" },
	};
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec(f->db, cases[i].sql);
		expect_corrupt(f->db, ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS,
			       cases[i].want);
		exec(f->db, cases[i].undo);
		assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	}
}

/* Balances moved between two accounts of one asset keep Σ debits =
 * Σ credits: only the per-account check finds it. */
static void test_verify_finds_balances_moved_between_accounts(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "UPDATE ledger_account SET credits_posted = 99000 WHERE id = 'acc_w1'");
	exec(f->db, "UPDATE ledger_account SET credits_posted = 51000 WHERE id = 'acc_w2'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_account acc_w1: credits_posted is 99000, the journal gives 100000");
}

/* req: TX-INT-01, FUNC-ACCT-10 (an edited journal row is detected) */
static void test_verify_names_an_edited_journal_amount(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_transfer SET amount = 3001 WHERE seq = 3");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN | ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_batch seq 2: hash does not match transfers 3..5");
}

/* An edit that keeps the balances right (the reference changed) is
 * found by the chain alone. req: TX-INT-01 */
static void test_verify_names_an_edited_journal_reference(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_transfer SET ref = 'ord_forged' WHERE seq = 8");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN,
		       "ledger_batch seq 3: hash does not match transfers 6..9");
}

/* A row made longer than any the writer writes is corruption, not a
 * read error. */
static void test_verify_names_an_overlong_journal_row(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db,
	     f->pg ? "UPDATE ledger_transfer SET ref = repeat('x', 5000) WHERE seq = 8"
		   : "UPDATE ledger_transfer SET ref = printf('%.5000c', 'x') WHERE seq = 8");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN,
		       "ledger_batch seq 3: a transfer of 6..9 is too long to be the writer's");
}

/* req: TX-INT-01 (a deleted journal row is detected) */
static void test_verify_names_a_deleted_journal_row(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "DELETE FROM ledger_transfer WHERE seq = 3");
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_JOURNAL | ANFU_LEDGER_CHECK_CHAIN |
			       ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_transfer seq 3 is missing (the next row is seq 4)");
}

/* The last row deleted leaves no gap in seq: the chain finds it. */
static void test_verify_names_a_deleted_last_journal_row(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "DELETE FROM ledger_transfer WHERE seq = 9");
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_CHAIN | ANFU_LEDGER_CHECK_HOLDS |
			       ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_batch seq 3: a transfer of 6..9 is missing");
}

/* req: TX-INT-01 (the hash chain of batches: a changed hash is found) */
static void test_verify_names_a_changed_batch_hash(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_batch SET hash = '" /* any other 64 hex digits */
		    "1111111111111111111111111111111111111111111111111111111111111111'"
		    " WHERE seq = 2");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN,
		       "ledger_batch seq 2: hash does not match transfers 3..5");
}

/* A batch re-hashed after an edit still breaks the link to the next. */
static void test_verify_names_a_broken_prev_hash(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_batch SET prev_hash = '" /* not batch 1's hash */
		    "0000000000000000000000000000000000000000000000000000000000000000'"
		    " WHERE seq = 2");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN,
		       "ledger_batch seq 2: prev_hash is not the hash of batch 1");
}

static void test_verify_names_a_deleted_batch(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "DELETE FROM ledger_batch WHERE seq = 2");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN | ANFU_LEDGER_CHECK_BATCHES,
		       "ledger_batch seq 2 is missing (the next row is seq 3)");
}

/* A seq gap: a row appended after a missing one (in a batch of its own). */
static void test_verify_names_a_seq_gap(void **state)
{
	static const struct trf late = { 11, "acc_reserve", "acc_w1", 5, "CNY", 0, NULL, NULL, 4 };
	struct anfu_fixture *f = *state;

	add_transfer(f->db, &late);
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_JOURNAL | ANFU_LEDGER_CHECK_CHAIN |
			       ANFU_LEDGER_CHECK_BATCHES | ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_transfer seq 10 is missing (the next row is seq 11)");
}

/* ts_us must rise strictly with seq. */
static void test_verify_names_a_timestamp_out_of_order(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_transfer SET ts_us = 1035 WHERE seq = 5");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_JOURNAL | ANFU_LEDGER_CHECK_CHAIN,
		       "ledger_transfer seq 5: ts_us 1035 is not after the previous row's 1040");
}

/* A journal row no batch covers (appended without a seal). */
static void test_verify_names_a_transfer_in_no_batch(void **state)
{
	static const struct trf extra = { 10, "acc_reserve", "acc_w1", 5, "CNY", 0, NULL, NULL, 4 };
	struct anfu_fixture *f = *state;

	add_transfer(f->db, &extra);
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_CHAIN | ANFU_LEDGER_CHECK_BATCHES |
			       ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_transfer seq 10 is in no batch");
}

/* The writer's cursors are the last batch's. */
static void test_verify_checks_the_head(void **state)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "UPDATE ledger_head SET last_transfer = 8",
		  "ledger_head: last_batch 3, last_transfer 8 are not the last batch's (3, 9)" },
		{ "UPDATE ledger_head SET last_batch = 2",
		  "ledger_head: last_batch 2, last_transfer 9 are not the last batch's (3, 9)" },
		{ "UPDATE ledger_head SET last_hash = '" /* batch 3's is something else */
		  "0000000000000000000000000000000000000000000000000000000000000000'",
		  "ledger_head: last_hash is not the hash of batch 3" },
		{ "UPDATE ledger_head SET last_ts_us = 1089",
		  "ledger_head: last_ts_us 1089 is before the last transfer's 1090" },
	};
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec(f->db, cases[i].sql);
		expect_corrupt(f->db, ANFU_LEDGER_CHECK_HEAD, cases[i].want);
		exec(f->db, "UPDATE ledger_head SET last_transfer = 9, last_batch = 3, "
			    "last_ts_us = 1090, last_hash = "
			    "(SELECT hash FROM ledger_batch WHERE seq = 3)");
		assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	}
	exec(f->db, f->pg ? "ALTER TABLE ledger_head DISABLE TRIGGER USER"
			  : "DROP TRIGGER ledger_head_no_delete");
	exec(f->db, "DELETE FROM ledger_head");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_HEAD, "ledger_head has 0 rows, not 1");
}

/* Every transfer lies in the batch its batch_seq names. */
static void test_verify_names_a_transfer_in_the_wrong_batch(void **state)
{
	struct anfu_fixture *f = *state;

	drop_triggers(f);
	exec(f->db, "UPDATE ledger_transfer SET batch_seq = 3 WHERE seq = 5");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_CHAIN | ANFU_LEDGER_CHECK_BATCHES,
		       "ledger_batch seq 2: hash does not match transfers 3..5");
}

/* The accounts a transfer names exist, differ and share its asset. */
static void test_verify_names_a_transfer_of_a_missing_account(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "UPDATE ledger_account SET id = 'acc_w9' WHERE id = 'acc_w2'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_ACCOUNTS | ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_transfer seq 2: credit account acc_w2 does not exist");
}

static void test_verify_names_a_transfer_across_assets(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "UPDATE ledger_account SET asset = 'CNY' WHERE id = 'acc_cp'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_ACCOUNTS | ANFU_LEDGER_CHECK_ASSETS,
		       "ledger_transfer seq 8: asset POINTS is not both accounts' asset");
}

/* req: FUNC-ACCT-10 (per asset the debit legs equal the credit legs) */
static void test_verify_finds_debits_not_equal_to_credits(void **state)
{
	struct anfu_fixture *f = *state;

	/* One leg raised, posted and then pending: the asset's debits and
	 * credits differ. */
	exec(f->db, "UPDATE ledger_account SET debits_posted = 501 WHERE id = 'acc_pl'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS,
		       "ledger_account acc_pl: debits_posted is 501, the journal gives 500");
	exec(f->db, "UPDATE ledger_account SET debits_posted = 500 WHERE id = 'acc_pl'");
	exec(f->db, "UPDATE ledger_account SET credits_pending = 701 WHERE id = 'acc_m'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS,
		       "ledger_account acc_m: credits_pending is 701, the journal gives 700");
}

/* A flag changed so that an account breaks it (the balances still match
 * the journal): only the limits check finds it. */
static void test_verify_names_an_account_beyond_its_flags(void **state)
{
	struct anfu_fixture *f = *state;
	char sql[128];

	(void)snprintf(sql, sizeof(sql), "UPDATE ledger_account SET flags = %d WHERE id = 'acc_m'",
		       CREDITS_LIMITED);
	exec(f->db, sql);
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_LIMITS,
		       "ledger_account acc_m: credits exceed debits");
	(void)snprintf(sql, sizeof(sql),
		       "UPDATE ledger_account SET flags = %d WHERE id IN ('acc_m', 'acc_reserve')",
		       DEBITS_LIMITED);
	exec(f->db, sql);
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_LIMITS,
		       "ledger_account acc_reserve: debits exceed credits");
}

/* An overdrawn wallet: its debits raised beyond its credits. */
static void test_verify_names_an_overdrawn_wallet(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "UPDATE ledger_account SET debits_posted = 100001 WHERE id = 'acc_w1'");
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS |
			       ANFU_LEDGER_CHECK_LIMITS,
		       "ledger_account acc_w1: debits_posted is 100001, the journal gives 4500");
	/* Pending debits count: 100000 - 99300 = 700 of room, a hold of 701
	 * is over. */
	exec(f->db, "UPDATE ledger_account SET debits_posted = 99300, debits_pending = 701 "
		    "WHERE id = 'acc_w1'");
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS |
			       ANFU_LEDGER_CHECK_LIMITS,
		       "ledger_account acc_w1: debits_pending is 701, the journal gives 0");
}

/* A negative balance (the table's CHECK bypassed) breaks the limits too. */
static void test_verify_finds_a_negative_balance(void **state)
{
	struct anfu_fixture *f = *state;

	if (f->pg) {
		/* As the table's owner would: the constraint dropped. */
		exec(f->db, "ALTER TABLE ledger_account DROP CONSTRAINT "
			    "ledger_account_credits_pending_check");
		exec(f->db, "UPDATE ledger_account SET credits_pending = -1 WHERE id = 'acc_cp'");
	} else {
		exec(f->db, "PRAGMA ignore_check_constraints = ON");
		exec(f->db, "UPDATE ledger_account SET credits_pending = -1 WHERE id = 'acc_cp'");
		exec(f->db, "PRAGMA ignore_check_constraints = OFF");
	}
	expect_corrupt(f->db,
		       ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS |
			       ANFU_LEDGER_CHECK_LIMITS,
		       "ledger_account acc_cp: credits_pending is -1, the journal gives 0");
}

/* req: FUNC-ACCT-10 (pending holds match the journal) */
static void test_verify_names_a_missing_hold(void **state)
{
	struct anfu_fixture *f = *state;

	exec(f->db, "DELETE FROM ledger_hold WHERE transfer_id = 'trf_9'");
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_HOLDS | ANFU_LEDGER_CHECK_BALANCES,
		       "ledger_transfer seq 9: the pending transfer trf_9 has no hold");
}

static void test_verify_checks_each_hold(void **state)
{
	static const struct {
		const char *sql, *undo;
		unsigned checks;
		const char *want;
	} cases[] = {
		{ "UPDATE ledger_hold SET amount = 699 WHERE transfer_id = 'trf_9'",
		  "UPDATE ledger_hold SET amount = 700 WHERE transfer_id = 'trf_9'",
		  ANFU_LEDGER_CHECK_HOLDS,
		  "ledger_transfer seq 9: the pending transfer trf_9 has a hold of another amount "
		  "or timeout action" },
		{ "UPDATE ledger_hold SET on_timeout = 'post' WHERE transfer_id = 'trf_9'",
		  "UPDATE ledger_hold SET on_timeout = 'void' WHERE transfer_id = 'trf_9'",
		  ANFU_LEDGER_CHECK_HOLDS,
		  "ledger_transfer seq 9: the pending transfer trf_9 has a hold of another amount "
		  "or timeout action" },
		{ "UPDATE ledger_hold SET expires_ms = 5000 WHERE transfer_id = 'trf_9'",
		  "UPDATE ledger_hold SET expires_ms = 0 WHERE transfer_id = 'trf_9'",
		  ANFU_LEDGER_CHECK_HOLDS,
		  "ledger_transfer seq 9: the pending transfer trf_9 has a hold whose expiry does "
		  "not follow its timeout" },
		/* Released without a void: the pending balance no longer matches. */
		{ "UPDATE ledger_hold SET state = 'voided' WHERE transfer_id = 'trf_9'",
		  "UPDATE ledger_hold SET state = 'pending' WHERE transfer_id = 'trf_9'",
		  ANFU_LEDGER_CHECK_HOLDS | ANFU_LEDGER_CHECK_BALANCES,
		  "ledger_hold trf_9: state voided but closed_by names no transfer of it" },
		{ "UPDATE ledger_hold SET closed_by = 'trf_7' WHERE transfer_id = 'trf_9'",
		  "UPDATE ledger_hold SET closed_by = NULL WHERE transfer_id = 'trf_9'",
		  ANFU_LEDGER_CHECK_HOLDS, "ledger_hold trf_9: pending, yet closed by trf_7" },
		/* The voided hold back to pending: counted in the pending balances
		 * again, and its void closes a hold that is not voided. */
		{ "UPDATE ledger_hold SET state = 'pending', closed_by = NULL "
		  "WHERE transfer_id = 'trf_5'",
		  "UPDATE ledger_hold SET state = 'voided', closed_by = 'trf_7' "
		  "WHERE transfer_id = 'trf_5'",
		  ANFU_LEDGER_CHECK_HOLDS | ANFU_LEDGER_CHECK_BALANCES,
		  "ledger_transfer seq 7: closes hold trf_5, which does not name it as its "
		  "closer" },
		{ "UPDATE ledger_hold SET state = 'voided' WHERE transfer_id = 'trf_4'",
		  "UPDATE ledger_hold SET state = 'posted' WHERE transfer_id = 'trf_4'",
		  ANFU_LEDGER_CHECK_HOLDS,
		  "ledger_transfer seq 6: closes hold trf_4, whose state is voided" },
		{ "INSERT INTO ledger_hold (transfer_id, state, amount, expires_ms, on_timeout) "
		  "VALUES ('trf_3', 'pending', 3000, 0, 'void')",
		  "DELETE FROM ledger_hold WHERE transfer_id = 'trf_3'", ANFU_LEDGER_CHECK_HOLDS,
		  "ledger_hold trf_3: no pending transfer" },
	};
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exec(f->db, cases[i].sql);
		expect_corrupt(f->db, cases[i].checks, cases[i].want);
		exec(f->db, cases[i].undo);
		assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	}
}

/* Appends batch 4: a hold of 100 from w1 to m and its post (debit
 * `debit`, amount `amount`), the balances moved as the writer would. */
static void add_hold_and_post(struct anfu_db *db, const char *debit, int64_t amount)
{
	static const struct trf hold = {
		10, "acc_w1", "acc_m", 100, "CNY", PENDING, NULL, "void", 4
	};
	const struct trf post = { 11, debit, "acc_m", amount, "CNY", POST, "trf_10", NULL, 4 };
	const struct anfu_param p[] = { ANFU_PS(debit), ANFU_PI(amount) };
	char prev[FIXTURE_TEXT_MAX], h4[65];

	add_transfer(db, &hold);
	add_transfer(db, &post);
	add_hold(db, "trf_10", "posted", 100, "trf_11");
	fixture_text(db, "SELECT hash FROM ledger_batch WHERE seq = 3", NULL, prev);
	seal(db, ANFU_HASH_SHA256, 4, 10, 11, prev, h4);
	exec(db, "UPDATE ledger_head SET last_transfer = 11, last_batch = 4, "
		 "last_ts_us = 1110, last_hash = (SELECT hash FROM ledger_batch WHERE seq = 4)");
	assert_int_equal(
		anfu_db_exec(db,
			     "UPDATE ledger_account SET debits_posted = debits_posted + $2 "
			     "WHERE id = $1",
			     p, 2, NULL, NULL, NULL),
		0);
	assert_int_equal(anfu_db_exec(db,
				      "UPDATE ledger_account SET credits_posted = credits_posted + "
				      "$1 WHERE id = 'acc_m'",
				      &p[1], 1, NULL, NULL, NULL),
			 0);
}

static void test_verify_accepts_a_post_that_fits_its_hold(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	add_hold_and_post(f->db, "acc_w1", 100);
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep), 0);
	assert_int_equal(rep.transfers, 11);
}

static void test_verify_names_a_post_of_other_accounts(void **state)
{
	struct anfu_fixture *f = *state;

	add_hold_and_post(f->db, "acc_w2", 100);
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_HOLDS,
		       "ledger_transfer seq 11: accounts or asset are not those of hold trf_10");
}

static void test_verify_names_a_post_beyond_its_hold(void **state)
{
	struct anfu_fixture *f = *state;

	add_hold_and_post(f->db, "acc_w1", 101);
	expect_corrupt(f->db, ANFU_LEDGER_CHECK_HOLDS,
		       "ledger_transfer seq 11: posts more than hold trf_10");
}

static void test_verify_refuses_null_arguments(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_ledger_verify_report rep;

	assert_int_equal(anfu_ledger_verify(NULL, ANFU_HASH_SHA256, &rep), ANFU_EINVAL);
	assert_int_equal(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, NULL), ANFU_EINVAL);
}

/* Without the ledger's tables there is nothing to verify: an error, not
 * a pass. */
static void test_verify_fails_without_the_ledger_tables(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-verify-none" };
	struct anfu_ledger_verify_report rep;
	struct anfu_fixture *f = NULL;

	(void)state;
	assert_int_equal(fixture_open(0, &opts, &f), 0);
	assert_true(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep) < 0);
	assert_true(anfu_ledger_verify(f->db, ANFU_HASH_SHA256, &rep) != ANFU_ECORRUPT);
	assert_int_equal(rep.failed, 0);
	assert_non_null(strstr(rep.problem, "could not be read"));
	fixture_close(f);
}

/* ---- a ledger written by the real writer ---------------------------------- */

#define W_THREADS 4
#define W_REQUESTS 150 /* per thread */
#define W_HOLDS 64     /* per thread */

static const struct anfu_actor w_actor = { "system", "system", "", "", "", "" };

struct w_ledger {
	struct anfu_fixture *f;
	struct anfu_ledger_config cfg;
	struct anfu_ledger *l;
	char acc[8][ANFU_ID_MAX]; /* 0 reserve, 1 clearing, 2-3 wallets, 4 merchant, 5 fee,
				   * 6 points liability, 7 customer points */
};

struct w_thread {
	struct w_ledger *w;
	int no;
	uint64_t rng;
	char holds[W_HOLDS][ANFU_ID_MAX];
	int nholds;
	int applied[4]; /* plain, pending, post, void */
	int refused;
};

static uint64_t w_rand(struct w_thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static int64_t w_later(void)
{
	return anfu_clock_mono_us() / 1000 + 60000;
}

/* One random transfer of thread t into x (key: its idempotency key). */
static void w_transfer(struct w_thread *t, struct anfu_ledger_transfer *x, int *kind, char *key)
{
	int dr = (int)(w_rand(t) % 6), cr = (int)(w_rand(t) % 6);

	memset(x, 0, sizeof(*x));
	*kind = (int)(w_rand(t) % 4);
	if (*kind >= 2 && t->nholds == 0)
		*kind = 0;
	x->idem_key = key;
	x->asset = "CNY";
	x->code = "payment";
	x->ref = "ord_w";
	x->amount = 1 + (int64_t)(w_rand(t) % 5000);
	if (w_rand(t) % 10 == 0) { /* points */
		dr = 6;
		cr = 7;
		x->asset = "POINTS";
	}
	x->debit_account = t->w->acc[dr];
	x->credit_account = t->w->acc[cr];
	if (*kind == 1) {
		x->flags = ANFU_LEDGER_TRF_PENDING;
		x->on_timeout = w_rand(t) % 2 ? "void" : "post";
		x->timeout_ms = (int64_t)(w_rand(t) % 2) * 60000;
	} else if (*kind >= 2) {
		/* The hold's accounts are unknown here: a post or void with
		 * other accounts is refused, which is fine too. */
		x->pending_id = t->holds[w_rand(t) % (uint64_t)t->nholds];
		x->flags = *kind == 2 ? ANFU_LEDGER_TRF_POST_PENDING : ANFU_LEDGER_TRF_VOID_PENDING;
		x->amount = *kind == 2 ? (int64_t)(w_rand(t) % 3000) : 0;
	}
	if (*kind <= 1 && w_rand(t) % 5 == 0)
		x->flags |= ANFU_LEDGER_TRF_BALANCING_DEBIT;
}

static void *w_submitter(void *ud)
{
	struct w_thread *t = ud;
	char keys[3][32];

	for (int q = 0; q < W_REQUESTS; q++) {
		struct anfu_ledger_transfer x[3];
		struct anfu_ledger_result r[3];
		int kind[3];
		size_t n = w_rand(t) % 5 == 0 ? 2 : 1;

		for (size_t i = 0; i < n; i++) {
			(void)snprintf(keys[i], sizeof(keys[i]), "w%d-%d-%zu", t->no, q, i);
			w_transfer(t, &x[i], &kind[i], keys[i]);
			if (i + 1 < n)
				x[i].flags |= ANFU_LEDGER_TRF_LINKED;
		}
		if (anfu_ledger_submit(t->w->l, &w_actor, "verify-test", x, n, w_later(), r) != 0)
			return "submit failed";
		for (size_t i = 0; i < n; i++) {
			if (r[i].code) {
				t->refused++;
				continue;
			}
			t->applied[kind[i]]++;
			if (kind[i] == 1 && t->nholds < W_HOLDS)
				memcpy(t->holds[t->nholds++], r[i].id, ANFU_ID_MAX);
		}
		/* A replay of the first transfer: idempotent, nothing new. */
		if (q % 25 == 0 &&
		    anfu_ledger_submit(t->w->l, &w_actor, "verify-test", x, n, w_later(), r) != 0)
			return "replay failed";
	}
	return NULL;
}

static void w_open(struct w_ledger *w, int i, const char *kind, const char *asset,
		   const char *otype, const char *owner)
{
	const struct anfu_ledger_account_spec s = { kind, asset, otype, owner };
	struct anfu_ledger_account a;

	assert_int_equal(anfu_ledger_open(w->l, &w_actor, &s, w_later(), &a), 0);
	memcpy(w->acc[i], a.id, ANFU_ID_MAX);
}

/* Builds a ledger through anfu_ledger_submit: four threads of random
 * plain transfers, holds, posts, voids, balancing and linked pairs, many
 * refused, in batches of up to batch_max requests. */
static void w_build(struct w_ledger *w)
{
	static const struct anfu_fixture_opts opts = { .name = "ledger-verify-writer" };
	struct anfu_ledger_deps d;
	struct w_thread th[W_THREADS];
	pthread_t tid[W_THREADS];
	int applied[4] = { 0 }, refused = 0;

	memset(w, 0, sizeof(*w));
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &w->f), 0);
	assert_int_equal(anfu_migrate(w->f->db, &anfu_ledger_migrations, 1, NULL, NULL, NULL, NULL),
			 0);
	w->cfg = (struct anfu_ledger_config){ .batch_max = 7,
					      .batch_wait_us = 200,
					      .queue_max = 4096 };
	d = (struct anfu_ledger_deps){ .tx = w->f->tx, .cfg = &w->cfg, .hash = w->f->hash };
	assert_int_equal(anfu_ledger_new(&d, &w->l), 0);
	assert_int_equal(anfu_ledger_start(w->l), 0);
	w_open(w, 0, "bank_reserve", "CNY", "bank", "ICBC");
	w_open(w, 1, "bank_clearing", "CNY", "bank", "ICBC");
	w_open(w, 2, "customer_wallet", "CNY", "customer", "usr_w1");
	w_open(w, 3, "customer_wallet", "CNY", "customer", "usr_w2");
	w_open(w, 4, "merchant_pending", "CNY", "merchant", "mer_w");
	w_open(w, 5, "platform_fee", "CNY", "platform", "platform");
	w_open(w, 6, "points_liability", "POINTS", "platform", "platform");
	w_open(w, 7, "customer_points", "POINTS", "customer", "usr_w1");
	for (int i = 0; i < W_THREADS; i++) {
		th[i] = (struct w_thread){ .w = w,
					   .no = i,
					   .rng = 0x9e3779b97f4a7c15ull * (i + 1) };
		assert_int_equal(pthread_create(&tid[i], NULL, w_submitter, &th[i]), 0);
	}
	for (int i = 0; i < W_THREADS; i++) {
		void *rv = NULL;

		assert_int_equal(pthread_join(tid[i], &rv), 0);
		if (rv)
			fail_msg("thread %d: %s", i, (const char *)rv);
		for (int k = 0; k < 4; k++)
			applied[k] += th[i].applied[k];
		refused += th[i].refused;
	}
	/* The run exercised every kind of transfer and some refusals. */
	for (int k = 0; k < 4; k++)
		if (applied[k] == 0)
			fail_msg("no transfer of kind %d was applied", k);
	assert_true(refused > 0);
	assert_true(fixture_count(w->f->db, "SELECT count(*) FROM ledger_batch", NULL) > 1);
	assert_true(fixture_count(w->f->db,
				  "SELECT count(*) FROM ledger_batch "
				  "WHERE last_transfer > first_transfer",
				  NULL) > 0);
}

static void w_close(struct w_ledger *w)
{
	anfu_ledger_free(w->l);
	fixture_close(w->f);
}

/* What the writer writes verifies; a changed balance then does not.
 * req: FUNC-ACCT-10 */
static void test_verify_accepts_what_the_writer_wrote(void **state)
{
	struct anfu_ledger_verify_report rep;
	struct w_ledger w;

	(void)state;
	w_build(&w);
	assert_int_equal(anfu_ledger_verify(w.f->db, w.f->hash, &rep), 0);
	assert_string_equal(rep.problem, "");
	assert_int_equal(rep.transfers,
			 fixture_count(w.f->db, "SELECT count(*) FROM ledger_transfer", NULL));
	assert_int_equal(rep.accounts, 8);
	assert_true(rep.holds > 0);
	exec(w.f->db, "UPDATE ledger_account SET credits_posted = credits_posted + 1 "
		      "WHERE kind = 'merchant_pending'");
	assert_int_equal(anfu_ledger_verify(w.f->db, w.f->hash, &rep), ANFU_ECORRUPT);
	assert_int_equal(rep.failed, ANFU_LEDGER_CHECK_BALANCES | ANFU_LEDGER_CHECK_ASSETS);
	w_close(&w);
}

/* An edited row of the writer's journal is found by its batch.
 * req: TX-INT-01 */
static void test_verify_finds_an_edit_of_the_writers_journal(void **state)
{
	struct anfu_ledger_verify_report rep;
	struct w_ledger w;
	char want[128];
	int64_t batch;

	(void)state;
	w_build(&w);
	batch = fixture_count(w.f->db, "SELECT batch_seq FROM ledger_transfer WHERE seq = 5", NULL);
	drop_triggers(w.f);
	exec(w.f->db, "UPDATE ledger_transfer SET code = 'refund' WHERE seq = 5");
	assert_int_equal(anfu_ledger_verify(w.f->db, w.f->hash, &rep), ANFU_ECORRUPT);
	(void)snprintf(want, sizeof(want), "ledger_batch seq %" PRId64 ": hash does not match",
		       batch);
	assert_memory_equal(rep.problem, want, strlen(want));
	assert_int_equal(rep.failed, ANFU_LEDGER_CHECK_CHAIN);
	w_close(&w);
}

/* Every case runs on SQLite and, named "pg:<test>", on PostgreSQL
 * (ANFU_TEST_PG_DSN; skipped, saying so, without it). T0 cases open their
 * fixtures themselves, in the mode their setup chose. */
#define T(fn)                                                   \
	{ #fn, fn, setup, fixture_teardown, NULL },             \
	{                                                       \
		"pg:" #fn, fn, setup_pg, fixture_teardown, NULL \
	}
#define T0(fn)                                                     \
	{ #fn, fn, fixture_pg_off, NULL, NULL },                   \
	{                                                          \
		"pg:" #fn, fn, fixture_pg_on, fixture_pg_off, NULL \
	}

int main(void)
{
	struct CMUnitTest tests[] = {
		T(test_verify_accepts_a_consistent_ledger),
		T0(test_verify_accepts_an_empty_ledger),
		T0(test_verify_uses_the_given_hash),
		T(test_verify_names_an_account_whose_balance_changed),
		T(test_verify_recomputes_every_balance),
		T(test_verify_finds_balances_moved_between_accounts),
		T(test_verify_names_an_edited_journal_amount),
		T(test_verify_names_an_edited_journal_reference),
		T(test_verify_names_an_overlong_journal_row),
		T(test_verify_names_a_deleted_journal_row),
		T(test_verify_names_a_deleted_last_journal_row),
		T(test_verify_names_a_changed_batch_hash),
		T(test_verify_names_a_broken_prev_hash),
		T(test_verify_names_a_deleted_batch),
		T(test_verify_names_a_seq_gap),
		T(test_verify_names_a_timestamp_out_of_order),
		T(test_verify_names_a_transfer_in_no_batch),
		T(test_verify_checks_the_head),
		T(test_verify_names_a_transfer_in_the_wrong_batch),
		T(test_verify_names_a_transfer_of_a_missing_account),
		T(test_verify_names_a_transfer_across_assets),
		T(test_verify_finds_debits_not_equal_to_credits),
		T(test_verify_names_an_account_beyond_its_flags),
		T(test_verify_names_an_overdrawn_wallet),
		T(test_verify_finds_a_negative_balance),
		T(test_verify_names_a_missing_hold),
		T(test_verify_checks_each_hold),
		T(test_verify_accepts_a_post_that_fits_its_hold),
		T(test_verify_names_a_post_of_other_accounts),
		T(test_verify_names_a_post_beyond_its_hold),
		T(test_verify_refuses_null_arguments),
		T0(test_verify_fails_without_the_ledger_tables),
		T0(test_verify_accepts_what_the_writer_wrote),
		T0(test_verify_finds_an_edit_of_the_writers_journal),
	};

	fixture_pg_cases(tests, sizeof(tests) / sizeof(tests[0]));
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
