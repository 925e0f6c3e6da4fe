/*
 * tests/unit/test_lease: cluster leases (store.h anfu_db_lease_try, the
 * PostgreSQL session advisory locks of src/store/pg.c) and the job
 * scheduler's use of them (src/jobs/jobs.c): a job registered on two
 * schedulers -- two connections, as on two nodes -- never runs beside
 * itself, and a holder whose connection dies leaves the job to the other.
 *
 * The "pg:" tests need ANFU_TEST_PG_DSN (skipped, saying so, without it);
 * each connection here is one a node would have. Time rules are crossed by
 * moving the frozen injectable clock and poking the schedulers; the test
 * then waits (polling, at most 30 s of real time) for a thread to act.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "fixture.h"

#define DAY_MS (24LL * 3600 * 1000)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

static void skip_without_pg(void)
{
	if (!fixture_pg_dsn()) {
		print_message("%s\n", FIXTURE_PG_SKIP_REASON);
		skip();
	}
}

/* A connection to this executable's PostgreSQL database (a fresh schema:
 * advisory locks are per database, so every connection opened here meets
 * the same locks). */
static struct anfu_db *pg_open(void)
{
	char dsn[FIXTURE_PG_DSN_MAX];
	struct anfu_store_cfg cfg = { .backend = "postgresql", .dsn = dsn };
	struct anfu_db *db = NULL;

	assert_true(fixture_pg_fresh(dsn));
	assert_int_equal(anfu_db_open(&cfg, &db), 0);
	return db;
}

static bool try_lease(struct anfu_db *db, int32_t key)
{
	bool held = false;

	assert_int_equal(anfu_db_lease_try(db, key, &held), 0);
	return held;
}

static int64_t backend_pid(struct anfu_db *db)
{
	int64_t pid = 0;

	assert_int_equal(anfu_db_query_int(db, "SELECT pg_backend_pid()", NULL, 0, &pid), 0);
	return pid;
}

/* Ends the server session pid as a crash of its node would. */
static void kill_session(struct anfu_db *db, int64_t pid)
{
	const struct anfu_param p[] = { ANFU_PI(pid) };
	int64_t ok = 0;

	assert_int_equal(anfu_db_query_int(db,
					   "SELECT CASE WHEN pg_terminate_backend($1::int4) "
					   "THEN 1 ELSE 0 END",
					   p, 1, &ok),
			 0);
	assert_int_equal(ok, 1);
	/* The signal is sent; wait until the session is gone. */
	for (int i = 0; i < 3000; i++) {
		int64_t left = 1;

		assert_int_equal(anfu_db_query_int(db,
						   "SELECT count(*) FROM pg_stat_activity "
						   "WHERE pid = $1::int4",
						   p, 1, &left),
				 0);
		if (left == 0)
			return;
		sleep_ms(10);
	}
	fail_msg("session %lld did not end", (long long)pid);
}

/* ---- the store's leases ------------------------------------------------- */

static void test_lease_key_is_fnv1a_in_31_bits(void **state)
{
	(void)state;
	assert_int_equal(anfu_db_lease_key(""), 0x011c9dc5);
	assert_int_equal(anfu_db_lease_key("a"), 0x640c292c);
	assert_true(anfu_db_lease_key("ledger.hold_expiry") >= 0);
	assert_int_not_equal(anfu_db_lease_key("ledger.hold_expiry"),
			     anfu_db_lease_key("ledger.wallets"));
}

static int noop_job(void *ud, struct anfu_db *db, const char **result)
{
	(void)ud;
	(void)db;
	(void)result;
	return 0;
}

/* Two jobs sharing a lease key would exclude each other: refused. */
static void test_jobs_refuse_a_name_whose_lease_key_is_taken(void **state)
{
	struct anfu_fixture *f = NULL;
	struct anfu_fixture_opts opts = { .name = "lease" };
	struct anfu_jobs *j = NULL;

	(void)state;
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &f), 0);
	/* Found by search: different names, one FNV-1a key in 31 bits. */
	assert_int_equal(anfu_db_lease_key("job-33839"), anfu_db_lease_key("job-320410"));
	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "job-33839", DAY_MS, 0, noop_job, NULL), 0);
	assert_int_equal(anfu_jobs_add(j, "job-320410", DAY_MS, 0, noop_job, NULL), ANFU_EEXIST);
	assert_int_equal(anfu_jobs_add(j, "job-320411", DAY_MS, 0, noop_job, NULL), 0);
	anfu_jobs_free(j);
	fixture_close(f);
}

