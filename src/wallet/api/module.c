/*
 * wallet/api/module: the wallet module's descriptor: its migrations, its
 * options ([wallet]), the service (made on the ledger's, which comes
 * before it in the module list), its customer routes and, in test-hooks
 * builds, its test-hook routes (docs/wallet.md).
 *
 * Trusts the app core to call start once, after the ledger module's
 * start, and stop before the ledger's.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http.h"
#include "iam/iam.h"
#include "receipt/receipt.h"
#include "wallet/api/module.h"
#include "wallet/wallet.h"

/* The started service of the module named name (the ledger's: its
 * api/ header is the ledger's own, so it is found by name). */
static void *service_named(const struct anfu_app *app, const char *name)
{
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, name) == 0)
			return app->services ? app->services[i] : NULL;
	return NULL;
}

static int wallet_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	const struct anfu_wallet_deps d = {
		.cfg = config,
		.ledger = service_named(app, "ledger"),
		.tx = app->tx,
		.iam = app->iam,
		.keys = app->keys,
	};
	struct anfu_receipt *rc = service_named(app, "receipt");
	struct anfu_wallet *w = NULL;
	int r = rc ? anfu_wallet_new(&d, &w) : ANFU_EINVAL;

	/* Its transfers' receipts (the receipt module is earlier in the list). */
	if (r == 0)
		r = anfu_receipt_register(rc, ANFU_WALLET_RECEIPT_KIND, anfu_wallet_receipt_facts,
					  NULL);
	if (r < 0) {
		anfu_wallet_free(w);
		anfu_log_error("wallet.start",
			       "wallet not started (%s): the ledger, the receipt "
			       "service, iam and the keys first; limits rising "
			       "with the method",
			       anfu_strerror(r));
		return r;
	}
	*ret_svc = w;
	return 0;
}

static void wallet_stop(void *svc)
{
	anfu_wallet_free(svc);
}

#define SES ANFU_ACCESS_SESSION
/* Customers' routes (any customer session; the handlers refuse other
 * kinds), and the test hooks (loopback clients, test-hooks builds). */
static const struct anfu_route routes[] = {
	{ "POST", "/api/v1/me/transfers/preview", SES, ANFU_PERM_SESSION, anfu_wallet_api_preview,
	  0 },
	{ "POST", "/api/v1/me/transfers", SES, ANFU_PERM_SESSION, anfu_wallet_api_confirm, 0 },
	{ "GET", "/api/v1/me/balance", SES, ANFU_PERM_SESSION, anfu_wallet_api_balance, 0 },
	{ "GET", "/api/v1/me/transactions", SES, ANFU_PERM_SESSION, anfu_wallet_api_transactions,
	  0 },
	{ "GET", "/api/v1/me/limits", SES, ANFU_PERM_SESSION, anfu_wallet_api_limits_get, 0 },
	{ "PUT", "/api/v1/me/limits", SES, ANFU_PERM_SESSION, anfu_wallet_api_limits_put, 0 },
#ifdef ANFU_TEST_HOOKS
	{ "POST", "/test/v1/wallet/credit", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_wallet_api_test_credit, 0 },
	{ "POST", "/test/v1/wallet/state", ANFU_ACCESS_PUBLIC, "test.hooks",
	  anfu_wallet_api_test_state, 0 },
#endif
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_wallet_module = {
	.name = "wallet",
	.migrations = &anfu_wallet_migrations,
	.config = &anfu_wallet_config_table,
	.start = wallet_start,
	.stop = wallet_stop,
	.routes = &route_table,
};
