/*
 * web/api/pages: the server-rendered pages: the frame every page shares
 * (head, language switch, end), /login and /account (docs/web.md).
 *
 * Pages are public routes that look for the session themselves
 * (anfu_api_authenticate, optional) and send a browser without one to
 * /login?next=<this path>. Every value is written through the escaping
 * writer (web/web.h); scripts and styles are separate assets (the CSP
 * allows no inline ones). Trusts nothing in the query: ?lang= picks one
 * of two languages, ?next= must be a local path (WEB-REDIR-01).
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/rand.h"
#include "http/http.h"
#include "iam/iam.h"
#include "web/api/module.h"
#include "web/web.h"

#define T(lang, key) anfu_web_text((lang), (key))
/* The PIN the keypad collects: the payment password's six digits. */
#define PIN_DIGITS 6

const char *anfu_web_api_lang(const struct anfu_req *req)
{
	return anfu_web_lang(anfu_req_query(req, "lang"), anfu_req_lang(req));
}

int anfu_web_api_page_head(struct anfu_buf *out, const char *lang, const char *title,
			   const char *script)
{
	const char *v[] = { strcmp(lang, "en") == 0 ? "en" : "zh-CN",
			    title,
			    T(lang, "site"),
			    anfu_web_asset_url("web.css"),
			    anfu_web_asset_url("keypad.js"),
			    script ? anfu_web_asset_url(script) : NULL };
	int r = anfu_web_html(out,
			      "<!DOCTYPE html>\n<html lang=\"{0}\"><head><meta charset=\"utf-8\">"
			      "<meta name=\"viewport\" content=\"width=device-width, "
			      "initial-scale=1\"><title>{1} - {2}</title>"
			      "<link rel=\"stylesheet\" href=\"{3}\">"
			      "<script src=\"{4}\" defer></script>",
			      v, 6);

	if (r == 0 && script)
		r = anfu_web_html(out, "<script src=\"{5}\" defer></script>", v, 6);
	if (r == 0)
		r = anfu_buf_appends(out, "</head>\n<body");
	return r;
}

/* Appends s percent-encoded (all but unreserved characters). */
static int url_encode(struct anfu_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (; s && *s && r == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			r = anfu_buf_append(out, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			r = anfu_buf_append(out, e, 3);
		}
	}
	return r;
}

int anfu_web_api_page_bar(struct anfu_req *req, struct anfu_buf *out, const char *lang)
{
	const char *next = anfu_req_query(req, "next");
	/* The cashier page's pay-on-behalf link (pay/api/cashier.c) stays
	 * with the language: a token shaped as one, nothing else. */
	const char *share = anfu_req_query(req, "share");
	struct anfu_buf href;
	int r;

	anfu_buf_init(&href, ANFU_LIMIT_WEB_PAGE_BYTES);
	r = anfu_buf_appendf(&href, "%s?lang=%s", req->path, strcmp(lang, "en") == 0 ? "zh" : "en");
	if (r == 0 && share && anfu_id_valid("shr", share, strlen(share)))
		r = anfu_buf_appendf(&href, "&share=%s", share);
	if (r == 0 && anfu_web_next_ok(next))
		r = anfu_buf_appends(&href, "&next=");
	if (r == 0 && anfu_web_next_ok(next))
		r = url_encode(&href, next);
	if (r == 0)
		r = anfu_buf_append(&href, "", 1);
	if (r == 0) {
		const char *v[] = { T(lang, "site"), href.data, T(lang, "switch") };

		r = anfu_web_html(out,
				  "<header><strong>{0}</strong>"
				  "<a id=\"lang-switch\" href=\"{1}\">{2}</a></header>\n<main>",
				  v, 3);
	}
	anfu_buf_free(&href);
	return r;
}

struct anfu_web *anfu_web_api_service_of(const struct anfu_app *app)
{
	return anfu_api_service(app, &anfu_web_module);
}

int anfu_web_api_page_end(struct anfu_buf *out)
{
	return anfu_buf_appends(out, "</main></body></html>\n");
}

int anfu_web_api_page_send(struct anfu_req *req, struct anfu_resp *resp, struct anfu_buf *out)
{
	char *page = NULL;
	int r = anfu_arena_strndup(req->arena, out->data ? out->data : "", out->len, &page);

	anfu_buf_reset(out);
	if (r == 0)
		r = anfu_resp_header(resp, "Cache-Control", "no-store");
	if (r < 0)
		return r;
	resp->status = 200;
	resp->raw = page;
	resp->raw_len = strlen(page);
	resp->content_type = "text/html; charset=utf-8";
	return 0;
}

int anfu_web_api_redirect(struct anfu_resp *resp, const char *location)
{
	int r = anfu_resp_header(resp, "Location", location);

	if (r == 0)
		r = anfu_resp_header(resp, "Cache-Control", "no-store");
	if (r < 0)
		return r;
	resp->status = 303;
	resp->raw = "";
	resp->raw_len = 0;
	resp->content_type = "text/plain; charset=utf-8";
	return 0;
}

