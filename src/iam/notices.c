/*
 * iam/notices: the texts IAM sends to people (codes, lockouts, new
 * devices, password changes, ...) in Simplified Chinese and English, and
 * the choice of channel by what the user has bound.
 *
 * Owns the template table below. Trusts its callers for template names and
 * arguments (our own strings: codes, times, masked values); never logs a
 * text, only its kind. Messages are queued with anfu_notify_enqueue inside
 * the caller's transaction, so they are sent exactly when the change they
 * report commits; that commit wakes the delivery thread (the notifier
 * registers the wake-up as a post-commit hook).
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "iam/config.h"
#include "iam/core.h"
#include "iam/internal.h"
#include "notify/notify.h"
#include "tx/tx.h"

struct notice_tmpl {
	const char *name; /* also the notify kind */
	const char *subject_zh, *body_zh;
	const char *subject_en, *body_en;
};

/* Placeholders {1}..{9} take the arguments in order; code texts take the
 * code and its validity in minutes. An SMS code text says
 * what the code is for and warns against passing it on (IAM-MFA-07); login
 * codes carry no transaction data because there is none. */
static const struct notice_tmpl tmpls[] = {
	{ "code.register", "注册验证码",
	  "【安付】您正在注册安付账户，验证码{1}，{2}"
	  "分钟内有效。请勿告诉他人，工作人员不会索取验证码。",
	  "Your registration code",
	  "[anfu] Your code to create an anfu account is {1}, valid for {2} minutes. Never share "
	  "it: our staff will never ask for it." },
	{ "code.login", "登录验证码",
	  "【安付】您正在登录安付账户，验证码{1}，{2}分钟内有效。如非本人操作，请立即修改密码。",
	  "Your login code",
	  "[anfu] Your code to log in to anfu is {1}, valid for {2} minutes. If this was not you, "
	  "change your password now." },
	{ "code.step_up", "安全验证码",
	  "【安付】您正在进行敏感操作（修改密码或安全设置），验证码{1}，{2}"
	  "分钟内有效。请勿告诉他人。",
	  "Your security code",
	  "[anfu] Your code to confirm a sensitive change (password or security settings) is {1}, "
	  "valid for {2} minutes. Never share it." },
	{ "code.bind", "绑定验证码",
	  "【安付】您正在将此号码或邮箱绑定到安付账户，验证码{1}，{2}分钟内有效。请勿告诉他人。",
	  "Your binding code",
	  "[anfu] Your code to bind this number or address to an anfu account is {1}, valid for "
	  "{2} minutes. Never share it." },
	{ "code.reset", "重置密码验证码",
	  "【安付】您正在重置安付登录密码，验证码{1}，{2}"
	  "分钟内有效。如非本人操作，请忽略并注意账户安全。",
	  "Your password reset code",
	  "[anfu] Your code to reset your anfu password is {1}, valid for {2} minutes. If this was "
	  "not you, ignore it and keep your account safe." },
	{ "code", "验证码", "【安付】您的验证码{1}，{2}分钟内有效。请勿告诉他人。",
	  "Your verification code",
	  "[anfu] Your verification code is {1}, valid for {2} minutes. Never share it." },
	{ "reset_code", "重置密码验证码",
	  "【安付】您正在重置安付登录密码，验证码{1}，{2}"
	  "分钟内有效。如非本人操作，请忽略并注意账户安全。",
	  "Your password reset code",
	  "[anfu] Your code to reset your anfu password is {1}, valid for {2} minutes. If this was "
	  "not you, ignore it and keep your account safe." },
	{ "register_attempt", "注册提醒",
	  "【安付】有人尝试用此号码或邮箱注册安付账户，但它已绑定您的账户。如非本人操作，无需处理，"
	  "您的账户未受影响。",
	  "Someone tried to register with your details",
	  "[anfu] Someone tried to register a new anfu account with this number or address, which "
	  "already belongs to your account. If it was not you, nothing changed and nothing needs "
	  "doing." },
	{ "lockout", "账户已锁定",
	  "【安付】您的账户因连续多次验证失败已被锁定{1}分钟。如非本人操作，请在解锁后修改密码。",
	  "Your account is locked",
	  "[anfu] Your account has been locked for {1} minutes after repeated failed attempts. If "
	  "this was not you, change your password once it is unlocked." },
	{ "lockout_staff", "账户已锁定",
	  "【安付】您的账户因连续多次验证失败已被锁定，需由管理员解锁。如非本人操作，请立即联系安全"
	  "管理员。",
	  "Your account is locked",
	  "[anfu] Your account has been locked after repeated failed attempts; an administrator "
	  "must unlock it. If this was not you, contact the security administrator now." },
	/* named after the refusal it follows (ANFU_R_PAYMENT_LOCKED) */
	{ ANFU_R_PAYMENT_LOCKED, "支付功能已锁定",
	  "【安付】您的支付密码连续输错，支付功能已锁定{1}分钟。如非本人操作，请立即修改支付密码。",
	  "Payments are locked",
	  "[anfu] Your payment password was entered wrongly too often; payments are locked for {1} "
	  "minutes. If this was not you, change your payment password now." },
	{ "new_device", "新设备登录提醒",
	  "【安付】您的账户于{1}在新的设备或网络（{2}，{3}"
	  "）上登录。如非本人操作，请立即修改密码并结束其他会话。",
	  "New sign-in to your account",
	  "[anfu] Your account signed in at {1} from a new device or network ({2}, {3}). If this "
	  "was not you, change your password and end your other sessions now." },
	{ "totp_removed", "身份验证器已移除",
	  "【安付】您账户绑定的身份验证器已于{1}移除。如非本人操作，请立即修改密码并联系客服。",
	  "Your authenticator app was removed",
	  "[anfu] The authenticator app of your account was removed at {1}. If this was not you, "
	  "change your password and contact customer service now." },
	{ "account_handed_over", "账户已移交",
	  "【安付】账户{1}已于{2}移交他人，此后账户通知不再发往此处。如有疑问，请联系管理员。",
	  "Your account was handed over",
	  "[anfu] The account {1} was handed over to another person at {2}; its notices no "
	  "longer come here. If you have questions, contact your administrator." },
	{ "password_changed", "登录密码已修改",
	  "【安付】您的登录密码已于{1}修改，其他会话已结束。如非本人操作，请立即联系客服。",
	  "Your password was changed",
	  "[anfu] Your login password was changed at {1} and your other sessions were ended. If "
	  "this was not you, contact customer service now." },
	{ "password_reset", "登录密码已重置",
	  "【安付】您的登录密码已于{1}"
	  "通过身份验证重置，所有会话已结束。如非本人操作，请立即联系客服。",
	  "Your password was reset",
	  "[anfu] Your login password was reset at {1} after identity verification, and all "
	  "sessions were ended. If this was not you, contact customer service now." },
	{ "payment_password_changed", "支付密码已设置",
	  "【安付】您的支付密码已于{1}设置或修改。如非本人操作，请立即联系客服。",
	  "Your payment password was set",
	  "[anfu] Your payment password was set or changed at {1}. If this was not you, contact "
	  "customer service now." },
	/* {1} the time, {2} wrong entries left before payments lock. */
	{ "payment_password_failed", "支付密码输入错误",
	  "【安付】您的支付密码于{1}输入错误，再错{2}次支付功能将被锁定。如非本人操作，请立即修改"
	  "登录密码和支付密码。",
	  "A wrong payment password was entered",
	  "[anfu] A wrong payment password was entered for your account at {1}; {2} more wrong "
	  "entries will lock payments. If this was not you, change your login and payment "
	  "passwords now." },
	{ "session_ended", "会话已结束",
	  "【安付】由于同时在线的会话超过上限，您于{1}"
	  "登录的较早会话已被结束。如非本人操作，请立即修改密码。",
	  "A session was ended",
	  "[anfu] You reached the limit of sessions at once, so your older session from {1} was "
	  "ended. If this was not you, change your password now." },
	{ "initial_password", "账户已开通",
	  "【安付】您的账户{1}已开通，初始密码{2}。首次登录须修改密码，请勿告诉他人。",
	  "Your account is ready",
	  "[anfu] Your account {1} is ready; the initial password is {2}. You must change it at "
	  "first login. Never share it." },
	{ "temporary_password", "密码已重置",
	  "【安付】管理员已重置您账户{1}的密码，临时密码{2}。登录后须立即修改，请勿告诉他人。"
	  "如非本人申请，请立即联系客服。",
	  "Your password was reset",
	  "[anfu] An administrator reset the password of your account {1}; the temporary password "
	  "is {2}. You must change it when you log in. Never share it. If you did not ask for "
	  "this, contact customer service now." },
	{ "binding_changed", "绑定信息已更换",
	  "【安付】您账户绑定的手机号或邮箱已于{1}更换为{2}"
	  "，此后账户通知不再发往此处。如非本人操作，请立即联系客服。",
	  "Your bound phone or email was changed",
	  "[anfu] The phone number or email address bound to your account was changed to {2} at "
	  "{1}; account notices no longer come here. If this was not you, contact customer service "
	  "now." },
	{ "account_disabled", "账户已停用",
	  "【安付】您的账户已于{1}被管理员停用，所有会话已结束。如有疑问，请联系客服。",
	  "Your account was disabled",
	  "[anfu] Your account was disabled by an administrator at {1} and all sessions were "
	  "ended. If you have questions, contact customer service." },
	{ "account_unlocked", "账户已解锁",
	  "【安付】您的账户已于{1}由管理员解锁。如非本人申请，请立即修改密码。",
	  "Your account was unlocked",
	  "[anfu] Your account was unlocked by an administrator at {1}. If you did not ask for "
	  "this, change your password now." },
	{ "password_change_forced", "须修改登录密码",
	  "【安付】管理员已于{1}"
	  "要求您修改登录密码，所有会话已结束，下次登录时须设置新密码。如有疑问，请联系客服。",
	  "You must change your password",
	  "[anfu] An administrator required a change of your login password at {1}; all sessions "
	  "were ended and you must set a new password at your next login. If you have questions, "
	  "contact customer service." },
	/* To administrators (AUD-ALERT-01): {1} alert number, {2} time, {3}
	 * the account, {4} its role class, {5} what it tried, {6} on what,
	 * {7} the refusal, {8} the client IP. */
	{ "privilege_alert", "安全告警：越权尝试",
	  "【安付】安全告警 #{1}：{2}，账户{3}（{4}）尝试超出其权限的操作{5}（对象 {6}，拒绝原因 "
	  "{7}，来源 {8}），已被拒绝。该账户在告警窗口内的后续尝试只计入此告警，不再另发邮件。"
	  "请在管理后台的告警列表中核查并确认。",
	  "Security alert: privilege attempt",
	  "[anfu] Security alert #{1}: at {2}, account {3} ({4}) tried {5} beyond its privileges "
	  "(object {6}, refused as {7}, from {8}) and was refused. Further attempts by this "
	  "account within the alert window are counted on this alert without another mail. "
	  "Review and acknowledge it in the alert list of the admin console." },
	{ "password_expiry", "密码即将过期",
	  "【安付】您的登录密码将于{1}过期（还剩{2}天），请及时修改。",
	  "Your password expires soon",
	  "[anfu] Your login password expires on {1} ({2} days left). Please change it in time." },
};

