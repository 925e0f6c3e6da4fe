/*
 * api/refusal: the audit record of every request refused with 401 or 403.
 *
 * The HTTP server calls it (struct anfu_http_opts.on_refusal) after it
 * decided to refuse; the record names the route, not the query, and never
 * the credentials that were presented.
 */
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http.h"
#include "tx/tx.h"

void anfu_api_on_refusal(struct anfu_req *req, int status, const char *code)
{
	struct anfu_app *app = req->app;
	struct anfu_actor actor = {
		.id = req->actor_id ? req->actor_id : "",
		.type = req->actor_type ? req->actor_type : "anonymous",
		.role = req->actor_role ? req->actor_role : "",
		.ip = req->client_ip,
		.device = "",
		.request_id = req->request_id,
	};
	json_t *details = json_pack("{s:s,s:s,s:i,s:s}", "method", req->method, "path", req->path,
				    "status", status, "code", code ? code : "");
	struct anfu_audit_event ev = {
		.actor = &actor,
		.action = "http.refused",
		.object_type = "route",
		.object_id = req->route ? req->route->pattern : "",
		.outcome = "denied",
		.details = details,
	};
	int r = app && app->tx ? anfu_tx_record(app->tx, &ev) : ANFU_EINVAL;

	/* A record that could not be appended is logged by the executor. */
	if (r < 0 && r != ANFU_EAUDIT)
		anfu_log_error("audit.refusal_failed", "could not audit a %d refusal", status);
	json_decref(details);
}
