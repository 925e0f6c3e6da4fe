/*
 * web/api/assets: GET /static/{name}: the assets compiled into the binary
 * (src/web/static/, scripts/embed_static.py), each under a URL that names
 * its content hash, so a browser may keep it for a year (immutable).
 *
 * Trusts nothing in the name: only an exact URL of the table is served;
 * there is no file system behind it (WEB-DIR-01, WEB-SRC-01).
 */
#include <stddef.h>

#include "api/api.h"
#include "base/err.h"
#include "base/refusal.h"
#include "http/http.h"
#include "web/api/module.h"
#include "web/web.h"

int anfu_web_api_static(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct anfu_web_asset *a = anfu_web_asset_by_url(req->path);
	int r;

	if (!a)
		return anfu_req_fail(req, ANFU_ENOTFOUND, ANFU_R_NOT_FOUND, NULL);
	r = anfu_resp_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
	if (r < 0)
		return r;
	resp->raw = (const char *)a->data;
	resp->raw_len = a->len;
	resp->content_type = a->content_type;
	return 0;
}
