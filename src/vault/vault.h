/*
 * vault: personal data encrypted field by field (DATA-ENC-01..04).
 *
 * Owns the table vault_key: data-encryption keys wrapped by the master key
 * (src/keys/). A field value is encrypted with the active data key
 * (AES-256-GCM, SM4-GCM under crypto=gm) and bound to its place by the AAD
 * "<field>:<owner id>", so a ciphertext copied to another row or column
 * does not decrypt. Equality lookups use keyed blind indexes. The module
 * never sees key bytes: keys/ holds them behind struct anfu_datakey.
 * Thread-safe after anfu_vault_open(); the key cache is behind a mutex.
 */
#ifndef ANFU_VAULT_VAULT_H
#define ANFU_VAULT_VAULT_H

#include <stddef.h>

#include "crypto/crypto.h"

struct anfu_keys;
struct anfu_db;
struct anfu_tx_exec;

struct anfu_vault;

/* Opens the vault: loads (unwraps) every data key and makes sure an active
 * one exists, creating it in a transaction of its own (through tx, on the
 * executor's store). keys and tx are borrowed; keys must outlive the
 * vault. */
int anfu_vault_open(const struct anfu_keys *keys, struct anfu_tx_exec *tx, struct anfu_vault **ret);
void anfu_vault_free(struct anfu_vault *v);

/* Encrypts value (len bytes) for field of owner_id; *ret is malloc'd text
 * "v1.<dkid>.<base64>" for a TEXT column. */
int anfu_vault_seal(struct anfu_vault *v, const char *field, const char *owner_id,
		    const void *value, size_t len, char **ret);
/* Decrypts such text; *ret is malloc'd, NUL-terminated, freed by the
 * caller with anfu_free_secret(). A key not in the cache is loaded through
 * db (may be NULL: then ANFU_ENOTFOUND). ANFU_ECRYPTO when the text was
 * altered or belongs to another field or owner. */
int anfu_vault_open_field(struct anfu_vault *v, struct anfu_db *db, const char *field,
			  const char *owner_id, const char *ct, char **ret, size_t *ret_len);

/* Blind index of a normalised value for kind ("login", "phone", "email",
 * "idno"): lower-case hex of a keyed MAC, 64 characters + NUL. */
int anfu_vault_index(struct anfu_vault *v, const char *kind, const char *value, size_t len,
		     char out[2 * ANFU_HASH_LEN + 1]);

/* Keyed MAC for tokens the platform hands out and later recognises
 * (session ids, CSRF tokens, codes, captcha answers): hex, 64 + NUL. */
int anfu_vault_token_hash(struct anfu_vault *v, const char *purpose, const char *token, size_t len,
			  char out[2 * ANFU_HASH_LEN + 1]);

#endif
