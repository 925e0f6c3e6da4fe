/*
 * iam/pinmac: the stored form of a payment PIN, verified as a bank HSM
 * verifies PINs (docs/security.md "Payment PIN"; IAM-PWD-14, IAM-LOCK-03).
 *
 * A record is
 *   "$anfu-pin$v=1$k=<kid>$<32 hex: salt>$<64 hex: MAC>"
 * where MAC = anfu_keys_pin_mac(kid, user id || '\0' || salt || PIN): a
 * keyed MAC (HMAC-SHA256, HMAC-SM3 under crypto=gm) under the PIN key that
 * src/keys holds and the record names, over a per-record random salt. In
 * a space of 10^6 PINs a slow hash protects nothing; the key, which is
 * never in the database, and the lockout do. Records made by the old code
 * ("$argon2id$...") still verify, through iam/pwhash, and are rewritten at
 * the next right entry (iam_pin_outdated). Thread-safe; PINs and MACs only
 * ever live in wiped buffers.
 */
#ifndef ANFU_IAM_PINMAC_H
#define ANFU_IAM_PINMAC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/limits.h"

struct anfu_keys;
struct anfu_pwhash;

#define IAM_PIN_RECORD_PREFIX "$anfu-pin$v=1$k="
#define IAM_PIN_SALT_LEN 16

/* A new record of pin (exactly ANFU_PIN_LEN digits) for user_id under the
 * current PIN key, with a fresh salt; out is written only on success.
 * ANFU_EINVAL for a PIN that is not six digits or missing arguments. */
int iam_pin_record(const struct anfu_keys *keys, const char *user_id, const char *pin, size_t len,
		   char out[ANFU_LIMIT_PIN_RECORD_BYTES]);

/* Checks pin against a stored record of user_id: 0 on a match, ANFU_EAUTH
 * on a mismatch (any PIN that is not six digits too). A MAC record naming a
 * key that src/keys does not hold is ANFU_ENOTFOUND, and a malformed one
 * ANFU_ECORRUPT: neither can ever match (fail closed). An Argon2id record
 * is checked by pwh (a PIN of the wrong length against the dummy hash, at
 * the same cost); anything else is ANFU_ECORRUPT. The comparison of MACs
 * takes the same time wherever they differ. */
int iam_pin_check(const struct anfu_keys *keys, struct anfu_pwhash *pwh, const char *user_id,
		  const char *stored, const char *pin, size_t len);

/* True when stored is not a MAC record under the current PIN key (an
 * Argon2id record, or one under an older key): the caller rewrites it with
 * iam_pin_record at the next right entry. */
bool iam_pin_outdated(const struct anfu_keys *keys, const char *stored);

/* True for a record made by the Argon2id code ("$argon2id$..."). */
bool iam_pin_is_argon2(const char *stored);

#endif
