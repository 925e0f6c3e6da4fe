/*
 * http/request: the per-request state machine behind MHD's access handler,
 * body accumulation, and the accessors handlers use.
 *
 * Owns struct http_req (one per request, created on the first call of the
 * access handler and freed in the completion callback) and its arena.
 * Trusts nothing from the client: path, method, headers and body are
 * bounded and checked before any handler sees them. The order is fixed
 * (see http.h): the framing filter's verdict (http/framing.c: a refused
 * request is answered here with its error and Connection: close, after
 * the rate limit), rate limit (429), concurrency (503), header size (431),
 * routing (404/405), Content-Length (413), Content-Type (415), body with a
 * cap (413), authentication (401/403), handler. Anything refused before the
 * body is read is answered at once; MHD then closes the connection instead
 * of reading the body.
 *
 * Offloading: the handler of an ANFU_ROUTE_OFFLOAD route (slow CPU work,
 * password hashing) does not run on the MHD worker. Once the body is in and
 * authentication passed, the request takes a slot in the offload queue
 * (http/offload.c; none free: 503 with Retry-After, as for the concurrency
 * limit), its connection is suspended, and a pool thread runs the handler,
 * keeps the result and the response in the request and resumes the
 * connection. MHD then calls the access handler once more (no upload,
 * offload "done"), which queues that response exactly as for a handler run
 * in place: same error mapping, headers, refusal hook, access log, metrics.
 * The request stays in flight (and its arena alive) until completion.
 *
 * Deadlines (slowloris): the request code moves the connection's reaper
 * deadline (http/conntrack.c). From the head's arrival the whole body must
 * arrive within header_timeout_s + conn_timeout_s; while the handler runs
 * (on the worker, or offloaded with the connection suspended) there is none
 * (sending the response is bounded by MHD's idle timeout);
 * after completion the next request head must arrive within
 * header_timeout_s. A body larger than the cap is read and dropped up to
 * twice the cap (so the client gets its 413), beyond which the connection
 * is closed without an answer.
 *
 * Each request is handled by one thread at a time: its MHD worker, or an
 * offload thread while its connection is suspended (the suspension and the
 * resumption, which takes MHD's lock, hand it over). The server-wide state it
 * touches (in-flight count, rate table, metrics, connection list, offload
 * queue) is atomic or locked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "config/config.h"
#include "http/internal.h"

static struct anfu_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void set_client(struct anfu_req *req, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	(void)anfu_strlcpy(req->client_ip, "unknown", sizeof(req->client_ip));
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		req->client_family = AF_INET;
		memcpy(req->client_addr, &sin->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		req->client_family = AF_INET6;
		memcpy(req->client_addr, &sin6->sin6_addr, 16);
	} else {
		return;
	}
	if (!inet_ntop(req->client_family, req->client_addr, req->client_ip,
		       sizeof(req->client_ip)))
		(void)anfu_strlcpy(req->client_ip, "unknown", sizeof(req->client_ip));
}

/* A path we route and log as it is: bounded, valid UTF-8, no controls. */
static bool path_valid(const char *p, size_t len)
{
	if (len == 0 || len > ANFU_LIMIT_PATH_BYTES || p[0] != '/' || !anfu_utf8_valid(p, len))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* Copies s (cut at max bytes) into the arena; with ascii, every byte that
 * is not printable ASCII becomes '?', so the copy is safe to log. */
static const char *arena_copy(struct anfu_arena *a, const char *s, size_t max, bool ascii)
{
	size_t len = strnlen(s, max);
	char *copy;

	if (anfu_arena_strndup(a, s, len, &copy) < 0)
		return "-";
	for (size_t i = 0; ascii && i < len; i++)
		if ((unsigned char)copy[i] < 0x21 || (unsigned char)copy[i] > 0x7e)
			copy[i] = '?';
	return copy;
}

static struct http_req *req_new(struct http_listener *l, struct MHD_Connection *c, const char *url,
				const char *method)
{
	struct anfu_http_server *s = l->server;
	struct http_req *hr = anfu_xcalloc(1, sizeof(*hr));
	struct anfu_req *req = &hr->pub;

	atomic_fetch_add(&s->inflight, 1);
	hr->listener = l;
	req->arena = anfu_arena_new(s->arena_cap);
	req->app = s->opts.app;
	req->server = s;
	req->conn = c;
	req->admin_listener = l->admin;
	req->start_us = anfu_clock_mono_us();
	(void)anfu_id_new("req", req->request_id, sizeof(req->request_id));
	set_client(req, c);
	hr->path_ok = path_valid(url, strnlen(url, ANFU_LIMIT_PATH_BYTES + 1));
	req->path = arena_copy(req->arena, url, ANFU_LIMIT_PATH_BYTES, !hr->path_ok);
	req->method = arena_copy(req->arena, method, ANFU_LIMIT_LOG_METHOD_BYTES, true);
	anfu_buf_init_secret(&hr->body, s->body_max + 1);
	return hr;
}

static void req_free(struct http_req *hr)
{
	if (!hr)
		return;
	json_decref(hr->resp.body);
	anfu_buf_free(&hr->body);
	anfu_arena_free(hr->pub.arena);
	free(hr);
}

/* Rate limit, then the global concurrency limit. */
static int admit(struct http_req *hr)
{
	struct anfu_http_server *s = hr->pub.server;
	int retry = 1;

	if (anfu_ratelimit_take(s->rl, hr->pub.client_family, hr->pub.client_addr,
				anfu_clock_mono_us(), &retry) < 0) {
		hr->pub.retry_after_s = retry;
		return ANFU_ERATE;
	}
	if (atomic_load(&s->inflight) > s->cfg->limits.concurrent_requests) {
		hr->pub.retry_after_s = 1;
		return ANFU_EOVERLOAD;
	}
	return 0;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	size_t *total = cls;

	(void)kind;
	*total += strlen(key) + (value ? strlen(value) : 0) + 3; /* ':' and CRLF */
	return MHD_YES;
}

/* The framing filter (http/stream.c) already refused every head over the
 * limit, byte-exact; this second line of defence counts a lower bound of
 * the head's size, so it never refuses a head the filter let through. */
static int check_header_size(struct http_req *hr)
{
	size_t total = strlen(hr->pub.path) + strlen(hr->pub.method) + 12; /* request line */

	(void)MHD_get_connection_values(hr->pub.conn, MHD_HEADER_KIND, count_header, &total);
	if (total > hr->pub.server->header_max)
		return anfu_req_fail(&hr->pub, ANFU_EINVAL, ANFU_HTTP_CODE_HEADERS, NULL);
	return 0;
}

static int route(struct http_req *hr, const char *method)
{
	struct anfu_req *req = &hr->pub;
	int r;

	if (!hr->path_ok)
		return ANFU_ENOTFOUND;
	r = anfu_router_match_on(req->server->router, method, anfu_str_c(req->path),
				 req->admin_listener, &req->match);
	if (r == ANFU_ECONFLICT)
		return anfu_req_fail(req, ANFU_ECONFLICT, ANFU_HTTP_CODE_METHOD, NULL);
	if (r < 0)
		return ANFU_ENOTFOUND;
	req->route = req->match.route;
	return 0;
}

/* "application/json", optionally with "; charset=utf-8", any case. */
static bool json_content_type(const char *ct)
{
	static const char base[] = "application/json";
	const char *p;

	if (!ct || strncasecmp(ct, base, sizeof(base) - 1) != 0)
		return false;
	p = ct + sizeof(base) - 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=utf-8", 13) != 0)
		return false;
	for (p += 13; *p == ' ' || *p == '\t'; p++)
		;
	return *p == '\0';
}

/* Content-Length against the cap, and a JSON Content-Type for any body. */
static int check_body_head(struct http_req *hr)
{
	const char *cl = anfu_req_header(&hr->pub, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = anfu_req_header(&hr->pub, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	long long n = 0;
	int r = cl ? anfu_parse_i64(anfu_str_c(cl), &n) : 0;

	if (r == ANFU_ERANGE)
		return ANFU_ELIMIT;
	if (r < 0 || n < 0)
		return ANFU_EINVAL;
	if ((unsigned long long)n > hr->pub.server->body_max)
		return ANFU_ELIMIT;
	if ((n > 0 || te) &&
	    !json_content_type(anfu_req_header(&hr->pub, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return anfu_req_fail(&hr->pub, ANFU_EINVAL, ANFU_HTTP_CODE_MEDIA, NULL);
	return 0;
}

/* Answers a request the framing filter refused (http/framing.c). A refused
 * head arrives as the filter's stand-in request: it is logged under the
 * method and path the client sent, and rate limited like any request; a
 * refused body belongs to a request admitted already. Either way the
 * connection closes after the answer. */
static enum MHD_Result refuse_framing(struct http_req *hr, const struct anfu_stream_refusal *rf)
{
	struct anfu_req *req = &hr->pub;
	int r = 0;

	if (!rf->in_body) {
		req->method = arena_copy(req->arena, rf->method, ANFU_LIMIT_LOG_METHOD_BYTES, true);
		req->path = arena_copy(req->arena, rf->path, ANFU_LIMIT_LOG_PATH_BYTES, true);
		r = admit(hr);
	}
	if (r == 0)
		r = anfu_req_fail(req, ANFU_EINVAL, rf->code, NULL);
	hr->close = true;
	anfu_conntrack_deadline(conn_of(req->conn), 0);
	return anfu_http_queue_error(hr, r);
}

static enum MHD_Result first_call(struct http_req *hr, const char *method)
{
	struct anfu_http_server *s = hr->pub.server;
	struct anfu_conn *ct = conn_of(hr->pub.conn);
	struct anfu_stream_refusal rf;
	int r;

	hr->framing = anfu_framing_of(hr->pub.conn);
	hr->index = anfu_framing_next(hr->framing);
	if (anfu_framing_refused(hr->framing, hr->index, false, &rf))
		return refuse_framing(hr, &rf);
	/* Fail closed: a connection MHD did not put behind the filter. */
	r = hr->framing ? admit(hr) : ANFU_EINTERNAL;
	if (r == 0)
		r = check_header_size(hr);
	if (r == 0)
		r = route(hr, method);
	if (r == 0)
		r = check_body_head(hr);
	if (r < 0) {
		anfu_conntrack_deadline(ct, 0);
		return anfu_http_queue_error(hr, r);
	}
	anfu_conntrack_deadline(ct, hr->pub.start_us + s->body_timeout_us);
	return MHD_YES;
}

static enum MHD_Result upload(struct http_req *hr, const char *data, size_t *size)
{
	size_t max = hr->pub.server->body_max;

	hr->received += *size;
	if (!hr->too_large && anfu_buf_append(&hr->body, data, *size) < 0) {
		hr->too_large = true;
		anfu_buf_free(&hr->body);
	}
	*size = 0;
	if (hr->too_large && hr->received > 2 * (uint64_t)max)
		return MHD_NO;
	return MHD_YES;
}

static int authenticate(struct http_req *hr)
{
	const struct anfu_route *rt = hr->pub.route;
	anfu_auth_fn fn = hr->pub.server->opts.auth[rt->access];

	if (!fn)
		return rt->access == ANFU_ACCESS_PUBLIC ? 0 : ANFU_EAUTH;
	return fn(&hr->pub);
}

/* Queues what a handler returned: its response, or the error of r. */
static enum MHD_Result respond(struct http_req *hr, int r, struct anfu_resp *resp)
{
	if (r < 0) {
		json_decref(resp->body);
		resp->body = NULL;
		return anfu_http_queue_error(hr, r);
	}
	return anfu_http_queue_resp(hr, resp);
}

/* The offload job: runs on a pool thread while the connection is
 * suspended. Without run (the pool is being drained at stop), the handler
 * is skipped and the request ends as 503 overloaded. */
static void run_offloaded(void *arg, bool run)
{
	struct http_req *hr = arg;
	struct MHD_Connection *c = hr->pub.conn;

	if (run) {
		hr->result = hr->pub.route->handler(&hr->pub, &hr->resp);
	} else {
		hr->pub.retry_after_s = 1;
		hr->result = ANFU_EOVERLOAD;
	}
	hr->offload = HTTP_OFFLOAD_DONE;
	/* From here on the worker owns hr again and may free it. */
	MHD_resume_connection(c);
}

/* Hands the handler to the offload pool: slot first, so that a full queue
 * is answered at once, then suspend, then queue (the job may resume the
 * connection as soon as it is queued). */
static enum MHD_Result offload(struct http_req *hr)
{
	struct anfu_offload *pool = hr->pub.server->offload;

	if (anfu_offload_reserve(pool) < 0) {
		hr->pub.retry_after_s = 1;
		return anfu_http_queue_error(hr, ANFU_EOVERLOAD);
	}
	hr->resp = (struct anfu_resp){ .status = 200 };
	hr->offload = HTTP_OFFLOAD_RUNNING;
	MHD_suspend_connection(hr->pub.conn);
	anfu_offload_submit(pool, run_offloaded, hr);
	return MHD_YES;
}

/* The whole request is in: body into the arena, authenticate, handle (in
 * place, or on the offload pool). */
static enum MHD_Result dispatch(struct http_req *hr)
{
	struct anfu_resp resp = { .status = 200 };
	struct anfu_stream_refusal rf;
	char *body;
	int r;

	if (anfu_framing_refused(hr->framing, hr->index, true, &rf))
		return refuse_framing(hr, &rf);
	if (hr->too_large)
		return anfu_http_queue_error(hr, ANFU_ELIMIT);
	if (hr->body.len > 0) {
		r = anfu_arena_strndup(hr->pub.arena, hr->body.data, hr->body.len, &body);
		if (r < 0)
			return anfu_http_queue_error(hr, r);
		hr->pub.body = body;
		hr->pub.body_len = hr->body.len;
		anfu_buf_free(&hr->body);
	}
	r = authenticate(hr);
	if (r < 0)
		return anfu_http_queue_error(hr, r);
	if (hr->pub.route->flags & ANFU_ROUTE_OFFLOAD)
		return offload(hr);
	r = hr->pub.route->handler(&hr->pub, &resp);
	return respond(hr, r, &resp);
}

enum MHD_Result anfu_http_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_size, void **req_cls)
{
	struct http_req *hr = *req_cls;

	(void)version;
	if (!hr) {
		hr = req_new(cls, c, url, method);
		*req_cls = hr;
		return first_call(hr, method);
	}
	if (hr->queued) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0)
		return upload(hr, upload_data, upload_size);
	/* Resumed after the offloaded handler ran. */
	if (hr->offload == HTTP_OFFLOAD_DONE)
		return respond(hr, hr->result, &hr->resp);
	/* Called while suspended, which MHD does not do: nothing to add. */
	if (hr->offload == HTTP_OFFLOAD_RUNNING)
		return MHD_YES;
	anfu_conntrack_deadline(conn_of(c), 0);
	return dispatch(hr);
}

void anfu_http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *hr = *req_cls;
	struct anfu_http_server *s;
	struct anfu_access_rec rec;
	int64_t now;

	(void)cls;
	(void)toe;
	if (!hr)
		return;
	/* A suspended connection is never completed: stop drains the pool
	 * (which resumes it) before it stops the daemons. */
	ANFU_ASSERT(hr->offload != HTTP_OFFLOAD_RUNNING);
	*req_cls = NULL;
	s = hr->pub.server;
	now = anfu_clock_mono_us();
	rec = (struct anfu_access_rec){
		.ts_ms = anfu_clock_now_ms(),
		.request_id = hr->pub.request_id,
		.client_ip = hr->pub.client_ip,
		.method = hr->pub.method,
		.path = hr->pub.path,
		.status = hr->queued ? hr->status : 0,
		.bytes = hr->resp_bytes,
		.duration_us = now - hr->pub.start_us,
		.actor = hr->pub.actor_id,
	};
	anfu_log_access(&rec);
	anfu_http_stats_observe(s->stats, hr->pub.route, rec.status, rec.duration_us);
	anfu_conntrack_deadline(conn_of(c), now + s->head_timeout_us);
	req_free(hr);
	atomic_fetch_sub(&s->inflight, 1);
}

/* ---- accessors ------------------------------------------------------------ */

struct anfu_str anfu_req_param(const struct anfu_req *req, const char *name)
{
	for (int i = 0; req && name && i < req->match.nparams; i++)
		if (anfu_str_eqc(req->match.param_names[i], name))
			return req->match.param_values[i];
	return (struct anfu_str){ NULL, 0 };
}

int anfu_req_fail(struct anfu_req *req, int err, const char *code, const char *field)
{
	if (!req)
		return err;
	req->err_code = code;
	req->err_field[0] = '\0';
	if (field)
		(void)anfu_strlcpy(req->err_field, field, sizeof(req->err_field));
	return err;
}

int anfu_req_json(struct anfu_req *req, const struct anfu_jfield *fields, size_t nfields, void *out)
{
	struct anfu_jerr jerr = { 0 };
	int r;

	r = anfu_json_decode(req->arena, &req->server->json_limits, req->body ? req->body : "",
			     req->body_len, fields, nfields, out, &jerr);
	if (r == ANFU_EINVAL)
		return anfu_req_fail(req, r, jerr.code, jerr.field[0] ? jerr.field : NULL);
	return r;
}
