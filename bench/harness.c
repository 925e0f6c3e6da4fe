/*
 * bench/harness: the clock, the [argon2] parameters and the thread crew
 * of the in-process Argon2id benchmarks (see harness.h).
 *
 * Owns nothing beyond a call but the crew's threads and barrier, which
 * bench_crew_join releases. Trusts its caller as harness.h says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app/app.h"
#include "base/err.h"
#include "base/limits.h"
#include "config/config.h"
#include "iam/config.h"

#include "harness.h"

double bench_now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_argon2_config(const char *prog, const char *path, struct bench_argon2 *ret)
{
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);
	const struct anfu_iam_config *icfg;
	struct anfu_config *cfg = NULL;
	char err[512] = "";
	int r;

	if (path)
		r = anfu_config_load(path, "/", tables, ntables, &cfg, err, sizeof(err));
	else
		r = anfu_config_defaults("/", tables, ntables, &cfg);
	if (r < 0) {
		fprintf(stderr, "%s: config: %s\n", prog, err[0] ? err : anfu_strerror(r));
		return r;
	}
	icfg = anfu_config_module(cfg, &anfu_iam_config_table);
	ret->opslimit = icfg->argon2.opslimit;
	ret->memlimit_kib = icfg->argon2.memlimit_kib;
	ret->max_concurrent = icfg->argon2.max_concurrent;
	anfu_config_free(cfg);
	return 0;
}

int bench_crew_start(const char *prog, struct bench_crew *c, int64_t n, void *(*fn)(void *),
		     void *args, size_t size)
{
	if (n < 1 || n > BENCH_THREADS_MAX)
		return ANFU_EINVAL;
	if (pthread_barrier_init(&c->start, NULL, (unsigned)n + 1) != 0)
		return ANFU_EINTERNAL;
	c->n = n;
	for (int64_t i = 0; i < n; i++) {
		if (pthread_create(&c->tid[i], NULL, fn, (char *)args + (size_t)i * size) != 0) {
			/* The barrier would never open: there is no way back. */
			fprintf(stderr, "%s: pthread_create failed\n", prog);
			abort();
		}
	}
	return 0;
}

void bench_crew_wait(struct bench_crew *c)
{
	(void)pthread_barrier_wait(&c->start);
}

void bench_crew_go(struct bench_crew *c, double *ret_t0)
{
	*ret_t0 = bench_now_s();
	(void)pthread_barrier_wait(&c->start);
}

void bench_crew_join(struct bench_crew *c)
{
	for (int64_t i = 0; i < c->n; i++)
		(void)pthread_join(c->tid[i], NULL);
	(void)pthread_barrier_destroy(&c->start);
}
