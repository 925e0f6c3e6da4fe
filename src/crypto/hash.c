/*
 * crypto/hash: SHA-256 and SM3 digests, HMAC and HKDF (OpenSSL 3).
 *
 * Owns the fetched EVP_MD / EVP_MAC / EVP_KDF objects, fetched once and
 * shared read-only by every thread afterwards (fetching per call costs a
 * lock and a property-query lookup each time). Trusts OpenSSL's default
 * provider; trusts callers for buffer lengths, nothing about the bytes.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "crypto/crypto.h"

/* RFC 5869: at most 255 blocks of the hash output. */
#define HKDF_OUT_MAX (255 * ANFU_HASH_LEN)

struct anfu_hash_ctx {
	EVP_MD_CTX *md;
};

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MD *md_sm3;
static EVP_MAC *mac_hmac;
static EVP_KDF *kdf_hkdf;

static void fetch_all(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
	mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	ERR_clear_error();
}

/* The OpenSSL digest name for alg, or NULL for an unknown value. */
static const char *ossl_name(enum anfu_hash_alg alg)
{
	switch (alg) {
	case ANFU_HASH_SHA256: return "SHA256";
	case ANFU_HASH_SM3: return "SM3";
	}
	return NULL;
}

static void ensure_fetched(void)
{
	(void)pthread_once(&fetch_once, fetch_all);
}

static const EVP_MD *md_for(enum anfu_hash_alg alg)
{
	ensure_fetched();
	switch (alg) {
	case ANFU_HASH_SHA256: return md_sha256;
	case ANFU_HASH_SM3: return md_sm3;
	}
	return NULL;
}

const char *anfu_hash_name(enum anfu_hash_alg alg)
{
	switch (alg) {
	case ANFU_HASH_SHA256: return "sha256";
	case ANFU_HASH_SM3: return "sm3";
	}
	return "unknown";
}

/* Maps "sha256" / "sm3" (exact, lower case) to the enum; ANFU_EINVAL for
 * anything else, leaving *ret untouched. */
int anfu_hash_from_name(const char *name, enum anfu_hash_alg *ret)
{
	if (!name || !ret)
		return ANFU_EINVAL;
	if (strcmp(name, "sha256") == 0) {
		*ret = ANFU_HASH_SHA256;
		return 0;
	}
	if (strcmp(name, "sm3") == 0) {
		*ret = ANFU_HASH_SM3;
		return 0;
	}
	return ANFU_EINVAL;
}

/* One-shot digest of len bytes; out is written only on success.
 * Returns ANFU_EINVAL for an unknown alg, ANFU_ECRYPTO when OpenSSL fails. */
int anfu_hash(enum anfu_hash_alg alg, const void *data, size_t len, uint8_t out[ANFU_HASH_LEN])
{
	struct anfu_hash_ctx *c = NULL;
	int r;

	r = anfu_hash_begin(alg, &c);
	if (r < 0)
		return r;
	r = anfu_hash_update(c, data, len);
	if (r < 0) {
		anfu_hash_ctx_free(c);
		return r;
	}
	return anfu_hash_final(c, out);
}

/* Starts an incremental digest; *ret is owned by the caller (see header). */
int anfu_hash_begin(enum anfu_hash_alg alg, struct anfu_hash_ctx **ret)
{
	const EVP_MD *md = md_for(alg);
	struct anfu_hash_ctx *c = NULL;
	int r = ANFU_ECRYPTO;

	if (!ret)
		return ANFU_EINVAL;
	if (!ossl_name(alg))
		return ANFU_EINVAL;
	if (!md)
		return ANFU_ECRYPTO;
	c = anfu_xcalloc(1, sizeof(*c));
	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex2(c->md, md, NULL) != 1)
		goto out;
	*ret = c;
	c = NULL;
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	anfu_hash_ctx_free(c);
	return r;
}

