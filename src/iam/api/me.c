/*
 * api/me: self service — one's own profile, logins, sessions, devices,
 * bound phone and email, password, payment password and TOTP
 * (/api/v1/me/... and, for staff, /admin/v1/me/...).
 *
 * The principal comes from the session authenticator; every call is about
 * that principal only, and an id in the path that is not theirs is
 * answered as not found (IAM-RBAC-04, WEB-ERR-02). Password change and
 * TOTP confirmation answer with the renewed session (IAM-SESS-07).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/str.h"
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

/* Shorthand for the handlers below. */
#define CTX(req, ctx) anfu_api_ctx((req), &(ctx))

static int list_out(struct anfu_resp *resp, const char *key, json_t *items)
{
	resp->body = json_pack("{s:o}", key, items);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

static json_t *logins_json(const struct anfu_login_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++) {
		const struct anfu_login_entry *e = &l->v[i];
		if (json_array_append_new(
			    a, json_pack("{sIssssss}", "time_ms", (json_int_t)e->time_ms, "ip",
					 e->ip, "device", e->device, "result", e->result)) < 0)
			abort();
	}
	return a;
}

static json_t *sessions_json(const struct anfu_session_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++) {
		const struct anfu_session_entry *e = &l->v[i];
		if (json_array_append_new(a, json_pack("{sssIsIsssb}", "id", e->id, "created_ms",
						       (json_int_t)e->created_ms, "last_seen_ms",
						       (json_int_t)e->last_seen_ms, "ip", e->ip,
						       "current", e->current)) < 0)
			abort();
	}
	return a;
}

static json_t *devices_json(const struct anfu_device_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++) {
		const struct anfu_device_entry *e = &l->v[i];
		if (json_array_append_new(
			    a, json_pack("{sssssIsIsIsI}", "id", e->id, "label", e->label,
					 "trusted_ms", (json_int_t)e->trusted_ms,
					 "trusted_until_ms", (json_int_t)e->trusted_until_ms,
					 "created_ms", (json_int_t)e->created_ms, "last_seen_ms",
					 (json_int_t)e->last_seen_ms)) < 0)
			abort();
	}
	return a;
}

int anfu_api_me(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_user_view v;
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_me(app->iam, &ctx, req->principal, &v);
	if (r < 0)
		return r;
	resp->body = json_pack("{s:o}", "user", anfu_api_user_json(&v));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_me_logins(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	const char *limit_text = anfu_req_query(req, "limit");
	long long limit = ANFU_LIMIT_IAM_LOGINS_DEFAULT;
	struct anfu_login_list l = { NULL, 0 };
	struct anfu_iam_ctx ctx;
	int r;

	if (limit_text && (anfu_parse_i64(anfu_str_c(limit_text), &limit) < 0 || limit < 1 ||
			   limit > ANFU_LIMIT_IAM_LOGINS_MAX))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_JERR_OUT_OF_RANGE, "limit");
	CTX(req, ctx);
	r = anfu_iam_my_logins(app->iam, &ctx, req->principal, (int)limit, &l);
	if (r == 0)
		r = list_out(resp, "logins", logins_json(&l));
	anfu_login_list_clear(&l);
	return r;
}