static const struct notice_tmpl *tmpl_find(const char *name)
{
	/* "reset_done" is the name internal.h documents for "password_reset". */
	if (strcmp(name, "reset_done") == 0)
		name = "password_reset";
	for (size_t i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++)
		if (strcmp(tmpls[i].name, name) == 0)
			return &tmpls[i];
	return NULL;
}

/* "code" with three arguments (code, purpose, minutes) picks the
 * purpose's wording; "code.<purpose>" names it directly. */
static const struct notice_tmpl *tmpl_pick(const char *name, const char *const *args, int nargs)
{
	char full[48];

	if (strcmp(name, "code") == 0 && nargs >= 3 && args[1] &&
	    snprintf(full, sizeof(full), "code.%s", args[1]) < (int)sizeof(full)) {
		const struct notice_tmpl *t = tmpl_find(full);
		if (t)
			return t;
	}
	return tmpl_find(name);
}

static int expand(const char *text, const char *const *args, int nargs, struct anfu_buf *out)
{
	int r = 0;

	for (const char *p = text; *p && r == 0; p++) {
		if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
			int i = p[1] - '1';
			if (i < nargs && args[i])
				r = anfu_buf_appends(out, args[i]);
			p += 2;
			continue;
		}
		r = anfu_buf_append(out, p, 1);
	}
	return r;
}

