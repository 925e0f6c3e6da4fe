/*
 * keys: the key files of a data directory and every use of a private key.
 *
 * Owns DATA/keys/ (0700) and DATA/tls/: the audit signing key (Ed25519, or
 * SM2 under crypto=gm), the 256-bit data master key, and the development
 * TLS certificate. Each key file starts with a comment line
 *   "# anfu-key id=<kid> alg=<alg> created=<iso time>"
 * followed by the key (PEM, or base64 for the master key). Key bytes are
 * touched only here and in crypto/; callers get key ids, signatures and
 * opaque handles. This is the seam where a separate key-holding process
 * (keyd, DESIGN.md) will go: everything crosses it as a fixed call.
 * Loaded keys are read-only and safe to use from any thread.
 */
#ifndef ANFU_KEYS_KEYS_H
#define ANFU_KEYS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/profile.h"
#include "crypto/crypto.h"

#define ANFU_KID_MAX 64

struct anfu_buf;

/* What anfu_keys_init_dir() created; false fields already existed. */
struct anfu_keys_made {
	bool tls;
	bool audit;
	bool master;
	char tls_path[512];
	char audit_kid[ANFU_KID_MAX];
	char master_kid[ANFU_KID_MAX];
};

/* Creates DATA/keys (0700) and DATA/tls (0700) and every missing key
 * (files 0600) for the crypto profile. Never overwrites an existing file.
 * Returns ANFU_EIO on file errors, ANFU_ECRYPTO on key generation errors. */
int anfu_keys_init_dir(const char *datadir, enum anfu_crypto_profile cp,
		       struct anfu_keys_made *ret);

struct anfu_keys;

/* Loads the audit key and the master key of datadir. Refuses key files
 * readable by group or others (ANFU_EPERM) and keys whose algorithm does
 * not match the profile (ANFU_EINVAL). *ret is owned by the caller. */
int anfu_keys_load(const char *datadir, enum anfu_crypto_profile cp, struct anfu_keys **ret);
/* Wipes and frees; NULL-safe. */
void anfu_keys_free(struct anfu_keys *k);

/* ---- audit signing -------------------------------------------------- */

const char *anfu_keys_audit_kid(const struct anfu_keys *k);
enum anfu_sig_alg anfu_keys_audit_alg(const struct anfu_keys *k);
/* Signs msg with the audit key (*siglen: capacity in, length out). */
int anfu_keys_audit_sign(const struct anfu_keys *k, const void *msg, size_t len, uint8_t *sig,
			 size_t *siglen);

/* Loads only the public audit key of datadir (for verification without
 * the private key). *ret is owned by the caller; kid receives its id. */
int anfu_keys_load_audit_public(const char *datadir, struct anfu_sigkey **ret,
				char kid[ANFU_KID_MAX]);

/* The key id of a signing key: "<alg>-" + 16 hex of its SPKI SHA-256. */
int anfu_keys_kid_for(const struct anfu_sigkey *k, char kid[ANFU_KID_MAX]);

/* Appends every public key of datadir as commented PEM blocks:
 *   # anfu-key id=... alg=... use=audit
 *   -----BEGIN PUBLIC KEY----- ... */
int anfu_keys_export_public(const char *datadir, struct anfu_buf *out);

/* ---- TLS ------------------------------------------------------------ */

/* Reads a certificate and its private key for the HTTPS listener. Both are
 * malloc'd PEM strings; release the key with anfu_free_secret() after the
 * server stops. A key file readable by others is refused (ANFU_EPERM). */
int anfu_keys_tls_load(const char *cert_path, const char *key_path, char **ret_cert_pem,
		       char **ret_key_pem);

/* Default paths of the development certificate inside datadir. */
int anfu_keys_tls_default_paths(const char *datadir, char *cert, size_t certcap, char *key,
				size_t keycap);

/* ---- data master key: wrapping data keys, field encryption ---------- */

const char *anfu_keys_master_kid(const struct anfu_keys *k);

/* A data-encryption key, unwrapped in memory; opaque to callers. */
struct anfu_datakey;

/* Creates a random data key for the profile's AEAD and returns it wrapped
 * by the master key as text ("<master kid>.<base64>") for storage, plus the
 * unwrapped handle. Both outputs are owned by the caller. */
int anfu_keys_datakey_new(const struct anfu_keys *k, const char *dkid, struct anfu_datakey **ret,
			  char **ret_wrapped);
