/*
 * iam/pwhash: Argon2id password hashing with a cap on hashes in flight.
 *
 * Each hash holds argon2.memlimit_kib of memory for ~50 ms, so an
 * unbounded number in parallel is a memory and CPU exhaustion attack: a
 * counting semaphore admits argon2.max_concurrent at a time (the rest wait,
 * bounded by the HTTP concurrency limit). A dummy hash, made once at start,
 * is verified for unknown login names so that their timing equals a wrong
 * password's (IAM-ANOM-02, WEB-ERR-02). Thread-safe.
 */
#ifndef ANFU_IAM_PWHASH_H
#define ANFU_IAM_PWHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

struct anfu_pwhash;

/* opslimit passes, memlimit_kib KiB, at most max_concurrent at once. */
int anfu_pwhash_new(int64_t opslimit, int64_t memlimit_kib, int64_t max_concurrent,
		    struct anfu_pwhash **ret);
void anfu_pwhash_free(struct anfu_pwhash *h);

/* Hashes pw into an encoded Argon2id string. */
int anfu_pwhash_hash(struct anfu_pwhash *h, const char *pw, size_t len,
		     char out[ANFU_PWHASH_STR_LEN]);
/* 0 on a match, ANFU_EAUTH on a mismatch. encoded NULL verifies against the
 * dummy hash and always returns ANFU_EAUTH (same cost as a real check).
 * (Named _check: crypto/crypto.h already has anfu_pwhash_verify.) */
int anfu_pwhash_check(struct anfu_pwhash *h, const char *encoded, const char *pw, size_t len);
/* True when encoded was made with other parameters than h's (an argon2.*
 * change since): the caller rehashes on the next right password. */
bool anfu_pwhash_outdated(const struct anfu_pwhash *h, const char *encoded);
/* Hashes currently running and the most ever seen running at once. */
void anfu_pwhash_stats(struct anfu_pwhash *h, int *ret_running, int *ret_peak);
/* Hashes and verifications computed so far (dummy ones included): lets a
 * test prove two paths cost the same number of Argon2 runs without timing
 * them. */
uint64_t anfu_pwhash_total(struct anfu_pwhash *h);

#endif