/* Queues one message; texts are built in wiped buffers (they may hold a
 * code or an initial password). */
static int enqueue(struct anfu_iam *iam, struct anfu_tx *tx, enum anfu_channel ch,
		   const char *user_id, const char *target, const char *lang,
		   const struct notice_tmpl *t, const char *const *args, int nargs)
{
	struct anfu_buf body;
	bool en = lang && strcmp(lang, "en") == 0;
	int r;

	if (!iam->notify) {
		anfu_log_warn("iam.notice", "no notifier: %s not sent", t->name);
		return 0;
	}
	anfu_buf_init_secret(&body, ANFU_LIMIT_IAM_NOTICE);
	r = expand(en ? t->body_en : t->body_zh, args, nargs, &body);
	if (r == 0)
		r = anfu_notify_enqueue(iam->notify, tx, ch, user_id, target, t->name,
					en ? t->subject_en : t->subject_zh, body.data);
	anfu_buf_free(&body);
	if (r < 0)
		anfu_log_error("iam.notice", "queueing %s failed: %s", t->name, anfu_strerror(r));
	return r;
}

/* Code texts take (code, minutes): a purpose in the middle is dropped,
 * missing minutes default to the configured code validity. */
static int code_args(const struct anfu_iam *iam, const char *tmpl, const char *const *args,
		     int nargs, const char **buf, char minutes[24])
{
	if (strncmp(tmpl, "code", 4) != 0 || (tmpl[4] != '\0' && tmpl[4] != '.') || nargs < 1)
		return -1;
	(void)snprintf(minutes, 24, "%lld", (long long)((iam->cfg->mfa.code_ttl_s + 59) / 60));
	buf[0] = args[0];
	buf[1] = nargs >= 3 ? args[2] : nargs == 2 ? args[1] : minutes;
	return 2;
}

