/*
 * vault: personal data encrypted field by field (DATA-ENC-03, DATA-ENC-04).
 *
 * Owns the rows of vault_key and an in-memory cache of the data keys they
 * wrap. The cache only grows while the vault lives: a key, once loaded,
 * stays at the same address until anfu_vault_free(), so a pointer taken
 * under the mutex may be used after it is released. The active key (the
 * newest row with active = 1) encrypts; any known key decrypts. Trusts
 * src/keys/ for key bytes and the AEAD, and the database for nothing: a
 * wrapped key that does not verify under the master key is ANFU_ECRYPTO,
 * and ciphertexts are parsed as untrusted text.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "keys/keys.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

struct anfu_vault {
	const struct anfu_keys *keys;
	pthread_mutex_t mu; /* guards dks, n, cap */
	struct anfu_datakey **dks;
	size_t n, cap;
	const struct anfu_datakey *active; /* set once in open, then read-only */
};

/* ---- names ------------------------------------------------------------- */

static bool name_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, ANFU_LIMIT_VAULT_NAME_BYTES + 1);
	if (n == 0 || n > ANFU_LIMIT_VAULT_NAME_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Owners are any printable text without spaces; the field never holds a
 * ':' so "<field>:<owner>" splits one way only. */
static bool owner_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, ANFU_LIMIT_VAULT_OWNER_BYTES + 1);
	if (n == 0 || n > ANFU_LIMIT_VAULT_OWNER_BYTES)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* "<field>:<owner>" into out (cap >= ANFU_LIMIT_VAULT_NAME_BYTES + ANFU_LIMIT_VAULT_OWNER_BYTES + 2). */
static int make_aad(const char *field, const char *owner, char *out, size_t cap)
{
	size_t fl, ol;

	if (!name_ok(field) || !owner_ok(owner))
		return ANFU_EINVAL;
	fl = strlen(field);
	ol = strlen(owner);
	if (fl + 1 + ol + 1 > cap)
		return ANFU_EINVAL;
	memcpy(out, field, fl);
	out[fl] = ':';
	memcpy(out + fl + 1, owner, ol + 1);
	return 0;
}

/* "<prefix><name>" into out; ANFU_EINVAL for a bad name. */
static int make_purpose(const char *prefix, const char *name, char *out, size_t cap)
{
	size_t pl = strlen(prefix), nl;

	if (!name_ok(name))
		return ANFU_EINVAL;
	nl = strlen(name);
	if (pl + nl + 1 > cap)
		return ANFU_EINVAL;
	memcpy(out, prefix, pl);
	memcpy(out + pl, name, nl + 1);
	return 0;
}

/* ---- the key cache ------------------------------------------------------ */

static struct anfu_datakey *cache_find_locked(struct anfu_vault *v, const char *dkid)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(anfu_datakey_id(v->dks[i]), dkid) == 0)
			return v->dks[i];
	return NULL;
}

static struct anfu_datakey *cache_find(struct anfu_vault *v, const char *dkid)
{
	struct anfu_datakey *d;

	(void)pthread_mutex_lock(&v->mu);
	d = cache_find_locked(v, dkid);
	(void)pthread_mutex_unlock(&v->mu);
	return d;
}

/* Adds *pd to the cache, which takes it over (*pd = NULL). When another
 * thread added the same id first, ours is freed and *ret is theirs. */
static int cache_add(struct anfu_vault *v, struct anfu_datakey **pd,
		     const struct anfu_datakey **ret)
{
	struct anfu_datakey *have;
	int r = 0;

	(void)pthread_mutex_lock(&v->mu);
	have = cache_find_locked(v, anfu_datakey_id(*pd));
	if (have) {
		anfu_datakey_free(*pd);
	} else if (v->n >= ANFU_LIMIT_VAULT_KEYS) {
		anfu_datakey_free(*pd);
		r = ANFU_ELIMIT;
	} else {
		if (v->n == v->cap) {
			v->cap = v->cap ? 2 * v->cap : 8;
			v->dks = anfu_xrealloc(v->dks, v->cap * sizeof(*v->dks));
		}
		have = *pd;
		v->dks[v->n++] = have;
	}
	*pd = NULL;
	(void)pthread_mutex_unlock(&v->mu);
	if (r == 0 && ret)
		*ret = have;
	return r;
}

