/*
 * api/auth: the anonymous and half-authenticated IAM endpoints —
 * captcha, one-time codes, registration, login, second factor, step-up,
 * logout, password reset and the password-strength indicator — on the main listener (/api/v1/...) and their
 * twins on the admin listener (/admin/v1/...).
 *
 * Decodes from allowlists, calls src/iam/, encodes. Trusts nothing of the
 * body; never echoes passwords or codes; the session id leaves only in the
 * cookie (api/session_out.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "base/validate.h"
#include "http/http.h"
#include "iam/api/handlers.h"
#include "iam/iam.h"
#include "iam/pwpolicy.h"

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))
#define F_STR(st, name, req, lo, hi)                                                \
	{                                                                           \
#name, ANFU_JT_STRING, offsetof(struct st, name), req, lo, hi, NULL \
	}
/* Passwords and PINs: taken as sent (ANFU_JT_SECRET), their policy judges
 * every character; everything else is text (base/text.h). */
#define F_SECRET(st, name, req, lo, hi)                                             \
	{                                                                           \
#name, ANFU_JT_SECRET, offsetof(struct st, name), req, lo, hi, NULL \
	}

static const char *cstr(struct anfu_str s)
{
	return s.ptr; /* arena copies are NUL-terminated; NULL when absent */
}

struct captcha_body {
	struct anfu_str purpose;
};

/* The purposes themselves are checked by the service, which knows which
 * listener offers which (anfu_iam_captcha_new). */
static const struct anfu_jfield captcha_fields[] = {
	F_STR(captcha_body, purpose, true, 1, 16),
};

