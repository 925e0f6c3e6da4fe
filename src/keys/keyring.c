/*
 * keys/keyring: the loaded keys of a data directory (struct anfu_keys).
 *
 * Owns the in-memory master key: 32 bytes on an anonymous page of their
 * own, locked into RAM where RLIMIT_MEMLOCK allows (so it is not swapped
 * out), left out of core dumps, and wiped before the page is unmapped.
 * DATA/keys/master.key is the header line, then the base64 of the 32
 * bytes and a newline, mode 0600. Every key derived from the master key
 * comes from anfu_keys_derive(): HKDF with the profile's hash (SHA-256, or
 * SM3 under crypto=gm), no salt, and an info string that names its use.
 * Trusts nothing read from disk. A loaded struct anfu_keys is never
 * modified, so any thread may use it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

static size_t page_size(void)
{
	long n = sysconf(_SC_PAGESIZE);

	return n > 0 ? (size_t)n : 4096;
}

/* A zeroed page for secrets; aborts on out-of-memory like anfu_xmalloc. */
static uint8_t *secret_page(void)
{
	size_t n = page_size();
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	/* Best effort: both fail only for resource limits or old kernels. */
	(void)mlock(p, n);
	(void)madvise(p, n, MADV_DONTDUMP);
	return p;
}

static void secret_page_free(uint8_t *p)
{
	size_t n = page_size();

	if (!p)
		return;
	anfu_wipe(p, n);
	(void)munlock(p, n);
	(void)munmap(p, n);
}

/* "mk-" + 16 lower-case hex characters. */
static bool master_kid_ok(const char *kid)
{
	size_t n = sizeof(KEYS_MASTER_KID_PREFIX) - 1;
	uint8_t tmp[KEYS_KID_HEX / 2];

	return strncmp(kid, KEYS_MASTER_KID_PREFIX, n) == 0 && strlen(kid) == n + KEYS_KID_HEX &&
	       anfu_hex_decode(kid + n, KEYS_KID_HEX, tmp, sizeof(tmp)) == 0;
}

/* Decodes the body "<base64 of 32 bytes>\n" into the locked page. */
static int decode_master(const char *body, size_t len, uint8_t *dst)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int r;

	if (len > 0 && body[len - 1] == '\n')
		len--;
	r = anfu_base64_decode(body, len, &raw, &rawlen);
	if (r < 0)
		return ANFU_ECORRUPT;
	if (rawlen == KEYS_MASTER_LEN)
		memcpy(dst, raw, KEYS_MASTER_LEN);
	else
		r = ANFU_ECORRUPT;
	anfu_wipe(raw, rawlen);
	free(raw);
	return r;
}

static int load_master(const char *datadir, struct anfu_keys *k)
{
	char path[ANFU_LIMIT_KEY_PATH_BYTES];
	struct keyfile_header h;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = anfu_keys_path(path, sizeof(path), datadir, KEYS_DIR, KEYS_MASTER_KEY);
	if (r < 0)
		return r;
	r = anfu_keyfile_read(path, true, true, &text, &len);
	if (r < 0)
		return r;
	r = anfu_keyfile_parse(text, len, &h);
	if (r < 0)
		goto out;
	r = ANFU_ECORRUPT;
	if (strcmp(h.alg, KEYS_MASTER_ALG) != 0 || !master_kid_ok(h.id))
		goto out;
	k->master = secret_page();
	r = decode_master(text + h.body, len - h.body, k->master);
	if (r < 0)
		goto out;
	memcpy(k->master_kid, h.id, sizeof(h.id));
	r = 0;
out:
	anfu_keyfile_release(text, len);
	return r;
}

static int load_audit(const char *datadir, struct anfu_keys *k)
{
	char path[ANFU_LIMIT_KEY_PATH_BYTES];
	int r;

	r = anfu_keys_path(path, sizeof(path), datadir, KEYS_DIR, KEYS_AUDIT_KEY);
	if (r < 0)
		return r;
	r = anfu_keys_read_sigkey(path, true, &k->audit, k->audit_kid);
	if (r < 0)
		return r;
	/* A key made for the other profile: the operator changed crypto= on
	 * a data directory that already signs with the other algorithm. */
	if (anfu_sigkey_alg(k->audit) != anfu_keys_profile_sig(k->cp))
		return ANFU_EINVAL;
	return 0;
}

/* Loads DATA/keys/audit-signing.key and DATA/keys/master.key. Besides the
 * header's codes: ANFU_ENOTFOUND for a missing file, ANFU_ECORRUPT for a
 * file whose header or content is malformed, ANFU_EIO for read errors. */
int anfu_keys_load(const char *datadir, enum anfu_crypto_profile cp, struct anfu_keys **ret)
{
	struct anfu_keys *k = NULL;
	int r;

	if (!datadir || !ret || (cp != ANFU_CRYPTO_INTL && cp != ANFU_CRYPTO_GM))
		return ANFU_EINVAL;
	k = anfu_xcalloc(1, sizeof(*k));
	k->cp = cp;
	r = load_audit(datadir, k);
	if (r < 0)
		goto out;
	r = load_master(datadir, k);
	if (r < 0)
		goto out;
	*ret = k;
	k = NULL;
	r = 0;
out:
	anfu_keys_free(k);
	return r;
}

void anfu_keys_free(struct anfu_keys *k)
{
	if (!k)
		return;
	anfu_sigkey_free(k->audit);
	secret_page_free(k->master);
	anfu_wipe(k, sizeof(*k));
	free(k);
}

const char *anfu_keys_master_kid(const struct anfu_keys *k)
{
	return k->master_kid;
}

int anfu_keys_derive(const struct anfu_keys *k, const void *info, size_t infolen, void *out,
		     size_t outlen)
{
	return anfu_hkdf(anfu_keys_profile_hash(k->cp), k->master, KEYS_MASTER_LEN, NULL, 0, info,
			 infolen, out, outlen);
}
