/*
 * tests/unit/test_tx: the transaction executor and its batching twin
 * (src/tx/).
 *
 * Each test gets a fresh data directory with real keys, a migrated store,
 * the audit writer and the executor (FIXTURE_AUDIT), plus a table
 * of its own (tx_row) the transactions write to. What a transaction left
 * behind is read back with plain queries: its rows, its audit records (in
 * sequence order, with their actors), the chain head, the hooks that ran
 * and what they saw when they ran. Every test runs on SQLite and, named
 * "pg:<test>", on PostgreSQL (ANFU_TEST_PG_DSN; skipped, saying so,
 * without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/err.h"
#include "base/limits.h"
#include "store/store.h"
#include "tx/tx.h"

#include "faultstore.h"
#include "fixture.h"

static const struct anfu_actor alice = {
	"usr_alice0000000000000000", "operator", "auditor", "192.0.2.1", "dev_a", "req_a"
};
static const struct anfu_actor bob = {
	"usr_bob00000000000000000", "customer", "", "192.0.2.2", "dev_b", "req_b"
};

static const bool on_sqlite = false, on_pg = true;

/* *state: &on_sqlite or &on_pg, replaced by the fixture (NULL: skip). */
static int setup(void **state)
{
	struct anfu_fixture_opts opts = { .name = "tx", .pg = *(const bool *)*state };
	struct anfu_fixture *f = NULL;

	*state = NULL;
	if (opts.pg && !fixture_pg_dsn())
		return 0;
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &f), 0);
	/* Deferred: a dangling reference is refused by COMMIT, not by the
	 * statement, which is how a test makes a commit fail. */
	assert_int_equal(anfu_db_exec(f->db,
				      "CREATE TABLE tx_row (k TEXT PRIMARY KEY, ref TEXT"
				      " REFERENCES tx_row (k) DEFERRABLE INITIALLY DEFERRED)",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	*state = f;
	return 0;
}

/* The test's fixture; skips the test when its backend is not there. */
static struct anfu_fixture *fx_of(void **state)
{
	if (!*state) {
		print_message("%s\n", FIXTURE_PG_SKIP_REASON);
		skip();
	}
	return *state;
}

/* ---- what the transactions do ----------------------------------------------------- */

#define HOOKS_MAX 8

/* What the hooks saw: their order, and the state of the database when
 * they ran. */
struct seen {
	struct anfu_fixture *f;
	int order[HOOKS_MAX];
	int n;
	int depth[HOOKS_MAX];	 /* the connection's transaction depth */
	int64_t rows[HOOKS_MAX]; /* rows of tx_row, read from the connection */
};

struct hook_arg {
	struct seen *seen;
	int id;
};

static void hook(void *ud)
{
	struct hook_arg *h = ud;
	struct seen *s = h->seen;

	assert_true(s->n < HOOKS_MAX);
	s->order[s->n] = h->id;
	s->depth[s->n] = s->f->db->tx_depth;
	s->rows[s->n] = fixture_count(s->f->db, "SELECT count(*) FROM tx_row", NULL);
	s->n++;
}

/* One transaction's work: rows to insert, records to stage (as the
 * transaction's actor, or as bob when as_bob), hooks to register, and how
 * it ends. */
struct work {
	const char *rows[3];
	const char *actions[3];
	bool as_bob[3];
	struct hook_arg *hooks[3];
	bool keep;
	int result;
	const char *dangling; /* a row whose reference no row satisfies */
};

static void insert(struct anfu_tx *tx, const char *k, const char *ref)
{
	const struct anfu_param p[] = { ANFU_PS(k), ANFU_PS(ref) };

	assert_int_equal(anfu_db_exec(anfu_tx_db(tx), "INSERT INTO tx_row (k, ref) VALUES ($1, $2)",
				      p, 2, NULL, NULL, NULL),
			 0);
}

static int work_tx(struct anfu_tx *tx, void *ud)
{
	const struct work *w = ud;

	for (int i = 0; i < 3 && w->rows[i]; i++)
		insert(tx, w->rows[i], NULL);
	if (w->dangling)
		insert(tx, w->dangling, "nobody");
	for (int i = 0; i < 3 && w->actions[i]; i++) {
		json_t *d = json_pack("{s:i}", "i", i);

		if (w->as_bob[i])
			assert_int_equal(anfu_tx_audit_as(tx, &bob, w->actions[i], "row",
							  w->rows[0] ? w->rows[0] : "", "success",
							  d),
					 0);
		else
			assert_int_equal(anfu_tx_audit(tx, w->actions[i], "row",
						       w->rows[0] ? w->rows[0] : "",
						       w->result < 0 ? "denied" : "success", d),
					 0);
	}
	for (int i = 0; i < 3 && w->hooks[i]; i++)
		assert_int_equal(anfu_tx_after_commit(tx, hook, w->hooks[i]), 0);
	if (w->keep)
		anfu_tx_keep(tx);
	return w->result;
}

static int64_t rows(struct anfu_fixture *f)
{
	return fixture_count(f->db, "SELECT count(*) FROM tx_row", NULL);
}

static int64_t records(struct anfu_fixture *f)
{
	return fixture_count(f->db, "SELECT count(*) FROM audit_log", NULL);
}

static int64_t head(struct anfu_fixture *f)
{
	return fixture_count(f->db, "SELECT seq FROM audit_head", NULL);
}

/* "action actor_id outcome" of the record with sequence number seq. */
static void record_at(struct anfu_fixture *f, int64_t seq, char out[FIXTURE_TEXT_MAX])
{
	char q[24];

	(void)snprintf(q, sizeof(q), "%lld", (long long)seq);
	fixture_text(f->db,
		     "SELECT action || ' ' || actor_id || ' ' || actor_type || ' ' || outcome"
		     " || ' ' || request_id FROM audit_log WHERE seq = CAST($1 AS INTEGER)",
		     q, out);
}

static int verify(struct anfu_fixture *f)
{
	struct anfu_audit_report rep;

	return anfu_audit_verify(f->db, f->hash, f->audit_pub, f->ckfile, NULL, &rep);
}

/* ---- anfu_tx_run ---------------------------------------------------------------- */

/* Rows and records commit together; the records are appended in the order
 * staged, with their actors; the hooks run after the commit, in order.
 * req: AUD-CNT-02 */
static void test_commit_appends_staged_records_in_order_then_runs_hooks(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 }, h2 = { &s, 2 };
	struct work w = { .rows = { "a", "b" },
			  .actions = { "test.first", "test.second", "test.third" },
			  .as_bob = { false, true, false },
			  .hooks = { &h1, &h2 } };
	char rec[FIXTURE_TEXT_MAX];

	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &w), 0);
	assert_int_equal(rows(f), 2);
	assert_int_equal(records(f), 3);
	assert_int_equal(head(f), 3);
	record_at(f, 1, rec);
	assert_string_equal(rec, "test.first usr_alice0000000000000000 operator success req_a");
	record_at(f, 2, rec);
	assert_string_equal(rec, "test.second usr_bob00000000000000000 customer success req_b");
	record_at(f, 3, rec);
	assert_string_equal(rec, "test.third usr_alice0000000000000000 operator success req_a");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.order[0], 1);
	assert_int_equal(s.order[1], 2);
	/* Hooks run outside the transaction, on what it committed. */
	assert_int_equal(s.depth[0], 0);
	assert_int_equal(s.rows[0], 2);
	assert_int_equal(verify(f), 0);
}