/* The login's first step and the head of its second (WEB-PHISH-01): the
 * name ("Next"), then the reserved message (login.js writes it as text,
 * or shows the line for an unset one) and the way back to the name. */
static int login_name_step(struct anfu_buf *out, const char *lang)
{
	const char *v[] = { T(lang, "login.title"),	     T(lang, "login.name"),
			    T(lang, "login.next"),	     T(lang, "login.reserved"),
			    T(lang, "login.reserved_unset"), T(lang, "login.change_name") };

	return anfu_web_html(
		out,
		"<h1>{0}</h1><form id=\"name-form\" autocomplete=\"off\">"
		"<label for=\"login\">{1}</label>"
		"<input type=\"text\" id=\"login\" name=\"login\" autocomplete=\"username\" "
		"maxlength=\"254\" required>"
		"<button type=\"submit\" id=\"name-next\">{2}</button></form>"
		"<form id=\"login-form\" class=\"hidden\" autocomplete=\"off\">"
		"<p id=\"reserved-box\" class=\"reserved hidden\"><span>{3}</span>"
		"<strong id=\"reserved-text\"></strong></p>"
		"<p id=\"reserved-unset\" class=\"reserved-unset hidden\">{4}</p>"
		"<p class=\"login-who\"><span id=\"login-who\"></span> "
		"<a href=\"#\" id=\"change-name\">{5}</a></p>",
		v, 6);
}

/* The rest of the second step: the password (disabled until the message
 * was asked for), the captcha, and the second factor's form. */
static int login_form(struct anfu_buf *out, const char *lang)
{
	const char *v[] = { T(lang, "login.title"),	  T(lang, "login.name"),
			    T(lang, "login.password"),	  T(lang, "login.submit"),
			    T(lang, "login.code"),	  T(lang, "login.code_send"),
			    T(lang, "login.code_submit"), T(lang, "login.captcha"),
			    T(lang, "login.captcha_alt"), T(lang, "login.captcha_refresh") };
	int r = login_name_step(out, lang);

	if (r < 0)
		return r;
	return anfu_web_html(
		out,
		"<label for=\"password\">{2}</label>"
		"<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"off\" "
		"required disabled>"
		/* Shown by login.js when the login API asks for a captcha; the
		 * image comes from /api/v1/captcha/{id}/image (img-src 'self'). */
		"<div id=\"captcha-box\" class=\"captcha hidden\">"
		"<label for=\"captcha-answer\">{7}</label>"
		"<img id=\"captcha-img\" alt=\"{8}\" width=\"160\" height=\"60\">"
		"<button type=\"button\" id=\"captcha-refresh\">{9}</button>"
		"<input type=\"text\" id=\"captcha-answer\" autocomplete=\"off\" "
		"autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"16\"></div>"
		"<button type=\"submit\" id=\"login-submit\">{3}</button></form>"
		"<form id=\"mfa-form\" class=\"hidden\" autocomplete=\"off\">"
		"<button type=\"button\" id=\"code-send\">{5}</button>"
		"<label for=\"code\">{4}</label>"
		"<input type=\"text\" id=\"code\" inputmode=\"numeric\" maxlength=\"16\" "
		"autocomplete=\"one-time-code\">"
		"<button type=\"submit\" id=\"code-submit\">{6}</button></form>"
		"<div id=\"login-msg\" class=\"msg\" role=\"alert\"></div>",
		v, 10);
}

int anfu_web_api_login_page(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_app *app = req->app;
	const char *lang = anfu_web_api_lang(req);
	const char *next = anfu_req_query(req, "next");
	struct anfu_buf out;
	int r;

	/* Anything but a local path goes to the account page instead: no
	 * open redirect through ?next= (WEB-REDIR-01). */
	if (!anfu_web_next_ok(next))
		next = "/account";
	anfu_buf_init(&out, ANFU_LIMIT_WEB_PAGE_BYTES);
	r = anfu_web_api_page_head(&out, lang, T(lang, "login.title"), "login.js");
	if (r == 0) {
		/* data-captcha: "always" when every login needs a captcha (the
		 * page shows one at once), else "on_demand" (shown when the API
		 * answers captcha_required, and after a failed attempt). */
		const char *v[] = { lang,
				    next,
				    T(lang, "login.failed"),
				    T(lang, "login.error"),
				    T(lang, "login.code_failed"),
				    T(lang, "login.code_sent"),
				    anfu_iam_captcha_always(app->iam) ? "always" : "on_demand",
				    T(lang, "login.captcha_required"),
				    T(lang, "login.captcha_invalid"),
				    T(lang, "login.too_many") };

		r = anfu_web_html(&out,
				  " data-lang=\"{0}\" data-next=\"{1}\" data-failed=\"{2}\" "
				  "data-error=\"{3}\" data-code-failed=\"{4}\" "
				  "data-code-sent=\"{5}\" data-captcha=\"{6}\" "
				  "data-captcha-required=\"{7}\" data-captcha-invalid=\"{8}\" "
				  "data-too-many=\"{9}\">",
				  v, 10);
	}
	if (r == 0)
		r = anfu_web_api_page_bar(req, &out, lang);
	if (r == 0)
		r = login_form(&out, lang);
	if (r == 0)
		r = anfu_web_api_page_end(&out);
	if (r == 0)
		r = anfu_web_api_page_send(req, resp, &out);
	anfu_buf_free(&out);
	return r;
}

