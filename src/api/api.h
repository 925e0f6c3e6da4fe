/*
 * api: the HTTP handlers. Each one decodes, authorises, calls a service and
 * encodes; none contains SQL.
 *
 * struct anfu_app is the application context the daemon builds and hands to
 * every handler as req->app. anfu_api_register() adds every route of this
 * build to a router (test-hook routes only in test-hooks builds).
 */
#ifndef ANFU_API_API_H
#define ANFU_API_API_H

#include <stdint.h>

struct anfu_config;
struct anfu_store;
struct anfu_keys;
struct anfu_audit;
struct anfu_tx_exec;
struct anfu_router;
struct anfu_http_server;
struct anfu_iam;
struct anfu_notify;
struct anfu_jobs;
struct anfu_vault;

struct anfu_app {
	const struct anfu_config *cfg;
	struct anfu_store *store;
	const struct anfu_keys *keys;
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx;
	struct anfu_vault *vault;
	struct anfu_notify *notify;
	struct anfu_jobs *jobs;
	struct anfu_iam *iam;
	struct anfu_http_server *server; /* set once the server runs */
	int64_t started_ms;
};

/* Registers every route. Returns the first registration error. */
int anfu_api_register(struct anfu_router *r);

struct anfu_req;

/* Authenticators of the session and admin access classes
 * (anfu_http_opts.auth[ANFU_ACCESS_SESSION / ANFU_ACCESS_ADMIN]). */
int anfu_api_auth_session(struct anfu_req *req);
int anfu_api_auth_admin(struct anfu_req *req);

/* The server's refusal hook: appends an "http.refused" audit record for a
 * 401/403 (anfu_http_opts.on_refusal). */
void anfu_api_on_refusal(struct anfu_req *req, int status, const char *code);

#endif
