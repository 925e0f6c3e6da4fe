/*
 * iam/totp: time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits,
 * 30-second steps) for authenticator apps, and their enrolment URI and QR
 * image (IAM-MFA-01, IAM-MFA-13).
 *
 * Owns no table: the caller keeps the secret (sealed by the vault) and the
 * last accepted time step, and passes them in; a code is accepted only for
 * a step later than that one, so it is never accepted twice. The HOTP
 * arithmetic and base32 are crypto/'s (liboath); the QR image is
 * image/'s (libqrencode, libgd).
 *
 * Trusts: crypto/ and image/. Codes from clients are untrusted: they must
 * be exactly 6 digits and are compared in constant time. Thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/factors.h"
#include "image/image.h"

#define STEP_S 30
#define DIGITS 6
#define WINDOW 1      /* steps accepted either side of now (clock drift) */
#define SECRET_MAX 64 /* decoded secret bytes we accept */

/* Writes a new random secret of ANFU_TOTP_SECRET_BYTES as base32 (32
 * characters, no padding) into out. Thread-safe. */
int anfu_totp_secret(char out[64])
{
	unsigned char raw[ANFU_TOTP_SECRET_BYTES];
	int r;

	if (!out)
		return ANFU_EINVAL;
	anfu_rand_bytes(raw, sizeof(raw));
	r = anfu_base32_encode(raw, sizeof(raw), out, 64);
	anfu_wipe(raw, sizeof(raw));
	return r < 0 ? ANFU_EINTERNAL : 0;
}

/* Appends s percent-encoded (RFC 3986: everything but unreserved
 * characters) at out[*pos]. ANFU_ELIMIT when it does not fit. */
static int put_pct(char *out, size_t cap, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			     *p == '~';

		if (*pos + (plain ? 1 : 3) >= cap)
			return ANFU_ELIMIT;
		if (plain) {
			out[(*pos)++] = (char)*p;
		} else {
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[*p >> 4];
			out[(*pos)++] = hex[*p & 0xf];
		}
	}
	out[*pos] = '\0';
	return 0;
}

static int put_raw(char *out, size_t cap, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n >= cap)
		return ANFU_ELIMIT;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 0;
}

static bool base32_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '2' && s[n] <= '7')))
			return false;
	return n > 0 && n <= 2 * SECRET_MAX;
}

/* Writes the otpauth URI of Google's Key Uri Format into out (cap bytes):
 * "otpauth://totp/<issuer>:<account>?secret=<b32>&issuer=<issuer>
 * &algorithm=SHA1&digits=6&period=30" with issuer and account
 * percent-encoded. ANFU_EINVAL for empty parts or a secret that is not
 * upper-case base32, ANFU_ELIMIT when out is too small (out is then
 * unspecified). */
int anfu_totp_uri(const char *issuer, const char *account, const char *secret_b32, char *out,
		  size_t cap)
{
	size_t pos = 0;
	int r;

	if (!issuer || !*issuer || !account || !*account || !secret_b32 || !base32_ok(secret_b32) ||
	    !out || cap == 0)
		return ANFU_EINVAL;
	out[0] = '\0';
	r = put_raw(out, cap, &pos, "otpauth://totp/");
	if (r == 0)
		r = put_pct(out, cap, &pos, issuer);
	if (r == 0)
		r = put_raw(out, cap, &pos, ":");
	if (r == 0)
		r = put_pct(out, cap, &pos, account);
	if (r == 0)
		r = put_raw(out, cap, &pos, "?secret=");
	if (r == 0)
		r = put_raw(out, cap, &pos, secret_b32);
	if (r == 0)
		r = put_raw(out, cap, &pos, "&issuer=");
	if (r == 0)
		r = put_pct(out, cap, &pos, issuer);
	if (r == 0)
		r = put_raw(out, cap, &pos, "&algorithm=SHA1&digits=6&period=30");
	return r;
}

