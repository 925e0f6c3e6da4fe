/*
 * tests/unit/test_http_server: the real HTTPS server (src/http/) on
 * 127.0.0.1 with a free port, spoken to with libcurl over TLS.
 *
 * Each test starts its own server from the config defaults (admin listener
 * off, two threads) with a small router, after adjusting the limits it
 * needs, and stops it in the teardown. The offload tests prove their point
 * by the order of events, never by timing: an offloaded handler that the
 * test holds on a condition variable, released only after what must not
 * wait for it has happened. The client pins the self-signed
 * test certificate (CAINFO blob), so certificate checks stay on. Trusts
 * crypto/ for the certificate and config/ for the defaults.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "http/http.h"
#include "http/internal.h"

static char *cert_pem, *key_pem;

static atomic_int refusals;
static atomic_int last_refusal_status;

struct fx {
	char dir[64];
	struct anfu_config *cfg;
	struct anfu_router *router;
	struct anfu_http_server *srv;
	int port;
};

/* ---- handlers ------------------------------------------------------------ */

static int h_health(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	resp->body = json_pack("{s:s}", "status", "ok");
	return 0;
}

struct echo_in {
	struct anfu_str name;
	struct anfu_opt_i64 count;
};

static const struct anfu_jfield echo_fields[] = {
	{ "name", ANFU_JT_STRING, offsetof(struct echo_in, name), true, 1, 32, NULL },
	{ "count", ANFU_JT_INT, offsetof(struct echo_in, count), false, 0, 100, NULL },
};

static int h_echo(struct anfu_req *req, struct anfu_resp *resp)
{
	struct echo_in in = { 0 };
	int r = anfu_req_json(req, echo_fields, 2, &in);

	if (r < 0)
		return r;
	resp->body = json_pack("{s:s%,s:I}", "name", in.name.ptr, in.name.len, "count",
			       (json_int_t)(in.count.set ? in.count.v : -1));
	return 0;
}

static int h_slow(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct timespec ts = { 0, 300 * 1000 * 1000L };

	(void)req;
	(void)nanosleep(&ts, NULL);
	resp->body = json_pack("{s:b}", "slept", 1);
	return 0;
}

/* Long enough that a second request surely arrives while it runs. */
static int h_slower(struct anfu_req *req, struct anfu_resp *resp)
{
	const struct timespec ts = { 1, 0 };

	(void)req;
	(void)nanosleep(&ts, NULL);
	resp->body = json_pack("{s:b}", "slept", 1);
	return 0;
}

static int h_session(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	resp->body = json_pack("{s:s}", "me", "should never be reached");
	return 0;
}

static int h_forbidden(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	(void)resp;
	return ANFU_EPERM;
}

static int h_admin(struct anfu_req *req, struct anfu_resp *resp)
{
	resp->body = json_pack("{s:b}", "admin", req->admin_listener);
	return 0;
}

static int h_badheader(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	(void)anfu_resp_header(resp, "X-Evil", "a\r\nSet-Cookie: x=1");
	resp->body = json_pack("{}");
	return 0;
}

static int h_param(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_str id = anfu_req_param(req, "id");

	resp->body = json_pack("{s:s%}", "id", id.ptr, id.len);
	return 0;
}

/* The offloaded handler the ordering tests hold: it says that it started,
 * then waits until the test releases it; after HOLD_MAX_S seconds it gives
 * up and records that, so a test whose premise fails ends (and fails). */
#define HOLD_MAX_S 10

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, released, timed_out, returned;
} hold = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, false, false };

static atomic_int counted_runs;

static int h_held(struct anfu_req *req, struct anfu_resp *resp)
{
	struct timespec until;

	(void)req;
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += HOLD_MAX_S;
	pthread_mutex_lock(&hold.mu);
	hold.entered = true;
	pthread_cond_broadcast(&hold.cv);
	while (!hold.released && !hold.timed_out)
		if (pthread_cond_timedwait(&hold.cv, &hold.mu, &until) == ETIMEDOUT)
			hold.timed_out = true;
	hold.returned = true;
	pthread_mutex_unlock(&hold.mu);
	resp->body = json_pack("{s:b}", "held", 1);
	return 0;
}

/* An offloaded handler that only counts its runs. */
static int h_counted(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	atomic_fetch_add(&counted_runs, 1);
	resp->body = json_pack("{}");
	return 0;
}

static void hold_reset(void)
{
	pthread_mutex_lock(&hold.mu);
	hold.entered = hold.released = hold.timed_out = hold.returned = false;
	pthread_mutex_unlock(&hold.mu);
}

/* Waits until h_held runs (at most HOLD_MAX_S seconds). */
static void hold_wait_entered(void)
{
	struct timespec until;

	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += HOLD_MAX_S;
	pthread_mutex_lock(&hold.mu);
	while (!hold.entered && pthread_cond_timedwait(&hold.cv, &hold.mu, &until) == 0)
		;
	assert_true(hold.entered);
	pthread_mutex_unlock(&hold.mu);
}

static void hold_release(void)
{
	pthread_mutex_lock(&hold.mu);
	hold.released = true;
	pthread_cond_broadcast(&hold.cv);
	pthread_mutex_unlock(&hold.mu);
}

static bool hold_returned(void)
{
	bool r;

	pthread_mutex_lock(&hold.mu);
	r = hold.returned;
	pthread_mutex_unlock(&hold.mu);
	return r;
}

static bool hold_timed_out(void)
{
	bool r;

	pthread_mutex_lock(&hold.mu);
	r = hold.timed_out;
	pthread_mutex_unlock(&hold.mu);
	return r;
}

#define OFFLOAD ANFU_ROUTE_OFFLOAD

static const struct anfu_route routes[] = {
	{ "GET", "/healthz", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_health, ANFU_ROUTE_BOTH },
	{ "POST", "/api/v1/echo", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_echo, 0 },
	{ "GET", "/api/v1/slow", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_slow, 0 },
	{ "GET", "/api/v1/slower", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_slower, 0 },
	{ "GET", "/api/v1/me", ANFU_ACCESS_SESSION, "me.read", h_session, 0 },
	{ "GET", "/api/v1/forbidden", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_forbidden, 0 },
	{ "GET", "/admin/v1/ping", ANFU_ACCESS_ADMIN, "ops.ping", h_admin, 0 },
	{ "GET", "/api/v1/badheader", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_badheader, 0 },
	{ "GET", "/api/v1/items/{id}", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_param, 0 },
	{ "GET", "/api/v1/held", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_held, OFFLOAD },
	{ "GET", "/api/v1/counted", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_counted, OFFLOAD },
	{ "POST", "/api/v1/echo-offloaded", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_echo, OFFLOAD },
	{ "GET", "/api/v1/forbidden-offloaded", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_forbidden,
	  OFFLOAD },
	{ "GET", "/api/v1/me-offloaded", ANFU_ACCESS_SESSION, "me.read", h_session, OFFLOAD },
};

