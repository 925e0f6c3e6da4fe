/*
 * Unit tests for keys/: the data directory's key files (creation, modes,
 * never overwriting, profile checks), audit signing and key ids, data-key
 * wrapping and field encryption, blind indexes, public export and TLS
 * files. Each test works in its own mkdtemp directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "crypto/crypto.h"
#include "keys/keys.h"

#include "fixture.h"

struct fixture {
	char dir[FIXTURE_DIR_MAX]; /* mkdtemp root */
	char data[96];		   /* the data directory inside it (created by init) */
	char other[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (fixture_mkdtemp("keys", f->dir) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	snprintf(f->other, sizeof(f->other), "%s/other", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)fixture_rmtree(f->dir);
	free(f);
	return 0;
}

static void path_of(char *out, size_t cap, const char *data, const char *rel)
{
	int n = snprintf(out, cap, "%s/%s", data, rel);

	assert_true(n > 0 && (size_t)n < cap);
}

static unsigned mode_of(const char *data, const char *rel)
{
	char p[256];
	struct stat st;

	path_of(p, sizeof(p), data, rel);
	assert_int_equal(stat(p, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

/* Whole file as a malloc'd NUL-terminated string. */
static char *slurp(const char *data, const char *rel, size_t *ret_len)
{
	char p[256];
	char *buf = malloc(65536);
	ssize_t n;
	int fd;

	path_of(p, sizeof(p), data, rel);
	assert_non_null(buf);
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, 65535);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	if (ret_len)
		*ret_len = (size_t)n;
	return buf;
}

static void spew(const char *data, const char *rel, const char *text, mode_t mode)
{
	char p[256];
	int fd;

	path_of(p, sizeof(p), data, rel);
	(void)unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void chmod_rel(const char *data, const char *rel, mode_t mode)
{
	char p[256];

	path_of(p, sizeof(p), data, rel);
	assert_int_equal(chmod(p, mode), 0);
}

static void unlink_rel(const char *data, const char *rel)
{
	char p[256];

	path_of(p, sizeof(p), data, rel);
	assert_int_equal(unlink(p), 0);
}

static struct anfu_keys *init_and_load(const char *data, enum anfu_crypto_profile cp)
{
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(data, cp, NULL), 0);
	assert_int_equal(anfu_keys_load(data, cp, &k), 0);
	return k;
}

static const char *key_files[] = {
	"keys/audit-signing.key", "keys/audit-signing.pub", "keys/master.key",
	"tls/server.crt",	  "tls/server.key",
};

/* ---- init_dir ----------------------------------------------------------- */

/* req: DATA-KEY-01, DATA-ENC-04 */
static void test_init_dir_creates_every_file_with_its_mode(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	char want_tls[256];

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	assert_true(made.audit && made.master && made.tls);
	assert_memory_equal(made.audit_kid, "ed25519-", 8);
	assert_int_equal(strlen(made.audit_kid), 8 + 16);
	assert_memory_equal(made.master_kid, "mk-", 3);
	assert_int_equal(strlen(made.master_kid), 3 + 16);
	path_of(want_tls, sizeof(want_tls), f->data, "tls/server.crt");
	assert_string_equal(made.tls_path, want_tls);
	assert_int_equal(mode_of(f->data, "keys"), 0700);
	assert_int_equal(mode_of(f->data, "tls"), 0700);
	assert_int_equal(mode_of(f->data, "keys/audit-signing.key"), 0600);
	assert_int_equal(mode_of(f->data, "keys/audit-signing.pub"), 0644);
	assert_int_equal(mode_of(f->data, "keys/master.key"), 0600);
	assert_int_equal(mode_of(f->data, "tls/server.key"), 0600);
	assert_int_equal(mode_of(f->data, "tls/server.crt"), 0644);
}

/* Every key file starts with the documented header line. */
static void test_init_dir_writes_the_header_line(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	char want[128];
	char *key, *pub, *master, *tls;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	key = slurp(f->data, "keys/audit-signing.key", NULL);
	pub = slurp(f->data, "keys/audit-signing.pub", NULL);
	master = slurp(f->data, "keys/master.key", NULL);
	tls = slurp(f->data, "tls/server.key", NULL);
	snprintf(want, sizeof(want), "# anfu-key id=%s alg=ed25519 created=", made.audit_kid);
	assert_memory_equal(key, want, strlen(want));
	assert_memory_equal(pub, want, strlen(want));
	assert_non_null(strstr(key, "\n-----BEGIN PRIVATE KEY-----\n"));
	assert_non_null(strstr(pub, "\n-----BEGIN PUBLIC KEY-----\n"));
	snprintf(want, sizeof(want), "# anfu-key id=%s alg=raw-256 created=", made.master_kid);
	assert_memory_equal(master, want, strlen(want));
	assert_memory_equal(tls, "# anfu-key id=tls-", 18);
	/* created= is an ISO time from the anfu clock: 2026-11-21T13:12:00.123Z */
	assert_int_equal(strchr(key, '\n') - strstr(key, "created=") - 8, 24);
	free(key);
	free(pub);
	free(master);
	free(tls);
}

/* master.key: header, then the base64 of exactly 32 bytes, then a newline. */
static void test_master_key_file_holds_32_bytes_of_base64(void **state)
{
	struct fixture *f = *state;
	char *text, *body;
	uint8_t *raw = NULL;
	size_t n = 0;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	text = slurp(f->data, "keys/master.key", NULL);
	body = strchr(text, '\n') + 1;
	assert_int_equal(strlen(body), 44 + 1);
	assert_int_equal(body[44], '\n');
	assert_int_equal(anfu_base64_decode(body, 44, &raw, &n), 0);
	assert_int_equal(n, 32);
	anfu_wipe(raw, n);
	free(raw);
	free(text);
}

/* req: DATA-KEY-01 (no unauthorised replacement of keys) */
static void test_init_dir_twice_creates_nothing_and_changes_no_byte(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	char *before[5];

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	for (int i = 0; i < 5; i++)
		before[i] = slurp(f->data, key_files[i], NULL);
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	assert_false(made.audit || made.master || made.tls);
	assert_string_equal(made.audit_kid, "");
	assert_string_equal(made.master_kid, "");
	for (int i = 0; i < 5; i++) {
		char *after = slurp(f->data, key_files[i], NULL);

		assert_string_equal(after, before[i]);
		free(after);
		free(before[i]);
	}
}

/* Another profile's init on an existing directory must not swap the key. */
static void test_init_dir_with_other_profile_keeps_existing_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	char *before, *after;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	before = slurp(f->data, "keys/audit-signing.key", NULL);
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_GM, &made), 0);
	assert_false(made.audit);
	after = slurp(f->data, "keys/audit-signing.key", NULL);
	assert_string_equal(after, before);
	free(before);
	free(after);
}

