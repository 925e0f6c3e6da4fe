/*
 * web/html: the safe HTML writer (every interpolated value escaped,
 * WEB-XSS-01), the page strings in zh-CN and English, the language
 * choice, the local-path rule of ?next= (WEB-REDIR-01) and the asset
 * lookup.
 *
 * Owns the string table. Trusts templates (string literals of ours) and
 * nothing in the values interpolated into them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "web/web.h"

int anfu_web_html_escape(struct anfu_buf *out, const char *s)
{
	const char *start = s;
	int r = 0;

	if (!s)
		return 0;
	for (; *s && r == 0; s++) {
		const char *ent = NULL;

		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		r = anfu_buf_append(out, start, (size_t)(s - start));
		if (r == 0)
			r = anfu_buf_appends(out, ent);
		start = s + 1;
	}
	return r == 0 ? anfu_buf_append(out, start, strlen(start)) : r;
}

int anfu_web_html(struct anfu_buf *out, const char *tmpl, const char *const *vals, size_t n)
{
	const char *p = tmpl, *q;
	int r = 0;

	while (r == 0 && (q = strchr(p, '{')) != NULL) {
		r = anfu_buf_append(out, p, (size_t)(q - p));
		if (r < 0)
			break;
		if (q[1] >= '0' && q[1] <= '9' && q[2] == '}') {
			size_t i = (size_t)(q[1] - '0');

			if (i >= n)
				return ANFU_EINVAL;
			r = anfu_web_html_escape(out, vals[i]);
			p = q + 3;
		} else {
			r = anfu_buf_append(out, q, 1);
			p = q + 1;
		}
	}
	return r == 0 ? anfu_buf_appends(out, p) : r;
}

const char *anfu_web_lang(const char *query_lang, const char *accept_lang)
{
	if (query_lang && (strcmp(query_lang, "zh") == 0 || strcmp(query_lang, "en") == 0))
		return strcmp(query_lang, "zh") == 0 ? "zh" : "en";
	return accept_lang && strcmp(accept_lang, "en") == 0 ? "en" : "zh";
}

/* The page strings: key, English, Simplified Chinese. */
static const struct {
	const char *key, *en, *zh;
} texts[] = {
	{ "site", "anfu", "安付" },
	{ "switch", "中文", "English" },
	{ "login.title", "Sign in", "登录" },
	{ "login.name", "Login name or phone", "登录名或手机号" },
	{ "login.password", "Password", "密码" },
	{ "login.submit", "Sign in", "登录" },
	{ "login.code", "Verification code", "验证码" },
	{ "login.code_submit", "Verify", "验证" },
	{ "login.code_send", "Send the code", "发送验证码" },
	{ "login.code_sent", "The code was sent by SMS.", "验证码已通过短信发送。" },
	{ "login.failed", "Wrong login name or password.", "登录名或密码错误。" },
	{ "login.error", "Sign-in is not possible right now.", "暂时无法登录。" },
	{ "login.code_failed", "Wrong or expired code.", "验证码错误或已过期。" },
	{ "login.captcha", "Characters in the image", "图形验证码" },
	{ "login.captcha_alt", "Captcha image", "图形验证码图片" },
	{ "login.captcha_refresh", "Another image", "换一张" },
	{ "login.captcha_required", "Type the characters shown in the image.",
	  "请输入图中的字符。" },
	{ "login.captcha_invalid",
	  "The characters did not match or the image expired; try this one.",
	  "图形验证码错误或已过期，请输入新的一张。" },
	{ "login.next", "Next", "下一步" },
	{ "login.reserved", "Your reserved message: ", "您的预留信息：" },
	{ "login.reserved_unset",
	  "You have not set a reserved message. After signing in, set one on your account page "
	  "(My account): anfu then shows it here before asking for your password.",
	  "您尚未设置预留信息。登录后可在“我的账户”页面设置：之后 anfu "
	  "会在要求输入密码之前在此显示它。" },
	{ "login.change_name", "Not you? Change the name", "不是您？更换登录名" },
	{ "login.too_many", "Too many attempts from this network; please try again later.",
	  "来自此网络的尝试过多，请稍后再试。" },
	{ "account.title", "My account", "我的账户" },
	{ "account.reserved", "Reserved message (anti-phishing)", "预留信息（防钓鱼）" },
	{ "account.reserved_none", "(not set)", "（未设置）" },
	{ "account.reserved_help",
	  "anfu shows this message on its login and payment pages. If a page does not show it, "
	  "do not enter your password.",
	  "安付会在登录和支付页面显示此信息。如页面未显示，请勿输入密码。" },
	{ "account.reserved_save", "Save", "保存" },
	{ "account.reserved_saved", "Saved.", "已保存。" },
	{ "account.reserved_bad", "The message is too long or contains characters not allowed.",
	  "预留信息过长或包含不允许的字符。" },
	{ "account.pin_check", "Check my payment password", "验证支付密码" },
	{ "account.pin_ok", "The payment password is right.", "支付密码正确。" },
	{ "account.pin_wrong", "The payment password is wrong.", "支付密码错误。" },
	{ "account.pin_refused", "This keypad can no longer be used; reload the page.",
	  "此键盘已失效，请刷新页面。" },
	{ "account.logout", "Sign out", "退出登录" },
	{ "account.session_lost", "Your session has ended; sign in again.",
	  "会话已结束，请重新登录。" },
	{ "keypad.clear", "Clear", "清除" },
	{ "keypad.ok", "OK", "确定" },
	{ "keypad.label", "Payment password keypad (digits shuffled)",
	  "支付密码键盘（数字随机排列）" },
	/* The cashier page (pay/api/cashier.c, issue 11). */
	{ "cashier.title", "Checkout", "收银台" },
	{ "cashier.merchant", "Merchant", "商户" },
	{ "cashier.subject", "Item", "商品" },
	{ "cashier.amount", "Amount", "金额" },
	{ "cashier.expires", "Pay before (China time)", "支付截止（北京时间）" },
	{ "cashier.order", "Order", "订单号" },
	{ "cashier.line_name", "Item", "商品" },
	{ "cashier.line_qty", "Qty", "数量" },
	{ "cashier.line_unit", "Unit price", "单价" },
	{ "cashier.line_amount", "Subtotal", "小计" },
	{ "cashier.reserved_check",
	  "Check that this is the reserved message you set. If it is not, do not enter your "
	  "payment password.",
	  "请核对以上是您设置的预留信息。如不一致，请勿输入支付密码。" },
	{ "cashier.reserved_unset",
	  "You have not set a reserved message. Set one on your account page: anfu then shows it "
	  "here, so that you can tell a genuine page.",
	  "您尚未设置预留信息。请在账户页面设置，安付会在此显示，便于您识别真实页面。" },
	{ "cashier.pin", "Enter your payment password", "请输入支付密码" },
	{ "cashier.paid", "Payment successful", "支付成功" },
	{ "cashier.return", "Back to the merchant", "返回商户" },
	{ "cashier.retry", "Try again", "重试" },
	{ "cashier.failed", "The payment did not go through.", "支付未完成。" },
	{ "cashier.step_up",
	  "This amount needs a second factor besides the payment password: confirm with the SMS "
	  "code sent to your bound phone, then enter the payment password again.",
	  "此金额除支付密码外还需要第二重验证：请输入发送到您绑定手机的短信验证码，然后重新输入支付"
	  "密码。" },
	/* The fallback when no phone is bound (no SMS code to send). */
	{ "cashier.step_up_signin",
	  "This amount needs a second factor besides the payment password, and your account has "
	  "no phone for an SMS code: sign in again with your second factor (use \"Try again\"), "
	  "then pay within a few minutes.",
	  "此金额除支付密码外还需要第二重验证，而您的账户未绑定可接收短信验证码的手机：请使用第二重"
	  "验证重新登录（点击“重试”），并在几分钟内完成支付。" },
	{ "cashier.code_send", "Send code", "获取验证码" },
	{ "cashier.code_label", "SMS verification code", "短信验证码" },
	{ "cashier.code_verify", "Verify", "验证" },
	/* {to}: the masked phone number; {n}: seconds (static/cashier.js). */
	{ "cashier.code_sent", "A code was sent to {to}.", "验证码已发送至 {to}。" },
	{ "cashier.code_wait", "Send again in {n} s", "{n} 秒后可重新获取" },
	{ "cashier.verified", "Verified. Enter your payment password again on the new keypad.",
	  "验证成功，请在新的键盘上重新输入支付密码。" },
	{ "cashier.state_paid", "This order has been paid.", "该订单已支付。" },
	{ "cashier.state_refunded", "This order has been paid and refunded (in part or in full).",
	  "该订单已支付并已（部分或全部）退款。" },
	{ "cashier.state_closed", "This order has been closed and can no longer be paid.",
	  "该订单已关闭，无法支付。" },
	{ "cashier.state_expired", "This order has expired and can no longer be paid.",
	  "该订单已过期，无法支付。" },
	{ "cashier.not_found", "There is no such order.", "订单不存在。" },
	{ "cashier.customers_only", "Only a customer can pay an order here.",
	  "只有个人用户可以在此支付订单。" },
	/* Pay-on-behalf links on the cashier page (issue 11, FUNC-PAY-17). */
	{ "cashier.shared",
	  "Another customer shared this order with you: you pay it on their behalf, from your own "
	  "balance with your own payment password.",
	  "其他用户向您分享了此订单：您将代其支付，使用您自己的余额和支付密码。" },
	{ "cashier.share_not_found",
	  "This payment link is not valid (unknown, or replaced by a newer one).",
	  "此代付链接无效（不存在或已被新链接取代）。" },
	{ "cashier.share_expired", "This payment link has expired.", "此代付链接已过期。" },
};

