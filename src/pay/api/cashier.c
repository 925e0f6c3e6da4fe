/*
 * pay/api/cashier: the hosted cashier page (收银台) GET /pay/{order}
 * (docs/payments.md, "Cashier page"; docs/web.md for the page frame), and
 * the keypad entry of POST /api/v1/me/orders/{id}/pay.
 *
 * The page: no session -> 303 to /login?next=/pay/{order}; a customer
 * sees the merchant's display name, the subject, the bill lines
 * (FUNC-PAY-19), the amount in figures and in capital numerals, the
 * expiry, their reserved message (WEB-PHISH-01; a hint when unset) and a
 * shuffled keypad (WEB-KBD-01); static/cashier.js posts the positions
 * pressed to the pay route and shows the result, then links to the
 * order's stored return URL (never one from the query). An order that is
 * paid, closed or past its expiry shows its state and no keypad; another
 * customer's paid order and an unknown id are "not found" (404).
 *
 * Pay-on-behalf (FUNC-PAY-17): /pay/{order}?share=shr_... (the link
 * POST /api/v1/me/orders/{id}/share hands out) opens the same page for
 * any logged-in customer while the link is valid for that order: a notice
 * that they pay a shared order, their OWN reserved message and keypad, and
 * data-share so that static/cashier.js pays through
 * POST /api/v1/me/shared-orders/{token}/pay (the link re-checked at
 * commit). An unknown link (or another order's) is a 404 page, an expired
 * one a 410 page, neither with the order or a keypad. The requester of a
 * valid link also sees the order once another customer paid it.
 *
 * Trusts the session authenticator for the principal, the pay service for
 * every rule of the payment; nothing in the path, the query or the
 * keypad positions. Every value goes through the escaping writer.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "pay/api/module.h"
#include "pay/internal.h"
#include "pay/pay.h"
#include "store/store.h"
#include "tx/tx.h"
#include "web/page.h"
#include "web/web.h"

#define T(lang, key) anfu_web_text((lang), (key))
/* The payment PIN's digits on the keypad. */
#define PIN_DIGITS 6

/* ---- the keypad entry of the pay route ----
 *
 * The rule (docs/web.md, "The shuffled keypad"): a keypad display is spent
 * by the first attempt that sends its positions, whatever follows. The
 * take commits here, before the PIN is checked, so a wrong PIN spends the
 * display as surely as a refusal for money or a success: the same layout
 * is never a second guess. */

struct take {
	const char *user_id, *keypad_id, *positions;
	char *pin;
	size_t cap;
	struct anfu_web_keypad_refusal why;
};

static int take_tx(struct anfu_tx *tx, void *ud)
{
	struct take *t = ud;

	return anfu_web_keypad_take(anfu_tx_db(tx), anfu_clock_now_ms(), t->user_id, t->keypad_id,
				    t->positions, t->pin, t->cap, &t->why);
}

int anfu_pay_api_keypad_pin(struct anfu_req *req, const char *keypad_id, const char *positions,
			    char *pin, size_t cap)
{
	struct anfu_web *w = anfu_web_api_service_of(req->app);
	const struct anfu_principal *p = req->principal;
	struct anfu_actor actor;
	struct take t = { .user_id = p ? p->user_id : NULL,
			  .keypad_id = keypad_id,
			  .positions = positions,
			  .pin = pin,
			  .cap = cap };
	int r;

	if (!w || !t.user_id)
		return ANFU_EINTERNAL;
	anfu_pay_api_actor(req, &actor);
	r = anfu_tx_run(anfu_web_tx(w), &actor, take_tx, &t);
	if (r < 0) {
		anfu_wipe(pin, cap);
		return t.why.code ? anfu_req_fail(req, r, t.why.code, t.why.field) : r;
	}
	return 0;
}

/* ---- the page ---- */