/* Encodes uri as a QR code drawn as a PNG (image/image.h). *ret_png is
 * malloc'd and owned by the caller; outputs are written only on success.
 * ANFU_EINVAL for an empty uri, ANFU_EINTERNAL when encoding fails. */
int anfu_totp_qr_png(const char *uri, unsigned char **ret_png, size_t *ret_len)
{
	return anfu_image_qr_png(uri, ret_png, ret_len);
}

/* Decodes a base32 secret into a malloc'd buffer (free with wipe). */
static int secret_decode(const char *b32, char **ret, size_t *ret_len)
{
	char *raw = NULL;
	size_t len = 0;
	int r;

	if (!b32 || !base32_ok(b32))
		return ANFU_EINVAL;
	r = anfu_base32_decode(b32, strlen(b32), &raw, &len);
	if (r < 0)
		return r;
	if (len == 0 || len > SECRET_MAX) {
		anfu_wipe(raw, len);
		free(raw);
		return ANFU_EINVAL;
	}
	*ret = raw;
	*ret_len = len;
	return 0;
}

static void secret_free(char *raw, size_t len)
{
	if (raw) {
		anfu_wipe(raw, len);
		free(raw);
	}
}

/* The code of one time step. */
static int step_code(const char *raw, size_t len, int64_t step, char out[DIGITS + 1])
{
	if (anfu_hotp(raw, len, (uint64_t)step, DIGITS, out) < 0)
		return ANFU_EINTERNAL;
	return 0;
}

static bool code_shape_ok(const char *code)
{
	for (int i = 0; i < DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return code[DIGITS] == '\0';
}

/* Writes the 6-digit code of the step containing now_ms into out.
 * ANFU_EINVAL for a bad secret or a negative time. Thread-safe. */
int anfu_totp_code(const char *secret_b32, int64_t now_ms, char out[8])
{
	char *raw = NULL;
	size_t len = 0;
	char buf[DIGITS + 1];
	int r;

	if (!out || now_ms < 0)
		return ANFU_EINVAL;
	r = secret_decode(secret_b32, &raw, &len);
	if (r < 0)
		return r;
	r = step_code(raw, len, now_ms / 1000 / STEP_S, buf);
	if (r == 0)
		memcpy(out, buf, sizeof(buf));
	secret_free(raw, len);
	return r;
}

/* Checks code against the steps now-1, now and now+1 (all of them, so the
 * time does not depend on which one matches). A matching step counts only
 * when it is later than last_step; the latest such step is reported in
 * *ret_step (written only on success). 0 on a match, ANFU_EAUTH
 * otherwise, ANFU_EINVAL for a bad secret or time. Thread-safe. */
int anfu_totp_verify(const char *secret_b32, const char *code, int64_t now_ms, int64_t last_step,
		     int64_t *ret_step)
{
	char *raw = NULL;
	size_t len = 0;
	char want[DIGITS + 1];
	int64_t now_step, found = -1;
	int r;

	if (!ret_step || now_ms < 0)
		return ANFU_EINVAL;
	r = secret_decode(secret_b32, &raw, &len);
	if (r < 0)
		return r;
	if (!code || strnlen(code, DIGITS + 1) != DIGITS || !code_shape_ok(code)) {
		r = ANFU_EAUTH;
		goto out;
	}
	now_step = now_ms / 1000 / STEP_S;
	for (int64_t s = now_step - WINDOW; s <= now_step + WINDOW; s++) {
		if (s < 0)
			continue;
		r = step_code(raw, len, s, want);
		if (r < 0)
			goto out;
		if (anfu_crypto_equal(want, code, DIGITS) && s > last_step)
			found = s;
	}
	r = found >= 0 ? 0 : ANFU_EAUTH;
	if (r == 0)
		*ret_step = found;
out:
	anfu_wipe(want, sizeof(want));
	secret_free(raw, len);
	return r;
}
