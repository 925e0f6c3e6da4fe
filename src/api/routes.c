/*
 * api/routes: the route table of this build.
 *
 * Every route names its access class and its permission; the router refuses
 * one without (http/router.c), and tests/unit/test_api_routes.c walks this
 * table to prove it. Test-hook routes exist only in test-hooks builds.
 */
#include <stddef.h>

#include "api/api.h"
#include "api/handlers.h"
#include "http/http.h"

static const struct anfu_route routes[] = {
	{ "GET", "/healthz", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, anfu_api_healthz,
	  ANFU_ROUTE_BOTH },
	{ "GET", "/readyz", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, anfu_api_readyz,
	  ANFU_ROUTE_BOTH },
	/* Metrics only on the admin listener (allowed CIDRs): request counts
	 * and latencies are operational data, not for the Internet. */
	{ "GET", "/metrics", ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, anfu_api_metrics,
	  ANFU_ROUTE_ADMIN_LISTENER },
};

#ifdef ANFU_TEST_HOOKS
/* Test hooks: public, but compiled only into test builds and answered only
 * to loopback clients (api/testhooks.c). */
static const struct anfu_route test_routes[] = {
	{ "POST", "/test/v1/clock", ANFU_ACCESS_PUBLIC, "test.hooks", anfu_api_test_clock,
	  ANFU_ROUTE_BOTH },
	{ "POST", "/test/v1/faults", ANFU_ACCESS_PUBLIC, "test.hooks", anfu_api_test_faults,
	  ANFU_ROUTE_BOTH },
	{ "GET", "/test/v1/sleep", ANFU_ACCESS_PUBLIC, "test.hooks", anfu_api_test_sleep, 0 },
	/* A session route for refusal tests before any session route exists. */
	{ "GET", "/test/v1/session-probe", ANFU_ACCESS_SESSION, "test.hooks",
	  anfu_api_test_sleep, ANFU_ROUTE_NO_CSRF },
};
#endif

int anfu_api_register(struct anfu_router *r)
{
	int ret = anfu_router_add_all(r, routes, sizeof(routes) / sizeof(routes[0]));

#ifdef ANFU_TEST_HOOKS
	if (ret == 0)
		ret = anfu_router_add_all(r, test_routes,
					  sizeof(test_routes) / sizeof(test_routes[0]));
#endif
	return ret;
}
