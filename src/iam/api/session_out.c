/*
 * api/session_out: what a login, MFA or step-up hands back to the client —
 * the session cookie and the JSON body — and small response helpers shared
 * by the IAM handlers, among them the one encoding of a user's view.
 *
 * The session id leaves the server only in a cookie that scripts cannot
 * read (HttpOnly), that is sent only over TLS (Secure) and never on
 * cross-site requests (SameSite=Strict); it has no Max-Age, so closing the
 * browser drops it (WEB-SESS-01, -02, IAM-SESS-02). The CSRF token goes in
 * the body for the client to echo in X-CSRF-Token. A password change or a
 * TOTP confirmation renews both the same way (IAM-SESS-07).
 *
 * A trusted-device secret (issued by an MFA with trust_device) leaves in
 * the __Host-anfu_device cookie (HttpOnly, Secure, Path=/, no Domain,
 * SameSite=Strict, Max-Age = the trust left) for browsers, and in the
 * body as device_token for API clients, which send it back in the
 * X-Device-Token header. Only the main listener issues one (staff never
 * trust a device).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/refusal.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "iam/api/handlers.h"
#include "iam/iam.h"

int anfu_api_cookie(struct anfu_req *req, struct anfu_resp *resp, const char *value)
{
	const char *name = req->admin_listener ? ANFU_ADMIN_SESSION_COOKIE : ANFU_SESSION_COOKIE;
	size_t cap = strlen(name) + (value ? strlen(value) : 0) + 96;
	char *c;
	int r = anfu_arena_alloc(req->arena, cap, (void **)&c);

	if (r < 0)
		return r;
	if (value)
		snprintf(c, cap, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict", name, value);
	else
		snprintf(c, cap, "%s=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict", name);
	return anfu_resp_header(resp, "Set-Cookie", c);
}

int anfu_api_device_cookie(struct anfu_req *req, struct anfu_resp *resp, const char *value,
			   int64_t max_age_s)
{
	size_t cap = strlen(ANFU_DEVICE_COOKIE) + strlen(value) + 112;
	char *c;
	int r;

	if (max_age_s <= 0)
		return ANFU_EINVAL;
	r = anfu_arena_alloc(req->arena, cap, (void **)&c);
	if (r < 0)
		return r;
	snprintf(c, cap, "%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; SameSite=Strict",
		 ANFU_DEVICE_COOKIE, value, (long long)max_age_s);
	return anfu_resp_header(resp, "Set-Cookie", c);
}

static const char *state_name(enum anfu_session_state s)
{
	switch (s) {
	case ANFU_SESSION_MFA_PENDING: return ANFU_R_MFA_REQUIRED;
	case ANFU_SESSION_REQUIRED_ACTIONS: return "required_actions";
	case ANFU_SESSION_ACTIVE: return "active";
	}
	return "unknown";
}

static json_t *methods_json(unsigned m)
{
	json_t *a = json_array();

	if (m & ANFU_MFA_TOTP)
		json_array_append_new(a, json_string("totp"));
	if (m & ANFU_MFA_SMS)
		json_array_append_new(a, json_string("sms"));
	if (m & ANFU_MFA_EMAIL)
		json_array_append_new(a, json_string("email"));
	return a;
}

static json_t *required_json(unsigned ra)
{
	json_t *a = json_array();

	if (ra & ANFU_RA_CHANGE_PASSWORD)
		json_array_append_new(a, json_string("change_password"));
	if (ra & ANFU_RA_ENROL_TOTP)
		json_array_append_new(a, json_string("enrol_totp"));
	return a;
}

/* The unauthorised-use warning shown to staff (IAM-ADM-03). */
const char *anfu_api_banner_text(const char *lang)
{
	if (lang && strcmp(lang, "zh") == 0)
		return "警告：本系统仅限授权人员使用。所有操作均被记录和审计；"
		       "未经授权的访问或使用属违法行为，将被依法追究责任。";
	return "WARNING: This system is for authorised users only. All activity is "
	       "recorded and audited; unauthorised access or use is an offence and "
	       "will be prosecuted.";
}

