/*
 * receipt/api/module: the receipt module's descriptor: its migration, the
 * service with the receipt key ("receipt" under DATA/keys/: Ed25519, SM2
 * under crypto=gm; made on first start), and its routes
 * (docs/receipts.md). Modules after it in the list register their kinds
 * at their own start (anfu_receipt_register).
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server stopped.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/module.h"
#include "base/err.h"
#include "base/log.h"
#include "config/config.h"
#include "http/http.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "receipt/api/module.h"
#include "receipt/receipt.h"

static int receipt_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	struct anfu_receipt_deps d = {
		.tx = app->tx,
		.alg = app->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_SIG_SM2 : ANFU_SIG_ED25519,
	};
	struct anfu_receipt *r = NULL;
	char pub[1024];
	int rc;

	(void)config;
	rc = anfu_keys_named_open(app->data_dir, "receipt", d.alg, &d.key);
	if (rc == 0) {
		(void)snprintf(pub, sizeof(pub), "%s/keys/receipt.pub", app->data_dir);
		rc = anfu_keys_peer_load(pub, &d.pub);
	}
	if (rc == 0)
		rc = anfu_receipt_new(&d, &r);
	if (rc < 0) {
		anfu_log_error("receipt.start", "receipt service not started: the receipt key: %s",
			       anfu_strerror(rc));
		anfu_keys_named_free(d.key);
		anfu_sigkey_free(d.pub);
		return rc;
	}
	*ret_svc = r;
	return 0;
}

static void receipt_stop(void *svc)
{
	anfu_receipt_free(svc);
}

#define SES ANFU_ACCESS_SESSION
static const struct anfu_route routes[] = {
	{ "GET", "/api/v1/receipts/keys", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC,
	  anfu_receipt_api_keys, 0 },
	{ "GET", "/api/v1/me/receipts/{kind}/{ref}", SES, ANFU_PERM_SESSION, anfu_receipt_api_mine,
	  0 },
	{ "GET", "/admin/v1/receipts/{kind}/{ref}", ANFU_ACCESS_ADMIN, "receipt.read",
	  anfu_receipt_api_admin, 0 },
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_receipt_module = {
	.name = "receipt",
	.migrations = &anfu_receipt_migrations,
	.start = receipt_start,
	.stop = receipt_stop,
	.routes = &route_table,
};
