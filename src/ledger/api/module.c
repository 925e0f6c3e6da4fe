/*
 * ledger/api/module: the ledger module's descriptor: its migrations, its
 * options ([ledger]), and the service with its writer thread, started
 * with the platform and stopped (the queue drained) after the server.
 * its jobs (hold expiry, ledger/jobs.c) and metrics (ledger/metrics.c),
 * its four-eyes approval types (account states, ledger/api/approvals.c)
 * and its operator routes (ledger/api/admin.c); the test-hook routes in
 * test-hooks builds (docs/ledger.md).
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server and the scheduler stopped.
 */
#include <stddef.h>

#include "api/api.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "iam/iam.h"
#include "api/module.h"
#include "config/config.h"
#include "ledger/api/module.h"
#include "ledger/ledger.h"

/* How long opening a new customer's accounts may wait for the writer
 * (on the registering thread); past it the wallet job opens them. */
#define WALLET_OPEN_DEADLINE_MS 5000

static int customers(void *ud, const char *after, char (*ids)[ANFU_ID_MAX], size_t cap,
		     size_t *ret_n)
{
	return anfu_iam_user_ids(ud, ANFU_USER_CUSTOMER, after, ids, cap, ret_n);
}

/* iam's post-commit call: a new customer's accounts. */
static void on_registered(void *ud, const char *user_id, enum anfu_user_kind kind)
{
	int r;

	if (kind != ANFU_USER_CUSTOMER)
		return;
	r = anfu_ledger_open_wallets(ud, user_id,
				     anfu_clock_mono_us() / 1000 + WALLET_OPEN_DEADLINE_MS);
	if (r < 0)
		anfu_log_warn("ledger.wallets",
			      "accounts of %s not opened (%s): the wallet job opens them", user_id,
			      anfu_strerror(r));
}

static int ledger_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_ledger_deps d = {
		.tx = app->tx,
		.cfg = config,
		.hash = app->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256,
	};
	struct anfu_ledger *l = NULL;
	int r = anfu_ledger_new(&d, &l);

	if (r == 0 && app->iam)
		r = anfu_ledger_set_customers(l, customers, app->iam);
	if (r == 0)
		r = anfu_ledger_start(l);
	if (r == 0 && app->iam)
		r = anfu_iam_on_registered(app->iam, on_registered, l);
	if (r == 0 && app->iam) {
		/* Customers from before the ledger, and registrations whose
		 * call a crash lost; the rest of a long sweep: the job. */
		struct anfu_ledger_wallet_report rep;
		int w = anfu_ledger_wallet_pass(
			l, anfu_clock_mono_us() / 1000 + WALLET_OPEN_DEADLINE_MS, &rep);

		if (w < 0)
			anfu_log_warn("ledger.wallets", "start sweep failed (%s): the job retries",
				      anfu_strerror(w));
	}
	if (r < 0) {
		anfu_ledger_free(l);
		return r;
	}
	anfu_ledger_api_set_service(l);
	*ret_svc = l;
	return 0;
}

static void ledger_stop(void *svc)
{
	anfu_ledger_api_set_service(NULL);
	anfu_ledger_free(svc);
}

#define ADM ANFU_ACCESS_ADMIN
/* The operator routes (admin listener), and the test-hook routes in
 * test-hooks builds (loopback clients). */
static const struct anfu_route routes[] = {
	{ "GET", "/admin/v1/ledger/accounts/{id}", ADM, "ledger.account.read",
	  anfu_ledger_api_admin_account, 0 },
	{ "POST", "/admin/v1/ledger/accounts/{id}/state", ADM,
	  "ledger.approval.account_state.request", anfu_ledger_api_admin_state, 0 },
	{ "POST", "/admin/v1/ledger/approvals/{id}/approve", ADM,
	  "ledger.approval.account_state.approve", anfu_ledger_api_admin_approve, 0 },
	{ "POST", "/admin/v1/ledger/approvals/{id}/reject", ADM,
	  "ledger.approval.account_state.approve", anfu_ledger_api_admin_reject, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/ledger/accounts", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_ledger_api_test_account, 0 },
	{ "POST", "/test/v1/ledger/transfers", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_ledger_api_test_transfer, 0 },
#endif
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_ledger_module = {
	.name = "ledger",
	.migrations = &anfu_ledger_migrations,
	.config = &anfu_ledger_config_table,
	.start = ledger_start,
	.stop = ledger_stop,
	.jobs = &anfu_ledger_jobs,
	.metrics = anfu_ledger_metrics,
	.routes = &route_table,
	.approvals = &anfu_ledger_approvals,
};