/* Operator authenticator for the admin tests: everyone is "op_test". */
static int auth_admin(struct anfu_req *req)
{
	req->actor_id = "op_test";
	return 0;
}

static void on_refusal(struct anfu_req *req, int status, const char *code)
{
	(void)req;
	(void)code;
	atomic_fetch_add(&refusals, 1);
	atomic_store(&last_refusal_status, status);
}

/* ---- fixture -------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	if (anfu_crypto_init() < 0 ||
	    anfu_crypto_selfsigned_cert("localhost", 1, &cert_pem, &key_pem) < 0)
		return -1;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(cert_pem);
	anfu_free_secret(key_pem);
	curl_global_cleanup();
	return 0;
}

static int setup(void **state)
{
	struct fx *f = anfu_xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-http-XXXXXX");
	if (!mkdtemp(f->dir) || anfu_config_defaults(f->dir, NULL, 0, &f->cfg) < 0)
		return -1;
	f->cfg->http.port = 0;
	f->cfg->http.threads = 2;
	f->cfg->admin.enabled = false;
	f->cfg->limits.body_bytes = 1024;
	f->cfg->limits.header_bytes = 4096;
	f->router = anfu_router_new();
	if (anfu_router_add_all(f->router, routes, sizeof(routes) / sizeof(routes[0])) < 0)
		return -1;
	atomic_store(&refusals, 0);
	atomic_store(&last_refusal_status, 0);
	atomic_store(&counted_runs, 0);
	hold_reset();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	/* A failed offload test may have left its handler held. */
	hold_release();
	anfu_http_stop(f->srv, 5);
	anfu_router_free(f->router);
	anfu_config_free(f->cfg);
	anfu_log_close();
	snprintf(cmd, sizeof(cmd), "%s/access.log", f->dir);
	(void)unlink(cmd);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fx *f)
{
	struct anfu_http_opts o = {
		.cfg = f->cfg,
		.tls_cert_pem = cert_pem,
		.tls_key_pem = key_pem,
		.app = f,
		.on_refusal = on_refusal,
	};

	o.auth[ANFU_ACCESS_ADMIN] = auth_admin;

	assert_int_equal(anfu_http_start(&o, f->router, &f->srv), 0);
	f->port = anfu_http_port(f->srv, false);
	assert_true(f->port > 0);
}

/* Waits until no request is in flight (completion callbacks have run). */
static void settle(struct fx *f)
{
	const struct timespec ts = { 0, 5 * 1000 * 1000L };

	for (int i = 0; i < 6000 && anfu_http_inflight(f->srv) > 0; i++) /* 30 s at most */
		(void)nanosleep(&ts, NULL);
	assert_int_equal(anfu_http_inflight(f->srv), 0);
}

/* ---- client ---------------------------------------------------------------- */

struct call {
	const char *method;
	const char *path;
	const char *body;
	size_t body_len;
	const char *ctype;
	const char *header; /* one extra request header, or NULL */
	long tls;	    /* CURLOPT_SSLVERSION, 0 = default */
	bool chunked;
	bool plain_http;
	int port;	  /* 0 = the fixture's */
	const char *host; /* NULL = 127.0.0.1 */
};

struct reply {
	CURLcode rc;
	long status;
	struct anfu_buf body;
	struct anfu_buf head;
	json_t *json;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	return anfu_buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

static struct curl_slist *request_headers(const struct call *c)
{
	struct curl_slist *h = NULL;
	char ct[128];

	if (c->ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", c->ctype);
		h = curl_slist_append(h, ct);
	} else if (c->body) {
		h = curl_slist_append(h, "Content-Type:");
	}
	if (c->chunked)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	if (c->header)
		h = curl_slist_append(h, c->header);
	return h;
}

static void setup_tls(CURL *e, const struct call *c)
{
	struct curl_blob ca = { cert_pem, strlen(cert_pem), CURL_BLOB_COPY };

	(void)curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	if (c->tls) {
		(void)curl_easy_setopt(e, CURLOPT_SSLVERSION, c->tls);
		/* Let the client really offer old versions, so a refusal is
		 * the server's. */
		(void)curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, "DEFAULT:@SECLEVEL=0");
	}
}

static void run(struct fx *f, const struct call *c, struct reply *out)
{
	struct curl_slist *h = request_headers(c);
	CURL *e = curl_easy_init();
	char url[2048];

	memset(out, 0, sizeof(*out));
	anfu_buf_init(&out->body, 1 << 20);
	anfu_buf_init(&out->head, 1 << 16);
	snprintf(url, sizeof(url), "%s://%s:%d%s", c->plain_http ? "http" : "https",
		 c->host ? c->host : "127.0.0.1", c->port ? c->port : f->port, c->path);
	(void)curl_easy_setopt(e, CURLOPT_URL, url);
	(void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method ? c->method : "GET");
	if (c->body) {
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
		if (!c->chunked)
			(void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
	}
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &out->body);
	(void)curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data);
	(void)curl_easy_setopt(e, CURLOPT_HEADERDATA, &out->head);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	setup_tls(e, c);
	out->rc = curl_easy_perform(e);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
	if (out->body.data)
		out->json = json_loads(out->body.data, 0, NULL);
	curl_easy_cleanup(e);
	curl_slist_free_all(h);
}

static void reply_free(struct reply *r)
{
	anfu_buf_free(&r->body);
	anfu_buf_free(&r->head);
	json_decref(r->json);
}

static void get(struct fx *f, const char *path, struct reply *out)
{
	const struct call c = { .path = path };

	run(f, &c, out);
}

static void post_json(struct fx *f, const char *path, const char *body, struct reply *out)
{
	const struct call c = { .method = "POST",
				.path = path,
				.body = body,
				.body_len = strlen(body),
				.ctype = "application/json" };

	run(f, &c, out);
}

