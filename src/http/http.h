/*
 * http: the HTTPS server (libmicrohttpd over GnuTLS), router and middleware.
 *
 * Trusts nothing from the network. For each request, in order: connection
 * limits (total, per IP, header deadline), the framing rules of
 * http/stream.c on the raw bytes before libmicrohttpd parses them (400,
 * 413, 431, then the connection closes), per-IP rate limit (429), global
 * concurrency limit (503), routing (404/405), Content-Length and
 * Content-Type checks (413/415), body accumulation with a cap (413),
 * authentication by the route's access class (401/403), then the handler.
 * Every response carries the security headers and X-Request-Id; errors use
 * one JSON shape and the stable codes of http/errors.c. The only module
 * that includes microhttpd.h. Handlers run on the server's worker threads,
 * or, for ANFU_ROUTE_OFFLOAD routes, on its offload pool; each request is
 * handled by one thread at a time.
 */
#ifndef ANFU_HTTP_HTTP_H
#define ANFU_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/json.h"
#include "base/limits.h"
#include "base/str.h"

struct anfu_arena;
struct anfu_buf;
struct anfu_config;

/* ---- routes ----------------------------------------------------------- */

/* Who may call a route. There is no default: 0 is refused at registration. */
enum anfu_access {
	ANFU_ACCESS_PUBLIC = 1,	 /* anyone (still rate limited) */
	ANFU_ACCESS_SESSION = 2, /* customer/merchant session cookie + CSRF */
	ANFU_ACCESS_SIGNED = 3,	 /* open-platform signed request */
	ANFU_ACCESS_ADMIN = 4,	 /* operator session on the admin listener */
};

/* Permission of routes that need none beyond their access class. */
#define ANFU_PERM_PUBLIC "public"

/* Route flags. */
#define ANFU_ROUTE_NO_CSRF 0x1u /* session route that changes no state */
#define ANFU_ROUTE_BOTH 0x2u	/* served on the main and the admin listener */
#define ANFU_ROUTE_ADMIN_LISTENER \
	0x4u /* non-admin route served only on the
					  admin listener (e.g. /metrics) */
#define ANFU_ROUTE_MFA_PENDING \
	0x8u /* accepts a session still waiting for
					  its second factor (/auth/mfa) */
#define ANFU_ROUTE_REQUIRED_ACTION \
	0x10u /* accepts a session that must first
					    change its password or enrol TOTP */
/* The handler does slow CPU work (password hashing): run it on the offload
 * pool ([http] offload_threads) instead of the worker thread that owns the
 * connection, so the worker's other connections are not held up. The
 * request is otherwise handled exactly like any other. */
#define ANFU_ROUTE_OFFLOAD 0x20u

struct anfu_req;
struct anfu_resp;

/* A handler decodes, authorises (object level), calls a service and fills
 * resp. It returns 0, or a negative ANFU_E* code (optionally after
 * anfu_req_fail() set a specific error code and field). */
typedef int (*anfu_handler_fn)(struct anfu_req *req, struct anfu_resp *resp);

struct anfu_route {
	const char *method;  /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern; /* "/api/v1/me/sessions/{id}" */
	enum anfu_access access;
	const char *permission; /* never NULL; ANFU_PERM_PUBLIC for public */
	anfu_handler_fn handler;
	unsigned flags;
};

struct anfu_router;

struct anfu_router *anfu_router_new(void);
void anfu_router_free(struct anfu_router *r);
/* Registers a route (copied). ANFU_EINVAL when the access class or the
 * permission is missing, the pattern is malformed, or method+pattern is
 * already registered; ANFU_ELIMIT when the table is full. */
int anfu_router_add(struct anfu_router *r, const struct anfu_route *route);
/* Registers n routes; stops at the first error. */
int anfu_router_add_all(struct anfu_router *r, const struct anfu_route *routes, size_t n);

struct anfu_route_match {
	const struct anfu_route *route;
	struct anfu_str param_names[ANFU_LIMIT_PATH_PARAMS];
	struct anfu_str param_values[ANFU_LIMIT_PATH_PARAMS];
	int nparams;
	char allow[64]; /* for 405: "GET, POST" */
};

/* Finds the route for method + path (path without query). Returns 0,
 * ANFU_ENOTFOUND (no pattern matches: 404) or ANFU_ECONFLICT (a pattern
 * matches but not the method: 405, m->allow filled). */
int anfu_router_match(const struct anfu_router *r, const char *method, struct anfu_str path,
		      struct anfu_route_match *m);
/* Calls fn for every route, in registration order. */
void anfu_router_foreach(const struct anfu_router *r,
			 void (*fn)(void *ud, const struct anfu_route *route), void *ud);

/* ---- requests and responses -------------------------------------------- */

struct anfu_http_server;