int iam_notice_to(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
		  const char *channel, const char *target, const char *lang, const char *tmpl,
		  const char *const *args, int nargs)
{
	const struct notice_tmpl *t;
	const char *cargs[2];
	char minutes[24];
	int n;

	if (!iam || !tx || !channel || !target || !tmpl || nargs < 0 ||
	    nargs > ANFU_LIMIT_IAM_NOTICE_ARGS)
		return ANFU_EINVAL;
	t = tmpl_pick(tmpl, args, nargs);
	if (!t)
		return ANFU_EINVAL;
	n = code_args(iam, tmpl, args, nargs, cargs, minutes);
	if (n > 0) {
		args = cargs;
		nargs = n;
	}
	if (strcmp(channel, "sms") == 0)
		return enqueue(iam, tx, ANFU_CHANNEL_SMS, user_id, target, lang, t, args, nargs);
	if (strcmp(channel, "email") == 0)
		return enqueue(iam, tx, ANFU_CHANNEL_EMAIL, user_id, target, lang, t, args, nargs);
	return ANFU_EINVAL;
}

int iam_notice(struct anfu_iam *iam, struct anfu_tx *tx, const struct iam_user *u,
	       unsigned channels, const char *tmpl, const char *const *args, int nargs)
{
	static const struct {
		unsigned bit;
		const char *field, *channel;
	} chans[] = { { ANFU_MFA_SMS, "phone", "sms" }, { ANFU_MFA_EMAIL, "email", "email" } };
	int r = 0, sent = 0;

	if (!iam || !tx || !u || !tmpl)
		return ANFU_EINVAL;
	for (size_t i = 0; i < 2 && r == 0; i++) {
		char *target = NULL;
		if (!(channels & chans[i].bit))
			continue;
		r = iam_user_reveal(iam, anfu_tx_db(tx), u, chans[i].field, &target);
		if (r == 0 && target) {
			r = iam_notice_to(iam, tx, u->id, chans[i].channel, target, u->lang, tmpl,
					  args, nargs);
			sent++;
		}
		anfu_free_secret(target);
	}
	if (r == 0 && sent == 0)
		anfu_log_info("iam.notice", "user %s has no bound channel for %s", u->id, tmpl);
	return r;
}

void iam_time_text(int64_t ms, char out[32])
{
	char iso[32];

	anfu_clock_format(ms, iso);
	/* "2026-11-21T13:12:00.123Z" -> "2026-11-21 13:12 UTC" */
	(void)snprintf(out, 32, "%.10s %.5s UTC", iso, iso + 11);
}

int anfu_iam_notify_user(struct anfu_iam *iam, struct anfu_tx *tx, const char *user_id,
			 const struct anfu_iam_notice *n)
{
	static const struct {
		const char *field;
		enum anfu_channel ch;
	} chans[] = { { "phone", ANFU_CHANNEL_SMS }, { "email", ANFU_CHANNEL_EMAIL } };
	struct iam_user u;
	int r, sent = 0;
	bool en;

	if (!iam || !tx || !user_id || !n || !n->kind || !n->subject_zh || !n->body_zh ||
	    !n->subject_en || !n->body_en)
		return ANFU_EINVAL;
	r = iam_user_load(anfu_tx_db(tx), user_id, &u);
	if (r < 0)
		return r;
	en = strcmp(u.lang, "en") == 0;
	for (size_t i = 0; i < sizeof(chans) / sizeof(chans[0]) && r == 0; i++) {
		char *target = NULL;

		r = iam_user_reveal(iam, anfu_tx_db(tx), &u, chans[i].field, &target);
		if (r == 0 && target && iam->notify) {
			r = anfu_notify_enqueue(iam->notify, tx, chans[i].ch, u.id, target, n->kind,
						en ? n->subject_en : n->subject_zh,
						en ? n->body_en : n->body_zh);
			sent++;
		}
		anfu_free_secret(target);
	}
	if (r == 0 && sent == 0)
		anfu_log_info("iam.notice", "user %s: %s not sent (no bound channel or notifier)",
			      u.id, n->kind);
	iam_user_clear(&u);
	return r;
}
