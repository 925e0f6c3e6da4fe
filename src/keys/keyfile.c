/*
 * keys/keyfile: reading and creating the files of DATA/keys and DATA/tls.
 *
 * Owns the on-disk rules: private files are 0600 and refused when group or
 * others have any access; new files appear atomically and never replace an
 * existing one (link(2) after a fully written, fsync'd temporary file), so
 * neither a crash nor a concurrent `anfu init` can leave a half-written or
 * clobbered key. Owns the header line format
 *   "# anfu-key id=<kid> alg=<alg> created=<ISO time>"
 * whose id and alg values are [a-z0-9-]; other fields (created, use) are
 * skipped, so later versions can add some. Trusts nothing read from disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/str.h"
#include "keys/keys_impl.h"

#define HEADER_PREFIX "# anfu-key "
/* ".<name>.tmp-" + 16 hex */
#define TMP_NAME_MAX 128

enum anfu_sig_alg anfu_keys_profile_sig(enum anfu_crypto_profile cp)
{
	return cp == ANFU_CRYPTO_GM ? ANFU_SIG_SM2 : ANFU_SIG_ED25519;
}

enum anfu_hash_alg anfu_keys_profile_hash(enum anfu_crypto_profile cp)
{
	return cp == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
}

enum anfu_aead_alg anfu_keys_profile_aead(enum anfu_crypto_profile cp)
{
	return cp == ANFU_CRYPTO_GM ? ANFU_AEAD_SM4GCM : ANFU_AEAD_AES256GCM;
}

int anfu_keys_path(char *out, size_t cap, const char *datadir, const char *sub, const char *file)
{
	int n;

	if (file)
		n = snprintf(out, cap, "%s/%s/%s", datadir, sub, file);
	else
		n = snprintf(out, cap, "%s/%s", datadir, sub);
	if (n < 0 || (size_t)n >= cap)
		return ANFU_ELIMIT;
	return 0;
}

static int errno_to_err(int e)
{
	return e == ENOENT ? ANFU_ENOTFOUND : ANFU_EIO;
}

/* Reads up to ANFU_LIMIT_KEY_FILE_BYTES bytes of fd; the file may change under us, so
 * the size from fstat is only a hint. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	char *buf = anfu_xmalloc(ANFU_LIMIT_KEY_FILE_BYTES + 1);
	size_t len = 0;
	int r = ANFU_EIO;

	for (;;) {
		ssize_t got = read(fd, buf + len, ANFU_LIMIT_KEY_FILE_BYTES + 1 - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > ANFU_LIMIT_KEY_FILE_BYTES) {
			r = ANFU_ELIMIT;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	anfu_keyfile_release(buf, ANFU_LIMIT_KEY_FILE_BYTES + 1);
	return r;
}

int anfu_keyfile_read(const char *path, bool is_private, bool nofollow, char **ret, size_t *ret_len)
{
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0);
	struct stat st;
	int fd = -1, r;

	fd = open(path, flags);
	if (fd < 0)
		return errno == ELOOP ? ANFU_EPERM : errno_to_err(errno);
	if (fstat(fd, &st) != 0) {
		r = ANFU_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ANFU_EIO;
		goto out;
	}
	/* OpenSSH's rule: a private key others can read is not private. */
	if (is_private && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		r = ANFU_EPERM;
		goto out;
	}
	if (st.st_size > ANFU_LIMIT_KEY_FILE_BYTES) {
		r = ANFU_ELIMIT;
		goto out;
	}
	r = read_all(fd, ret, ret_len);
out:
	(void)close(fd);
	return r;
}

void anfu_keyfile_release(char *buf, size_t len)
{
	if (!buf)
		return;
	anfu_wipe(buf, len);
	free(buf);
}

int anfu_keyfile_exists(const char *dir, const char *name)
{
	char path[ANFU_LIMIT_KEY_PATH_BYTES];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return ANFU_ELIMIT;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : ANFU_EIO;
}

int anfu_keyfile_mkdir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return ANFU_EIO;
	/* An existing directory is left as it is, modes included. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return ANFU_EIO;
	return 0;
}

int anfu_keyfile_lock(const char *dir, int *ret_fd)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ANFU_EIO;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			(void)close(fd);
			return ANFU_EIO;
		}
	}
	*ret_fd = fd;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ANFU_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Fills, syncs and closes the new temporary file fd. */