/* SQLite serves one node: every lease is held. */
static void test_every_lease_is_held_on_sqlite(void **state)
{
	struct anfu_fixture *f = NULL;
	struct anfu_fixture_opts opts = { .name = "lease" };
	struct anfu_db *other = NULL;
	struct anfu_store_cfg cfg = { .backend = "sqlite" };

	(void)state;
	assert_int_equal(fixture_open(0, &opts, &f), 0);
	cfg.path = f->dbpath;
	assert_int_equal(anfu_db_open(&cfg, &other), 0);
	assert_true(try_lease(f->db, 7));
	assert_true(try_lease(other, 7));
	assert_int_equal(anfu_db_lease_release(f->db, 7), 0);
	assert_int_equal(anfu_db_lease_release(other, 7), 0);
	/* Inside a transaction: refused, nothing taken. */
	assert_int_equal(anfu_db_begin(f->db), 0);
	{
		bool held = false;

		assert_int_equal(anfu_db_lease_try(f->db, 7, &held), ANFU_EINVAL);
		assert_false(held);
	}
	assert_int_equal(anfu_db_rollback(f->db), 0);
	anfu_db_close(other);
	fixture_close(f);
}

static void test_pg_a_lease_is_held_by_one_connection_at_a_time(void **state)
{
	struct anfu_db *a, *b;
	int32_t k = anfu_db_lease_key("test.lease");

	(void)state;
	skip_without_pg();
	a = pg_open();
	b = pg_open();
	assert_true(try_lease(a, k));
	assert_false(try_lease(b, k));
	/* Another key is another lease. */
	assert_true(try_lease(b, k + 1));
	assert_int_equal(anfu_db_lease_release(b, k + 1), 0);
	/* The same connection nests: free only after as many releases. */
	assert_true(try_lease(a, k));
	assert_int_equal(anfu_db_lease_release(a, k), 0);
	assert_false(try_lease(b, k));
	assert_int_equal(anfu_db_lease_release(a, k), 0);
	assert_true(try_lease(b, k));
	assert_false(try_lease(a, k));
	/* Releasing what another connection holds frees nothing. */
	assert_int_equal(anfu_db_lease_release(a, k), 0);
	assert_false(try_lease(a, k));
	assert_int_equal(anfu_db_lease_release(b, k), 0);
	anfu_db_close(a);
	anfu_db_close(b);
}

/* A lease never waits for, nor blocks, the writers' transaction lock. */
static void test_pg_a_lease_does_not_meet_the_write_lock(void **state)
{
	struct anfu_db *a, *b;

	(void)state;
	skip_without_pg();
	a = pg_open();
	b = pg_open();
	assert_int_equal(anfu_db_begin(a), 0); /* holds the write lock */
	assert_true(try_lease(b, 1634625141));
	assert_int_equal(anfu_db_lease_release(b, 1634625141), 0);
	assert_int_equal(anfu_db_rollback(a), 0);
	anfu_db_close(a);
	anfu_db_close(b);
}

static void test_pg_a_dead_connections_lease_is_free(void **state)
{
	struct anfu_db *a, *b;
	int32_t k = anfu_db_lease_key("test.dies");

	(void)state;
	skip_without_pg();
	a = pg_open();
	b = pg_open();
	assert_true(try_lease(a, k));
	assert_false(try_lease(b, k));
	kill_session(b, backend_pid(a));
	assert_true(try_lease(b, k));
	/* The dead connection learns it lost the session, then reconnects
	 * and sees the lease taken. */
	{
		bool held = true;
		int r = anfu_db_lease_try(a, k, &held);

		if (r == 0)
			assert_false(held);
		else
			assert_int_equal(r, ANFU_EIO);
	}
	assert_false(try_lease(a, k));
	/* Its release of the lease it lost is no error and frees nothing. */
	assert_int_equal(anfu_db_lease_release(a, k), 0);
	assert_false(try_lease(a, k));
	assert_int_equal(anfu_db_lease_release(b, k), 0);
	anfu_db_close(a);
	anfu_db_close(b);
}

