/*
 * app/routes: every route of this build on one router: the platform's
 * (health, readiness, metrics), each module's in list order, then the test
 * hooks' (test-hooks builds only). `anfu routes` prints the result and
 * tests/api/test_docs.py keeps docs/openapi.yaml equal to a production
 * build's.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/module.h"
#include "app/app.h"
#include "http/http.h"

int anfu_app_register_routes(struct anfu_router *r)
{
	int ret = anfu_api_register_platform(r);

	for (size_t i = 0; i < anfu_app_nmodules && ret == 0; i++) {
		const struct anfu_route_table *t = anfu_app_modules[i]->routes;

		if (t)
			ret = anfu_router_add_all(r, t->routes, t->n);
	}
	if (ret == 0)
		ret = anfu_api_register_test_hooks(r);
	return ret;
}