/* ---- loading keys ------------------------------------------------------ */

struct load_ctx {
	struct anfu_vault *v;
	const struct anfu_datakey *active;
	int r;
};

/* One vault_key row (id, wrapped, active): unwrap and cache it. Rows come
 * oldest first, so the last active row wins. */
static int load_row(void *ud, const struct anfu_row *row)
{
	struct load_ctx *c = ud;
	const char *id = anfu_row_text(row, 0, NULL);
	const char *wrapped = anfu_row_text(row, 1, NULL);
	struct anfu_datakey *d = NULL;
	const struct anfu_datakey *kept = NULL;
	int r;

	if (!id || !wrapped) {
		c->r = ANFU_ECORRUPT;
		return 1;
	}
	r = anfu_keys_datakey_unwrap(c->v->keys, id, wrapped, &d);
	if (r == 0)
		r = cache_add(c->v, &d, &kept);
	if (r < 0) {
		anfu_log_error("vault.open", "data key %s cannot be unwrapped: %s", id,
			       anfu_strerror(r));
		c->r = r;
		return 1;
	}
	if (anfu_row_int(row, 2) == 1)
		c->active = kept;
	return 0;
}

/* Loads every key; *ret_active gets the active one or NULL. */
static int load_all(struct anfu_vault *v, struct anfu_db *db,
		    const struct anfu_datakey **ret_active)
{
	struct load_ctx c = { v, NULL, 0 };
	int r;

	r = anfu_db_exec(db, "SELECT id, wrapped, active FROM vault_key ORDER BY created_ms, id",
			 NULL, 0, load_row, &c, NULL);
	if (r == 0)
		r = c.r;
	if (r == 0)
		*ret_active = c.active;
	return r;
}

/* Creates and stores a new active key inside db's open write transaction. */
static int create_active(struct anfu_vault *v, struct anfu_db *db, const struct anfu_datakey **ret)
{
	struct anfu_datakey *d = NULL;
	const struct anfu_datakey *kept = NULL;
	char dkid[ANFU_ID_MAX];
	char *wrapped = NULL;
	int r;

	r = anfu_id_new("dk", dkid, sizeof(dkid));
	if (r < 0)
		return r;
	r = anfu_keys_datakey_new(v->keys, dkid, &d, &wrapped);
	if (r < 0)
		goto out;
	{
		struct anfu_param p[] = { ANFU_PSN(dkid, strlen(dkid)), ANFU_PS(wrapped),
					  ANFU_PI(anfu_clock_now_ms()) };

		r = anfu_db_exec(db,
				 "INSERT INTO vault_key (id, wrapped, created_ms, active) "
				 "VALUES ($1, $2, $3, 1)",
				 p, 3, NULL, NULL, NULL);
	}
	if (r < 0)
		goto out;
	r = cache_add(v, &d, &kept);
	if (r < 0)
		goto out;
	*ret = kept;
	r = 0;
out:
	anfu_datakey_free(d);
	free(wrapped);
	return r;
}

/* What ensure_active's transaction works with. */
struct ensure {
	struct anfu_vault *v;
	const struct anfu_datakey *active;
	bool created;
};

static int ensure_tx(struct anfu_tx *tx, void *ud)
{
	struct ensure *e = ud;
	int r;

	r = load_all(e->v, anfu_tx_db(tx), &e->active);
	if (r == 0 && !e->active) {
		r = create_active(e->v, anfu_tx_db(tx), &e->active);
		e->created = r == 0;
	}
	return r;
}

