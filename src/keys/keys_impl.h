/*
 * keys/keys_impl: module-private definitions shared by the .c files of src/keys.
 *
 * Not part of the keys interface: nothing outside src/keys/ includes this.
 * Owns the layout of the data directory's key files, struct anfu_keys, and
 * the helpers that read and create key files. Trusts nothing read from
 * disk; trusts the callers of these helpers (the keys module) for paths.
 */
#ifndef ANFU_KEYS_KEYS_IMPL_H
#define ANFU_KEYS_KEYS_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/limits.h"
#include "base/profile.h"
#include "crypto/crypto.h"
#include "keys/keys.h"

/* Layout under the data directory. */
#define KEYS_DIR "keys"
#define KEYS_TLS_DIR "tls"
#define KEYS_AUDIT_KEY "audit-signing.key"
#define KEYS_AUDIT_PUB "audit-signing.pub"
#define KEYS_MASTER_KEY "master.key"
#define KEYS_TLS_CERT "server.crt"
#define KEYS_TLS_KEY "server.key"

/* The master key: 256 random bits, only ever used as HKDF input. */
#define KEYS_MASTER_LEN 32
#define KEYS_MASTER_ALG "raw-256"
#define KEYS_MASTER_KID_PREFIX "mk-"
/* The development TLS key's header names its algorithm as this. */
#define KEYS_TLS_ALG "ecdsa-p256"

/* Key ids carry 16 hex characters (64 bits) after their prefix. */
#define KEYS_KID_HEX 16

struct anfu_keys {
	enum anfu_crypto_profile cp;
	struct anfu_sigkey *audit;
	char audit_kid[ANFU_KID_MAX];
	uint8_t *master; /* KEYS_MASTER_LEN bytes on a page of its own */
	char master_kid[ANFU_KID_MAX];
	struct keys_memo *memo; /* derived keys (keyring.c), a page of its own */
};

/* The parsed "# anfu-key id=... alg=... created=..." first line. */
struct keyfile_header {
	char id[ANFU_KID_MAX];
	char alg[ANFU_LIMIT_KEY_ALG_BYTES];
	size_t body; /* offset of the line after the header */
};

/* Algorithms of a crypto profile. */
enum anfu_sig_alg anfu_keys_profile_sig(enum anfu_crypto_profile cp);
enum anfu_hash_alg anfu_keys_profile_hash(enum anfu_crypto_profile cp);
enum anfu_aead_alg anfu_keys_profile_aead(enum anfu_crypto_profile cp);

/* Joins "<datadir>/<sub>" or "<datadir>/<sub>/<file>" (file may be NULL)
 * into out; ANFU_ELIMIT when it does not fit cap. out is written either way
 * (it is a scratch buffer, not a result). */
int anfu_keys_path(char *out, size_t cap, const char *datadir, const char *sub, const char *file);

/* Reads a whole key file into a malloc'd, NUL-terminated buffer. With
 * is_private, a file with any group/other permission bit is refused
 * (ANFU_EPERM). With nofollow, a symbolic link is refused (ANFU_EPERM
 * too). ANFU_ENOTFOUND
 * when missing, ANFU_ELIMIT above ANFU_LIMIT_KEY_FILE_BYTES, ANFU_EIO otherwise. Release
 * the buffer with anfu_keyfile_release(). */
int anfu_keyfile_read(const char *path, bool is_private, bool nofollow, char **ret,
		      size_t *ret_len);
/* Wipes and frees a buffer from anfu_keyfile_read(); NULL-safe. */
void anfu_keyfile_release(char *buf, size_t len);

/* 1 when dir/name exists, 0 when it does not, ANFU_EIO when lstat fails. */
int anfu_keyfile_exists(const char *dir, const char *name);

/* Creates dir/name with exactly these bytes and mode, atomically: written
 * to a temporary file (O_EXCL, 0600), fsync'd, then link(2)ed into place,
 * which never replaces an existing file, and the directory fsync'd.
 * ANFU_EEXIST when dir/name already exists (nothing changed), ANFU_EIO on
 * any other failure. */
int anfu_keyfile_create(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode);

/* Makes dir with mode 0700 unless it exists (as a directory). */
int anfu_keyfile_mkdir(const char *dir);

/* Takes an exclusive flock(2) on dir, waiting for it; *ret_fd holds it
 * until closed. Serialises concurrent `anfu init` runs so one never sees
 * the other's half-made pair. ANFU_EIO on failure. */
int anfu_keyfile_lock(const char *dir, int *ret_fd);

/* Writes "# anfu-key id=<kid> alg=<alg> created=<now>\n" into out. */
int anfu_keyfile_header(char *out, size_t cap, const char *kid, const char *alg);
/* Parses the first line of a key file; ANFU_ECORRUPT when it is not a
 * well-formed header with an id and an alg. */
int anfu_keyfile_parse(const char *text, size_t len, struct keyfile_header *ret);

/* Reads a signing key file (private or public), checks that its header
 * names the key's real algorithm and id, and returns the key and its id.
 * Errors as anfu_keyfile_read(), plus ANFU_ECORRUPT for a header that does
 * not match the key or a private file without a private key. */
int anfu_keys_read_sigkey(const char *path, bool is_private, struct anfu_sigkey **ret,
			  char kid[ANFU_KID_MAX]);

/* HKDF(master key, info) with the profile's hash into out (outlen bytes).
 * A 32-byte key is remembered per info string (ANFU_LIMIT_KEYS_MEMO of
 * them): the same info gives the same bytes without another HKDF. */
int anfu_keys_derive(const struct anfu_keys *k, const void *info, size_t infolen, void *out,
		     size_t outlen);

#endif
