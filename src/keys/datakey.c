/*
 * keys/datakey: data-encryption keys wrapped by the master key, and the
 * field ciphertexts made with them.
 *
 * Owns two text formats, both base64 of iv(12) || ciphertext || tag(16)
 * under the profile's AEAD (AES-256-GCM with 32-byte data keys, or SM4-GCM
 * with 16-byte data keys under crypto=gm) and a fresh random IV:
 *   wrapped data key  "<master kid>.<b64>", key = KEK, AAD = the data key id
 *   field ciphertext  "v1.<dkid>.<b64>",    key = data key, AAD = caller's
 * The KEK is HKDF(master, info "anfu kek v1") of the AEAD's key length.
 * Binding the dkid as AAD stops a wrapped key being filed under another
 * id; the caller's AAD (e.g. "user.phone:usr_...") stops a ciphertext being
 * moved to another row or column. Everything parsed is untrusted and any
 * mismatch is ANFU_ECRYPTO; plaintexts only ever live in wiped buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

#define KEK_INFO "anfu kek v1"
#define FIELD_PREFIX "v1."
#define DATAKEY_MAX 32 /* AES-256 */

struct anfu_datakey {
	enum anfu_aead_alg alg;
	size_t keylen;
	uint8_t key[DATAKEY_MAX];
	char id[ANFU_LIMIT_DATAKEY_ID_BYTES + 1];
};

