/*
 * http/response: encodes and queues responses (handler results and errors).
 *
 * Owns the bytes of each response until libmicrohttpd takes them
 * (MHD_RESPMEM_MUST_FREE). Trusts handlers for their JSON values and raw
 * bodies, but not for header text: a header with CR, LF or a non-token name
 * turns the response into a 500 rather than letting it split. Every
 * response gets the security headers (http/headers.c); errors get the
 * uniform body of http/errors.c. Calls the refusal hook for every 401 and
 * 403 sent. Runs on the MHD thread of the request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "http/internal.h"

#define JSON_TYPE "application/json; charset=utf-8"

static void refusal(struct http_req *hr, int status, const char *code)
{
	anfu_refusal_fn fn = hr->pub.server->opts.on_refusal;

	if (fn && (status == 401 || status == 403))
		fn(&hr->pub, status, code);
}

static int base_headers(struct http_req *hr, struct MHD_Response *r, const char *ctype)
{
	struct anfu_http_server *s = hr->pub.server;
	const struct anfu_route *rt = hr->pub.route;
	bool no_store =
		anfu_http_path_no_store(hr->pub.path) || (rt && rt->access != ANFU_ACCESS_PUBLIC);

	if (anfu_http_security_headers(r, no_store, s->cfg->http.hsts_max_age, hr->pub.request_id) <
	    0)
		return ANFU_EINVAL;
	if (ctype && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
		return ANFU_EINVAL;
	/* While stopping, kept-alive clients are told to go elsewhere; after a
	 * framing refusal nothing more is read from the connection. */
	if ((atomic_load(&s->stopping) || hr->close) &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
		return ANFU_EINVAL;
	return 0;
}

/* Queues body (malloc'd, taken in every case) with status and headers. */
static enum MHD_Result queue(struct http_req *hr, int status, char *body, size_t len,
			     const char *ctype, const struct anfu_resp *extra)
{
	struct MHD_Response *r;
	enum MHD_Result ret = MHD_NO;
	bool ok;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	ok = base_headers(hr, r, ctype) == 0;
	for (int i = 0; ok && extra && i < extra->nheaders; i++)
		ok = MHD_add_response_header(r, extra->header_names[i], extra->header_values[i]) ==
		     MHD_YES;
	if (ok)
		ret = MHD_queue_response(hr->pub.conn, (unsigned)status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES) {
		hr->queued = true;
		hr->status = status;
		hr->resp_bytes = len;
	}
	return ret;
}

enum MHD_Result anfu_http_queue_error(struct http_req *hr, int err)
{
	struct anfu_req *req = &hr->pub;
	struct anfu_resp extra = { 0 };
	char retry[16], *body;
	struct anfu_buf b;
	const char *code;
	size_t len;
	int status;

	status = anfu_http_error_resolve(err, req->err_code, &code);
	/* Overload is expected under load and already counted in metrics; an
	 * audit failure was logged by the executor, which decided to roll back. */
	if (status >= 500 && err != ANFU_EOVERLOAD && err != ANFU_EAUDIT)
		anfu_log_warn("http_error", "request %s %s %s: %s", req->request_id, req->method,
			      req->route ? req->route->pattern : "-", anfu_strerror(err));
	anfu_buf_init(&b, ANFU_LIMIT_ERROR_BODY_BYTES);
	(void)anfu_http_error_render(code, status, anfu_req_lang(req), req->err_field,
				     req->request_id, &b);
	if (req->retry_after_s > 0 && (status == 429 || status == 503)) {
		(void)snprintf(retry, sizeof(retry), "%d", req->retry_after_s);
		(void)anfu_resp_header(&extra, MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	if (status == 405 && req->match.allow[0])
		(void)anfu_resp_header(&extra, MHD_HTTP_HEADER_ALLOW, req->match.allow);
	refusal(hr, status, code);
	body = anfu_buf_steal(&b, &len);
	return queue(hr, status, body, len, JSON_TYPE, &extra);
}

static bool token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Header names must be tokens and values free of CR, LF and NUL, so a
 * handler can never split a response. */
static bool headers_safe(const struct anfu_resp *resp)
{
	for (int i = 0; i < resp->nheaders; i++) {
		const char *n = resp->header_names[i], *v = resp->header_values[i];

		if (!n || !v || n[0] == '\0' || strpbrk(v, "\r\n"))
			return false;
		for (; *n; n++)
			if (!token_char(*n))
				return false;
	}
	return true;
}

/* Serialises the handler's body: JSON (compact, sorted keys) or raw. */
static int encode(const struct anfu_resp *resp, char **ret_body, size_t *ret_len,
		  const char **ret_ctype)
{
	struct anfu_buf b;
	int r;

	anfu_buf_init(&b, ANFU_LIMIT_RESPONSE_BODY_BYTES);
	if (resp->body) {
		r = anfu_json_append(&b, resp->body);
		*ret_ctype = JSON_TYPE;
	} else {
		r = resp->raw_len ? anfu_buf_append(&b, resp->raw, resp->raw_len) : 0;
		*ret_ctype = resp->content_type ? resp->content_type
			     : resp->raw_len	? "application/octet-stream"
						: NULL;
	}
	if (r < 0) {
		anfu_buf_free(&b);
		return r;
	}
	*ret_body = anfu_buf_steal(&b, ret_len);
	return 0;
}

enum MHD_Result anfu_http_queue_resp(struct http_req *hr, struct anfu_resp *resp)
{
	const char *ctype = NULL, *code = NULL;
	char *body = NULL;
	size_t len = 0;
	int r = ANFU_EINTERNAL;

	if (resp->status >= 100 && resp->status <= 599 && headers_safe(resp) &&
	    (!resp->content_type || !strpbrk(resp->content_type, "\r\n")))
		r = encode(resp, &body, &len, &ctype);
	json_decref(resp->body);
	resp->body = NULL;
	if (r < 0) {
		anfu_log_error("http_response",
			       "request %s: handler of %s %s gave a response "
			       "that cannot be sent",
			       hr->pub.request_id, hr->pub.method,
			       hr->pub.route ? hr->pub.route->pattern : "-");
		return anfu_http_queue_error(hr, ANFU_EINTERNAL);
	}
	if (resp->status == 401 || resp->status == 403) {
		(void)anfu_http_status_for(resp->status == 401 ? ANFU_EAUTH : ANFU_EPERM, &code);
		refusal(hr, resp->status, code);
	}
	return queue(hr, resp->status, body, len, ctype, resp);
}

int anfu_resp_header(struct anfu_resp *resp, const char *name, const char *value)
{
	if (!resp || !name || !value)
		return ANFU_EINVAL;
	if (resp->nheaders >= ANFU_LIMIT_RESPONSE_HEADERS)
		return ANFU_ELIMIT;
	resp->header_names[resp->nheaders] = name;
	resp->header_values[resp->nheaders] = value;
	resp->nheaders++;
	return 0;
}
