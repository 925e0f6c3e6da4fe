/*
 * receipt/api/routes: the receipt routes (docs/receipts.md):
 * GET /api/v1/receipts/keys              public: the receipt key(s)
 * GET /api/v1/me/receipts/{kind}/{ref}   a customer who is a party
 * GET /admin/v1/receipts/{kind}/{ref}    an operator with receipt.read
 * A receipt is sent as the stored document, application/json, as an
 * attachment named after its rct_ id; a receipt the asker may not see
 * is 404 not_found like one that does not exist.
 *
 * Trusts the router's authentication (session / admin session and the
 * permission); trusts nothing in the path (kind and ref are checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/refusal.h"
#include "http/http.h"
#include "iam/iam.h"
#include "receipt/api/module.h"
#include "receipt/receipt.h"

static struct anfu_receipt *service(struct anfu_req *req)
{
	return anfu_api_service(req->app, &anfu_receipt_module);
}

int anfu_receipt_api_keys(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_receipt *r = service(req);
	char kid[ANFU_KID_MAX];
	const char *alg = NULL;
	char *pem = NULL;
	int rc;

	if (!r)
		return ANFU_EINTERNAL;
	rc = anfu_receipt_key(r, kid, &alg, &pem);
	if (rc < 0)
		return rc;
	resp->body = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "keys", "kid", kid, "alg", alg, "use",
			       "receipt", "public_key", pem);
	free(pem);
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* A path segment of [a-z0-9_], 1..cap-1 bytes, copied into out. */
static bool segment(const struct anfu_req *req, const char *name, char *out, size_t cap)
{
	struct anfu_str s = anfu_req_param(req, name);

	if (!s.ptr || s.len == 0 || s.len >= cap)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return true;
}

/* The receipt of req's {kind}/{ref} for viewer, as an attachment. */
static int send_receipt(struct anfu_req *req, struct anfu_resp *resp, const char *actor_type,
			const struct anfu_receipt_viewer *viewer)
{
	struct anfu_receipt *r = service(req);
	const char *dev = anfu_req_header(req, "X-Device-Id");
	const struct anfu_actor actor = {
		.id = req->actor_id ? req->actor_id : "",
		.type = req->actor_type ? req->actor_type : actor_type,
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = dev ? dev : "",
		.request_id = req->request_id,
	};
	char kind[ANFU_RECEIPT_KIND_MAX], ref[ANFU_ID_MAX], id[ANFU_ID_MAX], disp[96];
	char *doc = NULL, *copy = NULL, *dispo = NULL;
	size_t len = 0;
	int rc;

	if (!r)
		return ANFU_EINTERNAL;
	if (!segment(req, "kind", kind, sizeof(kind)) || !segment(req, "ref", ref, sizeof(ref)))
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	rc = anfu_receipt_get(r, &actor, viewer, kind, ref, &doc, &len, id);
	if (rc == ANFU_ENOTFOUND)
		return anfu_req_fail(req, rc, ANFU_R_NOT_FOUND, NULL);
	if (rc < 0)
		return rc;
	rc = anfu_arena_strndup(req->arena, doc, len, &copy);
	free(doc);
	if (rc < 0)
		return rc;
	(void)snprintf(disp, sizeof(disp), "attachment; filename=\"%s.json\"", id);
	rc = anfu_arena_strndup(req->arena, disp, strlen(disp), &dispo);
	if (rc == 0)
		rc = anfu_resp_header(resp, "Content-Disposition", dispo);
	if (rc < 0)
		return rc;
	resp->raw = copy;
	resp->raw_len = len;
	resp->content_type = "application/json";
	return 0;
}

int anfu_receipt_api_mine(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_principal *p = req->principal;
	struct anfu_receipt_viewer v = { ANFU_RECEIPT_VIEWER_CUSTOMER, NULL };

	if (!p || p->kind != ANFU_USER_CUSTOMER)
		return anfu_req_fail(req, ANFU_EPERM, ANFU_R_FORBIDDEN, NULL);
	v.id = p->user_id;
	return send_receipt(req, resp, "customer", &v);
}

int anfu_receipt_api_admin(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_receipt_viewer v = { ANFU_RECEIPT_VIEWER_OPERATOR, NULL };

	return send_receipt(req, resp, "operator", &v);
}
