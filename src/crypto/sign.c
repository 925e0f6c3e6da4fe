/*
 * crypto/sign: Ed25519 and SM2 signing keys and signatures (OpenSSL 3).
 *
 * Owns struct anfu_sigkey, which holds the only copy of a private key as
 * an EVP_PKEY (OpenSSL wipes it on free). SM2 signs SM3(Z || msg) with the
 * default distinguishing id "1234567812345678" (GB/T 32918, GM/T 0009), so
 * verifiers outside anfu get the same answer. PEM input is untrusted: only
 * a PKCS#8 "PRIVATE KEY" or SPKI "PUBLIC KEY" block of one of the two
 * algorithms is accepted; encrypted and legacy formats are refused.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define SM2_DEFAULT_ID "1234567812345678"
#define PEM_PRIVATE_BEGIN "-----BEGIN PRIVATE KEY-----"
#define PEM_PUBLIC_BEGIN "-----BEGIN PUBLIC KEY-----"

struct anfu_sigkey {
	EVP_PKEY *pkey;
	enum anfu_sig_alg alg;
	bool has_private;
};

const char *anfu_sig_name(enum anfu_sig_alg alg)
{
	switch (alg) {
	case ANFU_SIG_ED25519: return "ed25519";
	case ANFU_SIG_SM2: return "sm2";
	}
	return "unknown";
}

/* Maps "ed25519" / "sm2" to the enum; ANFU_EINVAL otherwise (*ret kept). */
int anfu_sig_from_name(const char *name, enum anfu_sig_alg *ret)
{
	if (!name || !ret)
		return ANFU_EINVAL;
	if (strcmp(name, "ed25519") == 0) {
		*ret = ANFU_SIG_ED25519;
		return 0;
	}
	if (strcmp(name, "sm2") == 0) {
		*ret = ANFU_SIG_SM2;
		return 0;
	}
	return ANFU_EINVAL;
}

/* The algorithm of pkey, or -1 when it is neither of ours. */
static int alg_of(EVP_PKEY *pkey)
{
	/* OpenSSL 3 types a key on the SM2 curve as "SM2", never as "EC". */
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return ANFU_SIG_ED25519;
	if (EVP_PKEY_is_a(pkey, "SM2"))
		return ANFU_SIG_SM2;
	return -1;
}

/* Takes ownership of pkey (freed on failure too). */
static int wrap_pkey(EVP_PKEY *pkey, bool has_private, struct anfu_sigkey **ret)
{
	struct anfu_sigkey *k;
	int alg = alg_of(pkey);

	if (alg < 0) {
		EVP_PKEY_free(pkey);
		return ANFU_EINVAL;
	}
	k = anfu_xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->alg = (enum anfu_sig_alg)alg;
	k->has_private = has_private;
	*ret = k;
	return 0;
}

/* Makes a fresh key pair; *ret is owned by the caller (anfu_sigkey_free).
 * ANFU_EINVAL for an unknown alg, ANFU_ECRYPTO when generation fails. */
int anfu_sigkey_generate(enum anfu_sig_alg alg, struct anfu_sigkey **ret)
{
	EVP_PKEY *pkey = NULL;

	if (!ret)
		return ANFU_EINVAL;
	switch (alg) {
	case ANFU_SIG_ED25519: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
	case ANFU_SIG_SM2: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2"); break;
	default: return ANFU_EINVAL;
	}
	if (!pkey) {
		ERR_clear_error();
		return ANFU_ECRYPTO;
	}
	return wrap_pkey(pkey, true, ret);
}

/* Offset of the first line that starts with "-----BEGIN", or len. */
static size_t pem_start(const char *pem, size_t len)
{
	static const char tag[] = "-----BEGIN";
	size_t i = 0;

	while (i < len) {
		if (len - i >= sizeof(tag) - 1 && memcmp(pem + i, tag, sizeof(tag) - 1) == 0)
			return i;
		while (i < len && pem[i] != '\n')
			i++;
		i++;
	}
	return len;
}

static bool starts_with(const char *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(p, prefix, n) == 0;
}

/* Parses pem (len bytes, not necessarily NUL-terminated; borrowed). Text
 * before the first "-----BEGIN" line is ignored. *ret is owned by the
 * caller. ANFU_EINVAL for anything but an unencrypted PKCS#8 private key or
 * an SPKI public key of Ed25519 or SM2. */
int anfu_sigkey_from_pem(const char *pem, size_t len, struct anfu_sigkey **ret)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	size_t off;
	bool priv;

	if (!pem || !ret || len > ANFU_LIMIT_PEM_BYTES)
		return ANFU_EINVAL;
	off = pem_start(pem, len);
	if (starts_with(pem + off, len - off, PEM_PRIVATE_BEGIN))
		priv = true;
	else if (starts_with(pem + off, len - off, PEM_PUBLIC_BEGIN))
		priv = false;
	else
		return ANFU_EINVAL;
	bio = BIO_new_mem_buf(pem + off, (int)(len - off));
	if (!bio) {
		ERR_clear_error();
		return ANFU_ECRYPTO;
	}
	/* No password callback: an encrypted key can never prompt. */
	if (priv)
		pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, NULL, (void *)"", NULL, NULL);
	else
		pkey = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey) {
		ERR_clear_error();
		return ANFU_EINVAL;
	}
	return wrap_pkey(pkey, priv, ret);
}

