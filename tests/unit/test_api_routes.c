/*
 * tests/unit/test_api_routes: the route table of this build, walked.
 *
 * Every route must name an access class and a permission (req: IAM-RBAC-01);
 * authenticated routes must name a real permission, not "public"; operator
 * routes live under /admin/ and nothing under /api/v1/me is public.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "app/app.h"
#include "http/http.h"

struct walk {
	int routes;
	int bad;
};

static void check(void *ud, const struct anfu_route *rt)
{
	struct walk *w = ud;
	bool authenticated = rt->access == ANFU_ACCESS_SESSION || rt->access == ANFU_ACCESS_ADMIN;

	w->routes++;
	if (rt->access < ANFU_ACCESS_PUBLIC || rt->access > ANFU_ACCESS_ADMIN || !rt->permission ||
	    !rt->permission[0] || !rt->handler) {
		print_error("route %s %s lacks an access class or permission\n", rt->method,
			    rt->pattern);
		w->bad++;
	}
	if (authenticated && rt->permission && strcmp(rt->permission, ANFU_PERM_PUBLIC) == 0) {
		print_error("authenticated route %s %s is marked public\n", rt->method,
			    rt->pattern);
		w->bad++;
	}
	if (rt->access == ANFU_ACCESS_ADMIN && strncmp(rt->pattern, "/admin/", 7) != 0) {
		print_error("admin route %s %s outside /admin/\n", rt->method, rt->pattern);
		w->bad++;
	}
	if (strncmp(rt->pattern, "/api/v1/me", 10) == 0 && rt->access != ANFU_ACCESS_SESSION) {
		print_error("self-service route %s %s is not session-only\n", rt->method,
			    rt->pattern);
		w->bad++;
	}
}

/* req: IAM-RBAC-01, IAM-ACCT-13 */
static void test_every_route_declares_access_and_permission(void **state)
{
	struct anfu_router *r = anfu_router_new();
	struct walk w = { 0 };

	(void)state;
	assert_int_equal(anfu_app_register_routes(r), 0);
	anfu_router_foreach(r, check, &w);
	assert_true(w.routes > 40);
	assert_int_equal(w.bad, 0);
	anfu_router_free(r);
}

/* A route without a permission cannot even be registered. req: IAM-RBAC-01 */
static void test_a_route_without_permission_is_refused(void **state)
{
	struct anfu_router *r = anfu_router_new();
	const struct anfu_route rt = { "GET", "/api/v1/x",	  ANFU_ACCESS_SESSION,
				       NULL,  (anfu_handler_fn)1, 0 };

	(void)state;
	assert_int_not_equal(anfu_router_add(r, &rt), 0);
	anfu_router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_declares_access_and_permission),
		cmocka_unit_test(test_a_route_without_permission_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
