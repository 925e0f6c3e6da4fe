/*
 * points/api/module: the points module's descriptor: its migrations (its
 * tables and RBAC permission rows), its options ([points]), the service
 * (started after the ledger, whose writer it uses), the customer routes
 * under /api/v1/me/points and the operator routes under /admin/v1/points
 * (docs/points.md).
 *
 * Trusts the app core to call start once, after the ledger module
 * started, and stop after the server stopped.
 */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"
#include "base/err.h"
#include "base/log.h"
#include "http/http.h"
#include "iam/iam.h"
#include "points/api/module.h"
#include "points/points.h"

/* The ledger module's service, by its name in the module list (a module's
 * descriptor header is for the app core only: lint-includes). */
static struct anfu_ledger *ledger_of(const struct anfu_app *app)
{
	for (size_t i = 0; i < app->nmodules; i++)
		if (strcmp(app->modules[i]->name, "ledger") == 0)
			return app->services ? app->services[i] : NULL;
	return NULL;
}

/* Notices go to the customer's bound channels through iam, in the
 * writer command's transaction. */
static int notice_via_iam(void *ud, struct anfu_tx *tx, const char *user_id,
			  const struct anfu_points_notice *n)
{
	const struct anfu_iam_notice in = { n->kind, n->subject_zh, n->body_zh, n->subject_en,
					    n->body_en };

	return anfu_iam_notify_user(ud, tx, user_id, &in);
}

static int points_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	struct anfu_ledger *l = ledger_of(app);
	struct anfu_points *p = NULL;
	int r;

	if (!l) {
		anfu_log_error("points.start", "the ledger module is not started");
		return ANFU_EINVAL;
	}
	r = anfu_points_new(config, app->tx, l, &p);
	if (r < 0)
		return r;
	if (app->iam)
		anfu_points_set_notice(p, notice_via_iam, app->iam);
	*ret_svc = p;
	return 0;
}

static void points_stop(void *svc)
{
	anfu_points_free(svc);
}

#define SES ANFU_ACCESS_SESSION
#define ADM ANFU_ACCESS_ADMIN
static const struct anfu_route routes[] = {
	{ "GET", "/api/v1/me/points", SES, "points.self.read", anfu_points_api_balance, 0 },
	{ "GET", "/api/v1/me/points/history", SES, "points.self.read", anfu_points_api_history, 0 },
	{ "GET", "/api/v1/me/points/catalogue", SES, "points.self.read", anfu_points_api_catalogue,
	  0 },
	{ "GET", "/api/v1/me/points/redemptions", SES, "points.self.read",
	  anfu_points_api_redemptions, 0 },
	{ "POST", "/api/v1/me/points/redemptions", SES, "points.self.redeem",
	  anfu_points_api_redeem, 0 },
	{ "POST", "/api/v1/me/points/redemptions/{id}/cancel", SES, "points.self.redeem",
	  anfu_points_api_cancel, 0 },
	{ "GET", "/admin/v1/points/items", ADM, "points.read", anfu_points_api_admin_items, 0 },
	{ "POST", "/admin/v1/points/items", ADM, "points.catalogue.manage",
	  anfu_points_api_admin_item_add, 0 },
	{ "POST", "/admin/v1/points/items/{id}", ADM, "points.catalogue.manage",
	  anfu_points_api_admin_item_update, 0 },
	{ "GET", "/admin/v1/points/campaigns", ADM, "points.read", anfu_points_api_admin_campaigns,
	  0 },
	{ "POST", "/admin/v1/points/campaigns", ADM, "points.campaign.manage",
	  anfu_points_api_admin_campaign_add, 0 },
	{ "POST", "/admin/v1/points/campaigns/{id}", ADM, "points.campaign.manage",
	  anfu_points_api_admin_campaign_update, 0 },
	{ "POST", "/admin/v1/points/grants", ADM, "points.grant", anfu_points_api_admin_grant, 0 },
	{ "POST", "/admin/v1/points/redemptions/{id}/cancel", ADM, "points.redemption.cancel",
	  anfu_points_api_admin_cancel, 0 },
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_points_module = {
	.name = "points",
	.migrations = &anfu_points_migrations,
	.config = &anfu_points_config_table,
	.start = points_start,
	.stop = points_stop,
	.routes = &route_table,
};