const char *anfu_web_text(const char *lang, const char *key)
{
	bool zh = !lang || strcmp(lang, "en") != 0;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].key, key) == 0)
			return zh ? texts[i].zh : texts[i].en;
	anfu_log_error("web.text", "no page string %s", key);
	abort();
}

bool anfu_web_next_ok(const char *next)
{
	size_t n = next ? strnlen(next, ANFU_LIMIT_WEB_NEXT_BYTES + 1) : 0;

	/* "//host" and "/\host" are network paths to browsers. */
	if (n == 0 || n > ANFU_LIMIT_WEB_NEXT_BYTES || next[0] != '/' || next[1] == '/' ||
	    next[1] == '\\')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)next[i] <= 0x20 || (unsigned char)next[i] >= 0x7f ||
		    next[i] == '\\')
			return false;
	return true;
}

const struct anfu_web_asset *anfu_web_asset_by_url(const char *url)
{
	for (size_t i = 0; url && i < anfu_web_nassets; i++)
		if (strcmp(anfu_web_assets[i].url, url) == 0)
			return &anfu_web_assets[i];
	return NULL;
}

const char *anfu_web_asset_url(const char *name)
{
	for (size_t i = 0; i < anfu_web_nassets; i++)
		if (strcmp(anfu_web_assets[i].name, name) == 0)
			return anfu_web_assets[i].url;
	anfu_log_error("web.asset", "no asset %s", name);
	abort();
}

