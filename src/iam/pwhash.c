/*
 * iam/pwhash: Argon2id password hashing with a cap on hashes in flight
 * (IAM-PWD-09, IAM-ANOM-02, WEB-ERR-02).
 *
 * Owns the counting semaphore (a mutex and a condition variable around a
 * running count) that admits at most max_concurrent Argon2id computations
 * at once, the running/peak statistics, and the dummy hash of a random
 * password made at creation and verified for unknown users. The hashing
 * itself is crypto/crypto.h's (libsodium). Trusts nothing about passwords
 * or stored hashes (crypto/pwhash checks their shape). Thread-safe;
 * anfu_crypto_init() must have run before anfu_pwhash_new().
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/pwhash.h"
#include "iam/pwpolicy.h"

#define DUMMY_PW_LEN 32

struct anfu_pwhash {
	struct anfu_pwhash_params params;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int max;	/* admitted at once */
	int running;	/* under mu */
	int peak;	/* under mu */
	uint64_t total; /* hashes computed, under mu */
	char dummy[ANFU_PWHASH_STR_LEN];
};

/* Waits for a slot; the running count never exceeds h->max. */
static void slot_acquire(struct anfu_pwhash *h)
{
	(void)pthread_mutex_lock(&h->mu);
	while (h->running >= h->max)
		(void)pthread_cond_wait(&h->cv, &h->mu);
	h->total++;
	h->running++;
	if (h->running > h->peak)
		h->peak = h->running;
	(void)pthread_mutex_unlock(&h->mu);
}

static void slot_release(struct anfu_pwhash *h)
{
	(void)pthread_mutex_lock(&h->mu);
	h->running--;
	(void)pthread_cond_signal(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
}

/* Hashes a fresh random password into h->dummy (not counted as a slot:
 * nothing else can use h yet). */
static int make_dummy(struct anfu_pwhash *h)
{
	char pw[DUMMY_PW_LEN];
	int r;

	anfu_rand_bytes(pw, sizeof(pw));
	r = anfu_pwhash(&h->params, pw, sizeof(pw), h->dummy);
	anfu_wipe(pw, sizeof(pw));
	return r;
}

/* Creates a hasher for opslimit Argon2id passes over memlimit_kib KiB,
 * admitting at most max_concurrent hashes at once (1..4096), and makes the
 * dummy hash (one full hash: this call takes as long as a login). Returns
 * ANFU_EINVAL for parameters out of range (including libsodium's bounds),
 * ANFU_ECRYPTO when the dummy hash fails, ANFU_EINTERNAL when the
 * synchronisation objects cannot be made. *ret is owned by the caller
 * (anfu_pwhash_free) and written only on success. */
int anfu_pwhash_new(int64_t opslimit, int64_t memlimit_kib, int64_t max_concurrent,
		    struct anfu_pwhash **ret)
{
	struct anfu_pwhash *h = NULL;
	bool mu_ok = false, cv_ok = false;
	uint64_t mem;
	int r = ANFU_EINVAL;

	if (!ret || opslimit < 1 || memlimit_kib < 1 || max_concurrent < 1 ||
	    max_concurrent > ANFU_LIMIT_IAM_PWHASH_CONCURRENT ||
	    __builtin_mul_overflow((uint64_t)memlimit_kib, 1024u, &mem) || mem > SIZE_MAX)
		goto out;
	h = anfu_xcalloc(1, sizeof(*h));
	h->params.opslimit = (uint64_t)opslimit;
	h->params.memlimit = (size_t)mem;
	h->max = (int)max_concurrent;
	r = ANFU_EINTERNAL;
	mu_ok = pthread_mutex_init(&h->mu, NULL) == 0;
	cv_ok = mu_ok && pthread_cond_init(&h->cv, NULL) == 0;
	if (!cv_ok)
		goto out;
	r = make_dummy(h);
	if (r < 0)
		goto out;
	*ret = h;
	h = NULL;
	r = 0;
out:
	if (h) {
		if (cv_ok)
			(void)pthread_cond_destroy(&h->cv);
		if (mu_ok)
			(void)pthread_mutex_destroy(&h->mu);
		free(h);
	}
	return r;
}

/* Frees h (NULL accepted). No hash may be running on it. */
void anfu_pwhash_free(struct anfu_pwhash *h)
{
	if (!h)
		return;
	(void)pthread_cond_destroy(&h->cv);
	(void)pthread_mutex_destroy(&h->mu);
	anfu_wipe(h, sizeof(*h));
	free(h);
}

/* Hashes pw (len bytes, borrowed; at most ANFU_PASSWORD_MAX) into out,
 * written only on success, waiting for a slot when max_concurrent hashes
 * are running. Returns ANFU_EINVAL for a bad argument, ANFU_ECRYPTO when
 * hashing fails. Thread-safe. */
int anfu_pwhash_hash(struct anfu_pwhash *h, const char *pw, size_t len,
		     char out[ANFU_PWHASH_STR_LEN])
{
	int r;

	if (!h || !out || (!pw && len) || len > ANFU_PASSWORD_MAX)
		return ANFU_EINVAL;
	slot_acquire(h);
	r = anfu_pwhash(&h->params, pw, len, out);
	slot_release(h);
	return r;
}

/* Verifies pw (len bytes, borrowed) against encoded, waiting for a slot
 * like anfu_pwhash_hash. Returns 0 on a match, ANFU_EAUTH on a mismatch.
 * encoded NULL checks against the dummy hash and returns ANFU_EAUTH; so
 * does a password longer than ANFU_PASSWORD_MAX (which no stored hash can
 * match), after the same work. ANFU_EINVAL for a malformed encoded string
 * or a bad argument. Thread-safe. */
int anfu_pwhash_check(struct anfu_pwhash *h, const char *encoded, const char *pw, size_t len)
{
	bool unknown = !encoded || len > ANFU_PASSWORD_MAX;
	int r;

	if (!h || (!pw && len))
		return ANFU_EINVAL;
	if (len > ANFU_PASSWORD_MAX)
		len = ANFU_PASSWORD_MAX;
	slot_acquire(h);
	r = anfu_pwhash_verify(unknown ? h->dummy : encoded, pw, len);
	slot_release(h);
	if (unknown && r == 0)
		r = ANFU_EAUTH;
	return r;
}

uint64_t anfu_pwhash_total(struct anfu_pwhash *h)
{
	uint64_t n;

	if (!h)
		return 0;
	(void)pthread_mutex_lock(&h->mu);
	n = h->total;
	(void)pthread_mutex_unlock(&h->mu);
	return n;
}

/* Writes the number of hashes running now and the most ever seen running
 * at once (either pointer may be NULL). Thread-safe. */
void anfu_pwhash_stats(struct anfu_pwhash *h, int *ret_running, int *ret_peak)
{
	int running, peak;

	if (!h)
		return;
	(void)pthread_mutex_lock(&h->mu);
	running = h->running;
	peak = h->peak;
	(void)pthread_mutex_unlock(&h->mu);
	if (ret_running)
		*ret_running = running;
	if (ret_peak)
		*ret_peak = peak;
}

bool anfu_pwhash_outdated(const struct anfu_pwhash *h, const char *encoded)
{
	return h && encoded && anfu_pwhash_needs_rehash(encoded, &h->params);
}
