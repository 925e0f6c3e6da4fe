/*
 * iam/captcha: image captchas (IAM-CAP-01, IAM-CAP-02).
 *
 * Owns the rows of iam_captcha and the drawing of the image, which is kept
 * (base64, column image) until the first attempt so that pages can load it
 * from this origin (anfu_captcha_image). An answer is
 * random characters of ANFU_CAPTCHA_ALPHABET; only its keyed hash
 * (anfu_vault_token_hash, purpose "captcha", bound to the captcha id) is
 * stored. The image is image/'s (anfu_image_captcha_png). A captcha is
 * consumed by the first attempt, right or wrong, and refused once
 * expires_ms <= now. It is bound to the purpose and the listener it was
 * made for (columns purpose, admin): an attempt anywhere else uses it up
 * and fails.
 *
 * Trusts: the vault for the keyed hash, the caller for an open write
 * transaction on db. Answers from clients are untrusted: length-checked
 * and compared in constant time.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/factors.h"
#include "image/image.h"
#include "store/store.h"
#include "vault/vault.h"

#define MAX_LEN 15 /* answer[16] of anfu_captcha_create */
#define HASH_HEX (2 * ANFU_HASH_LEN + 1)

int anfu_captcha_render(const char *text, unsigned char **ret_png, size_t *ret_len)
{
	return anfu_image_captcha_png(text, ret_png, ret_len);
}

/* Keyed hash of "<id>:<ANSWER>" (answer upper-cased), so a hash copied to
 * another row does not match there. */
static int answer_hash(struct anfu_vault *v, const char *id, const char *answer, size_t n,
		       char out[HASH_HEX])
{
	char msg[ANFU_ID_MAX + 1 + MAX_LEN + 1];
	size_t idn = strlen(id);
	int r;

	if (idn >= ANFU_ID_MAX || n > MAX_LEN)
		return ANFU_EINVAL;
	memcpy(msg, id, idn);
	msg[idn] = ':';
	for (size_t i = 0; i < n; i++)
		msg[idn + 1 + i] = (char)toupper((unsigned char)answer[i]);
	r = anfu_vault_token_hash(v, "captcha", msg, idn + 1 + n, out);
	anfu_wipe(msg, sizeof(msg));
	return r;
}

/* Creates a captcha: a random answer of length (1..15) characters of
 * ANFU_CAPTCHA_ALPHABET, its keyed hash in a new iam_captcha row valid for
 * ttl_ms, and its image. id, *ret_png (malloc'd, caller owns) and answer
 * are written only on success. Runs in the caller's write transaction on
 * db. */
bool anfu_captcha_purpose_ok(const char *purpose, bool admin)
{
	if (!purpose)
		return false;
	if (strcmp(purpose, ANFU_CAPTCHA_LOGIN) == 0)
		return true;
	return !admin && (strcmp(purpose, ANFU_CAPTCHA_REGISTER) == 0 ||
			  strcmp(purpose, ANFU_CAPTCHA_RESET) == 0);
}

static bool use_ok(const struct anfu_captcha_use *use)
{
	return use && (anfu_captcha_purpose_ok(use->purpose, false) ||
		       anfu_captcha_purpose_ok(use->purpose, true));
}