/* A refusal rolls back rows and records and runs no hook. */
static void test_refusal_rolls_back_everything_and_runs_no_hook(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 };
	struct work ok = { .rows = { "a" }, .actions = { "test.ok" } };
	struct work w = { .rows = { "b", "c" },
			  .actions = { "test.refused", "test.refused2" },
			  .hooks = { &h1 },
			  .result = ANFU_ECONFLICT };

	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &ok), 0);
	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &w), ANFU_ECONFLICT);
	assert_int_equal(rows(f), 1);
	assert_int_equal(records(f), 1);
	assert_int_equal(head(f), 1);
	assert_int_equal(s.n, 0);
	assert_int_equal(f->db->tx_depth, 0);
	assert_int_equal(verify(f), 0);
}

/* anfu_tx_keep: a refusal that must still commit (a failure counter, a
 * "denied" record) commits what it wrote and staged, runs its hooks, and
 * is returned. req: AUD-CNT-02 */
static void test_keep_commits_a_refusal_with_its_records(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 };
	struct work w = { .rows = { "counter" },
			  .actions = { "auth.login_failed" },
			  .hooks = { &h1 },
			  .keep = true,
			  .result = ANFU_EAUTH };
	char rec[FIXTURE_TEXT_MAX];

	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &w), ANFU_EAUTH);
	assert_int_equal(rows(f), 1);
	assert_int_equal(records(f), 1);
	record_at(f, 1, rec);
	assert_string_equal(rec,
			    "auth.login_failed usr_alice0000000000000000 operator denied req_a");
	assert_int_equal(s.n, 1);
}