/* Value of response header name (last one wins), or NULL. */
static const char *header(const struct reply *r, const char *name, char *val, size_t cap)
{
	const char *p = r->head.data, *found = NULL;
	size_t nlen = strlen(name);

	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *end;

			while (*v == ' ')
				v++;
			end = strpbrk(v, "\r\n");
			snprintf(val, cap, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
			found = val;
		}
	}
	return found;
}

static const char *err_field(const struct reply *r, const char *key)
{
	return json_string_value(json_object_get(json_object_get(r->json, "error"), key));
}

static void assert_header(const struct reply *r, const char *name, const char *want)
{
	char v[512];

	if (!header(r, name, v, sizeof(v)))
		fail_msg("header %s missing", name);
	assert_string_equal(v, want);
}

static void assert_security_headers(const struct reply *r)
{
	char v[512];

	assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
	assert_int_equal(strncmp(v, "req_", 4), 0);
	assert_int_equal(strlen(v), 26);
	assert_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
	assert_header(
		r, "Content-Security-Policy",
		"default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'");
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "X-Frame-Options", "DENY");
	assert_header(r, "Referrer-Policy", "no-referrer");
	/* req: WEB-ERR-01 (no version banner) */
	assert_null(header(r, "Server", v, sizeof(v)));
	assert_null(header(r, "X-Powered-By", v, sizeof(v)));
}

/* The uniform error body, with the request id of the header. */
static void assert_error(const struct reply *r, long status, const char *code)
{
	char id[64];

	assert_int_equal(r->rc, CURLE_OK);
	assert_int_equal(r->status, status);
	assert_non_null(r->json);
	assert_string_equal(err_field(r, "code"), code);
	assert_non_null(err_field(r, "message"));
	assert_non_null(header(r, "X-Request-Id", id, sizeof(id)));
	assert_string_equal(err_field(r, "request_id"), id);
	assert_header(r, "Content-Type", "application/json; charset=utf-8");
	assert_security_headers(r);
}

/* ---- headers ---------------------------------------------------------------- */

/* req: WEB-HDR-01 */
static void test_security_headers_on_200(void **state)
{
	struct fx *f = *state;
	struct reply r;
	char v[64];

	start(f);
	get(f, "/healthz", &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	assert_header(&r, "Content-Type", "application/json; charset=utf-8");
	assert_string_equal(r.body.data, "{\"status\":\"ok\"}");
	/* Outside /api, /open, /admin, /test: cacheable. */
	assert_null(header(&r, "Cache-Control", v, sizeof(v)));
	reply_free(&r);
}

/* req: WEB-HDR-01, WEB-ERR-01 */
static void test_security_headers_on_404(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	get(f, "/nope", &r);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
}

/* req: WEB-HDR-01, WEB-BACK-01 */
static void test_no_store_under_api_on_success_and_error(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":\"a\"}", &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Cache-Control", "no-store");
	reply_free(&r);
	get(f, "/api/v1/missing", &r);
	assert_error(&r, 404, "not_found");
	assert_header(&r, "Cache-Control", "no-store");
	reply_free(&r);
}

static void test_request_ids_differ(void **state)
{
	struct fx *f = *state;
	struct reply a, b;
	char ia[64], ib[64];

	start(f);
	get(f, "/healthz", &a);
	get(f, "/healthz", &b);
	assert_non_null(header(&a, "X-Request-Id", ia, sizeof(ia)));
	assert_non_null(header(&b, "X-Request-Id", ib, sizeof(ib)));
	assert_string_not_equal(ia, ib);
	reply_free(&a);
	reply_free(&b);
}

/* ---- routing and bodies ------------------------------------------------------- */

static void test_echo_decodes_allowlisted_json(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":\"\xe5\xae\x89\xe4\xbb\x98\",\"count\":3}", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"count\":3,\"name\":\"\xe5\xae\x89\xe4\xbb\x98\"}");
	reply_free(&r);
}

static void test_path_param_reaches_handler(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	get(f, "/api/v1/items/it_42?x=1", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"id\":\"it_42\"}");
	reply_free(&r);
}

static void test_wrong_method_is_405_with_allow(void **state)
{
	struct fx *f = *state;
	const struct call c = { .method = "DELETE", .path = "/healthz" };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_header(&r, "Allow", "GET");
	reply_free(&r);
}

/* req: WEB-DOS-01 */
static void test_body_over_limit_is_413(void **state)
{
	struct fx *f = *state;
	char body[1100];
	struct call c = { .method = "POST",
			  .path = "/api/v1/echo",
			  .body = body,
			  .body_len = sizeof(body),
			  .ctype = "application/json" };
	struct reply r;

	start(f);
	memset(body, ' ', sizeof(body));
	run(f, &c, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);
}

/* req: WEB-DOS-01 */
static void test_chunked_body_over_limit_is_413(void **state)
{
	struct fx *f = *state;
	char body[1500];
	struct call c = { .method = "POST",
			  .path = "/api/v1/echo",
			  .body = body,
			  .ctype = "application/json",
			  .chunked = true };
	struct reply r;

	start(f);
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	run(f, &c, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);
}

static void test_body_at_limit_is_accepted(void **state)
{
	struct fx *f = *state;
	char body[1025];
	struct reply r;

	start(f);
	memset(body, ' ', sizeof(body));
	memcpy(body, "{\"name\":\"a\"}", 12);
	body[1024] = '\0';
	post_json(f, "/api/v1/echo", body, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_wrong_content_type_is_415(void **state)
{
	struct fx *f = *state;
	const struct call c = { .method = "POST",
				.path = "/api/v1/echo",
				.body = "{}",
				.body_len = 2,
				.ctype = "text/plain" };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_error(&r, 415, "unsupported_media_type");
	reply_free(&r);
}

static void test_json_content_type_with_charset_is_accepted(void **state)
{
	struct fx *f = *state;
	const struct call c = { .method = "POST",
				.path = "/api/v1/echo",
				.body = "{\"name\":\"a\"}",
				.body_len = 12,
				.ctype = "Application/JSON; charset=UTF-8" };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* req: WEB-SQL-01 (allowlist: unknown fields are refused) */
static void test_unknown_field_is_400_naming_it(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":\"a\",\"admin\":true}", &r);
	assert_error(&r, 400, "unknown_field");
	assert_string_equal(err_field(&r, "field"), "admin");
	assert_string_equal(err_field(&r, "message"), "Unknown field: admin");
	reply_free(&r);
}

static void test_invalid_utf8_is_400(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":\"\xff\"}", &r);
	assert_error(&r, 400, "invalid_utf8");
	reply_free(&r);
}

static void test_out_of_range_is_400_naming_field(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":\"a\",\"count\":101}", &r);
	assert_error(&r, 400, "field_out_of_range");
	assert_string_equal(err_field(&r, "field"), "count");
	reply_free(&r);
}