static void test_init_dir_recreates_only_a_missing_public_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made, again;
	struct anfu_sigkey *pub = NULL;
	char kid[ANFU_KID_MAX];
	char *before, *after;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	before = slurp(f->data, "keys/audit-signing.key", NULL);
	unlink_rel(f->data, "keys/audit-signing.pub");
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &again), 0);
	assert_false(again.audit);
	after = slurp(f->data, "keys/audit-signing.key", NULL);
	assert_string_equal(after, before);
	assert_int_equal(anfu_keys_load_audit_public(f->data, &pub, kid), 0);
	assert_string_equal(kid, made.audit_kid);
	anfu_sigkey_free(pub);
	free(before);
	free(after);
}

static void test_init_dir_refuses_a_public_key_without_its_private_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made = { .audit = true };

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	unlink_rel(f->data, "keys/audit-signing.key");
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), ANFU_ECONFLICT);
	assert_true(made.audit); /* untouched on failure */
}

static void test_init_dir_refuses_half_a_tls_pair(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	unlink_rel(f->data, "tls/server.crt");
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), ANFU_ECONFLICT);
}

/* Names in dir that contain ".tmp-" (an interrupted atomic write). */
static int count_tmp(const char *data, const char *rel)
{
	char p[256];
	struct dirent *e;
	DIR *d;
	int n = 0;

	path_of(p, sizeof(p), data, rel);
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".tmp-"))
			n++;
	closedir(d);
	return n;
}

static void test_init_dir_leaves_no_temporary_files(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	assert_int_equal(count_tmp(f->data, "keys"), 0);
	assert_int_equal(count_tmp(f->data, "tls"), 0);
}

/* Several inits racing on one fresh directory: each either makes a file or
 * finds it made, none fails, and the result is one consistent set.
 * req: DATA-KEY-01 */
static void test_concurrent_init_dir_makes_one_consistent_set(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;
	struct anfu_sigkey *pub = NULL;
	char kid[ANFU_KID_MAX];
	pid_t pids[4];

	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL) == 0 ? 0 : 1);
	}
	for (int i = 0; i < 4; i++) {
		int status = -1;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), 0);
	assert_int_equal(anfu_keys_load_audit_public(f->data, &pub, kid), 0);
	assert_string_equal(kid, anfu_keys_audit_kid(k));
	assert_int_equal(count_tmp(f->data, "keys"), 0);
	assert_int_equal(count_tmp(f->data, "tls"), 0);
	anfu_sigkey_free(pub);
	anfu_keys_free(k);
}

/* ---- load -------------------------------------------------------------- */

static void test_load_finds_the_ids_init_made(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), 0);
	assert_string_equal(anfu_keys_audit_kid(k), made.audit_kid);
	assert_string_equal(anfu_keys_master_kid(k), made.master_kid);
	assert_int_equal(anfu_keys_audit_alg(k), ANFU_SIG_ED25519);
	anfu_keys_free(k);
}

/* A protected keystore: private key files only the owner reads.
 * req: DATA-ENC-04, DATA-KEY-01 */
static void test_load_refuses_a_private_key_readable_by_others(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	chmod_rel(f->data, "keys/audit-signing.key", 0644);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_EPERM);
	assert_null(k);
	chmod_rel(f->data, "keys/audit-signing.key", 0600);
	chmod_rel(f->data, "keys/master.key", 0640);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_EPERM);
	chmod_rel(f->data, "keys/master.key", 0601);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_EPERM);
	chmod_rel(f->data, "keys/master.key", 0400);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), 0);
	anfu_keys_free(k);
}

