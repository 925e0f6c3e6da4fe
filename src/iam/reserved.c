/*
 * iam/reserved: the customer's anti-phishing reserved message (预留信息,
 * WEB-PHISH-01): set by the customer, shown by anfu's own login and
 * payment pages so that a page without it is recognisably not anfu's.
 *
 * Owns the column iam_user.reserved_message (iam migration 0005). Trusts
 * the principal (made by anfu_iam_authenticate); checks the text itself
 * (length, text rule). The message is not secret, but it is personal:
 * audit records carry its length, never the text.
 */
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/str.h"
#include "base/text.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "store/store.h"

struct text_out {
	char *out;
	size_t cap;
};

static int text_row(void *ud, const struct anfu_row *row)
{
	struct text_out *v = ud;
	const char *t = anfu_row_text(row, 0, NULL);

	return anfu_strlcpy(v->out, t ? t : "", v->cap) < 0 ? ANFU_ESCHEMA : 0;
}

int anfu_iam_reserved_message_of(struct anfu_iam *iam, const char *user_id, char *out, size_t cap)
{
	struct text_out v = { out, cap };
	const struct anfu_param p[] = { ANFU_PS(user_id) };
	struct anfu_db *db = NULL;
	int64_t found = 0;
	int r;

	if (!iam || !user_id || !out || cap < ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1)
		return ANFU_EINVAL;
	r = iam_db(iam, &db);
	if (r == 0)
		r = anfu_db_query_int(db, "SELECT count(*) FROM iam_user WHERE id = $1", p, 1,
				      &found);
	if (r == 0 && found != 1)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = anfu_db_exec(db, "SELECT reserved_message FROM iam_user WHERE id = $1", p, 1,
				 text_row, &v, NULL);
	return r;
}

bool anfu_iam_reserved_message_ok(const char *msg)
{
	size_t len = msg ? strnlen(msg, ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1) : 0;
	size_t at = 0;

	if (!msg || len > ANFU_LIMIT_RESERVED_MESSAGE_BYTES)
		return false;
	if (anfu_text_check(msg, len, &at) != ANFU_TEXT_OK)
		return false;
	return anfu_utf8_count(msg, len) <= ANFU_LIMIT_RESERVED_MESSAGE_CHARS;
}

struct reserved_set {
	struct anfu_iam *iam;
	const struct anfu_iam_ctx *ctx;
	const struct anfu_principal *p;
	const char *msg;
};

static int reserved_set_tx(struct anfu_tx *tx, void *ud)
{
	const struct reserved_set *s = ud;
	const struct anfu_param p[] = { ANFU_PS(s->msg), ANFU_PS(s->p->user_id) };
	json_t *details =
		json_pack("{s:I}", "chars", (json_int_t)anfu_utf8_count(s->msg, strlen(s->msg)));
	int64_t changed = 0;
	int r = anfu_db_exec(anfu_tx_db(tx),
			     "UPDATE iam_user SET reserved_message = $1 WHERE id = $2", p, 2, NULL,
			     NULL, &changed);

	if (r == 0 && changed != 1)
		r = ANFU_ENOTFOUND;
	if (r == 0)
		r = iam_audit(s->iam, tx, s->ctx, s->p, NULL, "user.reserved_message_set", "user",
			      s->p->user_id, "success", details);
	json_decref(details);
	return r;
}

int anfu_iam_reserved_message_set(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx,
				  const struct anfu_principal *p, const char *msg,
				  struct anfu_iam_err *err)
{
	struct reserved_set s = { iam, ctx, p, msg };

	if (!iam || !ctx || !p)
		return ANFU_EINVAL;
	if (p->kind != ANFU_USER_CUSTOMER) {
		iam_err_set(err, ANFU_R_FORBIDDEN, NULL);
		return ANFU_EPERM;
	}
	if (!anfu_iam_reserved_message_ok(msg)) {
		iam_err_set(err, ANFU_R_RESERVED_MESSAGE_INVALID, "message");
		return ANFU_EINVAL;
	}
	return iam_tx(iam, reserved_set_tx, &s, err);
}
