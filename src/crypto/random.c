/*
 * crypto/random: random bytes and constant-time comparison (libsodium).
 *
 * Trusts libsodium's CSPRNG (getrandom(2) underneath) and its
 * sodium_memcmp, whose running time depends only on the length.
 */
#include <sodium.h>

#include "crypto/crypto.h"

/* Fills buf with len bytes from the CSPRNG; never fails. Thread-safe. */
void anfu_crypto_random(void *buf, size_t len)
{
	if (len)
		randombytes_buf(buf, len);
}

/* True when a and b hold the same len bytes; the time taken does not
 * depend on where they differ. Both buffers are borrowed. */
bool anfu_crypto_equal(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return true;
	return sodium_memcmp(a, b, len) == 0;
}
