/*
 * tests/unit/test_vault: field encryption and blind indexes (src/vault/).
 *
 * Each test gets a fresh data directory with real keys, a store on a
 * migrated SQLite file and a vault opened on it. Tampering is done on the
 * ciphertext text and on the vault_key rows, as an attacker holding the
 * database file would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/profile.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "vault/vault.h"

#include "fixture.h"

#define OWNER "usr_4kQm2yXz9bT7wLcVr3Jd0a"
#define OTHER "usr_9zZm2yXz9bT7wLcVr3Jd0b"

/* A vault fixture under profile cp; fails the test if it cannot be built. */
static struct anfu_fixture *fix_new(enum anfu_crypto_profile cp)
{
	const struct anfu_fixture_opts opts = { .name = "vault", .profile = cp };
	struct anfu_fixture *f = NULL;

	assert_int_equal(fixture_open(FIXTURE_VAULT, &opts, &f), 0);
	return f;
}

static int setup(void **state)
{
	*state = fix_new(ANFU_CRYPTO_INTL);
	return 0;
}

static char *seal(struct anfu_fixture *f, const char *field, const char *owner, const char *value)
{
	char *ct = NULL;

	assert_int_equal(anfu_vault_seal(f->vault, field, owner, value, strlen(value), &ct), 0);
	assert_non_null(ct);
	return ct;
}

/* ---- sealing and opening ------------------------------------------------ */

/* req: DATA-ENC-03 */
static void test_seal_then_open_returns_the_value(void **state)
{
	struct anfu_fixture *f = *state;
	const char *value = "13800138000";
	char *ct = seal(f, "phone", OWNER, value);
	char *pt = NULL;
	size_t len = 0;

	assert_int_equal(strncmp(ct, "v1.dk_", 6), 0);
	assert_null(strstr(ct, value));
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "phone", OWNER, ct, &pt, &len), 0);
	assert_int_equal(len, strlen(value));
	assert_string_equal(pt, value);
	anfu_free_secret(pt);
	free(ct);
}

/* A fresh IV each time: equal values do not give equal ciphertexts. */
static void test_seal_is_randomised(void **state)
{
	struct anfu_fixture *f = *state;
	char *a = seal(f, "email", OWNER, "li.lei@example.cn");
	char *b = seal(f, "email", OWNER, "li.lei@example.cn");

	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_seal_and_open_an_empty_value(void **state)
{
	struct anfu_fixture *f = *state;
	char *ct = NULL, *pt = NULL;
	size_t len = 99;

	assert_int_equal(anfu_vault_seal(f->vault, "name", OWNER, "", 0, &ct), 0);
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "name", OWNER, ct, &pt, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(pt, "");
	anfu_free_secret(pt);
	free(ct);
}

/* req: DATA-ENC-03 (the AAD binds a ciphertext to its column and row) */
static void test_open_refuses_another_field_or_owner(void **state)
{
	struct anfu_fixture *f = *state;
	char *ct = seal(f, "phone", OWNER, "13800138000");
	char *pt = (char *)"untouched";
	size_t len = 7;

	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "email", OWNER, ct, &pt, &len),
			 ANFU_ECRYPTO);
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "phone", OTHER, ct, &pt, &len),
			 ANFU_ECRYPTO);
	assert_string_equal(pt, "untouched");
	assert_int_equal(len, 7);
	free(ct);
}

static void test_open_refuses_tampered_text(void **state)
{
	struct anfu_fixture *f = *state;
	char *ct = seal(f, "idno", OWNER, "11010519491231002X");
	size_t n = strlen(ct);
	char *pt = NULL;
	size_t len = 0;

	/* Each character of the base64 part in turn. */
	for (size_t i = strlen("v1.") + strlen("dk_") + 23; i < n - 2; i++) {
		char saved = ct[i];

		ct[i] = saved == 'A' ? 'B' : 'A';
		assert_int_equal(
			anfu_vault_open_field(f->vault, f->db, "idno", OWNER, ct, &pt, &len),
			ANFU_ECRYPTO);
		ct[i] = saved;
	}
	ct[n - 6] = '\0';
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "idno", OWNER, ct, &pt, &len),
			 ANFU_ECRYPTO);
	free(ct);
}

static void test_open_refuses_malformed_text(void **state)
{
	struct anfu_fixture *f = *state;
	static const char *const bad[] = {
		"",
		"v1",
		"v1.",
		"v1..AAAA",
		"v2.dk_x.AAAA",
		"V1.dk_x.AAAA",
		"v1.dk_x",
		"v1.dk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		"AAAA",
		"plain 13800138000",
	};
	char *pt = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
			anfu_vault_open_field(f->vault, f->db, "phone", OWNER, bad[i], &pt, &len),
			ANFU_ECRYPTO);
}

