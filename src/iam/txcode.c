/*
 * iam/txcode: one-time codes bound to a transaction (IAM-MFA-11,
 * TX-CONFIRM-02), for other services (the wallet's large transfers).
 *
 * A transaction code is an iam one-time code (iam/codes.c: 6 digits, only
 * its keyed hash stored over "<row id>:<code>", single use, counted
 * attempts) of purpose ANFU_CODE_TX whose target is the user and whose
 * context is the caller's record (a transfer's confirmation id): it is
 * checked only against that record, so a code sent for one transaction
 * cannot confirm another. It goes by SMS to the user's bound phone with a
 * text the caller fills in with the transaction's data (amount, payee),
 * so the customer sees what the code confirms.
 *
 * Trusts: the caller for user_id, the context and the texts; codes typed
 * by clients are untrusted (checked by anfu_code_verify).
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "iam/config.h"
#include "iam/factors.h"
#include "iam/iam.h"
#include "iam/internal.h"
#include "notify/notify.h"
#include "tx/tx.h"

/* The code's target in iam_code: the user, not a phone index, so
 * re-binding the phone does not void a code in flight. */
static int tx_target(const char *user_id, char out[ANFU_ID_MAX + 8])
{
	int n = snprintf(out, ANFU_ID_MAX + 8, "user:%s", user_id);

	return n < 0 || n >= ANFU_ID_MAX + 8 ? ANFU_EINVAL : 0;
}

int anfu_iam_tx_code_send(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			  const char *context, int64_t ttl_ms, const struct anfu_iam_notice *n)
{
	char target[ANFU_ID_MAX + 8], id[ANFU_ID_MAX], code[8], body[1024];
	struct iam_user u;
	char *phone = NULL;
	int64_t expires = 0;
	bool loaded = false;
	int r;

	memset(code, 0, sizeof(code));
	if (!iam || !tx || !user_id || !context || !context[0] || !n || !n->kind ||
	    !n->subject_zh || !n->body_zh || !n->subject_en || !n->body_en)
		return ANFU_EINVAL;
	r = tx_target(user_id, target);
	if (r == 0)
		r = iam_user_load(anfu_tx_db(tx), user_id, &u);
	if (r < 0)
		return r;
	loaded = true;
	r = iam_user_reveal(iam, anfu_tx_db(tx), &u, "phone", &phone);
	if (r == 0 && (!phone || !iam->notify))
		r = ANFU_ENOTFOUND;
	if (r == 0) {
		const struct anfu_code_issue ci = {
			.purpose = ANFU_CODE_TX,
			.channel = "sms",
			.target_index = target,
			.user_id = u.id,
			.context = context,
			.ttl_ms = ttl_ms,
			.resend_ms = 0, /* one code per record: the record is new */
		};

		r = anfu_code_issue(anfu_tx_db(tx), iam->vault, &ci, id, code, &expires);
	}
	if (r == 0) {
		bool en = strcmp(u.lang, "en") == 0;
		int len = en ? snprintf(body, sizeof(body), "%s Code: %s. Never tell anyone.",
					n->body_en, code)
			     : snprintf(body, sizeof(body), "%s验证码：%s，切勿告诉他人。",
					n->body_zh, code);

		if (len < 0 || (size_t)len >= sizeof(body))
			r = ANFU_ELIMIT;
		if (r == 0)
			r = anfu_notify_enqueue(iam->notify, tx, ANFU_CHANNEL_SMS, u.id, phone,
						n->kind, en ? n->subject_en : n->subject_zh, body);
	}
	anfu_wipe(code, sizeof(code));
	anfu_wipe(body, sizeof(body));
	anfu_free_secret(phone);
	if (loaded)
		iam_user_clear(&u);
	return r;
}

int anfu_iam_tx_code_check(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			   const char *context, const char *code)
{
	char target[ANFU_ID_MAX + 8];
	int r;

	if (!iam || !tx || !user_id || !context || !context[0])
		return ANFU_EINVAL;
	r = tx_target(user_id, target);
	if (r < 0)
		return r;
	return anfu_code_verify(anfu_tx_db(tx), iam->vault, ANFU_CODE_TX, target, context,
				code ? code : "", (int)iam->cfg->mfa.code_max_attempts);
}