/* The customer's sections: the reserved message and the keypad. */
static int account_customer(struct anfu_req *req, struct anfu_buf *out, const char *lang)
{
	struct anfu_app *app = req->app;
	struct anfu_web *w = anfu_api_service(app, &anfu_web_module);
	const struct anfu_principal *p = req->principal;
	struct anfu_web_keypad k;
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	int r = anfu_iam_reserved_message_of(app->iam, p->user_id, msg, sizeof(msg));

	const struct anfu_actor actor = { .id = req->actor_id,
					  .type = req->actor_type,
					  .role = req->actor_role ? req->actor_role : "",
					  .ip = req->client_ip,
					  .device = "",
					  .request_id = req->request_id };

	if (r == 0)
		r = anfu_web_keypad_new(w, &actor, &k);
	if (r == 0) {
		const char *v[] = { T(lang, "account.reserved"),
				    msg[0] ? msg : T(lang, "account.reserved_none"),
				    T(lang, "account.reserved_help"),
				    msg,
				    T(lang, "account.reserved_save"),
				    T(lang, "account.pin_check") };

		r = anfu_web_html(out,
				  "<section><h2>{0}</h2><p id=\"reserved-current\" "
				  "class=\"reserved\">{1}</p><p>{2}</p>"
				  "<form id=\"reserved-form\" autocomplete=\"off\">"
				  "<input type=\"text\" id=\"reserved-input\" maxlength=\"32\" "
				  "value=\"{3}\"><button type=\"submit\" id=\"reserved-save\">{4}"
				  "</button></form><div id=\"reserved-msg\" class=\"msg\" "
				  "role=\"status\"></div></section><section><h2>{5}</h2>",
				  v, 6);
	}
	if (r == 0)
		r = anfu_web_keypad_html(out, lang, &k, PIN_DIGITS);
	if (r == 0)
		r = anfu_buf_appends(out, "<div id=\"pin-msg\" class=\"msg\" role=\"status\"></div>"
					  "</section>");
	return r;
}

int anfu_web_api_account_page(struct anfu_req *req, struct anfu_resp *resp)
{
	const char *lang = anfu_web_api_lang(req);
	const struct anfu_principal *p;
	struct anfu_buf out;
	int r = anfu_api_authenticate(req, true);

	if (r < 0 || !req->principal) {
		req->err_code = NULL;
		return anfu_web_api_redirect(resp, strcmp(lang, "en") == 0
							   ? "/login?next=%2Faccount&lang=en"
							   : "/login?next=%2Faccount&lang=zh");
	}
	p = req->principal;
	anfu_buf_init(&out, ANFU_LIMIT_WEB_PAGE_BYTES);
	r = anfu_web_api_page_head(&out, lang, T(lang, "account.title"), "account.js");
	if (r == 0) {
		const char *v[] = { lang,
				    T(lang, "account.reserved_saved"),
				    T(lang, "account.reserved_bad"),
				    T(lang, "account.session_lost"),
				    T(lang, "account.pin_ok"),
				    T(lang, "account.pin_wrong"),
				    T(lang, "account.pin_refused"),
				    T(lang, "account.title") };

		r = anfu_web_html(&out,
				  " data-lang=\"{0}\" data-saved=\"{1}\" data-bad=\"{2}\" "
				  "data-session-lost=\"{3}\" data-pin-ok=\"{4}\" "
				  "data-pin-wrong=\"{5}\" data-pin-refused=\"{6}\">",
				  v, 8);
	}
	if (r == 0)
		r = anfu_web_api_page_bar(req, &out, lang);
	if (r == 0)
		r = anfu_web_html(&out, "<h1>{0}</h1>",
				  (const char *[]){ T(lang, "account.title") }, 1);
	if (r == 0 && p->kind == ANFU_USER_CUSTOMER)
		r = account_customer(req, &out, lang);
	if (r == 0)
		r = anfu_web_html(&out, "<button type=\"button\" id=\"logout\">{0}</button>",
				  (const char *[]){ T(lang, "account.logout") }, 1);
	if (r == 0)
		r = anfu_web_api_page_end(&out);
	if (r == 0)
		r = anfu_web_api_page_send(req, resp, &out);
	anfu_buf_free(&out);
	return r;
}