/* 1..ANFU_LIMIT_DATAKEY_ID_BYTES of [A-Za-z0-9_-]: never a '.', which separates the fields. */
static bool dkid_ok(const char *dkid)
{
	size_t n;

	if (!dkid)
		return false;
	n = strnlen(dkid, ANFU_LIMIT_DATAKEY_ID_BYTES + 1);
	if (n == 0 || n > ANFU_LIMIT_DATAKEY_ID_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = dkid[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

void anfu_datakey_free(struct anfu_datakey *d)
{
	if (!d)
		return;
	anfu_wipe(d, sizeof(*d));
	free(d);
}

const char *anfu_datakey_id(const struct anfu_datakey *d)
{
	return d->id;
}

/* base64(iv || AEAD(key, iv, aad, pt)) as a malloc'd string. */
static int seal_b64(enum anfu_aead_alg alg, const uint8_t *key, const void *aad, size_t aadlen,
		    const void *pt, size_t ptlen, char **ret)
{
	size_t total = ANFU_AEAD_IV_LEN + ptlen + ANFU_AEAD_TAG_LEN;
	uint8_t *buf = anfu_xmalloc(total);
	int r;

	anfu_crypto_random(buf, ANFU_AEAD_IV_LEN);
	r = anfu_aead_seal(alg, key, buf, aad, aadlen, pt, ptlen, buf + ANFU_AEAD_IV_LEN);
	if (r == 0)
		*ret = anfu_base64_encode(buf, total);
	free(buf);
	return r;
}

/* Opens base64(iv || ct || tag) into a malloc'd buffer of *ret_len bytes
 * plus a NUL. Any failure is ANFU_ECRYPTO. */
static int open_b64(enum anfu_aead_alg alg, const uint8_t *key, const void *aad, size_t aadlen,
		    const char *b64, size_t b64len, uint8_t **ret, size_t *ret_len)
{
	uint8_t *raw = NULL, *pt = NULL;
	size_t rawlen = 0, ptlen = 0;
	int r = ANFU_ECRYPTO;

	if (anfu_base64_decode(b64, b64len, &raw, &rawlen) < 0 ||
	    rawlen < ANFU_AEAD_IV_LEN + ANFU_AEAD_TAG_LEN)
		goto out;
	ptlen = rawlen - ANFU_AEAD_IV_LEN - ANFU_AEAD_TAG_LEN;
	pt = anfu_xmalloc(ptlen + 1);
	if (anfu_aead_open(alg, key, raw, aad, aadlen, raw + ANFU_AEAD_IV_LEN,
			   rawlen - ANFU_AEAD_IV_LEN, pt) < 0)
		goto out;
	pt[ptlen] = '\0';
	*ret = pt;
	*ret_len = ptlen;
	pt = NULL;
	r = 0;
out:
	if (pt) {
		anfu_wipe(pt, ptlen + 1);
		free(pt);
	}
	free(raw);
	return r;
}

static int derive_kek(const struct anfu_keys *k, uint8_t *kek, size_t keklen)
{
	return anfu_keys_derive(k, KEK_INFO, sizeof(KEK_INFO) - 1, kek, keklen);
}

/* Wraps a fresh random data key; see the header for ownership. ANFU_EINVAL
 * for a bad dkid, ANFU_ECRYPTO from the library. */
int anfu_keys_datakey_new(const struct anfu_keys *k, const char *dkid, struct anfu_datakey **ret,
			  char **ret_wrapped)
{
	struct anfu_datakey *d = NULL;
	uint8_t kek[DATAKEY_MAX];
	char *b64 = NULL;
	struct anfu_buf out;
	int r;

	if (!k || !dkid_ok(dkid) || !ret || !ret_wrapped)
		return ANFU_EINVAL;
	anfu_buf_init(&out, ANFU_LIMIT_VAULT_FIELD_BYTES);
	d = anfu_xcalloc(1, sizeof(*d));
	d->alg = anfu_keys_profile_aead(k->cp);
	d->keylen = anfu_aead_key_len(d->alg);
	memcpy(d->id, dkid, strlen(dkid) + 1);
	anfu_crypto_random(d->key, d->keylen);
	r = derive_kek(k, kek, d->keylen);
	if (r < 0)
		goto out;
	r = seal_b64(d->alg, kek, dkid, strlen(dkid), d->key, d->keylen, &b64);
	if (r < 0)
		goto out;
	r = anfu_buf_appendf(&out, "%s.%s", k->master_kid, b64);
	if (r < 0)
		goto out;
	*ret_wrapped = anfu_buf_steal(&out, NULL);
	*ret = d;
	d = NULL;
	r = 0;
out:
	anfu_wipe(kek, sizeof(kek));
	anfu_buf_free(&out);
	free(b64);
	anfu_datakey_free(d);
	return r;
}

/* Unwraps "<master kid>.<b64>"; ANFU_ECRYPTO when the master kid is not
 * ours, the text is malformed, or the tag does not verify. */
int anfu_keys_datakey_unwrap(const struct anfu_keys *k, const char *dkid, const char *wrapped,
			     struct anfu_datakey **ret)
{
	struct anfu_datakey *d = NULL;
	uint8_t kek[DATAKEY_MAX];
	uint8_t *raw = NULL;
	size_t rawlen = 0, kidlen;
	int r = ANFU_ECRYPTO;

	if (!k || !dkid_ok(dkid) || !wrapped || !ret)
		return ANFU_EINVAL;
	kidlen = strlen(k->master_kid);
	if (strncmp(wrapped, k->master_kid, kidlen) != 0 || wrapped[kidlen] != '.')
		return ANFU_ECRYPTO;
	d = anfu_xcalloc(1, sizeof(*d));
	d->alg = anfu_keys_profile_aead(k->cp);
	d->keylen = anfu_aead_key_len(d->alg);
	memcpy(d->id, dkid, strlen(dkid) + 1);
	r = derive_kek(k, kek, d->keylen);
	if (r < 0)
		goto out;
	r = open_b64(d->alg, kek, dkid, strlen(dkid), wrapped + kidlen + 1,
		     strlen(wrapped + kidlen + 1), &raw, &rawlen);
	if (r < 0)
		goto out;
	r = ANFU_ECRYPTO;
	if (rawlen != d->keylen)
		goto out;
	memcpy(d->key, raw, rawlen);
	*ret = d;
	d = NULL;
	r = 0;
out:
	anfu_wipe(kek, sizeof(kek));
	if (raw) {
		anfu_wipe(raw, rawlen);
		free(raw);
	}
	anfu_datakey_free(d);
	return r;
}

/* "v1.<dkid>.<b64>" of pt under d bound to aad; *ret is malloc'd. ANFU_EINVAL
 * for NULL arguments, ANFU_ELIMIT for a value above ANFU_LIMIT_VAULT_FIELD_BYTES. */
int anfu_datakey_encrypt(const struct anfu_datakey *d, const char *aad, const void *pt,
			 size_t ptlen, char **ret)
{
	struct anfu_buf out;
	char *b64 = NULL;
	int r;

	if (!d || !aad || (!pt && ptlen) || !ret)
		return ANFU_EINVAL;
	if (ptlen > ANFU_LIMIT_VAULT_FIELD_BYTES)
		return ANFU_ELIMIT;
	anfu_buf_init(&out, 2 * ANFU_LIMIT_VAULT_FIELD_BYTES);
	r = seal_b64(d->alg, d->key, aad, strlen(aad), pt, ptlen, &b64);
	if (r < 0)
		goto out;
	r = anfu_buf_appendf(&out, FIELD_PREFIX "%s.%s", d->id, b64);
	if (r < 0)
		goto out;
	*ret = anfu_buf_steal(&out, NULL);
	r = 0;
out:
	anfu_buf_free(&out);
	free(b64);
	return r;
}

/* Opens "v1.<dkid>.<b64>" made by this data key with this aad. */
int anfu_datakey_decrypt(const struct anfu_datakey *d, const char *aad, const char *ct, char **ret,
			 size_t *ret_len)
{
	size_t idlen, prelen = sizeof(FIELD_PREFIX) - 1;
	const char *b64;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int r;

	if (!d || !aad || !ct || !ret || !ret_len)
		return ANFU_EINVAL;
	idlen = strlen(d->id);
	if (strncmp(ct, FIELD_PREFIX, prelen) != 0 || strncmp(ct + prelen, d->id, idlen) != 0 ||
	    ct[prelen + idlen] != '.')
		return ANFU_ECRYPTO;
	b64 = ct + prelen + idlen + 1;
	r = open_b64(d->alg, d->key, aad, strlen(aad), b64, strlen(b64), &pt, &ptlen);
	if (r < 0)
		return r;
	*ret = (char *)pt;
	*ret_len = ptlen;
	return 0;
}