/* A key file replaced by a symbolic link (to anything) is refused. */
static void test_load_refuses_a_symlinked_key_file(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;
	char p[256], moved[256];

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	path_of(p, sizeof(p), f->data, "keys/master.key");
	path_of(moved, sizeof(moved), f->data, "master.key.elsewhere");
	assert_int_equal(rename(p, moved), 0);
	assert_int_equal(symlink(moved, p), 0);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_EPERM);
	assert_null(k);
}

static void test_load_of_an_empty_directory_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_load(f->dir, ANFU_CRYPTO_INTL, &k), ANFU_ENOTFOUND);
	assert_null(k);
}

/* req: DATA-TX-07 */
static void test_gm_profile_makes_an_sm2_key_that_intl_refuses(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_GM, &made), 0);
	assert_memory_equal(made.audit_kid, "sm2-", 4);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_GM, &k), 0);
	assert_int_equal(anfu_keys_audit_alg(k), ANFU_SIG_SM2);
	anfu_keys_free(k);
	k = NULL;
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_EINVAL);
	assert_null(k);
}

/* req: DATA-TX-07 */
static void test_gm_profile_refuses_an_ed25519_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_GM, &k), ANFU_EINVAL);
	assert_null(k);
}

/* A header that names another key id is a corrupt (or swapped) file. */
static void test_load_refuses_a_header_that_does_not_match_the_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;
	char *text, *id;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	text = slurp(f->data, "keys/audit-signing.key", NULL);
	id = strstr(text, "id=ed25519-") + 11;
	id[0] = id[0] == '0' ? '1' : '0';
	spew(f->data, "keys/audit-signing.key", text, 0600);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_ECORRUPT);
	anfu_wipe(text, strlen(text));
	free(text);
}

static void test_load_refuses_a_master_key_of_the_wrong_length(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	spew(f->data, "keys/master.key",
	     "# anfu-key id=mk-0011223344556677 alg=raw-256 created=x\nZm9vYmFy\n", 0600);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_ECORRUPT);
	spew(f->data, "keys/master.key", "AAAA\n", 0600);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k), ANFU_ECORRUPT);
	assert_null(k);
}

/* ---- audit signing and key ids ------------------------------------------- */

static void check_audit_round_trip(const char *data, enum anfu_crypto_profile cp)
{
	struct anfu_keys *k = init_and_load(data, cp);
	struct anfu_sigkey *pub = NULL;
	char kid[ANFU_KID_MAX];
	const char *msg = "seq=42 head=abcdef time=2026-11-21T13:12:00.000Z";
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);

	assert_int_equal(anfu_keys_audit_sign(k, msg, strlen(msg), sig, &siglen), 0);
	assert_int_equal(anfu_keys_load_audit_public(data, &pub, kid), 0);
	assert_string_equal(kid, anfu_keys_audit_kid(k));
	assert_false(anfu_sigkey_has_private(pub));
	assert_int_equal(anfu_verify(pub, msg, strlen(msg), sig, siglen), 0);
	assert_int_equal(anfu_verify(pub, msg, strlen(msg) - 1, sig, siglen), ANFU_ECRYPTO);
	anfu_sigkey_free(pub);
	anfu_keys_free(k);
}

/* req: AUD-STO-02 */
static void test_audit_signature_verifies_with_the_public_key_intl(void **state)
{
	struct fixture *f = *state;

	check_audit_round_trip(f->data, ANFU_CRYPTO_INTL);
}

/* req: AUD-STO-02, DATA-TX-07 */
static void test_audit_signature_verifies_with_the_public_key_gm(void **state)
{
	struct fixture *f = *state;

	check_audit_round_trip(f->data, ANFU_CRYPTO_GM);
}

/* A verifier recomputes the id from the public key alone. req: AUD-STO-02 */
static void test_kid_is_alg_and_16_hex_of_the_spki_sha256(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	struct anfu_sigkey *pub = NULL;
	char kid[ANFU_KID_MAX], again[ANFU_KID_MAX], want[ANFU_KID_MAX], hex[65];
	uint8_t fp[ANFU_HASH_LEN];

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, &made), 0);
	assert_int_equal(anfu_keys_load_audit_public(f->data, &pub, kid), 0);
	assert_int_equal(anfu_keys_kid_for(pub, again), 0);
	assert_int_equal(anfu_sigkey_fingerprint(pub, fp), 0);
	anfu_hex_encode(fp, sizeof(fp), hex);
	snprintf(want, sizeof(want), "ed25519-%.16s", hex);
	assert_string_equal(again, want);
	assert_string_equal(kid, want);
	assert_string_equal(made.audit_kid, want);
	anfu_sigkey_free(pub);
}

