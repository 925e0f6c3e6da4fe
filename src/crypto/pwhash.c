/*
 * crypto/pwhash: Argon2id password hashing (libsodium).
 *
 * Owns the encoded "$argon2id$v=19$m=...,t=...,p=1$salt$hash" strings: a
 * random 16-byte salt, 32-byte hash, parameters carried in the string so
 * they can be raised later (anfu_pwhash_needs_rehash). Passwords are
 * borrowed and never copied. Trusts nothing about stored hashes. Each call
 * holds memlimit bytes for its duration: callers bound the concurrency.
 */
#include <sodium.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define ARGON2ID_PREFIX "$argon2id$"

_Static_assert(ANFU_PWHASH_STR_LEN == crypto_pwhash_STRBYTES,
	       "the header's buffer size must match libsodium's");

static bool params_ok(const struct anfu_pwhash_params *p)
{
	return p && p->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       p->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
	       p->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	       p->memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

/* A NUL-terminated string shorter than the buffer, naming argon2id. */
static bool encoded_shape_ok(const char *encoded)
{
	return encoded && strnlen(encoded, ANFU_PWHASH_STR_LEN) < ANFU_PWHASH_STR_LEN &&
	       strncmp(encoded, ARGON2ID_PREFIX, sizeof(ARGON2ID_PREFIX) - 1) == 0;
}

/* Hashes pw (len bytes, borrowed) with a fresh salt. out is written only on
 * success. ANFU_EINVAL for parameters outside libsodium's bounds,
 * ANFU_ECRYPTO when hashing fails (in practice: memlimit not available). */
int anfu_pwhash(const struct anfu_pwhash_params *p, const char *pw, size_t len,
		char out[ANFU_PWHASH_STR_LEN])
{
	char tmp[ANFU_PWHASH_STR_LEN];

	if (!params_ok(p) || (!pw && len) || !out || len > crypto_pwhash_PASSWD_MAX)
		return ANFU_EINVAL;
	if (crypto_pwhash_str_alg(tmp, len ? pw : "", len, p->opslimit, p->memlimit,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ANFU_ECRYPTO;
	memcpy(out, tmp, sizeof(tmp));
	return 0;
}

/* Checks pw against an encoded hash in time independent of where they
 * differ. 0 on a match, ANFU_EAUTH on a mismatch, ANFU_EINVAL for a string
 * that is not a well-formed argon2id hash. */
int anfu_pwhash_verify(const char *encoded, const char *pw, size_t len)
{
	if (!encoded_shape_ok(encoded) || (!pw && len))
		return ANFU_EINVAL;
	/* libsodium answers -1 for both "wrong" and "malformed"; its rehash
	 * check decodes the string and tells the two apart. */
	if (crypto_pwhash_argon2id_str_needs_rehash(encoded, crypto_pwhash_argon2id_OPSLIMIT_MIN,
						    crypto_pwhash_argon2id_MEMLIMIT_MIN) < 0)
		return ANFU_EINVAL;
	if (crypto_pwhash_str_verify(encoded, len ? pw : "", len) != 0)
		return ANFU_EAUTH;
	return 0;
}

/* True when encoded was not made with exactly p (or is not an argon2id
 * hash at all), i.e. when the next successful login should rehash. */
bool anfu_pwhash_needs_rehash(const char *encoded, const struct anfu_pwhash_params *p)
{
	if (!encoded_shape_ok(encoded) || !params_ok(p))
		return true;
	return crypto_pwhash_argon2id_str_needs_rehash(encoded, p->opslimit, p->memlimit) != 0;
}