#ifdef ANFU_TEST_HOOKS
/* Records that cannot be appended roll the whole transaction back, a kept
 * refusal's too: no change without its record. req: AUD-THR-01 */
static void test_audit_failure_rolls_back_and_runs_no_hook(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 };
	struct work w = { .rows = { "a" }, .actions = { "test.event" }, .hooks = { &h1 } };
	struct work kept = { .rows = { "b" },
			     .actions = { "auth.login_failed" },
			     .hooks = { &h1 },
			     .keep = true,
			     .result = ANFU_EAUTH };

	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &w), ANFU_EAUDIT);
	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &kept), ANFU_EAUDIT);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
	assert_int_equal(head(f), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(f->db->tx_depth, 0);
}

/* A transaction with one record and nothing else (start, stop, refused
 * requests) commits on its own. req: AUD-THR-01 */
static void test_record_commits_on_its_own(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct anfu_audit_event ev = { &alice, "server.start", "", "", "success", NULL };

	assert_int_equal(anfu_tx_record(f->tx, &ev), 0);
	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(anfu_tx_record(f->tx, &ev), ANFU_EAUDIT);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(records(f), 1);
	assert_int_equal(verify(f), 0);
}
#endif

/* A record whose content the audit refuses (credential-like details) is
 * an append failure: everything rolls back. req: AUD-CNT-01 */
static int secret_tx(struct anfu_tx *tx, void *ud)
{
	(void)ud;
	insert(tx, "a", NULL);
	return anfu_tx_audit(tx, "test.secret", "", "", "success",
			     json_pack("{s:s}", "password", "hunter2"));
}

static void test_refused_record_content_rolls_back(void **state)
{
	struct anfu_fixture *f = fx_of(state);

	assert_int_equal(anfu_tx_run(f->tx, &alice, secret_tx, NULL), ANFU_EAUDIT);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
}

/* The commit itself fails (a deferred constraint): nothing stays, no hook
 * runs, the commit's error is returned. */
static void test_commit_failure_rolls_back_and_runs_no_hook(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 };
	struct work w = {
		.rows = { "a" }, .actions = { "test.event" }, .hooks = { &h1 }, .dangling = "d"
	};

	assert_int_equal(anfu_tx_run(f->tx, &alice, work_tx, &w), ANFU_ECONFLICT);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
	assert_int_equal(head(f), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(f->db->tx_depth, 0);
}

/* A record or hook that cannot be staged fails the transaction even when
 * the function ignores the failure. */
static int bad_stage_tx(struct anfu_tx *tx, void *ud)
{
	const int *which = ud;

	insert(tx, "a", NULL);
	if (*which == 0)
		(void)anfu_tx_audit(tx, NULL, "", "", "success", NULL);
	else if (*which == 1)
		(void)anfu_tx_audit(tx, "test.no_actor", "", "", "success", NULL);
	else
		(void)anfu_tx_after_commit(tx, NULL, NULL);
	return 0;
}

static void test_staging_failure_fails_the_transaction(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	int which;

	which = 0;
	assert_int_equal(anfu_tx_run(f->tx, &alice, bad_stage_tx, &which), ANFU_EINVAL);
	which = 1;
	assert_int_equal(anfu_tx_run(f->tx, NULL, bad_stage_tx, &which), ANFU_EINVAL);
	which = 2;
	assert_int_equal(anfu_tx_run(f->tx, &alice, bad_stage_tx, &which), ANFU_EINVAL);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
}

/* anfu_tx_audit_kv: ud[0] the key of the second member. */
static int kv_tx(struct anfu_tx *tx, void *ud)
{
	const char *key = ud;
	const struct anfu_audit_kv kv[] = {
		{ .key = "amount", .i = 42, .is_int = true },
		{ .key = key, .s = "CNY" },
	};

	insert(tx, key, NULL);
	(void)anfu_tx_audit_kv(tx, "test.kv", "thing", "thg_1", "success", kv, 2);
	return 0;
}