/* No active key was found: take the write lock, look again (another
 * process may have won the race), and create one if there still is none. */
static int ensure_active(struct anfu_vault *v, struct anfu_tx_exec *ex,
			 const struct anfu_datakey **ret)
{
	struct ensure e = { v, NULL, false };
	int r;

	r = anfu_tx_run(ex, NULL, ensure_tx, &e);
	if (r < 0)
		return r;
	if (e.created)
		anfu_log_info("vault.key_created", "active data key %s", anfu_datakey_id(e.active));
	*ret = e.active;
	return 0;
}

/*
 * Opens the vault on the calling thread's connection, which must have no
 * transaction open (ANFU_EINVAL). ANFU_ECRYPTO when a stored key does not
 * unwrap under this master key. *ret is the caller's.
 */
int anfu_vault_open(const struct anfu_keys *keys, struct anfu_tx_exec *tx, struct anfu_vault **ret)
{
	struct anfu_vault *v = NULL;
	const struct anfu_datakey *active = NULL;
	struct anfu_db *db = NULL;
	int r;

	if (!keys || !tx || !ret)
		return ANFU_EINVAL;
	r = anfu_store_db(anfu_tx_exec_store(tx), &db);
	if (r < 0)
		return r;
	if (db->tx_depth != 0)
		return ANFU_EINVAL;
	v = anfu_xcalloc(1, sizeof(*v));
	v->keys = keys;
	(void)pthread_mutex_init(&v->mu, NULL);
	r = load_all(v, db, &active);
	if (r == 0 && !active)
		r = ensure_active(v, tx, &active);
	if (r < 0)
		goto out;
	v->active = active;
	*ret = v;
	v = NULL;
	r = 0;
out:
	anfu_vault_free(v);
	return r;
}

void anfu_vault_free(struct anfu_vault *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		anfu_datakey_free(v->dks[i]);
	free(v->dks);
	(void)pthread_mutex_destroy(&v->mu);
	free(v);
}

/* ---- fields ------------------------------------------------------------ */

/* See vault.h. ANFU_EINVAL for a bad field or owner name, ANFU_ELIMIT for
 * a value above the field limit of keys/. */
int anfu_vault_seal(struct anfu_vault *v, const char *field, const char *owner_id,
		    const void *value, size_t len, char **ret)
{
	char aad[ANFU_LIMIT_VAULT_NAME_BYTES + ANFU_LIMIT_VAULT_OWNER_BYTES + 2];
	int r;

	if (!v || (!value && len) || !ret)
		return ANFU_EINVAL;
	r = make_aad(field, owner_id, aad, sizeof(aad));
	if (r < 0)
		return r;
	return anfu_datakey_encrypt(v->active, aad, value ? value : "", len, ret);
}

