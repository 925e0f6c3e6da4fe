/*
 * api: what every service's HTTP handlers share: the application context,
 * the request context IAM calls get, path ids, the session and admin
 * authenticators, the refusal audit, health and metrics, and the test
 * hooks. A service's own handlers live in src/<svc>/api/ and include this
 * header and http/http.h; none contains SQL.
 *
 * struct anfu_app is the application context src/app/ builds and hands to
 * every handler as req->app. It is defined here, below src/app/, so that
 * handlers can read it without including app/ (only daemon/ and cli/ do).
 */
#ifndef ANFU_API_API_H
#define ANFU_API_API_H

#include <stddef.h>
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
struct anfu_sigkey;
struct anfu_module;
struct anfu_migration_set;

struct anfu_app {
	/* The platform, made by src/app/ and owned by it. */
	char *data_dir; /* absolute */
	struct anfu_config *cfg;
	struct anfu_keys *keys;	       /* NULL when opened for public keys only */
	struct anfu_sigkey *audit_pub; /* verifies the audit chain */
	struct anfu_store *store;
	struct anfu_audit *audit;
	struct anfu_tx_exec *tx;    /* the transaction executor (store + audit) */
	struct anfu_vault *vault;   /* once started */
	struct anfu_notify *notify; /* once started */
	struct anfu_jobs *jobs;	    /* once started */
	/* The identity service (iam's module), which the session and admin
	 * authenticators call before any module's handler runs. */
	struct anfu_iam *iam;
	struct anfu_http_server *server; /* set once the server runs */
	int64_t started_ms;
	int migrations_applied; /* by the open that made this app */
	/* The module list, dependencies first (src/app/), each module's
	 * service once started (services[i] of modules[i], NULL before), and
	 * each module's migrations (for /readyz). */
	const struct anfu_module *const *modules;
	size_t nmodules;
	void **services;
	struct anfu_migration_set *schema;
	size_t nschema;
};

/* The service module m started in app, or NULL (not in the list, or not
 * started). A handler of src/<svc>/api/ asks for its own module's. */
void *anfu_api_service(const struct anfu_app *app, const struct anfu_module *m);
/* The started service of the module named name in app, or NULL (no such
 * module, or not started): for a module that uses another module's
 * service without including its api/ header (svc-api rule). */
void *anfu_api_service_named(const struct anfu_app *app, const char *name);

/* Registers the platform's routes (health, readiness, metrics), and the
 * test hooks' (test-hooks builds only; a no-op otherwise). The app core
 * registers the platform's first, the modules', then the test hooks'.
 * Return the first registration error. */
int anfu_api_register_platform(struct anfu_router *r);
int anfu_api_register_test_hooks(struct anfu_router *r);

struct anfu_req;

/* Authenticators of the session and admin access classes
 * (anfu_http_opts.auth[ANFU_ACCESS_SESSION / ANFU_ACCESS_ADMIN]). */
int anfu_api_auth_session(struct anfu_req *req);
int anfu_api_auth_admin(struct anfu_req *req);

/* The server's refusal hook: appends an "http.refused" audit record for a
 * 401/403 (anfu_http_opts.on_refusal). */
void anfu_api_on_refusal(struct anfu_req *req, int status, const char *code);

#endif