int anfu_api_captcha(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct captcha_body b = { 0 };
	struct anfu_captcha c = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *uri = NULL;
	int r = anfu_req_json(req, captcha_fields, NFIELDS(captcha_fields), &b);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_captcha_new(app->iam, &ctx, cstr(b.purpose), &c, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	r = anfu_api_png_uri(req, c.png, c.png_len, &uri);
	if (r == 0) {
		/* image_url: the same PNG from this origin, for pages (the CSP's
		 * img-src 'self' does not take the data: URI). */
		char url[sizeof("/admin/v1/captcha//image") + ANFU_ID_MAX];

		(void)snprintf(url, sizeof(url), "%s/v1/captcha/%s/image",
			       ctx.admin ? "/admin" : "/api", c.id);
		resp->status = 201;
		resp->body = json_pack("{s:s,s:s,s:s,s:I}", "captcha_id", c.id, "image", uri,
				       "image_url", url, "expires_at_ms", (json_int_t)c.expires_ms);
	}
	anfu_captcha_clear(&c);
	return r;
}

/* GET /api/v1/captcha/{id}/image (and the admin twin): the PNG of a live
 * captcha of this listener, for an <img> under img-src 'self'. Anything
 * else (unknown, used, expired, the other listener's) is the same 404;
 * looking does not use the captcha up. No-store (http/headers.c: /api/,
 * /admin/). */
int anfu_api_captcha_image(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_ctx ctx;
	unsigned char *png = NULL;
	size_t len = 0;
	char *id = NULL, *out = NULL;
	int r = anfu_api_path_id(req, "cap", &id);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_captcha_image(app->iam, &ctx, id, &png, &len);
	if (r == ANFU_ENOTFOUND)
		return anfu_req_fail(req, r, ANFU_R_NOT_FOUND, NULL);
	if (r < 0)
		return r;
	r = anfu_arena_alloc(req->arena, len, (void **)&out);
	if (r == 0) {
		memcpy(out, png, len);
		resp->raw = out;
		resp->raw_len = len;
		resp->content_type = "image/png";
	}
	free(png);
	return r;
}

struct codes_body {
	struct anfu_str purpose, channel, target, captcha_id, captcha_answer;
};

static const struct anfu_jfield codes_fields[] = {
	F_STR(codes_body, purpose, true, 1, 16),
	F_STR(codes_body, channel, true, 1, 8),
	F_STR(codes_body, target, false, 1, 254),
	F_STR(codes_body, captcha_id, false, 1, 64),
	F_STR(codes_body, captcha_answer, false, 1, 16),
};

/* Anonymous callers may ask for registration codes; a session (optional
 * here) may ask for login, step-up and bind codes. */
int anfu_api_codes(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct codes_body b = { 0 };
	struct anfu_code_req cr;
	struct anfu_code_sent sent = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, codes_fields, NFIELDS(codes_fields), &b);

	if (r == 0)
		r = anfu_api_authenticate(req, true);
	if (r < 0)
		return r;
	cr = (struct anfu_code_req){ cstr(b.purpose), cstr(b.channel), cstr(b.target),
				     cstr(b.captcha_id), cstr(b.captcha_answer) };
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_send_code(app->iam, &ctx, req->principal, &cr, &sent, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 202;
	resp->body = json_pack("{s:s,s:I,s:s}", "code_id", sent.id, "expires_at_ms",
			       (json_int_t)sent.expires_ms, "sent_to", sent.masked_target);
	return 0;
}

struct register_body {
	struct anfu_str login, code, password, nickname, real_name, id_number;
};

static bool is_resident_id(const char *s, size_t n)
{
	return anfu_valid_resident_id(s, n);
}

static const struct anfu_jfield register_fields[] = {
	F_STR(register_body, login, true, 3, 254),
	F_STR(register_body, code, true, 6, 6),
	F_SECRET(register_body, password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
	F_STR(register_body, nickname, false, 1, 32),
	F_STR(register_body, real_name, false, 1, 32),
	{ "id_number", ANFU_JT_STRING, offsetof(struct register_body, id_number), false, 18, 18,
	  is_resident_id },
};

int anfu_api_register_user(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct register_body b = { 0 };
	struct anfu_register_req rr;
	struct anfu_user_view v;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, register_fields, NFIELDS(register_fields), &b);

	if (r < 0)
		return r;
	rr = (struct anfu_register_req){ cstr(b.login),	   cstr(b.code),      cstr(b.password),
					 cstr(b.nickname), cstr(b.real_name), cstr(b.id_number) };
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_register(app->iam, &ctx, &rr, &v, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 201;
	resp->body = json_pack("{s:o}", "user", anfu_api_user_json(&v));
	return 0;
}

struct login_body {
	struct anfu_str login, password, captcha_id, captcha_answer;
};

static const struct anfu_jfield login_fields[] = {
	F_STR(login_body, login, true, 1, 254),
	F_SECRET(login_body, password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
	F_STR(login_body, captcha_id, false, 1, 64),
	F_STR(login_body, captcha_answer, false, 1, 16),
};

/* The trusted-device secret the client presents: the X-Device-Token
 * header (API clients), else the device cookie (browsers); NULL when none.
 * The service checks it; the admin listener has no trusted devices. */
static const char *device_token(const struct anfu_req *req)
{
	const char *t;

	if (req->admin_listener)
		return NULL;
	t = anfu_req_header(req, ANFU_DEVICE_TOKEN_HEADER);
	return t ? t : anfu_req_cookie(req, ANFU_DEVICE_COOKIE);
}

/* Answers a login-like result: cookie(s) + body. */
static int login_out(struct anfu_req *req, struct anfu_resp *resp,
		     const struct anfu_login_result *lr)
{
	int r = anfu_api_cookie(req, resp, lr->session);

	if (r == 0 && lr->device_token[0])
		r = anfu_api_device_cookie(req, resp, lr->device_token,
					   (lr->device_expires_ms - anfu_clock_now_ms()) / 1000);
	if (r < 0)
		return r;
	resp->body = anfu_api_login_json(req, lr);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_login(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct login_body b = { 0 };
	struct anfu_login_req lq;
	struct anfu_login_result *lr = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, login_fields, NFIELDS(login_fields), &b);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lr), (void **)&lr);
	if (r < 0)
		return r;
	lq = (struct anfu_login_req){ cstr(b.login), cstr(b.password), cstr(b.captcha_id),
				      cstr(b.captcha_answer), device_token(req) };
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_login(app->iam, &ctx, &lq, lr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return login_out(req, resp, lr);
}

struct mfa_body {
	struct anfu_str method, code;
	struct anfu_opt_bool trust_device;
};

static const struct anfu_jfield mfa_fields[] = {
	F_STR(mfa_body, method, true, 1, 8),
	F_STR(mfa_body, code, true, 1, 16),
	{ "trust_device", ANFU_JT_BOOL, offsetof(struct mfa_body, trust_device), false, 0, 0,
	  NULL },
};

int anfu_api_mfa(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct mfa_body b = { 0 };
	struct anfu_login_result *lr = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, mfa_fields, NFIELDS(mfa_fields), &b);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lr), (void **)&lr);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_mfa(app->iam, &ctx, req->principal, cstr(b.method), cstr(b.code),
			 b.trust_device.set && b.trust_device.v, lr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return login_out(req, resp, lr);
}