static void test_export_public_lists_the_kid_and_the_pem(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys_made made;
	struct anfu_buf out;
	struct anfu_sigkey *back = NULL;
	char line[256];

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_GM, &made), 0);
	anfu_buf_init(&out, 1 << 16);
	assert_int_equal(anfu_buf_appends(&out, "# export\n"), 0);
	assert_int_equal(anfu_keys_export_public(f->data, &out), 0);
	snprintf(line, sizeof(line),
		 "# export\n# anfu-key id=%s alg=sm2 use=audit\n-----BEGIN PUBLIC KEY-----\n",
		 made.audit_kid);
	assert_memory_equal(out.data, line, strlen(line));
	assert_non_null(strstr(out.data, "-----END PUBLIC KEY-----\n"));
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_int_equal(anfu_sigkey_from_pem(out.data, out.len, &back), 0);
	assert_int_equal(anfu_sigkey_alg(back), ANFU_SIG_SM2);
	anfu_sigkey_free(back);
	anfu_buf_free(&out);
}

static void test_export_public_failure_leaves_the_buffer_as_it_was(void **state)
{
	struct fixture *f = *state;
	struct anfu_buf out;

	anfu_buf_init(&out, 1 << 16);
	assert_int_equal(anfu_buf_appends(&out, "kept"), 0);
	assert_int_equal(anfu_keys_export_public(f->dir, &out), ANFU_ENOTFOUND);
	assert_string_equal(out.data, "kept");
	assert_int_equal(out.len, 4);
	anfu_buf_free(&out);
}

/* ---- data keys and field encryption -------------------------------------- */

static void check_field_round_trip(const char *data, enum anfu_crypto_profile cp,
				   size_t wrapped_b64_len)
{
	struct anfu_keys *k = init_and_load(data, cp);
	struct anfu_datakey *d = NULL, *u = NULL;
	char *wrapped = NULL, *ct = NULL, *pt = NULL, prefix[96];
	size_t len = 0;

	assert_int_equal(anfu_keys_datakey_new(k, "dk_2026", &d, &wrapped), 0);
	assert_string_equal(anfu_datakey_id(d), "dk_2026");
	snprintf(prefix, sizeof(prefix), "%s.", anfu_keys_master_kid(k));
	assert_memory_equal(wrapped, prefix, strlen(prefix));
	assert_int_equal(strlen(wrapped), strlen(prefix) + wrapped_b64_len);
	assert_int_equal(anfu_datakey_encrypt(d, "user.phone:usr_1", "13800001050", 11, &ct), 0);
	assert_memory_equal(ct, "v1.dk_2026.", 11);
	assert_int_equal(anfu_keys_datakey_unwrap(k, "dk_2026", wrapped, &u), 0);
	assert_int_equal(anfu_datakey_decrypt(u, "user.phone:usr_1", ct, &pt, &len), 0);
	assert_int_equal(len, 11);
	assert_string_equal(pt, "13800001050");
	anfu_free_secret(pt);
	free(ct);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_datakey_free(u);
	anfu_keys_free(k);
}

/* AES-256-GCM: iv 12 + key 32 + tag 16 = 60 bytes = 80 base64 characters.
 * req: DATA-ENC-03, DATA-ENC-04 */
static void test_datakey_wrap_and_field_round_trip_intl(void **state)
{
	struct fixture *f = *state;

	check_field_round_trip(f->data, ANFU_CRYPTO_INTL, 80);
}

/* SM4-GCM: iv 12 + key 16 + tag 16 = 44 bytes = 60 base64 characters.
 * req: DATA-ENC-03, DATA-ENC-04, DATA-TX-07 */
static void test_datakey_wrap_and_field_round_trip_gm(void **state)
{
	struct fixture *f = *state;

	check_field_round_trip(f->data, ANFU_CRYPTO_GM, 60);
}

/* req: DATA-ENC-03 */
static void test_field_decrypt_rejects_another_aad(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_datakey *d = NULL;
	char *wrapped = NULL, *ct = NULL, *pt = (char *)"unchanged";
	size_t len = 7;

	assert_int_equal(anfu_keys_datakey_new(k, "dk1", &d, &wrapped), 0);
	assert_int_equal(anfu_datakey_encrypt(d, "user.phone:usr_1", "secret", 6, &ct), 0);
	assert_int_equal(anfu_datakey_decrypt(d, "user.phone:usr_2", ct, &pt, &len), ANFU_ECRYPTO);
	assert_int_equal(anfu_datakey_decrypt(d, "user.email:usr_1", ct, &pt, &len), ANFU_ECRYPTO);
	assert_string_equal(pt, "unchanged");
	assert_int_equal(len, 7);
	free(ct);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_keys_free(k);
}

/* req: DATA-ENC-03 */
static void test_field_decrypt_rejects_tampered_ciphertext(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_GM);
	struct anfu_datakey *d = NULL;
	char *wrapped = NULL, *ct = NULL, *pt = NULL;
	size_t len = 0, n;

	assert_int_equal(anfu_keys_datakey_new(k, "dk1", &d, &wrapped), 0);
	assert_int_equal(anfu_datakey_encrypt(d, "aad", "secret value", 12, &ct), 0);
	n = strlen(ct);
	/* One character in the middle of the base64: a different valid byte. */
	ct[n - 12] = ct[n - 12] == 'A' ? 'B' : 'A';
	assert_int_equal(anfu_datakey_decrypt(d, "aad", ct, &pt, &len), ANFU_ECRYPTO);
	ct[n - 1] = '\0'; /* broken base64 */
	assert_int_equal(anfu_datakey_decrypt(d, "aad", ct, &pt, &len), ANFU_ECRYPTO);
	assert_int_equal(anfu_datakey_decrypt(d, "aad", "v1.dk2.AAAA", &pt, &len), ANFU_ECRYPTO);
	assert_int_equal(anfu_datakey_decrypt(d, "aad", "v2.dk1.AAAA", &pt, &len), ANFU_ECRYPTO);
	assert_int_equal(anfu_datakey_decrypt(d, "aad", "", &pt, &len), ANFU_ECRYPTO);
	assert_null(pt);
	free(ct);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_keys_free(k);
}

