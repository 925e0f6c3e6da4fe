/*
 * jobs: scheduled work on the injectable clock.
 *
 * Owns the table job_schedule. A job is a name, an interval and a function;
 * one thread checks every second (and when poked) which jobs are due by
 * anfu_clock_now_ms(), so tests that move the clock a month ahead see the
 * monthly job run within a second. A job runs with its own connection; it
 * runs its own transactions (through the executor, src/tx/) and audits its
 * own work. next_run_ms is
 * advanced in the database before the job runs, so several nodes sharing a
 * database run each due job once (the UPDATE that claims it is the lock),
 * and the run holds the job's cluster lease (store.h, anfu_db_lease_try),
 * so no two threads or nodes ever run one job at the same time; a node
 * that dies releases its leases with its connections.
 */
#ifndef ANFU_JOBS_JOBS_H
#define ANFU_JOBS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct anfu_db;
struct anfu_tx_exec;

/* A job body: returns 0 or an ANFU_E* code (logged, retried next time).
 * result (static or arena-free text, may be NULL) is recorded. */
typedef int (*anfu_job_fn)(void *ud, struct anfu_db *db, const char **result);

struct anfu_jobs;

/* tx (borrowed, must outlive the scheduler) writes the schedule; jobs run
 * on the calling thread's connection of its store. */
int anfu_jobs_new(struct anfu_tx_exec *tx, struct anfu_jobs **ret);
/* Registers a job before anfu_jobs_start(); first_delay_ms after the first
 * start it becomes due, then every interval_ms. ud is borrowed. ANFU_EEXIST
 * for a name registered already, or one whose lease key
 * (anfu_db_lease_key) another registered name has. */
int anfu_jobs_add(struct anfu_jobs *j, const char *name, int64_t interval_ms,
		  int64_t first_delay_ms, anfu_job_fn fn, void *ud);
/* A job as a module declares it (its descriptor's job table). */
struct anfu_job_def {
	const char *name;
	int64_t interval_ms;	/* > 0 unless interval is set */
	int64_t first_delay_ms; /* after the first start; < 0: one interval */
	/* Optional: the interval from the service (e.g. a number of days an
	 * option sets), overriding interval_ms. */
	int64_t (*interval)(const void *svc);
	anfu_job_fn fn; /* its ud is the module's service */
};

/* A module's jobs: the array and its length. */
struct anfu_job_table {
	const struct anfu_job_def *defs;
	size_t n;
};

/* Registers d for the service svc (borrowed; must outlive the scheduler)
 * like anfu_jobs_add(). ANFU_EINVAL for a NULL d or an interval <= 0. */
int anfu_jobs_add_def(struct anfu_jobs *j, const struct anfu_job_def *d, void *svc);
int anfu_jobs_start(struct anfu_jobs *j);
/* Wakes the thread to look for due jobs now (after a clock change). */
void anfu_jobs_poke(struct anfu_jobs *j);
/* Holds (hold true) or releases the job named name: the scheduler does
 * not run a held job (its schedule is left alone, so once released it runs
 * at the next pass it is due). For tests that run a job's work through a
 * hook of their own and must not race the scheduler for it (a run already
 * under way finishes). 0; ANFU_ENOTFOUND for a name not registered;
 * ANFU_EINVAL for NULL arguments. */
int anfu_jobs_hold(struct anfu_jobs *j, const char *name, bool hold);
/* Stops the thread (waiting for a running job) and frees; NULL-safe. */
void anfu_jobs_free(struct anfu_jobs *j);

#endif
