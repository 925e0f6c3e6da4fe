/*
 * example/api/module: the example module's descriptor: one migration, one
 * option ([example] max_chars), start and stop, one route path (POST and
 * GET), one job, one metric. Copy this file to start a service
 * (docs/architecture.md, "Adding a service: a checklist").
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server and the scheduler stopped.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "example/api/module.h"
#include "example/example.h"
#include "http/http.h"
#include "iam/iam.h"

static int example_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	struct anfu_example *ex = NULL;
	int r = anfu_example_new(config, app->tx, &ex);

	if (r < 0)
		return r;
	*ret_svc = ex;
	return 0;
}

static void example_stop(void *svc)
{
	anfu_example_free(svc);
}

/* Any signed-in user (the session class, no permission beyond a session),
 * on the main listener. */
static const struct anfu_route routes[] = {
	{ "POST", "/api/v1/example/notes", ANFU_ACCESS_SESSION, ANFU_PERM_SESSION,
	  anfu_example_api_note_add, 0 },
	{ "GET", "/api/v1/example/notes", ANFU_ACCESS_SESSION, ANFU_PERM_SESSION,
	  anfu_example_api_notes, 0 },
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_example_module = {
	.name = "example",
	.migrations = &anfu_example_migrations,
	.config = &anfu_example_config_table,
	.start = example_start,
	.stop = example_stop,
	.routes = &route_table,
	.jobs = &anfu_example_jobs,
	.approvals = NULL,
	.metrics = anfu_example_metrics,
};