/* The dkid of "v1.<dkid>.<b64>" into out; ANFU_ECRYPTO when malformed. */
static int parse_dkid(const char *ct, char out[ANFU_LIMIT_DATAKEY_ID_BYTES + 1])
{
	const char *p, *dot;
	size_t n;

	if (strncmp(ct, "v1.", 3) != 0)
		return ANFU_ECRYPTO;
	p = ct + 3;
	dot = memchr(p, '.', strnlen(p, ANFU_LIMIT_DATAKEY_ID_BYTES + 1));
	if (!dot)
		return ANFU_ECRYPTO;
	n = (size_t)(dot - p);
	if (n == 0 || n > ANFU_LIMIT_DATAKEY_ID_BYTES)
		return ANFU_ECRYPTO;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

struct wrapped_ctx {
	char *wrapped;
};

static int wrapped_row(void *ud, const struct anfu_row *row)
{
	struct wrapped_ctx *c = ud;
	const char *w = anfu_row_text(row, 0, NULL);

	if (w && !c->wrapped)
		c->wrapped = anfu_xstrdup(w);
	return 1;
}

/* Finds dkid in the cache or loads it through db. ANFU_ENOTFOUND without
 * db; ANFU_ECRYPTO when the database has no such key (the text names a key
 * that never existed here: it was altered or comes from elsewhere). */
static int find_key(struct anfu_vault *v, struct anfu_db *db, const char *dkid,
		    const struct anfu_datakey **ret)
{
	struct wrapped_ctx c = { NULL };
	struct anfu_datakey *d = NULL;
	int r;

	*ret = cache_find(v, dkid);
	if (*ret)
		return 0;
	if (!db)
		return ANFU_ENOTFOUND;
	{
		struct anfu_param p[] = { ANFU_PS(dkid) };

		r = anfu_db_exec(db, "SELECT wrapped FROM vault_key WHERE id = $1", p, 1,
				 wrapped_row, &c, NULL);
	}
	if (r == 0 && !c.wrapped)
		r = ANFU_ECRYPTO;
	if (r == 0)
		r = anfu_keys_datakey_unwrap(v->keys, dkid, c.wrapped, &d);
	if (r == 0)
		r = cache_add(v, &d, ret);
	free(c.wrapped);
	return r;
}

/* See vault.h. ANFU_EINVAL for bad names or NULL arguments. */
int anfu_vault_open_field(struct anfu_vault *v, struct anfu_db *db, const char *field,
			  const char *owner_id, const char *ct, char **ret, size_t *ret_len)
{
	char aad[ANFU_LIMIT_VAULT_NAME_BYTES + ANFU_LIMIT_VAULT_OWNER_BYTES + 2];
	char dkid[ANFU_LIMIT_DATAKEY_ID_BYTES + 1];
	const struct anfu_datakey *d = NULL;
	char *pt = NULL;
	size_t ptlen = 0;
	int r;

	if (!v || !ct || !ret)
		return ANFU_EINVAL;
	r = make_aad(field, owner_id, aad, sizeof(aad));
	if (r < 0)
		return r;
	r = parse_dkid(ct, dkid);
	if (r < 0)
		return r;
	r = find_key(v, db, dkid, &d);
	if (r < 0)
		return r;
	r = anfu_datakey_decrypt(d, aad, ct, &pt, &ptlen);
	if (r < 0)
		return r;
	*ret = pt;
	if (ret_len)
		*ret_len = ptlen;
	return 0;
}

/* ---- keyed hashes ----------------------------------------------------- */

/* See vault.h: purpose "index:<kind>". ANFU_EINVAL for a bad kind. */
int anfu_vault_index(struct anfu_vault *v, const char *kind, const char *value, size_t len,
		     char out[2 * ANFU_HASH_LEN + 1])
{
	char purpose[ANFU_LIMIT_VAULT_NAME_BYTES + 8];
	int r;

	if (!v || (!value && len) || !out)
		return ANFU_EINVAL;
	r = make_purpose("index:", kind, purpose, sizeof(purpose));
	if (r < 0)
		return r;
	return anfu_keys_blind_index(v->keys, purpose, value ? value : "", len, out);
}

/* See vault.h: purpose "token:<purpose>". ANFU_EINVAL for a bad purpose. */
int anfu_vault_token_hash(struct anfu_vault *v, const char *purpose, const char *token, size_t len,
			  char out[2 * ANFU_HASH_LEN + 1])
{
	char full[ANFU_LIMIT_VAULT_NAME_BYTES + 8];
	uint8_t mac[ANFU_HASH_LEN];
	int r;

	if (!v || (!token && len) || !out)
		return ANFU_EINVAL;
	r = make_purpose("token:", purpose, full, sizeof(full));
	if (r < 0)
		return r;
	r = anfu_keys_mac(v->keys, full, token ? token : "", len, mac);
	if (r == 0)
		anfu_hex_encode(mac, sizeof(mac), out);
	anfu_wipe(mac, sizeof(mac));
	return r;
}