/* ---- the scheduler on two nodes ----------------------------------------- */

static bool wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 3000; i++) {
		if (atomic_load(v) >= want)
			return true;
		sleep_ms(10);
	}
	return atomic_load(v) >= want;
}

/* A job whose first run blocks until released, counting how many runs
 * are inside it at once. */
struct slow {
	atomic_int runs;
	atomic_int inside;
	atomic_int most_inside;
	atomic_int released;
	atomic_int first_done;
	atomic_llong first_pid; /* the first run's connection (its node) */
};

static int slow_job(void *ud, struct anfu_db *db, const char **result)
{
	struct slow *s = ud;
	int n = atomic_fetch_add(&s->runs, 1) + 1;
	int in = atomic_fetch_add(&s->inside, 1) + 1;
	int most = atomic_load(&s->most_inside);

	while (in > most && !atomic_compare_exchange_weak(&s->most_inside, &most, in))
		;
	(void)result;
	if (n == 1) {
		int64_t pid = 0;

		if (anfu_db_query_int(db, "SELECT pg_backend_pid()", NULL, 0, &pid) == 0)
			atomic_store(&s->first_pid, pid);
		while (!atomic_load(&s->released))
			sleep_ms(5);
	}
	atomic_fetch_sub(&s->inside, 1);
	if (n == 1)
		atomic_store(&s->first_done, 1);
	return 0;
}

struct counter {
	atomic_int runs;
};

static int tick_job(void *ud, struct anfu_db *db, const char **result)
{
	(void)db;
	(void)result;
	atomic_fetch_add(&((struct counter *)ud)->runs, 1);
	return 0;
}

/* Two schedulers on one PostgreSQL database, each with the slow job
 * (due every millisecond: every pass finds it due) and a tick of its own
 * that shows when it made a pass at the clock's new time. */
struct nodes {
	struct anfu_fixture *f;
	struct anfu_jobs *a, *b;
	struct slow slow;
	struct counter tick_a, tick_b;
};

static int nodes_setup(void **state)
{
	struct anfu_fixture_opts opts = { .name = "lease", .frozen_clock = true, .pg = true };
	struct nodes *n;

	*state = NULL;
	if (!fixture_pg_dsn())
		return 0;
	n = test_calloc(1, sizeof(*n));
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &n->f), 0);
	assert_int_equal(anfu_jobs_new(n->f->tx, &n->a), 0);
	assert_int_equal(anfu_jobs_new(n->f->tx, &n->b), 0);
	assert_int_equal(anfu_jobs_add(n->a, "slow", 1, 0, slow_job, &n->slow), 0);
	assert_int_equal(anfu_jobs_add(n->b, "slow", 1, 0, slow_job, &n->slow), 0);
	assert_int_equal(anfu_jobs_add(n->a, "tick-a", 1, DAY_MS, tick_job, &n->tick_a), 0);
	assert_int_equal(anfu_jobs_add(n->b, "tick-b", 1, DAY_MS, tick_job, &n->tick_b), 0);
	*state = n;
	return 0;
}

static int nodes_teardown(void **state)
{
	struct nodes *n = *state;

	if (!n)
		return 0;
	atomic_store(&n->slow.released, 1);
	anfu_jobs_free(n->a);
	anfu_jobs_free(n->b);
	fixture_close(n->f);
	test_free(n);
	return 0;
}

static struct nodes *nodes_of(void **state)
{
	if (!*state) {
		print_message("%s\n", FIXTURE_PG_SKIP_REASON);
		skip();
	}
	return *state;
}

/* Moves the clock a day and waits until the scheduler that is not stuck
 * in the slow job's first run made a pass at the new time (its tick ran
 * once more). */