/* A record staged with members commits with jansson's text of them; a
 * credential-like key fails the transaction: no row, no record.
 * req: AUD-CNT-01 */
static void test_a_record_with_members_commits_or_fails_the_transaction(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	char details[FIXTURE_TEXT_MAX];

	assert_int_equal(anfu_tx_run(f->tx, &alice, kv_tx, "asset"), 0);
	assert_int_equal(rows(f), 1);
	assert_int_equal(records(f), 1);
	fixture_text(f->db, "SELECT details FROM audit_log WHERE seq = CAST($1 AS INTEGER)", "1",
		     details);
	assert_string_equal(details, "{\"amount\":42,\"asset\":\"CNY\"}");
	assert_int_equal(anfu_tx_run(f->tx, &alice, kv_tx, "card_pin"), ANFU_EINVAL);
	assert_int_equal(rows(f), 1);
	assert_int_equal(records(f), 1);
	assert_int_equal(verify(f), 0);
}

/* More records than ANFU_LIMIT_TX_RECORDS: the transaction fails. */
static int many_tx(struct anfu_tx *tx, void *ud)
{
	int r = 0;

	(void)ud;
	insert(tx, "a", NULL);
	for (int i = 0; i <= ANFU_LIMIT_TX_RECORDS && r == 0; i++)
		r = anfu_tx_audit(tx, "test.many", "", "", "success", NULL);
	assert_int_equal(r, ANFU_ELIMIT);
	return 0;
}

static void test_records_beyond_the_limit_fail_the_transaction(void **state)
{
	struct anfu_fixture *f = fx_of(state);

	assert_int_equal(anfu_tx_run(f->tx, &alice, many_tx, NULL), ANFU_ELIMIT);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
}

/* One transaction per thread: a run inside a run is refused, and the
 * inner function never runs. */
struct nested {
	struct anfu_fixture *f;
	int inner_result;
	bool inner_ran;
};

static int inner_tx(struct anfu_tx *tx, void *ud)
{
	struct nested *n = ud;

	(void)tx;
	n->inner_ran = true;
	return 0;
}

static int outer_tx(struct anfu_tx *tx, void *ud)
{
	struct nested *n = ud;

	insert(tx, "outer", NULL);
	n->inner_result = anfu_tx_run(n->f->tx, &alice, inner_tx, n);
	return 0;
}

static void test_nested_run_is_refused(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct nested n = { f, 0, false };

	assert_int_equal(anfu_tx_run(f->tx, &alice, outer_tx, &n), 0);
	assert_int_equal(n.inner_result, ANFU_EINVAL);
	assert_false(n.inner_ran);
	assert_int_equal(rows(f), 1);
}

/* A function that ends the transaction itself fails the run. */
static int sneaky_tx(struct anfu_tx *tx, void *ud)
{
	(void)ud;
	insert(tx, "a", NULL);
	assert_int_equal(anfu_db_commit(anfu_tx_db(tx)), 0);
	return 0;
}

static void test_function_that_commits_itself_fails_the_run(void **state)
{
	struct anfu_fixture *f = fx_of(state);

	assert_int_equal(anfu_tx_run(f->tx, &alice, sneaky_tx, NULL), ANFU_EINTERNAL);
	assert_int_equal(f->db->tx_depth, 0);
}

/* The same hook (function and argument) registered twice runs once, at
 * its first place: one wake-up for many queued messages. */
static int twice_tx(struct anfu_tx *tx, void *ud)
{
	struct hook_arg **h = ud;

	assert_int_equal(anfu_tx_after_commit(tx, hook, h[0]), 0);
	assert_int_equal(anfu_tx_after_commit(tx, hook, h[1]), 0);
	assert_int_equal(anfu_tx_after_commit(tx, hook, h[0]), 0);
	return 0;
}

static void test_a_hook_registered_twice_runs_once(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 }, h2 = { &s, 2 };
	struct hook_arg *h[2] = { &h1, &h2 };

	assert_int_equal(anfu_tx_run(f->tx, &alice, twice_tx, h), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.order[0], 1);
	assert_int_equal(s.order[1], 2);
}