int anfu_hash_update(struct anfu_hash_ctx *c, const void *data, size_t len)
{
	if (!c || (!data && len))
		return ANFU_EINVAL;
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(c->md, data, len) != 1) {
		ERR_clear_error();
		return ANFU_ECRYPTO;
	}
	return 0;
}

/* Writes the digest to out (only on success) and frees c in every case. */
int anfu_hash_final(struct anfu_hash_ctx *c, uint8_t out[ANFU_HASH_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r = ANFU_ECRYPTO;

	if (!c || !out) {
		r = ANFU_EINVAL;
		goto out;
	}
	if (EVP_DigestFinal_ex(c->md, md, &mdlen) != 1 || mdlen != ANFU_HASH_LEN) {
		ERR_clear_error();
		goto out;
	}
	memcpy(out, md, ANFU_HASH_LEN);
	r = 0;
out:
	anfu_wipe(md, sizeof(md));
	anfu_hash_ctx_free(c);
	return r;
}

void anfu_hash_ctx_free(struct anfu_hash_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

/* HMAC over data; an empty key is allowed (RFC 2104). out is written only
 * on success. ANFU_EINVAL for bad arguments, ANFU_ECRYPTO from OpenSSL. */
int anfu_hmac(enum anfu_hash_alg alg, const void *key, size_t keylen, const void *data, size_t len,
	      uint8_t out[ANFU_HASH_LEN])
{
	static const unsigned char empty;
	const char *name = ossl_name(alg);
	EVP_MAC_CTX *mc = NULL;
	uint8_t mac[ANFU_HASH_LEN];
	size_t maclen = 0;
	OSSL_PARAM params[2];
	int r = ANFU_ECRYPTO;

	if (!name || (!key && keylen) || (!data && len) || !out)
		return ANFU_EINVAL;
	ensure_fetched();
	if (!mac_hmac)
		return ANFU_ECRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
	params[1] = OSSL_PARAM_construct_end();
	mc = EVP_MAC_CTX_new(mac_hmac);
	/* A NULL key would mean "keep the previous key": pass a real pointer. */
	if (!mc || EVP_MAC_init(mc, keylen ? key : &empty, keylen, params) != 1)
		goto out;
	if (len && EVP_MAC_update(mc, data, len) != 1)
		goto out;
	if (EVP_MAC_final(mc, mac, &maclen, sizeof(mac)) != 1 || maclen != sizeof(mac))
		goto out;
	memcpy(out, mac, sizeof(mac));
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	anfu_wipe(mac, sizeof(mac));
	EVP_MAC_CTX_free(mc);
	return r;
}

/* HKDF extract-and-expand (RFC 5869). ikm must not be empty; salt and info
 * may be; 1 <= outlen <= 255 * 32. out is written only on success. */
int anfu_hkdf(enum anfu_hash_alg alg, const void *ikm, size_t ikmlen, const void *salt,
	      size_t saltlen, const void *info, size_t infolen, void *out, size_t outlen)
{
	const char *name = ossl_name(alg);
	EVP_KDF_CTX *kc = NULL;
	uint8_t *tmp = NULL;
	OSSL_PARAM params[5];
	size_t n = 0;
	int r = ANFU_ECRYPTO;

	if (!name || !ikm || ikmlen == 0 || (!salt && saltlen) || (!info && infolen) || !out ||
	    outlen == 0 || outlen > HKDF_OUT_MAX)
		return ANFU_EINVAL;
	ensure_fetched();
	if (!kdf_hkdf)
		return ANFU_ECRYPTO;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)name, 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	if (saltlen)
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
								saltlen);
	if (infolen)
		params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
								infolen);
	params[n] = OSSL_PARAM_construct_end();
	tmp = anfu_xmalloc(outlen);
	kc = EVP_KDF_CTX_new(kdf_hkdf);
	if (!kc || EVP_KDF_derive(kc, tmp, outlen, params) != 1)
		goto out;
	memcpy(out, tmp, outlen);
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	anfu_wipe(tmp, outlen);
	free(tmp);
	EVP_KDF_CTX_free(kc);
	return r;
}
