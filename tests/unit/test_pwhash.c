/*
 * Unit tests for iam/pwhash: Argon2id hashing with a cap on hashes in
 * flight and a dummy hash for unknown users (IAM-PWD-09, IAM-ANOM-02).
 *
 * Small Argon2 parameters (1 pass, 8 MiB) keep the run short. Timing is
 * not asserted; the concurrency cap is checked through the peak counter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"

#define OPS 1
#define MEM_KIB 8192
#define PW "Tq7#vLm9!zR"

static int setup(void **state)
{
	(void)state;
	return anfu_crypto_init() == 0 ? 0 : -1;
}

/* req: IAM-PWD-09 */
static void test_pwhash_hash_then_verify(void **state)
{
	struct anfu_pwhash *h = NULL;
	char enc[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 2, &h), 0);
	assert_int_equal(anfu_pwhash_hash(h, PW, strlen(PW), enc), 0);
	assert_memory_equal(enc, "$argon2id$", 10);
	assert_null(strstr(enc, PW));
	assert_int_equal(anfu_pwhash_check(h, enc, PW, strlen(PW)), 0);
	assert_int_equal(anfu_pwhash_check(h, enc, "Tq7#vLm9!zr", strlen(PW)), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_check(h, enc, PW, strlen(PW) - 1), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_check(h, enc, "", 0), ANFU_EAUTH);
	anfu_pwhash_free(h);
}

/* An unknown user is checked against the dummy hash: always a mismatch,
 * whatever the password. */
static void test_pwhash_null_encoded_uses_dummy_and_fails(void **state)
{
	struct anfu_pwhash *h = NULL;
	int running = -1, peak = -1;

	(void)state;
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 2, &h), 0);
	assert_int_equal(anfu_pwhash_check(h, NULL, PW, strlen(PW)), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_check(h, NULL, "", 0), ANFU_EAUTH);
	/* The dummy check went through the semaphore like a real one. */
	anfu_pwhash_stats(h, &running, &peak);
	assert_int_equal(running, 0);
	assert_int_equal(peak, 1);
	anfu_pwhash_free(h);
}

/* A password longer than any stored one costs the same and fails. */
static void test_pwhash_overlong_password(void **state)
{
	struct anfu_pwhash *h = NULL;
	char enc[ANFU_PWHASH_STR_LEN];
	char big[ANFU_PASSWORD_MAX + 2];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 1, &h), 0);
	assert_int_equal(anfu_pwhash_hash(h, big, ANFU_PASSWORD_MAX, enc), 0);
	assert_int_equal(anfu_pwhash_check(h, enc, big, ANFU_PASSWORD_MAX), 0);
	/* The first ANFU_PASSWORD_MAX bytes match, but a longer input never does. */
	assert_int_equal(anfu_pwhash_check(h, enc, big, ANFU_PASSWORD_MAX + 1), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_hash(h, big, ANFU_PASSWORD_MAX + 1, enc), ANFU_EINVAL);
	anfu_pwhash_free(h);
}

/* A hash carries the Argon2id parameters it was made with, and they are the
 * configured ones (argon2.opslimit, argon2.memlimit_kib), not the small
 * ones the other tests use. req: IAM-PWD-09 */
static void test_pwhash_uses_the_configured_parameters(void **state)
{
	struct anfu_pwhash *h = NULL;
	char enc[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash_new(3, 2 * MEM_KIB, 1, &h), 0);
	assert_int_equal(anfu_pwhash_hash(h, PW, strlen(PW), enc), 0);
	assert_memory_equal(enc, "$argon2id$v=19$m=16384,t=3,p=1$", 31);
	assert_false(anfu_pwhash_outdated(h, enc));
	anfu_pwhash_free(h);
	/* Under other parameters the same hash is outdated. */
	assert_int_equal(anfu_pwhash_new(2, 2 * MEM_KIB, 1, &h), 0);
	assert_true(anfu_pwhash_outdated(h, enc));
	anfu_pwhash_free(h);
}

static void test_pwhash_bad_arguments(void **state)
{
	struct anfu_pwhash *h = NULL;
	char enc[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash_new(0, MEM_KIB, 2, &h), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_new(OPS, 0, 2, &h), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 0, &h), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 5000, &h), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_new(OPS, INT64_MAX, 2, &h), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 2, NULL), ANFU_EINVAL);
	assert_null(h);
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 2, &h), 0);
	assert_int_equal(anfu_pwhash_hash(NULL, PW, 3, enc), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_hash(h, NULL, 3, enc), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_check(NULL, NULL, PW, 3), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_check(h, "$argon2id$garbage", PW, 3), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_check(h, "not a hash", PW, 3), ANFU_EINVAL);
	anfu_pwhash_stats(NULL, NULL, NULL);
	anfu_pwhash_stats(h, NULL, NULL);
	anfu_pwhash_free(h);
	anfu_pwhash_free(NULL);
}

#define THREADS 8
#define ROUNDS 3

struct worker {
	struct anfu_pwhash *h;
	int failures;
};

static void *hash_worker(void *arg)
{
	struct worker *w = arg;
	char enc[ANFU_PWHASH_STR_LEN];

	for (int i = 0; i < ROUNDS; i++) {
		if (anfu_pwhash_hash(w->h, PW, strlen(PW), enc) != 0 ||
		    anfu_pwhash_check(w->h, enc, PW, strlen(PW)) != 0 ||
		    anfu_pwhash_check(w->h, NULL, PW, strlen(PW)) != ANFU_EAUTH)
			w->failures++;
	}
	return NULL;
}

/* 8 threads hashing and verifying with max_concurrent 2: never more than
 * 2 at once, and every result right: bounded hashing work. req: WEB-DOS-01 */
static void test_pwhash_concurrency_capped(void **state)
{
	struct anfu_pwhash *h = NULL;
	pthread_t tid[THREADS];
	struct worker w[THREADS];
	int running = -1, peak = -1;

	(void)state;
	assert_int_equal(anfu_pwhash_new(OPS, MEM_KIB, 2, &h), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .h = h };
		assert_int_equal(pthread_create(&tid[i], NULL, hash_worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	anfu_pwhash_stats(h, &running, &peak);
	assert_int_equal(running, 0);
	assert_in_range(peak, 1, 2);
	anfu_pwhash_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pwhash_hash_then_verify),
		cmocka_unit_test(test_pwhash_null_encoded_uses_dummy_and_fails),
		cmocka_unit_test(test_pwhash_overlong_password),
		cmocka_unit_test(test_pwhash_uses_the_configured_parameters),
		cmocka_unit_test(test_pwhash_bad_arguments),
		cmocka_unit_test(test_pwhash_concurrency_capped),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