static void next_day(struct nodes *n)
{
	int before = atomic_load(&n->tick_a.runs) + atomic_load(&n->tick_b.runs);

	anfu_clock_advance_ms(DAY_MS);
	anfu_jobs_poke(n->a);
	anfu_jobs_poke(n->b);
	for (int i = 0; i < 3000; i++) {
		if (atomic_load(&n->tick_a.runs) + atomic_load(&n->tick_b.runs) > before)
			return;
		sleep_ms(10);
	}
	fail_msg("no scheduler made a pass after the clock moved");
}

/* Issue 9: a job scheduled on two nodes runs once, never
 * beside itself: while one node's run lasts, the other node's passes find
 * the job due but its lease taken, and leave it; once the run ended and
 * released the lease, the next due run goes ahead. */
static void test_pg_a_job_on_two_nodes_never_runs_beside_itself(void **state)
{
	struct nodes *n = nodes_of(state);
	bool got = false;

	assert_int_equal(anfu_jobs_start(n->a), 0);
	assert_int_equal(anfu_jobs_start(n->b), 0);
	assert_true(wait_for(&n->slow.runs, 1));
	for (int day = 0; day < 3; day++)
		next_day(n);
	assert_int_equal(atomic_load(&n->slow.runs), 1);
	assert_int_equal(atomic_load(&n->slow.most_inside), 1);
	atomic_store(&n->slow.released, 1);
	assert_true(wait_for(&n->slow.first_done, 1));
	/* The run released its lease: a third connection can take it. The
	 * scheduler that ran it may already have started the next run, so
	 * wait for that first when it did. */
	for (int i = 0; i < 3000 && !got; i++) {
		got = try_lease(n->f->db, anfu_db_lease_key("slow"));
		if (!got)
			sleep_ms(10);
	}
	assert_true(got);
	assert_int_equal(anfu_db_lease_release(n->f->db, anfu_db_lease_key("slow")), 0);
	next_day(n);
	assert_true(wait_for(&n->slow.runs, 2));
	assert_int_equal(atomic_load(&n->slow.most_inside), 1);
}

/* Issue 9: a node that dies releases the lease: its
 * connection's end frees it, and the other node runs the job at its next
 * due time although the dead node's run never finished. */
static void test_pg_a_dead_holders_job_goes_to_the_other_node(void **state)
{
	struct nodes *n = nodes_of(state);
	int32_t k = anfu_db_lease_key("slow");

	assert_int_equal(anfu_jobs_start(n->a), 0);
	assert_int_equal(anfu_jobs_start(n->b), 0);
	assert_true(wait_for(&n->slow.runs, 1));
	for (int i = 0; i < 3000 && atomic_load(&n->slow.first_pid) == 0; i++)
		sleep_ms(10);
	assert_true(atomic_load(&n->slow.first_pid) > 0);
	next_day(n);
	assert_int_equal(atomic_load(&n->slow.runs), 1);
	assert_false(try_lease(n->f->db, k));
	kill_session(n->f->db, atomic_load(&n->slow.first_pid));
	next_day(n);
	assert_true(wait_for(&n->slow.runs, 2));
	assert_int_equal(atomic_load(&n->slow.first_done), 0);
}

int main(void)
{
#define PGN(fn) cmocka_unit_test_setup_teardown(fn, nodes_setup, nodes_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_key_is_fnv1a_in_31_bits),
		cmocka_unit_test(test_jobs_refuse_a_name_whose_lease_key_is_taken),
		cmocka_unit_test(test_every_lease_is_held_on_sqlite),
		cmocka_unit_test(test_pg_a_lease_is_held_by_one_connection_at_a_time),
		cmocka_unit_test(test_pg_a_lease_does_not_meet_the_write_lock),
		cmocka_unit_test(test_pg_a_dead_connections_lease_is_free),
		PGN(test_pg_a_job_on_two_nodes_never_runs_beside_itself),
		PGN(test_pg_a_dead_holders_job_goes_to_the_other_node),
	};
#undef PGN
	return cmocka_run_group_tests(tests, fixture_group_setup, fixture_pg_group_teardown);
}