/* ---- steps ------------------------------------------------------------------------ */

/* A refused step undoes its own writes, records and hooks; the rest of
 * the transaction commits. A kept step stays. */
struct stepping {
	struct work inner, kept;
	int step_result, kept_result;
};

static int stepping_tx(struct anfu_tx *tx, void *ud)
{
	struct stepping *s = ud;

	insert(tx, "before", NULL);
	assert_int_equal(anfu_tx_audit(tx, "test.before", "", "", "success", NULL), 0);
	s->step_result = anfu_tx_step(tx, work_tx, &s->inner);
	s->kept_result = anfu_tx_step(tx, work_tx, &s->kept);
	insert(tx, "after", NULL);
	return anfu_tx_audit(tx, "test.after", "", "", "success", NULL);
}

static void test_refused_step_undoes_only_itself(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 }, h2 = { &s, 2 };
	struct stepping st = { .inner = { .rows = { "inner" },
					  .actions = { "test.inner" },
					  .hooks = { &h1 },
					  .result = ANFU_ECONFLICT },
			       .kept = { .rows = { "kept" },
					 .actions = { "test.kept" },
					 .hooks = { &h2 },
					 .keep = true,
					 .result = ANFU_EAUTH } };
	char rec[FIXTURE_TEXT_MAX];

	assert_int_equal(anfu_tx_run(f->tx, &alice, stepping_tx, &st), 0);
	assert_int_equal(st.step_result, ANFU_ECONFLICT);
	assert_int_equal(st.kept_result, ANFU_EAUTH);
	assert_int_equal(
		fixture_count(f->db, "SELECT count(*) FROM tx_row WHERE k = 'inner'", NULL), 0);
	assert_int_equal(rows(f), 3);
	assert_int_equal(records(f), 3);
	record_at(f, 1, rec);
	assert_memory_equal(rec, "test.before ", 12);
	record_at(f, 2, rec);
	assert_memory_equal(rec, "test.kept ", 10);
	record_at(f, 3, rec);
	assert_memory_equal(rec, "test.after ", 11);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.order[0], 2);
	assert_int_equal(verify(f), 0);
}

/* A step that sends its writes without waiting (anfu_db_send), the last
 * of which fails: on PostgreSQL the failure is only read by the step's
 * flush, after the step returned 0. */
static int sending_step(struct anfu_tx *tx, void *ud)
{
	const struct anfu_param a[] = { ANFU_PS("sent") }, b[] = { ANFU_PS("before") };
	int r;

	(void)ud;
	r = anfu_db_send(anfu_tx_db(tx), "INSERT INTO tx_row (k) VALUES ($1)", a, 1, NULL, NULL, 1);
	if (r == 0)
		r = anfu_tx_audit(tx, "test.sent", "", "", "success", NULL);
	if (r == 0) /* "before" exists: a primary key violation */
		r = anfu_db_send(anfu_tx_db(tx), "INSERT INTO tx_row (k) VALUES ($1)", b, 1, NULL,
				 NULL, 1);
	return r;
}

struct sending {
	int step_result;
};

static int sending_tx(struct anfu_tx *tx, void *ud)
{
	struct sending *s = ud;

	insert(tx, "before", NULL);
	s->step_result = anfu_tx_step(tx, sending_step, NULL);
	insert(tx, "after", NULL);
	return anfu_tx_audit(tx, "test.after", "", "", "success", NULL);
}

/* The failure of a statement a step sent is the step's: its savepoint
 * undoes the step (rows and records), and the transaction commits the
 * rest, on both engines. */
static void test_a_step_whose_sent_statement_fails_undoes_only_itself(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct sending s = { 1 };
	int64_t recs = records(f);

	assert_int_equal(anfu_tx_run(f->tx, &alice, sending_tx, &s), 0);
	assert_int_equal(s.step_result, ANFU_EEXIST);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM tx_row WHERE k = 'sent'", NULL),
			 0);
	assert_int_equal(rows(f), 2);
	assert_int_equal(records(f), recs + 1);
	assert_int_equal(verify(f), 0);
}

#ifdef ANFU_TEST_HOOKS
/* A transaction that writes a row, stages a record and runs a step that
 * writes another row; run on a thread of its own (so its connection goes
 * through the fault store), hence no cmocka assertion inside. */