static const struct anfu_jfield stepup_fields[] = {
	F_STR(mfa_body, method, true, 1, 8),
	F_STR(mfa_body, code, true, 1, 16),
};

int anfu_api_step_up(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct mfa_body b = { 0 };
	struct anfu_login_result *lr = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, stepup_fields, NFIELDS(stepup_fields), &b);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lr), (void **)&lr);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_step_up(app->iam, &ctx, req->principal, cstr(b.method), cstr(b.code), lr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return login_out(req, resp, lr);
}

int anfu_api_logout(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_ctx ctx;
	int r;

	anfu_api_ctx(req, &ctx);
	r = anfu_iam_logout(app->iam, &ctx, req->principal);
	if (r == 0)
		r = anfu_api_cookie(req, resp, NULL);
	if (r == 0)
		resp->status = 204;
	return r;
}

struct reset_body {
	struct anfu_str login, captcha_id, captcha_answer;
};

static const struct anfu_jfield reset_fields[] = {
	F_STR(reset_body, login, true, 1, 254),
	F_STR(reset_body, captcha_id, false, 1, 64),
	F_STR(reset_body, captcha_answer, false, 1, 16),
};

int anfu_api_reset(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct reset_body b = { 0 };
	struct anfu_reset_start rs = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, reset_fields, NFIELDS(reset_fields), &b);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_reset_begin(app->iam, &ctx, cstr(b.login), cstr(b.captcha_id),
				 cstr(b.captcha_answer), &rs, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 202;
	resp->body = json_pack("{s:s,s:I}", "reset_id", rs.id, "expires_at_ms",
			       (json_int_t)rs.expires_ms);
	return 0;
}

struct confirm_body {
	struct anfu_str reset_id, sms_code, email_code, totp_code, new_password;
};

static const struct anfu_jfield confirm_fields[] = {
	F_STR(confirm_body, reset_id, true, 1, 64),
	F_STR(confirm_body, sms_code, false, 1, 16),
	F_STR(confirm_body, email_code, false, 1, 16),
	F_STR(confirm_body, totp_code, false, 1, 16),
	F_SECRET(confirm_body, new_password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
};

int anfu_api_reset_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct confirm_body b = { 0 };
	struct anfu_reset_confirm rc;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, confirm_fields, NFIELDS(confirm_fields), &b);

	if (r < 0)
		return r;
	rc = (struct anfu_reset_confirm){ cstr(b.reset_id), cstr(b.sms_code), cstr(b.email_code),
					  cstr(b.totp_code), cstr(b.new_password) };
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_reset_finish(app->iam, &ctx, &rc, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}

struct strength_body {
	struct anfu_str password;
};

static const struct anfu_jfield strength_fields[] = {
	F_SECRET(strength_body, password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
};

/* POST /api/v1/password-strength: the indicator shown while a password is
 * typed (IAM-PWD-13). The body carries a password, so nothing of it is
 * logged or audited; the answer is the same for everyone. */
int anfu_api_password_strength(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct strength_body b = { 0 };
	struct anfu_pw_strength st;
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, strength_fields, NFIELDS(strength_fields), &b);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_password_strength(app->iam, &ctx, b.password.ptr, b.password.len, &st);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:i,s:i,s:b,s:o,s:s}", "score", st.score, "max", st.max,
			       "acceptable", st.acceptable, "rule",
			       st.rule ? json_string(st.rule) : json_null(), "advice", st.advice);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_banner(struct anfu_req *req, struct anfu_resp *resp)
{
	resp->body = json_pack("{s:s,s:s}", "zh", anfu_api_banner_text("zh"), "en",
			       anfu_api_banner_text("en"));
	(void)req;
	return resp->body ? 0 : ANFU_EINTERNAL;
}