/* Encrypting one value twice gives two texts (fresh IV each time). */
static void test_field_encrypt_uses_a_fresh_iv(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_datakey *d = NULL;
	char *wrapped = NULL, *a = NULL, *b = NULL;

	assert_int_equal(anfu_keys_datakey_new(k, "dk1", &d, &wrapped), 0);
	assert_int_equal(anfu_datakey_encrypt(d, "aad", "v", 1, &a), 0);
	assert_int_equal(anfu_datakey_encrypt(d, "aad", "v", 1, &b), 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_keys_free(k);
}

/* req: DATA-ENC-04 */
static void test_datakey_unwrap_needs_the_same_master_key(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k1 = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_keys *k2 = init_and_load(f->other, ANFU_CRYPTO_INTL);
	struct anfu_datakey *d = NULL, *u = NULL;
	char *wrapped = NULL, *forged = NULL;
	size_t kidlen = strlen(anfu_keys_master_kid(k1));

	assert_int_equal(anfu_keys_datakey_new(k1, "dk1", &d, &wrapped), 0);
	assert_int_equal(anfu_keys_datakey_unwrap(k2, "dk1", wrapped, &u), ANFU_ECRYPTO);
	/* Even under the other directory's master kid, the KEK differs. */
	forged = malloc(strlen(wrapped) + 1);
	assert_non_null(forged);
	memcpy(forged, anfu_keys_master_kid(k2), kidlen);
	memcpy(forged + kidlen, wrapped + kidlen, strlen(wrapped) - kidlen + 1);
	assert_int_equal(anfu_keys_datakey_unwrap(k2, "dk1", forged, &u), ANFU_ECRYPTO);
	assert_null(u);
	free(forged);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_keys_free(k1);
	anfu_keys_free(k2);
}

/* The dkid is bound as AAD: a wrapped key cannot be filed under another id. */
static void test_datakey_unwrap_rejects_another_dkid(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_datakey *d = NULL, *u = NULL;
	char *wrapped = NULL;

	assert_int_equal(anfu_keys_datakey_new(k, "dk1", &d, &wrapped), 0);
	assert_int_equal(anfu_keys_datakey_unwrap(k, "dk2", wrapped, &u), ANFU_ECRYPTO);
	assert_null(u);
	assert_int_equal(anfu_keys_datakey_new(k, "bad.id", &u, &wrapped), ANFU_EINVAL);
	assert_int_equal(anfu_keys_datakey_new(k, "", &u, &wrapped), ANFU_EINVAL);
	free(wrapped);
	anfu_datakey_free(d);
	anfu_keys_free(k);
}

/* ---- blind index and MAC --------------------------------------------------- */

/* req: DATA-ENC-03 (equality lookups without decrypting) */
static void test_blind_index_is_deterministic_per_purpose(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_INTL);
	char a[65], b[65], c[65], d[65];
	uint8_t mac[ANFU_HASH_LEN];
	char hex[65];

	assert_int_equal(anfu_keys_blind_index(k, "user.phone", "13800001050", 11, a), 0);
	assert_int_equal(anfu_keys_blind_index(k, "user.phone", "13800001050", 11, b), 0);
	assert_int_equal(anfu_keys_blind_index(k, "user.email", "13800001050", 11, c), 0);
	assert_int_equal(anfu_keys_blind_index(k, "user.phone", "13800001051", 11, d), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	assert_int_equal(anfu_keys_mac(k, "user.phone", "13800001050", 11, mac), 0);
	anfu_hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex, a);
	anfu_keys_free(k);
}

static void test_blind_index_differs_between_master_keys_and_profiles(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k1 = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_keys *k2 = init_and_load(f->other, ANFU_CRYPTO_INTL);
	struct anfu_keys *g = NULL;
	char a[65], b[65], c[65];

	assert_int_equal(anfu_keys_blind_index(k1, "p", "v", 1, a), 0);
	assert_int_equal(anfu_keys_blind_index(k2, "p", "v", 1, b), 0);
	assert_string_not_equal(a, b);
	/* Same master key under the gm profile: HMAC-SM3, another index. */
	unlink_rel(f->data, "keys/audit-signing.key");
	unlink_rel(f->data, "keys/audit-signing.pub");
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_GM, NULL), 0);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_GM, &g), 0);
	assert_string_equal(anfu_keys_master_kid(g), anfu_keys_master_kid(k1));
	assert_int_equal(anfu_keys_blind_index(g, "p", "v", 1, c), 0);
	assert_string_not_equal(a, c);
	anfu_keys_free(k1);
	anfu_keys_free(k2);
	anfu_keys_free(g);
}

