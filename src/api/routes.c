/*
 * api/routes: the platform's own routes (health, readiness, metrics) and
 * the test hooks'; each module's routes are in its descriptor, and the app
 * core registers them all (src/app/routes.c).
 *
 * Test-hook routes exist only in test-hooks builds, public but answered
 * only to loopback clients (api/testhooks.c).
 */
#include <stddef.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/module.h"
#include "http/http.h"

#define PUB ANFU_ACCESS_PUBLIC
#define SES ANFU_ACCESS_SESSION
#define PP ANFU_PERM_PUBLIC
#define ADML ANFU_ROUTE_ADMIN_LISTENER

static const struct anfu_route platform_routes[] = {
	{ "GET", "/healthz", PUB, PP, anfu_api_healthz, ANFU_ROUTE_BOTH },
	{ "GET", "/readyz", PUB, PP, anfu_api_readyz, ANFU_ROUTE_BOTH },
	/* Metrics only on the admin listener (allowed CIDRs): request counts
	 * and latencies are operational data, not for the Internet. */
	{ "GET", "/metrics", PUB, PP, anfu_api_metrics, ADML },
};

#ifdef ANFU_TEST_HOOKS
static const struct anfu_route test_routes[] = {
	{ "POST", "/test/v1/clock", PUB, "test.hooks", anfu_api_test_clock, ANFU_ROUTE_BOTH },
	{ "POST", "/test/v1/faults", PUB, "test.hooks", anfu_api_test_faults, ANFU_ROUTE_BOTH },
	{ "GET", "/test/v1/sleep", PUB, "test.hooks", anfu_api_test_sleep, 0 },
	{ "GET", "/test/v1/captcha/{id}", PUB, "test.hooks", anfu_api_test_captcha,
	  ANFU_ROUTE_BOTH },
	{ "GET", "/test/v1/sms-outbox", PUB, "test.hooks", anfu_api_test_outbox, ANFU_ROUTE_BOTH },
	{ "POST", "/test/v1/notify/deliver", PUB, "test.hooks", anfu_api_test_deliver,
	  ANFU_ROUTE_BOTH },
	{ "POST", "/test/v1/jobs/run", PUB, "test.hooks", anfu_api_test_jobs, ANFU_ROUTE_BOTH },
	{ "POST", "/test/v1/jobs/hold", PUB, "test.hooks", anfu_api_test_jobs_hold,
	  ANFU_ROUTE_BOTH },
	{ "GET", "/test/v1/pwhash-total", PUB, "test.hooks", anfu_api_test_pwhash,
	  ANFU_ROUTE_BOTH },
	/* Pause points (api/testpause.c): arm, resume. */
	{ "POST", "/test/v1/pause/{name}/{action}", PUB, "test.hooks", anfu_api_test_pause,
	  ANFU_ROUTE_BOTH },
	/* A session route for refusal tests that needs no IAM state. */
	{ "GET", "/test/v1/session-probe", SES, "test.hooks", anfu_api_test_sleep,
	  ANFU_ROUTE_NO_CSRF },
};
#endif

int anfu_api_register_platform(struct anfu_router *r)
{
	return anfu_router_add_all(r, platform_routes,
				   sizeof(platform_routes) / sizeof(platform_routes[0]));
}

int anfu_api_register_test_hooks(struct anfu_router *r)
{
#ifdef ANFU_TEST_HOOKS
	return anfu_router_add_all(r, test_routes, sizeof(test_routes) / sizeof(test_routes[0]));
#else
	(void)r;
	return 0;
#endif
}
