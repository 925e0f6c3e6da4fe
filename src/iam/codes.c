/*
 * iam/codes: one-time verification codes sent by SMS or email
 * (IAM-MFA-07, IAM-MFA-08).
 *
 * Owns the rows of iam_code. A code is 6 uniformly random digits; only its
 * keyed hash (anfu_vault_token_hash, purpose "code", over "<row id>:<code>")
 * is stored, so a hash copied to another row does not match there. A code
 * belongs to a purpose, a target (blind index of the phone or email) and a
 * context (session, reset, user); only the newest code of that triple is
 * ever checked, so sending a new code voids the older ones. It is valid
 * while now < expires_ms, once, and is void after max_attempts wrong
 * tries. A target gets at most one code of a purpose per resend interval,
 * counted from its newest code not yet used: a code its owner has used up
 * (only the owner can) does not hold the next one back.
 *
 * Trusts: the vault for the keyed hash, the caller for an open write
 * transaction on db and for the purpose, target index and context.
 * Codes typed by clients are untrusted: shape-checked and compared in
 * constant time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"
#include "iam/factors.h"
#include "store/store.h"
#include "vault/vault.h"

#define CODE_DIGITS 6
#define CODE_SPACE 1000000u    /* 10^CODE_DIGITS */
#define CODE_TTL_MAX_MS 600000 /* IAM-MFA-07: valid for at most 10 minutes */
#define HASH_HEX (2 * ANFU_HASH_LEN + 1)

static int code_hash(struct anfu_vault *v, const char *id, const char *code, char out[HASH_HEX])
{
	char msg[ANFU_ID_MAX + 1 + CODE_DIGITS + 1];
	int n, r;

	n = snprintf(msg, sizeof(msg), "%s:%s", id, code);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return ANFU_EINVAL;
	r = anfu_vault_token_hash(v, "code", msg, (size_t)n, out);
	anfu_wipe(msg, sizeof(msg));
	return r;
}

static bool field_ok(const char *s, bool may_be_empty)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, ANFU_LIMIT_IAM_CODE_FIELD + 1);
	return n <= ANFU_LIMIT_IAM_CODE_FIELD && (may_be_empty || n > 0);
}

static bool issue_args_ok(const struct anfu_code_issue *ci)
{
	return ci && field_ok(ci->purpose, false) && ci->channel &&
	       (strcmp(ci->channel, "sms") == 0 || strcmp(ci->channel, "email") == 0) &&
	       field_ok(ci->target_index, false) && field_ok(ci->context, true) &&
	       (!ci->user_id || field_ok(ci->user_id, false)) && ci->ttl_ms > 0 &&
	       ci->ttl_ms <= CODE_TTL_MAX_MS && ci->resend_ms >= 0;
}

static int last_sent_fn(void *ud, const struct anfu_row *row)
{
	int64_t *last = ud;

	if (!anfu_row_is_null(row, 0))
		*last = anfu_row_int(row, 0);
	return 1;
}

/* ANFU_ERATE when the target got a code of this purpose, still unused,
 * less than resend_ms ago. */
static int check_resend(struct anfu_db *db, const struct anfu_code_issue *ci, int64_t now)
{
	const struct anfu_param p[] = { ANFU_PS(ci->target_index), ANFU_PS(ci->purpose) };
	int64_t last = INT64_MIN;
	int r;

	if (ci->resend_ms == 0)
		return 0;
	r = anfu_db_exec(db,
			 "SELECT MAX(created_ms) FROM iam_code "
			 "WHERE target_index = $1 AND purpose = $2 AND used_ms IS NULL",
			 p, 2, last_sent_fn, &last, NULL);
	if (r < 0)
		return r;
	if (last != INT64_MIN && now - last < ci->resend_ms)
		return ANFU_ERATE;
	return 0;
}

/* Issues a code for ci (purpose, channel "sms"/"email", target index,
 * context, optional user id; ttl_ms in (0, 10 min]): inserts its keyed
 * hash into iam_code in the caller's write transaction on db and writes
 * the row id, the 6 digits (NUL-terminated, to be sent; wipe after use)
 * and the expiry, only on success. ANFU_ERATE when the target got a code
 * of the same purpose, still unused, less than ci->resend_ms ago;
 * ANFU_EINVAL for bad arguments. */
int anfu_code_issue(struct anfu_db *db, struct anfu_vault *v, const struct anfu_code_issue *ci,
		    char id[ANFU_ID_MAX], char code[8], int64_t *ret_expires_ms)
{
	char cid[ANFU_ID_MAX], digits[8], hash[HASH_HEX];
	int64_t now = anfu_clock_now_ms();
	int r;

	if (!db || !v || !id || !code || !ret_expires_ms || !issue_args_ok(ci))
		return ANFU_EINVAL;
	if (now > INT64_MAX - ci->ttl_ms)
		return ANFU_ERANGE;
	r = check_resend(db, ci, now);
	if (r < 0)
		return r;
	(void)snprintf(digits, sizeof(digits), "%06u", (unsigned)anfu_rand_uniform(CODE_SPACE));
	r = anfu_id_new("code", cid, sizeof(cid));
	if (r < 0)
		goto out;
	r = code_hash(v, cid, digits, hash);
	if (r < 0)
		goto out;
	{
		const struct anfu_param p[] = {
			ANFU_PSN(cid, strlen(cid)),   ANFU_PS(ci->purpose),
			ANFU_PS(ci->channel),	      ANFU_PS(ci->target_index),
			ANFU_PS(ci->user_id),	      ANFU_PS(ci->context),
			ANFU_PSN(hash, strlen(hash)), ANFU_PI(now),
			ANFU_PI(now + ci->ttl_ms),
		};

		r = anfu_db_exec(
			db,
			"INSERT INTO iam_code (id, purpose, channel, target_index, user_id, "
			"context, code_hash, created_ms, expires_ms, attempts) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0)",
			p, 9, NULL, NULL, NULL);
	}
	if (r < 0)
		goto out;
	memcpy(id, cid, sizeof(cid));
	memcpy(code, digits, sizeof(digits));
	*ret_expires_ms = now + ci->ttl_ms;
	r = 0;
out:
	anfu_wipe(digits, sizeof(digits));
	return r;
}

