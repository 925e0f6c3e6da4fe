/*
 * crypto/init: one-time start-up of the three crypto libraries.
 *
 * Owns the initialisation of libsodium and libgcrypt and the check that
 * OpenSSL's default provider offers every algorithm anfu needs (SM3 is the
 * one a trimmed build might lack). Trusts the installed libraries.
 */
#include <gcrypt.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/crypto.h"

/* libgcrypt gained SM4 in 1.9; GCM over SM4 works from there on. */
#define GCRYPT_MIN_VERSION "1.9.0"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = ANFU_EINTERNAL;

static int init_gcrypt(void)
{
	/* Someone else (a library we link) may have initialised it first. */
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return 0;
	if (!gcry_check_version(GCRYPT_MIN_VERSION))
		return ANFU_ECRYPTO;
	/* We hand libgcrypt only SM4 data keys, which live in our own wiped
	 * buffers; its secure-memory pool would add nothing but warnings. */
	if (gcry_control(GCRYCTL_DISABLE_SECMEM, 0) != 0)
		return ANFU_ECRYPTO;
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0) != 0)
		return ANFU_ECRYPTO;
	return 0;
}

static void init_all(void)
{
	uint8_t probe[ANFU_HASH_LEN];

	if (sodium_init() < 0) {
		init_result = ANFU_ECRYPTO;
		return;
	}
	if (init_gcrypt() < 0) {
		init_result = ANFU_ECRYPTO;
		return;
	}
	/* Fetches and caches the digests now, and fails early where OpenSSL
	 * was built without SM3. */
	if (anfu_hash(ANFU_HASH_SHA256, "", 0, probe) < 0 ||
	    anfu_hash(ANFU_HASH_SM3, "", 0, probe) < 0) {
		init_result = ANFU_ECRYPTO;
		return;
	}
	init_result = 0;
}

int anfu_crypto_init(void)
{
	(void)pthread_once(&init_once, init_all);
	return init_result;
}
