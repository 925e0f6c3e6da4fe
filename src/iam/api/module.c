/*
 * iam/api/module: the identity module's descriptor: its migrations
 * (src/iam/migrations/), its options (iam/options.c), the service's start
 * and stop, its routes (iam/api/routes.c), its jobs (iam/service.c) and its
 * approval types (iam/admin_types.c). No metrics of its own yet.
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server and the scheduler stopped.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "config/config.h"
#include "iam/api/module.h"
#include "iam/approval.h"
#include "iam/config.h"
#include "iam/iam.h"
#include "jobs/jobs.h"
#include "store/store.h"

static int iam_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_iam_deps d = {
		.cfg = config,
		.platform = app->cfg,
		.store = app->store,
		.keys = app->keys,
		.audit = app->audit,
		.tx = app->tx,
		.vault = app->vault,
		.notify = app->notify,
	};
	struct anfu_iam *iam = NULL;
	int r = anfu_iam_new(&d, &iam);

	if (r < 0)
		return r;
	*ret_svc = iam;
	return 0;
}

static void iam_stop(void *svc)
{
	anfu_iam_free(svc);
}

const struct anfu_module anfu_iam_module = {
	.name = "iam",
	.migrations = &anfu_iam_migrations,
	.config = &anfu_iam_config_table,
	.start = iam_start,
	.stop = iam_stop,
	.routes = &anfu_iam_routes,
	.jobs = &anfu_iam_jobs,
	.approvals = &anfu_iam_approvals,
	.metrics = NULL,
};
