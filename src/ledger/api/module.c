/*
 * ledger/api/module: the ledger module's descriptor: its migrations, its
 * options ([ledger]), and the service with its writer thread, started
 * with the platform and stopped (the queue drained) after the server.
 * its jobs (hold expiry, ledger/jobs.c) and metrics (ledger/metrics.c). Routes (a test-hook route, the
 * read APIs) join it later (docs/ledger.md).
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server and the scheduler stopped.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "config/config.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

static int ledger_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_ledger_deps d = {
		.tx = app->tx,
		.cfg = config,
		.hash = app->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256,
	};
	struct anfu_ledger *l = NULL;
	int r = anfu_ledger_new(&d, &l);

	if (r == 0)
		r = anfu_ledger_start(l);
	if (r < 0) {
		anfu_ledger_free(l);
		return r;
	}
	*ret_svc = l;
	return 0;
}

static void ledger_stop(void *svc)
{
	anfu_ledger_free(svc);
}

const struct anfu_module anfu_ledger_module = {
	.name = "ledger",
	.migrations = &anfu_ledger_migrations,
	.config = &anfu_ledger_config_table,
	.start = ledger_start,
	.stop = ledger_stop,
	.jobs = &anfu_ledger_jobs,
	.metrics = anfu_ledger_metrics,
};