static void test_malformed_json_is_400(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	post_json(f, "/api/v1/echo", "{\"name\":", &r);
	assert_error(&r, 400, "invalid_json");
	reply_free(&r);
}

static void test_chinese_message_for_zh_clients(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/nope", .header = "Accept-Language: zh-CN,zh;q=0.9" };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_error(&r, 404, "not_found");
	assert_string_equal(err_field(&r, "message"), "资源不存在");
	reply_free(&r);
}

/* req: WEB-DOS-01 */
static void test_headers_over_limit_are_431(void **state)
{
	struct fx *f = *state;
	char big[5000];
	const struct call c = { .path = "/healthz", .header = big };
	struct reply r;

	start(f);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', sizeof(big) - 8);
	big[sizeof(big) - 1] = '\0';
	run(f, &c, &r);
	assert_error(&r, 431, "headers_too_large");
	reply_free(&r);
}

/* req: WEB-DOS-01 */
static void test_headers_far_over_limit_are_refused(void **state)
{
	struct fx *f = *state;
	char *big = anfu_xmalloc(40000);
	const struct call c = { .path = "/healthz", .header = big };
	struct reply r;

	start(f);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', 40000 - 8);
	big[40000 - 1] = '\0';
	run(f, &c, &r);
	assert_true(r.rc != CURLE_OK || r.status == 431 || r.status == 414);
	reply_free(&r);
	free(big);
}

/* req: WEB-ERR-01 */
static void test_handler_header_injection_is_500(void **state)
{
	struct fx *f = *state;
	struct reply r;
	char v[64];

	start(f);
	get(f, "/api/v1/badheader", &r);
	assert_error(&r, 500, "internal_error");
	assert_null(header(&r, "Set-Cookie", v, sizeof(v)));
	reply_free(&r);
}

/* ---- authentication ----------------------------------------------------------- */

/* req: WEB-AUTHZ-01 */
static void test_session_route_without_authenticator_is_401(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	get(f, "/api/v1/me", &r);
	assert_error(&r, 401, "unauthorized");
	assert_null(strstr(r.body.data, "never be reached"));
	assert_int_equal(atomic_load(&refusals), 1);
	assert_int_equal(atomic_load(&last_refusal_status), 401);
	reply_free(&r);
}

static void test_refusal_hook_sees_handler_403(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	get(f, "/api/v1/forbidden", &r);
	assert_error(&r, 403, "forbidden");
	assert_int_equal(atomic_load(&refusals), 1);
	assert_int_equal(atomic_load(&last_refusal_status), 403);
	reply_free(&r);
}

/* ---- limits -------------------------------------------------------------------- */

/* req: WEB-DOS-01, WEB-CONC-03 */
static void test_burst_then_429_with_retry_after(void **state)
{
	struct fx *f = *state;
	struct reply r;

	f->cfg->limits.rate_per_ip = 1;
	f->cfg->limits.rate_burst = 3;
	start(f);
	for (int i = 0; i < 3; i++) {
		get(f, "/healthz", &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	get(f, "/healthz", &r);
	assert_error(&r, 429, "too_many_requests");
	assert_header(&r, "Retry-After", "1");
	reply_free(&r);
}

struct bg {
	struct fx *f;
	const char *path;
	struct reply r;
	pthread_t t;
};

static void *bg_main(void *arg)
{
	struct bg *b = arg;

	get(b->f, b->path, &b->r);
	return NULL;
}

static void wait_inflight(struct fx *f, int n)
{
	const struct timespec ts = { 0, 2 * 1000 * 1000L };

	for (int i = 0; i < 15000 && anfu_http_inflight(f->srv) < n; i++) /* 30 s at most */
		(void)nanosleep(&ts, NULL);
	assert_true(anfu_http_inflight(f->srv) >= n);
}

/* req: WEB-CONC-01, WEB-DOS-01 */
static void test_over_concurrency_limit_is_503(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/held" };
	struct reply r;

	f->cfg->limits.concurrent_requests = 1;
	start(f);
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	/* Held until released: still in flight however slow the machine. */
	hold_wait_entered();
	get(f, "/healthz", &r);
	assert_error(&r, 503, "overloaded");
	assert_header(&r, "Retry-After", "1");
	reply_free(&r);
	hold_release();
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_false(hold_timed_out());
	assert_int_equal(b.r.status, 200);
	reply_free(&b.r);
}

/* ---- TLS ------------------------------------------------------------------------ */

/* req: DATA-TX-01 */
static void test_tls11_refused(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/healthz",
				.tls = CURL_SSLVERSION_TLSv1_1 | CURL_SSLVERSION_MAX_TLSv1_1 };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 0);
	reply_free(&r);
}

/* req: DATA-TX-01 */
static void test_tls12_accepted(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/healthz",
				.tls = CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2 };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* req: DATA-TX-01 */
static void test_tls13_accepted(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/healthz",
				.tls = CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3 };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_plain_http_gets_no_answer(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/healthz", .plain_http = true };
	struct reply r;

	start(f);
	run(f, &c, &r);
	assert_true(r.rc != CURLE_OK || r.status != 200);
	assert_null(r.json);
	reply_free(&r);
}

