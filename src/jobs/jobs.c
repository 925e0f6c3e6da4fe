/*
 * jobs: scheduled work on the injectable clock.
 *
 * Owns the rows of job_schedule and one thread per struct anfu_jobs. The
 * thread wakes every second of real (monotonic) time and when poked, and
 * for each registered job, in registration order, tries to claim the run:
 *   UPDATE job_schedule SET next_run_ms = now + interval, last_run_ms = now
 *   WHERE name = $1 AND next_run_ms <= now
 * Only the claimer that changed the row runs the job, so any number of
 * threads or nodes sharing the database run a due job once; after a long
 * gap (or a clock moved a month ahead) the job runs once, not once per
 * missed interval. The job then runs on the thread's own connection
 * outside any transaction and its outcome is written to last_result.
 * Around the claim and the run the thread holds the job's cluster lease
 * (anfu_db_lease_try: on PostgreSQL a session advisory lock of its
 * connection; on SQLite trivially held), so a run that outlasts its
 * interval is never started a second time beside itself by another
 * thread or node; a node that dies mid-run releases the lease with its
 * connection, and the next due run goes to whoever claims it. The
 * schedule's writes go through the transaction executor (src/tx/), as
 * the jobs' own do. Trusts jobs to close their read transactions; one left
 * open is ended and logged.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "jobs/jobs.h"
#include "store/store.h"
#include "tx/tx.h"

struct job {
	char name[ANFU_LIMIT_JOB_NAME_BYTES + 1];
	int64_t interval_ms;
	int64_t first_delay_ms;
	anfu_job_fn fn;
	void *ud;
	int32_t lease; /* anfu_db_lease_key(name) */
	bool held;     /* anfu_jobs_hold(): the scheduler leaves it; under mu */
};

struct anfu_jobs {
	struct anfu_tx_exec *tx;
	struct job jobs[ANFU_LIMIT_JOBS];
	size_t n;
	pthread_mutex_t mu; /* guards started, running, stop, wake */
	pthread_cond_t cv;  /* on CLOCK_MONOTONIC */
	bool started;	    /* no more jobs may be added */
	bool running;
	bool stop;
	bool wake;
	pthread_t thread;
};

/* *ret is the caller's, freed with anfu_jobs_free(); tx is borrowed and
 * must outlive it. */
int anfu_jobs_new(struct anfu_tx_exec *tx, struct anfu_jobs **ret)
{
	struct anfu_jobs *j;
	pthread_condattr_t ca;

	if (!tx || !ret)
		return ANFU_EINVAL;
	j = anfu_xcalloc(1, sizeof(*j));
	j->tx = tx;
	(void)pthread_mutex_init(&j->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&j->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	*ret = j;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, ANFU_LIMIT_JOB_NAME_BYTES + 1);
	if (len == 0 || len > ANFU_LIMIT_JOB_NAME_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/*
 * See jobs.h. ANFU_EINVAL for a bad name, a non-positive interval, a
 * negative delay or a call after anfu_jobs_start(); ANFU_EEXIST for a name
 * already registered here (or sharing its lease key); ANFU_ELIMIT beyond
 * ANFU_LIMIT_JOBS jobs.
 */
int anfu_jobs_add(struct anfu_jobs *j, const char *name, int64_t interval_ms,
		  int64_t first_delay_ms, anfu_job_fn fn, void *ud)
{
	struct job *job;
	int r = 0;

	if (!j || !name_ok(name) || interval_ms <= 0 || first_delay_ms < 0 || !fn)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&j->mu);
	if (j->started) {
		r = ANFU_EINVAL;
		goto out;
	}
	/* Two names sharing a lease would exclude each other's runs. */
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->jobs[i].name, name) == 0 ||
		    j->jobs[i].lease == anfu_db_lease_key(name)) {
			r = ANFU_EEXIST;
			goto out;
		}
	if (j->n >= ANFU_LIMIT_JOBS) {
		r = ANFU_ELIMIT;
		goto out;
	}
	job = &j->jobs[j->n++];
	ANFU_ASSERT(j->n <= ANFU_LIMIT_JOBS);
	memcpy(job->name, name, strlen(name) + 1);
	job->interval_ms = interval_ms;
	job->first_delay_ms = first_delay_ms;
	job->fn = fn;
	job->ud = ud;
	job->lease = anfu_db_lease_key(name);
out:
	(void)pthread_mutex_unlock(&j->mu);
	return r;
}

/* ---- the schedule --------------------------------------------------------- */