static int row_step(struct anfu_tx *tx, void *ud)
{
	const struct anfu_param p[] = { ANFU_PS((const char *)ud) };

	return anfu_db_exec(anfu_tx_db(tx), "INSERT INTO tx_row (k) VALUES ($1)", p, 1, NULL, NULL,
			    NULL);
}

static int stepped_tx(struct anfu_tx *tx, void *ud)
{
	int r = row_step(tx, "outer");

	(void)ud;
	if (r == 0)
		r = anfu_tx_audit(tx, "test.outer", "row", "outer", "success", NULL);
	if (r == 0)
		r = anfu_tx_step(tx, row_step, "stepped");
	return r;
}

struct run_on_thread {
	struct anfu_fixture *f;
	int r;
};

static void *run_stepped(void *ud)
{
	struct run_on_thread *t = ud;

	t->r = anfu_tx_run(t->f->tx, &alice, stepped_tx, NULL);
	return NULL;
}

/* A step whose savepoint cannot be released (the store fails) fails the
 * transaction with the store's error, not ANFU_EINTERNAL (tx.h), and
 * nothing of it commits; the connection goes on working. */
static void test_a_step_whose_release_fails_fails_with_the_store_error(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	const struct fault_rule rule = { FAULT_RELEASE, "anfu_tx_step", 1, ANFU_EBUSY, false };
	struct run_on_thread t = { f, 1 };
	pthread_t th;
	int64_t recs = records(f);

	anfu_store_set_opener(f->store, &faultstore_ops);
	faultstore_arm(&rule, 1);
	assert_int_equal(pthread_create(&th, NULL, run_stepped, &t), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(faultstore_fired(), 1);
	faultstore_disarm();
	anfu_store_set_opener(f->store, NULL);
	assert_int_equal(t.r, ANFU_EBUSY);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), recs);
	/* Then, without the fault, the same transaction commits. */
	assert_int_equal(anfu_tx_run(f->tx, &alice, stepped_tx, NULL), 0);
	assert_int_equal(rows(f), 2);
	assert_int_equal(records(f), recs + 1);
}
#endif

/* ---- the batching twin -------------------------------------------------------------- */

/* Each command in its savepoint: a refusal rolls back only that command's
 * writes, records and hooks; every command gets its result; the batch
 * commits once and its records are one chain. req: AUD-CNT-02 */
static void test_batch_refusal_rolls_back_only_that_command(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h[3] = { { &s, 1 }, { &s, 2 }, { &s, 3 } };
	struct work w[3] = {
		{ .rows = { "one" }, .actions = { "cmd.one" }, .hooks = { &h[0] } },
		{ .rows = { "two" },
		  .actions = { "cmd.two" },
		  .hooks = { &h[1] },
		  .result = ANFU_ECONFLICT },
		{ .rows = { "three" },
		  .actions = { "cmd.three" },
		  .hooks = { &h[2] },
		  .keep = true,
		  .result = ANFU_EAUTH },
	};
	struct anfu_tx_cmd cmds[3] = { { &alice, work_tx, &w[0], 1 },
				       { &bob, work_tx, &w[1], 1 },
				       { &bob, work_tx, &w[2], 1 } };
	uint64_t commits = anfu_store_commit_hist.count;
	char rec[FIXTURE_TEXT_MAX];

	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, 3), 0);
	assert_int_equal(anfu_store_commit_hist.count, commits + 1);
	assert_int_equal(cmds[0].result, 0);
	assert_int_equal(cmds[1].result, ANFU_ECONFLICT);
	assert_int_equal(cmds[2].result, ANFU_EAUTH);
	assert_int_equal(rows(f), 2);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM tx_row WHERE k = 'two'", NULL),
			 0);
	assert_int_equal(records(f), 2);
	record_at(f, 1, rec);
	assert_string_equal(rec, "cmd.one usr_alice0000000000000000 operator success req_a");
	record_at(f, 2, rec);
	assert_string_equal(rec, "cmd.three usr_bob00000000000000000 customer denied req_b");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.order[0], 1);
	assert_int_equal(s.order[1], 3);
	assert_int_equal(s.depth[0], 0);
	assert_int_equal(verify(f), 0);
}

/* A command whose record cannot be staged is undone like a refusal; the
 * others stand. */
