/*
 * cli/cmd_routes: `anfu routes`, the HTTP route table of this build with
 * each route's access class and permission (for access reviews and for the
 * test that keeps docs/openapi.yaml true).
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "base/err.h"
#include "cli/cli.h"
#include "http/http.h"

static const char *access_name(enum anfu_access a)
{
	switch (a) {
	case ANFU_ACCESS_PUBLIC: return "public";
	case ANFU_ACCESS_SESSION: return "session";
	case ANFU_ACCESS_SIGNED: return "signed";
	case ANFU_ACCESS_ADMIN: return "admin";
	}
	return "?";
}

static void print_route(void *ud, const struct anfu_route *rt)
{
	(void)ud;
	printf("%-7s %-48s %-8s %s\n", rt->method, rt->pattern, access_name(rt->access),
	       rt->permission);
}

int cmd_routes(int argc, char **argv)
{
	struct anfu_router *r;
	struct cli_opts o;
	int ret = cli_parse(argc, argv, "", &o);

	if (ret != 0)
		return ret;
	if (o.help) {
		printf("usage: anfu routes\n\nPrints every HTTP route of this build: method, path\n"
		       "pattern, access class and required permission.\n");
		return 0;
	}
	r = anfu_router_new();
	ret = anfu_app_register_routes(r);
	if (ret < 0) {
		fprintf(stderr, "anfu routes: registration failed: %s\n", anfu_strerror(ret));
		anfu_router_free(r);
		return 1;
	}
	anfu_router_foreach(r, print_route, NULL);
	anfu_router_free(r);
	return 0;
}