static int finish_tmp(int fd, const void *data, size_t len, mode_t mode)
{
	int r = write_all(fd, data, len);

	/* Public files are widened only after the content is complete. */
	if (r == 0 && fchmod(fd, mode) != 0)
		r = ANFU_EIO;
	if (r == 0 && fsync(fd) != 0)
		r = ANFU_EIO;
	if (close(fd) != 0 && r == 0)
		r = ANFU_EIO;
	return r;
}

int anfu_keyfile_create(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode)
{
	char tmp[TMP_NAME_MAX], hex[KEYS_KID_HEX + 1];
	uint8_t rnd[KEYS_KID_HEX / 2];
	int dirfd = -1, fd, n, r = ANFU_EIO;
	bool tmp_made = false;

	anfu_crypto_random(rnd, sizeof(rnd));
	anfu_hex_encode(rnd, sizeof(rnd), hex);
	n = snprintf(tmp, sizeof(tmp), ".%s.tmp-%s", name, hex);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ANFU_ELIMIT;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return ANFU_EIO;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	tmp_made = true;
	r = finish_tmp(fd, data, len, mode);
	if (r < 0)
		goto out;
	/* link(2) fails with EEXIST instead of replacing: no race can clobber
	 * a key someone else has just written. */
	if (linkat(dirfd, tmp, dirfd, name, 0) != 0) {
		r = errno == EEXIST ? ANFU_EEXIST : ANFU_EIO;
		goto out;
	}
	r = 0;
out:
	if (tmp_made)
		(void)unlinkat(dirfd, tmp, 0);
	if (r == 0 && fsync(dirfd) != 0)
		r = ANFU_EIO;
	(void)close(dirfd);
	return r;
}

int anfu_keyfile_header(char *out, size_t cap, const char *kid, const char *alg)
{
	char now[32];
	int n;

	anfu_clock_format(anfu_clock_now_ms(), now);
	n = snprintf(out, cap, HEADER_PREFIX "id=%s alg=%s created=%s\n", kid, alg, now);
	if (n < 0 || (size_t)n >= cap)
		return ANFU_ELIMIT;
	return 0;
}

static bool value_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Copies a [a-z0-9-]+ value of at most cap-1 bytes. */
static int copy_value(struct anfu_str v, char *dst, size_t cap)
{
	if (v.len == 0 || v.len >= cap)
		return ANFU_ECORRUPT;
	for (size_t i = 0; i < v.len; i++)
		if (!value_char_ok(v.ptr[i]))
			return ANFU_ECORRUPT;
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
	return 0;
}

/* Applies one "name=value" field of the header line to h. */
static int parse_field(struct anfu_str f, struct keyfile_header *h)
{
	const char *eq = memchr(f.ptr, '=', f.len);
	struct anfu_str name, value;

	if (!eq)
		return ANFU_ECORRUPT;
	name = (struct anfu_str){ f.ptr, (size_t)(eq - f.ptr) };
	value = (struct anfu_str){ eq + 1, f.len - name.len - 1 };
	if (anfu_str_eqc(name, "id"))
		return h->id[0] ? ANFU_ECORRUPT : copy_value(value, h->id, sizeof(h->id));
	if (anfu_str_eqc(name, "alg"))
		return h->alg[0] ? ANFU_ECORRUPT : copy_value(value, h->alg, sizeof(h->alg));
	return 0;
}

int anfu_keyfile_parse(const char *text, size_t len, struct keyfile_header *ret)
{
	struct keyfile_header h = { 0 };
	const char *nl = memchr(
		text, '\n', len < ANFU_LIMIT_KEY_HEADER_BYTES ? len : ANFU_LIMIT_KEY_HEADER_BYTES);
	size_t i = sizeof(HEADER_PREFIX) - 1, end;

	if (!nl || len < i || memcmp(text, HEADER_PREFIX, i) != 0)
		return ANFU_ECORRUPT;
	end = (size_t)(nl - text);
	while (i < end) {
		size_t j = i;
		int r;

		while (j < end && text[j] != ' ')
			j++;
		if (j == i)
			return ANFU_ECORRUPT; /* two spaces in a row */
		r = parse_field((struct anfu_str){ text + i, j - i }, &h);
		if (r < 0)
			return r;
		i = j + (j < end);
	}
	if (!h.id[0] || !h.alg[0])
		return ANFU_ECORRUPT;
	h.body = end + 1;
	*ret = h;
	return 0;
}
