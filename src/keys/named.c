/*
 * keys/named: named signing keys of a data directory besides the audit
 * key: DATA/keys/<name>.key (private, 0600) and DATA/keys/<name>.pub
 * (public, 0644), each with the "# anfu-key" header. The bank channel
 * signs its requests with "bank-client"; anfu-banksim signs its callbacks
 * with "banksim" in its own data directory; each side loads the other's
 * public file as a peer key (docs/bank.md).
 *
 * Owns the key files it creates and the loaded private keys (struct
 * anfu_named_key: the key never leaves this file, callers get
 * signatures). Trusts nothing read from disk (anfu_keys_read_sigkey).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

struct anfu_named_key {
	struct anfu_sigkey *key;
	char kid[ANFU_KID_MAX];
};

/* [a-z0-9-], 1..32: a file name of its own under keys/. */
static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

static int write_file(const char *dir, const char *file, const char *kid, const char *alg,
		      const char *body, mode_t mode)
{
	char header[ANFU_LIMIT_KEY_HEADER_BYTES];
	struct anfu_buf b;
	int r = anfu_keyfile_header(header, sizeof(header), kid, alg);

	if (r < 0)
		return r;
	anfu_buf_init_secret(&b, ANFU_LIMIT_KEY_FILE_BYTES);
	r = anfu_buf_appends(&b, header);
	if (r == 0)
		r = anfu_buf_appends(&b, body);
	if (r == 0)
		r = anfu_keyfile_create(dir, file, b.data, b.len, mode);
	anfu_buf_free(&b);
	return r;
}

/* Makes <name>.key and <name>.pub in dir; a file that exists (another
 * process won the race) is kept. */
static int make_pair(const char *dir, const char *name, enum anfu_sig_alg alg)
{
	char file[64], kid[ANFU_KID_MAX];
	struct anfu_sigkey *key = NULL;
	char *priv = NULL, *pub = NULL;
	int r;

	if (anfu_sigkey_generate(alg, &key) < 0)
		return ANFU_ECRYPTO;
	r = anfu_keys_kid_for(key, kid);
	if (r == 0)
		r = anfu_sigkey_private_pem(key, &priv);
	if (r == 0)
		r = anfu_sigkey_public_pem(key, &pub);
	if (r < 0) {
		r = ANFU_ECRYPTO;
		goto out;
	}
	(void)snprintf(file, sizeof(file), "%s.key", name);
	r = write_file(dir, file, kid, anfu_sig_name(alg), priv, 0600);
	if (r == 0) {
		(void)snprintf(file, sizeof(file), "%s.pub", name);
		r = write_file(dir, file, kid, anfu_sig_name(alg), pub, 0644);
	}
	if (r == ANFU_EEXIST)
		r = 0;
out:
	anfu_free_secret(priv);
	free(pub);
	anfu_sigkey_free(key);
	return r;
}

int anfu_keys_named_open(const char *datadir, const char *name, enum anfu_sig_alg alg,
			 struct anfu_named_key **ret)
{
	char dir[ANFU_LIMIT_KEY_PATH_BYTES], path[ANFU_LIMIT_KEY_PATH_BYTES], file[64];
	struct anfu_named_key *k = NULL;
	int r, have;

	if (!datadir || !name_ok(name) || !ret)
		return ANFU_EINVAL;
	(void)snprintf(file, sizeof(file), "%s.key", name);
	r = anfu_keys_path(dir, sizeof(dir), datadir, KEYS_DIR, NULL);
	if (r == 0)
		r = anfu_keys_path(path, sizeof(path), datadir, KEYS_DIR, file);
	if (r == 0)
		r = anfu_keyfile_mkdir(dir);
	if (r < 0)
		return r;
	have = anfu_keyfile_exists(dir, file);
	if (have < 0)
		return ANFU_EIO;
	if (!have) {
		r = make_pair(dir, name, alg);
		if (r < 0)
			return r;
	}
	k = anfu_xcalloc(1, sizeof(*k));
	r = anfu_keys_read_sigkey(path, true, &k->key, k->kid);
	if (r == 0 && anfu_sigkey_alg(k->key) != alg)
		r = ANFU_EINVAL;
	if (r < 0) {
		anfu_keys_named_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

void anfu_keys_named_free(struct anfu_named_key *k)
{
	if (!k)
		return;
	anfu_sigkey_free(k->key);
	free(k);
}

const char *anfu_keys_named_kid(const struct anfu_named_key *k)
{
	return k ? k->kid : "";
}

int anfu_keys_named_sign(const struct anfu_named_key *k, const void *msg, size_t len, uint8_t *sig,
			 size_t *siglen)
{
	if (!k || !msg || !sig || !siglen)
		return ANFU_EINVAL;
	return anfu_sign(k->key, msg, len, sig, siglen);
}

int anfu_keys_peer_load(const char *path, struct anfu_sigkey **ret)
{
	char kid[ANFU_KID_MAX];

	if (!path || !ret)
		return ANFU_EINVAL;
	return anfu_keys_read_sigkey(path, false, ret, kid);
}