json_t *anfu_api_login_json(const struct anfu_req *req, const struct anfu_login_result *lr)
{
	json_t *o = json_object();
	json_t *prev = json_null();

	if (lr->previous_login_ms > 0)
		prev = json_pack("{s:I,s:s}", "at_ms", (json_int_t)lr->previous_login_ms, "ip",
				 lr->previous_ip);
	anfu_json_set(o, "state", json_string(state_name(lr->state)));
	anfu_json_set(o, "csrf_token", json_string(lr->csrf));
	anfu_json_set(o, "mfa_methods", methods_json(lr->mfa_methods));
	anfu_json_set(o, "required_actions", required_json(lr->required));
	anfu_json_set(o, "previous_login", prev);
	anfu_json_set(o, "failures_since_last_login", json_integer(lr->failures_since));
	anfu_json_set(o, "password_expires_at_ms",
		      lr->password_expires_ms ? json_integer(lr->password_expires_ms)
					      : json_null());
	anfu_json_set(o, "new_device", json_boolean(lr->new_device));
	anfu_json_set(o, "ended_session",
		      lr->ended_session[0] ? json_string(lr->ended_session) : json_null());
	anfu_json_set(o, "user", anfu_api_user_json(&lr->user));
	if (lr->device_token[0]) {
		anfu_json_set(o, "device_token", json_string(lr->device_token));
		anfu_json_set(o, "device_expires_at_ms", json_integer(lr->device_expires_ms));
	}
	if (req->admin_listener)
		anfu_json_set(o, "warning", json_string(anfu_api_banner_text(anfu_req_lang(req))));
	return o;
}

int anfu_api_session_renewed(struct anfu_req *req, struct anfu_resp *resp,
			     const struct anfu_login_result *lr)
{
	int r = anfu_api_cookie(req, resp, lr->session);

	if (r < 0)
		return r;
	resp->status = 200;
	resp->body =
		json_pack("{s:s,s:s,s:o}", "csrf_token", lr->csrf, "state", state_name(lr->state),
			  "required_actions", required_json(lr->required));
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_iam_fail(struct anfu_req *req, int err, const struct anfu_iam_err *e)
{
	if (e && e->code)
		return anfu_req_fail(req, err, e->code, e->field);
	return err;
}

int anfu_api_png_uri(struct anfu_req *req, const unsigned char *png, size_t len, const char **ret)
{
	static const char prefix[] = "data:image/png;base64,";
	char *b64 = anfu_base64_encode(png, len);
	size_t n = strlen(b64);
	char *out;
	int r = anfu_arena_alloc(req->arena, sizeof(prefix) + n, (void **)&out);

	if (r == 0) {
		memcpy(out, prefix, sizeof(prefix) - 1);
		memcpy(out + sizeof(prefix) - 1, b64, n + 1);
		*ret = out;
	}
	free(b64);
	return r;
}

/* ---- a user's view ---------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *ms_or_null(int64_t ms)
{
	return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *roles_array(const char *roles)
{
	json_t *a = json_array();
	const char *p = roles;

	while (p && *p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n > 0)
			(void)json_array_append_new(a, json_stringn(p, n));
		p = c ? c + 1 : NULL;
	}
	return a;
}

json_t *anfu_api_user_json(const struct anfu_user_view *v)
{
	json_t *o;

	if (!v)
		return NULL;
	o = json_object();
	(void)json_object_set_new(o, "id", json_string(v->id));
	(void)json_object_set_new(o, "kind", str_or_null(v->kind));
	(void)json_object_set_new(o, "status", str_or_null(v->status));
	(void)json_object_set_new(o, "login", str_or_null(v->login));
	(void)json_object_set_new(o, "phone", str_or_null(v->phone));
	(void)json_object_set_new(o, "email", str_or_null(v->email));
	(void)json_object_set_new(o, "nickname", str_or_null(v->nickname));
	(void)json_object_set_new(o, "real_name", str_or_null(v->real_name));
	(void)json_object_set_new(o, "id_number", str_or_null(v->id_number));
	(void)json_object_set_new(o, "roles", roles_array(v->roles));
	(void)json_object_set_new(o, "totp", json_boolean(v->totp));
	(void)json_object_set_new(o, "payment_password", json_boolean(v->payment_password));
	(void)json_object_set_new(o, "created_ms", json_integer((json_int_t)v->created_ms));
	(void)json_object_set_new(o, "last_used_ms", ms_or_null(v->last_used_ms));
	(void)json_object_set_new(o, "password_expires_ms", ms_or_null(v->password_expires_ms));
	return o;
}