/* A ciphertext naming a key this database never had. */
static void test_open_refuses_an_unknown_key(void **state)
{
	struct anfu_fixture *f = *state;
	char *ct = seal(f, "phone", OWNER, "13800138000");
	char *pt = NULL;
	size_t len = 0;

	memcpy(ct + strlen("v1.dk_"), "ZZZZ", 4);
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "phone", OWNER, ct, &pt, &len),
			 ANFU_ECRYPTO);
	assert_int_equal(anfu_vault_open_field(f->vault, NULL, "phone", OWNER, ct, &pt, &len),
			 ANFU_ENOTFOUND);
	free(ct);
}

static void test_bad_names_are_refused(void **state)
{
	struct anfu_fixture *f = *state;
	char *ct = NULL;
	char out[2 * ANFU_HASH_LEN + 1];

	assert_int_equal(anfu_vault_seal(f->vault, "ph:one", OWNER, "1", 1, &ct), ANFU_EINVAL);
	assert_int_equal(anfu_vault_seal(f->vault, "", OWNER, "1", 1, &ct), ANFU_EINVAL);
	assert_int_equal(anfu_vault_seal(f->vault, "phone", "", "1", 1, &ct), ANFU_EINVAL);
	assert_int_equal(anfu_vault_seal(f->vault, "phone", "usr 1", "1", 1, &ct), ANFU_EINVAL);
	assert_int_equal(anfu_vault_seal(f->vault, "Phone", OWNER, "1", 1, &ct), ANFU_EINVAL);
	assert_null(ct);
	assert_int_equal(anfu_vault_index(f->vault, "log in", "a", 1, out), ANFU_EINVAL);
	assert_int_equal(anfu_vault_token_hash(f->vault, "", "a", 1, out), ANFU_EINVAL);
}

/* ---- keys across vaults -------------------------------------------------- */

