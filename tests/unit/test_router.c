/*
 * Unit tests of http/router: registration refusals, matching, precedence,
 * 404 versus 405, listener visibility and iteration order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "http/http.h"
#include "http/internal.h"

static int h_a(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	(void)resp;
	return 0;
}

static int h_b(struct anfu_req *req, struct anfu_resp *resp)
{
	(void)req;
	(void)resp;
	return 0;
}

static struct anfu_route route(const char *method, const char *pattern)
{
	return (struct anfu_route){ method, pattern, ANFU_ACCESS_PUBLIC, ANFU_PERM_PUBLIC, h_a, 0 };
}

static int setup(void **state)
{
	*state = anfu_router_new();
	return 0;
}

static int teardown(void **state)
{
	anfu_router_free(*state);
	return 0;
}

/* req: WEB-AUTHZ-01 (no route without an access class) */
static void test_add_refuses_missing_access_class(void **state)
{
	struct anfu_route rt = route("GET", "/a");

	rt.access = 0;
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	rt.access = 5;
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	assert_int_equal(anfu_router_count(*state), 0);
}

/* req: WEB-AUTHZ-01 (no route without a permission) */
static void test_add_refuses_missing_permission(void **state)
{
	struct anfu_route rt = route("GET", "/a");

	rt.permission = NULL;
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	rt.permission = "";
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	assert_int_equal(anfu_router_count(*state), 0);
}

static void test_add_refuses_missing_handler_and_unknown_method(void **state)
{
	struct anfu_route rt = route("GET", "/a");

	rt.handler = NULL;
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	rt = route("TRACE", "/a");
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	rt = route("get", "/a");
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	assert_int_equal(anfu_router_count(*state), 0);
}

static void test_add_refuses_duplicate_shape(void **state)
{
	struct anfu_route a = route("GET", "/api/v1/users/{id}");
	struct anfu_route b = route("GET", "/api/v1/users/{uid}");
	struct anfu_route c = route("POST", "/api/v1/users/{uid}");

	assert_int_equal(anfu_router_add(*state, &a), 0);
	assert_int_equal(anfu_router_add(*state, &a), ANFU_EINVAL);
	assert_int_equal(anfu_router_add(*state, &b), ANFU_EINVAL);
	assert_int_equal(anfu_router_add(*state, &c), 0);
	assert_int_equal(anfu_router_count(*state), 2);
}

static void test_add_refuses_malformed_patterns(void **state)
{
	static const char *const bad[] = {
		"",
		"a",
		"/a/",
		"//a",
		"/a//b",
		"/{}",
		"/{Id}",
		"/{1x}",
		"/{id",
		"/id}",
		"/a b",
		"/a?b",
		"/a%20",
		"/{id}/{id}",
		"/{a}/{b}/{c}/{d}/{e}",
		"/1/2/3/4/5/6/7/8/9/10/11/12/13",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct anfu_route rt = route("GET", bad[i]);

		assert_int_equal(anfu_router_add(*state, &rt), ANFU_EINVAL);
	}
	assert_int_equal(anfu_router_count(*state), 0);
}

static void test_add_accepts_limits_exactly(void **state)
{
	struct anfu_route a = route("GET", "/");
	struct anfu_route b = route("GET", "/{a}/{b}/{c}/{d}");
	struct anfu_route c = route("GET", "/1/2/3/4/5/6/7/8/9/10/11/12");

	assert_int_equal(anfu_router_add(*state, &a), 0);
	assert_int_equal(anfu_router_add(*state, &b), 0);
	assert_int_equal(anfu_router_add(*state, &c), 0);
}

static void test_add_refuses_when_table_full(void **state)
{
	char pat[ANFU_LIMIT_ROUTES + 1][32];
	struct anfu_route rt;

	for (int i = 0; i < ANFU_LIMIT_ROUTES; i++) {
		snprintf(pat[i], sizeof(pat[i]), "/r%d", i);
		rt = route("GET", pat[i]);
		assert_int_equal(anfu_router_add(*state, &rt), 0);
	}
	snprintf(pat[ANFU_LIMIT_ROUTES], sizeof(pat[0]), "/r%d", ANFU_LIMIT_ROUTES);
	rt = route("GET", pat[ANFU_LIMIT_ROUTES]);
	assert_int_equal(anfu_router_add(*state, &rt), ANFU_ELIMIT);
	assert_int_equal(anfu_router_count(*state), ANFU_LIMIT_ROUTES);
}

