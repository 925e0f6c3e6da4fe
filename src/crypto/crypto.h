/*
 * crypto: the only module that includes OpenSSL, libsodium and libgcrypt.
 *
 * Thin, typed wrappers: hashes (SHA-256, SM3), HMAC, signatures (Ed25519,
 * SM2 with SM3 and the default distinguishing id), AEAD (AES-256-GCM via
 * OpenSSL, SM4-GCM via libgcrypt, absent from OpenSSL 3.0), Argon2id
 * password hashing (libsodium), random bytes, constant-time comparison,
 * hex/base64, and the self-signed development TLS certificate. It trusts
 * its callers for lengths; it trusts nothing about the bytes. Private key
 * material stays inside struct anfu_sigkey and the callers' wiped buffers.
 * All functions are thread-safe after anfu_crypto_init().
 */
#ifndef ANFU_CRYPTO_CRYPTO_H
#define ANFU_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Initialises libsodium and libgcrypt; call once before threads start.
 * Returns ANFU_ECRYPTO when a library refuses to initialise. */
int anfu_crypto_init(void);

/* ---- hashes and MACs ---------------------------------------------- */

enum anfu_hash_alg {
	ANFU_HASH_SHA256 = 0,
	ANFU_HASH_SM3 = 1,
};

#define ANFU_HASH_LEN 32

/* Name for configs and export headers: "sha256" / "sm3". */
const char *anfu_hash_name(enum anfu_hash_alg alg);
int anfu_hash_from_name(const char *name, enum anfu_hash_alg *ret);

int anfu_hash(enum anfu_hash_alg alg, const void *data, size_t len, uint8_t out[ANFU_HASH_LEN]);

/* Incremental hashing; the context is owned by the caller and freed by
 * anfu_hash_final() (always) or anfu_hash_ctx_free(). */
struct anfu_hash_ctx;
int anfu_hash_begin(enum anfu_hash_alg alg, struct anfu_hash_ctx **ret);
int anfu_hash_update(struct anfu_hash_ctx *c, const void *data, size_t len);
int anfu_hash_final(struct anfu_hash_ctx *c, uint8_t out[ANFU_HASH_LEN]);
void anfu_hash_ctx_free(struct anfu_hash_ctx *c);

/* HMAC with the given hash (HMAC-SHA256 / HMAC-SM3). */
int anfu_hmac(enum anfu_hash_alg alg, const void *key, size_t keylen, const void *data, size_t len,
	      uint8_t out[ANFU_HASH_LEN]);

/* HKDF (RFC 5869) with the given hash: derives outlen bytes. */
int anfu_hkdf(enum anfu_hash_alg alg, const void *ikm, size_t ikmlen, const void *salt,
	      size_t saltlen, const void *info, size_t infolen, void *out, size_t outlen);

/* ---- randomness, comparison, wiping, encodings --------------------- */

void anfu_crypto_random(void *buf, size_t len);
/* Constant-time equality of two equal-length buffers. */
bool anfu_crypto_equal(const void *a, const void *b, size_t len);
/* Lower-case hex; out must hold 2*len+1 bytes. */
void anfu_hex_encode(const void *in, size_t len, char *out);
/* Decodes exactly 2*outlen hex characters; ANFU_EINVAL otherwise. */
int anfu_hex_decode(const char *hex, size_t hexlen, void *out, size_t outlen);
/* Standard base64 with padding; returns a malloc'd NUL-terminated string. */
char *anfu_base64_encode(const void *in, size_t len);
/* Decodes standard base64 (padding required); *ret is malloc'd. */
int anfu_base64_decode(const char *b64, size_t len, uint8_t **ret, size_t *ret_len);

/* base32 (RFC 4648, upper case) of len bytes into out (cap bytes, NUL
 * included). ANFU_ELIMIT when out is too small. */
int anfu_base32_encode(const void *in, size_t len, char *out, size_t cap);
/* Decodes len characters of base32 into *ret (malloc'd; the caller wipes
 * and frees it), *ret_len bytes. ANFU_EINVAL for bad base32. */
int anfu_base32_decode(const char *b32, size_t len, char **ret, size_t *ret_len);
/* The HOTP code (RFC 4226, HMAC-SHA-1, dynamic truncation) of counter
 * under key: digits (6..8) decimal digits and a NUL into out. A TOTP code
 * (RFC 6238, T0 = 0) is the HOTP code of the time step. Thread-safe. */
int anfu_hotp(const void *key, size_t len, uint64_t counter, unsigned digits, char *out);

/* ---- signatures ---------------------------------------------------- */

