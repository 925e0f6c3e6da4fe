/*
 * keys/audit: the audit signing key: its id, signatures, public export.
 *
 * Owns the audit key id rule, "<alg>-" + the first 16 hex characters of
 * the SHA-256 of the key's DER SubjectPublicKeyInfo, so anyone holding the
 * public key can recompute the id printed in an export. The private key
 * lives in DATA/keys/audit-signing.key (PKCS#8 PEM under the header line),
 * the public one in audit-signing.pub (SPKI PEM under the same header).
 * Trusts nothing read from disk: the header must match the key it heads.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

int anfu_keys_kid_for(const struct anfu_sigkey *k, char kid[ANFU_KID_MAX])
{
	uint8_t fp[ANFU_HASH_LEN];
	char hex[2 * ANFU_HASH_LEN + 1];
	const char *alg;
	size_t n;
	int r;

	if (!k || !kid)
		return ANFU_EINVAL;
	r = anfu_sigkey_fingerprint(k, fp);
	if (r < 0)
		return r;
	anfu_hex_encode(fp, sizeof(fp), hex);
	alg = anfu_sig_name(anfu_sigkey_alg(k));
	n = strlen(alg);
	/* "<alg>-" + 16 hex + NUL always fits: alg names are short. */
	memcpy(kid, alg, n);
	kid[n] = '-';
	memcpy(kid + n + 1, hex, KEYS_KID_HEX);
	kid[n + 1 + KEYS_KID_HEX] = '\0';
	return 0;
}

int anfu_keys_read_sigkey(const char *path, bool is_private, struct anfu_sigkey **ret,
			  char kid[ANFU_KID_MAX])
{
	struct anfu_sigkey *key = NULL;
	struct keyfile_header h;
	char real_kid[ANFU_KID_MAX];
	char *text = NULL;
	size_t len = 0;
	int r;

	r = anfu_keyfile_read(path, is_private, true, &text, &len);
	if (r < 0)
		return r;
	r = anfu_keyfile_parse(text, len, &h);
	if (r < 0)
		goto out;
	r = anfu_sigkey_from_pem(text + h.body, len - h.body, &key);
	if (r < 0) {
		r = ANFU_ECORRUPT;
		goto out;
	}
	r = ANFU_ECORRUPT;
	if (is_private != anfu_sigkey_has_private(key))
		goto out;
	if (strcmp(h.alg, anfu_sig_name(anfu_sigkey_alg(key))) != 0)
		goto out;
	r = anfu_keys_kid_for(key, real_kid);
	if (r < 0)
		goto out;
	if (strcmp(h.id, real_kid) != 0) {
		r = ANFU_ECORRUPT;
		goto out;
	}
	*ret = key;
	key = NULL;
	memcpy(kid, real_kid, sizeof(real_kid));
	r = 0;
out:
	anfu_sigkey_free(key);
	anfu_keyfile_release(text, len);
	return r;
}

const char *anfu_keys_audit_kid(const struct anfu_keys *k)
{
	return k->audit_kid;
}

enum anfu_sig_alg anfu_keys_audit_alg(const struct anfu_keys *k)
{
	return anfu_sigkey_alg(k->audit);
}

int anfu_keys_audit_sign(const struct anfu_keys *k, const void *msg, size_t len, uint8_t *sig,
			 size_t *siglen)
{
	if (!k)
		return ANFU_EINVAL;
	return anfu_sign(k->audit, msg, len, sig, siglen);
}

/* Reads DATA/keys/audit-signing.pub; no permission rule applies to it.
 * Errors as anfu_keys_read_sigkey(). */
int anfu_keys_load_audit_public(const char *datadir, struct anfu_sigkey **ret,
				char kid[ANFU_KID_MAX])
{
	char path[ANFU_LIMIT_KEY_PATH_BYTES];
	int r;

	if (!datadir || !ret || !kid)
		return ANFU_EINVAL;
	r = anfu_keys_path(path, sizeof(path), datadir, KEYS_DIR, KEYS_AUDIT_PUB);
	if (r < 0)
		return r;
	return anfu_keys_read_sigkey(path, false, ret, kid);
}

/* Appends the audit public key as "# anfu-key id=<kid> alg=<alg> use=audit"
 * plus its SPKI PEM. On failure out is as it was. */
int anfu_keys_export_public(const char *datadir, struct anfu_buf *out)
{
	struct anfu_sigkey *key = NULL;
	char kid[ANFU_KID_MAX];
	char *pem = NULL;
	size_t start;
	int r;

	if (!datadir || !out)
		return ANFU_EINVAL;
	start = out->len;
	r = anfu_keys_load_audit_public(datadir, &key, kid);
	if (r < 0)
		return r;
	r = anfu_sigkey_public_pem(key, &pem);
	if (r < 0)
		goto out;
	r = anfu_buf_appendf(out, "# anfu-key id=%s alg=%s use=audit\n%s", kid,
			     anfu_sig_name(anfu_sigkey_alg(key)), pem);
	if (r == 0 && (out->len == 0 || out->data[out->len - 1] != '\n'))
		r = anfu_buf_append(out, "\n", 1);
out:
	if (r < 0 && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	free(pem);
	anfu_sigkey_free(key);
	return r;
}
