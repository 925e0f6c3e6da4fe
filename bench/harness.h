/*
 * bench/harness: what the in-process Argon2id benchmarks (bench_argon2,
 * bench_pin) share: a monotonic clock, anfud's [argon2] parameters read
 * from an anfu.conf (or the defaults), and a crew of worker threads that
 * start together behind a barrier.
 *
 * Trusts its caller: the config file it is given, one main thread driving
 * a crew. Not a test (STYLE.md): it measures nothing by itself.
 */
#ifndef ANFU_BENCH_HARNESS_H
#define ANFU_BENCH_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Worker threads a crew holds at most. */
#define BENCH_THREADS_MAX 64

/* Seconds on CLOCK_MONOTONIC. */
double bench_now_s(void);

/* anfud's [argon2] parameters. */
struct bench_argon2 {
	int64_t opslimit, memlimit_kib, max_concurrent;
};

/* Reads [argon2] from the anfu.conf at path (NULL: the built-in
 * defaults) into *ret. Returns 0, or the configuration's error, said on
 * stderr after "<prog>: config: "; *ret is written only on success. */
int bench_argon2_config(const char *prog, const char *path, struct bench_argon2 *ret);

/* n worker threads, each run as fn(args + i * size), held at the start
 * barrier (bench_crew_wait) until the main thread lets them go. */
struct bench_crew {
	pthread_t tid[BENCH_THREADS_MAX];
	int64_t n;
	pthread_barrier_t start;
};

/* Starts the n (1..BENCH_THREADS_MAX) workers of crew c. Returns 0, or
 * ANFU_EINVAL for a bad n, ANFU_EINTERNAL when the barrier cannot be made
 * (no thread started then). A thread that cannot be created aborts the
 * process, saying so after "<prog>: ": the barrier would never open. */
int bench_crew_start(const char *prog, struct bench_crew *c, int64_t n, void *(*fn)(void *),
		     void *args, size_t size);

/* In a worker: waits until bench_crew_go lets the crew go. */
void bench_crew_wait(struct bench_crew *c);

/* Writes bench_now_s() into *ret_t0, then lets the crew go (the workers
 * may read *ret_t0 once they pass bench_crew_wait). */
void bench_crew_go(struct bench_crew *c, double *ret_t0);

/* Waits for every worker to end and releases the barrier. */
void bench_crew_join(struct bench_crew *c);

#endif
