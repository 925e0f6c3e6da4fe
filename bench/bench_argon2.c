/*
 * bench/bench_argon2: raw Argon2id throughput with anfud's parameters.
 *
 * The baseline of the login benchmark (bench/run.sh login): THREADS threads
 * (default argon2.max_concurrent) each verify a correct password against
 * one stored Argon2id hash (crypto/crypto.h, libsodium) in a loop for S
 * seconds, without iam/pwhash's pool, HTTP, TLS or the database. The
 * parameters come from an anfu.conf read with config/config.h (the same
 * file anfud is started with), or from the defaults, so that both sides of
 * the ratio use the same numbers; command-line options override them.
 *
 * Also reports the process's peak resident memory (VmHWM) before and after
 * the run: what THREADS concurrent hashes cost without a server around
 * them.
 *
 * Trusts its command line and the config file it is given. Not a test
 * (STYLE.md): it prints numbers and the conditions they were measured
 * under; bench/run.sh records them. The last line is machine-readable.
 *
 * Usage: bench_argon2 [--config FILE] [--threads N] [--seconds S]
 *                     [--opslimit T] [--memlimit-kib M] [--mode verify|hash]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/err.h"
#include "crypto/crypto.h"

#include "harness.h"

/* The password of tests/api/iam.py (12 characters, four classes). */
#define BENCH_PASSWORD "Tq7#vLm9!zRw"

struct options {
	const char *config; /* NULL: the defaults */
	int64_t opslimit;   /* 0: from the config */
	int64_t memlimit_kib;
	int64_t threads;
	double seconds;
	bool hash; /* measure hashing instead of verifying */
};

struct shared {
	const struct options *o;
	struct anfu_pwhash_params params;
	char encoded[ANFU_PWHASH_STR_LEN];
	struct bench_crew crew;
	double t0;     /* set by the main thread before the barrier */
	long hwm_base; /* VmHWM (KiB) before the first hash */
	atomic_int failures;
};

struct worker {
	struct shared *sh;
	int64_t ops;
	double t_last; /* when its last operation finished */
	double busy;   /* seconds spent inside Argon2id */
};

static double cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A "VmXXX:" value of /proc/self/status in KiB, or -1. */
static long proc_status_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	(void)fclose(f);
	return v;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_argon2 [--config FILE] [--threads N] [--seconds S]\n"
		   "                    [--opslimit T] [--memlimit-kib M] [--mode verify|hash]\n"
		   "  --config FILE     anfu.conf to take [argon2] from (default: built-in\n"
		   "                    defaults)\n"
		   "  --threads N       concurrent hashes (default: argon2.max_concurrent)\n"
		   "  --seconds S       run time (default 10)\n"
		   "  --opslimit T      override argon2.opslimit\n"
		   "  --memlimit-kib M  override argon2.memlimit_kib\n"
		   "  --mode verify     verify a correct password (what a login does; default)\n"
		   "  --mode hash       hash a password (what registration does)\n");
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return ANFU_EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "opslimit", required_argument, NULL, 'o' },
		{ "memlimit-kib", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch, r = 0;

	*o = (struct options){ .seconds = 10.0 };
	while (r == 0 && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 't': r = parse_int(optarg, 1, BENCH_THREADS_MAX, &o->threads); break;
		case 'o': r = parse_int(optarg, 1, 10, &o->opslimit); break;
		case 'm': r = parse_int(optarg, 8, 4194304, &o->memlimit_kib); break;
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(o->seconds > 0) ||
			    o->seconds > 3600)
				r = ANFU_EINVAL;
			break;
		case 'M':
			if (strcmp(optarg, "verify") == 0)
				o->hash = false;
			else if (strcmp(optarg, "hash") == 0)
				o->hash = true;
			else
				r = ANFU_EINVAL;
			break;
		case 'h': usage(stdout); exit(0);
		default: r = ANFU_EINVAL; break;
		}
	}
	return r == 0 && optind == argc ? 0 : ANFU_EINVAL;
}

/* Fills in what the command line left open from the config file (or the
 * defaults). On failure says why on stderr. */