enum anfu_sig_alg {
	ANFU_SIG_ED25519 = 0,
	ANFU_SIG_SM2 = 1, /* SM2 with SM3, id "1234567812345678" */
};

#define ANFU_SIG_MAX 128 /* Ed25519: 64; SM2 DER: <= 72 */

const char *anfu_sig_name(enum anfu_sig_alg alg); /* "ed25519" / "sm2" */
int anfu_sig_from_name(const char *name, enum anfu_sig_alg *ret);

/* A private or public signing key. */
struct anfu_sigkey;

int anfu_sigkey_generate(enum anfu_sig_alg alg, struct anfu_sigkey **ret);
/* Loads a PEM private key (PKCS#8) or public key (SPKI); text before the
 * first "-----BEGIN" line is ignored. */
int anfu_sigkey_from_pem(const char *pem, size_t len, struct anfu_sigkey **ret);
void anfu_sigkey_free(struct anfu_sigkey *k);
enum anfu_sig_alg anfu_sigkey_alg(const struct anfu_sigkey *k);
bool anfu_sigkey_has_private(const struct anfu_sigkey *k);
/* PEM encodings; *ret is malloc'd and NUL-terminated (the private one must
 * be released with anfu_free_secret()). */
int anfu_sigkey_private_pem(const struct anfu_sigkey *k, char **ret);
int anfu_sigkey_public_pem(const struct anfu_sigkey *k, char **ret);
/* SHA-256 of the DER SubjectPublicKeyInfo: the basis of key ids. */
int anfu_sigkey_fingerprint(const struct anfu_sigkey *k, uint8_t out[ANFU_HASH_LEN]);

/* Signs msg; *siglen is the capacity of sig on entry (>= ANFU_SIG_MAX) and
 * the signature length on return. */
int anfu_sign(const struct anfu_sigkey *k, const void *msg, size_t len, uint8_t *sig,
	      size_t *siglen);
/* Returns 0 for a good signature, ANFU_ECRYPTO otherwise. */
int anfu_verify(const struct anfu_sigkey *k, const void *msg, size_t len, const uint8_t *sig,
		size_t siglen);

/* ---- authenticated encryption --------------------------------------- */

enum anfu_aead_alg {
	ANFU_AEAD_AES256GCM = 0, /* 32-byte key */
	ANFU_AEAD_SM4GCM = 1,	 /* 16-byte key (libgcrypt) */
};

#define ANFU_AEAD_IV_LEN 12
#define ANFU_AEAD_TAG_LEN 16

const char *anfu_aead_name(enum anfu_aead_alg alg); /* "aes-256-gcm" / "sm4-gcm" */
size_t anfu_aead_key_len(enum anfu_aead_alg alg);

/* Encrypts ptlen bytes; ct must hold ptlen + ANFU_AEAD_TAG_LEN (tag last). */
int anfu_aead_seal(enum anfu_aead_alg alg, const uint8_t *key, const uint8_t iv[ANFU_AEAD_IV_LEN],
		   const void *aad, size_t aadlen, const void *pt, size_t ptlen, uint8_t *ct);
/* Decrypts ctlen (>= tag) bytes into pt (ctlen - tag bytes); returns
 * ANFU_ECRYPTO on a bad tag, leaving pt wiped. */
int anfu_aead_open(enum anfu_aead_alg alg, const uint8_t *key, const uint8_t iv[ANFU_AEAD_IV_LEN],
		   const void *aad, size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *pt);

/* ---- password hashing (Argon2id) ------------------------------------ */

#define ANFU_PWHASH_STR_LEN 128

struct anfu_pwhash_params {
	uint64_t opslimit; /* Argon2 t (passes) */
	size_t memlimit;   /* bytes */
};

/* Hashes a password into an encoded "$argon2id$..." string. */
int anfu_pwhash(const struct anfu_pwhash_params *p, const char *pw, size_t len,
		char out[ANFU_PWHASH_STR_LEN]);
/* 0 when pw matches the encoded hash, ANFU_EAUTH when not, ANFU_EINVAL
 * for a malformed hash. */
int anfu_pwhash_verify(const char *encoded, const char *pw, size_t len);
bool anfu_pwhash_needs_rehash(const char *encoded, const struct anfu_pwhash_params *p);

/* ---- TLS certificates ---------------------------------------------- */

/* Generates a self-signed ECDSA P-256 certificate for development with
 * CN=cn and SAN DNS:localhost, IP:127.0.0.1, IP:::1, valid `days` days.
 * Both outputs are malloc'd PEM strings (the key: anfu_free_secret()). */
int anfu_crypto_selfsigned_cert(const char *cn, int days, char **ret_cert_pem, char **ret_key_pem);

#endif