static void test_batch_command_with_a_bad_record_is_undone(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	int which = 0;
	struct work ok = { .rows = { "two" }, .actions = { "cmd.two" } };
	struct anfu_tx_cmd cmds[2] = { { &alice, bad_stage_tx, &which, 1 },
				       { &alice, work_tx, &ok, 1 } };

	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, 2), 0);
	assert_int_equal(cmds[0].result, ANFU_EINVAL);
	assert_int_equal(cmds[1].result, 0);
	assert_int_equal(rows(f), 1);
	assert_int_equal(records(f), 1);
}

#ifdef ANFU_TEST_HOOKS
/* The batch's records cannot be appended: nothing of the batch stands,
 * every command gets the failure, no hook runs. req: AUD-THR-01 */
static void test_batch_audit_failure_fails_every_command(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct seen s = { .f = f };
	struct hook_arg h1 = { &s, 1 };
	struct work w[2] = { { .rows = { "one" }, .actions = { "cmd.one" }, .hooks = { &h1 } },
			     { .rows = { "two" }, .actions = { "cmd.two" } } };
	struct anfu_tx_cmd cmds[2] = { { &alice, work_tx, &w[0], 1 },
				       { &alice, work_tx, &w[1], 1 } };

	anfu_audit_inject_fault(f->audit, true);
	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, 2), ANFU_EAUDIT);
	anfu_audit_inject_fault(f->audit, false);
	assert_int_equal(cmds[0].result, ANFU_EAUDIT);
	assert_int_equal(cmds[1].result, ANFU_EAUDIT);
	assert_int_equal(rows(f), 0);
	assert_int_equal(records(f), 0);
	assert_int_equal(s.n, 0);
}
#endif

static void test_batch_refuses_bad_calls(void **state)
{
	struct anfu_fixture *f = fx_of(state);
	struct work ok = { .rows = { "one" } };
	struct anfu_tx_cmd cmds[2] = { { &alice, work_tx, &ok, 1 }, { &alice, NULL, NULL, 1 } };

	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, 0), 0);
	assert_int_equal(cmds[0].result, 1);
	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, 2), ANFU_EINVAL);
	assert_int_equal(cmds[0].result, ANFU_EINVAL);
	cmds[0].result = 1;
	/* cmds has 2 entries: a result written beyond them would be a crash. */
	assert_int_equal(anfu_tx_run_batch(f->tx, cmds, ANFU_LIMIT_TX_BATCH + 1), ANFU_EINVAL);
	assert_int_equal(cmds[0].result, 1);
	assert_int_equal(rows(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
/* Both engines; the PostgreSQL case is named "pg:<test>". */
#define T(fn)                                                     \
	{ #fn, fn, setup, fixture_teardown, (void *)&on_sqlite }, \
		{ "pg:" #fn, fn, setup, fixture_teardown, (void *)&on_pg }
		T(test_commit_appends_staged_records_in_order_then_runs_hooks),
		T(test_refusal_rolls_back_everything_and_runs_no_hook),
		T(test_keep_commits_a_refusal_with_its_records),
#ifdef ANFU_TEST_HOOKS
		T(test_audit_failure_rolls_back_and_runs_no_hook),
		T(test_record_commits_on_its_own),
		T(test_batch_audit_failure_fails_every_command),
		/* SQLite only: the fault store wraps the SQLite ops. */
		{ "test_a_step_whose_release_fails_fails_with_the_store_error",
		  test_a_step_whose_release_fails_fails_with_the_store_error, setup,
		  fixture_teardown, (void *)&on_sqlite },
#endif
		T(test_refused_record_content_rolls_back),
		T(test_commit_failure_rolls_back_and_runs_no_hook),
		T(test_staging_failure_fails_the_transaction),
		T(test_a_record_with_members_commits_or_fails_the_transaction),
		T(test_records_beyond_the_limit_fail_the_transaction),
		T(test_nested_run_is_refused),
		T(test_function_that_commits_itself_fails_the_run),
		T(test_a_hook_registered_twice_runs_once),
		T(test_refused_step_undoes_only_itself),
		T(test_a_step_whose_sent_statement_fails_undoes_only_itself),
		T(test_batch_refusal_rolls_back_only_that_command),
		T(test_batch_command_with_a_bad_record_is_undone),
		T(test_batch_refuses_bad_calls),
#undef T
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
