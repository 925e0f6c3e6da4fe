/*
 * keys/initdir: `anfu init` for keys: the missing key files of a data
 * directory, and nothing else.
 *
 * Owns the creation order that keeps a data directory consistent after a
 * crash or a concurrent init: a private key is written before its public
 * half or certificate, and an existing file is never replaced. A public
 * audit key without its private key, or a TLS certificate without its key
 * (or the other way round), is left for the operator to sort out
 * (ANFU_ECONFLICT) rather than guessed at; concurrent runs are serialised
 * by a lock on DATA/keys so they never see each other's half-made pair.
 * A missing audit-signing.pub is re-derived from an existing private key.
 * Trusts the data directory path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

#define TLS_DEV_CN "localhost"

/* header + body as one wiped-on-free buffer, then created as dir/name. */
static int write_key_file(const char *dir, const char *name, const char *kid, const char *alg,
			  const char *body, mode_t mode)
{
	char header[ANFU_LIMIT_KEY_HEADER_BYTES];
	struct anfu_buf b;
	int r;

	r = anfu_keyfile_header(header, sizeof(header), kid, alg);
	if (r < 0)
		return r;
	anfu_buf_init_secret(&b, ANFU_LIMIT_KEY_FILE_BYTES);
	r = anfu_buf_appends(&b, header);
	if (r == 0)
		r = anfu_buf_appends(&b, body);
	if (r == 0)
		r = anfu_keyfile_create(dir, name, b.data, b.len, mode);
	anfu_buf_free(&b);
	return r;
}

/* A random "<prefix>" + 16 hex id (master and TLS keys: no public key to
 * derive one from). */
static void random_kid(const char *prefix, char kid[ANFU_KID_MAX])
{
	uint8_t rnd[KEYS_KID_HEX / 2];
	size_t n = strlen(prefix);

	anfu_crypto_random(rnd, sizeof(rnd));
	memcpy(kid, prefix, n);
	anfu_hex_encode(rnd, sizeof(rnd), kid + n);
}

static int make_audit_private(const char *dir, enum anfu_crypto_profile cp,
			      struct anfu_keys_made *made)
{
	struct anfu_sigkey *key = NULL;
	char kid[ANFU_KID_MAX];
	char *pem = NULL;
	int r;

	r = anfu_sigkey_generate(anfu_keys_profile_sig(cp), &key);
	if (r < 0)
		return ANFU_ECRYPTO;
	r = anfu_keys_kid_for(key, kid);
	if (r == 0)
		r = anfu_sigkey_private_pem(key, &pem);
	if (r < 0) {
		r = ANFU_ECRYPTO;
		goto out;
	}
	r = write_key_file(dir, KEYS_AUDIT_KEY, kid, anfu_sig_name(anfu_sigkey_alg(key)), pem,
			   0600);
	/* Someone else's init won the race: theirs is the key. */
	if (r == ANFU_EEXIST) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	made->audit = true;
	memcpy(made->audit_kid, kid, sizeof(kid));
out:
	anfu_free_secret(pem);
	anfu_sigkey_free(key);
	return r;
}

/* Writes audit-signing.pub from the private key file on disk. */
static int make_audit_public(const char *dir)
{
	char path[ANFU_LIMIT_KEY_PATH_BYTES], kid[ANFU_KID_MAX];
	struct anfu_sigkey *key = NULL;
	char *pem = NULL;
	int r, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, KEYS_AUDIT_KEY);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ANFU_ELIMIT;
	r = anfu_keys_read_sigkey(path, true, &key, kid);
	if (r < 0)
		return r;
	r = anfu_sigkey_public_pem(key, &pem);
	if (r == 0)
		r = write_key_file(dir, KEYS_AUDIT_PUB, kid, anfu_sig_name(anfu_sigkey_alg(key)),
				   pem, 0644);
	if (r == ANFU_EEXIST)
		r = 0;
	free(pem);
	anfu_sigkey_free(key);
	return r;
}

static int init_audit(const char *dir, enum anfu_crypto_profile cp, struct anfu_keys_made *made)
{
	int have_key = anfu_keyfile_exists(dir, KEYS_AUDIT_KEY);
	int have_pub = anfu_keyfile_exists(dir, KEYS_AUDIT_PUB);
	int r;

	if (have_key < 0 || have_pub < 0)
		return ANFU_EIO;
	if (have_pub && !have_key)
		return ANFU_ECONFLICT;
	if (!have_key) {
		r = make_audit_private(dir, cp, made);
		if (r < 0)
			return r;
	}
	return have_pub ? 0 : make_audit_public(dir);
}