int anfu_captcha_create(struct anfu_db *db, struct anfu_vault *v,
			const struct anfu_captcha_use *use, int length, int64_t ttl_ms,
			char id[ANFU_ID_MAX], unsigned char **ret_png, size_t *ret_len,
			char answer[16])
{
	static const char alphabet[] = ANFU_CAPTCHA_ALPHABET;
	char cid[ANFU_ID_MAX], ans[MAX_LEN + 1], hash[HASH_HEX];
	unsigned char *png = NULL;
	char *b64 = NULL;
	size_t png_len = 0;
	int64_t now = anfu_clock_now_ms();
	int r;

	if (!db || !v || !use_ok(use) || !id || !ret_png || !ret_len || !answer || length < 1 ||
	    length > MAX_LEN || ttl_ms <= 0 || ttl_ms > INT64_MAX - now)
		return ANFU_EINVAL;
	for (int i = 0; i < length; i++)
		ans[i] = alphabet[anfu_rand_uniform(sizeof(alphabet) - 1)];
	ans[length] = '\0';
	r = anfu_id_new("cap", cid, sizeof(cid));
	if (r < 0)
		goto out;
	r = answer_hash(v, cid, ans, (size_t)length, hash);
	if (r < 0)
		goto out;
	r = anfu_captcha_render(ans, &png, &png_len);
	if (r < 0)
		goto out;
	/* The image is kept while the captcha is live, for the same-origin
	 * image route (anfu_captcha_image). */
	b64 = anfu_base64_encode(png, png_len);
	{
		const struct anfu_param p[] = {
			ANFU_PSN(cid, strlen(cid)),
			ANFU_PSN(hash, strlen(hash)),
			ANFU_PI(now),
			ANFU_PI(now + ttl_ms),
			ANFU_PS(use->purpose),
			ANFU_PI(use->admin),
			ANFU_PS(b64),
		};

		r = anfu_db_exec(
			db,
			"INSERT INTO iam_captcha (id, answer_hash, created_ms, expires_ms, purpose,"
			" admin, image) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			p, 7, NULL, NULL, NULL);
	}
	if (r < 0)
		goto out;
	memcpy(id, cid, sizeof(cid));
	memcpy(answer, ans, (size_t)length + 1);
	*ret_png = png;
	*ret_len = png_len;
	png = NULL;
	r = 0;
out:
	anfu_wipe(ans, sizeof(ans));
	free(png);
	free(b64);
	return r;
}

struct captcha_row {
	bool found;
	bool used;
	int64_t expires_ms;
	char hash[HASH_HEX];
	char purpose[16];
	bool admin;
};

static int captcha_row_fn(void *ud, const struct anfu_row *row)
{
	struct captcha_row *cr = ud;
	size_t len = 0;
	const char *h = anfu_row_text(row, 0, &len);

	if (!h || len != HASH_HEX - 1)
		return ANFU_ECORRUPT;
	memcpy(cr->hash, h, len + 1);
	cr->expires_ms = anfu_row_int(row, 1);
	cr->used = !anfu_row_is_null(row, 2);
	h = anfu_row_text(row, 3, &len);
	if (!h || len >= sizeof(cr->purpose))
		return ANFU_ECORRUPT;
	memcpy(cr->purpose, h, len + 1);
	cr->admin = anfu_row_int(row, 4) != 0;
	cr->found = true;
	return 1;
}

/* Marks the captcha used; false when another attempt got there first. */
static int mark_used(struct anfu_db *db, const char *id, int64_t now, bool *ret_won)
{
	const struct anfu_param p[] = { ANFU_PS(id), ANFU_PI(now) };
	int64_t changes = 0;
	int r;

	r = anfu_db_exec(db,
			 "UPDATE iam_captcha SET used_ms = $2, image = NULL"
			 " WHERE id = $1 AND used_ms IS NULL",
			 p, 2, NULL, NULL, &changes);
	if (r < 0)
		return r;
	*ret_won = changes == 1;
	return 0;
}

/* True when the captcha row was made for use. */
static bool bound_to(const struct captcha_row *cr, const struct anfu_captcha_use *use)
{
	return strcmp(cr->purpose, use->purpose) == 0 && cr->admin == use->admin;
}

/* Checks and consumes a captcha: 0 when answer matches (ASCII
 * case-insensitive), the captcha is live (expires_ms > now, unused) and was
 * made for use (purpose and listener); ANFU_EAUTH for a wrong answer, an
 * unknown, used or expired captcha, or one made for something else. Any
 * attempt on an unused captcha marks it used, in the caller's write
 * transaction on db: the caller must commit also when the check fails.
 * Other negative codes are database or vault failures. */
int anfu_captcha_check(struct anfu_db *db, struct anfu_vault *v, const char *id, const char *answer,
		       const struct anfu_captcha_use *use)
{
	struct captcha_row cr = { 0 };
	char hash[HASH_HEX];
	int64_t now = anfu_clock_now_ms();
	bool won = false;
	size_t n;
	int r;

	if (!db || !v || !use || !use->purpose)
		return ANFU_EINVAL;
	if (!id || !anfu_id_valid("cap", id, strnlen(id, ANFU_ID_MAX)))
		return ANFU_EAUTH;
	{
		const struct anfu_param p[] = { ANFU_PS(id) };

		r = anfu_db_exec(db,
				 "SELECT answer_hash, expires_ms, used_ms, purpose, admin"
				 " FROM iam_captcha WHERE id = $1",
				 p, 1, captcha_row_fn, &cr, NULL);
	}
	if (r < 0)
		return r;
	if (!cr.found || cr.used)
		return ANFU_EAUTH;
	r = mark_used(db, id, now, &won);
	if (r < 0)
		return r;
	if (!won || cr.expires_ms <= now || !bound_to(&cr, use) || !answer)
		return ANFU_EAUTH;
	n = strnlen(answer, MAX_LEN + 1);
	if (n == 0 || n > MAX_LEN)
		return ANFU_EAUTH;
	r = answer_hash(v, id, answer, n, hash);
	if (r < 0)
		return r;
	return anfu_crypto_equal(hash, cr.hash, HASH_HEX - 1) ? 0 : ANFU_EAUTH;
}

struct image_row {
	char *b64; /* malloc'd copy */
};

static int image_row_fn(void *ud, const struct anfu_row *row)
{
	struct image_row *ir = ud;
	size_t len = 0;
	const char *t = anfu_row_text(row, 0, &len);

	if (!t || len == 0)
		return 1; /* no image kept (made before iam 0006) */
	ir->b64 = anfu_xstrndup(t, len);
	return 1;
}

/* The PNG of a live captcha (unused, expires_ms > now) made on the
 * listener admin: *ret_png (malloc'd, caller frees) and *ret_len on
 * success. ANFU_ENOTFOUND, alike, for a malformed, unknown, used, expired
 * or other listener's id, or one kept without image. Reads only: looking
 * does not use the captcha up. */
int anfu_captcha_image(struct anfu_db *db, const char *id, bool admin, int64_t now_ms,
		       unsigned char **ret_png, size_t *ret_len)
{
	struct image_row ir = { NULL };
	uint8_t *png = NULL;
	size_t len = 0;
	int r;

	if (!db || !ret_png || !ret_len)
		return ANFU_EINVAL;
	if (!id || !anfu_id_valid("cap", id, strnlen(id, ANFU_ID_MAX)))
		return ANFU_ENOTFOUND;
	{
		const struct anfu_param p[] = { ANFU_PS(id), ANFU_PI(now_ms), ANFU_PI(admin) };

		r = anfu_db_exec(db,
				 "SELECT image FROM iam_captcha WHERE id = $1 AND used_ms IS NULL"
				 " AND expires_ms > $2 AND admin = $3",
				 p, 3, image_row_fn, &ir, NULL);
	}
	if (r < 0)
		goto out;
	if (!ir.b64) {
		r = ANFU_ENOTFOUND;
		goto out;
	}
	r = anfu_base64_decode(ir.b64, strlen(ir.b64), &png, &len);
	if (r < 0) {
		r = ANFU_ECORRUPT;
		goto out;
	}
	*ret_png = png;
	*ret_len = len;
	r = 0;
out:
	free(ir.b64);
	return r;
}
