/*
 * crypto/cert: the self-signed development TLS certificate (OpenSSL 3).
 *
 * Owns the X.509 profile of that certificate: ECDSA P-256 key, SHA-256
 * signature, a random positive 128-bit serial, subject = issuer = CN=<cn>,
 * SAN DNS:localhost, IP:127.0.0.1, IP:::1, basicConstraints CA:FALSE,
 * extendedKeyUsage serverAuth. No keyUsage extension: OpenSSL accepts a
 * self-signed certificate as its own trust anchor only when keyUsage is
 * absent or includes keyCertSign, and a client pins this certificate
 * directly (curl --cacert, requests verify=). Trusts its callers for cn.
 */
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "crypto/crypto.h"

#define SERIAL_BYTES 16
#define CN_MAX 64 /* X.520 ub-common-name */

/* Extensions, in the order they are added. */
static const struct {
	int nid;
	const char *value;
} cert_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1" },
	{ NID_subject_key_identifier, "hash" },
};

/* A random serial in [1, 2^128): RFC 5280 wants it positive and unique. */
static int set_serial(X509 *x)
{
	unsigned char raw[SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int r = ANFU_ECRYPTO;

	do {
		anfu_crypto_random(raw, sizeof(raw));
		BN_free(bn);
		bn = BN_bin2bn(raw, sizeof(raw), NULL);
	} while (bn && BN_is_zero(bn));
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		r = 0;
	BN_free(bn);
	return r;
}

static int set_names_and_time(X509 *x, const char *cn, int days)
{
	X509_NAME *name = X509_get_subject_name(x);
	time_t now = (time_t)(anfu_clock_now_ms() / 1000);

	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1)
		return ANFU_ECRYPTO;
	if (X509_set_issuer_name(x, name) != 1)
		return ANFU_ECRYPTO;
	/* An hour of slack so a client whose clock lags a little still
	 * accepts a certificate made a moment ago. */
	if (!ASN1_TIME_set(X509_getm_notBefore(x), now - 3600) ||
	    !ASN1_TIME_adj(X509_getm_notAfter(x), now, days, 0))
		return ANFU_ECRYPTO;
	return 0;
}

static int add_extensions(X509 *x)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(cert_exts) / sizeof(cert_exts[0]); i++) {
		X509_EXTENSION *ext =
			X509V3_EXT_nconf_nid(NULL, &ctx, cert_exts[i].nid, cert_exts[i].value);
		int ok = ext && X509_add_ext(x, ext, -1) == 1;

		X509_EXTENSION_free(ext);
		if (!ok)
			return ANFU_ECRYPTO;
	}
	return 0;
}

/* The content of a memory BIO as a malloc'd string (not NUL-terminated
 * in the BIO, so no str* function may read it). */
static char *bio_string(BIO *bio)
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

/* PEM of the certificate and, through a wiped-on-free BIO, of the key. */
static int to_pem(X509 *x, EVP_PKEY *key, char **ret_cert, char **ret_key)
{
	BIO *cb = BIO_new(BIO_s_mem());
	BIO *kb = BIO_new(BIO_s_secmem());
	int r = ANFU_ECRYPTO;

	if (!cb || !kb || PEM_write_bio_X509(cb, x) != 1 ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	*ret_cert = bio_string(cb);
	*ret_key = bio_string(kb);
	r = 0;
out:
	BIO_free(cb);
	BIO_free(kb);
	return r;
}

/* Makes the development certificate. cn: 1..64 bytes; days: 1..3650.
 * Both outputs are written only on success and owned by the caller (the
 * key with anfu_free_secret()). ANFU_EINVAL for bad arguments,
 * ANFU_ECRYPTO when OpenSSL fails. */
int anfu_crypto_selfsigned_cert(const char *cn, int days, char **ret_cert_pem, char **ret_key_pem)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *cert_pem = NULL, *key_pem = NULL;
	size_t cnlen;
	int r = ANFU_ECRYPTO;

	if (!cn || !ret_cert_pem || !ret_key_pem || days < 1 || days > ANFU_LIMIT_CERT_DAYS)
		return ANFU_EINVAL;
	cnlen = strnlen(cn, CN_MAX + 1);
	if (cnlen == 0 || cnlen > CN_MAX)
		return ANFU_EINVAL;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	x = X509_new();
	if (!key || !x || X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if (set_serial(x) < 0 || set_names_and_time(x, cn, days) < 0 ||
	    X509_set_pubkey(x, key) != 1 || add_extensions(x) < 0)
		goto out;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	if (to_pem(x, key, &cert_pem, &key_pem) < 0)
		goto out;
	*ret_cert_pem = cert_pem;
	*ret_key_pem = key_pem;
	cert_pem = key_pem = NULL;
	r = 0;
out:
	if (r < 0)
		ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}