static void test_ipv6_listener(void **state)
{
	struct fx *f = *state;
	const struct call c = { .path = "/healthz", .host = "[::1]" };
	struct reply r;

	free(f->cfg->http.listen);
	f->cfg->http.listen = anfu_xstrdup("::1");
	start(f);
	run(f, &c, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_security_headers(&r);
	reply_free(&r);
}

/* ---- lifecycle --------------------------------------------------------------------- */

static void test_graceful_stop_waits_for_inflight_request(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/slow" };
	struct reply r;
	int port;

	start(f);
	port = f->port;
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	wait_inflight(f, 1);
	anfu_http_stop(f->srv, 5);
	f->srv = NULL;
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_int_equal(b.r.rc, CURLE_OK);
	assert_int_equal(b.r.status, 200);
	assert_string_equal(b.r.body.data, "{\"slept\":true}");
	reply_free(&b.r);
	/* Nothing listens any more. */
	{
		const struct call c = { .path = "/healthz", .port = port };

		run(f, &c, &r);
		assert_int_not_equal(r.rc, CURLE_OK);
		reply_free(&r);
	}
}

struct stop_bg {
	struct anfu_http_server *srv;
	pthread_t t;
};

static void *stop_main(void *arg)
{
	struct stop_bg *sb = arg;

	anfu_http_stop(sb->srv, 5);
	return NULL;
}

/* While a stop waits for the requests in flight, a new connection is
 * closed at once (the accept policy), and the request in flight still gets
 * its answer. The stop never uses MHD_quiesce_daemon(), whose race with the
 * epoll thread aborted this suite about once in fifteen runs. */
static void test_stop_refuses_new_connections_during_grace(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/held" };
	struct stop_bg sb;
	const struct timespec ts = { 0, 2 * 1000 * 1000L };
	struct reply r;

	start(f);
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	hold_wait_entered();
	sb.srv = f->srv;
	assert_int_equal(pthread_create(&sb.t, NULL, stop_main, &sb), 0);
	for (int i = 0; i < 2500 && !atomic_load(&sb.srv->stopping); i++)
		(void)nanosleep(&ts, NULL);
	assert_true(atomic_load(&sb.srv->stopping));
	/* The held request is still in flight: the stop is in its grace. */
	assert_int_equal(anfu_http_inflight(sb.srv), 1);
	get(f, "/healthz", &r);
	assert_int_not_equal(r.rc, CURLE_OK);
	reply_free(&r);
	hold_release();
	assert_int_equal(pthread_join(sb.t, NULL), 0);
	f->srv = NULL;
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_false(hold_timed_out());
	assert_int_equal(b.r.rc, CURLE_OK);
	assert_int_equal(b.r.status, 200);
	reply_free(&b.r);
}

static void test_stop_is_null_safe(void **state)
{
	(void)state;
	anfu_http_stop(NULL, 1);
}

static void test_start_refuses_missing_certificate(void **state)
{
	struct fx *f = *state;
	struct anfu_http_opts o = { .cfg = f->cfg, .tls_cert_pem = NULL, .tls_key_pem = key_pem };
	struct anfu_http_server *s = NULL;

	assert_int_equal(anfu_http_start(&o, f->router, &s), ANFU_EINVAL);
	assert_null(s);
}

/* ---- logs and metrics ------------------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = anfu_xcalloc(1, 65536);

	if (fp) {
		size_t n = fread(buf, 1, 65535, fp);

		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

/* The access log: path, ip, request id, result, latency; never the query. */
static void test_access_log_has_path_but_not_query(void **state)
{
	struct fx *f = *state;
	char path[128], id[64], *log = NULL;
	struct reply r;

	snprintf(path, sizeof(path), "%s/access.log", f->dir);
	assert_int_equal(anfu_log_open(NULL, path, ANFU_LOG_INFO), 0);
	start(f);
	get(f, "/healthz?token=s3cr3t-value", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(header(&r, "X-Request-Id", id, sizeof(id)));
	settle(f);
	log = slurp(path);
	assert_non_null(strstr(log, "\"path\":\"/healthz\""));
	assert_non_null(strstr(log, id));
	assert_non_null(strstr(log, "\"status\":200"));
	assert_non_null(strstr(log, "\"ip\":\"127.0.0.1\""));
	assert_null(strstr(log, "s3cr3t"));
	assert_null(strstr(log, "token"));
	free(log);
	reply_free(&r);
}

/* Every line of the access log is one JSON object. */
static void assert_log_lines_are_json(char *log)
{
	for (char *line = strtok_r(log, "\n", &log); line; line = strtok_r(NULL, "\n", &log)) {
		json_t *v = json_loads(line, 0, NULL);

		if (!v)
			fail_msg("access log line is not JSON: %s", line);
		json_decref(v);
	}
}

/* req: WEB-DOS-01 (bounded, checked paths) */
static void test_bad_paths_are_404_and_logged_safely(void **state)
{
	struct fx *f = *state;
	char path[128], *log, *longp = anfu_xmalloc(2100);
	struct reply r;

	snprintf(path, sizeof(path), "%s/access.log", f->dir);
	assert_int_equal(anfu_log_open(NULL, path, ANFU_LOG_INFO), 0);
	start(f);
	/* An escaped control character is refused before routing
	 * (test_http_stream); an escaped non-UTF-8 byte reaches the router. */
	get(f, "/api/v1/items/%ff%22x", &r);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
	longp[0] = '/';
	memset(longp + 1, 'a', 2098);
	longp[2099] = '\0';
	get(f, longp, &r);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
	settle(f);
	log = slurp(path);
	assert_non_null(strstr(log, "\"path\":\"/api/v1/items/?\\\"x\""));
	assert_log_lines_are_json(log);
	free(log);
	free(longp);
}

static void test_metrics_count_by_route_and_status(void **state)
{
	struct fx *f = *state;
	struct anfu_buf m;
	struct reply r;

	start(f);
	get(f, "/healthz", &r);
	reply_free(&r);
	get(f, "/healthz", &r);
	reply_free(&r);
	get(f, "/nope", &r);
	reply_free(&r);
	get(f, "/api/v1/items/7", &r);
	reply_free(&r);
	settle(f);
	anfu_buf_init(&m, 1 << 20);
	assert_int_equal(anfu_http_metrics(f->srv, &m), 0);
	assert_non_null(strstr(m.data, "anfu_http_requests_total{method=\"GET\",route=\"/healthz\","
				       "status=\"200\"} 2\n"));
	assert_non_null(strstr(m.data, "anfu_http_requests_total{method=\"\",route=\"unmatched\","
				       "status=\"404\"} 1\n"));
	assert_non_null(strstr(m.data, "route=\"/api/v1/items/{id}\",status=\"200\"} 1\n"));
	assert_non_null(strstr(m.data, "# TYPE anfu_http_request_duration_seconds histogram"));
	assert_non_null(strstr(m.data, "anfu_http_request_duration_seconds_count{method=\"GET\","
				       "route=\"/healthz\",} 2\n"));
	assert_non_null(strstr(m.data, "anfu_http_inflight 0\n"));
	/* Client paths never become labels. */
	assert_null(strstr(m.data, "/nope"));
	assert_null(strstr(m.data, "items/7"));
	anfu_buf_free(&m);
}

/* ---- slow clients ----------------------------------------------------------------- */

/* Opens a TLS connection with libcurl and returns the handle, ready for
 * curl_easy_send / curl_easy_recv. */
static CURL *raw_connect(struct fx *f)
{
	const struct call c = { 0 };
	CURL *e = curl_easy_init();
	char url[128];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", f->port);
	(void)curl_easy_setopt(e, CURLOPT_URL, url);
	(void)curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	setup_tls(e, &c);
	assert_int_equal(curl_easy_perform(e), CURLE_OK);
	return e;
}

/* Sends s one byte every step_ms until the server cuts the connection;
 * returns the seconds it took, or -1 if the whole string went through. */
static double drip(CURL *e, const char *s, int step_ms)
{
	const struct timespec ts = { 0, step_ms * 1000L * 1000L };
	int64_t t0 = anfu_clock_mono_us();
	char buf[256];

	for (size_t i = 0; s[i]; i++) {
		size_t sent = 0, got = 0;
		CURLcode rc = curl_easy_send(e, s + i, 1, &sent);

		if (rc != CURLE_OK && rc != CURLE_AGAIN)
			return (double)(anfu_clock_mono_us() - t0) / 1e6;
		rc = curl_easy_recv(e, buf, sizeof(buf), &got);
		if (rc == CURLE_OK || (rc != CURLE_AGAIN))
			return (double)(anfu_clock_mono_us() - t0) / 1e6;
		(void)nanosleep(&ts, NULL);
	}
	return -1;
}

/* req: WEB-DOS-01, WEB-CONC-04 */
static void test_slow_header_client_is_cut_off(void **state)
{
	struct fx *f = *state;
	char head[512];
	double secs;
	CURL *e;

	f->cfg->limits.header_timeout_s = 1;
	f->cfg->limits.conn_timeout_s = 30;
	start(f);
	e = raw_connect(f);
	memset(head, 'a', sizeof(head));
	memcpy(head, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 40);
	head[sizeof(head) - 1] = '\0';
	/* 100 ms a byte would take 50 s for the whole head; never idle for
	 * MHD's 30 s timeout, but past the 1 s head deadline. */
	secs = drip(e, head, 100);
	assert_true(secs > 0.5);
	/* Far below the 50 s without the deadline, far above the 1 s with it
	 * (a loaded machine may run the reaper late). */
	assert_true(secs < 20.0);
	curl_easy_cleanup(e);
}

/* req: WEB-DOS-01 */
static void test_slow_body_client_is_cut_off(void **state)
{
	struct fx *f = *state;
	const char *head = "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
			   "application/json\r\nContent-Length: 500\r\n\r\n";
	char body[501];
	size_t sent = 0;
	double secs;
	CURL *e;

	f->cfg->limits.header_timeout_s = 1;
	f->cfg->limits.conn_timeout_s = 2;
	start(f);
	e = raw_connect(f);
	assert_int_equal(curl_easy_send(e, head, strlen(head), &sent), CURLE_OK);
	assert_int_equal(sent, strlen(head));
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	/* 500 bytes at 10 a second would take 50 s; the body deadline is
	 * header_timeout + conn_timeout = 3 s after the head. */
	secs = drip(e, body, 100);
	assert_true(secs > 2.0);
	assert_true(secs < 20.0); /* as above: 50 s without the deadline */
	curl_easy_cleanup(e);
}

/* ---- offloaded handlers ---------------------------------------------------------- */

/* A job for the queue tests: counts its runs. */
static void count_job(void *arg, bool run)
{
	if (run)
		atomic_fetch_add((atomic_int *)arg, 1);
}

/* With one worker thread, a plain request on another connection is served
 * while an offloaded handler of that worker's is still held: it could not be
 * if the handler ran on the worker. req: WEB-DOS-01 */
static void test_offloaded_handler_leaves_its_worker_free(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/held" };
	struct reply r;

	f->cfg->http.threads = 1;
	start(f);
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	hold_wait_entered();
	get(f, "/healthz", &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	/* Answered while the offloaded handler had not returned. */
	assert_false(hold_returned());
	reply_free(&r);
	hold_release();
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_false(hold_timed_out());
	assert_int_equal(b.r.rc, CURLE_OK);
	assert_int_equal(b.r.status, 200);
	assert_string_equal(b.r.body.data, "{\"held\":true}");
	reply_free(&b.r);
}

/* With the one offload thread held and ANFU_LIMIT_OFFLOAD_QUEUE jobs
 * waiting, an offloaded request is refused like the concurrency limit
 * refuses; once the queue drains the same request succeeds.
 * req: WEB-CONC-01, WEB-DOS-01 */
static void test_full_offload_queue_is_503(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/held" };
	const char *body = "{\"name\":\"x\"}";
	const struct timespec ts = { 0, 2 * 1000 * 1000L };
	atomic_int ran = 0;
	struct reply r;

	f->cfg->http.offload_threads = 1;
	start(f);
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	hold_wait_entered();
	for (int i = 0; i < ANFU_LIMIT_OFFLOAD_QUEUE; i++) {
		assert_int_equal(anfu_offload_reserve(f->srv->offload), 0);
		anfu_offload_submit(f->srv->offload, count_job, &ran);
	}
	assert_int_equal(anfu_offload_reserve(f->srv->offload), ANFU_EOVERLOAD);
	post_json(f, "/api/v1/echo-offloaded", body, &r);
	assert_error(&r, 503, "overloaded");
	assert_header(&r, "Retry-After", "1");
	reply_free(&r);
	hold_release();
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_int_equal(b.r.status, 200);
	reply_free(&b.r);
	for (int i = 0; i < 2500 && atomic_load(&ran) < ANFU_LIMIT_OFFLOAD_QUEUE; i++)
		(void)nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&ran), ANFU_LIMIT_OFFLOAD_QUEUE);
	post_json(f, "/api/v1/echo-offloaded", body, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"count\":-1,\"name\":\"x\"}");
	reply_free(&r);
}

struct stopper {
	struct anfu_http_server *srv;
	int grace_s;
	atomic_bool done;
	pthread_t t;
};

static void *stopper_main(void *arg)
{
	struct stopper *st = arg;

	anfu_http_stop(st->srv, st->grace_s);
	atomic_store(&st->done, true);
	return NULL;
}

/* Waits until the listener refuses new connections: the stop has begun. */
static void wait_refused(struct fx *f, int port)
{
	const struct call c = { .path = "/healthz", .port = port };
	bool refused = false;
	struct reply r;

	for (int i = 0; i < 1000 && !refused; i++) {
		run(f, &c, &r);
		refused = r.rc != CURLE_OK;
		reply_free(&r);
	}
	assert_true(refused);
}

/* A stop that begins while an offloaded handler is held waits for it, and
 * its client still gets the whole answer (told to close the connection, as
 * every answer during a stop). */
static void test_graceful_stop_waits_for_offloaded_request(void **state)
{
	struct fx *f = *state;
	struct bg b = { .f = f, .path = "/api/v1/held" };
	struct stopper st = { .grace_s = 5 };
	int port;

	start(f);
	port = f->port;
	assert_int_equal(pthread_create(&b.t, NULL, bg_main, &b), 0);
	hold_wait_entered();
	st.srv = f->srv;
	f->srv = NULL;
	assert_int_equal(pthread_create(&st.t, NULL, stopper_main, &st), 0);
	wait_refused(f, port);
	assert_false(atomic_load(&st.done));
	hold_release();
	assert_int_equal(pthread_join(st.t, NULL), 0);
	assert_int_equal(pthread_join(b.t, NULL), 0);
	assert_false(hold_timed_out());
	assert_int_equal(b.r.rc, CURLE_OK);
	assert_int_equal(b.r.status, 200);
	assert_string_equal(b.r.body.data, "{\"held\":true}");
	assert_header(&b.r, "Connection", "close");
	assert_security_headers(&b.r);
	reply_free(&b.r);
}

/* Past the grace period the stop still waits for the handler that runs,
 * but skips the queued ones: they never run, and their clients get a 503
 * or no answer, never a 200. */
static void test_stop_past_grace_skips_queued_offloaded_handlers(void **state)
{
	struct fx *f = *state;
	struct bg held = { .f = f, .path = "/api/v1/held" };
	struct bg queued = { .f = f, .path = "/api/v1/counted" };
	const struct timespec ts = { 0, 2 * 1000 * 1000L };
	const struct timespec probe_ts = { 0, 20 * 1000 * 1000L };
	struct stopper st = { .grace_s = 0 };
	atomic_int probes_ran = 0;
	int probes;

	f->cfg->http.offload_threads = 1;
	start(f);
	assert_int_equal(pthread_create(&held.t, NULL, bg_main, &held), 0);
	hold_wait_entered();
	assert_int_equal(pthread_create(&queued.t, NULL, bg_main, &queued), 0);
	for (int i = 0; i < 2500 && anfu_offload_queued(f->srv->offload) < 1; i++)
		(void)nanosleep(&ts, NULL);
	assert_int_equal(anfu_offload_queued(f->srv->offload), 1);
	st.srv = f->srv;
	f->srv = NULL;
	assert_int_equal(pthread_create(&st.t, NULL, stopper_main, &st), 0);
	/* The pool refuses reservations once the stop drains it; until then
	 * each probe takes a slot (the queue has room for all of them) with a
	 * job that must never run either. */
	for (probes = 0; probes < ANFU_LIMIT_OFFLOAD_QUEUE - 1; probes++) {
		if (anfu_offload_reserve(st.srv->offload) < 0)
			break;
		anfu_offload_submit(st.srv->offload, count_job, &probes_ran);
		(void)nanosleep(&probe_ts, NULL);
	}
	assert_true(probes < ANFU_LIMIT_OFFLOAD_QUEUE - 1);
	hold_release();
	assert_int_equal(pthread_join(st.t, NULL), 0);
	assert_int_equal(pthread_join(queued.t, NULL), 0);
	assert_int_equal(pthread_join(held.t, NULL), 0);
	assert_int_equal(atomic_load(&counted_runs), 0);
	assert_int_equal(atomic_load(&probes_ran), 0);
	assert_true(queued.r.rc != CURLE_OK || queued.r.status == 503);
	reply_free(&queued.r);
	reply_free(&held.r);
}

/* The head with the values that differ between any two answers (Date,
 * X-Request-Id) blanked out. */
static void normal_head(const struct reply *r, struct anfu_buf *out)
{
	const char *p = r->head.data;

	anfu_buf_init(out, 1 << 16);
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);

		if (strncasecmp(p, "Date:", 5) == 0 || strncasecmp(p, "X-Request-Id:", 13) == 0)
			assert_int_equal(
				anfu_buf_appendf(out, "%.*s *\n", (int)strcspn(p, ":") + 1, p), 0);
		else
			assert_int_equal(anfu_buf_append(out, p, len), 0);
		p += len;
	}
}