/* Unwraps a stored data key; ANFU_ECRYPTO if the wrapping does not verify. */
int anfu_keys_datakey_unwrap(const struct anfu_keys *k, const char *dkid, const char *wrapped,
			     struct anfu_datakey **ret);
void anfu_datakey_free(struct anfu_datakey *d);
const char *anfu_datakey_id(const struct anfu_datakey *d);

/* Encrypts a field value bound to aad (e.g. "user.phone:usr_..."); *ret is
 * malloc'd text "v1.<dkid>.<base64(iv|ct|tag)>". */
int anfu_datakey_encrypt(const struct anfu_datakey *d, const char *aad, const void *pt,
			 size_t ptlen, char **ret);
/* Decrypts such text; *ret is malloc'd, NUL-terminated, and must be freed
 * with anfu_free_secret(). ANFU_ECRYPTO on any mismatch. */
int anfu_datakey_decrypt(const struct anfu_datakey *d, const char *aad, const char *ct, char **ret,
			 size_t *ret_len);

/* Keyed blind index for equality lookups of encrypted fields: hex of
 * HMAC(K_purpose, value) where K_purpose is derived from the master key. */
int anfu_keys_blind_index(const struct anfu_keys *k, const char *purpose, const void *value,
			  size_t len, char out[2 * ANFU_HASH_LEN + 1]);

/* A keyed MAC under a key derived from the master key for `purpose` (e.g.
 * session-id hashing, captcha tokens). */
int anfu_keys_mac(const struct anfu_keys *k, const char *purpose, const void *msg, size_t len,
		  uint8_t out[ANFU_HASH_LEN]);

/* ---- payment PIN verification key ------------------------------------ */

/* The key that verifies payment PINs, in the role of a bank HSM's PIN
 * verification key (docs/security.md "Payment PIN"): K_pin is the MAC key
 * of purpose "payment_pin" under anfu_keys_mac's rule (HKDF of the master
 * key; HMAC-SHA256, or HMAC-SM3 under crypto=gm). It never leaves src/keys
 * and is never stored: records name it by its id, "pin-" + 16 hex of
 * HMAC(K_pin, "kid\0"), which tells nothing about the key. Today one PIN
 * key is held, the current one; a record naming any other id cannot be
 * verified (ANFU_ENOTFOUND), so a rotation keeps the old key held until
 * every record names the new one. */
#define ANFU_PIN_KID_LEN 20 /* "pin-" + 16 hex */

/* The id of the current PIN key (the one new records use) into kid.
 * ANFU_ECRYPTO from the library. */
int anfu_keys_pin_kid(const struct anfu_keys *k, char kid[ANFU_KID_MAX]);

/* HMAC(K, "mac\0" || msg) under the PIN key whose id is kid; out is
 * written only on success. ANFU_ENOTFOUND when no held key has that id,
 * ANFU_EINVAL for missing arguments, ANFU_ECRYPTO from the library. */
int anfu_keys_pin_mac(const struct anfu_keys *k, const char *kid, const void *msg, size_t len,
		      uint8_t out[ANFU_HASH_LEN]);

/* ---- named signing keys (keys/named.c; issue 10, bank) -------------- */

/* A private signing key of the data directory other than the audit key,
 * by name: DATA/keys/<name>.key and <name>.pub. Opaque. */
struct anfu_named_key;
/* Loads key name ([a-z0-9-], 1..32) of alg, creating the pair first when
 * <name>.key is missing (an existing file is never overwritten). *ret is
 * the caller's (anfu_keys_named_free). ANFU_EINVAL for a bad name or a key
 * of another algorithm; the key file errors of anfu_keys_load. */
int anfu_keys_named_open(const char *datadir, const char *name, enum anfu_sig_alg alg,
			 struct anfu_named_key **ret);
/* Wipes and frees; NULL-safe. */
void anfu_keys_named_free(struct anfu_named_key *k);
/* Its key id ("" for NULL). */
const char *anfu_keys_named_kid(const struct anfu_named_key *k);
/* Signs msg (*siglen: capacity in, length out, >= ANFU_SIG_MAX). */
int anfu_keys_named_sign(const struct anfu_named_key *k, const void *msg, size_t len, uint8_t *sig,
			 size_t *siglen);
/* A peer's public key from its "# anfu-key" .pub file; *ret the caller's. */
int anfu_keys_peer_load(const char *path, struct anfu_sigkey **ret);

#endif