/* Inserts the rows of jobs that have none: due first_delay from now. */
static int insert_missing_tx(struct anfu_tx *tx, void *ud)
{
	struct anfu_jobs *j = ud;
	int64_t now = anfu_clock_now_ms();
	int r = 0;

	for (size_t i = 0; i < j->n && r == 0; i++) {
		struct anfu_param p[] = { ANFU_PSN(j->jobs[i].name, strlen(j->jobs[i].name)),
					  ANFU_PI(now + j->jobs[i].first_delay_ms) };

		r = anfu_db_exec(anfu_tx_db(tx),
				 "INSERT INTO job_schedule (name, next_run_ms) VALUES ($1, $2) "
				 "ON CONFLICT (name) DO NOTHING",
				 p, 2, NULL, NULL, NULL);
	}
	return r;
}

/* 1 when this thread claimed the run of job, 0 when it is not due or
 * someone else claimed it. */
static int claim_tx(struct anfu_tx *tx, void *ud)
{
	const struct job *job = ud;
	int64_t now = anfu_clock_now_ms();
	int64_t changes = 0;
	struct anfu_param p[] = { ANFU_PSN(job->name, strlen(job->name)),
				  ANFU_PI(now + job->interval_ms), ANFU_PI(now) };
	int r;

	r = anfu_db_exec(anfu_tx_db(tx),
			 "UPDATE job_schedule SET next_run_ms = $2, last_run_ms = $3 "
			 "WHERE name = $1 AND next_run_ms <= $3",
			 p, 3, NULL, NULL, &changes);
	if (r < 0)
		return r;
	/* name is job_schedule's key: one run is claimed at most once. */
	ANFU_ASSERT(changes == 0 || changes == 1);
	return changes == 1 ? 1 : 0;
}

/* The outcome of one run, for last_result. */
struct outcome {
	const struct job *job;
	char text[ANFU_LIMIT_JOB_RESULT_BYTES + 1];
};

static int record_tx(struct anfu_tx *tx, void *ud)
{
	const struct outcome *o = ud;
	struct anfu_param p[2] = { ANFU_PSN(o->job->name, strlen(o->job->name)),
				   ANFU_PSN(o->text, strlen(o->text)) };

	return anfu_db_exec(anfu_tx_db(tx),
			    "UPDATE job_schedule SET last_result = $2 WHERE name = $1", p, 2, NULL,
			    NULL, NULL);
}

static int record(struct anfu_jobs *j, const struct job *job, int rc, const char *result)
{
	struct outcome o = { .job = job };

	if (rc == 0)
		(void)snprintf(o.text, sizeof(o.text), "%s", result ? result : "ok");
	else
		(void)snprintf(o.text, sizeof(o.text), "error %s%s%s", anfu_strerror(rc),
			       result ? ": " : "", result ? result : "");
	return anfu_tx_run(j->tx, NULL, record_tx, &o);
}

/* Claims and runs job if it is due; the caller holds its lease. */
static int claim_and_run(struct anfu_jobs *j, struct anfu_db *db, const struct job *job)
{
	const char *result = NULL;
	int64_t t0;
	int r, rc;

	r = anfu_tx_run(j->tx, NULL, claim_tx, (void *)job);
	if (r <= 0)
		return r;
	t0 = anfu_clock_mono_us();
	rc = job->fn(job->ud, db, &result);
	if (db->tx_depth != 0) {
		anfu_log_error("jobs.run", "job %s left a transaction open; ended", job->name);
		(void)anfu_db_end_read(db);
		if (rc == 0)
			rc = ANFU_EINTERNAL;
	}
	/* An audit failure was logged by the executor that rolled back. */
	if (rc < 0 && rc != ANFU_EAUDIT)
		anfu_log_error("jobs.run", "job %s failed: %s", job->name, anfu_strerror(rc));
	else if (rc == 0)
		anfu_log_info("jobs.run", "job %s done in %" PRId64 " ms", job->name,
			      (anfu_clock_mono_us() - t0) / 1000);
	return record(j, job, rc, result);
}

/* Runs job if it is due and ours to run: its lease first (held by another
 * connection, of this node or another: that one runs it, so this pass
 * leaves it), then the claim of the due run. */
static int run_if_due(struct anfu_jobs *j, struct anfu_db *db, const struct job *job)
{
	bool held = false;
	int r, rr;

	r = anfu_db_lease_try(db, job->lease, &held);
	if (r < 0 || !held)
		return r;
	r = claim_and_run(j, db, job);
	rr = anfu_db_lease_release(db, job->lease);
	return r < 0 ? r : rr;
}