/* The derived keys a key set remembers (keyring.c's memo) give the MACs
 * a fresh key set computes: purposes that are prefixes of each other stay
 * apart, a purpose asked for again gets its own key back, and purposes
 * beyond the memo's room are still right. req: DATA-ENC-03 */
static void test_remembered_mac_keys_equal_fresh_ones(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k1 = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_keys *k2 = NULL;
	enum {
		N = ANFU_LIMIT_KEYS_MEMO + 8
	};
	char a[N][65], b[65], purpose[16];

	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_INTL, &k2), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			(void)snprintf(purpose, sizeof(purpose), "p%.*s", i % 12 + 1,
				       "abcdefghijkl");
			if (i >= 12)
				(void)snprintf(purpose, sizeof(purpose), "q.%d", i);
			assert_int_equal(anfu_keys_blind_index(k1, purpose, "v", 1, b), 0);
			if (round == 0)
				memcpy(a[i], b, sizeof(b));
			else
				assert_string_equal(a[i], b);
		}
	}
	/* k2 derives each key afresh, in the other order. */
	for (int i = N - 1; i >= 0; i--) {
		(void)snprintf(purpose, sizeof(purpose), "p%.*s", i % 12 + 1, "abcdefghijkl");
		if (i >= 12)
			(void)snprintf(purpose, sizeof(purpose), "q.%d", i);
		assert_int_equal(anfu_keys_blind_index(k2, purpose, "v", 1, b), 0);
		assert_string_equal(a[i], b);
		if (i > 0)
			assert_string_not_equal(a[i], a[i - 1]);
	}
	anfu_keys_free(k1);
	anfu_keys_free(k2);
}

static void test_mac_rejects_bad_purposes(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = init_and_load(f->data, ANFU_CRYPTO_INTL);
	char out[65] = "unchanged";
	char longp[80];

	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(anfu_keys_blind_index(k, "", "v", 1, out), ANFU_EINVAL);
	assert_int_equal(anfu_keys_blind_index(k, "has space", "v", 1, out), ANFU_EINVAL);
	assert_int_equal(anfu_keys_blind_index(k, longp, "v", 1, out), ANFU_EINVAL);
	assert_string_equal(out, "unchanged");
	anfu_keys_free(k);
}

/* ---- known answers ---------------------------------------------------------- */

/* A master key of the bytes 0x00..0x1f under kid mk-0011223344556677. The
 * answers below were computed outside anfu (Python's cryptography package:
 * HKDF-SHA256 without salt, HMAC-SHA256, AES-256-GCM) from the derivations
 * docs/iam.md and src/keys/ document, so a change of derivation, which
 * would orphan every stored index and wrapped key, cannot pass unnoticed. */
#define KAT_MASTER_KEY                                                                     \
	"# anfu-key id=mk-0011223344556677 alg=raw-256 created=2026-01-01T00:00:00.000Z\n" \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"

static struct anfu_keys *load_kat_master(const char *data)
{
	struct anfu_keys *k = NULL;

	assert_int_equal(anfu_keys_init_dir(data, ANFU_CRYPTO_INTL, NULL), 0);
	spew(data, "keys/master.key", KAT_MASTER_KEY, 0600);
	assert_int_equal(anfu_keys_load(data, ANFU_CRYPTO_INTL, &k), 0);
	assert_string_equal(anfu_keys_master_kid(k), "mk-0011223344556677");
	return k;
}

/* HMAC-SHA256 under HKDF(master, "anfu mac v1 index:phone"). req: DATA-ENC-03 */
static void test_blind_index_matches_the_documented_derivation(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k = load_kat_master(f->data);
	char out[65];

	assert_int_equal(anfu_keys_blind_index(k, "index:phone", "13800001050", 11, out), 0);
	assert_string_equal(out,
			    "c5c2f27577b65f7f13aa3d33196fa5ba9222fe15bb8b8d3d8ba1208ea550e47b");
	anfu_keys_free(k);
}

/* The payment PIN key (issue 10): K_pin = HKDF(master, "anfu mac v1
 * payment_pin"); its id is "pin-" + 16 hex of HMAC(K_pin, "kid\0"), a
 * record's MAC HMAC(K_pin, "mac\0" || msg); answers made outside anfu like
 * the ones above. Another id is not held; the tag keeps the PIN MAC apart
 * from anfu_keys_mac of the same purpose. req: DATA-KEY-01, IAM-PWD-14 */
static void test_pin_key_matches_the_documented_derivation(void **state)
{
	static const uint8_t msg[] = "usr_kat\0\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a"
				     "\x4b\x4c\x4d\x4e\x4f"
				     "582947";
	struct fixture *f = *state;
	struct anfu_keys *k = load_kat_master(f->data);
	uint8_t mac[ANFU_HASH_LEN], plain[ANFU_HASH_LEN], untouched[ANFU_HASH_LEN] = { 7 };
	char hex[2 * ANFU_HASH_LEN + 1], kid[ANFU_KID_MAX];

	assert_int_equal(anfu_keys_pin_kid(k, kid), 0);
	assert_string_equal(kid, "pin-344f5ec1750d336c");
	assert_int_equal(anfu_keys_pin_mac(k, "pin-344f5ec1750d336c", msg, sizeof(msg) - 1, mac),
			 0);
	anfu_hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex,
			    "1f88afbf3214e61625cbdd8fcd67892b9caea877d6e9d704ea6e9af5e0684798");
	assert_int_equal(
		anfu_keys_pin_mac(k, "pin-0000000000000000", msg, sizeof(msg) - 1, untouched),
		ANFU_ENOTFOUND);
	assert_int_equal(untouched[0], 7);
	assert_int_equal(anfu_keys_mac(k, "payment_pin", msg, sizeof(msg) - 1, plain), 0);
	assert_memory_not_equal(mac, plain, sizeof(mac));
	anfu_keys_free(k);
}