/* The access log line of request id, parsed. */
static json_t *log_line_of(const char *log, const char *id)
{
	const char *p = strstr(log, id), *start, *end;
	json_t *v;

	assert_non_null(p);
	for (start = p; start > log && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	v = json_loadb(start, end ? (size_t)(end - start) : strlen(start), 0, NULL);
	assert_non_null(v);
	return v;
}

/* A copy of s (NULL: "") with every occurrence of what removed. */
static char *without(const char *s, const char *what)
{
	size_t wl = strlen(what);
	char *out = anfu_xstrdup(s ? s : ""), *p;

	while (wl && (p = strstr(out, what)))
		memmove(p, p + wl, strlen(p + wl) + 1);
	return out;
}

/* The same handler answers the same bytes and logs the same fields whether
 * it runs in place or offloaded. req: WEB-HDR-01 */
static void test_offloaded_route_answers_and_logs_like_a_plain_one(void **state)
{
	struct fx *f = *state;
	static const char *const bodies[] = { "{\"name\":\"ab\",\"count\":3}",
					      "{\"name\":\"ab\",\"extra\":1}" };
	static const char *const same[] = { "ip", "method", "status", "bytes", "actor" };
	char path[128], id_plain[64], id_off[64], *log;
	struct anfu_buf h_plain, h_off, m;
	struct reply plain, off;

	snprintf(path, sizeof(path), "%s/access.log", f->dir);
	assert_int_equal(anfu_log_open(NULL, path, ANFU_LOG_INFO), 0);
	start(f);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		post_json(f, "/api/v1/echo", bodies[i], &plain);
		post_json(f, "/api/v1/echo-offloaded", bodies[i], &off);
		assert_int_equal(off.rc, CURLE_OK);
		assert_int_equal(off.status, plain.status);
		assert_non_null(header(&plain, "X-Request-Id", id_plain, sizeof(id_plain)));
		assert_non_null(header(&off, "X-Request-Id", id_off, sizeof(id_off)));
		{
			/* Equal but for the request id an error body carries. */
			char *bp = without(plain.body.data, id_plain),
			     *bo = without(off.body.data, id_off);

			assert_string_equal(bo, bp);
			free(bp);
			free(bo);
		}
		normal_head(&plain, &h_plain);
		normal_head(&off, &h_off);
		assert_string_equal(h_off.data, h_plain.data);
		assert_security_headers(&off);
		settle(f);
		log = slurp(path);
		{
			json_t *lp = log_line_of(log, id_plain), *lo = log_line_of(log, id_off);

			for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
				json_t *a = json_object_get(lp, same[k]),
				       *b = json_object_get(lo, same[k]);

				if (!json_equal(a, b) && (a || b))
					fail_msg("access log field %s differs", same[k]);
			}
			assert_int_equal(json_object_size(lo), json_object_size(lp));
			assert_string_equal(json_string_value(json_object_get(lo, "path")),
					    "/api/v1/echo-offloaded");
			json_decref(lp);
			json_decref(lo);
		}
		free(log);
		anfu_buf_free(&h_plain);
		anfu_buf_free(&h_off);
		reply_free(&plain);
		reply_free(&off);
	}
	anfu_buf_init(&m, 1 << 20);
	assert_int_equal(anfu_http_metrics(f->srv, &m), 0);
	assert_non_null(strstr(m.data, "route=\"/api/v1/echo-offloaded\",status=\"200\"} 1\n"));
	assert_non_null(strstr(m.data, "route=\"/api/v1/echo-offloaded\",status=\"400\"} 1\n"));
	anfu_buf_free(&m);
}