/* One pass over every job. */
static void run_due(struct anfu_jobs *j)
{
	struct anfu_db *db = NULL;
	int r;

	r = anfu_store_db(anfu_tx_exec_store(j->tx), &db);
	if (r < 0) {
		anfu_log_error("jobs.run", "no database connection: %s", anfu_strerror(r));
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		bool stop, held;

		(void)pthread_mutex_lock(&j->mu);
		held = j->jobs[i].held;
		(void)pthread_mutex_unlock(&j->mu);
		r = held ? 0 : run_if_due(j, db, &j->jobs[i]);
		if (r < 0)
			anfu_log_error("jobs.run", "job %s: schedule: %s", j->jobs[i].name,
				       anfu_strerror(r));
		(void)pthread_mutex_lock(&j->mu);
		stop = j->stop;
		(void)pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
	}
}

/* ---- the thread ------------------------------------------------------------ */

static void *scheduler(void *p)
{
	struct anfu_jobs *j = p;

	(void)pthread_mutex_lock(&j->mu);
	while (!j->stop) {
		struct timespec ts;

		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		while (!j->stop && !j->wake)
			if (pthread_cond_timedwait(&j->cv, &j->mu, &ts) != 0)
				break;
		j->wake = false;
		if (j->stop)
			break;
		(void)pthread_mutex_unlock(&j->mu);
		run_due(j);
		(void)pthread_mutex_lock(&j->mu);
	}
	(void)pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* See jobs.h. */
int anfu_jobs_hold(struct anfu_jobs *j, const char *name, bool hold)
{
	int r = ANFU_ENOTFOUND;

	if (!j || !name)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->jobs[i].name, name) == 0) {
			j->jobs[i].held = hold;
			r = 0;
		}
	(void)pthread_mutex_unlock(&j->mu);
	return r;
}

/* See jobs.h: the interval from the service when d says so. */
int anfu_jobs_add_def(struct anfu_jobs *j, const struct anfu_job_def *d, void *svc)
{
	int64_t interval;

	if (!d)
		return ANFU_EINVAL;
	interval = d->interval ? d->interval(svc) : d->interval_ms;
	if (interval <= 0)
		return ANFU_EINVAL;
	return anfu_jobs_add(j, d->name, interval,
			     d->first_delay_ms < 0 ? interval : d->first_delay_ms, d->fn, svc);
}

/*
 * Inserts the schedule rows of new jobs (on the calling thread's
 * connection, which must have no open transaction: ANFU_EINVAL) and starts
 * the thread, which looks for due jobs at once. ANFU_EINVAL when started
 * already.
 */
int anfu_jobs_start(struct anfu_jobs *j)
{
	struct anfu_db *db = NULL;
	int r;

	if (!j)
		return ANFU_EINVAL;
	(void)pthread_mutex_lock(&j->mu);
	r = j->started ? ANFU_EINVAL : 0;
	j->started = true; /* the job list is fixed from here on */
	(void)pthread_mutex_unlock(&j->mu);
	if (r < 0)
		return r;
	r = anfu_store_db(anfu_tx_exec_store(j->tx), &db);
	if (r == 0 && db->tx_depth != 0)
		r = ANFU_EINVAL;
	if (r == 0)
		r = anfu_tx_run(j->tx, NULL, insert_missing_tx, j);
	(void)pthread_mutex_lock(&j->mu);
	if (r == 0) {
		j->stop = false;
		j->wake = true;
		if (pthread_create(&j->thread, NULL, scheduler, j) != 0) {
			anfu_log_error("jobs.start", "cannot start the scheduler thread");
			r = ANFU_EINTERNAL;
		} else {
			j->running = true;
		}
	}
	if (r < 0)
		j->started = false;
	(void)pthread_mutex_unlock(&j->mu);
	return r;
}

/* See jobs.h; NULL-safe, harmless before start. */
void anfu_jobs_poke(struct anfu_jobs *j)
{
	if (!j)
		return;
	(void)pthread_mutex_lock(&j->mu);
	j->wake = true;
	(void)pthread_cond_signal(&j->cv);
	(void)pthread_mutex_unlock(&j->mu);
}

void anfu_jobs_free(struct anfu_jobs *j)
{
	bool running;

	if (!j)
		return;
	(void)pthread_mutex_lock(&j->mu);
	running = j->running;
	j->stop = true;
	(void)pthread_cond_signal(&j->cv);
	(void)pthread_mutex_unlock(&j->mu);
	if (running)
		(void)pthread_join(j->thread, NULL);
	(void)pthread_cond_destroy(&j->cv);
	(void)pthread_mutex_destroy(&j->mu);
	free(j);
}
