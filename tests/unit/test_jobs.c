/*
 * tests/unit/test_jobs: scheduled jobs on the injectable clock (src/jobs/).
 *
 * Each test gets a fresh migrated database and a frozen clock. Time rules
 * are crossed by moving the clock and poking the scheduler; the test then
 * waits (polling, at most 5 s of real time) for the scheduler thread to
 * act. A "probe" job due after every clock move, registered after the job
 * under test, shows that a pass looked at the clock's new time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "fixture.h"

#define DAY_MS (24LL * 3600 * 1000)
#define MONTH_MS (30 * DAY_MS)

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "jobs", .frozen_clock = true };

	return fixture_setup(state, FIXTURE_AUDIT, &opts);
}

/* ---- helpers --------------------------------------------------------------- */

struct counter {
	atomic_int runs;
	int rc;
	const char *result;
	bool leave_tx_open;
};

static int count_job(void *ud, struct anfu_db *db, const char **result)
{
	struct counter *c = ud;

	atomic_fetch_add(&c->runs, 1);
	if (c->leave_tx_open)
		(void)anfu_db_begin(db);
	*result = c->result;
	return c->rc;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* Waits until *v >= want, polling for at most 30 s of real time (a
 * deadline for a loaded machine: the wait ends as soon as it holds). */
static bool wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 3000; i++) {
		if (atomic_load(v) >= want)
			return true;
		sleep_ms(10);
	}
	return atomic_load(v) >= want;
}

struct sched_row {
	int64_t next_run_ms;
	int64_t last_run_ms;
	char last_result[256];
	bool found;
};

static int sched_cb(void *ud, const struct anfu_row *r)
{
	struct sched_row *s = ud;
	const char *res = anfu_row_text(r, 2, NULL);

	s->found = true;
	s->next_run_ms = anfu_row_int(r, 0);
	s->last_run_ms = anfu_row_is_null(r, 1) ? -1 : anfu_row_int(r, 1);
	(void)snprintf(s->last_result, sizeof(s->last_result), "%s", res ? res : "(null)");
	return 0;
}

static struct sched_row sched(struct anfu_fixture *f, const char *name)
{
	struct sched_row s = { 0 };
	struct anfu_param p[] = { ANFU_PS(name) };

	assert_int_equal(anfu_db_exec(f->db,
				      "SELECT next_run_ms, last_run_ms, last_result FROM "
				      "job_schedule WHERE name = $1",
				      p, 1, sched_cb, &s, NULL),
			 0);
	assert_true(s.found);
	return s;
}

/* ---- the schedule ---------------------------------------------------------- */

/* req: IAM-ACCT-05 (the monthly account review runs monthly) */
static void test_monthly_job_runs_when_the_clock_passes_it_and_not_before(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter monthly = { .result = "3 dormant accounts reported" };
	struct counter probe = { 0 };
	struct anfu_jobs *j = NULL;
	int64_t t0 = anfu_clock_now_ms();
	struct sched_row s;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(
		anfu_jobs_add(j, "iam.account_review", MONTH_MS, MONTH_MS, count_job, &monthly), 0);
	assert_int_equal(anfu_jobs_add(j, "probe", 1, 0, count_job, &probe), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	s = sched(f, "iam.account_review");
	assert_int_equal(s.next_run_ms, t0 + MONTH_MS);
	assert_int_equal(s.last_run_ms, -1);
	assert_true(wait_for(&probe.runs, 1));
	assert_int_equal(atomic_load(&monthly.runs), 0);

	/* One millisecond early: a pass sees the new time, the job stays. */
	anfu_clock_advance_ms(MONTH_MS - 1);
	anfu_jobs_poke(j);
	assert_true(wait_for(&probe.runs, 2));
	assert_int_equal(atomic_load(&monthly.runs), 0);

	anfu_clock_advance_ms(1);
	anfu_jobs_poke(j);
	assert_true(wait_for(&monthly.runs, 1));
	assert_true(wait_for(&probe.runs, 3));
	assert_int_equal(atomic_load(&monthly.runs), 1);
	anfu_jobs_free(j); /* waits for the pass, so the result is recorded */
	s = sched(f, "iam.account_review");
	assert_int_equal(s.last_run_ms, t0 + MONTH_MS);
	assert_int_equal(s.next_run_ms, t0 + 2 * MONTH_MS);
	assert_string_equal(s.last_result, "3 dormant accounts reported");
}

/* After a long gap the job runs once, not once per missed interval. */
static void test_missed_intervals_run_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter daily = { 0 };
	struct counter probe = { 0 };
	struct anfu_jobs *j = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "daily", DAY_MS, DAY_MS, count_job, &daily), 0);
	assert_int_equal(anfu_jobs_add(j, "probe", 1, 0, count_job, &probe), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_true(wait_for(&probe.runs, 1));
	anfu_clock_advance_ms(10 * DAY_MS);
	anfu_jobs_poke(j);
	assert_true(wait_for(&daily.runs, 1));
	/* The pass that ran daily runs probe after it, at the same time: wait
	 * for it, or the clock below moves while that pass is still going and
	 * probe is claimed at the later time, not due again. */
	assert_true(wait_for(&probe.runs, 2));
	anfu_clock_advance_ms(1);
	anfu_jobs_poke(j);
	assert_true(wait_for(&probe.runs, 3));
	assert_int_equal(atomic_load(&daily.runs), 1);
	anfu_jobs_free(j);
}

