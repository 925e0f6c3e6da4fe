/*
 * iam/strength: the password-strength indicator behind
 * POST /api/v1/password-strength (IAM-PWD-13).
 *
 * Owns the advice texts (Simplified Chinese and English) shown next to the
 * score. The score is anfu_pwpolicy_strength(), the verdict the first rule
 * of the customer policy (password.customer) that anfu_pwpolicy_check()
 * reports; personal data and the history are not checked, since the
 * caller is anonymous and may not even have an account yet, so
 * "acceptable" can still be refused later for those two rules.
 *
 * The password is untrusted and secret: it is only read, never stored,
 * logged or audited, and the answer says nothing about any account.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/profile.h"
#include "base/str.h"
#include "iam/config.h"
#include "iam/internal.h"
#include "iam/pwpolicy.h"

#define STRENGTH_MAX 4

struct advice {
	const char *rule; /* NULL: the password passes */
	const char *zh, *en;
};

/* One sentence per rule (too short: see short_advice()). */
static const struct advice advice_tab[] = {
	{ ANFU_PW_EMPTY, "请输入密码", "enter a password" },
	{ ANFU_PW_INVALID_CHARS, "请只使用可打印字符", "use printable characters only" },
	{ ANFU_PW_TOO_LONG, "密码过长，最多128个字符", "too long: use at most 128 characters" },
	{ ANFU_PW_DIGITS_ONLY, "不要只使用数字", "do not use digits only" },
	{ ANFU_PW_CLASSES, "请混合使用大写字母、小写字母、数字和符号",
	  "mix upper and lower case letters, digits and symbols" },
	{ ANFU_PW_DEFAULT, "避免使用简单密码", "avoid simple passwords" },
	{ ANFU_PW_DICTIONARY, "避免使用常见单词或拼音", "avoid common words and pinyin" },
	{ ANFU_PW_SEQUENCE, "避免使用abc、123这样的连续字符",
	  "avoid sequences such as abc or 123" },
	{ ANFU_PW_KEYBOARD, "避免使用qwe这样的键盘相邻字符", "avoid keyboard runs such as qwe" },
	{ ANFU_PW_REPEATED, "避免连续重复同一个字符", "avoid repeating a character" },
};

/* Advice for a password that passes, by score. */
static const struct advice passing[STRENGTH_MAX + 1] = {
	{ NULL, "可以使用，但更长的密码更安全", "acceptable; a longer password is stronger" },
	{ NULL, "可以使用，但更长的密码更安全", "acceptable; a longer password is stronger" },
	{ NULL, "可以使用，但更长的密码更安全", "acceptable; a longer password is stronger" },
	{ NULL, "较强的密码，再长一些会更安全", "good; a longer password is even stronger" },
	{ NULL, "强密码", "strong password" },
};

/* The too-short advice names the policy's minimum length. */
static void short_advice(bool en, int64_t min_length, char *out, size_t cap)
{
	(void)snprintf(out, cap, en ? "use at least %lld characters" : "密码至少需要%lld个字符",
		       (long long)min_length);
}

static const struct advice *advice_for(const char *rule, int score)
{
	if (!rule)
		return &passing[score < 0 ? 0 : score > STRENGTH_MAX ? STRENGTH_MAX : score];
	for (size_t i = 0; i < sizeof(advice_tab) / sizeof(advice_tab[0]); i++)
		if (strcmp(advice_tab[i].rule, rule) == 0)
			return &advice_tab[i];
	return &advice_tab[0];
}

/* Rates pw (len bytes, borrowed) for ctx's language: see iam.h. ret is
 * written only on success. Thread-safe; no database access. */
int anfu_iam_password_strength(struct anfu_iam *iam, const struct anfu_iam_ctx *ctx, const char *pw,
			       size_t len, struct anfu_pw_strength *ret)
{
	const struct anfu_config_password *pol;
	const struct advice *a;
	struct anfu_pw_strength out;
	const char *rule = NULL;
	bool en;

	if (!iam || !ctx || !ret || (!pw && len > 0))
		return ANFU_EINVAL;
	pol = &iam->cfg->password[ANFU_CLASS_CUSTOMER];
	en = !ctx->lang || strcmp(ctx->lang, "zh") != 0;
	memset(&out, 0, sizeof(out));
	out.max = STRENGTH_MAX;
	out.score = anfu_pwpolicy_strength(pw ? pw : "", len);
	if (anfu_pwpolicy_check(pol, pw ? pw : "", len, NULL, &rule) < 0)
		out.rule = rule ? rule : ANFU_PW_EMPTY;
	out.acceptable = out.rule == NULL;
	if (out.rule && strcmp(out.rule, ANFU_PW_TOO_SHORT) == 0) {
		short_advice(en, pol->min_length, out.advice, sizeof(out.advice));
	} else {
		a = advice_for(out.rule, out.score);
		(void)anfu_strlcpy(out.advice, en ? a->en : a->zh, sizeof(out.advice));
	}
	*ret = out;
	return 0;
}
