/*
 * web/api/module: the web module's descriptor: its migration, its option
 * ([web] keypad_ttl_s), the service, its pages, its static assets and the
 * keypad check route (docs/web.md).
 *
 * Trusts the app core to call start once, with the platform started, and
 * stop after the server stopped.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "http/http.h"
#include "iam/iam.h"
#include "web/api/module.h"
#include "web/web.h"

static int web_start(struct anfu_app *app, const void *config, void **ret_svc)
{
	struct anfu_web *w = NULL;
	int r = anfu_web_new(config, app->tx, &w);

	if (r < 0)
		return r;
	*ret_svc = w;
	return 0;
}

static void web_stop(void *svc)
{
	anfu_web_free(svc);
}

#define PUB ANFU_ACCESS_PUBLIC
/* Pages and assets are public routes: a page looks for a session itself
 * and sends the browser to /login without one. */
static const struct anfu_route routes[] = {
	{ "GET", "/static/{name}", PUB, ANFU_PERM_PUBLIC, anfu_web_api_static, 0 },
	{ "GET", "/login", PUB, ANFU_PERM_PUBLIC, anfu_web_api_login_page, 0 },
	{ "GET", "/account", PUB, ANFU_PERM_PUBLIC, anfu_web_api_account_page, 0 },
	{ "POST", "/api/v1/me/keypads/{id}/check", ANFU_ACCESS_SESSION,
	  "self.payment_password.manage", anfu_web_api_keypad_check, ANFU_ROUTE_OFFLOAD },
};
static const struct anfu_route_table route_table = { routes, sizeof(routes) / sizeof(routes[0]) };

const struct anfu_module anfu_web_module = {
	.name = "web",
	.migrations = &anfu_web_migrations,
	.config = &anfu_web_config_table,
	.start = web_start,
	.stop = web_stop,
	.routes = &route_table,
};
