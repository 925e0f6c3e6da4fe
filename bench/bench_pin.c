/*
 * bench/bench_pin: payment PIN verifications per second, the old Argon2id
 * path against the keyed MAC (issue 10, docs/security.md "Payment PIN").
 *
 * Both paths go through iam_pin_check (src/iam/pinmac.c), the function
 * anfu_iam_verify_payment_password calls: an Argon2id record is checked by
 * iam/pwhash (its pool of argon2.max_concurrent, anfud's [argon2]
 * parameters from an anfu.conf or the defaults), a MAC record by src/keys
 * (HMAC-SHA256, or HMAC-SM3 under --crypto gm) under keys made in a
 * throw-away data directory. THREADS threads (default argon2.max_concurrent)
 * each verify the right PIN in a loop for S seconds per path, one path after
 * the other in the same process; no HTTP, TLS or database (the transaction
 * that counts an entry is the same for both and is not measured here).
 *
 * Trusts its command line and the config file it is given. Not a test
 * (STYLE.md): it prints numbers and the conditions they were measured
 * under. The last line is machine-readable.
 *
 * Usage: bench_pin [--config FILE] [--threads N] [--seconds S]
 *                  [--crypto intl|gm] [--dir DIR]
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/limits.h"
#include "crypto/crypto.h"
#include "iam/pinmac.h"
#include "iam/pwhash.h"
#include "keys/keys.h"

#include "harness.h"

#define BENCH_PIN "583016"
#define BENCH_USER "usr_bench_pin_000000000000"

struct options {
	const char *config; /* NULL: the defaults */
	const char *dir;    /* where the throw-away data directory goes */
	int64_t threads;    /* 0: argon2.max_concurrent */
	double seconds;
	enum anfu_crypto_profile cp;
	int64_t opslimit, memlimit_kib, max_concurrent; /* from the config */
};

struct shared {
	const struct anfu_keys *keys;
	struct anfu_pwhash *pwh;
	const char *record; /* the stored form under test */
	double seconds;
	struct bench_crew crew;
	atomic_int failures;
};

struct worker {
	struct shared *sh;
	int64_t ops;
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "crypto", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	*o = (struct options){ .seconds = 5.0, .cp = ANFU_CRYPTO_INTL, .dir = "/tmp" };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'd': o->dir = optarg; break;
		case 't':
			errno = 0;
			o->threads = strtoll(optarg, &end, 10);
			if (errno || *end || o->threads < 1 || o->threads > BENCH_THREADS_MAX)
				return ANFU_EINVAL;
			break;
		case 's':
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || *end || !(o->seconds > 0) || o->seconds > 3600)
				return ANFU_EINVAL;
			break;
		case 'p':
			if (strcmp(optarg, "intl") == 0)
				o->cp = ANFU_CRYPTO_INTL;
			else if (strcmp(optarg, "gm") == 0)
				o->cp = ANFU_CRYPTO_GM;
			else
				return ANFU_EINVAL;
			break;
		default: return ANFU_EINVAL;
		}
	}
	return optind == argc ? 0 : ANFU_EINVAL;
}