static void test_add_copies_the_route(void **state)
{
	char pat[] = "/copy/{id}";
	struct anfu_route rt = route("GET", pat);
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &rt), 0);
	memset(pat, 'x', sizeof(pat) - 1);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/copy/7"), &m), 0);
	assert_string_equal(m.route->pattern, "/copy/{id}");
}

static void test_add_all_stops_at_first_error(void **state)
{
	struct anfu_route rts[3] = { route("GET", "/a"), route("GET", "/b/"), route("GET", "/c") };

	assert_int_equal(anfu_router_add_all(*state, rts, 3), ANFU_EINVAL);
	assert_int_equal(anfu_router_count(*state), 1);
}

static void test_match_extracts_params(void **state)
{
	struct anfu_route rt = route("GET", "/api/v1/orders/{order}/items/{item}");
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &rt), 0);
	assert_int_equal(
		anfu_router_match(*state, "GET", ANFU_STR("/api/v1/orders/o_1/items/42"), &m), 0);
	assert_int_equal(m.nparams, 2);
	assert_true(anfu_str_eqc(m.param_names[0], "order"));
	assert_true(anfu_str_eqc(m.param_values[0], "o_1"));
	assert_true(anfu_str_eqc(m.param_names[1], "item"));
	assert_true(anfu_str_eqc(m.param_values[1], "42"));
}

static void test_match_literal_wins_over_param(void **state)
{
	struct anfu_route p = route("GET", "/api/v1/users/{id}");
	struct anfu_route l = route("GET", "/api/v1/users/me");
	struct anfu_route_match m;

	l.handler = h_b;
	/* Registered param first, so order cannot be what decides. */
	assert_int_equal(anfu_router_add(*state, &p), 0);
	assert_int_equal(anfu_router_add(*state, &l), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/api/v1/users/me"), &m), 0);
	assert_ptr_equal(m.route->handler, h_b);
	assert_int_equal(m.nparams, 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/api/v1/users/u1"), &m), 0);
	assert_ptr_equal(m.route->handler, h_a);
}

static void test_match_earlier_literal_wins(void **state)
{
	struct anfu_route a = route("GET", "/x/{a}/c");
	struct anfu_route b = route("GET", "/x/b/{c}");
	struct anfu_route_match m;

	b.handler = h_b;
	assert_int_equal(anfu_router_add(*state, &a), 0);
	assert_int_equal(anfu_router_add(*state, &b), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/x/b/c"), &m), 0);
	assert_ptr_equal(m.route->handler, h_b);
}

static void test_match_is_exact_per_segment(void **state)
{
	struct anfu_route rt = route("GET", "/api/v1/items");
	struct anfu_route_match m;
	static const char *const miss[] = {
		"/api/v1/items/", "/API/v1/items", "/api/v1/item", "/api/v1/itemsx",
		"/api/v1//items", "api/v1/items",  "/api/v1",	   "/api/v1/items/x",
	};

	assert_int_equal(anfu_router_add(*state, &rt), 0);
	for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++)
		assert_int_equal(anfu_router_match(*state, "GET", anfu_str_c(miss[i]), &m),
				 ANFU_ENOTFOUND);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/api/v1/items"), &m), 0);
}

static void test_match_param_needs_a_nonempty_segment(void **state)
{
	struct anfu_route rt = route("GET", "/u/{id}");
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &rt), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/u/"), &m), ANFU_ENOTFOUND);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/u"), &m), ANFU_ENOTFOUND);
}

static void test_match_root(void **state)
{
	struct anfu_route rt = route("GET", "/");
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &rt), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/"), &m), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/x"), &m), ANFU_ENOTFOUND);
}

