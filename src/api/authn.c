/*
 * api/authn: the authenticators of the "session" and "admin" access
 * classes, and the request context IAM calls get.
 *
 * Trusts nothing of the request: the cookie, CSRF header, Origin and Host
 * go to anfu_iam_authenticate(), which decides. On success the principal
 * lives in the request arena and names the actor for logs and audit.
 */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/rand.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int anfu_api_path_id(struct anfu_req *req, const char *prefix, char **ret)
{
	struct anfu_str id = anfu_req_param(req, "id");

	if (!anfu_id_valid(prefix, id.ptr, id.len))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	return anfu_arena_strndup(req->arena, id.ptr, id.len, ret);
}

void anfu_api_ctx(const struct anfu_req *req, struct anfu_iam_ctx *ctx)
{
	*ctx = (struct anfu_iam_ctx){
		.ip = req->client_ip,
		.user_agent = or_empty(anfu_req_header(req, "User-Agent")),
		.device_id = or_empty(anfu_req_header(req, "X-Device-Id")),
		.request_id = req->request_id,
		.lang = anfu_req_lang(req),
		.admin = req->admin_listener,
	};
}

static const char *kind_name(enum anfu_user_kind k)
{
	switch (k) {
	case ANFU_USER_CUSTOMER: return "customer";
	case ANFU_USER_MERCHANT: return "merchant";
	case ANFU_USER_STAFF: return "staff";
	}
	return "anonymous";
}

/* The principal p lacks the route's permission: an attempt beyond its
 * privileges, audited and alerted to the administrators (AUD-ALERT-01)
 * before the 403. */
static int refuse_privilege(struct anfu_req *req, const struct anfu_iam_ctx *ctx,
			    const struct anfu_principal *p, const char *permission)
{
	struct anfu_app *app = req->app;

	anfu_iam_privilege_denied(app->iam, ctx, p, req->method, req->route->pattern, permission);
	return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
}

/* Authenticates the request's session cookie for its route; with
 * optional, a missing cookie is not an error (req->principal stays NULL).
 * The session, its state and CSRF are checked by the service; the route's
 * permission here, so that a refusal knows who was refused. */
int anfu_api_authenticate(struct anfu_req *req, bool optional)
{
	struct anfu_app *app = req->app;
	const struct anfu_route *rt = req->route;
	const char *method = req->method;
	const char *perm = rt->access == ANFU_ACCESS_PUBLIC ? ANFU_PERM_SESSION : rt->permission;
	struct anfu_iam_auth_in in = {
		.cookie = anfu_req_cookie(req, req->admin_listener ? ANFU_ADMIN_SESSION_COOKIE
								   : ANFU_SESSION_COOKIE),
		.csrf = anfu_req_header(req, "X-CSRF-Token"),
		.origin = anfu_req_header(req, "Origin"),
		.host = anfu_req_header(req, "Host"),
		.permission = ANFU_PERM_SESSION,
		.state_changing = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0,
		.csrf_exempt = (rt->flags & ANFU_ROUTE_NO_CSRF) != 0,
		.allow_mfa_pending = (rt->flags & ANFU_ROUTE_MFA_PENDING) != 0,
		.allow_required = (rt->flags & ANFU_ROUTE_REQUIRED_ACTION) != 0,
	};
	struct anfu_iam_err err = { 0 };
	struct anfu_iam_ctx ctx;
	struct anfu_principal *p = NULL;
	int r;

	if (!in.cookie && optional)
		return 0;
	if (!in.cookie)
		return anfu_req_fail(req, ANFU_EAUTH, ANFU_R_UNAUTHORIZED, NULL);
	r = anfu_arena_alloc(req->arena, sizeof(*p), (void **)&p);
	if (r < 0)
		return r;
	anfu_api_ctx(req, &ctx);
	r = anfu_iam_authenticate(app->iam, &ctx, &in, p, &err);
	if (r < 0)
		return anfu_req_fail(req, r, err.code, err.field);
	req->actor_id = p->user_id;
	req->actor_type = kind_name(p->kind);
	req->actor_role = p->roles;
	if (!perm || !perm[0] ||
	    (strcmp(perm, ANFU_PERM_SESSION) != 0 && !anfu_principal_can(p, perm)))
		return refuse_privilege(req, &ctx, p, perm);
	req->principal = p;
	return 0;
}

int anfu_api_auth_session(struct anfu_req *req)
{
	return anfu_api_authenticate(req, false);
}

int anfu_api_auth_admin(struct anfu_req *req)
{
	int r;

	/* The router serves admin routes only on the admin listener; this is
	 * the second lock on that door. */
	if (!req->admin_listener)
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	r = anfu_api_authenticate(req, false);
	if (r < 0)
		return r;
	if (((struct anfu_principal *)req->principal)->kind != ANFU_USER_STAFF) {
		struct anfu_iam_ctx ctx;

		anfu_api_ctx(req, &ctx);
		return refuse_privilege(req, &ctx, req->principal, req->route->permission);
	}
	return 0;
}