int anfu_api_me_sessions(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_session_list l = { NULL, 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_my_sessions(app->iam, &ctx, req->principal, &l);
	if (r == 0)
		r = list_out(resp, "sessions", sessions_json(&l));
	anfu_session_list_clear(&l);
	return r;
}

/* DELETE /me/sessions: every session but this one (after a step-up). */
int anfu_api_me_sessions_end(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_end_sessions(app->iam, &ctx, req->principal, NULL, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}

int anfu_api_me_session_end(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char *sid = NULL;
	int r = anfu_api_path_id(req, "ses", &sid);

	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_end_sessions(app->iam, &ctx, req->principal, sid, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	if (r == 0) {
		resp->status = 204;
		/* Ending one's own current session is a logout: drop the cookie. */
		if (strcmp(sid, ((struct anfu_principal *)req->principal)->session_id) == 0)
			r = anfu_api_cookie(req, resp, NULL);
	}
	return r;
}

struct password_body {
	struct anfu_str current_password, new_password;
};

static const struct anfu_jfield password_fields[] = {
	F_SECRET(password_body, current_password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
	F_SECRET(password_body, new_password, true, 0, ANFU_LIMIT_IAM_PASSWORD_FIELD),
};

int anfu_api_me_password(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct password_body b = { 0 };
	struct anfu_login_result *lr = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, password_fields, NFIELDS(password_fields), &b);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lr), (void **)&lr);
	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_change_password(app->iam, &ctx, req->principal, b.current_password.ptr,
				     b.new_password.ptr, lr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return anfu_api_session_renewed(req, resp, lr);
}

struct pin_body {
	struct anfu_str pin;
};

static const struct anfu_jfield pin_fields[] = {
	F_SECRET(pin_body, pin, true, 1, 16),
};

int anfu_api_me_payment_password(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct pin_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, pin_fields, NFIELDS(pin_fields), &b);

	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_set_payment_password(app->iam, &ctx, req->principal, b.pin.ptr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}

int anfu_api_me_payment_verify(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct pin_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, pin_fields, NFIELDS(pin_fields), &b);

	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_verify_payment_password(app->iam, &ctx, req->principal, b.pin.ptr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->body = json_pack("{s:b}", "verified", 1);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_me_totp(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_totp_enrolment en = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	const char *qr = NULL;
	int r;

	CTX(req, ctx);
	r = anfu_iam_totp_begin(app->iam, &ctx, req->principal, &en, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	r = anfu_api_png_uri(req, en.qr_png, en.qr_png_len, &qr);
	if (r == 0) {
		resp->status = 201;
		resp->body = json_pack("{s:s,s:s,s:s}", "secret", en.secret, "otpauth_uri", en.uri,
				       "qr_png", qr);
	}
	anfu_totp_enrolment_clear(&en);
	return r;
}

/* DELETE /api/v1/me/totp */
int anfu_api_me_totp_remove(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_totp_remove(app->iam, &ctx, req->principal, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}

struct code_body {
	struct anfu_str code;
};

static const struct anfu_jfield code_fields[] = {
	F_STR(code_body, code, true, 1, 16),
};

int anfu_api_me_totp_confirm(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct code_body b = { 0 };
	struct anfu_login_result *lr = NULL;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r = anfu_req_json(req, code_fields, NFIELDS(code_fields), &b);

	if (r == 0)
		r = anfu_arena_alloc(req->arena, sizeof(*lr), (void **)&lr);
	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_totp_confirm(app->iam, &ctx, req->principal, b.code.ptr, lr, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return anfu_api_session_renewed(req, resp, lr);
}

int anfu_api_me_devices(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_device_list l = { NULL, 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_my_devices(app->iam, &ctx, req->principal, &l);
	if (r == 0)
		r = list_out(resp, "devices", devices_json(&l));
	anfu_device_list_clear(&l);
	return r;
}

int anfu_api_me_device_remove(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char *did = NULL;
	int r = anfu_api_path_id(req, "dev", &did);

	if (r < 0)
		return r;
	CTX(req, ctx);
	r = anfu_iam_remove_device(app->iam, &ctx, req->principal, did, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}

struct phone_body {
	struct anfu_str phone, code;
};

struct email_body {
	struct anfu_str email, code;
};

static const struct anfu_jfield phone_fields[] = {
	F_STR(phone_body, phone, true, 1, 32),
	F_STR(phone_body, code, true, 1, 16),
};

static const struct anfu_jfield email_fields[] = {
	F_STR(email_body, email, true, 1, 254),
	F_STR(email_body, code, true, 1, 16),
};

/* POST /me/phone and /me/email: the new value and the bind code sent to
 * it; the service checks the step-up, the code and the value. */
static int bind_out(struct anfu_req *req, struct anfu_resp *resp, const char *kind,
		    const char *target, const char *code)
{
	struct anfu_app *app = req->app;
	struct anfu_user_view v;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_bind_contact(app->iam, &ctx, req->principal, kind, target, code, &v, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->body = json_pack("{s:o}", "user", anfu_api_user_json(&v));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_me_phone(struct anfu_req *req, struct anfu_resp *resp)
{
	struct phone_body b = { 0 };
	int r = anfu_req_json(req, phone_fields, NFIELDS(phone_fields), &b);

	return r < 0 ? r : bind_out(req, resp, "phone", b.phone.ptr, b.code.ptr);
}

int anfu_api_me_email(struct anfu_req *req, struct anfu_resp *resp)
{
	struct email_body b = { 0 };
	int r = anfu_req_json(req, email_fields, NFIELDS(email_fields), &b);

	return r < 0 ? r : bind_out(req, resp, "email", b.email.ptr, b.code.ptr);
}

/* DELETE /me/devices: every trusted device. */
int anfu_api_me_devices_remove(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	int r;

	CTX(req, ctx);
	r = anfu_iam_remove_device(app->iam, &ctx, req->principal, NULL, &e);
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	resp->status = 204;
	return 0;
}
