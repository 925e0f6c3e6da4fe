/*
 * api/health: /healthz, /readyz and /metrics.
 *
 * Trusts the application context; reads no request input beyond the route.
 * /healthz says the process answers; /readyz checks the database, the schema
 * version of every module and that the audit log is writable (a load
 * balancer takes the node out when any of them fails), and lists what an
 * operator must know but does not make the node unready (a simulator
 * gateway in use); /metrics renders Prometheus text: the server's, the
 * platform's, then each module's (its descriptor's metrics).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/module.h"
#include "audit/audit.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/refusal.h"
#include "config/config.h"
#include "http/http.h"
#include "store/store.h"

int anfu_api_healthz(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	resp->body = json_pack("{s:s}", "status", "ok");
	return resp->body ? 0 : ANFU_EINTERNAL;
}

/* Runs the readiness checks on the calling thread's connection. */
static void ready_checks(struct anfu_app *app, json_t *checks, int *ret_ok)
{
	struct anfu_db *db = NULL;
	int64_t one = 0;
	int pending = 0;
	int ok = 1;

	if (anfu_store_db(app->store, &db) < 0 ||
	    anfu_db_query_int(db, "SELECT 1", NULL, 0, &one) < 0 || one != 1) {
		anfu_json_set(checks, "database", json_string("unreachable"));
		*ret_ok = 0;
		return;
	}
	anfu_json_set(checks, "database", json_string("ok"));
	if (anfu_migrate_status(db, app->schema, app->nschema, NULL, &pending) < 0 ||
	    pending != 0) {
		anfu_json_set(checks, "schema", json_string("outdated"));
		ok = 0;
	} else {
		anfu_json_set(checks, "schema", json_string("ok"));
	}
	if (anfu_audit_ready(app->audit, db) < 0) {
		anfu_json_set(checks, "audit", json_string("unwritable"));
		ok = 0;
	} else {
		anfu_json_set(checks, "audit", json_string("ok"));
	}
	*ret_ok = ok;
}

/* Adds "warnings" to body when there is any: one {"code":
 * "simulator_gateway","option":...} per simulator gateway in use
 * (allowed by [server] allow_simulators, or a test-hooks build). */
static int add_warnings(const struct anfu_config *cfg, json_t *body)
{
	const char *names[4];
	size_t n = anfu_config_simulators(cfg, names, sizeof(names) / sizeof(names[0]));
	json_t *w;

	if (n == 0)
		return 0;
	w = json_array();
	for (size_t i = 0; w && i < n && i < sizeof(names) / sizeof(names[0]); i++)
		if (json_array_append_new(w, json_pack("{s:s,s:s}", "code", "simulator_gateway",
						       "option", names[i])) != 0) {
			json_decref(w);
			w = NULL;
		}
	if (!w || json_object_set_new(body, "warnings", w) != 0)
		return ANFU_EINTERNAL;
	return 0;
}

int anfu_api_readyz(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	json_t *checks = json_object();
	int ok = 0;

	if (!checks)
		return ANFU_EINTERNAL;
	ready_checks(app, checks, &ok);
	if (!ok) {
		/* The uniform error shape, plus which check failed. */
		resp->status = 503;
		resp->body = json_pack(
			"{s:{s:s,s:s,s:s},s:o}", "error", "code", ANFU_R_NOT_READY, "message",
			anfu_http_error_message(ANFU_R_NOT_READY, anfu_req_lang(req)), "request_id",
			req->request_id, "checks", checks);
		return resp->body ? add_warnings(app->cfg, resp->body) : ANFU_EINTERNAL;
	}
	resp->body = json_pack("{s:s,s:o}", "status", "ready", "checks", checks);
	return resp->body ? add_warnings(app->cfg, resp->body) : ANFU_EINTERNAL;
}

/* Each started module's lines, in list order. */
static int module_metrics(const struct anfu_app *app, struct anfu_buf *b)
{
	int r = 0;

	for (size_t i = 0; i < app->nmodules && r == 0; i++)
		if (app->modules[i]->metrics && app->services[i])
			r = app->modules[i]->metrics(app->services[i], b);
	return r;
}

int anfu_api_metrics(struct anfu_req *req, struct anfu_resp *resp)
{
	struct anfu_app *app = req->app;
	struct anfu_buf b;
	char *text;
	size_t len;
	int r;

	anfu_buf_init(&b, ANFU_LIMIT_METRICS_BYTES);
	r = anfu_http_metrics(app->server, &b);
	if (r == 0)
		r = anfu_buf_appends(
			&b, "# HELP anfu_db_commit_duration_seconds Database commit latency.\n"
			    "# TYPE anfu_db_commit_duration_seconds histogram\n");
	if (r == 0)
		r = anfu_hist_render(&anfu_store_commit_hist, "anfu_db_commit_duration_seconds", "",
				     &b);
	if (r == 0)
		r = anfu_buf_appends(&b, "# HELP anfu_db_write_lock_wait_seconds Wait of a SQLite "
					 "write transaction for the process's write lock.\n"
					 "# TYPE anfu_db_write_lock_wait_seconds histogram\n");
	if (r == 0)
		r = anfu_hist_render(&anfu_store_wlock_wait_hist, "anfu_db_write_lock_wait_seconds",
				     "", &b);
	if (r == 0)
		r = anfu_buf_appendf(&b,
				     "# HELP anfu_audit_chain_length Sequence number of the newest "
				     "audit record.\n"
				     "# TYPE anfu_audit_chain_length gauge\n"
				     "anfu_audit_chain_length %" PRId64 "\n"
				     "# HELP anfu_start_time_seconds Start time of the process.\n"
				     "# TYPE anfu_start_time_seconds gauge\n"
				     "anfu_start_time_seconds %" PRId64 "\n",
				     anfu_audit_chain_length(app->audit), app->started_ms / 1000);
	if (r == 0)
		r = module_metrics(app, &b);
	if (r < 0) {
		anfu_buf_free(&b);
		return ANFU_EINTERNAL;
	}
	text = anfu_buf_steal(&b, &len);
	r = anfu_arena_strndup(req->arena, text, len, (char **)&resp->raw);
	free(text);
	if (r < 0)
		return r;
	resp->raw_len = len;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
