/*
 * crypto/aead: AES-256-GCM (OpenSSL) and SM4-GCM (libgcrypt).
 *
 * Owns the AEAD calls. OpenSSL 3.0 has no SM4-GCM (it arrived in 3.2), so
 * SM4 goes through libgcrypt; both produce iv(12) || ct || tag(16) shaped
 * output and the same error behaviour. Callers own the keys and must never
 * reuse an IV under one key (the keys module draws them at random).
 * Trusts callers for key lengths (anfu_aead_key_len) and buffer sizes;
 * trusts nothing about ciphertexts: a bad tag leaves only zeros behind.
 */
#include <gcrypt.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define AES256_KEY_LEN 32
#define SM4_KEY_LEN 16

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes256gcm;

static void fetch_cipher(void)
{
	aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	ERR_clear_error();
}

const char *anfu_aead_name(enum anfu_aead_alg alg)
{
	switch (alg) {
	case ANFU_AEAD_AES256GCM: return "aes-256-gcm";
	case ANFU_AEAD_SM4GCM: return "sm4-gcm";
	}
	return "unknown";
}

/* Key length in bytes, or 0 for an unknown alg. */
size_t anfu_aead_key_len(enum anfu_aead_alg alg)
{
	switch (alg) {
	case ANFU_AEAD_AES256GCM: return AES256_KEY_LEN;
	case ANFU_AEAD_SM4GCM: return SM4_KEY_LEN;
	}
	return 0;
}

/* One AES-256-GCM pass. encrypt: in = pt, tag is written. decrypt: in = ct
 * body, tag is checked; returns ANFU_ECRYPTO on a mismatch. */
static int aes_gcm(bool encrypt, const uint8_t *key, const uint8_t *iv, const void *aad,
		   size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *x = NULL;
	uint8_t fin[ANFU_AEAD_TAG_LEN];
	int n = 0, r = ANFU_ECRYPTO;

	(void)pthread_once(&fetch_once, fetch_cipher);
	/* EVP counts in int; field values and wrapped keys are far smaller. */
	if (len > INT_MAX - 16 || aadlen > INT_MAX)
		return ANFU_EINVAL;
	if (!aes256gcm)
		return ANFU_ECRYPTO;
	x = EVP_CIPHER_CTX_new();
	if (!x || EVP_CipherInit_ex2(x, aes256gcm, key, iv, encrypt ? 1 : 0, NULL) != 1)
		goto out;
	if (aadlen && EVP_CipherUpdate(x, NULL, &n, aad, (int)aadlen) != 1)
		goto out;
	if (len && EVP_CipherUpdate(x, out, &n, in, (int)len) != 1)
		goto out;
	if (!encrypt && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, ANFU_AEAD_TAG_LEN, tag) != 1)
		goto out;
	/* GCM emits no bytes at Final; it only checks or computes the tag. */
	if (EVP_CipherFinal_ex(x, fin, &n) != 1)
		goto out;
	if (encrypt && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, ANFU_AEAD_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	EVP_CIPHER_CTX_free(x);
	return r;
}

/* One SM4-GCM pass, same shape as aes_gcm(). */
static int sm4_gcm(bool encrypt, const uint8_t *key, const uint8_t *iv, const void *aad,
		   size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	gcry_cipher_hd_t h = NULL;
	int r = ANFU_ECRYPTO;

	if (gcry_cipher_open(&h, GCRY_CIPHER_SM4, GCRY_CIPHER_MODE_GCM, 0) != 0)
		return ANFU_ECRYPTO;
	if (gcry_cipher_setkey(h, key, SM4_KEY_LEN) != 0 ||
	    gcry_cipher_setiv(h, iv, ANFU_AEAD_IV_LEN) != 0)
		goto out;
	if (aadlen && gcry_cipher_authenticate(h, aad, aadlen) != 0)
		goto out;
	/* One call carries all the data: mark it as the last one. */
	if (gcry_cipher_final(h) != 0)
		goto out;
	if (encrypt) {
		if (len && gcry_cipher_encrypt(h, out, len, in, len) != 0)
			goto out;
		if (gcry_cipher_gettag(h, tag, ANFU_AEAD_TAG_LEN) != 0)
			goto out;
	} else {
		if (len && gcry_cipher_decrypt(h, out, len, in, len) != 0)
			goto out;
		if (gcry_cipher_checktag(h, tag, ANFU_AEAD_TAG_LEN) != 0)
			goto out;
	}
	r = 0;
out:
	gcry_cipher_close(h);
	return r;
}

/* Encrypts pt into ct (ptlen bytes, then the 16-byte tag). key, iv, aad
 * and pt are borrowed. ANFU_EINVAL for an unknown alg or bad pointers,
 * ANFU_ECRYPTO when the library fails (ct is then wiped). */
int anfu_aead_seal(enum anfu_aead_alg alg, const uint8_t *key, const uint8_t iv[ANFU_AEAD_IV_LEN],
		   const void *aad, size_t aadlen, const void *pt, size_t ptlen, uint8_t *ct)
{
	int r;

	if (!key || !iv || (!aad && aadlen) || (!pt && ptlen) || !ct)
		return ANFU_EINVAL;
	switch (alg) {
	case ANFU_AEAD_AES256GCM:
		r = aes_gcm(true, key, iv, aad, aadlen, pt, ptlen, ct, ct + ptlen);
		break;
	case ANFU_AEAD_SM4GCM:
		r = sm4_gcm(true, key, iv, aad, aadlen, pt, ptlen, ct, ct + ptlen);
		break;
	default: return ANFU_EINVAL;
	}
	if (r == ANFU_ECRYPTO)
		anfu_wipe(ct, ptlen + ANFU_AEAD_TAG_LEN);
	return r;
}

/* Decrypts and authenticates ct (body then tag) into pt. On any failure
 * pt holds zeros, never unauthenticated plaintext. */
int anfu_aead_open(enum anfu_aead_alg alg, const uint8_t *key, const uint8_t iv[ANFU_AEAD_IV_LEN],
		   const void *aad, size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *pt)
{
	uint8_t tag[ANFU_AEAD_TAG_LEN];
	size_t len;
	int r;

	if (!key || !iv || (!aad && aadlen) || !ct || ctlen < ANFU_AEAD_TAG_LEN)
		return ANFU_EINVAL;
	len = ctlen - ANFU_AEAD_TAG_LEN;
	if (!pt && len)
		return ANFU_EINVAL;
	memcpy(tag, ct + len, sizeof(tag));
	switch (alg) {
	case ANFU_AEAD_AES256GCM: r = aes_gcm(false, key, iv, aad, aadlen, ct, len, pt, tag); break;
	case ANFU_AEAD_SM4GCM: r = sm4_gcm(false, key, iv, aad, aadlen, ct, len, pt, tag); break;
	default: return ANFU_EINVAL;
	}
	if (r == ANFU_ECRYPTO && pt)
		anfu_wipe(pt, len);
	return r;
}