void anfu_sigkey_free(struct anfu_sigkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum anfu_sig_alg anfu_sigkey_alg(const struct anfu_sigkey *k)
{
	return k->alg;
}

bool anfu_sigkey_has_private(const struct anfu_sigkey *k)
{
	return k && k->has_private;
}

/* Copies a memory BIO's content into a malloc'd NUL-terminated string. */
static char *bio_to_string(BIO *bio)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	char *s;

	if (n < 0)
		n = 0;
	s = anfu_xmalloc((size_t)n + 1);
	if (n)
		memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

/* PKCS#8 PEM of the private key; *ret is released with anfu_free_secret().
 * ANFU_EINVAL for a public-only key, ANFU_ECRYPTO from OpenSSL. */
int anfu_sigkey_private_pem(const struct anfu_sigkey *k, char **ret)
{
	BIO *bio = NULL;
	int r = ANFU_ECRYPTO;

	if (!k || !ret || !k->has_private)
		return ANFU_EINVAL;
	/* A secure-heap BIO where available; either way OpenSSL clears the
	 * buffer when the BIO is freed. */
	bio = BIO_new(BIO_s_secmem());
	if (!bio || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	*ret = bio_to_string(bio);
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	BIO_free(bio);
	return r;
}

/* SPKI PEM of the public key; *ret is malloc'd (plain free()). */
int anfu_sigkey_public_pem(const struct anfu_sigkey *k, char **ret)
{
	BIO *bio = NULL;
	int r = ANFU_ECRYPTO;

	if (!k || !ret)
		return ANFU_EINVAL;
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, k->pkey) != 1)
		goto out;
	*ret = bio_to_string(bio);
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	BIO_free(bio);
	return r;
}

/* SHA-256 of the DER SubjectPublicKeyInfo (always SHA-256, whatever the
 * profile, so key ids are stable). out is written only on success. */
int anfu_sigkey_fingerprint(const struct anfu_sigkey *k, uint8_t out[ANFU_HASH_LEN])
{
	unsigned char *der = NULL;
	int n, r;

	if (!k || !out)
		return ANFU_EINVAL;
	n = i2d_PUBKEY(k->pkey, &der);
	if (n <= 0) {
		ERR_clear_error();
		return ANFU_ECRYPTO;
	}
	r = anfu_hash(ANFU_HASH_SHA256, der, (size_t)n, out);
	OPENSSL_free(der);
	return r;
}

/* Prepares mctx for signing or verifying with k's algorithm. */
static int digest_init(EVP_MD_CTX *mctx, const struct anfu_sigkey *k, bool sign)
{
	const char *mdname = k->alg == ANFU_SIG_SM2 ? "SM3" : NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (sign)
		ok = EVP_DigestSignInit_ex(mctx, &pctx, mdname, NULL, NULL, k->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(mctx, &pctx, mdname, NULL, NULL, k->pkey, NULL);
	if (ok != 1)
		return ANFU_ECRYPTO;
	/* pctx belongs to mctx. */
	if (k->alg == ANFU_SIG_SM2 &&
	    EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, sizeof(SM2_DEFAULT_ID) - 1) != 1)
		return ANFU_ECRYPTO;
	return 0;
}

/* Signs msg with a private key; sig and *siglen are written only on
 * success. ANFU_EINVAL for a public-only key or a capacity below
 * ANFU_SIG_MAX, ANFU_ECRYPTO from OpenSSL. */
int anfu_sign(const struct anfu_sigkey *k, const void *msg, size_t len, uint8_t *sig,
	      size_t *siglen)
{
	static const unsigned char empty;
	uint8_t tmp[ANFU_SIG_MAX];
	size_t n = sizeof(tmp);
	EVP_MD_CTX *mctx = NULL;
	int r = ANFU_ECRYPTO;

	if (!k || !k->has_private || (!msg && len) || !sig || !siglen || *siglen < ANFU_SIG_MAX)
		return ANFU_EINVAL;
	mctx = EVP_MD_CTX_new();
	if (!mctx || digest_init(mctx, k, true) < 0)
		goto out;
	if (EVP_DigestSign(mctx, tmp, &n, len ? msg : &empty, len) != 1)
		goto out;
	memcpy(sig, tmp, n);
	*siglen = n;
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return r;
}

/* 0 for a valid signature of msg under k, ANFU_ECRYPTO for any other
 * outcome (bad signature, malformed DER, library failure). */
int anfu_verify(const struct anfu_sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		size_t siglen)
{
	static const unsigned char empty;
	EVP_MD_CTX *mctx = NULL;
	int r = ANFU_ECRYPTO;

	if (!k || (!msg && len) || !sig)
		return ANFU_EINVAL;
	if (siglen == 0 || siglen > ANFU_SIG_MAX)
		return ANFU_ECRYPTO;
	mctx = EVP_MD_CTX_new();
	if (!mctx || digest_init(mctx, k, false) < 0)
		goto out;
	if (EVP_DigestVerify(mctx, sig, siglen, len ? msg : &empty, len) != 1)
		goto out;
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return r;
}