/* req: DATA-ENC-04 (data keys are stored wrapped; one per deployment) */
static void test_second_vault_on_the_same_store_decrypts(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_vault *v2 = NULL;
	char *ct = seal(f, "name", OWNER, "张三丰");
	char *pt = NULL;
	size_t len = 0;

	assert_int_equal(anfu_vault_open(f->keys, f->tx, &v2), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM vault_key", NULL), 1);
	assert_int_equal(anfu_vault_open_field(v2, NULL, "name", OWNER, ct, &pt, &len), 0);
	assert_string_equal(pt, "张三丰");
	anfu_free_secret(pt);
	anfu_vault_free(v2);
	free(ct);
}

/* A key made by another vault after ours opened is loaded on first use. */
static void test_key_not_in_the_cache_is_loaded_from_the_database(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_vault *v2 = NULL;
	char *old_ct = seal(f, "phone", OWNER, "13800138000");
	char *new_ct, *pt = NULL;
	size_t len = 0;

	/* Retire the key so the next vault creates a new active one. */
	assert_int_equal(
		anfu_db_exec(f->db, "UPDATE vault_key SET active = 0", NULL, 0, NULL, NULL, NULL),
		0);
	assert_int_equal(anfu_vault_open(f->keys, f->tx, &v2), 0);
	assert_int_equal(fixture_count(f->db, "SELECT count(*) FROM vault_key", NULL), 2);
	assert_int_equal(
		fixture_count(f->db, "SELECT count(*) FROM vault_key WHERE active = 1", NULL), 1);
	assert_int_equal(anfu_vault_seal(v2, "phone", OTHER, "13900139000", 11, &new_ct), 0);
	/* Sealed under the new key: "v1.dk_" + 22 characters differ. */
	assert_int_not_equal(memcmp(old_ct, new_ct, 6 + 22), 0);

	assert_int_equal(anfu_vault_open_field(f->vault, NULL, "phone", OTHER, new_ct, &pt, &len),
			 ANFU_ENOTFOUND);
	assert_int_equal(anfu_vault_open_field(f->vault, f->db, "phone", OTHER, new_ct, &pt, &len),
			 0);
	assert_string_equal(pt, "13900139000");
	anfu_free_secret(pt);
	/* Now cached: no database needed. */
	assert_int_equal(anfu_vault_open_field(f->vault, NULL, "phone", OTHER, new_ct, &pt, &len),
			 0);
	anfu_free_secret(pt);
	/* The retired key still decrypts what it sealed. */
	assert_int_equal(anfu_vault_open_field(v2, NULL, "phone", OWNER, old_ct, &pt, &len), 0);
	assert_string_equal(pt, "13800138000");
	anfu_free_secret(pt);
	anfu_vault_free(v2);
	free(old_ct);
	free(new_ct);
}

/* req: DATA-ENC-04 */
static void test_open_refuses_keys_of_another_master_key(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_fixture *g = fix_new(ANFU_CRYPTO_INTL);
	struct anfu_vault *v = NULL;

	/* g's master key meets f's wrapped data key. */
	assert_int_equal(anfu_vault_open(g->keys, f->tx, &v), ANFU_ECRYPTO);
	assert_null(v);
	fixture_close(g);
}

static void test_tampered_wrapped_key_is_refused(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_vault *v = NULL;

	assert_int_equal(anfu_db_exec(f->db,
				      "UPDATE vault_key SET wrapped = substr(wrapped, 1, "
				      "length(wrapped) - 4) || 'AAA='",
				      NULL, 0, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_vault_open(f->keys, f->tx, &v), ANFU_ECRYPTO);
	assert_null(v);
}

struct race {
	struct anfu_fixture *f;
	struct anfu_vault *v;
	const char *ct;
	int r;
};

static void *race_open(void *p)
{
	struct race *rc = p;
	struct anfu_db *db = NULL;
	char *pt = NULL;
	size_t len = 0;

	rc->r = anfu_store_db(rc->f->store, &db);
	if (rc->r == 0)
		rc->r = anfu_vault_open_field(rc->v, db, "phone", OTHER, rc->ct, &pt, &len);
	if (rc->r == 0 && strcmp(pt, "13900139000") != 0)
		rc->r = -100;
	anfu_free_secret(pt);
	return NULL;
}

/* Several threads missing the cache for the same key at once. */
static void test_concurrent_cache_misses_agree(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_vault *v2 = NULL;
	struct race rc[6];
	pthread_t t[6];
	char *ct = NULL;

	assert_int_equal(
		anfu_db_exec(f->db, "UPDATE vault_key SET active = 0", NULL, 0, NULL, NULL, NULL),
		0);
	assert_int_equal(anfu_vault_open(f->keys, f->tx, &v2), 0);
	assert_int_equal(anfu_vault_seal(v2, "phone", OTHER, "13900139000", 11, &ct), 0);
	for (int i = 0; i < 6; i++) {
		rc[i] = (struct race){ f, f->vault, ct, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, race_open, &rc[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(rc[i].r, 0);
	}
	anfu_vault_free(v2);
	free(ct);
}

/* ---- blind indexes and token hashes ------------------------------------- */

static bool is_lower_hex64(const char *s)
{
	if (strlen(s) != 2 * ANFU_HASH_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* req: DATA-ENC-03 (lookups through a keyed blind index) */
static void test_blind_index_is_deterministic_and_kind_separated(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_vault *v2 = NULL;
	char a[2 * ANFU_HASH_LEN + 1], b[2 * ANFU_HASH_LEN + 1];
	char c[2 * ANFU_HASH_LEN + 1], d[2 * ANFU_HASH_LEN + 1];

	assert_int_equal(anfu_vault_index(f->vault, "phone", "13800138000", 11, a), 0);
	assert_true(is_lower_hex64(a));
	assert_int_equal(anfu_vault_open(f->keys, f->tx, &v2), 0);
	assert_int_equal(anfu_vault_index(v2, "phone", "13800138000", 11, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(anfu_vault_index(f->vault, "login", "13800138000", 11, c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(anfu_vault_index(f->vault, "phone", "13800138001", 11, c), 0);
	assert_string_not_equal(a, c);
	/* A token hash of the same name and value is another function. */
	assert_int_equal(anfu_vault_token_hash(f->vault, "phone", "13800138000", 11, d), 0);
	assert_true(is_lower_hex64(d));
	assert_string_not_equal(a, d);
	anfu_vault_free(v2);
}

static void test_blind_index_depends_on_the_master_key(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_fixture *g = fix_new(ANFU_CRYPTO_INTL);
	char a[2 * ANFU_HASH_LEN + 1], b[2 * ANFU_HASH_LEN + 1];

	assert_int_equal(anfu_vault_index(f->vault, "email", "a@example.cn", 12, a), 0);
	assert_int_equal(anfu_vault_index(g->vault, "email", "a@example.cn", 12, b), 0);
	assert_string_not_equal(a, b);
	fixture_close(g);
}

static void test_token_hash_is_deterministic_and_purpose_separated(void **state)
{
	struct anfu_fixture *f = *state;
	char a[2 * ANFU_HASH_LEN + 1], b[2 * ANFU_HASH_LEN + 1], c[2 * ANFU_HASH_LEN + 1];

	assert_int_equal(anfu_vault_token_hash(f->vault, "session-id", "tok123", 6, a), 0);
	assert_int_equal(anfu_vault_token_hash(f->vault, "session-id", "tok123", 6, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(anfu_vault_token_hash(f->vault, "csrf", "tok123", 6, c), 0);
	assert_string_not_equal(a, c);
}

/* ---- the database file -------------------------------------------------- */

static bool file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;
	bool found;

	if (!fp)
		return false;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		size_t got = fread(data + n, 1, cap - n, fp);

		if (got == 0)
			break;
		n += got;
	}
	(void)fclose(fp);
	found = memmem(data, n, needle, strlen(needle)) != NULL;
	free(data);
	return found;
}

static bool db_files_contain(struct anfu_fixture *f, const char *needle)
{
	char wal[160];

	(void)snprintf(wal, sizeof(wal), "%s-wal", f->dbpath);
	return file_contains(f->dbpath, needle) || file_contains(wal, needle);
}

/* req: DATA-ENC-03 (the database file never holds personal data in clear) */
static void test_database_file_holds_no_plaintext(void **state)
{
	struct anfu_fixture *f = *state;
	static const char *const secrets[] = {
		"13812345678",
		"zhang.sanfeng@example.cn",
		"张三丰",
		"11010519491231002X",
	};
	static const char *const fields[] = { "phone", "email", "name", "idno" };
	const char *canary = "canary-in-clear-7d1f";

	assert_int_equal(anfu_db_exec(f->db, "CREATE TABLE sealed (field TEXT, v TEXT)", NULL, 0,
				      NULL, NULL, NULL),
			 0);
	for (size_t i = 0; i < 4; i++) {
		char *ct = seal(f, fields[i], OWNER, secrets[i]);
		struct anfu_param p[] = { ANFU_PS(fields[i]), ANFU_PS(ct) };

		assert_int_equal(anfu_db_exec(f->db,
					      "INSERT INTO sealed (field, v) VALUES ($1, $2)", p, 2,
					      NULL, NULL, NULL),
				 0);
		free(ct);
	}
	{
		struct anfu_param p[] = { ANFU_PS("control"), ANFU_PS(canary) };

		assert_int_equal(anfu_db_exec(f->db,
					      "INSERT INTO sealed (field, v) VALUES ($1, $2)", p, 2,
					      NULL, NULL, NULL),
				 0);
	}
	/* Close every connection so the WAL is checkpointed into the file. */
	anfu_vault_free(f->vault);
	f->vault = NULL;
	anfu_store_free(f->store);
	f->store = NULL;
	f->db = NULL;
	assert_true(db_files_contain(f, canary)); /* the search does find text */
	for (size_t i = 0; i < 4; i++)
		assert_false(db_files_contain(f, secrets[i]));
}

/* ---- the gm profile ------------------------------------------------------ */

/* req: DATA-ENC-03 (SM4-GCM under crypto=gm) */
static void test_gm_profile_seals_and_opens(void **state)
{
	struct anfu_fixture *g = fix_new(ANFU_CRYPTO_GM);
	struct anfu_vault *v2 = NULL;
	char a[2 * ANFU_HASH_LEN + 1], b[2 * ANFU_HASH_LEN + 1];
	char *ct = seal(g, "phone", OWNER, "13800138000");
	char *pt = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(anfu_vault_open_field(g->vault, g->db, "phone", OWNER, ct, &pt, &len), 0);
	assert_string_equal(pt, "13800138000");
	anfu_free_secret(pt);
	assert_int_equal(anfu_vault_open_field(g->vault, g->db, "phone", OTHER, ct, &pt, &len),
			 ANFU_ECRYPTO);
	assert_int_equal(anfu_vault_open(g->keys, g->tx, &v2), 0);
	assert_int_equal(anfu_vault_open_field(v2, NULL, "phone", OWNER, ct, &pt, &len), 0);
	anfu_free_secret(pt);
	assert_int_equal(anfu_vault_index(g->vault, "phone", "13800138000", 11, a), 0);
	assert_int_equal(anfu_vault_index(v2, "phone", "13800138000", 11, b), 0);
	assert_string_equal(a, b);
	assert_true(is_lower_hex64(a));
	anfu_vault_free(v2);
	free(ct);
	fixture_close(g);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_seal_then_open_returns_the_value),
		T(test_seal_is_randomised),
		T(test_seal_and_open_an_empty_value),
		T(test_open_refuses_another_field_or_owner),
		T(test_open_refuses_tampered_text),
		T(test_open_refuses_malformed_text),
		T(test_open_refuses_an_unknown_key),
		T(test_bad_names_are_refused),
		T(test_second_vault_on_the_same_store_decrypts),
		T(test_key_not_in_the_cache_is_loaded_from_the_database),
		T(test_open_refuses_keys_of_another_master_key),
		T(test_tampered_wrapped_key_is_refused),
		T(test_concurrent_cache_misses_agree),
		T(test_blind_index_is_deterministic_and_kind_separated),
		T(test_blind_index_depends_on_the_master_key),
		T(test_token_hash_is_deterministic_and_purpose_separated),
		T(test_database_file_holds_no_plaintext),
		cmocka_unit_test(test_gm_profile_seals_and_opens),
	};
#undef T
	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