/* Authentication still comes first (401 without running the handler), and
 * a refusal returned by an offloaded handler reaches the refusal hook.
 * req: WEB-AUTHZ-01 */
static void test_offloaded_refusals_are_mapped_and_hooked(void **state)
{
	struct fx *f = *state;
	struct reply r;

	start(f);
	get(f, "/api/v1/me-offloaded", &r);
	assert_error(&r, 401, "unauthorized");
	assert_null(strstr(r.body.data, "never be reached"));
	reply_free(&r);
	get(f, "/api/v1/forbidden-offloaded", &r);
	assert_error(&r, 403, "forbidden");
	reply_free(&r);
	assert_int_equal(atomic_load(&refusals), 2);
	assert_int_equal(atomic_load(&last_refusal_status), 403);
}

/* ---- admin listener ----------------------------------------------------------------- */

static void start_with_admin(struct fx *f, const char *cidr)
{
	f->cfg->admin.enabled = true;
	f->cfg->admin.port = 0;
	assert_int_equal(anfu_cidr_parse(cidr, &f->cfg->admin.allow[0]), 0);
	f->cfg->admin.allow_count = 1;
	start(f);
	assert_true(anfu_http_port(f->srv, true) > 0);
	assert_int_not_equal(anfu_http_port(f->srv, true), f->port);
}