static int init_master(const char *dir, struct anfu_keys_made *made)
{
	uint8_t raw[KEYS_MASTER_LEN];
	char kid[ANFU_KID_MAX];
	char *b64 = NULL;
	struct anfu_buf body;
	int have, r;

	have = anfu_keyfile_exists(dir, KEYS_MASTER_KEY);
	if (have != 0)
		return have < 0 ? ANFU_EIO : 0;
	anfu_crypto_random(raw, sizeof(raw));
	random_kid(KEYS_MASTER_KID_PREFIX, kid);
	b64 = anfu_base64_encode(raw, sizeof(raw));
	anfu_buf_init_secret(&body, ANFU_LIMIT_KEY_FILE_BYTES);
	r = anfu_buf_appendf(&body, "%s\n", b64);
	if (r == 0)
		r = write_key_file(dir, KEYS_MASTER_KEY, kid, KEYS_MASTER_ALG, body.data, 0600);
	if (r == 0) {
		made->master = true;
		memcpy(made->master_kid, kid, sizeof(kid));
	} else if (r == ANFU_EEXIST) {
		r = 0;
	}
	anfu_buf_free(&body);
	anfu_free_secret(b64);
	anfu_wipe(raw, sizeof(raw));
	return r;
}

static int init_tls(const char *dir, struct anfu_keys_made *made)
{
	int have_crt = anfu_keyfile_exists(dir, KEYS_TLS_CERT);
	int have_key = anfu_keyfile_exists(dir, KEYS_TLS_KEY);
	char kid[ANFU_KID_MAX];
	char *cert = NULL, *key = NULL;
	int r;

	if (have_crt < 0 || have_key < 0)
		return ANFU_EIO;
	if (have_crt && have_key)
		return 0;
	if (have_crt || have_key)
		return ANFU_ECONFLICT;
	r = anfu_crypto_selfsigned_cert(TLS_DEV_CN, ANFU_LIMIT_TLS_DEV_DAYS, &cert, &key);
	if (r < 0)
		return ANFU_ECRYPTO;
	random_kid("tls-", kid);
	r = write_key_file(dir, KEYS_TLS_KEY, kid, KEYS_TLS_ALG, key, 0600);
	/* Another init is making the pair: its certificate goes with its key. */
	if (r == ANFU_EEXIST) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = anfu_keyfile_create(dir, KEYS_TLS_CERT, cert, strlen(cert), 0644);
	if (r < 0)
		goto out;
	made->tls = true;
out:
	free(cert);
	anfu_free_secret(key);
	return r;
}

/* See keys.h. Besides ANFU_EIO and ANFU_ECRYPTO: ANFU_EINVAL for bad
 * arguments, ANFU_ELIMIT for a data directory path too long for
 * ret->tls_path, ANFU_ECONFLICT for a half pair (see the file comment),
 * ANFU_EPERM / ANFU_ECORRUPT for an existing private audit key that cannot
 * be read back to derive a missing public key. ret (may be NULL) is
 * written only on success; tls_path is always set, the kids only for the
 * keys made now. */
int anfu_keys_init_dir(const char *datadir, enum anfu_crypto_profile cp, struct anfu_keys_made *ret)
{
	struct anfu_keys_made made = { 0 };
	char keys[ANFU_LIMIT_KEY_PATH_BYTES], tls[ANFU_LIMIT_KEY_PATH_BYTES];
	int lockfd = -1, r;

	if (!datadir || (cp != ANFU_CRYPTO_INTL && cp != ANFU_CRYPTO_GM))
		return ANFU_EINVAL;
	if (anfu_keys_path(keys, sizeof(keys), datadir, KEYS_DIR, NULL) < 0 ||
	    anfu_keys_path(tls, sizeof(tls), datadir, KEYS_TLS_DIR, NULL) < 0 ||
	    anfu_keys_path(made.tls_path, sizeof(made.tls_path), datadir, KEYS_TLS_DIR,
			   KEYS_TLS_CERT) < 0)
		return ANFU_ELIMIT;
	if (anfu_keyfile_mkdir(datadir) < 0 || anfu_keyfile_mkdir(keys) < 0 ||
	    anfu_keyfile_mkdir(tls) < 0)
		return ANFU_EIO;
	r = anfu_keyfile_lock(keys, &lockfd);
	if (r < 0)
		goto out;
	r = init_audit(keys, cp, &made);
	if (r < 0)
		goto out;
	r = init_master(keys, &made);
	if (r < 0)
		goto out;
	r = init_tls(tls, &made);
	if (r < 0)
		goto out;
	if (ret)
		*ret = made;
	r = 0;
out:
	if (lockfd >= 0)
		(void)close(lockfd);
	return r;
}