static int apply_config(struct options *o)
{
	struct bench_argon2 a;
	int r = bench_argon2_config("bench_argon2", o->config, &a);

	if (r < 0)
		return r;
	if (o->opslimit == 0)
		o->opslimit = a.opslimit;
	if (o->memlimit_kib == 0)
		o->memlimit_kib = a.memlimit_kib;
	if (o->threads == 0)
		o->threads = a.max_concurrent;
	if (o->threads > BENCH_THREADS_MAX) {
		fprintf(stderr, "bench_argon2: more than %d threads\n", BENCH_THREADS_MAX);
		return ANFU_ELIMIT;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	const size_t len = sizeof(BENCH_PASSWORD) - 1;
	char out[ANFU_PWHASH_STR_LEN];
	double end, t, t1;
	int r;

	bench_crew_wait(&sh->crew);
	end = sh->t0 + sh->o->seconds;
	t = bench_now_s();
	/* Each thread finishes the hash it started before the deadline: the
	 * rate divides by the time up to the last finish, not the deadline. */
	while (t < end) {
		r = sh->o->hash ? anfu_pwhash(&sh->params, BENCH_PASSWORD, len, out)
				: anfu_pwhash_verify(sh->encoded, BENCH_PASSWORD, len);
		t1 = bench_now_s();
		if (r != 0)
			atomic_fetch_add(&sh->failures, 1);
		else
			w->ops++;
		w->busy += t1 - t;
		t = t1;
	}
	w->t_last = t;
	return NULL;
}

/* Starts o->threads workers, waits for them and prints the result. */
static int run(struct shared *sh)
{
	const struct options *o = sh->o;
	struct worker w[BENCH_THREADS_MAX];
	int64_t ops = 0;
	double c0, c1, t_end = 0, busy = 0, elapsed;
	long hwm0, hwm1;
	const char *what = o->hash ? "hashes" : "verifies";
	int r = 0;

	memset(w, 0, sizeof(w));
	for (int64_t i = 0; i < BENCH_THREADS_MAX; i++)
		w[i].sh = sh;
	r = bench_crew_start("bench_argon2", &sh->crew, o->threads, worker_main, w, sizeof(w[0]));
	if (r < 0)
		return r;
	hwm0 = proc_status_kib("VmHWM");
	c0 = cpu_s();
	bench_crew_go(&sh->crew, &sh->t0);
	bench_crew_join(&sh->crew);
	for (int64_t i = 0; i < o->threads; i++) {
		ops += w[i].ops;
		busy += w[i].busy;
		if (w[i].t_last > t_end)
			t_end = w[i].t_last;
	}
	c1 = cpu_s();
	hwm1 = proc_status_kib("VmHWM");
	elapsed = t_end - sh->t0;
	if (atomic_load(&sh->failures) > 0 || ops == 0) {
		fprintf(stderr, "bench_argon2: %d operations failed\n", atomic_load(&sh->failures));
		r = ANFU_ECRYPTO;
	}
	printf("# %lld %s in %.2f s; mean latency %.1f ms; process CPU %.2f s (%.0f %% of one "
	       "core)\n",
	       (long long)ops, what, elapsed, ops ? 1000.0 * busy / (double)ops : 0.0, c1 - c0,
	       100.0 * (c1 - c0) / elapsed);
	/* hwm0 already holds the one hash made in main(); the base is from
	 * before it. */
	printf("# peak RSS (VmHWM): %ld KiB at start, %ld KiB after one hash, %ld KiB after the "
	       "run (+%ld KiB over the start; %lld threads x memlimit = %lld KiB)\n",
	       sh->hwm_base, hwm0, hwm1, hwm1 - sh->hwm_base, (long long)o->threads,
	       (long long)(o->threads * o->memlimit_kib));
	printf("%s_per_s=%.2f threads=%lld opslimit=%lld memlimit_kib=%lld seconds=%.2f\n", what,
	       (double)ops / elapsed, (long long)o->threads, (long long)o->opslimit,
	       (long long)o->memlimit_kib, elapsed);
	return r;
}

int main(int argc, char **argv)
{
	struct options o;
	struct shared sh;
	int r;

	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	memset(&sh, 0, sizeof(sh));
	sh.o = &o;
	r = anfu_crypto_init();
	if (r == 0)
		r = apply_config(&o);
	if (r < 0)
		return 1;
	sh.params.opslimit = (uint64_t)o.opslimit;
	sh.params.memlimit = (size_t)o.memlimit_kib * 1024u;
	sh.hwm_base = proc_status_kib("VmHWM");
	r = anfu_pwhash(&sh.params, BENCH_PASSWORD, sizeof(BENCH_PASSWORD) - 1, sh.encoded);
	if (r < 0) {
		fprintf(stderr, "bench_argon2: hashing failed: %s\n", anfu_strerror(r));
		return 1;
	}
	printf("# bench_argon2: Argon2id (libsodium, crypto/crypto.h, no pool) mode=%s "
	       "opslimit=%lld memlimit_kib=%lld threads=%lld seconds=%.1f config=%s\n",
	       o.hash ? "hash" : "verify", (long long)o.opslimit, (long long)o.memlimit_kib,
	       (long long)o.threads, o.seconds, o.config ? o.config : "(defaults)");
	fflush(stdout);
	return run(&sh) == 0 ? 0 : 1;
}