struct anfu_req {
	struct anfu_arena *arena; /* freed when the request ends */
	void *app;		  /* the application context given at start */
	struct anfu_http_server *server;
	const struct anfu_route *route;
	const char *method;
	const char *path; /* without the query string */
	char request_id[40];
	char client_ip[48];
	int client_family; /* AF_INET / AF_INET6 */
	uint8_t client_addr[16];
	bool admin_listener; /* arrived on the admin listener */
	struct anfu_route_match match;
	const char *body; /* NUL-terminated copy in the arena, or NULL */
	size_t body_len;
	int64_t start_us; /* monotonic */

	/* Set by the authenticator of the access class. */
	void *principal;      /* owned by the authenticator's module */
	const char *actor_id; /* for logs and audit; NULL when anonymous */
	const char *actor_type;
	const char *actor_role;

	/* Set through anfu_req_fail(); rendered in the error body. */
	const char *err_code;
	char err_field[64];
	int retry_after_s;

	void *conn; /* struct MHD_Connection, for the accessors below */
};

/* A path parameter by name ("id" for "{id}"), or a NULL-ptr string. */
struct anfu_str anfu_req_param(const struct anfu_req *req, const char *name);
/* A request header / cookie / query argument value, or NULL. */
const char *anfu_req_header(const struct anfu_req *req, const char *name);
const char *anfu_req_cookie(const struct anfu_req *req, const char *name);
const char *anfu_req_query(const struct anfu_req *req, const char *name);
/* Preferred language of the client: "zh" or "en" (Accept-Language). */
const char *anfu_req_lang(const struct anfu_req *req);

/* Records a specific stable error code (and the field it is about) for the
 * error the handler is about to return; returns err for `return`. */
int anfu_req_fail(struct anfu_req *req, int err, const char *code, const char *field);

/* Decodes the body as JSON into out from an allowlist (base/json.h), using
 * the server's limits; on failure records the error code and field. */
int anfu_req_json(struct anfu_req *req, const struct anfu_jfield *fields, size_t nfields,
		  void *out);

struct anfu_resp {
	int status;   /* default 200 */
	json_t *body; /* owned; sent as application/json */
	/* or a raw body (when body is NULL): */
	const char *raw; /* owned by the arena or static */
	size_t raw_len;
	const char *content_type;
	const char *header_names[ANFU_LIMIT_RESPONSE_HEADERS];
	const char *header_values[ANFU_LIMIT_RESPONSE_HEADERS]; /* arena or static */
	int nheaders;
};

/* Adds a response header (Set-Cookie, Location...). ANFU_ELIMIT when full. */
int anfu_resp_header(struct anfu_resp *resp, const char *name, const char *value);

/* ---- server -------------------------------------------------------------- */

/* Authenticates a request for one access class: sets req->principal and the
 * actor fields and returns 0, or returns ANFU_EAUTH (401) / ANFU_EPERM (403)
 * / another code. Classes without an authenticator are refused with 401. */
typedef int (*anfu_auth_fn)(struct anfu_req *req);

/* Called for every 401 and 403 the server sends (audit of refusals). */
typedef void (*anfu_refusal_fn)(struct anfu_req *req, int status, const char *code);

struct anfu_http_opts {
	const struct anfu_config *cfg; /* listen addresses, limits, TLS options */
	const char *tls_cert_pem;      /* borrowed; must outlive the server */
	const char *tls_key_pem;       /* borrowed; must outlive the server */
	void *app;		       /* handed to handlers as req->app */
	anfu_auth_fn auth[5];	       /* indexed by enum anfu_access */
	anfu_refusal_fn on_refusal;
	char *errbuf; /* optional: why anfu_http_start() failed, for people */
	size_t errlen;
};

/* Starts the main listener (and the admin listener when enabled) with the
 * routes of r (borrowed; must outlive the server). */
int anfu_http_start(const struct anfu_http_opts *o, const struct anfu_router *r,
		    struct anfu_http_server **ret);
/* Stops accepting, lets in-flight requests finish for up to grace_s seconds,
 * then closes everything and frees the server. NULL-safe. */
void anfu_http_stop(struct anfu_http_server *s, int grace_s);
/* Port actually bound by the main / admin listener (port 0 in the config
 * picks a free one). */
int anfu_http_port(const struct anfu_http_server *s, bool admin);
/* Requests being processed right now. */
int anfu_http_inflight(const struct anfu_http_server *s);
/* Appends the Prometheus text of the server's metrics. */
int anfu_http_metrics(const struct anfu_http_server *s, struct anfu_buf *out);

/* ---- errors --------------------------------------------------------------- */

/* Maps an ANFU_E* code to its HTTP status and default stable code. */
int anfu_http_status_for(int err, const char **ret_code);
/* Human message of a stable code in "en" or "zh". */
const char *anfu_http_error_message(const char *code, const char *lang);

#endif