/* Another master key, or the gm profile (HMAC-SM3), is another PIN key
 * with another id: a record made under one names a key the other does not
 * hold. req: DATA-KEY-01 */
static void test_pin_key_id_differs_between_master_keys_and_profiles(void **state)
{
	struct fixture *f = *state;
	struct anfu_keys *k1 = init_and_load(f->data, ANFU_CRYPTO_INTL);
	struct anfu_keys *k2 = init_and_load(f->other, ANFU_CRYPTO_INTL);
	struct anfu_keys *g = NULL;
	uint8_t mac[ANFU_HASH_LEN];
	char id1[ANFU_KID_MAX], id2[ANFU_KID_MAX], idg[ANFU_KID_MAX];

	assert_int_equal(anfu_keys_pin_kid(k1, id1), 0);
	assert_int_equal(anfu_keys_pin_kid(k2, id2), 0);
	assert_int_equal(strlen(id1), ANFU_PIN_KID_LEN);
	assert_string_not_equal(id1, id2);
	assert_int_equal(anfu_keys_pin_mac(k2, id1, "m", 1, mac), ANFU_ENOTFOUND);
	unlink_rel(f->data, "keys/audit-signing.key");
	unlink_rel(f->data, "keys/audit-signing.pub");
	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_GM, NULL), 0);
	assert_int_equal(anfu_keys_load(f->data, ANFU_CRYPTO_GM, &g), 0);
	assert_int_equal(anfu_keys_pin_kid(g, idg), 0);
	assert_string_not_equal(idg, id1);
	assert_int_equal(anfu_keys_pin_mac(g, idg, "m", 1, mac), 0);
	anfu_keys_free(k1);
	anfu_keys_free(k2);
	anfu_keys_free(g);
}

/* A data key wrapped under HKDF(master, "anfu kek v1") with its id as AAD,
 * and a field sealed under it with "<field>:<owner>" as AAD, both made
 * outside anfu, open; the same bytes filed under another key id do not.
 * req: DATA-ENC-03, DATA-ENC-04 */
static void test_wrapped_key_and_field_made_elsewhere_open(void **state)
{
	static const char wrapped[] = "mk-0011223344556677.cHFyc3R1dnd4eXp7+DZGqVKzyGJfU/apefn"
				      "FsMnnRQkquFfAKz9VWacECBux1qGZR97YVl8qjWFlSM3A";
	static const char field[] =
		"v1.dk_kat.gIGCg4SFhoeIiYqLHG2G9xJEGrJYX6B+BkFoWWRQ0FPxWA7BepL1";
	static const char relabelled[] =
		"v1.dk_kbt.gIGCg4SFhoeIiYqLHG2G9xJEGrJYX6B+BkFoWWRQ0FPxWA7BepL1";
	struct fixture *f = *state;
	struct anfu_keys *k = load_kat_master(f->data);
	struct anfu_datakey *d = NULL;
	char *pt = NULL;
	size_t len = 0;

	assert_int_equal(anfu_keys_datakey_unwrap(k, "dk_kat", wrapped, &d), 0);
	assert_int_equal(anfu_datakey_decrypt(d, "user.phone:usr_kat", field, &pt, &len), 0);
	assert_int_equal(len, 11);
	assert_string_equal(pt, "13800001050");
	anfu_wipe(pt, len);
	free(pt);
	pt = NULL;
	/* The key that made it, but the text names another key. */
	assert_int_equal(anfu_datakey_decrypt(d, "user.phone:usr_kat", relabelled, &pt, &len),
			 ANFU_ECRYPTO);
	assert_null(pt);
	anfu_datakey_free(d);
	anfu_keys_free(k);
}

/* A wrapped key that authenticates under the KEK but holds 16 bytes, not
 * AES-256's 32, is refused (made outside anfu like the ones above).
 * req: DATA-ENC-04 */
static void test_wrapped_key_of_the_wrong_length_is_refused(void **state)
{
	static const char wrapped[] =
		"mk-0011223344556677.kJGSk5SVlpeYmZqbeYJFXOVwH/KKIYnVt+vphNeALOEud1SgkbNUldrv0YI=";
	struct fixture *f = *state;
	struct anfu_keys *k = load_kat_master(f->data);
	struct anfu_datakey *d = NULL;

	assert_int_equal(anfu_keys_datakey_unwrap(k, "dk_short", wrapped, &d), ANFU_ECRYPTO);
	assert_null(d);
	anfu_keys_free(k);
}

/* ---- TLS ------------------------------------------------------------------- */