/* req: IAM-ADM-02 */
static void test_admin_routes_only_on_admin_listener(void **state)
{
	struct fx *f = *state;
	struct reply r;
	struct call c = { .path = "/admin/v1/ping" };

	start_with_admin(f, "127.0.0.1/32");
	run(f, &c, &r);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
	c.port = anfu_http_port(f->srv, true);
	run(f, &c, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"admin\":true}");
	assert_header(&r, "Cache-Control", "no-store");
	assert_security_headers(&r);
	reply_free(&r);
	/* Health is served on both; the customer API only on the main one. */
	c.path = "/healthz";
	run(f, &c, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	c.path = "/api/v1/items/1";
	run(f, &c, &r);
	assert_error(&r, 404, "not_found");
	reply_free(&r);
}

/* req: IAM-ADM-02 */
static void test_admin_listener_refuses_clients_outside_allow_list(void **state)
{
	struct fx *f = *state;
	struct reply r;
	struct call c = { .path = "/healthz" };

	start_with_admin(f, "10.0.0.0/8");
	c.port = anfu_http_port(f->srv, true);
	run(f, &c, &r);
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 0);
	reply_free(&r);
	/* The main listener is not affected. */
	get(f, "/healthz", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_security_headers_on_200),
		T(test_security_headers_on_404),
		T(test_no_store_under_api_on_success_and_error),
		T(test_request_ids_differ),
		T(test_echo_decodes_allowlisted_json),
		T(test_path_param_reaches_handler),
		T(test_wrong_method_is_405_with_allow),
		T(test_body_over_limit_is_413),
		T(test_chunked_body_over_limit_is_413),
		T(test_body_at_limit_is_accepted),
		T(test_wrong_content_type_is_415),
		T(test_json_content_type_with_charset_is_accepted),
		T(test_unknown_field_is_400_naming_it),
		T(test_invalid_utf8_is_400),
		T(test_out_of_range_is_400_naming_field),
		T(test_malformed_json_is_400),
		T(test_chinese_message_for_zh_clients),
		T(test_headers_over_limit_are_431),
		T(test_headers_far_over_limit_are_refused),
		T(test_handler_header_injection_is_500),
		T(test_session_route_without_authenticator_is_401),
		T(test_refusal_hook_sees_handler_403),
		T(test_burst_then_429_with_retry_after),
		T(test_over_concurrency_limit_is_503),
		T(test_tls11_refused),
		T(test_tls12_accepted),
		T(test_tls13_accepted),
		T(test_plain_http_gets_no_answer),
		T(test_ipv6_listener),
		T(test_graceful_stop_waits_for_inflight_request),
		T(test_stop_refuses_new_connections_during_grace),
		T(test_stop_is_null_safe),
		T(test_start_refuses_missing_certificate),
		T(test_access_log_has_path_but_not_query),
		T(test_bad_paths_are_404_and_logged_safely),
		T(test_metrics_count_by_route_and_status),
		T(test_slow_header_client_is_cut_off),
		T(test_slow_body_client_is_cut_off),
		T(test_offloaded_handler_leaves_its_worker_free),
		T(test_full_offload_queue_is_503),
		T(test_graceful_stop_waits_for_offloaded_request),
		T(test_stop_past_grace_skips_queued_offloaded_handlers),
		T(test_offloaded_route_answers_and_logs_like_a_plain_one),
		T(test_offloaded_refusals_are_mapped_and_hooked),
		T(test_admin_routes_only_on_admin_listener),
		T(test_admin_listener_refuses_clients_outside_allow_list),
#undef T
	};

	return cmocka_run_group_tests_name("http_server", tests, group_setup, group_teardown);
}
