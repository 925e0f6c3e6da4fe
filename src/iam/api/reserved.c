/*
 * iam/api/reserved: GET and PUT /api/v1/me/reserved-message, the
 * customer's anti-phishing reserved message (WEB-PHISH-01; docs/web.md),
 * and POST /api/v1/auth/reserved-message, the login page's first step that
 * shows it before the password is asked.
 *
 * Trusts the session authenticator for the principal; the service checks
 * the kind (customers only) and the text, and answers the anonymous step
 * alike for every name that has no message to show. No SQL here; the
 * message is never logged.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "base/err.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/api/handlers.h"
#include "iam/iam.h"

struct reserved_body {
	struct anfu_str message;
};

static const struct anfu_jfield reserved_fields[] = {
	{ "message", ANFU_JT_STRING, offsetof(struct reserved_body, message), true, 0,
	  ANFU_LIMIT_RESERVED_MESSAGE_BYTES, NULL },
};

static int reserved_out(struct anfu_resp *resp, const char *msg)
{
	resp->body = json_pack("{s:s}", "message", msg);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

int anfu_api_me_reserved_get(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	const struct anfu_principal *p = req->principal;
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	int r;

	if (p->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	r = anfu_iam_reserved_message_of(app->iam, p->user_id, msg, sizeof(msg));
	return r < 0 ? r : reserved_out(resp, msg);
}

int anfu_api_me_reserved_put(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct reserved_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	int r = anfu_req_json(req, reserved_fields,
			      sizeof(reserved_fields) / sizeof(reserved_fields[0]), &b);

	/* Too long or not text: one code for the field, whichever check saw it. */
	if (r < 0 && req->err_code && strcmp(req->err_field, "message") == 0 &&
	    (strcmp(req->err_code, ANFU_JERR_OUT_OF_RANGE) == 0 ||
	     strcmp(req->err_code, ANFU_JERR_INVALID_TEXT) == 0))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_RESERVED_MESSAGE_INVALID, "message");
	if (r < 0)
		return r;
	if (b.message.len >= sizeof(msg))
		return anfu_req_fail(req, ANFU_EINVAL, ANFU_R_RESERVED_MESSAGE_INVALID, "message");
	memcpy(msg, b.message.ptr, b.message.len);
	msg[b.message.len] = '\0';
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_reserved_message_set(app->iam, &ctx, req->principal, msg, &e);
	if (r < 0)
		return e.code ? anfu_req_fail(req, r, e.code, e.field) : r;
	return reserved_out(resp, msg);
}

struct lookup_body {
	struct anfu_str login;
};

/* The login route's rule for the name (iam/api/auth.c login_fields), so
 * that the same faults get the same codes. */
static const struct anfu_jfield lookup_fields[] = {
	{ "login", ANFU_JT_STRING, offsetof(struct lookup_body, login), true, 1, 254, NULL },
};

int anfu_api_auth_reserved(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct lookup_body b = { 0 };
	struct anfu_iam_err e = { 0 };
	struct anfu_iam_ctx ctx;
	char msg[ANFU_LIMIT_RESERVED_MESSAGE_BYTES + 1];
	int wait_s = 1;
	int r = anfu_req_json(req, lookup_fields, sizeof(lookup_fields) / sizeof(lookup_fields[0]),
			      &b);

	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_reserved_message_for_login(app->iam, &ctx, b.login.ptr, msg, sizeof(msg),
						&wait_s, &e);
	if (r == ANFU_ERATE)
		req->retry_after_s = wait_s;
	if (r < 0)
		return anfu_api_iam_fail(req, r, &e);
	return reserved_out(resp, msg);
}
