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
 * modified, so any thread may use it; the one exception is its memo of
 * derived keys (on a locked page of its own like the master key, behind
 * a mutex), which only ever gains entries equal to what HKDF gives.
 */
#include <pthread.h>
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

/* The derived keys anfu_keys_derive already computed, by info string.
 * Only 32-byte keys (every caller's length) are kept. */
#define MEMO_KEY_LEN 32
struct keys_memo {
	pthread_mutex_t mu;
	size_t n;
	struct {
		size_t infolen;
		uint8_t info[ANFU_LIMIT_KEYS_MEMO_INFO_BYTES];
		uint8_t key[MEMO_KEY_LEN];
	} e[ANFU_LIMIT_KEYS_MEMO];
};

_Static_assert(sizeof(struct keys_memo) <= 4096, "the memo fits one (the smallest) page");

static struct keys_memo *memo_new(void)
{
	struct keys_memo *m = (struct keys_memo *)secret_page();

	if (pthread_mutex_init(&m->mu, NULL) != 0)
		abort();
	return m;
}

static void memo_free(struct keys_memo *m)
{
	if (!m)
		return;
	(void)pthread_mutex_destroy(&m->mu);
	secret_page_free((uint8_t *)m);
}

/* Copies the remembered key of info into out: true when there is one. */
static bool memo_get(struct keys_memo *m, const void *info, size_t infolen, void *out)
{
	bool found = false;

	(void)pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n && !found; i++) {
		if (m->e[i].infolen == infolen && memcmp(m->e[i].info, info, infolen) == 0) {
			memcpy(out, m->e[i].key, MEMO_KEY_LEN);
			found = true;
		}
	}
	(void)pthread_mutex_unlock(&m->mu);
	return found;
}

/* Remembers key for info while there is room (another thread may have
 * added the same one meanwhile: equal keys, first one kept). */
static void memo_put(struct keys_memo *m, const void *info, size_t infolen, const void *key)
{
	bool have = false;

	(void)pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n && !have; i++)
		have = m->e[i].infolen == infolen && memcmp(m->e[i].info, info, infolen) == 0;
	if (!have && m->n < ANFU_LIMIT_KEYS_MEMO) {
		m->e[m->n].infolen = infolen;
		memcpy(m->e[m->n].info, info, infolen);
		memcpy(m->e[m->n].key, key, MEMO_KEY_LEN);
		m->n++;
	}
	(void)pthread_mutex_unlock(&m->mu);
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
	k->memo = memo_new();
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
	memo_free(k->memo);
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
	bool keep = k->memo && outlen == MEMO_KEY_LEN && infolen <= ANFU_LIMIT_KEYS_MEMO_INFO_BYTES;
	int r;

	if (keep && memo_get(k->memo, info, infolen, out))
		return 0;
	r = anfu_hkdf(anfu_keys_profile_hash(k->cp), k->master, KEYS_MASTER_LEN, NULL, 0, info,
		      infolen, out, outlen);
	if (r == 0 && keep)
		memo_put(k->memo, info, infolen, out);
	return r;
}