struct code_row {
	bool found;
	char id[ANFU_ID_MAX];
	char hash[HASH_HEX];
	int64_t expires_ms;
	bool used;
	int64_t attempts;
};

static int code_row_fn(void *ud, const struct anfu_row *row)
{
	struct code_row *cr = ud;
	size_t idn = 0, hn = 0;
	const char *id = anfu_row_text(row, 0, &idn);
	const char *h = anfu_row_text(row, 1, &hn);

	if (!id || idn == 0 || idn >= sizeof(cr->id) || !h || hn != HASH_HEX - 1)
		return ANFU_ECORRUPT;
	memcpy(cr->id, id, idn + 1);
	memcpy(cr->hash, h, hn + 1);
	cr->expires_ms = anfu_row_int(row, 2);
	cr->used = !anfu_row_is_null(row, 3);
	cr->attempts = anfu_row_int(row, 4);
	cr->found = true;
	return 1;
}

static int newest_code(struct anfu_db *db, const char *purpose, const char *target_index,
		       const char *context, struct code_row *cr)
{
	const struct anfu_param p[] = { ANFU_PS(purpose), ANFU_PS(target_index), ANFU_PS(context) };

	return anfu_db_exec(db,
			    "SELECT id, code_hash, expires_ms, used_ms, attempts FROM iam_code "
			    "WHERE purpose = $1 AND target_index = $2 AND context = $3 "
			    "ORDER BY created_ms DESC, id DESC LIMIT 1",
			    p, 3, code_row_fn, cr, NULL);
}

/* Records one attempt on a live code: used when it matched. The guard in
 * the WHERE clause keeps a concurrent attempt from slipping past the
 * limit. *ret_won is false when the row was no longer open. */
static int record_attempt(struct anfu_db *db, const struct code_row *cr, bool match,
			  int max_attempts, int64_t now, bool *ret_won)
{
	const struct anfu_param p[] = { ANFU_PSN(cr->id, strlen(cr->id)), ANFU_PI(max_attempts),
					match ? ANFU_PI(now) : ANFU_PNULL };
	int64_t changes = 0;
	int r;

	r = anfu_db_exec(db,
			 "UPDATE iam_code SET attempts = attempts + 1, used_ms = $3 "
			 "WHERE id = $1 AND used_ms IS NULL AND attempts < $2",
			 p, 3, NULL, NULL, &changes);
	if (r < 0)
		return r;
	*ret_won = changes == 1;
	return 0;
}

static bool code_shape_ok(const char *code)
{
	if (strnlen(code, CODE_DIGITS + 1) != CODE_DIGITS)
		return false;
	for (int i = 0; i < CODE_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

/* Checks code against the newest code of (purpose, target_index, context)
 * and consumes it on a match: 0 on a match; ANFU_EEXPIRED when the newest
 * code has expired (expires_ms <= now); ANFU_EAUTH when there is none, it
 * was used or voided, or code is wrong (a wrong code counts an attempt;
 * after max_attempts the code is void). Runs in the caller's write
 * transaction on db; the caller must commit also on ANFU_EAUTH for the
 * attempt to count. ANFU_EINVAL for bad arguments. */
int anfu_code_verify(struct anfu_db *db, struct anfu_vault *v, const char *purpose,
		     const char *target_index, const char *context, const char *code,
		     int max_attempts)
{
	struct code_row cr = { 0 };
	char hash[HASH_HEX];
	int64_t now = anfu_clock_now_ms();
	bool match = false, won = false;
	int r;

	if (!db || !v || !field_ok(purpose, false) || !field_ok(target_index, false) ||
	    !field_ok(context, true) || !code || max_attempts < 1)
		return ANFU_EINVAL;
	r = newest_code(db, purpose, target_index, context, &cr);
	if (r < 0)
		return r;
	if (!cr.found)
		return ANFU_EAUTH;
	if (cr.expires_ms <= now)
		return ANFU_EEXPIRED;
	if (cr.used || cr.attempts >= max_attempts)
		return ANFU_EAUTH;
	if (code_shape_ok(code)) {
		r = code_hash(v, cr.id, code, hash);
		if (r < 0)
			return r;
		match = anfu_crypto_equal(hash, cr.hash, HASH_HEX - 1);
	}
	r = record_attempt(db, &cr, match, max_attempts, now, &won);
	if (r < 0)
		return r;
	return match && won ? 0 : ANFU_EAUTH;
}