/* A held job is left by the scheduler while due (the passes that run the
 * probe after it go by it); released, it runs at the next pass. */
static void test_a_held_job_waits_until_released(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter daily = { 0 };
	struct counter probe = { 0 };
	struct anfu_jobs *j = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "daily", DAY_MS, DAY_MS, count_job, &daily), 0);
	assert_int_equal(anfu_jobs_add(j, "probe", 1, 0, count_job, &probe), 0);
	assert_int_equal(anfu_jobs_hold(j, "nosuch", true), ANFU_ENOTFOUND);
	assert_int_equal(anfu_jobs_hold(j, "daily", true), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_true(wait_for(&probe.runs, 1));
	anfu_clock_advance_ms(DAY_MS);
	anfu_jobs_poke(j);
	assert_true(wait_for(&probe.runs, 2));
	anfu_clock_advance_ms(1);
	anfu_jobs_poke(j);
	assert_true(wait_for(&probe.runs, 3));
	assert_int_equal(atomic_load(&daily.runs), 0);
	assert_int_equal(anfu_jobs_hold(j, "daily", false), 0);
	anfu_clock_advance_ms(1);
	anfu_jobs_poke(j);
	assert_true(wait_for(&daily.runs, 1));
	anfu_jobs_free(j);
	assert_int_equal(atomic_load(&daily.runs), 1);
}

/* A restart keeps the schedule in the database; first_delay counts only
 * at the very first start. */
static void test_restart_keeps_the_stored_schedule(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter c = { 0 };
	struct anfu_jobs *j = NULL;
	int64_t t0 = anfu_clock_now_ms();

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "weekly", 7 * DAY_MS, 7 * DAY_MS, count_job, &c), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	anfu_jobs_free(j);
	anfu_clock_advance_ms(DAY_MS);
	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "weekly", 7 * DAY_MS, 7 * DAY_MS, count_job, &c), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_int_equal(sched(f, "weekly").next_run_ms, t0 + 7 * DAY_MS);
	anfu_jobs_free(j);
	assert_int_equal(atomic_load(&c.runs), 0);
}

/* ---- several schedulers ------------------------------------------------------ */

/* Two schedulers (as on two nodes) share one database: each due run
 * happens once, whichever claims it. */
static void test_two_schedulers_on_one_store_run_a_due_job_once(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter shared = { 0 }, tick_a = { 0 }, tick_b = { 0 };
	struct anfu_jobs *a = NULL, *b = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &a), 0);
	assert_int_equal(anfu_jobs_new(f->tx, &b), 0);
	assert_int_equal(anfu_jobs_add(a, "shared", MONTH_MS, DAY_MS, count_job, &shared), 0);
	assert_int_equal(anfu_jobs_add(b, "shared", MONTH_MS, DAY_MS, count_job, &shared), 0);
	assert_int_equal(anfu_jobs_add(a, "tick-a", 1, DAY_MS, count_job, &tick_a), 0);
	assert_int_equal(anfu_jobs_add(b, "tick-b", 1, DAY_MS, count_job, &tick_b), 0);
	assert_int_equal(anfu_jobs_start(a), 0);
	assert_int_equal(anfu_jobs_start(b), 0);
	for (int round = 1; round <= 5; round++) {
		anfu_clock_advance_ms(round == 1 ? DAY_MS : MONTH_MS);
		anfu_jobs_poke(a);
		anfu_jobs_poke(b);
		/* Both have made a pass at the new time once their ticks ran. */
		assert_true(wait_for(&tick_a.runs, round));
		assert_true(wait_for(&tick_b.runs, round));
		assert_true(wait_for(&shared.runs, round));
		assert_int_equal(atomic_load(&shared.runs), round);
	}
	anfu_jobs_free(a);
	anfu_jobs_free(b);
	assert_int_equal(atomic_load(&shared.runs), 5);
}

