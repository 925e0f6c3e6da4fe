/*
 * iam/totp: time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits,
 * 30-second steps) for authenticator apps, and their enrolment URI and QR
 * image (IAM-MFA-01, IAM-MFA-13).
 *
 * Owns no table: the caller keeps the secret (sealed by the vault) and the
 * last accepted time step, and passes them in; a code is accepted only for
 * a step later than that one, so it is never accepted twice. The HOTP
 * arithmetic and base32 are liboath's; the QR symbol is libqrencode's,
 * drawn as a PNG with libgd.
 *
 * Trusts: liboath, libqrencode, libgd. Codes from clients are untrusted:
 * they must be exactly 6 digits and are compared in constant time.
 * Thread-safe: liboath is initialised once (oath_init is not safe to call
 * concurrently).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gd.h>
#include <liboath/oath.h>
#include <qrencode.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/factors.h"

#define STEP_S 30
#define DIGITS 6
#define WINDOW 1      /* steps accepted either side of now (clock drift) */
#define SECRET_MAX 64 /* decoded secret bytes we accept */
#define QR_MODULE_PX 4
#define QR_QUIET 4	 /* quiet zone, in modules (ISO/IEC 18004) */
#define QR_MAX_WIDTH 177 /* version 40 */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = OATH_OK;

static void oath_setup(void)
{
	oath_status = oath_init();
}

static int oath_ready(void)
{
	(void)pthread_once(&oath_once, oath_setup);
	if (oath_status != OATH_OK) {
		anfu_log_error("totp.init", "liboath failed to initialise: %d", oath_status);
		return ANFU_EINTERNAL;
	}
	return 0;
}

/* Writes a new random secret of ANFU_TOTP_SECRET_BYTES as base32 (32
 * characters, no padding) into out. Thread-safe. */
int anfu_totp_secret(char out[64])
{
	unsigned char raw[ANFU_TOTP_SECRET_BYTES];
	char *b32 = NULL;
	size_t len = 0;
	int r;

	if (!out)
		return ANFU_EINVAL;
	r = oath_ready();
	if (r < 0)
		return r;
	anfu_rand_bytes(raw, sizeof(raw));
	r = ANFU_EINTERNAL;
	if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &len) != OATH_OK || !b32)
		goto out;
	if (len == 0 || len >= 64)
		goto out;
	memcpy(out, b32, len + 1);
	r = 0;
out:
	anfu_wipe(raw, sizeof(raw));
	if (b32) {
		anfu_wipe(b32, len);
		free(b32);
	}
	return r;
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

/* Draws a QR symbol: black modules of QR_MODULE_PX on white with a quiet
 * zone. Returns the gd image or NULL. */
static gdImagePtr qr_image(const QRcode *q)
{
	int side = (q->width + 2 * QR_QUIET) * QR_MODULE_PX;
	gdImagePtr im = gdImageCreate(side, side);
	int white, black;

	if (!im)
		return NULL;
	white = gdImageColorAllocate(im, 255, 255, 255);
	black = gdImageColorAllocate(im, 0, 0, 0);
	gdImageFilledRectangle(im, 0, 0, side - 1, side - 1, white);
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width; x++) {
			int px = (x + QR_QUIET) * QR_MODULE_PX, py = (y + QR_QUIET) * QR_MODULE_PX;

			if (q->data[y * q->width + x] & 1)
				gdImageFilledRectangle(im, px, py, px + QR_MODULE_PX - 1,
						       py + QR_MODULE_PX - 1, black);
		}
	}
	return im;
}

/* Encodes uri as a QR code (error correction level M, 8-bit mode) drawn
 * as a PNG with 4-pixel modules and a 4-module quiet zone. *ret_png is
 * malloc'd and owned by the caller; outputs are written only on success.
 * ANFU_EINVAL for an empty or too long uri. Thread-safe. */
int anfu_totp_qr_png(const char *uri, unsigned char **ret_png, size_t *ret_len)
{
	QRcode *q = NULL;
	gdImagePtr im = NULL;
	void *gdpng = NULL;
	unsigned char *png = NULL;
	int size = 0, r = ANFU_EINVAL;

	if (!uri || !*uri || !ret_png || !ret_len)
		return ANFU_EINVAL;
	q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q || q->width <= 0 || q->width > QR_MAX_WIDTH)
		goto out;
	r = ANFU_EINTERNAL;
	im = qr_image(q);
	if (!im)
		goto out;
	gdpng = gdImagePngPtr(im, &size);
	if (!gdpng || size <= 0)
		goto out;
	png = anfu_xmalloc((size_t)size);
	memcpy(png, gdpng, (size_t)size);
	*ret_png = png;
	*ret_len = (size_t)size;
	r = 0;
out:
	if (gdpng)
		gdFree(gdpng);
	if (im)
		gdImageDestroy(im);
	if (q)
		QRcode_free(q);
	return r;
}

/* Decodes a base32 secret into a malloc'd buffer (free with wipe). */
static int secret_decode(const char *b32, char **ret, size_t *ret_len)
{
	char *raw = NULL;
	size_t len = 0;
	int r;

	if (!b32 || !base32_ok(b32))
		return ANFU_EINVAL;
	r = oath_ready();
	if (r < 0)
		return r;
	if (oath_base32_decode(b32, strlen(b32), &raw, &len) != OATH_OK || !raw)
		return ANFU_EINVAL;
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
	if (oath_totp_generate2(raw, len, (time_t)(step * STEP_S), STEP_S,
				OATH_TOTP_DEFAULT_START_TIME, DIGITS, 0, out) != OATH_OK)
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