/* "¥100.84" into out (32 bytes). */
static void figures(int64_t fen, char out[32])
{
	(void)snprintf(out, 32, "¥%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

/* The Shanghai time of ms, "YYYY-MM-DD HH:MM:SS" into out (40 bytes). */
static void when_cn(int64_t ms, char out[40])
{
	char date[16], tod[16];

	anfu_clock_format_cn(ms, date, tod);
	(void)snprintf(out, 40, "%s %s", date, tod);
}

static int lines_table(struct anfu_buf *out, const char *lang, const struct anfu_pay_order *o)
{
	const char *h[] = { T(lang, "cashier.line_name"), T(lang, "cashier.line_qty"),
			    T(lang, "cashier.line_unit"), T(lang, "cashier.line_amount") };
	int r = anfu_web_html(out,
			      "<table id=\"bill-lines\"><thead><tr><th>{0}</th><th>{1}</th>"
			      "<th>{2}</th><th>{3}</th></tr></thead><tbody>",
			      h, 4);

	for (size_t i = 0; r == 0 && i < o->nlines; i++) {
		char qty[24], unit[32], amt[32];
		const char *v[] = { o->lines[i].name, qty, unit, amt };

		(void)snprintf(qty, sizeof(qty), "%lld", (long long)o->lines[i].quantity);
		figures(o->lines[i].unit_amount, unit);
		figures(o->lines[i].amount, amt);
		r = anfu_web_html(out,
				  "<tr class=\"bill-line\"><td>{0}</td><td>{1}</td><td>{2}</td>"
				  "<td>{3}</td></tr>",
				  v, 4);
	}
	if (r == 0)
		r = anfu_buf_appends(out, "</tbody></table>");
	return r;
}

/* The state's sentence, for an order that takes no payment now. */
static const char *state_text(const char *lang, const struct anfu_pay_order *o, int64_t now)
{
	switch (o->state) {
	case ANFU_PAY_CREATED:
	case ANFU_PAY_PAYING: return now >= o->expires_ms ? T(lang, "cashier.state_expired") : NULL;
	case ANFU_PAY_CLOSED:
		return o->expires_ms <= o->closed_ms ? T(lang, "cashier.state_expired")
						     : T(lang, "cashier.state_closed");
	case ANFU_PAY_PARTIALLY_REFUNDED:
	case ANFU_PAY_REFUNDED: return T(lang, "cashier.state_refunded");
	default: return T(lang, "cashier.state_paid");
	}
}

/* The order's summary: merchant, subject, lines, amount, expiry. */
static int summary(struct anfu_buf *out, const char *lang, const struct anfu_pay_order *o,
		   const struct anfu_pay_merchant *m)
{
	struct anfu_buf words;
	char amt[32], expires[40];
	int r;

	anfu_buf_init(&words, 256);
	r = anfu_pay_amount_words_zh(o->amount, &words);
	if (r == 0)
		r = anfu_buf_append(&words, "", 1);
	figures(o->amount, amt);
	when_cn(o->expires_ms, expires);
	if (r == 0) {
		const char *v[] = { T(lang, "cashier.merchant"),
				    strcmp(lang, "en") == 0 ? m->name_en : m->name_zh,
				    T(lang, "cashier.subject"),
				    o->subject,
				    T(lang, "cashier.amount"),
				    amt,
				    words.data,
				    T(lang, "cashier.expires"),
				    expires,
				    T(lang, "cashier.order") };

		r = anfu_web_html(
			out,
			"<dl class=\"order\"><dt>{0}</dt><dd id=\"merchant-name\">{1}</dd>"
			"<dt>{2}</dt><dd id=\"subject\">{3}</dd>"
			"<dt>{4}</dt><dd><strong id=\"amount\">{5}</strong> "
			"<span id=\"amount-words\">{6}</span></dd>"
			"<dt>{7}</dt><dd id=\"expires\">{8}</dd>"
			"<dt>{9}</dt><dd id=\"order-id\">",
			v, 10);
	}
	if (r == 0)
		r = anfu_web_html(out, "{0}</dd></dl>", (const char *[]){ o->id }, 1);
	if (r == 0)
		r = lines_table(out, lang, o);
	anfu_buf_free(&words);
	return r;
}

/* The return link: the order's stored return URL only. */
static int return_link(struct anfu_buf *out, const char *lang, const struct anfu_pay_order *o,
		       bool hidden)
{
	const char *v[] = { o->return_url, T(lang, "cashier.return"), hidden ? " hidden" : "" };

	if (!o->return_url[0])
		return 0;
	return anfu_web_html(out,
			     "<p class=\"return{2}\" id=\"return\"><a id=\"return-link\" "
			     "href=\"{0}\">{1}</a></p>",
			     v, 3);
}

/* The in-page second factor (hidden until a payment answers
 * step_up_required): "Send code" asks POST /api/v1/auth/codes for a
 * step_up code to the bound phone, "Verify" posts it to
 * POST /api/v1/auth/step-up (static/cashier.js). */
static int step_up_box(struct anfu_buf *out, const char *lang)
{
	const char *v[] = { T(lang, "cashier.code_send"), T(lang, "cashier.code_label"),
			    T(lang, "cashier.code_verify") };

	return anfu_web_html(
		out,
		"<section id=\"step-up\" class=\"hidden\">"
		"<button type=\"button\" id=\"step-up-send\">{0}</button>"
		"<label for=\"step-up-code\">{1}</label>"
		"<input type=\"text\" id=\"step-up-code\" inputmode=\"numeric\" "
		"autocomplete=\"one-time-code\" maxlength=\"6\">"
		"<button type=\"button\" id=\"step-up-verify\">{2}</button>"
		"<div id=\"step-up-msg\" class=\"msg\" role=\"alert\"></div></section>",
		v, 3);
}

/* The in-page step-up's strings and the code's resend interval, as data-
 * attributes of the page's body (no inline script). */
static int step_up_data(struct anfu_req *req, struct anfu_buf *out, const char *lang)
{
	char resend[24];
	const char *v[] = { T(lang, "cashier.step_up_signin"), T(lang, "cashier.code_sent"),
			    T(lang, "cashier.code_wait"), resend, T(lang, "cashier.verified") };

	(void)snprintf(resend, sizeof(resend), "%lld",
		       (long long)anfu_iam_code_resend_s(((struct anfu_app *)req->app)->iam));
	return anfu_web_html(out,
			     " data-step-up-signin=\"{0}\" data-code-sent=\"{1}\" "
			     "data-code-wait=\"{2}\" data-resend-s=\"{3}\" data-verified=\"{4}\"",
			     v, 5);
}

/* A customer's page of order o (found, theirs or unpaid); shared: opened
 * with a valid pay-on-behalf link by a customer other than its requester
 * (the notice that they pay another's order). */
static int customer_page(struct anfu_req *req, struct anfu_buf *out, const char *lang,
			 const struct anfu_pay_order *o, const struct anfu_pay_merchant *m,
			 bool shared)
{
	struct anfu_app *app = req->app;
	struct anfu_web *w = anfu_web_api_service_of(app);
	const struct anfu_principal *p = req->principal;
	const char *st = state_text(lang, o, anfu_clock_now_ms());
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	struct anfu_web_keypad k;
	struct anfu_actor actor;
	int r = 0;

	if (shared)
		r = anfu_web_html(out, "<p id=\"shared\" class=\"msg\">{0}</p>",
				  (const char *[]){ T(lang, "cashier.shared") }, 1);
	if (r == 0)
		r = summary(out, lang, o, m);
	if (r == 0 && st) {
		r = anfu_web_html(out, "<p id=\"order-state\" class=\"msg\">{0}</p>",
				  (const char *[]){ st }, 1);
		if (r == 0 && o->payer_id[0])
			r = return_link(out, lang, o, false);
		return r;
	}
	if (!w)
		return ANFU_EINTERNAL;
	if (r == 0)
		r = anfu_iam_reserved_message_of(app->iam, p->user_id, msg, sizeof(msg));
	anfu_pay_api_actor(req, &actor);
	if (r == 0)
		r = anfu_web_keypad_new(w, &actor, &k);
	if (r == 0) {
		const char *v[] = { T(lang, "account.reserved"), msg[0] ? msg : "",
				    msg[0] ? T(lang, "cashier.reserved_check")
					   : T(lang, "cashier.reserved_unset"),
				    msg[0] ? "" : " hidden", T(lang, "cashier.pin") };

		r = anfu_web_html(out,
				  "<section id=\"pay-box\"><h2>{0}</h2>"
				  "<p id=\"reserved\" class=\"reserved{3}\">{1}</p>"
				  "<p id=\"reserved-hint\">{2}</p><h2>{4}</h2>",
				  v, 5);
	}
	if (r == 0)
		r = anfu_web_keypad_html(out, lang, &k, PIN_DIGITS);
	if (r == 0)
		r = anfu_buf_appends(out,
				     "<div id=\"pay-msg\" class=\"msg\" role=\"alert\"></div>");
	if (r == 0)
		r = step_up_box(out, lang);
	if (r == 0)
		r = anfu_buf_appends(out, "<p id=\"retry\" class=\"hidden\"><a id=\"retry-link\" "
					  "href=\"\">");
	if (r == 0)
		r = anfu_web_html(out, "{0}</a></p></section>",
				  (const char *[]){ T(lang, "cashier.retry") }, 1);
	if (r == 0) {
		char amt[32];
		const char *v[] = { T(lang, "cashier.paid"), amt };

		figures(o->amount, amt);
		r = anfu_web_html(out,
				  "<section id=\"result\" class=\"hidden\"><h2 id=\"result-title\">"
				  "{0}</h2><p id=\"result-amount\">{1}</p></section>",
				  v, 2);
	}
	if (r == 0)
		r = return_link(out, lang, o, true);
	return r;
}

/* The refusal of the pay-on-behalf link share for order id as db sees it
 * now into *ret_code (NULL: valid), and whether user_id requested it. A
 * token not shaped as one is share_not_found. */
static int share_of(struct anfu_db *db, const char *share, const char *id, const char *user_id,
		    const char **ret_code, bool *ret_mine)
{
	struct anfu_pay_share s;
	int r;

	*ret_code = ANFU_R_PAY_SHARE_NOT_FOUND;
	*ret_mine = false;
	if (!id || !anfu_id_valid("shr", share, strlen(share)))
		return 0;
	r = pay_share_check(db, share, id, anfu_clock_now_ms(), ret_code);
	if (r == 0 && !*ret_code)
		r = anfu_pay_share_get(db, id, &s);
	if (r == 0 && !*ret_code)
		*ret_mine = strcmp(s.requester_id, user_id) == 0;
	return r;
}

int anfu_pay_api_cashier_page(struct anfu_req *req, struct anfu_resp *resp)
{
	const char *lang = anfu_web_api_lang(req);
	const char *share = anfu_req_query(req, "share"), *share_code = NULL;
	const char *failed = NULL;
	bool shared_by_me = false;
	const struct anfu_principal *p;
	struct anfu_pay_order *o = NULL;
	struct anfu_pay_merchant m;
	struct anfu_db *db = NULL;
	struct anfu_buf out;
	char *id = NULL;
	int status = 200;
	int r = anfu_api_path_id(req, "ord", &id);

	if (r < 0) {
		/* Not an order id: nothing to show, whoever asks. */
		req->err_code = NULL;
		id = NULL;
		status = 404;
	}
	r = anfu_api_authenticate(req, true);
	if (r < 0 || !req->principal) {
		struct anfu_buf loc;
		char *where = NULL;

		req->err_code = NULL;
		anfu_buf_init(&loc, ANFU_LIMIT_WEB_NEXT_BYTES * 4);
		/* next keeps the language (and a link's token shaped as one):
		 * the login page goes back to it. */
		if (share && id && anfu_id_valid("shr", share, strlen(share)))
			r = anfu_buf_appendf(
				&loc,
				"/login?next=%%2Fpay%%2F%s%%3Fshare%%3D%s%%26lang%%3D%s&lang=%s",
				id, share, lang, lang);
		else
			r = anfu_buf_appendf(&loc,
					     "/login?next=%%2Fpay%%2F%s%%3Flang%%3D%s&lang=%s",
					     id ? id : "", lang, lang);
		if (r == 0)
			r = anfu_arena_strndup(req->arena, loc.data, loc.len, &where);
		anfu_buf_free(&loc);
		return r < 0 ? r : anfu_web_api_redirect(resp, where);
	}
	p = req->principal;
	r = anfu_arena_alloc(req->arena, sizeof(*o), (void **)&o);
	if (r == 0)
		r = anfu_store_db(((struct anfu_app *)req->app)->store, &db);
	/* A pay-on-behalf link: valid for this order, or nothing of it. */
	if (r == 0 && share && p->kind == ANFU_USER_CUSTOMER)
		r = share_of(db, share, id, p->user_id, &share_code, &shared_by_me);
	if (r == 0 && share_code) {
		bool expired = strcmp(share_code, ANFU_R_PAY_SHARE_EXPIRED) == 0;

		failed = T(lang, expired ? "cashier.share_expired" : "cashier.share_not_found");
		status = expired ? 410 : 404;
	} else if (r == 0 && id && p->kind == ANFU_USER_CUSTOMER) {
		r = anfu_pay_order_get(db, id, o);
	} else if (r == 0) {
		r = ANFU_ENOTFOUND;
	}
	if (r == 0 && !failed)
		r = anfu_pay_merchant_get(db, o->merchant_id, &m);
	/* Paid by another customer: none of this one's business, but for the
	 * requester of a valid link. */
	if (r == 0 && !failed && o->payer_id[0] && strcmp(o->payer_id, p->user_id) != 0 &&
	    !shared_by_me)
		r = ANFU_ENOTFOUND;
	if (r == ANFU_ENOTFOUND) {
		status = 404;
		failed = T(lang, p->kind == ANFU_USER_CUSTOMER ? "cashier.not_found"
							       : "cashier.customers_only");
	} else if (r < 0) {
		return r;
	}
	anfu_buf_init(&out, ANFU_LIMIT_WEB_PAGE_BYTES);
	r = anfu_web_api_page_head(&out, lang, T(lang, "cashier.title"), "cashier.js");
	if (r == 0) {
		const char *v[] = { lang,
				    failed ? "" : o->id,
				    T(lang, "account.session_lost"),
				    T(lang, "cashier.step_up"),
				    T(lang, "cashier.failed"),
				    failed || !share ? "" : share };

		r = anfu_web_html(&out,
				  " data-lang=\"{0}\" data-order=\"{1}\" data-session-lost=\"{2}\" "
				  "data-step-up=\"{3}\" data-failed=\"{4}\" data-share=\"{5}\"",
				  v, 6);
	}
	if (r == 0)
		r = step_up_data(req, &out, lang);
	if (r == 0)
		r = anfu_buf_appends(&out, ">");
	if (r == 0)
		r = anfu_web_api_page_bar(req, &out, lang);
	if (r == 0)
		r = anfu_web_html(&out, "<h1>{0}</h1>",
				  (const char *[]){ T(lang, "cashier.title") }, 1);
	if (r == 0 && failed)
		r = anfu_web_html(&out, "<p id=\"order-state\" class=\"msg error\">{0}</p>",
				  (const char *[]){ failed }, 1);
	else if (r == 0)
		r = customer_page(req, &out, lang, o, &m, share && !shared_by_me);
	if (r == 0)
		r = anfu_web_api_page_end(&out);
	if (r == 0)
		r = anfu_web_api_page_send(req, resp, &out);
	anfu_buf_free(&out);
	if (r == 0)
		resp->status = status;
	return r;
}