/* ---- stopping ------------------------------------------------------------------- */

struct slow {
	atomic_int started;
	atomic_int released;
	atomic_int finished;
};

static int slow_job(void *ud, struct anfu_db *db, const char **result)
{
	struct slow *s = ud;

	(void)db;
	(void)result;
	atomic_store(&s->started, 1);
	while (!atomic_load(&s->released))
		sleep_ms(5);
	atomic_store(&s->finished, 1);
	return 0;
}

static void *release_later(void *p)
{
	struct slow *s = p;

	sleep_ms(200);
	atomic_store(&s->released, 1);
	return NULL;
}

static void test_stop_waits_for_a_running_job(void **state)
{
	struct anfu_fixture *f = *state;
	struct slow s = { 0 };
	struct anfu_jobs *j = NULL;
	pthread_t t;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "slow", DAY_MS, 0, slow_job, &s), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_true(wait_for(&s.started, 1));
	assert_int_equal(pthread_create(&t, NULL, release_later, &s), 0);
	anfu_jobs_free(j);
	assert_int_equal(atomic_load(&s.finished), 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(sched(f, "slow").last_result, "ok");
}

static void test_free_without_start_and_null_are_fine(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_jobs *j = NULL;

	anfu_jobs_free(NULL);
	anfu_jobs_poke(NULL);
	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	anfu_jobs_poke(j);
	anfu_jobs_free(j);
}

/* ---- results and refusals ----------------------------------------------------- */

/* A failing job is recorded and tried again at its next run. */
static void test_failure_is_recorded_and_retried_next_interval(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter c = { .rc = ANFU_EIO, .result = "report file not writable" };
	struct anfu_jobs *j = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "report", DAY_MS, 0, count_job, &c), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_true(wait_for(&c.runs, 1));
	anfu_clock_advance_ms(DAY_MS);
	anfu_jobs_poke(j);
	assert_true(wait_for(&c.runs, 2));
	anfu_jobs_free(j);
	assert_string_equal(sched(f, "report").last_result, "error EIO: report file not writable");
}

/* A job that leaves its transaction open is rolled back and marked. */
static void test_open_transaction_is_rolled_back(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter c = { .leave_tx_open = true };
	struct anfu_jobs *j = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "sloppy", DAY_MS, 0, count_job, &c), 0);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_true(wait_for(&c.runs, 1));
	anfu_jobs_free(j);
	assert_string_equal(sched(f, "sloppy").last_result, "error EINTERNAL");
	/* The database is not left locked. */
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void test_add_refuses_bad_jobs(void **state)
{
	struct anfu_fixture *f = *state;
	struct counter c = { 0 };
	struct anfu_jobs *j = NULL;

	assert_int_equal(anfu_jobs_new(f->tx, &j), 0);
	assert_int_equal(anfu_jobs_add(j, "", DAY_MS, 0, count_job, &c), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "Bad Name", DAY_MS, 0, count_job, &c), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "x", 0, 0, count_job, &c), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "x", DAY_MS, -1, count_job, &c), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "x", DAY_MS, 0, NULL, &c), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "x", DAY_MS, DAY_MS, count_job, &c), 0);
	assert_int_equal(anfu_jobs_add(j, "x", DAY_MS, DAY_MS, count_job, &c), ANFU_EEXIST);
	assert_int_equal(anfu_jobs_start(j), 0);
	assert_int_equal(anfu_jobs_start(j), ANFU_EINVAL);
	assert_int_equal(anfu_jobs_add(j, "y", DAY_MS, 0, count_job, &c), ANFU_EINVAL);
	anfu_jobs_free(j);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_monthly_job_runs_when_the_clock_passes_it_and_not_before),
		T(test_missed_intervals_run_once),
		T(test_a_held_job_waits_until_released),
		T(test_restart_keeps_the_stored_schedule),
		T(test_two_schedulers_on_one_store_run_a_due_job_once),
		T(test_stop_waits_for_a_running_job),
		T(test_free_without_start_and_null_are_fine),
		T(test_failure_is_recorded_and_retried_next_interval),
		T(test_open_transaction_is_rolled_back),
		T(test_add_refuses_bad_jobs),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