int anfu_web_keypad_html(struct anfu_buf *out, const char *lang, const struct anfu_web_keypad *k,
			 int length)
{
	char len_text[8], pos[2] = { 0 }, digit[2] = { 0 };
	const char *head[] = { k->id, len_text, anfu_web_text(lang, "keypad.label") };
	int r;

	(void)snprintf(len_text, sizeof(len_text), "%d", length);
	r = anfu_web_html(out,
			  "<div class=\"keypad-box\" data-keypad=\"{0}\" data-length=\"{1}\">"
			  "<div class=\"keypad-dots\" aria-live=\"polite\"></div>"
			  "<div class=\"keypad\" role=\"group\" aria-label=\"{2}\">",
			  head, 3);
	for (int i = 0; r == 0 && i < ANFU_WEB_KEYPAD_KEYS; i++) {
		const char *v[] = { pos, digit };

		pos[0] = (char)('0' + i);
		digit[0] = k->layout[i];
		if (i == ANFU_WEB_KEYPAD_KEYS - 1)
			r = anfu_web_html(out,
					  "<button type=\"button\" class=\"keypad-clear\">{0}"
					  "</button>",
					  (const char *[]){ anfu_web_text(lang, "keypad.clear") },
					  1);
		if (r == 0)
			r = anfu_web_html(
				out, "<button type=\"button\" data-pos=\"{0}\">{1}</button>", v, 2);
	}
	if (r == 0)
		r = anfu_web_html(out,
				  "<button type=\"button\" class=\"keypad-ok\">{0}</button>"
				  "</div></div>",
				  (const char *[]){ anfu_web_text(lang, "keypad.ok") }, 1);
	return r;
}