static void test_match_wrong_method_is_405_with_allow(void **state)
{
	struct anfu_route a = route("GET", "/api/v1/things/{id}");
	struct anfu_route b = route("DELETE", "/api/v1/things/{id}");
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &a), 0);
	assert_int_equal(anfu_router_add(*state, &b), 0);
	assert_int_equal(anfu_router_match(*state, "POST", ANFU_STR("/api/v1/things/1"), &m),
			 ANFU_ECONFLICT);
	assert_null(m.route);
	assert_string_equal(m.allow, "GET, DELETE");
}

static void test_match_unknown_path_is_404_without_allow(void **state)
{
	struct anfu_route a = route("GET", "/a");
	struct anfu_route_match m;

	assert_int_equal(anfu_router_add(*state, &a), 0);
	assert_int_equal(anfu_router_match(*state, "GET", ANFU_STR("/b"), &m), ANFU_ENOTFOUND);
	assert_null(m.route);
	assert_string_equal(m.allow, "");
}

static void test_match_on_hides_admin_routes_from_main_listener(void **state)
{
	struct anfu_route adm = route("GET", "/admin/v1/users");
	struct anfu_route both = route("GET", "/healthz");
	struct anfu_route api = route("GET", "/api/v1/me");
	struct anfu_route_match m;

	adm.access = ANFU_ACCESS_ADMIN;
	adm.permission = "users.read";
	both.flags = ANFU_ROUTE_BOTH;
	assert_int_equal(anfu_router_add(*state, &adm), 0);
	assert_int_equal(anfu_router_add(*state, &both), 0);
	assert_int_equal(anfu_router_add(*state, &api), 0);
	/* req: IAM-ADM-02 */
	assert_int_equal(
		anfu_router_match_on(*state, "GET", ANFU_STR("/admin/v1/users"), false, &m),
		ANFU_ENOTFOUND);
	assert_int_equal(
		anfu_router_match_on(*state, "POST", ANFU_STR("/admin/v1/users"), false, &m),
		ANFU_ENOTFOUND);
	assert_int_equal(anfu_router_match_on(*state, "GET", ANFU_STR("/admin/v1/users"), true, &m),
			 0);
	assert_int_equal(anfu_router_match_on(*state, "GET", ANFU_STR("/healthz"), false, &m), 0);
	assert_int_equal(anfu_router_match_on(*state, "GET", ANFU_STR("/healthz"), true, &m), 0);
	assert_int_equal(anfu_router_match_on(*state, "GET", ANFU_STR("/api/v1/me"), true, &m),
			 ANFU_ENOTFOUND);
	assert_int_equal(anfu_router_match_on(*state, "GET", ANFU_STR("/api/v1/me"), false, &m), 0);
}

static void collect(void *ud, const struct anfu_route *rt)
{
	char *out = ud;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "%s;", rt->pattern);
}

static void test_foreach_is_in_registration_order(void **state)
{
	struct anfu_route rts[3] = { route("GET", "/c"), route("GET", "/a"), route("POST", "/b") };
	char out[256] = "";

	assert_int_equal(anfu_router_add_all(*state, rts, 3), 0);
	anfu_router_foreach(*state, collect, out);
	assert_string_equal(out, "/c;/a;/b;");
	assert_int_equal(anfu_router_index(*state, anfu_router_at(*state, 2)), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_add_refuses_missing_access_class),
		T(test_add_refuses_missing_permission),
		T(test_add_refuses_missing_handler_and_unknown_method),
		T(test_add_refuses_duplicate_shape),
		T(test_add_refuses_malformed_patterns),
		T(test_add_accepts_limits_exactly),
		T(test_add_refuses_when_table_full),
		T(test_add_copies_the_route),
		T(test_add_all_stops_at_first_error),
		T(test_match_extracts_params),
		T(test_match_literal_wins_over_param),
		T(test_match_earlier_literal_wins),
		T(test_match_is_exact_per_segment),
		T(test_match_param_needs_a_nonempty_segment),
		T(test_match_root),
		T(test_match_wrong_method_is_405_with_allow),
		T(test_match_unknown_path_is_404_without_allow),
		T(test_match_on_hides_admin_routes_from_main_listener),
		T(test_foreach_is_in_registration_order),
#undef T
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