static void test_tls_default_paths_are_under_tls(void **state)
{
	struct fixture *f = *state;
	char cert[256], key[256], want[256], small[8] = "same";

	assert_int_equal(anfu_keys_tls_default_paths(f->data, cert, sizeof(cert), key, sizeof(key)),
			 0);
	path_of(want, sizeof(want), f->data, "tls/server.crt");
	assert_string_equal(cert, want);
	path_of(want, sizeof(want), f->data, "tls/server.key");
	assert_string_equal(key, want);
	assert_int_equal(
		anfu_keys_tls_default_paths(f->data, cert, sizeof(cert), small, sizeof(small)),
		ANFU_ELIMIT);
	assert_string_equal(small, "same");
}

/* req: DATA-TX-01 */
static void test_tls_load_returns_clean_pem(void **state)
{
	struct fixture *f = *state;
	char cert_path[256], key_path[256];
	char *cert = NULL, *key = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	assert_int_equal(anfu_keys_tls_default_paths(f->data, cert_path, sizeof(cert_path),
						     key_path, sizeof(key_path)),
			 0);
	assert_int_equal(anfu_keys_tls_load(cert_path, key_path, &cert, &key), 0);
	assert_memory_equal(cert, "-----BEGIN CERTIFICATE-----\n", 28);
	/* The comment header of server.key never reaches the TLS library. */
	assert_memory_equal(key, "-----BEGIN PRIVATE KEY-----\n", 28);
	assert_non_null(strstr(key, "-----END PRIVATE KEY-----"));
	free(cert);
	anfu_free_secret(key);
}

/* req: DATA-ENC-04 */
static void test_tls_load_refuses_a_key_readable_by_others(void **state)
{
	struct fixture *f = *state;
	char cert_path[256], key_path[256];
	char *cert = NULL, *key = NULL;

	assert_int_equal(anfu_keys_init_dir(f->data, ANFU_CRYPTO_INTL, NULL), 0);
	assert_int_equal(anfu_keys_tls_default_paths(f->data, cert_path, sizeof(cert_path),
						     key_path, sizeof(key_path)),
			 0);
	chmod_rel(f->data, "tls/server.key", 0644);
	assert_int_equal(anfu_keys_tls_load(cert_path, key_path, &cert, &key), ANFU_EPERM);
	assert_null(cert);
	assert_null(key);
	assert_int_equal(anfu_keys_tls_load(cert_path, "/nonexistent/k", &cert, &key),
			 ANFU_ENOTFOUND);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_dir_creates_every_file_with_its_mode),
		T(test_init_dir_writes_the_header_line),
		T(test_master_key_file_holds_32_bytes_of_base64),
		T(test_init_dir_twice_creates_nothing_and_changes_no_byte),
		T(test_init_dir_with_other_profile_keeps_existing_key),
		T(test_init_dir_recreates_only_a_missing_public_key),
		T(test_init_dir_refuses_a_public_key_without_its_private_key),
		T(test_init_dir_refuses_half_a_tls_pair),
		T(test_init_dir_leaves_no_temporary_files),
		T(test_concurrent_init_dir_makes_one_consistent_set),
		T(test_load_finds_the_ids_init_made),
		T(test_load_refuses_a_private_key_readable_by_others),
		T(test_load_refuses_a_symlinked_key_file),
		T(test_load_of_an_empty_directory_is_not_found),
		T(test_gm_profile_makes_an_sm2_key_that_intl_refuses),
		T(test_gm_profile_refuses_an_ed25519_key),
		T(test_load_refuses_a_header_that_does_not_match_the_key),
		T(test_load_refuses_a_master_key_of_the_wrong_length),
		T(test_audit_signature_verifies_with_the_public_key_intl),
		T(test_audit_signature_verifies_with_the_public_key_gm),
		T(test_kid_is_alg_and_16_hex_of_the_spki_sha256),
		T(test_export_public_lists_the_kid_and_the_pem),
		T(test_export_public_failure_leaves_the_buffer_as_it_was),
		T(test_datakey_wrap_and_field_round_trip_intl),
		T(test_datakey_wrap_and_field_round_trip_gm),
		T(test_field_decrypt_rejects_another_aad),
		T(test_field_decrypt_rejects_tampered_ciphertext),
		T(test_field_encrypt_uses_a_fresh_iv),
		T(test_datakey_unwrap_needs_the_same_master_key),
		T(test_datakey_unwrap_rejects_another_dkid),
		T(test_blind_index_is_deterministic_per_purpose),
		T(test_blind_index_differs_between_master_keys_and_profiles),
		T(test_remembered_mac_keys_equal_fresh_ones),
		T(test_mac_rejects_bad_purposes),
		T(test_blind_index_matches_the_documented_derivation),
		T(test_wrapped_key_and_field_made_elsewhere_open),
		T(test_pin_key_matches_the_documented_derivation),
		T(test_pin_key_id_differs_between_master_keys_and_profiles),
		T(test_wrapped_key_of_the_wrong_length_is_refused),
		T(test_tls_default_paths_are_under_tls),
		T(test_tls_load_returns_clean_pem),
		T(test_tls_load_refuses_a_key_readable_by_others),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