/* [argon2] from the config file (or the defaults). */
static int apply_config(struct options *o)
{
	struct bench_argon2 a;
	int r = bench_argon2_config("bench_pin", o->config, &a);

	if (r < 0)
		return r;
	o->opslimit = a.opslimit;
	o->memlimit_kib = a.memlimit_kib;
	o->max_concurrent = a.max_concurrent;
	if (o->threads == 0)
		o->threads = o->max_concurrent;
	if (o->threads > BENCH_THREADS_MAX) {
		fprintf(stderr, "bench_pin: more than %d threads\n", BENCH_THREADS_MAX);
		return ANFU_ELIMIT;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	double end;

	bench_crew_wait(&sh->crew);
	end = bench_now_s() + sh->seconds;
	while (bench_now_s() < end) {
		if (iam_pin_check(sh->keys, sh->pwh, BENCH_USER, sh->record, BENCH_PIN,
				  sizeof(BENCH_PIN) - 1) != 0)
			atomic_fetch_add(&sh->failures, 1);
		w->ops++;
	}
	return NULL;
}

/* Verifications per second of record on n threads for s seconds. */
static int run(struct shared *sh, int64_t n, double *ret)
{
	struct worker w[BENCH_THREADS_MAX];
	int64_t ops = 0;
	double t0, t1;
	int r;

	for (int64_t i = 0; i < n && i < BENCH_THREADS_MAX; i++)
		w[i] = (struct worker){ .sh = sh };
	r = bench_crew_start("bench_pin", &sh->crew, n, worker_main, w, sizeof(w[0]));
	if (r < 0)
		return r;
	bench_crew_go(&sh->crew, &t0);
	bench_crew_join(&sh->crew);
	t1 = bench_now_s();
	for (int64_t i = 0; i < n; i++)
		ops += w[i].ops;
	*ret = (double)ops / (t1 - t0);
	return atomic_load(&sh->failures) ? ANFU_EAUTH : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	struct options o;
	struct anfu_keys *keys = NULL;
	struct anfu_pwhash *pwh = NULL;
	struct anfu_pwhash_params pp;
	char dir[512], argon[ANFU_PWHASH_STR_LEN], mac[ANFU_LIMIT_PIN_RECORD_BYTES];
	struct shared sh = { 0 };
	double a = 0, m = 0;
	int r;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench_pin [--config FILE] [--threads N] [--seconds S]"
				" [--crypto intl|gm] [--dir DIR]\n");
		return 2;
	}
	if (anfu_crypto_init() < 0 || apply_config(&o) < 0)
		return 1;
	(void)snprintf(dir, sizeof(dir), "%s/anfu-bench-pin-XXXXXX", o.dir);
	if (!mkdtemp(dir)) {
		perror("bench_pin: mkdtemp");
		return 1;
	}
	r = anfu_keys_init_dir(dir, o.cp, NULL);
	if (r == 0)
		r = anfu_keys_load(dir, o.cp, &keys);
	if (r == 0)
		r = anfu_pwhash_new(o.opslimit, o.memlimit_kib, o.max_concurrent, &pwh);
	pp = (struct anfu_pwhash_params){ (uint64_t)o.opslimit, (size_t)o.memlimit_kib * 1024 };
	if (r == 0)
		r = anfu_pwhash(&pp, BENCH_PIN, sizeof(BENCH_PIN) - 1, argon);
	if (r == 0)
		r = iam_pin_record(keys, BENCH_USER, BENCH_PIN, sizeof(BENCH_PIN) - 1, mac);
	if (r < 0) {
		fprintf(stderr, "bench_pin: setup: %s\n", anfu_strerror(r));
		goto out;
	}
	printf("# bench_pin: %lld threads, %.1f s per path, crypto=%s, argon2 opslimit=%lld "
	       "memlimit_kib=%lld max_concurrent=%lld\n",
	       (long long)o.threads, o.seconds, o.cp == ANFU_CRYPTO_GM ? "gm" : "intl",
	       (long long)o.opslimit, (long long)o.memlimit_kib, (long long)o.max_concurrent);
	sh = (struct shared){ .keys = keys, .pwh = pwh, .seconds = o.seconds };
	sh.record = argon;
	r = run(&sh, o.threads, &a);
	if (r == 0) {
		printf("argon2id (old record)   %12.1f verifications/s\n", a);
		sh.record = mac;
		r = run(&sh, o.threads, &m);
	}
	if (r < 0) {
		fprintf(stderr, "bench_pin: a right PIN did not verify\n");
		goto out;
	}
	printf("keyed MAC (HMAC-%s) %12.1f verifications/s\n",
	       o.cp == ANFU_CRYPTO_GM ? "SM3   " : "SHA256", m);
	printf("pin: crypto=%s threads=%lld argon2_per_s=%.1f mac_per_s=%.1f ratio=%.0f\n",
	       o.cp == ANFU_CRYPTO_GM ? "gm" : "intl", (long long)o.threads, a, m,
	       a > 0 ? m / a : 0);
out:
	anfu_pwhash_free(pwh);
	anfu_keys_free(keys);
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? 1 : 0;
}
